#include "render/renderer.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "store/pg/connection.hpp"

#include <mapnik/agg_renderer.hpp>
#include <mapnik/box2d.hpp>
#include <mapnik/datasource_cache.hpp>
#include <mapnik/feature.hpp>
#include <mapnik/feature_factory.hpp>
#include <mapnik/font_engine_freetype.hpp>
#include <mapnik/geometry.hpp>
#include <mapnik/image.hpp>
#include <mapnik/image_util.hpp>
#include <mapnik/layer.hpp>
#include <mapnik/load_map.hpp>
#include <mapnik/map.hpp>
#include <mapnik/memory_datasource.hpp>
#include <unicode/unistr.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <unordered_map>
#include <set>
#include <sstream>

namespace wangge::render {

namespace {

// 8-bit palette PNG (hextree quantiser, fast deflate): about 60% of the bytes of a 32-bit PNG for
// the same encoding time, and the few flat fills of a map survive the quantisation
// (docs/RENDERING.md, "Performance").
constexpr const char* png_format = "png8:m=h:z=1";

// Where the styles name the database (docs/RENDERING.md, "Adding a style").
constexpr std::string_view database_placeholder = "@DB@";
constexpr std::string_view band_min_placeholder = "@BAND_MIN@";
constexpr std::string_view band_max_placeholder = "@BAND_MAX@";

std::filesystem::path from_env_or(const char* variable, const std::filesystem::path& given, const char* built_in) {
    if (!given.empty()) return given;
    if (const char* value = std::getenv(variable); value && *value) return value;
    return built_in;
}

// Mapnik's plugin and font registries are process-wide; each directory is registered once.
void register_mapnik_resources(const std::filesystem::path& plugins, const std::filesystem::path& fonts) {
    static std::mutex mutex;
    static std::set<std::string> registered;
    std::lock_guard lock(mutex);
    if (registered.insert("plugins:" + plugins.string()).second) {
        mapnik::datasource_cache::instance().register_datasources(plugins.string());
        auto names = mapnik::datasource_cache::instance().plugin_names();
        for (const char* plugin : {"sqlite", "postgis"})
            if (std::find(names.begin(), names.end(), plugin) == names.end()) {
                registered.erase("plugins:" + plugins.string());
                throw Error(ErrorKind::io, "mapnik_plugins",
                            std::string("Mapnik's ") + plugin + " input plugin was not found in " + plugins.string() +
                                " (set WANGGE_MAPNIK_INPUT_PLUGINS to the directory `mapnik-config --input-plugins` names)");
            }
    }
    if (registered.insert("fonts:" + fonts.string()).second) mapnik::freetype_engine::register_fonts(fonts.string(), true);
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, "style_load_failed", "cannot read style " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
    return text;
}

// A style written for the SpatiaLite file, made to read the same tables from PostgreSQL with
// Mapnik's postgis plugin (docs/RENDERING.md, "On PostgreSQL"): the datasource's type and file
// become postgis and the URL's connection parameters; the sqlite plugin's own parameters go; in a
// layer's SQL, the R*Tree token !intersects! becomes PostGIS's `geom && !bbox!` (served by the GiST
// index) and SQLite's rowid, which PostgreSQL lacks, a constant.
std::string postgis_style(const std::string& xml, const std::string& url) {
    static const std::regex parameter(R"re(<Parameter name="([a-z_]+)">([\s\S]*?)</Parameter>)re");
    static const std::regex rowid(R"re(\b([A-Za-z_][A-Za-z0-9_]*\.)?rowid\b)re");
    std::string connection;
    for (const auto& [key, value] : store::pg_url_parameters(url))
        if (key == "host" || key == "hostaddr" || key == "port" || key == "dbname" || key == "user" || key == "password")
            connection += "<Parameter name=\"" + key + "\">" + xml_escape(value) + "</Parameter>";
    std::string out;
    auto from = xml.cbegin();
    for (std::sregex_iterator it(xml.begin(), xml.end(), parameter), end; it != end; ++it) {
        const std::smatch& m = *it;
        out.append(from, m[0].first);
        from = m[0].second;
        const std::string name = m[1].str();
        std::string value = m[2].str();
        if (name == "wkb_format" || name == "auto_index" || name == "geometry_table" || name == "index_table" ||
            name == "key_field" || name == "use_spatial_index")
            continue;
        if (name == "type" && value == "sqlite") {
            out += "<Parameter name=\"type\">postgis</Parameter><Parameter name=\"srid\">4326</Parameter>"
                   "<Parameter name=\"estimate_extent\">false</Parameter>";
            continue;
        }
        if (name == "file") {
            out += connection;
            continue;
        }
        if (name == "table") {
            value = replace_all(value, "!intersects!", "geom &amp;&amp; !bbox!");
            value = std::regex_replace(value, rowid, "0");
        }
        out += "<Parameter name=\"" + name + "\">" + value + "</Parameter>";
    }
    out.append(from, xml.cend());
    return out;
}

// Style names appear in URLs (/tiles/{style}/...) and cache keys: keep them plain.
bool valid_style_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// One style: its XML with the database filled in, and the maps no thread is using. A map is
// loaded from the XML rather than copied, because a copy would share the datasources (and their
// SQLite connections) of the original.
class StylePool {
public:
    StylePool(std::string name, std::string xml, std::string base_path)
        : m_name(std::move(name)), m_xml(std::move(xml)), m_base_path(std::move(base_path)) {
        auto first = load();
        m_buffer_size = first->buffer_size();
        m_idle.push_back(std::move(first));
    }

