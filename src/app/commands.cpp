#include "app/commands.hpp"

#include "api/account_endpoints.hpp"
#include "api/balance_endpoints.hpp"
#include "api/incident_endpoints.hpp"
#include "api/incident_map_endpoints.hpp"
#include "api/open311_endpoints.hpp"
#include "api/ogc_endpoints.hpp"
#include "api/raster_endpoints.hpp"
#include "api/rest.hpp"
#include "api/service.hpp"
#include "api/static_endpoints.hpp"
#include "api/tile_endpoints.hpp"
#include "app/progress.hpp"
#include "auth/accounts.hpp"
#include "auth/password_pool.hpp"
#include "incident/receipts.hpp"
#include "incident/rules.hpp"
#include "core/error.hpp"
#include "demo/generator.hpp"
#include "demo/store_district.hpp"
#include "geo/chinese_crs.hpp"
#include "grid/assign.hpp"
#include "grid/snapshot.hpp"
#include "grid/validate.hpp"
#include "http/forwarded.hpp"
#include "http/server.hpp"
#include "ingest/importer.hpp"
#include "render/render_pool.hpp"
#include "render/renderer.hpp"
#include "store/database.hpp"
#include "api/metrics.hpp"
#include "store/pg/connection.hpp"
#include "store/mbtiles.hpp"
#include "store/photo_files.hpp"
#include "tiles/export.hpp"
#include "tiles/tile_cache.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <cstdio>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <thread>

namespace wangge::app {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Blocks SIGINT/SIGTERM in this and every thread started afterwards, so that the main thread can
// wait for them with sigwait() and stop the server cleanly.
sigset_t block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

// Raises the soft limit of open files to the hard one, and keeps the connection limit below it
// (with room for the database, the tile cache and the log), so that a connection past the limit
// is answered 503 rather than left unanswered for want of a descriptor.
std::size_t connection_limit(std::size_t wanted) {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) != 0) return wanted;
    if (files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
        getrlimit(RLIMIT_NOFILE, &files);
    }
    constexpr rlim_t reserve = 64;
    if (files.rlim_cur == RLIM_INFINITY || files.rlim_cur >= wanted + reserve) return wanted;
    const std::size_t fits = files.rlim_cur > reserve ? static_cast<std::size_t>(files.rlim_cur - reserve) : 1;
    spdlog::warn("--max-connections {} lowered to {}: the process may open {} files", wanted, fits,
                 static_cast<unsigned long long>(files.rlim_cur));
    return fits;
}

} // namespace

