#include "api/tile_endpoints.hpp"

#include "tiles/compress.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

namespace wangge::api {

namespace detail {

constexpr std::string_view mvt_type = "application/vnd.mapbox-vector-tile";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Calls f on each part of s between separators, in order (one empty part for an empty s).
template <typename F>
void for_each_part(std::string_view s, char sep, F&& f) {
    for (;;) {
        auto at = s.find(sep);
        f(s.substr(0, at));
        if (at == std::string_view::npos) return;
        s.remove_prefix(at + 1);
    }
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// The q-value of one Accept-Encoding element ("gzip;q=0.5"); 1 when absent.
double q_value(std::string_view params) {
    double q = 1.0;
    bool found = false;
    for_each_part(params, ';', [&](std::string_view p) {
        p = trim(p);
        if (!found && p.size() > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            q = std::strtod(std::string(p.substr(2)).c_str(), nullptr);
            found = true;
        }
    });
    return q;
}

// The identity (uncompressed) representation has its own strong ETag, derived from the gzip one.
std::string identity_etag(const std::string& gzip_etag) {
    return gzip_etag.substr(0, gzip_etag.size() - 1) + "-identity\"";
}

} // namespace detail

bool accepts_gzip(std::string_view accept_encoding) {
    std::optional<double> gzip, any;
    detail::for_each_part(accept_encoding, ',', [&](std::string_view element) {
        auto semi = element.find(';');
        std::string_view coding = detail::trim(element.substr(0, semi));
        double q = semi == std::string_view::npos ? 1.0 : detail::q_value(element.substr(semi + 1));
        if (detail::iequals(coding, "gzip") || detail::iequals(coding, "x-gzip")) gzip = q;
        else if (coding == "*") any = q;
    });
    if (gzip) return *gzip > 0;
    return any && *any > 0;
}

TileEndpoints::TileEndpoints(std::shared_ptr<tiles::TileCache> cache, TileEndpointOptions options)
    : m_cache(std::move(cache)), m_options(std::move(options)),
      m_cache_control("public, max-age=" + std::to_string(std::max(0, m_options.max_age_s))) {}

std::optional<Response> TileEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    constexpr std::string_view prefix = "/tiles/";
    std::string_view path = req.path;
    if (!path.starts_with(prefix)) return std::nullopt;
    std::string_view rest = path.substr(prefix.size());
    if (rest.ends_with(".mvt")) {
        const auto parts = split_exactly<4>(rest.substr(0, rest.size() - 4));
        if (!parts)
            throw Error(ErrorKind::bad_request, "invalid_tile",
                        "a vector tile is /tiles/{layer}/{z}/{x}/{y}.mvt, got " + req.path);
        require_read(req);
        tiles::VectorLayer layer = tiles::require_vector_layer((*parts)[0]);
        tiles::TileId id = tiles::parse_tile((*parts)[1], (*parts)[2], (*parts)[3]);
        tiles::require_zoom(layer, id);
        return tile(req, snapshot, layer, id);
    }
    if (rest.ends_with(".json") && rest.find('/') == std::string_view::npos) {
        require_read(req);
        return tilejson(req, snapshot, tiles::require_vector_layer(rest.substr(0, rest.size() - 5)));
    }
    return std::nullopt;
}

Response TileEndpoints::tile(const Request& req, const grid::Snapshot& snapshot, tiles::VectorLayer layer,
                             const tiles::TileId& id) const {
    const tiles::TileKey key{"mvt/" + std::string(tiles::to_string(layer)), id};
    // Cached gzip-compressed: nearly every client takes it as it is.
    tiles::CachedTile cached = m_cache->get(key, snapshot.version(), [&] {
        std::string raw = tiles::make_vector_tile(snapshot, layer, id, m_options.tiles);
        return raw.empty() ? raw : tiles::gzip(raw);
    });
    const bool gzip = accepts_gzip(req.header("accept-encoding").value_or(""));
    std::string etag = gzip ? std::move(cached.etag) : detail::identity_etag(cached.etag);

    Response res;
    res.content_type = detail::mvt_type;
    res.headers.reserve(4);
    const bool not_modified = req.not_modified(etag);
    res.set_header("ETag", std::move(etag));
    res.set_header("Cache-Control", m_cache_control);
    res.set_header("Vary", "Accept-Encoding");
    if (not_modified) {
        res.status = 304;
        return res;
    }
    if (cached.bytes->empty()) {
        res.status = 204; // nothing here: MapLibre and GDAL take it as an empty tile
        res.content_type.clear();
        return res;
    }
    if (gzip) {
        res.set_header("Content-Encoding", "gzip");
        res.shared_body = std::move(cached.bytes);
    } else {
        // The few clients that do not take gzip get the plain bytes, cached too (the same cache,
        // so a change invalidates both), rather than a gunzip per request.
        const tiles::TileKey plain{"mvt-plain/" + std::string(tiles::to_string(layer)), id};
        res.shared_body = m_cache->get(plain, snapshot.version(), [&] { return tiles::gunzip(*cached.bytes); }).bytes;
    }
    return res;
}

Response TileEndpoints::tilejson(const Request& req, const grid::Snapshot& snapshot, tiles::VectorLayer layer) const {
    const std::string name(tiles::to_string(layer));
    BBox b = tiles::data_bounds(snapshot);
    if (b.empty()) b = BBox{-180, -85.0511, 180, 85.0511};
    const int minzoom = tiles::layer_min_zoom(layer);
    const int maxzoom = tiles::vector_max_zoom;
    nlohmann::json j{
        {"tilejson", "3.0.0"},
        {"name", "wangge " + name},
        {"description", "Wangge community grid map: " + name},
        {"version", "1.0.0"},
        {"scheme", "xyz"},
        {"tiles", {request_origin(req) + "/tiles/" + name + "/{z}/{x}/{y}.mvt"}},
        {"minzoom", minzoom},
        {"maxzoom", maxzoom},
        {"bounds", {b.min_lon, b.min_lat, b.max_lon, b.max_lat}},
        {"center", {(b.min_lon + b.max_lon) / 2, (b.min_lat + b.max_lat) / 2, std::clamp(13, minzoom, maxzoom)}},
        {"vector_layers", nlohmann::json::parse(tiles::vector_layers_json(layer))},
        // The household band behind the tiles' `load` property (a TileJSON extension field).
        {"wangge:band", {snapshot.band().min, snapshot.band().max}},
    };
    Response res = json_response(j.dump());
    res.set_header("Cache-Control", m_cache_control);
    return res;
}

} // namespace wangge::api
