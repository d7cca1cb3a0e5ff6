#pragma once
// The wangge subcommands. main.cpp parses the command line with CLI11 and calls one of these;
// each returns the process exit code and reports through standard output/error.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wangge::app {

struct ServeOptions {
    std::filesystem::path db;
    std::string host = "127.0.0.1";
    unsigned short port = 8080;
    int threads = 0;
    int band_min = 250;
    int band_max = 500;
    bool access_log = false;
    // Defaults are the source tree's web/ and styles/ (set by CMake), so a built tree serves
    // the map from any working directory.
    std::filesystem::path web_root = WANGGE_DEFAULT_WEB_ROOT;     // index.html, node_modules/maplibre-gl
    std::filesystem::path styles_dir = WANGGE_DEFAULT_STYLES_DIR; // Mapnik styles for rendered tiles
    std::optional<std::filesystem::path> tile_cache_dir; // on-disk tile cache; memory only when absent
    std::size_t tile_cache_mb = 256;
    std::size_t tile_cache_disk_mb = 2048; // disk for cached tiles (with --tile-cache), split like the memory
    std::size_t max_connections = 1024;   // connections served at once; more get 503
    int render_threads = 2;
    bool read_only = false;                // refuse writes (rebalance, undo) with 403
    std::optional<std::string> public_url;  // where clients reach the server (links); else the Host header
    // Reverse proxies (addresses, networks) whose X-Forwarded-For names the client; none: the peer.
    std::vector<std::string> trusted_proxies;
    std::string anonymous_read = "map,tiles,ogc,locate"; // what anonymous clients may read, or "none"
    std::vector<std::string> allowed_hosts; // Host names besides IP addresses and localhost
    int session_hours = 12;                 // a browser session's lifetime
    int reload_ms = 1000;                   // how often the database's data version is checked
    int max_proposals = 2;                  // grid-division proposals computed at once
    // The category catalogue and the working calendar of incidents (docs/INCIDENTS.md).
    std::filesystem::path categories = std::filesystem::path(WANGGE_DEFAULT_DATA_DIR) / "categories.json";
    std::filesystem::path calendar = std::filesystem::path(WANGGE_DEFAULT_DATA_DIR) / "calendar.json";
    // Photos of cases: where their files go (default: beside the database, "<db>.photos"), the
    // largest accepted, and whether their location metadata is kept.
    std::optional<std::filesystem::path> photo_dir;
    std::size_t max_photo_mb = 10;
    bool keep_photo_location = false;
};
int run_serve(const ServeOptions& o);

struct ImportCommand {
    std::filesystem::path db;
    std::string target;
    std::filesystem::path file;
    std::optional<std::string> crs;
    std::optional<std::string> layer;
    std::map<std::string, std::string> field_map;
    bool replace = false;
    bool update = false;        // buildings: change stored ones, matched by `key`
    std::string key = "source_id"; // source_id | id
    std::optional<std::filesystem::path> estimator_config;
};
int run_import(const ImportCommand& c);

struct DemoCommand {
    std::filesystem::path out;
    std::uint64_t seed = 20240601;
    long households = 60000;
    int years_later = 0; // 0-20
    bool force = false;
};
int run_demo(const DemoCommand& c);

struct ExportTilesCommand {
    std::filesystem::path db;
    std::string layer;       // a vector layer, or png:<style>[@2x] for rendered tiles
    int minzoom = 0;
    int maxzoom = 14;
    std::optional<std::string> bbox;
    std::filesystem::path out;
    std::filesystem::path styles_dir = WANGGE_DEFAULT_STYLES_DIR;
    bool force = false;
};
int run_export_tiles(const ExportTilesCommand& c);