namespace {

// The endpoint families of `serve`, in the order the Service asks them.
std::vector<std::shared_ptr<const api::Endpoints>> endpoint_families(const ServeOptions& o,
                                                                    std::shared_ptr<grid::SnapshotHolder> holder,
                                                                    std::shared_ptr<auth::Accounts> accounts,
                                                                    const api::AccessOptions& access,
                                                                    std::shared_ptr<api::Writer>& writer,
                                                                    std::shared_ptr<store::GroupCommit> commits,
                                                                    api::IncidentOptions incidents,
                                                                    const std::shared_ptr<api::Metrics>& metrics) {
    // Vector and rendered tiles have a cache each: a change alters rendered tiles farther from
    // it (their buffer, and names of areas that make room for each other), so it must invalidate
    // a wider margin there.
    tiles::TileCache::Options vector_options;
    vector_options.memory_bytes = (o.tile_cache_mb << 20) / 2;
    vector_options.disk_bytes = (o.tile_cache_disk_mb << 20) / 2;
    if (o.tile_cache_dir) vector_options.disk_dir = *o.tile_cache_dir / "mvt";
    // A failing disk (full, read-only) costs renders, never a tile: said once per spell.
    vector_options.on_disk_trouble = [](const std::optional<std::string>& problem) {
        if (problem)
            spdlog::warn("tile cache: {}; tiles are served from memory or made again (said once until writing works)",
                         *problem);
        else
            spdlog::info("tile cache: tile files are written again");
    };
    auto vector_cache = std::make_shared<tiles::TileCache>(vector_options);
    tiles::TileCache::Options png_options = vector_options;
    png_options.margin = render::change_margin;
    if (o.tile_cache_dir) png_options.disk_dir = *o.tile_cache_dir / "png";
    auto png_cache = std::make_shared<tiles::TileCache>(png_options);
    for (const auto& [name, cache] : {std::pair{"mvt", vector_cache}, std::pair{"png", png_cache}}) {
        metrics->add_gauge("wangge_tile_cache_hits", "Tiles answered from the cache", [c = cache] {
            return static_cast<double>(c->stats().hits); }, "cache", name);
        metrics->add_gauge("wangge_tile_cache_misses", "Tiles made because the cache did not hold them", [c = cache] {
            return static_cast<double>(c->stats().misses); }, "cache", name);
        metrics->add_gauge("wangge_tile_cache_bytes", "Bytes of the tiles held in memory", [c = cache] {
            return static_cast<double>(c->stats().bytes); }, "cache", name);
    }
    // Writes (grid rebalancing) go through one writer that invalidates both caches before it
    // publishes the next snapshot.
    // A read-only server has one too: it refuses writes but follows changes made by others.
    writer = std::make_shared<api::Writer>(o.db, holder, std::vector{vector_cache, png_cache}, o.read_only);
    // Password checks run on threads of their own: half the cores (1 to 4), 256 waiting at most
    // (a shift of workers signing in at once); past that 503 with Retry-After (auth/password_pool.hpp).
    auto passwords = std::make_shared<auth::PasswordPool>(
        std::clamp<std::size_t>(std::thread::hardware_concurrency() / 2, 1, 4), 256);
    // Only the account endpoints own the pool, so it goes with the Service, on the main thread;
    // the gauge must not keep it (Metrics may be let go last by a completion on another thread).
    metrics->add_gauge("wangge_sign_in_backlog", "Sign-ins waiting for a password check",
                       [weak = std::weak_ptr<auth::PasswordPool>(passwords)] {
                           const auto pool = weak.lock();
                           return pool ? static_cast<double>(pool->waiting()) : 0.0;
                       });
    std::vector<std::shared_ptr<const api::Endpoints>> families{
        std::make_shared<api::AccountEndpoints>(std::move(accounts), access, std::move(passwords)),
        std::make_shared<api::BalanceEndpoints>(writer, o.max_proposals),
        // Both intakes (the JSON API and Open311) share one group commit, so their reports go
        // into the same transactions.
        std::make_shared<api::IncidentEndpoints>(commits, writer, incidents),
        // The incidents layer and a grid's workers: before the tiles and REST families, which
        // would answer /tiles/incidents/... and /api/v1/grids/{code}/... as their own.
        std::make_shared<api::IncidentMapEndpoints>(writer, incidents),
        std::make_shared<api::Open311Endpoints>(commits, writer, std::move(incidents)),
        // Ready when the database answers: a balancer that routes writes by /readyz sends none
        // to a server that would refuse them, while /healthz keeps it serving the map. A file
        // deleted, replaced or made read-only refuses writes too.
        std::make_shared<api::RestEndpoints>([writer]() -> std::optional<std::string> {
            if (auto fault = writer->file_fault()) return std::string(fault->what());
            try {
                writer->read([](store::Database& db) { db.data_version(); });
                return std::nullopt;
            } catch (const std::exception&) {
                return std::string("the database does not answer: reads are served from the snapshot, writes are refused");
            }
        }),
        std::make_shared<api::OgcEndpoints>(), std::make_shared<api::TileEndpoints>(vector_cache)};
    render::RendererOptions render_options{o.db, o.styles_dir, {}, {}};
    render_options.band_min = o.band_min;
    render_options.band_max = o.band_max;
    render_options.snapshot = [holder] { return holder->get(); }; // names drawn at its label points
    auto renderer = std::make_shared<const render::Renderer>(render_options);
    auto pool = std::make_shared<render::RenderPool>(renderer, static_cast<std::size_t>(std::max(1, o.render_threads)));
    spdlog::info("rendered tiles: styles {} from {}", fmt::join(renderer->styles(), ", "), o.styles_dir.string());
    families.push_back(std::make_shared<api::RasterEndpoints>(pool, png_cache));
    // The map needs MapLibre from npm (scripts/install-web.sh); without it the API still serves.
    if (auto problem = api::StaticEndpoints::problem(o.web_root))
        spdlog::warn("the web map is not served: {}", *problem);
    else
        families.push_back(std::make_shared<api::StaticEndpoints>(o.web_root));
    return families;
}

} // namespace