    std::unique_ptr<mapnik::Map> take() const {
        {
            std::lock_guard lock(m_mutex);
            if (!m_idle.empty()) {
                auto map = std::move(m_idle.back());
                m_idle.pop_back();
                return map;
            }
        }
        return load();
    }

    void give_back(std::unique_ptr<mapnik::Map> map) const {
        std::lock_guard lock(m_mutex);
        m_idle.push_back(std::move(map));
    }

    int buffer_size() const noexcept { return m_buffer_size; }

private:
    std::unique_ptr<mapnik::Map> load() const {
        // Mapnik 3.1 parses filters and text expressions with one static grammar whose ICU
        // converter is not thread-safe (helgrind finds the race), so maps are loaded one at a
        // time, in every Renderer of the process. Rendering needs no such lock.
        static std::mutex load_mutex;
        std::lock_guard lock(load_mutex);
        auto map = std::make_unique<mapnik::Map>();
        try {
            // strict: an unknown attribute or a missing font is a mistake in the style, not a detail.
            mapnik::load_map_string(*map, m_xml, true, m_base_path);
        } catch (const std::exception& e) {
            // Loading connects the postgis plugin's datasources: PostgreSQL away is not the style's fault.
            if (std::string_view(e.what()).find("Postgis Plugin") != std::string_view::npos)
                throw Error(ErrorKind::unavailable, "db_render", "style '" + m_name + "': " + e.what());
            throw Error(ErrorKind::io, "style_load_failed", "style '" + m_name + "': " + e.what());
        }
        return map;
    }

    std::string m_name;
    std::string m_xml;
    std::string m_base_path;
    int m_buffer_size = 0;
    mutable std::mutex m_mutex;
    mutable std::vector<std::unique_ptr<mapnik::Map>> m_idle;
};

// The layer of the styles that names streets, communities and grids. It has no Datasource in the
// style: each render gives it the snapshot's label points around the image (docs/RENDERING.md,
// "Labels of areas").
constexpr std::string_view labels_layer = "labels";

mapnik::layer* find_labels_layer(mapnik::Map& map) {
    for (auto& layer : map.layers())
        if (layer.name() == labels_layer) return &layer;
    return nullptr;
}

mapnik::value_unicode_string text(std::string_view utf8) {
    return icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<std::int32_t>(utf8.size())));
}

