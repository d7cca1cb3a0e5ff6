// The web map's file serving: types, the MapLibre vendor path, traversal attempts, 404, 304.
#include "api/service.hpp"
#include "api/static_endpoints.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace wangge;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
}

std::string header(const api::Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

// <tmp>/secret.txt beside <tmp>/web, the web root, with a MapLibre build in node_modules.
struct Fixture {
    test::TempDir dir;
    fs::path root = dir / "web";
    std::shared_ptr<const grid::Snapshot> snapshot = grid::Snapshot::build({});
    std::unique_ptr<api::Service> service;

    Fixture() {
        write(dir / "secret.txt", "SECRET");
        write(root / "index.html", "<!doctype html><title>网格</title>");
        write(root / "app.js", "export const x = 1;");
        write(root / "style.css", "body{}");
        write(root / "icons" / "logo.svg", "<svg/>");
        write(root / "data.json", "{}");
        write(root / "package.json", "{\"name\":\"wangge-web\"}");
        write(root / ".env", "TOKEN=1");
        write(root / "node_modules" / "left-pad" / "index.js", "module.exports = 1;");
        write(root / "node_modules" / "maplibre-gl" / "package.json", "{}");
        write(root / "node_modules" / "maplibre-gl" / "dist" / "maplibre-gl.mjs", "export default 1;");
        write(root / "node_modules" / "maplibre-gl" / "dist" / "maplibre-gl.css", ".maplibregl-map{}");
        write(root / "node_modules" / "maplibre-gl" / "dist" / "maplibre-gl.mjs.map", "{\"version\":3}");
        fs::create_symlink(dir / "secret.txt", root / "link.txt");
        service = std::make_unique<api::Service>(
            std::make_shared<grid::SnapshotHolder>(snapshot),
            std::vector<std::shared_ptr<const api::Endpoints>>{std::make_shared<api::StaticEndpoints>(root)});
    }

    api::Response get(const std::string& target, const std::string& method = "GET",
                      std::vector<std::pair<std::string, std::string>> headers = {}) const {
        auto req = api::make_request(method, target);
        req.headers = std::move(headers);
        return service->handle(req);
    }
};

} // namespace

TEST_CASE("static: / is index.html and files have their content type", "[static]") {
    Fixture f;
    auto index = f.get("/");
    CHECK(index.status == 200);
    CHECK(index.content_type == "text/html; charset=utf-8");
    CHECK(index.body == "<!doctype html><title>网格</title>");
    CHECK(header(index, "X-Content-Type-Options") == "nosniff");
    CHECK(f.get("/index.html").body == index.body);

    const std::vector<std::pair<std::string, std::string>> cases{
        {"/app.js", "text/javascript; charset=utf-8"},
        {"/style.css", "text/css; charset=utf-8"},
        {"/icons/logo.svg", "image/svg+xml"},
        {"/data.json", "application/json"},
        {"/vendor/maplibre-gl/maplibre-gl.mjs", "text/javascript; charset=utf-8"},
        {"/vendor/maplibre-gl/maplibre-gl.css", "text/css; charset=utf-8"},
        {"/vendor/maplibre-gl/maplibre-gl.mjs.map", "application/json"},
    };
    for (const auto& [target, type] : cases) {
        INFO(target);
        auto r = f.get(target);
        CHECK(r.status == 200);
        CHECK(r.content_type == type);
    }
    CHECK(f.get("/vendor/maplibre-gl/maplibre-gl.mjs").body == "export default 1;");
    // MapLibre asks for its worker with a version in the query string.
    CHECK(f.get("/vendor/maplibre-gl/maplibre-gl.mjs?v=6.17.0").status == 200);
}

TEST_CASE("static: content types by extension", "[static]") {
    CHECK(api::static_content_type("a.png") == "image/png");
    CHECK(api::static_content_type("a.min.js") == "text/javascript; charset=utf-8");
    CHECK(api::static_content_type("x.map") == "application/json");
    CHECK_FALSE(api::static_content_type("a.exe"));
    CHECK_FALSE(api::static_content_type("Makefile"));
    CHECK_FALSE(api::static_content_type("dir.d/file"));
}

