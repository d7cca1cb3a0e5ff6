#include "api/tile_endpoints.hpp"

#include "api/header_values.hpp"

#include "tiles/compress.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

namespace wangge::api {

namespace detail {

constexpr std::string_view mvt_type = "application/vnd.mapbox-vector-tile";

// The identity (uncompressed) representation has its own strong ETag, derived from the gzip one.
std::string identity_etag(const std::string& gzip_etag) {
    return gzip_etag.substr(0, gzip_etag.size() - 1) + "-identity\"";
}

} // namespace detail

bool accepts_gzip(std::string_view accept_encoding) {
    std::optional<double> gzip, any;
    for (const QualityItem& item : parse_quality_list(accept_encoding)) {
        if (iequals(item.value, "gzip") || iequals(item.value, "x-gzip")) gzip = item.q;
        else if (item.value == "*") any = item.q;
    }
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
