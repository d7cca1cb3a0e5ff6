#include "http/forwarded.hpp"

#include "core/error.hpp"

#include <optional>

namespace wangge::http {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<ip::address> parse_address(std::string_view text) {
    boost::system::error_code ec;
    const auto a = ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return a;
}

// An X-Forwarded-For entry: an address, perhaps with a port ("1.2.3.4:80", "[::1]:80").
std::optional<ip::address> parse_entry(std::string_view entry) {
    entry = trim(entry);
    if (entry.empty() || entry.size() > 64) return std::nullopt;
    if (entry.front() == '[') {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const auto rest = entry.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return std::nullopt;
        return parse_address(entry.substr(1, close - 1));
    }
    if (auto a = parse_address(entry)) return a;
    const auto colon = entry.find(':');
    if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
        if (auto a = parse_address(entry.substr(0, colon)); a && a->is_v4()) return a;
    }
    return std::nullopt;
}

ip::address unmapped(const ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
    return a;
}

} // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& specs) {
    for (const auto& spec : specs) {
        boost::system::error_code ec;
        const auto slash = spec.find('/');
        const std::string host = spec.substr(0, slash);
        const auto address = ip::make_address(host, ec);
        int prefix = -1;
        if (!ec && slash != std::string::npos) {
            const std::string bits = spec.substr(slash + 1);
            const int limit = address.is_v4() ? 32 : 128;
            prefix = bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos
                         ? -2
                         : std::stoi(bits);
            if (prefix < 0 || prefix > limit) ec = make_error_code(boost::system::errc::invalid_argument);
        }
        if (ec)
            throw Error(ErrorKind::bad_request, "invalid_option",
                        "trusted proxy '" + spec + "' is neither an IP address nor a network such as 10.0.0.0/8");
        if (address.is_v4()) {
            m_v4.push_back(ip::make_network_v4(address.to_v4(), static_cast<unsigned short>(prefix < 0 ? 32 : prefix)));
        } else if (address.to_v6().is_v4_mapped() && (prefix < 0 || prefix >= 96)) {
            // "::ffff:10.0.0.1" is how an IPv4 peer looks to a server on "::": matched as IPv4.
            m_v4.push_back(ip::make_network_v4(ip::make_address_v4(ip::v4_mapped, address.to_v6()),
                                               static_cast<unsigned short>(prefix < 0 ? 32 : prefix - 96)));
        } else {
            m_v6.push_back(ip::make_network_v6(address.to_v6(), static_cast<unsigned short>(prefix < 0 ? 128 : prefix)));
        }
    }
}

bool TrustedProxies::contains(const ip::address& address) const {
    const auto a = unmapped(address);
    if (a.is_v4()) {
        const auto v4 = a.to_v4();
        for (const auto& n : m_v4) {
            const auto host = ip::make_network_v4(v4, n.prefix_length());
            if (host.network() == n.network()) return true;
        }
        return false;
    }
    const auto v6 = a.to_v6();
    for (const auto& n : m_v6) {
        const auto host = ip::make_network_v6(v6, n.prefix_length());
        if (host.network() == n.network()) return true;
    }
    return false;
}

std::string TrustedProxies::client_address(const ip::address& peer, std::string_view forwarded_for) const {
    ip::address client = unmapped(peer);
    std::string_view rest = forwarded_for;
    while (contains(client) && !trim(rest).empty()) {
        const auto comma = rest.rfind(',');
        const std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
        const auto next = parse_entry(entry);
        if (!next) break;
        client = unmapped(*next);
    }
    return client.to_string();
}

} // namespace wangge::http