namespace {

// What /metrics reads of the store when scraped: the time spent in the database, the snapshot's
// loads, the group commit's backlog, and the open cases by traffic light.
void add_store_metrics(api::Metrics& metrics, const std::shared_ptr<api::Writer>& writer,
                       const std::shared_ptr<store::GroupCommit>& commits,
                       std::shared_ptr<const incident::Calendar> calendar, double first_load_seconds) {
    const std::string db_seconds_help = "Seconds spent in the database: group commit transactions (reports, workflow "
                                        "steps, audit lines), map changes (rebalancing), reads (case lists, history)";
    const std::string db_count_help = "Database transactions, by the same work as wangge_db_seconds_total";
    metrics.add_counter("wangge_db_seconds_total", db_seconds_help, [commits] { return commits->seconds(); },
                        {{"work", "group_commit"}});
    metrics.add_counter("wangge_db_transactions_total", db_count_help,
                        [commits] { return static_cast<double>(commits->commits()); }, {{"work", "group_commit"}});
    metrics.add_counter("wangge_db_seconds_total", db_seconds_help, [writer] { return writer->stats().write_seconds; },
                        {{"work", "write"}});
    metrics.add_counter("wangge_db_transactions_total", db_count_help,
                        [writer] { return static_cast<double>(writer->stats().writes); }, {{"work", "write"}});
    metrics.add_counter("wangge_db_seconds_total", db_seconds_help, [writer] { return writer->stats().read_seconds; },
                        {{"work", "read"}});
    metrics.add_counter("wangge_db_transactions_total", db_count_help,
                        [writer] { return static_cast<double>(writer->stats().reads); }, {{"work", "read"}});
    metrics.add_gauge("wangge_group_commit_backlog", "Reports, workflow steps and audit lines waiting for a transaction",
                      [commits] { return static_cast<double>(commits->backlog()); });
    metrics.add_gauge("wangge_snapshot_load_seconds",
                      "Seconds the last snapshot took to load and publish (at start, then after each change)",
                      [writer, first_load_seconds] {
                          const auto s = writer->stats();
                          return s.loads > 0 ? s.last_load_seconds : first_load_seconds;
                      });
    metrics.add_counter("wangge_snapshot_loads_total", "Snapshots loaded and published after a change",
                        [writer] { return static_cast<double>(writer->stats().loads); });
    // Counting the open cases reads every one of them: done at most every 15 s, however often
    // /metrics is scraped, and the three gauges share the count.
    struct Lights {
        std::mutex mutex;
        std::chrono::steady_clock::time_point at{};
        std::array<std::size_t, 3> counts{};
    };
    auto lights = std::make_shared<Lights>();
    for (std::size_t i = 0; i < 3; ++i) {
        const auto light = static_cast<incident::Light>(i);
        metrics.add_gauge(
            "wangge_incidents_open",
            "Open cases by traffic light: green in time, yellow near its limit, red overdue (counted at most every 15 s)",
            [lights, writer, calendar, i] {
                std::lock_guard lock(lights->mutex);
                const auto now = std::chrono::steady_clock::now();
                if (lights->at == std::chrono::steady_clock::time_point{} || now - lights->at > std::chrono::seconds(15)) {
                    try {
                        writer->read([&](store::Database& stored) {
                            lights->counts = api::open_cases_by_light(stored, *calendar, std::chrono::system_clock::now());
                        });
                        lights->at = now;
                    } catch (const std::exception& e) { // the last count stays; the scrape still answers
                        spdlog::warn("counting open cases for /metrics: {}", e.what());
                    }
                }
                return static_cast<double>(lights->counts[i]);
            },
            "light", std::string(incident::to_string(light)));
    }
}

} // namespace

