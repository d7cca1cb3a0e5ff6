// URL, path and query parsing (src/api/message.hpp, src/api/route.hpp): every request's target
// goes through make_request, which decodes it and parses its route, before anything else looks
// at it. The first byte picks the method; the rest is the target, and also the text given to
// the other parsers a request meets (a form, a public URL, a Host, an X-Request-Id). Checked:
// only wangge::Error leaves them, a decoded path is valid UTF-8, the target logged never keeps
// a credential (api_key, receipt) that the request carries, request ids are always usable.
#include "api/message.hpp"
#include "core/error.hpp"
#include "core/utf8.hpp"
#include "fuzz_support.hpp"

#include <array>
#include <cctype>
#include <string>
#include <string_view>

using namespace wangge;

namespace {

constexpr std::array<const char*, 8> methods{"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "BREW"};

bool usable_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (const char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-')) return false;
    return true;
}

// The target as logged, read back as the server reads a target: no api_key or receipt in it may
// still hold a value of the original request.
void check_logged(const api::Request& req) {
    const std::string logged = api::loggable_target(req.target);
    api::Request back;
    try {
        back = api::make_request(req.method, logged);
    } catch (const Error&) {
        return; // the masking made it unreadable: nothing of it is taken as a credential either
    }
    for (const auto& [name, value] : back.query)
        if ((name == "api_key" || name == "receipt") && value != "***" && !value.empty())
            for (const auto& [sent_name, sent_value] : req.query)
                if (sent_name == name && sent_value == value)
                    fuzz::fail("loggable_target kept a credential", req.target + " -> " + logged);
}

void parse_target(const std::string& method, std::string_view target) {
    try {
        const api::Request req = api::make_request(method, target);
        if (!is_valid_utf8(req.path)) fuzz::fail("make_request decoded a path that is not UTF-8", req.target);
        for (const auto& [k, v] : req.query)
            if (!is_valid_utf8(k) || !is_valid_utf8(v)) fuzz::fail("make_request decoded a query that is not UTF-8", req.target);
        (void)req.route.allows(method);
        check_logged(req);
    } catch (const Error&) {
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fuzz::Input in(data, size);
    const std::string method = methods[in.choice % methods.size()];
    parse_target(method, in.rest);

    for (const bool plus_is_space : {true, false}) {
        try {
            (void)api::percent_decode(in.rest, plus_is_space);
        } catch (const Error&) {
        }
    }
    (void)api::loggable_target(in.rest);
    try {
        for (const auto& [k, v] : api::parse_form(in.rest, "body"))
            if (!is_valid_utf8(k) || !is_valid_utf8(v)) fuzz::fail("parse_form decoded text that is not UTF-8", in.rest);
    } catch (const Error&) {
    }
    try {
        const std::string origin = api::public_origin_of(in.rest);
        if (origin.ends_with('/') || !(origin.starts_with("http://") || origin.starts_with("https://")))
            fuzz::fail("public_origin_of accepted", origin);
    } catch (const Error&) {
    }
    const std::string id = api::request_id_for(in.rest);
    if (!usable_id(id)) fuzz::fail("request_id_for gave an unusable id", id);

    api::Request with_host;
    with_host.headers.emplace_back("host", std::string(in.rest));
    if (in.choice & 0x80) with_host.headers.emplace_back("x-forwarded-proto", "https");
    const std::string origin = api::request_origin(with_host);
    if (!origin.empty() && !(origin.starts_with("http://") || origin.starts_with("https://")))
        fuzz::fail("request_origin gave", origin);
    return 0;
}
