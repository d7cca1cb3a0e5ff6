// Cached vector tiles of the demo district served by the real server over 127.0.0.1: the bytes
// that arrive are the cache's own (gzip and plain), HEAD and 304 frame the connection right,
// and pipelined requests for one cached tile each get the whole body.
#include "api/service.hpp"
#include "api/tile_endpoints.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"
#include "tiles/compress.hpp"
#include "tiles/demo_fixture.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace wangge;
using test::HttpClient;
using test::HttpResponse;
using test::parse_responses;

namespace {

struct TileServer {
    std::shared_ptr<const grid::Snapshot> snapshot = test::demo_district().snapshot;
    std::shared_ptr<tiles::TileCache> cache = std::make_shared<tiles::TileCache>(tiles::TileCache::Options{});
    std::shared_ptr<api::Service> service = std::make_shared<api::Service>(
        std::make_shared<grid::SnapshotHolder>(snapshot),
        std::vector<std::shared_ptr<const api::Endpoints>>{std::make_shared<api::TileEndpoints>(cache)});
    http::Server server{options(), [s = service](const api::Request& req) { return s->handle(req); }};

    TileServer() { server.start(); }

    static http::ServerOptions options() {
        http::ServerOptions o;
        o.port = 0;
        o.threads = 2;
        return o;
    }

    // The bytes the cache holds for `source` at the centre tile.
    std::string cached(const std::string& source) const {
        auto t = cache->peek({source, centre()}, snapshot->version());
        if (!t) throw std::runtime_error("the cache holds no " + source + " tile at " + tiles::to_string(centre()));
        return *t->bytes;
    }

    tiles::TileId centre() const {
        const BBox b = tiles::data_bounds(*snapshot);
        return tiles::tile_at({(b.min_lon + b.max_lon) / 2, (b.min_lat + b.max_lat) / 2}, 14);
    }
    std::string target() const { return "/tiles/hierarchy/" + tiles::to_string(centre()) + ".mvt"; }
};

const test::HttpHeaders gzip{{"Accept-Encoding", "gzip"}};

std::string raw_get(const std::string& target, const std::string& extra, bool close) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + (close ? "Connection: close\r\n" : "") + "\r\n";
}

} // namespace

TEST_CASE("cached tiles arrive byte for byte, gzip and plain, GET and HEAD", "[http][tiles]") {
    TileServer s;
    HttpClient client(s.server.port());

    const HttpResponse gz = client.request("GET", s.target(), {}, gzip);
    REQUIRE(gz.status == 200);
    const std::string gz_bytes = s.cached("mvt/hierarchy");
    REQUIRE(gz_bytes.size() > 100);
    CHECK(gz.body == gz_bytes);
    CHECK(tiles::is_gzip(gz.body));
    CHECK(gz.header("content-length") == std::to_string(gz_bytes.size()));
    CHECK(gz.header("content-encoding") == "gzip");
    CHECK(gz.header("content-type") == "application/vnd.mapbox-vector-tile");
    CHECK(gz.header("vary") == "Accept-Encoding");
    CHECK(gz.header("cache-control") == "public, max-age=60");

    const HttpResponse plain = client.get(s.target());
    REQUIRE(plain.status == 200);
    const std::string plain_bytes = s.cached("mvt-plain/hierarchy");
    CHECK(plain.body == plain_bytes);
    CHECK(plain.body == tiles::gunzip(gz.body));
    CHECK(plain.header("content-length") == std::to_string(plain_bytes.size()));
    CHECK_FALSE(plain.has_header("content-encoding"));
    CHECK(plain.header("etag") != gz.header("etag"));

    // HEAD: the length of the GET, the same ETag, no body (a sent body would be misread as the
    // next response on this connection).
    const HttpResponse head_gz = client.request("HEAD", s.target(), {}, gzip);
    CHECK(head_gz.status == 200);
    CHECK(head_gz.body.empty());
    CHECK(head_gz.header("content-length") == std::to_string(gz_bytes.size()));
    CHECK(head_gz.header("etag") == gz.header("etag"));
    const HttpResponse head_plain = client.request("HEAD", s.target());
    CHECK(head_plain.body.empty());
    CHECK(head_plain.header("content-length") == std::to_string(plain_bytes.size()));
    CHECK(client.get(s.target()).body == plain_bytes);
    CHECK(client.connections() == 1);
}

TEST_CASE("a cached tile revalidates with If-None-Match: 304, no body, connection kept", "[http][tiles]") {
    TileServer s;
    HttpClient client(s.server.port());
    const HttpResponse gz = client.request("GET", s.target(), {}, gzip);
    REQUIRE(gz.status == 200);
    const std::string etag = gz.header("etag");
    REQUIRE(etag.size() > 2);

    const HttpResponse same = client.request("GET", s.target(), {}, {{"Accept-Encoding", "gzip"}, {"If-None-Match", etag}});
    CHECK(same.status == 304);
    CHECK(same.body.empty());
    CHECK_FALSE(same.has_header("content-length"));
    CHECK(same.header("etag") == etag);
    CHECK(same.header("cache-control") == "public, max-age=60");
    // The gzip ETag does not validate the plain representation.
    const HttpResponse plain = client.request("GET", s.target(), {}, {{"If-None-Match", etag}});
    CHECK(plain.status == 200);
    CHECK(plain.body == s.cached("mvt-plain/hierarchy"));
    CHECK(client.request("GET", s.target(), {}, gzip).body == s.cached("mvt/hierarchy"));
    CHECK(client.connections() == 1);
}

TEST_CASE("pipelined requests for one cached tile each get the whole body, in order", "[http][tiles]") {
    TileServer s;
    HttpClient warm(s.server.port());
    REQUIRE(warm.request("GET", s.target(), {}, gzip).status == 200);
    REQUIRE(warm.get(s.target()).status == 200);
    const std::string gz_bytes = s.cached("mvt/hierarchy");
    const std::string plain_bytes = s.cached("mvt-plain/hierarchy");

    HttpClient client(s.server.port());
    const std::string accept = "Accept-Encoding: gzip\r\n";
    auto two = parse_responses(client.raw(raw_get(s.target(), accept, false) + raw_get(s.target(), accept, true)));
    REQUIRE(two.size() == 2);
    for (const HttpResponse& r : two) {
        CHECK(r.status == 200);
        CHECK(r.body == gz_bytes);
    }
    CHECK(client.last_raw_closed_by_server());

    // Mixed: gzip, plain, 304 and gzip again, sent at once, answered in that order. (HEAD is
    // left out: these bytes alone cannot tell a HEAD answer's missing body from the next one.)
    const std::string etag = two[0].header("etag");
    auto four = parse_responses(client.raw(raw_get(s.target(), accept, false) + raw_get(s.target(), "", false) +
                                           raw_get(s.target(), accept + "If-None-Match: " + etag + "\r\n", false) +
                                           raw_get(s.target(), accept, true)));
    REQUIRE(four.size() == 4);
    CHECK(four[0].body == gz_bytes);
    CHECK(four[1].body == plain_bytes);
    CHECK(four[2].status == 304);
    CHECK(four[2].body.empty());
    CHECK(four[3].status == 200);
    CHECK(four[3].body == gz_bytes);
}