int run_serve(const ServeOptions& o) {
    // Before any thread starts (render pool, HTTP workers), so that every thread inherits the
    // blocked mask and only sigwait() below receives SIGINT/SIGTERM.
    sigset_t stop_signals = block_stop_signals();
    if (o.band_min <= 0 || o.band_min > o.band_max)
        throw Error(ErrorKind::bad_request, "invalid_option", "the band needs 0 < --band-min <= --band-max");
    const std::string public_origin = o.public_url ? api::public_origin_of(*o.public_url) : std::string();
    (void)http::TrustedProxies(o.trusted_proxies); // a proxy it cannot read is refused before the database opens
    // Photos of cases are files beside a SpatiaLite database; servers sharing a PostgreSQL
    // database must share a directory for them too, which only the operator can name.
    if (store::is_postgresql_url(o.db.string()) && !o.photo_dir)
        throw Error(ErrorKind::bad_request, "invalid_option",
                    "on PostgreSQL, --photo-dir names the directory for photos of cases: one every server of the "
                    "database shares (docs/POSTGRESQL.md)");
    auto t0 = std::chrono::steady_clock::now();
    auto db = store::Database::open(o.db.string(), store::OpenMode::read_write);
    auto snapshot = grid::Snapshot::load(*db, grid::Band{o.band_min, o.band_max});
    const double first_load_seconds = seconds_since(t0);
    spdlog::info("loaded {} (version {}): {} streets, {} communities, {} grids, {} buildings, {} households in {:.2f}s",
                 db->name(), snapshot->version(), snapshot->streets().size(), snapshot->communities().size(),
                 snapshot->grids().size(), snapshot->buildings().size(), snapshot->total_households(),
                 seconds_since(t0));
    auto holder = std::make_shared<grid::SnapshotHolder>(std::move(snapshot));
    if (o.session_hours < 1 || o.session_hours > 24 * 30)
        throw Error(ErrorKind::bad_request, "invalid_option", "--session-hours takes 1 to 720");
    if (o.reload_ms < 100) throw Error(ErrorKind::bad_request, "invalid_option", "--reload-ms takes at least 100");
    // Reports, workflow steps and the audit log are committed together (group commit) on one
    // connection: one writer, one fsync per batch. A report is answered from the committing
    // side once durable, holding no HTTP thread meanwhile.
    auto commits = std::make_shared<store::GroupCommit>(o.db);
    auth::AccountsOptions account_options;
    account_options.session_lifetime = std::chrono::hours(o.session_hours);
    account_options.audit_commits = commits;
    auto accounts = std::make_shared<auth::Accounts>(o.db, account_options);
    api::AccessOptions access;
    access.anonymous_read = api::parse_anonymous_read(o.anonymous_read);
    access.allowed_hosts = o.allowed_hosts;
    auto catalogue = std::make_shared<const incident::Catalogue>(incident::Catalogue::load(o.categories));
    auto calendar = std::make_shared<const incident::Calendar>(incident::Calendar::load(o.calendar));
    spdlog::info("incidents: {} categories (version {}), working calendar {}", catalogue->all().size(),
                 catalogue->version(), calendar->version());
    // Holidays are announced a year at a time: a year the calendar does not hold counts only
    // weekends as rest days, and time limits run through its holidays.
    const auto this_year = incident::Calendar::local_date(std::chrono::system_clock::now()).year();
    for (const auto year : {this_year, this_year + std::chrono::years(1)})
        if (!calendar->covers(year))
            spdlog::warn("the working calendar {} has no holidays for {}: add them to {} (time limits count its holidays "
                         "as working days until then)",
                         calendar->version(), static_cast<int>(year), o.calendar.string());
    api::IncidentOptions incidents;
    incidents.rules = incident::rules_lookup(catalogue, calendar);
    incidents.catalogue = catalogue;
    incidents.calendar = calendar;
    incidents.photos = std::make_shared<const store::PhotoFiles>(o.photo_dir ? *o.photo_dir
                                                                             : store::PhotoFiles::default_dir(o.db));
    incidents.photo_limits.max_bytes = o.max_photo_mb << 20;
    incidents.photo_limits.keep_location = o.keep_photo_location;
    spdlog::info("photos of cases: {} (at most {} MiB each, {} per report; location {})",
                 incidents.photos->dir().string(), o.max_photo_mb, incidents.photo_limits.max_count,
                 o.keep_photo_location ? "kept" : "removed");
    // A file that cannot be written is served all the same, its writes refused (docs/FAULTS.md).
    const bool writable =
        store::is_postgresql_url(o.db.string()) || ::faccessat(AT_FDCWD, o.db.c_str(), W_OK, AT_EACCESS) == 0;
    if (!o.read_only && writable) {
        store::Transaction t(*db, store::Bump::none); // not a change of the map
        incidents.receipt_key = incident::receipt_key(*db);
        t.commit();
    } else {
        incidents.receipt_key = db->meta("receipt_key").value_or("");
    }
    const std::size_t upload_limit =
        static_cast<std::size_t>(incidents.photo_limits.max_count) * incidents.photo_limits.max_bytes + (1u << 20);
    std::shared_ptr<api::Writer> writer;
    // What /metrics tells: requests (counted by the Service), and values read when it is scraped.
    auto metrics = std::make_shared<api::Metrics>();
    metrics->add_gauge("wangge_snapshot_version", "Data version of the snapshot served",
                       [holder] { return static_cast<double>(holder->get()->version()); });
    metrics->add_gauge("wangge_snapshot_grids", "Grids in the snapshot served",
                       [holder] { return static_cast<double>(holder->get()->grids().size()); });
    metrics->add_gauge("wangge_group_commit_transactions", "Transactions of reports, workflow steps and audit lines",
                       [commits] { return static_cast<double>(commits->commits()); });
    metrics->add_gauge("wangge_group_commit_jobs", "Reports, workflow steps and audit lines committed (or failed)",
                       [commits] { return static_cast<double>(commits->jobs()); });
    incidents.metrics = metrics;
    const auto calendar_of_metrics = incidents.calendar;
    auto families = endpoint_families(o, holder, accounts, access, writer, commits, std::move(incidents), metrics);
    add_store_metrics(*metrics, writer, commits, calendar_of_metrics, first_load_seconds);
    families.insert(families.begin(), std::make_shared<api::MetricsEndpoints>(metrics));
    api::ServiceOptions service_options{accounts, access, {}};
    service_options.incident_areas = api::incident_areas_from(writer);
    auto service = std::make_shared<api::Service>(holder, std::move(families), std::move(service_options), metrics);
    if (accounts->list_users().empty())
        spdlog::warn("{} has no users: nobody can sign in or change anything; create an admin with "
                     "'wangge user add NAME --role admin --db {}'",
                     db->name(), db->name());

    http::ServerOptions so;
    so.address = o.host;
    so.port = o.port;
    // An HTTP thread waits while its PNG tile renders on the render pool; with one more HTTP
    // thread per render thread than cores, a burst of cold tiles never holds every thread that
    // answers locate.
    so.threads = o.threads > 0 ? o.threads
                               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) +
                                     std::max(1, o.render_threads);
    so.access_log = o.access_log;
    so.public_origin = public_origin;
    so.trusted_proxies = o.trusted_proxies;
    so.max_connections = connection_limit(o.max_connections);
    so.upload_limit = upload_limit;
    // Writes are refused while the database file is deleted, replaced or read-only (docs/FAULTS.md).
    http::Server server(so, api::guard_writes(writer, [service](api::Request req) { return service->handle(std::move(req)); }));
    server.start();
    // Changes made by others to the served file (a command-line import, rebalance or bootstrap)
    // are picked up within --reload-ms: the check is one read of the data version.
    std::mutex stop_mutex;
    std::condition_variable stop_changed;
    bool stopping = false;
    // On PostgreSQL a commit by any server or command announces itself (NOTIFY), heard here on a
    // connection of its own at once; the check every --reload-ms stays as the fallback.
    const bool announced = store::is_postgresql_url(o.db.string());
    std::thread watcher([&] {
        const auto reload = std::chrono::milliseconds(o.reload_ms);
        auto last_check = std::chrono::steady_clock::now();
        std::unique_ptr<store::Database> feed;
        bool feed_failed = false;
        std::unique_lock lock(stop_mutex);
        while (!stopping) {
            bool heard = false;
            if (announced) {
                lock.unlock();
                try {
                    if (!feed) {
                        feed = store::Database::open(o.db.string(), store::OpenMode::read_only);
                        heard = true; // what was committed while no one listened is loaded now
                    }
                    heard = feed->wait_for_change(std::min(reload, std::chrono::milliseconds(250))) || heard;
                    if (feed_failed) spdlog::info("listening for changes on {} again", feed->name());
                    feed_failed = false;
                } catch (const std::exception& e) {
                    if (!feed_failed) spdlog::warn("not hearing of changes: {}; checking every {} ms until the database returns", e.what(), o.reload_ms);
                    feed_failed = true;
                    feed.reset();
                }
                lock.lock();
                if (feed_failed) stop_changed.wait_for(lock, std::chrono::milliseconds(250), [&] { return stopping; });
            } else {
                stop_changed.wait_for(lock, reload, [&] { return stopping; });
            }
            if (stopping) break;
            if (heard || std::chrono::steady_clock::now() - last_check >= reload) {
                lock.unlock();
                (void)writer->file_fault(); // a deleted or read-only file is logged when it happens
                writer->refresh();
                last_check = std::chrono::steady_clock::now();
                lock.lock();
            }
        }
    });
    std::printf("Wangge is serving %s at http://%s:%u/\n", db->name().c_str(), o.host.c_str(), server.port());
    std::fflush(stdout);
    if (!public_origin.empty()) spdlog::info("links are made on the public URL {}", public_origin);
    if (!o.trusted_proxies.empty())
        spdlog::info("clients are named by X-Forwarded-For when the peer is one of {} trusted prox{}",
                     o.trusted_proxies.size(), o.trusted_proxies.size() == 1 ? "y" : "ies");
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("signal {} received, stopping", sig);
    {
        std::lock_guard lock(stop_mutex);
        stopping = true;
    }
    stop_changed.notify_all();
    watcher.join();
    // Reports accepted before the signal are committed and answered before stop() returns.
    server.stop();
    // Joined here, on this thread: the last completion may drop the last reference to it.
    commits->stop();
    const std::size_t jobs = commits->jobs(), transactions = commits->commits();
    spdlog::info("group commit: {} reports, workflow steps and audit lines committed in {} transactions ({:.1f} per transaction)", jobs,
                 transactions, transactions ? static_cast<double>(jobs) / static_cast<double>(transactions) : 0.0);
    return 0;
}

