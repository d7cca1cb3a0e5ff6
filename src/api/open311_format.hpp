#pragma once
// The two shapes Open311 GeoReport v2 answers in (docs/OPEN311.md): JSON arrays and XML
// documents. A small XML writer (elements and escaped text, nothing else: no attributes,
// namespaces or mixed content, which the spec does not use), and the Open311 error list that
// replaces Wangge's JSON envelope on /open311/v2 routes.
#include "api/message.hpp"
#include "core/text.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace wangge::api {

class XmlWriter {
public:
    XmlWriter(); // starts the document with its declaration

    void open(std::string_view name);
    void close();
    // <name>text</name>, the text escaped; an empty text gives <name></name>.
    void element(std::string_view name, std::string_view text);
    // The document, every element closed.
    std::string finish();

private:
    std::string m_out;
    std::vector<std::string> m_open;
};



// `envelope` (a Wangge error response: {"code", "message"}) as an Open311 error list with the
// same status and headers: [{"code": 404, "description": "..."}] or
// <errors><error><code>404</code><description>...</description></error></errors>.
Response open311_error(const Response& envelope, ErrorShape shape);

} // namespace wangge::api