// Grid division (src/app/balance_commands.cpp, docs/BALANCE.md).
struct RebalanceCommand {
    std::filesystem::path db;
    std::string community;
    int band_min = 250;
    int band_max = 500;
    std::uint64_t seed = 20240601;
    bool dry_run = false;
    bool json = false;
    bool include_unit_grids = false;
    bool from_scratch = false;
    bool undo = false;
    bool force = false; // undo a bootstrap, or leave a community without grids
};
int run_rebalance(const RebalanceCommand& c);
struct BootstrapCommand {
    std::filesystem::path db;
    std::string street;      // 9-digit street code
    std::string street_name; // default: from the code list, else the stored street's
    std::optional<std::filesystem::path> boundary; // a file; default: the stored street, else the buildings' hull
    std::optional<std::string> crs;                // of the boundary file
    std::optional<std::filesystem::path> codes;    // directory of *_streets.csv / *_communities.csv
    int community_households = 2500;
    int band_min = 250;
    int band_max = 500;
    std::uint64_t seed = 20240601;
    double unit_min_ha = 2.0; // a unit's area of at least this becomes a unit grid (docs/BALANCE.md)
    bool replace = false; // replace the street's communities and grids when it has some
    bool all_streets = false; // every stored street, each from its stored boundary
};
int run_bootstrap(const BootstrapCommand& c);
int run_history(const std::filesystem::path& db, const std::string& community, bool json);

// `wangge list streets|communities|grids [--parent CODE] [--json]` (src/app/list_commands.cpp).
struct ListCommand {
    std::filesystem::path db;
    std::string what;   // streets | communities | grids
    std::string parent; // a street or community code, or empty for all
    bool json = false;
    int band_min = 250;
    int band_max = 500;
};
int run_list(const ListCommand& c);

// `wangge backup OUT`: a consistent copy while serving (SQLite's online backup), checked, with
// the photos of cases; `wangge restore BACKUP`: the copy checked and put in place of the database.
struct BackupCommand {
    std::filesystem::path db;
    std::filesystem::path out;
    std::optional<std::filesystem::path> photo_dir; // default: beside the database
    bool force = false;
};
int run_backup(const BackupCommand& c);
struct RestoreCommand {
    std::filesystem::path db;
    std::filesystem::path backup;
    std::optional<std::filesystem::path> photo_dir;
    bool force = false;
};
int run_restore(const RestoreCommand& c);

// Accounts (src/app/account_commands.cpp, docs/SECURITY.md).
struct UserCommand {
    std::filesystem::path db;
    std::string action; // add | list | disable | enable | passwd
    std::string name;
    std::string role;
    std::vector<std::string> scopes;
    std::string display_name;
    bool password_stdin = false; // read the password from standard input's first line
    bool no_password = false;    // a user that signs in with API tokens only
    bool json = false;
};
int run_user(const UserCommand& c);
struct TokenCommand {
    std::filesystem::path db;
    std::string action; // create | list | revoke
    std::string user;
    std::string label;
    int days = 90;
    std::int64_t id = 0;
    bool json = false;
};
int run_token(const TokenCommand& c);
struct AuditCommand {
    std::filesystem::path db;
    std::optional<std::string> user, code, action, since, until;
    int limit = 100;
    bool json = false;
};
int run_audit(const AuditCommand& c);

// Workers (src/app/incident_commands.cpp, docs/INCIDENTS.md).
struct WorkersCommand {
    std::filesystem::path db;
    std::string action; // import | export | list
    std::filesystem::path file;
    bool json = false;
};
int run_workers(const WorkersCommand& c);
// The staffing check (validate --staffing): exit 1 when a grid has no first-responsible worker
// or a community too few full-time workers.
int run_staffing(const std::filesystem::path& db, bool json, int households_per_full_time);

// `wangge copy` (src/app/copy_command.cpp, docs/POSTGRESQL.md): each side a SpatiaLite file or a
// postgresql:// URL.
struct CopyCommand {
    std::string from, to;
    bool replace = false; // empty a destination that holds data
};
int run_copy(const CopyCommand& c);

int run_validate(const std::filesystem::path& db, bool json);
int run_info(const std::filesystem::path& db);
int run_locate(const std::filesystem::path& db, double lon, double lat, const std::string& crs);

} // namespace wangge::app
