#include "api/open311_format.hpp"

#include <nlohmann/json.hpp>

namespace wangge::api {


XmlWriter::XmlWriter() : m_out("<?xml version=\"1.0\" encoding=\"utf-8\"?>") {}

void XmlWriter::open(std::string_view name) {
    m_out += '<';
    m_out += name;
    m_out += '>';
    m_open.emplace_back(name);
}

void XmlWriter::close() {
    m_out += "</" + m_open.back() + ">";
    m_open.pop_back();
}

void XmlWriter::element(std::string_view name, std::string_view text) {
    open(name);
    m_out += xml_escape(text);
    close();
}

std::string XmlWriter::finish() {
    while (!m_open.empty()) close();
    return std::move(m_out);
}

Response open311_error(const Response& envelope, ErrorShape shape) {
    const nlohmann::json body = nlohmann::json::parse(envelope.body, nullptr, false);
    std::string description = "error";
    if (body.is_object() && body.contains("message") && body["message"].is_string())
        description = body["message"].get<std::string>();
    Response r;
    r.status = envelope.status;
    r.headers = envelope.headers;
    if (shape == ErrorShape::open311_xml) {
        XmlWriter x;
        x.open("errors");
        x.open("error");
        x.element("code", std::to_string(envelope.status));
        x.element("description", description);
        r.body = x.finish();
        r.content_type = "text/xml; charset=utf-8";
    } else {
        r.body = nlohmann::json::array({{{"code", envelope.status}, {"description", description}}})
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return r;
}

} // namespace wangge::api