TEST_CASE("static: traversal attempts never reach a file outside the web root", "[static]") {
    Fixture f;
    for (std::string target : {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
                               "/vendor/maplibre-gl/../../../../secret.txt",
                               "/vendor/maplibre-gl/..%2f..%2f..%2f..%2fsecret.txt", "/./index.html",
                               "//etc/hostname.txt", "/..%5csecret.txt", "/index.html%00.js", "/a/%0a.js",
                               "/../../../../../../etc/passwd", "/vendor/../index.html"}) {
        INFO(target);
        auto r = f.get(target);
        CHECK(r.status == 400);
        CHECK(r.body.find("invalid_path") != std::string::npos);
    }
    // A symbolic link inside the root that points out of it is not followed.
    CHECK(f.get("/link.txt").status == 404);
}

TEST_CASE("static: missing and private files are 404", "[static]") {
    Fixture f;
    for (std::string target : {"/missing.js", "/icons/missing.png", "/icons", "/vendor/maplibre-gl/missing.mjs",
                               "/vendor/maplibre-gl/", "/vendor/other/x.js", "/vendor/maplibre-gl/package.json",
                               "/node_modules/left-pad/index.js", "/package.json", "/.env", "/icons/.hidden.svg"}) {
        INFO(target);
        auto r = f.get(target);
        CHECK(r.status == 404);
    }
}

TEST_CASE("static: other families' paths are not answered here", "[static]") {
    Fixture f;
    api::StaticEndpoints files(f.root);
    for (std::string target : {"/api/v1/grids", "/api/v1/x.json", "/tiles/hierarchy.json", "/tiles/default/1/0/0.png",
                               "/ogc", "/ogc/collections.json", "/healthz", "/api", "/unknown"}) {
        INFO(target);
        CHECK_FALSE(files.handle(api::make_request("GET", target), *f.snapshot));
    }
    // A name that merely begins like a reserved root is a file of the web root.
    CHECK(files.handle(api::make_request("GET", "/data.json"), *f.snapshot));
    CHECK_THROWS_WITH(files.handle(api::make_request("GET", "/tilesets.json"), *f.snapshot),
                      Catch::Contains("no file at /tilesets.json"));
}

TEST_CASE("static: only GET and HEAD", "[static]") {
    Fixture f;
    CHECK(f.get("/app.js", "HEAD").status == 200);
    auto post = f.get("/app.js", "POST");
    CHECK(post.status == 405);
    CHECK(header(post, "Allow") == "GET, HEAD");
    CHECK(f.get("/", "DELETE").status == 405);
}

TEST_CASE("static: ETag and If-None-Match give 304", "[static]") {
    Fixture f;
    auto first = f.get("/app.js");
    const std::string tag = header(first, "ETag");
    REQUIRE(tag.size() > 2);
    CHECK(tag.front() == '"');
    CHECK(header(first, "Cache-Control") == "no-cache");
    CHECK(f.get("/app.js").headers == first.headers);

    auto again = f.get("/app.js", "GET", {{"if-none-match", tag}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(header(again, "ETag") == tag);
    CHECK(f.get("/app.js", "GET", {{"if-none-match", "\"x\", W/" + tag}}).status == 304);
    CHECK(f.get("/app.js", "GET", {{"if-none-match", "*"}}).status == 304);
    CHECK(f.get("/app.js", "GET", {{"if-none-match", "\"other\""}}).status == 200);

    // A changed file has a new tag.
    write(f.root / "app.js", "export const x = 22;");
    auto changed = f.get("/app.js", "GET", {{"if-none-match", tag}});
    CHECK(changed.status == 200);
    CHECK(changed.body == "export const x = 22;");
    CHECK(header(changed, "ETag") != tag);
}

TEST_CASE("static: a web root without index.html or MapLibre is refused at start", "[static]") {
    test::TempDir dir;
    CHECK_THROWS_WITH(api::StaticEndpoints(dir / "absent"), Catch::Contains("is not a directory"));
    write(dir / "web" / "index.html", "<!doctype html>");
    CHECK_THROWS_WITH(api::StaticEndpoints(dir / "web"), Catch::Contains("install-web.sh"));
    CHECK(api::StaticEndpoints::problem(dir / "web").value_or("").find("node_modules/maplibre-gl/dist") !=
          std::string::npos);
    write(dir / "web2" / "node_modules" / "maplibre-gl" / "dist" / "maplibre-gl.mjs", "");
    CHECK_THROWS_WITH(api::StaticEndpoints(dir / "web2"), Catch::Contains("index.html"));
    write(dir / "web2" / "index.html", "<!doctype html>");
    CHECK_FALSE(api::StaticEndpoints::problem(dir / "web2"));
    CHECK_NOTHROW(api::StaticEndpoints(dir / "web2"));
}
