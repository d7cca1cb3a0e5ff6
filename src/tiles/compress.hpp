#pragma once
// gzip for tiles (zlib): vector tiles are stored and sent gzip-compressed, as MBTiles expects
// and as nearly every client accepts; the rare client that does not gets them inflated.
#include <string>
#include <string_view>

namespace wangge::tiles {

// A gzip member (RFC 1952) of `data`; the same input always gives the same bytes.
std::string gzip(std::string_view data);
// Inflates a gzip member; throws Error(internal, "gzip") on corrupt input.
std::string gunzip(std::string_view data);
// True when `data` starts with the gzip magic bytes.
bool is_gzip(std::string_view data) noexcept;

} // namespace wangge::tiles
