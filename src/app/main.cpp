// wangge: the command line of the Wangge grid-management server (docs/CLI.md).
#include "app/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace {

std::map<std::string, std::string> parse_maps(const std::vector<std::string>& maps) {
    std::map<std::string, std::string> out;
    for (const auto& m : maps) {
        auto eq = m.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
            throw wangge::Error(wangge::ErrorKind::bad_request, "invalid_option",
                                "--map expects field=column, got '" + m + "'");
        out[m.substr(0, eq)] = m.substr(eq + 1);
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App cli{"Wangge (网格): community grid management server"};
    cli.require_subcommand(1);
    cli.set_version_flag("--version", std::string("wangge ") + WANGGE_VERSION);
    std::string db = "wangge.sqlite";

    wangge::app::ServeOptions serve;
    auto* serve_cmd = cli.add_subcommand("serve", "Serve the HTTP API over a database");
    serve_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL")->capture_default_str();
    serve_cmd->add_option("--host", serve.host, "Address to listen on")->capture_default_str();
    serve_cmd->add_option("--port", serve.port, "Port to listen on (0 = any free port)")->capture_default_str();
    serve_cmd->add_option("--threads", serve.threads, "HTTP worker threads (0 = cores + render threads)")->capture_default_str();
    serve_cmd->add_option("--band-min", serve.band_min, "Lower household bound of a residential grid")
        ->capture_default_str();
    serve_cmd->add_option("--band-max", serve.band_max, "Upper household bound of a residential grid")
        ->capture_default_str();
    serve_cmd->add_flag("--access-log", serve.access_log, "Log every request: method, target, status, bytes, µs, request id");
    std::string log_format = "text";
    serve_cmd->add_option("--log-format", log_format,
                          "text (for a terminal) or json (one object per line, for a log collector: time, level, msg, "
                          "request_id, and the access log's fields)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    serve_cmd->add_option("--web-root", serve.web_root, "Directory of the web map")->capture_default_str();
    serve_cmd->add_option("--styles", serve.styles_dir, "Directory of Mapnik styles")->capture_default_str();
    serve_cmd->add_option("--tile-cache", serve.tile_cache_dir, "Directory of the on-disk tile cache");
    serve_cmd->add_option("--tile-cache-mb", serve.tile_cache_mb, "Memory for cached tiles (MiB)")->capture_default_str();
    serve_cmd->add_option("--tile-cache-disk-mb", serve.tile_cache_disk_mb,
                          "Disk for cached tiles under --tile-cache (MiB); the least recently used go first")
        ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 24))
        ->capture_default_str();
    serve_cmd->add_option("--max-connections", serve.max_connections,
                          "Connections served at once; one more is answered 503 and closed")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
        ->capture_default_str();
    serve_cmd->add_option("--render-threads", serve.render_threads, "Threads rendering PNG tiles")->capture_default_str();
    serve_cmd->add_flag("--read-only", serve.read_only, "Refuse writes (grid rebalancing and undo) with 403");
    serve_cmd->add_option("--anonymous-read", serve.anonymous_read,
                          "What clients that are not signed in may read: none, or a list of map, tiles, ogc, locate, "
                          "validate, history")
        ->capture_default_str();
    serve_cmd->add_option("--allowed-host", serve.allowed_hosts,
                          "A host name clients use for this server, besides IP addresses and localhost (repeatable)");
    serve_cmd->add_option("--session-hours", serve.session_hours, "Lifetime of a browser session")
        ->check(CLI::Range(1, 720))
        ->capture_default_str();
    serve_cmd->add_option("--reload-ms", serve.reload_ms,
                          "How often to look for changes made to the database by others (milliseconds)")
        ->check(CLI::Range(100, 3600000))
        ->capture_default_str();
    serve_cmd->add_option("--categories", serve.categories, "The incident category catalogue (JSON)")
        ->capture_default_str();
    serve_cmd->add_option("--calendar", serve.calendar, "The working calendar of time limits (JSON)")
        ->capture_default_str();
    serve_cmd->add_option("--photo-dir", serve.photo_dir,
                          "Directory of the photos of cases (default: beside the database, DB.photos)");
    serve_cmd->add_option("--max-photo-mb", serve.max_photo_mb, "Largest photo accepted (MiB); at most 9 per report")
        ->check(CLI::Range(std::size_t{1}, std::size_t{50}))
        ->capture_default_str();
    serve_cmd->add_flag("--keep-photo-location", serve.keep_photo_location,
                        "Keep the GPS position and XMP data of uploaded photos (removed by default)");
    serve_cmd->add_option("--max-proposals", serve.max_proposals, "Grid-division proposals computed at once")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    serve_cmd->add_option("--public-url", serve.public_url,
                          "URL clients reach the server at, for absolute links (e.g. behind a proxy: "
                          "https://maps.example.org/wangge); default: from each request's Host header");
    serve_cmd->add_option("--trusted-proxy", serve.trusted_proxies,
                          "Address or network of a reverse proxy whose X-Forwarded-For names the client "
                          "(repeatable: 127.0.0.1, 10.0.0.0/8, ::1); without it the header is ignored");

    wangge::app::ImportCommand imp;
    std::vector<std::string> maps;
    std::string estimator;
    auto* import_cmd = cli.add_subcommand("import", "Import streets, communities, grids, buildings, roads or units with GDAL");
    import_cmd->add_option("--db", db, "SpatiaLite database (created if missing) or postgresql:// URL")->capture_default_str();
    import_cmd->add_option("target", imp.target, "streets | communities | grids | buildings | roads | units")->required();
    import_cmd->add_option("file", imp.file, "GeoJSON, Shapefile, GeoPackage, OSM .osm/.pbf, ...")->required();
    import_cmd->add_option("--crs", imp.crs, "Source CRS when the file has none or it is wrong (EPSG:n, gcj02, bd09)");
    import_cmd->add_option("--layer", imp.layer, "Layer to read (default: the only one; OSM: multipolygons/lines)");
    import_cmd->add_option("--map", maps, "field=column, e.g. --map code=GRID_ID (repeatable)");
    import_cmd->add_flag("--replace", imp.replace, "Overwrite stored rows with the same code (buildings, roads, units: replace the whole layer)");
    import_cmd->add_flag("--update", imp.update,
                         "Buildings: change stored buildings (only the fields the file gives) instead of adding");
    import_cmd->add_option("--key", imp.key, "With --update: match buildings by source_id or by Wangge's id")
        ->check(CLI::IsMember({"source_id", "id"}))
        ->capture_default_str();
    import_cmd->add_option("--estimator", estimator, "Household estimator configuration (JSON)");

    wangge::app::DemoCommand demo;
    auto* demo_cmd = cli.add_subcommand("demo", "Generate the synthetic demo district into a new database");
    demo_cmd->add_option("out", demo.out, "Output SpatiaLite file, or a postgresql:// URL of an empty database")->required();
    demo_cmd->add_option("--seed", demo.seed, "Random seed (same seed, same district)")->capture_default_str();
    demo_cmd->add_option("--households", demo.households, "Total households of the district")->capture_default_str();
    demo_cmd->add_option("--years-later", demo.years_later,
                         "The district N years on: households changed (churn, new towers, cleared blocks), "
                         "boundaries kept, so some grids leave their band")
        ->check(CLI::Range(0, 20))
        ->capture_default_str();
    demo_cmd->add_flag("--force", demo.force, "Overwrite OUT if it exists");

    wangge::app::ExportTilesCommand exp;
    auto* export_cmd = cli.add_subcommand("export-tiles", "Write vector or rendered tiles to an MBTiles file");
    export_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL")->capture_default_str();
    export_cmd->add_option("--layer", exp.layer,
                           "streets | communities | grids | buildings | roads | hierarchy, or png:STYLE[@2x]")
        ->required();
    export_cmd->add_option("--minzoom", exp.minzoom, "Lowest zoom")->capture_default_str();
    export_cmd->add_option("--maxzoom", exp.maxzoom, "Highest zoom")->capture_default_str();
    export_cmd->add_option("--bbox", exp.bbox, "minLon,minLat,maxLon,maxLat (default: the data's bounds)");
    export_cmd->add_option("--styles", exp.styles_dir, "Directory of Mapnik styles (png: layers)")->capture_default_str();
    export_cmd->add_flag("--force", exp.force, "Overwrite OUT if it exists");
    export_cmd->add_option("out", exp.out, "Output .mbtiles file")->required();

    bool json = false;
    auto* validate_cmd = cli.add_subcommand("validate", "Check gaps, overlaps, nesting and codes of the hierarchy");
    validate_cmd->add_option("--db", db, "SpatiaLite database or postgresql:// URL")->capture_default_str();
    validate_cmd->add_flag("--json", json, "Print the report as JSON");
    bool staffing = false;
    int households_per_full_time = 300;
    validate_cmd->add_flag("--staffing", staffing,
                           "Check staffing instead: a first-responsible worker per grid, a full-time worker per "
                           "--households-per-worker households in each community");
    validate_cmd->add_option("--households-per-worker", households_per_full_time,
                             "Households per full-time worker (--staffing)")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();

    wangge::app::WorkersCommand workers;
    auto* workers_cmd = cli.add_subcommand("workers", "Import, export or list the grid workers (XLSX, ODS, CSV)");
    workers_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL")->capture_default_str();
    workers_cmd->add_option("action", workers.action, "import | export | list")
        ->required()
        ->check(CLI::IsMember({"import", "export", "list"}));
    workers_cmd->add_option("file", workers.file, "The sheet to import or the file to export to (.xlsx, .ods, .csv)");
    workers_cmd->add_flag("--json", workers.json, "Print the list as JSON");

    auto* info_cmd = cli.add_subcommand("info", "Summarise a database: counts and households");
    info_cmd->add_option("--db", db, "SpatiaLite database or postgresql:// URL")->capture_default_str();

    wangge::app::RebalanceCommand rebalance;
    auto* rebalance_cmd = cli.add_subcommand(
        "rebalance", "Propose new grid boundaries for a community (households in the band), apply them, or undo");
    rebalance_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL")->capture_default_str();
    rebalance_cmd->add_option("--community", rebalance.community, "12-digit community code")->required();
    rebalance_cmd->add_option("--min", rebalance.band_min, "Fewest households of a residential grid")->capture_default_str();
    rebalance_cmd->add_option("--max", rebalance.band_max, "Most households of a residential grid")->capture_default_str();
    rebalance_cmd->add_option("--seed", rebalance.seed, "Random seed of the partitioner (same seed, same proposal)")
        ->capture_default_str();
    rebalance_cmd->add_flag("--dry-run", rebalance.dry_run, "Print the proposal, write nothing");
    rebalance_cmd->add_flag("--json", rebalance.json, "Print the proposal as JSON");
    rebalance_cmd->add_flag("--include-unit-grids", rebalance.include_unit_grids,
                            "Divide unit grids too (they stay fixed by default)");
    rebalance_cmd->add_flag("--from-scratch", rebalance.from_scratch,
                            "Ignore today's grids: divide the community anew (codes still carried over)");
    rebalance_cmd->add_flag("--undo", rebalance.undo,
                            "Undo the community's last applied change (says what it changes; with --dry-run only that)");
    rebalance_cmd->add_flag("--force", rebalance.force,
                            "With --undo: undo a bootstrap, or leave the community without grids");

    wangge::app::BootstrapCommand boot;
    auto* bootstrap_cmd = cli.add_subcommand(
        "bootstrap", "Divide a street office's area from nothing into communities and grids, from its buildings");
    bootstrap_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL (with buildings and roads imported)")->capture_default_str();
    bootstrap_cmd->add_option("--street", boot.street, "9-digit street office code");
    bootstrap_cmd->add_flag("--all-streets", boot.all_streets, "Divide every stored street, each within its boundary");
    bootstrap_cmd->add_option("--street-name", boot.street_name, "Street office name (default: from --codes)");
    bootstrap_cmd->add_option("--boundary", boot.boundary,
                              "File with the street's boundary (default: the stored street, else the buildings' hull)");
    bootstrap_cmd->add_option("--crs", boot.crs, "CRS of the boundary file when it names none");
    bootstrap_cmd->add_option("--codes", boot.codes,
                              "Directory of division code lists (.csv with code,name[,streetCode]: streets.csv, villages.csv, ...)");
    bootstrap_cmd->add_option("--community-households", boot.community_households,
                              "Households of a community (within +-30%)")
        ->capture_default_str();
    bootstrap_cmd->add_option("--min", boot.band_min, "Fewest households of a grid")->capture_default_str();
    bootstrap_cmd->add_option("--max", boot.band_max, "Most households of a grid")->capture_default_str();
    bootstrap_cmd->add_option("--seed", boot.seed, "Random seed of the partitioner")->capture_default_str();
    bootstrap_cmd->add_option("--unit-min-ha", boot.unit_min_ha,
                              "A unit's area (wangge import units) of at least this many hectares becomes a unit grid")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 1000.0));
    bootstrap_cmd->add_flag("--replace", boot.replace, "Replace the street's communities and grids if it has some");

    wangge::app::ListCommand list;
    wangge::app::BackupCommand backup;
    auto* backup_cmd = cli.add_subcommand("backup", "Copy the database consistently while it is served, with its photos");
    backup_cmd->add_option("--db", db, "SpatiaLite file (a PostgreSQL database is backed up with its own tools)")->capture_default_str();
    backup_cmd->add_option("out", backup.out, "The backup file to write")->required();
    backup_cmd->add_option("--photo-dir", backup.photo_dir, "Photos of cases (default: beside the database)");
    backup_cmd->add_flag("--force", backup.force, "Overwrite OUT if it exists");
    wangge::app::RestoreCommand restore;
    auto* restore_cmd = cli.add_subcommand("restore", "Put a backup in place of the database (stop the server first)");
    restore_cmd->add_option("--db", db, "SpatiaLite database to replace")->capture_default_str();
    restore_cmd->add_option("backup", restore.backup, "The backup file")->required();
    restore_cmd->add_option("--photo-dir", restore.photo_dir, "Photos of cases (default: beside the database)");
    restore_cmd->add_flag("--force", restore.force, "Replace the database if it exists");
    auto* list_cmd = cli.add_subcommand("list", "List the stored streets, communities or grids with their codes");
    list_cmd->add_option("--db", db, "SpatiaLite database or postgresql:// URL")->capture_default_str();
    list_cmd->add_option("what", list.what, "streets | communities | grids")
        ->required()
        ->check(CLI::IsMember({"streets", "communities", "grids"}));
    list_cmd->add_option("--parent", list.parent, "Only those under this street or community code");
    list_cmd->add_flag("--json", list.json, "Print as JSON");

    std::string history_community;
    auto* history_cmd = cli.add_subcommand("history", "List the recorded grid changes of a community");
    history_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL")->capture_default_str();
    history_cmd->add_option("--community", history_community, "12-digit community code")->required();
    history_cmd->add_flag("--json", json, "Print as JSON");

    wangge::app::UserCommand user;
    auto* user_cmd = cli.add_subcommand("user", "Add, list, disable, enable users or change a password");
    user_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL")->capture_default_str();
    user_cmd->add_option("action", user.action, "add | list | disable | enable | passwd")
        ->required()
        ->check(CLI::IsMember({"add", "list", "disable", "enable", "passwd"}));
    user_cmd->add_option("name", user.name, "User name (letters, digits, . _ - @)");
    user_cmd->add_option("--role", user.role, "admin | street | community | worker | viewer (add)");
    user_cmd->add_option("--scope", user.scopes,
                         "Division code the user is responsible for (repeatable): streets for street staff, "
                         "communities for community staff, grids for grid workers");
    user_cmd->add_option("--display-name", user.display_name, "Name shown on the map, e.g. 王芳");
    user_cmd->add_flag("--password-stdin", user.password_stdin, "Read the password from standard input");
    user_cmd->add_flag("--no-password", user.no_password, "No password: the user works with API tokens only (add)");
    user_cmd->add_flag("--json", user.json, "Print the list as JSON");

    wangge::app::TokenCommand token;
    auto* token_cmd = cli.add_subcommand("token", "Create, list or revoke API tokens");
    token_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL")->capture_default_str();
    token_cmd->add_option("action", token.action, "create | list | revoke")
        ->required()
        ->check(CLI::IsMember({"create", "list", "revoke"}));
    token_cmd->add_option("id", token.id, "Token id (revoke)");
    token_cmd->add_option("--user", token.user, "The token's user (create; list: only this user's)");
    token_cmd->add_option("--label", token.label, "What the token is for, e.g. 'dispatch system'");
    token_cmd->add_option("--days", token.days, "Days until the token expires")->check(CLI::Range(1, 3650))->capture_default_str();
    token_cmd->add_flag("--json", token.json, "Print as JSON");

    wangge::app::AuditCommand audit;
    auto* audit_cmd = cli.add_subcommand("audit", "List the audit log: writes, sign-ins, account changes");
    audit_cmd->add_option("--db", db, "SpatiaLite file or postgresql:// URL")->capture_default_str();
    audit_cmd->add_option("--user", audit.user, "Only this user's entries");
    audit_cmd->add_option("--code", audit.code, "Only entries concerning this area or an area below it");
    audit_cmd->add_option("--action", audit.action, "Only this action, e.g. rebalance.apply, session.sign_in");
    audit_cmd->add_option("--since", audit.since, "From this UTC date or time (2026-12-04, 2026-12-04T08:00:00Z)");
    audit_cmd->add_option("--until", audit.until, "Before this UTC date or time");
    audit_cmd->add_option("--limit", audit.limit, "Most entries, newest first")->check(CLI::Range(1, 100000))->capture_default_str();
    audit_cmd->add_flag("--json", audit.json, "Print as JSON");

    wangge::app::CopyCommand copy;
    auto* copy_cmd = cli.add_subcommand(
        "copy", "Copy a whole database between SpatiaLite and PostgreSQL, checked before it is committed");
    copy_cmd->add_option("--from", copy.from, "Source: a SpatiaLite file or postgresql://user@host:port/db")->required();
    copy_cmd->add_option("--to", copy.to,
                         "Destination: a SpatiaLite file (created if missing) or postgresql://user@host:port/db "
                         "(its PostGIS and schema created if missing); it must be empty")
        ->required();
    copy_cmd->add_flag("--replace", copy.replace, "Empty a destination that holds data (in the same transaction)");

    double lon = 0, lat = 0;
    std::string crs = "wgs84";
    auto* locate_cmd = cli.add_subcommand("locate", "Find the street, community and grid of a point");
    locate_cmd->add_option("--db", db, "SpatiaLite database or postgresql:// URL")->capture_default_str();
    locate_cmd->add_option("lon", lon, "Longitude")->required();
    locate_cmd->add_option("lat", lat, "Latitude")->required();
    locate_cmd->add_option("--crs", crs, "wgs84 | gcj02 | bd09")->capture_default_str();

    CLI11_PARSE(cli, argc, argv);
    // Logs go to standard error; standard output carries the commands' results (and the URL
    // that `serve` prints when it listens).
    wangge::log::setup(*serve_cmd ? wangge::log::parse_format(log_format) : wangge::log::Format::text);

    try {
        if (*serve_cmd) {
            serve.db = db;
            return wangge::app::run_serve(serve);
        }
        if (*import_cmd) {
            imp.db = db;
            imp.field_map = parse_maps(maps);
            if (!estimator.empty()) imp.estimator_config = estimator;
            return wangge::app::run_import(imp);
        }
        if (*demo_cmd) return wangge::app::run_demo(demo);
        if (*export_cmd) {
            exp.db = db;
            return wangge::app::run_export_tiles(exp);
        }
        if (*validate_cmd) {
            if (staffing) return wangge::app::run_staffing(db, json, households_per_full_time);
            return wangge::app::run_validate(db, json);
        }
        if (*workers_cmd) {
            workers.db = db;
            if (workers.action != "list" && workers.file.empty())
                throw wangge::Error(wangge::ErrorKind::bad_request, "invalid_option",
                                    "wangge workers " + workers.action + " needs a file");
            return wangge::app::run_workers(workers);
        }
        if (*info_cmd) return wangge::app::run_info(db);
        if (*locate_cmd) return wangge::app::run_locate(db, lon, lat, crs);
        if (*rebalance_cmd) {
            rebalance.db = db;
            return wangge::app::run_rebalance(rebalance);
        }
        if (*bootstrap_cmd) {
            boot.db = db;
            return wangge::app::run_bootstrap(boot);
        }
        if (*history_cmd) return wangge::app::run_history(db, history_community, json);
        if (*backup_cmd) {
            backup.db = db;
            return wangge::app::run_backup(backup);
        }
        if (*restore_cmd) {
            restore.db = db;
            return wangge::app::run_restore(restore);
        }
        if (*list_cmd) {
            list.db = db;
            return wangge::app::run_list(list);
        }
        if (*user_cmd) {
            user.db = db;
            if (user.action != "list" && user.name.empty())
                throw wangge::Error(wangge::ErrorKind::bad_request, "invalid_option", "wangge user " + user.action + " needs a user name");
            return wangge::app::run_user(user);
        }
        if (*token_cmd) {
            token.db = db;
            if (token.action == "create" && token.user.empty())
                throw wangge::Error(wangge::ErrorKind::bad_request, "invalid_option", "wangge token create needs --user NAME");
            if (token.action == "revoke" && token.id <= 0)
                throw wangge::Error(wangge::ErrorKind::bad_request, "invalid_option", "wangge token revoke needs the token's id");
            return wangge::app::run_token(token);
        }
        if (*copy_cmd) return wangge::app::run_copy(copy);
        if (*audit_cmd) {
            audit.db = db;
            return wangge::app::run_audit(audit);
        }
    } catch (const wangge::Error& e) {
        std::fprintf(stderr, "wangge: error: %s\n", e.what());
        return e.kind() == wangge::ErrorKind::internal ? 70 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "wangge: internal error: %s\n", e.what());
        return 70;
    }
    return 0;
}
