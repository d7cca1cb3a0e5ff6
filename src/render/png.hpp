#pragma once
// PNG decoding and encoding through Mapnik's image readers and writers, for code that checks or
// compares rendered tiles (tests, reference images, the exporter) without including Mapnik.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::render {

struct Rgba {
    std::uint8_t r = 0, g = 0, b = 0, a = 0;
    friend bool operator==(const Rgba&, const Rgba&) = default;
};

// Straight (not premultiplied) alpha, rows top to bottom.
struct RgbaImage {
    int width = 0;
    int height = 0;
    std::vector<Rgba> pixels;

    const Rgba& at(int x, int y) const { return pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)]; }
    Rgba& at(int x, int y) { return pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)]; }
};

// Throws Error(bad_request, "invalid_image") when the bytes are not an image Mapnik can read.
RgbaImage decode_png(std::string_view bytes);
// Lossless 32-bit PNG.
std::string encode_png(const RgbaImage& image);

} // namespace wangge::render
