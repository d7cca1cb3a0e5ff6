// multipart/form-data bodies (src/api/multipart.hpp): reports and workflow steps with photos,
// Open311 requests with media. The input is a Content-Type line, a newline, then the body (no
// newline: a fixed boundary). Checked: only wangge::Error leaves the parser, never more parts
// than allowed, and every part's body is a view inside the request body.
#include "api/multipart.hpp"
#include "core/error.hpp"
#include "fuzz_support.hpp"

#include <functional>
#include <string_view>

using namespace wangge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string_view content_type = "multipart/form-data; boundary=wangge-fuzz";
    std::string_view body = input;
    if (const auto nl = input.find('\n'); nl != std::string_view::npos && nl < 200) {
        content_type = input.substr(0, nl);
        body = input.substr(nl + 1);
    }
    // A copy of its own, so that ASan sees a part that points outside the body.
    const std::string owned(body);
    constexpr std::size_t max_parts = 12;
    try {
        const auto parts = api::parse_multipart(content_type, owned, max_parts);
        if (parts.size() > max_parts) fuzz::fail("parse_multipart gave more parts than allowed");
        const std::less<const char*> before;
        for (const auto& part : parts) {
            if (part.body.empty()) continue;
            if (before(part.body.data(), owned.data()) || before(owned.data() + owned.size(), part.body.data() + part.body.size()))
                fuzz::fail("a part's body lies outside the request body", part.name);
        }
    } catch (const Error&) {
    }
    return 0;
}
