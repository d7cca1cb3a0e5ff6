#pragma once
// Who the client is behind a reverse proxy: the proxies whose X-Forwarded-For is believed
// (serve --trusted-proxy) and the walk along that header (docs/OPERATIONS.md, "Behind a reverse
// proxy"). Without trusted proxies the client is the TCP peer and the header is ignored, so that
// no client can name an address of its choosing to the sign-in limits or the audit log.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace wangge::http {

class TrustedProxies {
public:
    TrustedProxies() = default;
    // Addresses and networks: "127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8". Throws
    // Error(bad_request, "invalid_option") naming the first that is neither.
    explicit TrustedProxies(const std::vector<std::string>& specs);

    bool empty() const noexcept { return m_v4.empty() && m_v6.empty(); }
    // An IPv4 address mapped into IPv6 (a peer of a server listening on "::") counts as IPv4.
    bool contains(const boost::asio::ip::address& address) const;

    // The client's address: the peer's, unless the peer is a trusted proxy; then the right-most
    // entry of X-Forwarded-For (every field of that name, in order, joined by commas) that is not
    // a trusted proxy, as each proxy appends the address it was reached from. The walk stops at an
    // entry that is not an IP address (a port after it is allowed: "203.0.113.7:4711",
    // "[2001:db8::1]:4711") and the last address believed is the answer: the proxy's, when
    // the first entry read is garbage.
    std::string client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for) const;

private:
    std::vector<boost::asio::ip::network_v4> m_v4;
    std::vector<boost::asio::ip::network_v6> m_v6;
};

} // namespace wangge::http
