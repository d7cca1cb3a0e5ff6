// TrustedProxies: which peers' X-Forwarded-For is believed, and the walk along it.
#include "core/error.hpp"
#include "http/forwarded.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using wangge::Error;
using wangge::http::TrustedProxies;
namespace ip = boost::asio::ip;

namespace {
ip::address a(const char* text) { return ip::make_address(text); }
} // namespace

TEST_CASE("trusted proxies: addresses and networks of both families", "[http][forwarded]") {
    const TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8", "192.168.7.0/24", "fd00::/8", "::1"});
    CHECK(proxies.contains(a("127.0.0.1")));
    CHECK_FALSE(proxies.contains(a("127.0.0.2")));
    CHECK(proxies.contains(a("10.255.3.4")));
    CHECK_FALSE(proxies.contains(a("11.0.0.1")));
    CHECK(proxies.contains(a("192.168.7.200")));
    CHECK_FALSE(proxies.contains(a("192.168.8.1")));
    CHECK(proxies.contains(a("fd12:3456::1")));
    CHECK_FALSE(proxies.contains(a("fe80::1")));
    CHECK(proxies.contains(a("::1")));
    CHECK(proxies.contains(a("::ffff:10.1.2.3"))); // an IPv4 peer of a server listening on "::"
    CHECK_FALSE(proxies.contains(a("::ffff:8.8.8.8")));
    CHECK(TrustedProxies().empty());
    CHECK_FALSE(proxies.empty());
    CHECK(TrustedProxies({"0.0.0.0/0"}).contains(a("203.0.113.1")));
    // A proxy named in its IPv4-mapped form is the IPv4 proxy, whichever way its peer looks.
    const TrustedProxies mapped({"::ffff:10.9.0.1", "::ffff:172.16.0.0/108"});
    CHECK(mapped.contains(a("10.9.0.1")));
    CHECK(mapped.contains(a("::ffff:10.9.0.1")));
    CHECK(mapped.contains(a("172.31.255.1")));
    CHECK_FALSE(mapped.contains(a("172.32.0.1")));
    CHECK_FALSE(mapped.contains(a("10.9.0.2")));
}

TEST_CASE("trusted proxies: what cannot be read is refused, naming it", "[http][forwarded]") {
    for (const char* bad : {"", "localhost", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "::/129",
                            "10.0.0.0/8/8", "1.2.3.4:80", "10.0.0.0/0008"}) {
        INFO(bad);
        try {
            TrustedProxies proxies({bad});
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.code() == "invalid_option");
            CHECK_THAT(e.what(), Catch::Contains("'" + std::string(bad) + "'"));
        }
    }
}

TEST_CASE("trusted proxies: the client is the right-most address that is not a proxy", "[http][forwarded]") {
    const TrustedProxies proxies({"10.0.0.0/8", "fd00::/8"});
    const auto peer = a("10.0.0.2");
    // An untrusted peer: its header is whatever it wants to say, and it is ignored.
    CHECK(proxies.client_address(a("203.0.113.50"), "198.51.100.1") == "203.0.113.50");
    CHECK(TrustedProxies().client_address(peer, "198.51.100.1") == "10.0.0.2");
    // A trusted one: the address it was reached from, past other proxies of ours.
    CHECK(proxies.client_address(peer, "198.51.100.1") == "198.51.100.1");
    CHECK(proxies.client_address(peer, "198.51.100.1, 203.0.113.9") == "203.0.113.9"); // left of it: the client's claim
    CHECK(proxies.client_address(peer, "198.51.100.1, 203.0.113.9, 10.1.1.1") == "203.0.113.9");
    CHECK(proxies.client_address(peer, " 198.51.100.1 ,\t10.1.1.1 ") == "198.51.100.1");
    CHECK(proxies.client_address(peer, "10.1.1.1, 10.2.2.2") == "10.1.1.1"); // only proxies: the farthest
    CHECK(proxies.client_address(peer, "2001:db8::7") == "2001:db8::7");
    CHECK(proxies.client_address(a("fd00::9"), "198.51.100.1") == "198.51.100.1");
    CHECK(proxies.client_address(a("::ffff:10.0.0.2"), "198.51.100.1") == "198.51.100.1");
    CHECK(proxies.client_address(a("::ffff:203.0.113.5"), "198.51.100.1") == "203.0.113.5");
    // Ports after an address, as some proxies write them.
    CHECK(proxies.client_address(peer, "198.51.100.1:4711") == "198.51.100.1");
    CHECK(proxies.client_address(peer, "[2001:db8::7]:4711") == "2001:db8::7");
    // Garbage ends the walk at the last address believed: never a string of the client's choosing.
    CHECK(proxies.client_address(peer, "unknown") == "10.0.0.2");
    CHECK(proxies.client_address(peer, "198.51.100.1, <script>") == "10.0.0.2");
    CHECK(proxies.client_address(peer, "<script>, 198.51.100.1") == "198.51.100.1");
    CHECK(proxies.client_address(peer, "192.0.2.1, 10.3.3.3, junk junk, 10.4.4.4") == "10.4.4.4");
    CHECK(proxies.client_address(peer, "") == "10.0.0.2");
    CHECK(proxies.client_address(peer, ",,") == "10.0.0.2");
    CHECK(proxies.client_address(peer, "[2001:db8::7") == "10.0.0.2");
    CHECK(proxies.client_address(peer, std::string(200, '1')) == "10.0.0.2");
}