// The distance between two labels in pixels of a 256-px tile of the zoom: the larger of the
// horizontal and twice the vertical one. Two labels of w x h pixels centred on their points
// cannot overlap when it is at least max(w, 2h): a box test by one number, which a style's
// filter can compare (labels are wider than tall, twice or more for all but the shortest).
double label_distance(const mapnik::geometry::point<double>& a, const mapnik::geometry::point<double>& b,
                      double metres_per_pixel) {
    return std::max(std::abs(a.x - b.x), 2 * std::abs(a.y - b.y)) / metres_per_pixel;
}

// The label points of all three levels inside `box` (EPSG:3857 metres: the image and its
// buffer) as Mapnik point features in EPSG:3857, with the attributes the styles use:
//   code, name, level, seq (a grid's 3-digit number), households;
//   room: how far the label point is from the area's outline;
//   spacing: the distance (label_distance) to the nearest label of the same level that goes
//       first: one of a larger area (more room), or of the same room and a smaller code;
//   parent_spacing: the distance to the label of the area's parent (a community's street).
// All are in pixels of the zoom (at most label_reach_px) and depend on the areas and the zoom only, never on
// the tile or on which other labels are drawn: a style that draws a label when its spacing is
// wider than the label decides the same way in every tile, so a name crossing a tile edge is
// drawn whole on both sides, and the styles draw these labels with allow-overlap.
std::shared_ptr<mapnik::memory_datasource> label_points(const grid::Snapshot& s, const tiles::MercatorBox& box, int z) {
    auto context = std::make_shared<mapnik::context_type>();
    for (const char* key : {"code", "name", "level", "seq", "households", "room", "spacing", "parent_spacing"})
        context->push(key);
    mapnik::parameters params;
    params["type"] = "memory";
    auto ds = std::make_shared<mapnik::memory_datasource>(params);

    const double metres_per_pixel = 2 * tiles::earth_half_circumference / (tile_size * std::ldexp(1.0, z));
    const double reach = double{label_reach_px} * metres_per_pixel;
    // Rivals are looked for around the drawn labels as far as they can matter.
    const tiles::MercatorBox wide{box.min_x - reach, box.min_y - reach / 2, box.max_x + reach, box.max_y + reach / 2};
    const BBox lonlat{tiles::mercator_x_to_lon(wide.min_x), tiles::mercator_y_to_lat(wide.min_y),
                      tiles::mercator_x_to_lon(wide.max_x), tiles::mercator_y_to_lat(wide.max_y)};
    auto project = [](LonLat p) {
        return mapnik::geometry::point<double>(tiles::lon_to_mercator_x(p.lon), tiles::lat_to_mercator_y(p.lat));
    };
    auto pixels = [](double v) { return static_cast<mapnik::value_integer>(std::min(std::floor(v), double{label_reach_px})); };
    struct Candidate {
        const grid::Area* area;
        mapnik::geometry::point<double> at;
    };
    auto goes_before = [](const grid::Area& a, const grid::Area& b) {
        return a.label_room_m != b.label_room_m ? a.label_room_m > b.label_room_m : a.code < b.code;
    };
    auto add_level = [&](Level level, const std::vector<const grid::Area*>& parents) {
        const auto areas = s.areas(level); // by code, as query() indexes them
        // The candidates in cells of a hash grid, square in the metric of label_distance, searched
        // ring by ring outwards from each label until no nearer rival can be left: a street-zoom
        // tile of a large district meets thousands of grids.
        const double cell = 16 * metres_per_pixel;
        auto cell_of = [&](const mapnik::geometry::point<double>& p) {
            return std::pair{static_cast<std::int64_t>(std::floor((p.x - wide.min_x) / cell)),
                             static_cast<std::int64_t>(std::floor(2 * (p.y - wide.min_y) / cell))};
        };
        auto key = [](std::int64_t i, std::int64_t j) { return static_cast<std::uint64_t>(i) << 32 ^ static_cast<std::uint64_t>(j); };
        std::vector<Candidate> candidates;
        std::unordered_map<std::uint64_t, std::vector<std::size_t>> cells;
        for (std::uint32_t i : s.query(level, lonlat)) {
            const Candidate c{areas[i], project(areas[i]->label)};
            if (c.at.x < wide.min_x || c.at.x > wide.max_x || c.at.y < wide.min_y || c.at.y > wide.max_y) continue;
            const auto [ci, cj] = cell_of(c.at);
            cells[key(ci, cj)].push_back(candidates.size());
            candidates.push_back(c);
        }
        const std::int64_t rings = static_cast<std::int64_t>(std::ceil(reach / cell));
        for (const Candidate& c : candidates) {
            const grid::Area& a = *c.area;
            const auto& at = c.at;
            if (at.x < box.min_x || at.x > box.max_x || at.y < box.min_y || at.y > box.max_y) continue;
            double spacing = double{label_reach_px};
            const auto [ci, cj] = cell_of(at);
            // A rival within reach lies in ring rings + 1 at most.
            for (std::int64_t r = 0; r <= rings + 1 && spacing * metres_per_pixel > (r - 1) * cell; ++r)
                for (std::int64_t i = ci - r; i <= ci + r; ++i)
                    for (std::int64_t j = cj - r; j <= cj + r; ++j) {
                        if (std::max(std::abs(i - ci), std::abs(j - cj)) != r) continue; // the ring only
                        auto found = cells.find(key(i, j));
                        if (found == cells.end()) continue;
                        for (std::size_t k : found->second) {
                            const Candidate& rival = candidates[k];
                            if (rival.area != &a && goes_before(*rival.area, a))
                                spacing = std::min(spacing, label_distance(at, rival.at, metres_per_pixel));
                        }
                    }
            double parent_spacing = double{label_reach_px};
            if (a.parent_index >= 0 && static_cast<std::size_t>(a.parent_index) < parents.size())
                parent_spacing =
                    label_distance(at, project(parents[static_cast<std::size_t>(a.parent_index)]->label), metres_per_pixel);
            // Mercator stretches the ground by 1/cos(latitude).
            const double ground_per_pixel = metres_per_pixel * std::cos(a.label.lat * 3.14159265358979323846 / 180);
            mapnik::feature_ptr f =
                mapnik::feature_factory::create(context, static_cast<mapnik::value_integer>(ds->size() + 1));
            f->put("code", text(a.code));
            f->put("name", text(a.name));
            f->put("level", text(to_string(level)));
            f->put("seq", text(level == Level::grid && a.code.size() > 12 ? std::string_view(a.code).substr(12)
                                                                            : std::string_view()));
            f->put("households", static_cast<mapnik::value_integer>(a.stats.households));
            f->put("room", pixels(a.label_room_m / ground_per_pixel));
            f->put("spacing", pixels(spacing));
            f->put("parent_spacing", pixels(parent_spacing));
            f->set_geometry(mapnik::geometry::point<double>(at));
            ds->push(f);
        }
    };
    add_level(Level::street, {});
    add_level(Level::community, s.areas(Level::street));
    add_level(Level::grid, s.areas(Level::community));
    return ds;
}

