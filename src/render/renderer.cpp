#include "render/renderer.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <mapnik/agg_renderer.hpp>
#include <mapnik/box2d.hpp>
#include <mapnik/datasource_cache.hpp>
#include <mapnik/font_engine_freetype.hpp>
#include <mapnik/image.hpp>
#include <mapnik/image_util.hpp>
#include <mapnik/load_map.hpp>
#include <mapnik/map.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
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
        if (std::find(names.begin(), names.end(), "sqlite") == names.end()) {
            registered.erase("plugins:" + plugins.string());
            throw Error(ErrorKind::io, "mapnik_plugins",
                        "Mapnik's sqlite input plugin was not found in " + plugins.string() +
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

std::string render_with(mapnik::Map& map, int buffer_size, const tiles::TileId& tile, int scale) {
    const unsigned size = static_cast<unsigned>(tile_size * scale);
    map.resize(size, size);
    // The buffer is in pixels of the image, which are twice as many at @2x for the same ground.
    map.set_buffer_size(buffer_size * scale);
    const tiles::MercatorBox b = tiles::mercator_bounds(tile);
    map.zoom_to_box(mapnik::box2d<double>(b.min_x, b.min_y, b.max_x, b.max_y));
    mapnik::image_rgba8 image(static_cast<int>(size), static_cast<int>(size));
    // Mapnik multiplies the scale denominator by the scale factor, so an @2x tile selects the same
    // rules as its 1x tile and draws lines and labels twice as large.
    mapnik::agg_renderer<mapnik::image_rgba8> renderer(map, image, static_cast<double>(scale));
    renderer.apply();
    return mapnik::save_to_string(image, png_format);
}

} // namespace

struct Renderer::Impl {
    std::vector<std::string> names;
    std::map<std::string, std::unique_ptr<StylePool>, std::less<>> styles;
};

Renderer::Renderer(std::filesystem::path database, std::filesystem::path styles_dir)
    : Renderer(RendererOptions{std::move(database), std::move(styles_dir), {}, {}}) {}

Renderer::Renderer(RendererOptions options) : m_impl(std::make_unique<Impl>()) {
    if (options.band_min <= 0 || options.band_min > options.band_max)
        throw Error(ErrorKind::bad_request, "invalid_band", "the household band needs 0 < min <= max");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.database, ec))
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
        std::string xml = replace_all(read_file(file), database_placeholder, database);
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
    const StylePool& pool = *m_impl->styles.find(style)->second;
    std::unique_ptr<mapnik::Map> map = pool.take();
    std::string png;
    try {
        png = render_with(*map, pool.buffer_size(), tile, scale);
    } catch (const std::exception& e) {
        // The map is dropped rather than pooled: its datasources may be in a state we cannot know.
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
