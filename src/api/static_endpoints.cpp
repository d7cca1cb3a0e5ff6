#include "api/static_endpoints.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace wangge::api {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view vendor_prefix = "/vendor/maplibre-gl/";

// Every answer is revalidated (a 304 costs one small round trip), so a new app.js or MapLibre
// after an upgrade is never mixed with a stale one from the browser's cache.
constexpr std::string_view cache_control = "no-cache";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Paths of the other endpoint families: never answered here, whatever their shape.
bool is_reserved(std::string_view path) {
    for (std::string_view root : {"/api", "/tiles", "/ogc", "/healthz", "/readyz", "/metrics"})
        if (path == root || (starts_with(path, root) && path.size() > root.size() && path[root.size()] == '/'))
            return true;
    return false;
}

Error invalid_path(std::string_view path, std::string_view why) {
    return Error(ErrorKind::bad_request, "invalid_path", "path '" + std::string(path) + "' " + std::string(why));
}

Error no_file(std::string_view path) {
    return Error(ErrorKind::not_found, "not_found", "no file at " + std::string(path));
}

// Refuses what could leave the directory or be read differently by the file system: `.` and
// `..` segments, empty segments (`//` would make an absolute path; a trailing `/` is harmless),
// NUL and control characters, backslashes.
void check_safe(std::string_view path) {
    if (path.empty() || path.front() != '/') throw invalid_path(path, "does not start with '/'");
    for (char c : path) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) throw invalid_path(path, "contains a control character");
        if (c == '\\') throw invalid_path(path, "contains a backslash");
    }
    if (path == "/") return;
    std::string_view rest = path.substr(1);
    while (true) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment.empty() && slash != std::string_view::npos) throw invalid_path(path, "has an empty segment");
        if (segment == "." || segment == "..") throw invalid_path(path, "has a '.' or '..' segment");
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
}

// Hidden files, installed packages and npm's files are in the web root but not for the web.
bool is_private(std::string_view relative) {
    if (starts_with(relative, "node_modules/") || relative == "package.json" || relative == "package-lock.json")
        return true;
    return relative.front() == '.' || relative.find("/.") != std::string_view::npos;
}

bool is_within(const fs::path& file, const fs::path& dir) {
    if (dir.empty()) return false; // an unresolved root must serve nothing, not the working directory
    auto [d, f] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
    return d == dir.end() && f != file.end();
}

std::string hex(unsigned long long value) {
    std::array<char, 17> text{};
    const int n = std::snprintf(text.data(), text.size(), "%llx", value);
    return std::string(text.data(), static_cast<std::size_t>(n));
}

// Like nginx: size and modification time, so a 304 needs no read of the file.
std::string entity_tag(std::uintmax_t size, fs::file_time_type modified) {
    const auto ticks = static_cast<unsigned long long>(modified.time_since_epoch().count());
    // Appended rather than `"\"" + ...`, which GCC 12 at -O3 warns about wrongly (-Wrestrict).
    std::string tag = "\"";
    tag += hex(size);
    tag += '-';
    tag += hex(ticks);
    tag += '"';
    return tag;
}

std::string read_file(const fs::path& file, std::string_view path) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, "io", "cannot read the file for " + std::string(path));
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

constexpr std::string_view maplibre_dist = "node_modules/maplibre-gl/dist";

fs::path canonical_dir(const fs::path& dir) {
    std::error_code ec;
    fs::path canonical = fs::canonical(dir, ec);
    return ec ? fs::path() : canonical;
}

} // namespace

std::optional<std::string_view> static_content_type(std::string_view file_name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> types{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
        {".webmanifest", "application/manifest+json"},
    }};
    const auto dot = file_name.rfind('.');
    if (dot == std::string_view::npos || file_name.find('/', dot) != std::string_view::npos) return std::nullopt;
    const std::string_view extension = file_name.substr(dot);
    for (const auto& [ext, type] : types)
        if (ext == extension) return type;
    return std::nullopt;
}

std::optional<std::string> StaticEndpoints::problem(const fs::path& web_root) {
    std::error_code ec;
    if (!fs::is_directory(web_root, ec)) return "web root " + web_root.string() + " is not a directory";
    if (!fs::is_regular_file(web_root / "index.html", ec))
        return "web root " + web_root.string() + " has no index.html";
    if (!fs::is_regular_file(web_root / maplibre_dist / "maplibre-gl.mjs", ec))
        return "web root " + web_root.string() + " has no MapLibre GL JS in " + std::string(maplibre_dist) +
               " (install it with scripts/install-web.sh)";
    return std::nullopt;
}

StaticEndpoints::StaticEndpoints(fs::path web_root) {
    if (auto why = problem(web_root)) throw Error(ErrorKind::io, "web_root", *why);
    m_root = canonical_dir(web_root);
    m_vendor = canonical_dir(web_root / maplibre_dist);
    if (m_root.empty() || m_vendor.empty())
        throw Error(ErrorKind::io, "web_root", "cannot resolve the web root " + web_root.string());
}

std::optional<Response> StaticEndpoints::handle(const Request& req, const grid::Snapshot&) const {
    const std::string_view path = req.path;
    if (is_reserved(path)) return std::nullopt;
    check_safe(path);
    const bool vendor = starts_with(path, "/vendor/");
    if (path != "/" && !vendor && !static_content_type(path)) return std::nullopt;
    require_read(req);
    if (path == "/") return serve_file(req, m_root, "index.html", cache_control);
    if (vendor) {
        if (!starts_with(path, vendor_prefix)) throw no_file(path);
        return serve_file(req, m_vendor, path.substr(vendor_prefix.size()), cache_control);
    }
    const std::string_view relative = path.substr(1);
    if (is_private(relative)) throw no_file(path);
    return serve_file(req, m_root, relative, cache_control);
}

Response StaticEndpoints::serve_file(const Request& req, const fs::path& dir, std::string_view relative,
                                     std::string_view cache) const {
    const auto type = static_content_type(relative);
    if (relative.empty() || !type) throw no_file(req.path);

    // The segments are checked, but a symbolic link could still lead out of the directory.
    std::error_code ec;
    const fs::path file = fs::canonical(dir / fs::path(relative), ec);
    if (ec || !is_within(file, dir) || !fs::is_regular_file(file, ec)) throw no_file(req.path);
    const std::uintmax_t size = fs::file_size(file, ec);
    if (ec) throw no_file(req.path);
    const fs::file_time_type modified = fs::last_write_time(file, ec);
    if (ec) throw no_file(req.path);

    Response res;
    const std::string tag = entity_tag(size, modified);
    res.set_header("ETag", tag);
    res.set_header("Cache-Control", std::string(cache));
    if (req.not_modified(tag)) {
        res.status = 304;
        res.content_type.clear();
        return res;
    }
    res.content_type = std::string(*type);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.body = read_file(file, req.path);
    return res;
}

} // namespace wangge::api