// Renders the n x n tiles whose top-left tile is `tile` as one image.
std::string render_with(mapnik::Map& map, int buffer_size, const tiles::TileId& tile, int n, int scale,
                        const std::function<std::shared_ptr<const grid::Snapshot>()>& snapshot) {
    const unsigned size = static_cast<unsigned>(tile_size * scale * n);
    map.resize(size, size);
    // The buffer is in pixels of the image, which are twice as many at @2x for the same ground.
    map.set_buffer_size(buffer_size * scale);
    const tiles::MercatorBox first = tiles::mercator_bounds(tile);
    const double side = (first.max_x - first.min_x) * n;
    const tiles::MercatorBox b{first.min_x, first.max_y - side, first.min_x + side, first.max_y};
    map.zoom_to_box(mapnik::box2d<double>(b.min_x, b.min_y, b.max_x, b.max_y));

    mapnik::layer* labels = find_labels_layer(map);
    if (labels) {
        // The same ground as Mapnik's own query: the image and its buffer.
        const double buffer = buffer_size * (first.max_x - first.min_x) / tile_size;
        const tiles::MercatorBox around{b.min_x - buffer, b.min_y - buffer, b.max_x + buffer, b.max_y + buffer};
        labels->set_datasource(label_points(*snapshot(), around, tile.z));
    }
    mapnik::image_rgba8 image(static_cast<int>(size), static_cast<int>(size));
    // Mapnik multiplies the scale denominator by the scale factor, so an @2x tile selects the same
    // rules as its 1x tile and draws lines and labels twice as large.
    mapnik::agg_renderer<mapnik::image_rgba8> renderer(map, image, static_cast<double>(scale));
    renderer.apply();
    if (labels) labels->set_datasource(mapnik::datasource_ptr()); // the points belong to this render only
    return mapnik::save_to_string(image, png_format);
}