int run_import(const ImportCommand& c) {
    auto target = ingest::parse_target(c.target);
    if (!target)
        throw Error(ErrorKind::bad_request, "invalid_option",
                    "unknown import target '" + c.target + "'; use streets, communities, grids, buildings, roads or units");
    auto t0 = std::chrono::steady_clock::now();
    // A SpatiaLite file (created when missing) or a PostgreSQL database (migrated when new).
    const bool postgres = store::is_postgresql_url(c.db.string());
    std::error_code exists_ec;
    const bool new_file = !postgres && !std::filesystem::exists(c.db, exists_ec);
    std::unique_ptr<store::MapStore> db = store::Database::open(c.db.string(), store::OpenMode::create);
    // A first import that fails leaves no empty database file behind.
    struct RemoveOnFailure {
        std::filesystem::path path;
        std::unique_ptr<store::MapStore>* db;
        bool armed;
        ~RemoveOnFailure() {
            if (!armed) return;
            db->reset();
            std::error_code ec;
            for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix, ec);
        }
    } cleanup{c.db, &db, new_file};
    // Where the other layers lie, to warn about an import that lands elsewhere (a wrong CRS).
    const std::optional<BBox> before = db->extent();
    ProgressBar bar("importing");
    ingest::ImportOptions o;
    o.target = *target;
    o.path = c.file;
    o.layer = c.layer;
    o.crs = c.crs;
    o.field_map = c.field_map;
    o.replace = c.replace;
    o.update = c.update;
    o.update_key = c.key == "id" ? ingest::ImportOptions::Key::id : ingest::ImportOptions::Key::source_id;
    if (c.estimator_config) o.estimator = grid::EstimatorConfig::load(*c.estimator_config);
    o.progress = [&](std::size_t done, std::size_t total) { bar.update(done, total); };
    ingest::ImportReport r = ingest::import_file(*db, o);
    cleanup.armed = false;
    bar.finish();
    std::printf("%s %s from %s in %.1fs: %zu read, %zu %s, %zu repaired, %zu skipped\n",
                c.update ? "updated" : "imported", c.target.c_str(), c.file.string().c_str(), seconds_since(t0), r.read,
                r.stored, c.update ? "updated" : "stored", r.repaired, r.skipped);
    if (r.extent) {
        std::printf("extent: longitude %.5f to %.5f, latitude %.5f to %.5f (WGS84)\n", r.extent->min_lon,
                    r.extent->max_lon, r.extent->min_lat, r.extent->max_lat);
        const bool apart = before && (r.extent->max_lon < before->min_lon || r.extent->min_lon > before->max_lon ||
                                      r.extent->max_lat < before->min_lat || r.extent->min_lat > before->max_lat);
        if (apart)
            std::printf("warning: this lies apart from what the database already held (longitude %.5f to %.5f, "
                        "latitude %.5f to %.5f): is --crs right? A wrong Gauss-Kruger zone moves data by 3 or 6 "
                        "degrees of longitude\n",
                        before->min_lon, before->max_lon, before->min_lat, before->max_lat);
    }
    if (*target == ingest::Target::buildings && c.update)
        std::printf("households of the updated buildings: %ld before, %ld after (%zu estimated from footprint and "
                    "levels)\n",
                    r.households_before, r.households_total, r.estimated);
    else if (*target == ingest::Target::buildings)
        std::printf("households: %ld in all, %zu buildings estimated from footprint and levels\n", r.households_total,
                    r.estimated);
    for (const auto& issue : r.issues)
        std::printf("  feature %zu%s%s: %s (%s)\n", issue.index, issue.id.empty() ? "" : " id ", issue.id.c_str(),
                    issue.reason.c_str(), issue.skipped ? "skipped" : "repaired");
    if (r.assignment.assigned + r.assignment.unassigned.size() > 0) {
        std::printf("buildings: %zu assigned to a grid, %zu in no grid\n", r.assignment.assigned,
                    r.assignment.unassigned.size());
        std::size_t shown = 0;
        for (const auto& [id, source] : r.assignment.unassigned) {
            if (++shown > 20) {
                std::printf("  ... and %zu more\n", r.assignment.unassigned.size() - 20);
                break;
            }
            std::printf("  building %lld%s%s is in no grid\n", static_cast<long long>(id),
                        source.empty() ? "" : " source ", source.c_str());
        }
    }
    return 0;
}

