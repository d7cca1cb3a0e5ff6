#include "tiles/compress.hpp"

#include "core/error.hpp"

#include <zlib.h>

#include <memory>

namespace wangge::tiles {

namespace detail {

[[noreturn]] void zlib_fail(const char* what, const z_stream& z) {
    throw Error(ErrorKind::internal, "gzip", std::string(what) + ": " + (z.msg ? z.msg : "zlib error"));
}

struct DeflateEnd {
    void operator()(z_stream* z) const noexcept { deflateEnd(z); }
};
struct InflateEnd {
    void operator()(z_stream* z) const noexcept { inflateEnd(z); }
};

// zlib's API takes non-const input pointers but does not write through them.
Bytef* input(std::string_view data) {
    return reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
}

} // namespace detail

std::string gzip(std::string_view data) {
    z_stream z{};
    // windowBits 15 + 16: a gzip header and trailer instead of zlib's. The header's mtime stays
    // 0, so equal tiles compress to equal bytes (and keep their ETag).
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        detail::zlib_fail("deflateInit2", z);
    std::unique_ptr<z_stream, detail::DeflateEnd> guard(&z);
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
    z.next_in = detail::input(data);
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) detail::zlib_fail("deflate", z);
    out.resize(z.total_out);
    return out;
}

std::string gunzip(std::string_view data) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) detail::zlib_fail("inflateInit2", z);
    std::unique_ptr<z_stream, detail::InflateEnd> guard(&z);
    z.next_in = detail::input(data);
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buf[64 * 1024];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) detail::zlib_fail("inflate", z);
        out.append(buf, sizeof buf - z.avail_out);
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) detail::zlib_fail("inflate: truncated input", z);
    }
    return out;
}

bool is_gzip(std::string_view data) noexcept {
    return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
           static_cast<unsigned char>(data[1]) == 0x8b;
}

} // namespace wangge::tiles