// The snapshot whose label points are drawn: the one given, or one loaded from the database and
// loaded again when its data version has moved on.
class LabelSnapshots {
public:
    LabelSnapshots(std::function<std::shared_ptr<const grid::Snapshot>()> given, std::filesystem::path database,
                   grid::Band band)
        : m_given(std::move(given)), m_database(std::move(database)), m_band(band) {}

    std::shared_ptr<const grid::Snapshot> current() const {
        if (m_given) return m_given();
        std::lock_guard lock(m_mutex);
        if (!m_db) m_db = store::Database::open(m_database, store::OpenMode::read_only);
        if (!m_snapshot || m_snapshot->version() != m_db->data_version()) m_snapshot = grid::Snapshot::load(*m_db, m_band);
        return m_snapshot;
    }

private:
    std::function<std::shared_ptr<const grid::Snapshot>()> m_given;
    std::filesystem::path m_database;
    grid::Band m_band;
    mutable std::mutex m_mutex;
    mutable std::unique_ptr<store::Database> m_db;
    mutable std::shared_ptr<const grid::Snapshot> m_snapshot;
};

} // namespace

struct Renderer::Impl {
    std::vector<std::string> names;
    std::map<std::string, std::unique_ptr<StylePool>, std::less<>> styles;
    std::unique_ptr<LabelSnapshots> labels;
    std::string render(std::string_view style, const tiles::TileId& tile, int n, int scale) const;
};

Renderer::Renderer(std::filesystem::path database, std::filesystem::path styles_dir)
    : Renderer(RendererOptions{std::move(database), std::move(styles_dir), {}, {}}) {}

Renderer::Renderer(RendererOptions options) : m_impl(std::make_unique<Impl>()) {
    if (options.band_min <= 0 || options.band_min > options.band_max)
        throw Error(ErrorKind::bad_request, "invalid_band", "the household band needs 0 < min <= max");
    m_impl->labels = std::make_unique<LabelSnapshots>(std::move(options.snapshot), options.database,
                                                      grid::Band{options.band_min, options.band_max});
    std::error_code ec;
    const bool postgres = store::is_postgresql_url(options.database.string());
    if (!postgres && !std::filesystem::is_regular_file(options.database, ec))
        throw Error(ErrorKind::io, "database_missing", "database " + options.database.string() + " does not exist");
    if (!std::filesystem::is_directory(options.styles_dir, ec))
        throw Error(ErrorKind::io, "no_styles", "styles directory " + options.styles_dir.string() + " does not exist");
    register_mapnik_resources(
        from_env_or("WANGGE_MAPNIK_INPUT_PLUGINS", options.input_plugins_dir, WANGGE_MAPNIK_INPUT_PLUGINS),
        from_env_or("WANGGE_FONTS_DIR", options.fonts_dir, WANGGE_FONTS_DIR));

    // The sqlite plugin resolves relative paths against the working directory: hand it an absolute one.
    const std::string database = xml_escape(std::filesystem::absolute(options.database).string());
    const std::string base_path = std::filesystem::absolute(options.styles_dir).string();
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(options.styles_dir))
        if (entry.is_regular_file() && entry.path().extension() == ".xml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        std::string name = file.stem().string();
        if (!valid_style_name(name))
            throw Error(ErrorKind::io, "style_load_failed",
                        "style file " + file.string() + ": names are lower-case letters, digits, '_' and '-'");
        std::string xml = postgres ? postgis_style(read_file(file), options.database.string())
                                   : replace_all(read_file(file), database_placeholder, database);
        xml = replace_all(xml, band_min_placeholder, std::to_string(options.band_min));
        xml = replace_all(xml, band_max_placeholder, std::to_string(options.band_max));
        m_impl->styles.emplace(name, std::make_unique<StylePool>(name, std::move(xml), base_path));
        m_impl->names.push_back(std::move(name));
    }
    if (m_impl->names.empty())
        throw Error(ErrorKind::io, "no_styles", "no <name>.xml style in " + options.styles_dir.string());
}