int run_demo(const DemoCommand& c) {
    std::error_code ec;
    if (std::filesystem::exists(c.out, ec)) {
        if (!c.force)
            throw Error(ErrorKind::conflict, "exists", c.out.string() + " exists; pass --force to overwrite it");
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(c.out.string() + suffix, ec);
    }
    auto t0 = std::chrono::steady_clock::now();
    // A PostgreSQL database is not replaced as a file is: the demo goes into an empty one, which is
    // checked before the district is generated. A file is made only once the district is.
    std::unique_ptr<store::Database> db;
    if (store::is_postgresql_url(c.out.string())) {
        db = store::Database::open(c.out.string(), store::OpenMode::create);
        if (db->count(Level::street) > 0 || db->building_count() > 0)
            throw Error(ErrorKind::conflict, "exists",
                        db->name() + " holds a district already; the demo is written into an empty database (createdb a new one)");
    }
    demo::DemoOptions o;
    o.seed = c.seed;
    o.households = c.households;
    o.years_later = c.years_later;
    ProgressBar bar("generating");
    demo::DemoDistrict d = demo::generate_demo(o, [&](std::string_view stage, std::size_t done, std::size_t total) {
        bar.set_label(std::string(stage));
        bar.update(done, total);
    });
    bar.finish();
    if (!db) db = store::Database::open(c.out.string(), store::OpenMode::create);
    ProgressBar writing("writing");
    grid::AssignmentReport a =
        demo::store_district(*db, d, [&](std::size_t done, std::size_t total) { writing.update(done, total); });
    writing.finish();
    long households = 0;
    for (const auto& b : d.buildings) households += b.households;
    std::printf("demo district written to %s in %.1fs: %zu streets, %zu communities, %zu grids, %zu buildings, "
                "%zu roads, %ld households\n",
                c.out.string().c_str(), seconds_since(t0), d.streets.size(), d.communities.size(), d.grids.size(),
                d.buildings.size(), d.roads.size(), households);
    if (!a.unassigned.empty() || a.changed != 0)
        std::printf("warning: %zu buildings in no grid, %zu reassigned by footprint overlap\n", a.unassigned.size(),
                    a.changed);
    return 0;
}

