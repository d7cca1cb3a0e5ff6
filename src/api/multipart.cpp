#include "api/multipart.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

namespace wangge::api {

namespace {

Error invalid(const std::string& why) {
    return Error(ErrorKind::bad_request, "invalid_multipart", "the multipart/form-data body " + why);
}

// The value of parameter `name` in a header value's ";"-separated parameters ("" when absent);
// quoted strings unquoted, with their backslash escapes.
std::string parameter(std::string_view value, std::string_view name) {
    std::size_t at = value.find(';');
    while (at != std::string_view::npos && at < value.size()) {
        ++at;
        while (at < value.size() && (value[at] == ' ' || value[at] == '\t')) ++at;
        const auto eq = value.find('=', at);
        if (eq == std::string_view::npos) return {};
        const std::string key = to_lower(trim(value.substr(at, eq - at)));
        std::size_t i = eq + 1;
        std::string v;
        if (i < value.size() && value[i] == '"') {
            for (++i; i < value.size() && value[i] != '"'; ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) ++i;
                v.push_back(value[i]);
            }
            if (i >= value.size()) throw invalid("has an unterminated quoted parameter");
            ++i;
            at = value.find(';', i);
        } else {
            const auto semi = value.find(';', i);
            v = std::string(trim(value.substr(i, semi == std::string_view::npos ? std::string_view::npos : semi - i)));
            at = semi;
        }
        if (key == name) return v;
    }
    return {};
}

} // namespace

std::vector<FormPart> parse_multipart(std::string_view content_type, std::string_view body, std::size_t max_parts) {
    const std::string boundary = parameter(content_type, "boundary");
    if (boundary.empty() || boundary.size() > 70) throw invalid("has no boundary of 1 to 70 characters in its Content-Type");
    const std::string delimiter = "--" + boundary;
    std::vector<FormPart> parts;
    // The first delimiter may follow a preamble; every later one follows a CRLF.
    std::size_t at;
    if (body.starts_with(delimiter)) at = delimiter.size();
    else {
        const auto first = body.find("\r\n" + delimiter);
        if (first == std::string_view::npos) throw invalid("has no part");
        at = first + 2 + delimiter.size();
    }
    const std::string next = "\r\n" + delimiter;
    while (true) {
        if (body.substr(at, 2) == "--") return parts; // the close delimiter; an epilogue may follow
        // Transport padding, then the line break that ends the delimiter line.
        while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
        if (body.substr(at, 2) != "\r\n") throw invalid("has a boundary line that does not end in CRLF");
        at += 2;
        const auto headers_end = body.find("\r\n\r\n", at - 2);
        if (headers_end == std::string_view::npos) throw invalid("has a part without the blank line after its headers");
        FormPart part;
        bool form_data = false;
        std::string_view headers = body.substr(at, headers_end < at ? 0 : headers_end - at);
        while (!headers.empty()) {
            const auto eol = headers.find("\r\n");
            const std::string_view line = headers.substr(0, eol);
            headers.remove_prefix(eol == std::string_view::npos ? headers.size() : eol + 2);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) throw invalid("has a part header without a colon");
            const std::string field = to_lower(trim(line.substr(0, colon)));
            const std::string_view value = trim(line.substr(colon + 1));
            if (field == "content-disposition") {
                form_data = to_lower(trim(value.substr(0, value.find(';')))) == "form-data";
                part.name = parameter(value, "name");
                part.filename = parameter(value, "filename");
            } else if (field == "content-type") {
                part.content_type = std::string(value);
            }
        }
        if (!form_data || part.name.empty()) throw invalid("has a part without Content-Disposition: form-data; name=...");
        const std::size_t content = headers_end + 4;
        const auto end = body.find(next, content);
        if (end == std::string_view::npos) throw invalid("ends inside a part (no closing boundary)");
        part.body = body.substr(content, end - content);
        if (parts.size() == max_parts) throw invalid("has more than " + std::to_string(max_parts) + " parts");
        parts.push_back(std::move(part));
        at = end + next.size();
    }
}

} // namespace wangge::api