Renderer::~Renderer() = default;

const std::vector<std::string>& Renderer::styles() const noexcept { return m_impl->names; }

bool Renderer::has_style(std::string_view style) const noexcept { return m_impl->styles.find(style) != m_impl->styles.end(); }

void Renderer::require_valid(std::string_view style, const tiles::TileId& tile, int scale) const {
    if (!has_style(style)) throw Error(ErrorKind::not_found, "unknown_style", "no style named '" + std::string(style) + "'");
    tiles::require_valid(tile);
    if (scale != 1 && scale != 2)
        throw Error(ErrorKind::bad_request, "invalid_scale", "scale must be 1 or 2, not " + std::to_string(scale));
}

std::string Renderer::render_png(std::string_view style, const tiles::TileId& tile, int scale) const {
    require_valid(style, tile, scale);
    return m_impl->render(style, tile, 1, scale);
}

std::string Renderer::render_block_png(std::string_view style, const tiles::TileId& tile, int n, int scale) const {
    require_valid(style, tile, scale);
    const std::uint64_t tiles_per_side = std::uint64_t{1} << tile.z;
    if (n < 1 || n > 16 || tile.x + std::uint64_t(n) > tiles_per_side || tile.y + std::uint64_t(n) > tiles_per_side)
        throw Error(ErrorKind::bad_request, "invalid_tile",
                    "a block of " + std::to_string(n) + " x " + std::to_string(n) + " tiles from " +
                        tiles::to_string(tile) + " is not 1 to 16 tiles of the zoom wide");
    return m_impl->render(style, tile, n, scale);
}

std::string Renderer::Impl::render(std::string_view style, const tiles::TileId& tile, int n, int scale) const {
    const StylePool& pool = *styles.find(style)->second;
    std::unique_ptr<mapnik::Map> map;
    std::string png;
    try {
        map = pool.take(); // a new map connects its datasources (PostGIS: may fail)
        png = render_with(*map, pool.buffer_size(), tile, n, scale, [this] { return labels->current(); });
    } catch (const std::exception& e) {
        // The map is dropped rather than pooled: its datasources may be in a state we cannot know.
        // Mapnik's postgis plugin failing is PostgreSQL away: 503, and the next map reconnects.
        if (std::string_view(e.what()).find("Postgis Plugin") != std::string_view::npos)
            throw Error(ErrorKind::unavailable, "db_render",
                        "rendering " + std::string(style) + " " + tiles::to_string(tile) + ": " + e.what());
        throw Error(ErrorKind::io, "render_failed",
                    "rendering " + std::string(style) + " " + tiles::to_string(tile) + ": " + e.what());
    }
    pool.give_back(std::move(map));
    return png;
}

std::function<std::string(const tiles::TileId&)> png_tile_source(const Renderer& renderer, std::string style, int scale) {
    renderer.require_valid(style, tiles::TileId{}, scale);
    return [&renderer, style = std::move(style), scale](const tiles::TileId& tile) {
        return renderer.render_png(style, tile, scale);
    };
}

} // namespace wangge::render