int run_export_tiles(const ExportTilesCommand& c) {
    auto t0 = std::chrono::steady_clock::now();
    constexpr std::string_view png_prefix = "png:";
    const bool rendered = c.layer.rfind(png_prefix, 0) == 0;
    // Vector tiles come from the snapshot; rendered ones from the Mapnik styles, which read the
    // SpatiaLite file or PostGIS themselves. Both backends serve both.
    auto source = store::open_map_source(c.db.string());
    auto snap = grid::Snapshot::load(*source);
    tiles::ExportRange range{c.minzoom, c.maxzoom, std::nullopt};
    if (c.bbox) range.bbox = parse_bbox(c.bbox->c_str());
    store::MbtilesWriter out(c.out, c.force);
    ProgressBar bar("exporting");
    auto progress = [&](std::size_t done, std::size_t total) { bar.update(done, total); };
    tiles::ExportSummary summary;
    if (rendered) {
        std::string style = c.layer.substr(png_prefix.size());
        int scale = 1;
        if (style.size() > 3 && style.substr(style.size() - 3) == "@2x") {
            style.resize(style.size() - 3);
            scale = 2;
        }
        render::RendererOptions render_options{c.db, c.styles_dir, {}, {}};
        render_options.snapshot = [snap] { return snap; };
        render::Renderer renderer(render_options);
        summary = tiles::export_tiles(*snap, style, "png", range, render::png_tile_source(renderer, style, scale), out,
                                      progress);
    } else {
        summary = tiles::export_tiles(*snap, tiles::require_vector_layer(c.layer), range, out, progress);
    }
    out.commit();
    bar.finish();
    std::printf("exported %s z%d-%d to %s in %.1fs: %zu tiles visited, %zu written, %.1f MiB\n", c.layer.c_str(),
                c.minzoom, c.maxzoom, c.out.string().c_str(), seconds_since(t0), summary.tiles, summary.written,
                static_cast<double>(summary.bytes) / (1 << 20));
    return 0;
}

