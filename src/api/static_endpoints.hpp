#pragma once
// The web map's files (docs/WEBMAP.md), served from a web root directory:
//   GET /                       -> <web root>/index.html
//   GET /app.js, /style.css ... -> <web root>/app.js, ...  (files with a known type)
//   GET /vendor/maplibre-gl/F   -> <web root>/node_modules/maplibre-gl/dist/F
// The paths of the other families (/api, /tiles, /ogc, /healthz, /readyz, /metrics) are never answered here, nor a
// path without a known file type outside /vendor/, so this family can be asked in any order.
// Other paths with `.`, `..` or empty segments, control characters or backslashes are refused
// (400); missing files, hidden files, node_modules and npm's package files are 404. Answers carry an ETag (size and mtime) and
// Cache-Control, and If-None-Match gives 304.
#include "api/endpoints.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace wangge::api {

class StaticEndpoints final : public Endpoints {
public:
    // Throws Error(io) with the message of problem() when the web root cannot serve the map,
    // so a misconfigured --web-root fails at start rather than at the first page view.
    explicit StaticEndpoints(std::filesystem::path web_root);

    // Why `web_root` cannot serve the map (not a directory, no index.html, no MapLibre build in
    // node_modules/maplibre-gl/dist: run scripts/install-web.sh), or nullopt when it can. For a
    // caller that would rather serve without the map than not at all.
    static std::optional<std::string> problem(const std::filesystem::path& web_root);

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

    const std::filesystem::path& web_root() const noexcept { return m_root; }

private:
    Response serve_file(const Request& req, const std::filesystem::path& dir, std::string_view relative,
                        std::string_view cache_control) const;

    std::filesystem::path m_root;
    std::filesystem::path m_vendor;
};

// The Content-Type of a file name by its extension, or nullopt for types this family does
// not serve.
std::optional<std::string_view> static_content_type(std::string_view file_name);

} // namespace wangge::api