int run_validate(const std::filesystem::path& db_path, bool json) {
    auto source = store::open_map_source(db_path.string()); // a SpatiaLite file or a postgresql:// URL
    auto snap = grid::Snapshot::load(*source);
    grid::ValidationReport r = grid::validate(*snap);
    if (json) {
        std::printf("%s\n", api::to_json(r).dump(2).c_str());
        return r.ok() ? 0 : 1;
    }
    std::printf("checked %zu streets, %zu communities, %zu grids (data version %lld)\n", r.streets, r.communities,
                r.grids, static_cast<long long>(r.version));
    for (const auto& f : r.findings) {
        std::printf("  %-15s %s", std::string(grid::to_string(f.kind)).c_str(), f.message.c_str());
        if (f.location) std::printf("  near %.6f,%.6f", f.location->lon, f.location->lat);
        std::printf("\n");
    }
    std::printf(r.ok() ? "valid: no gaps, overlaps or orphans\n" : "%zu problem(s) found\n", r.findings.size());
    return r.ok() ? 0 : 1;
}

int run_info(const std::filesystem::path& db_path) {
    auto source = store::open_map_source(db_path.string()); // a SpatiaLite file or a postgresql:// URL
    auto snap = grid::Snapshot::load(*source);
    std::size_t in_band = 0, below = 0, above = 0, unit = 0, estimated = 0;
    for (const auto& g : snap->grids()) {
        switch (g.load) {
        case grid::Load::in_band: ++in_band; break;
        case grid::Load::below: ++below; break;
        case grid::Load::above: ++above; break;
        case grid::Load::unit: ++unit; break;
        }
    }
    for (const auto& b : snap->buildings()) estimated += b.row.households_estimated ? 1 : 0;
    std::printf("%s: schema %d, data version %lld\n", source->name().c_str(), source->schema_version(),
                static_cast<long long>(snap->version()));
    std::printf("  streets      %zu\n  communities  %zu\n  grids        %zu (%zu in band 250-500, %zu below, %zu above, "
                "%zu unit)\n  buildings    %zu (%zu with estimated households)\n  roads        %zu\n  households   %ld\n",
                snap->streets().size(), snap->communities().size(), snap->grids().size(), in_band, below, above, unit,
                snap->buildings().size(), estimated, snap->roads().size(), snap->total_households());
    return 0;
}

int run_locate(const std::filesystem::path& db_path, double lon, double lat, const std::string& crs_text) {
    auto crs = geo::parse_input_crs(crs_text);
    if (!crs) throw Error(ErrorKind::bad_request, "invalid_option", "--crs must be wgs84, gcj02 or bd09");
    require_wgs84_range({lon, lat});
    auto source = store::open_map_source(db_path.string()); // a SpatiaLite file or a postgresql:// URL
    auto snap = grid::Snapshot::load(*source);
    grid::LocateResult r = snap->locate(geo::to_wgs84({lon, lat}, *crs));
    std::printf("status     %s\n", std::string(grid::to_string(r.status)).c_str());
    if (r.street) std::printf("street     %s %s\n", r.street->code.c_str(), r.street->name.c_str());
    if (r.community) std::printf("community  %s %s\n", r.community->code.c_str(), r.community->name.c_str());
    if (r.grid) std::printf("grid       %s %s\n", r.grid->code.c_str(), r.grid->name.c_str());
    if (r.nearest_grid)
        std::printf("nearest    %s %s, %.1f m away\n", r.nearest_grid->code.c_str(), r.nearest_grid->name.c_str(),
                    r.nearest_distance_m);
    return 0;
}

} // namespace wangge::app
