#include "render/png.hpp"

#include "core/error.hpp"

#include <mapnik/image.hpp>
#include <mapnik/image_any.hpp>
#include <mapnik/image_reader.hpp>
#include <mapnik/image_util.hpp>

#include <cstring>
#include <memory>

namespace wangge::render {

namespace {

// Mapnik keeps rgba8 pixels as bytes R, G, B, A in memory order, the same layout as Rgba.
static_assert(sizeof(Rgba) == 4);

} // namespace

RgbaImage decode_png(std::string_view bytes) {
    try {
        std::unique_ptr<mapnik::image_reader> reader(mapnik::get_image_reader(bytes.data(), bytes.size()));
        if (!reader) throw Error(ErrorKind::bad_request, "invalid_image", "not an image Mapnik can read");
        mapnik::image_rgba8 image(static_cast<int>(reader->width()), static_cast<int>(reader->height()));
        reader->read(0, 0, image);
        mapnik::demultiply_alpha(image);
        RgbaImage out;
        out.width = static_cast<int>(image.width());
        out.height = static_cast<int>(image.height());
        out.pixels.resize(image.width() * image.height());
        std::memcpy(out.pixels.data(), image.bytes(), out.pixels.size() * sizeof(Rgba));
        return out;
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(ErrorKind::bad_request, "invalid_image", std::string("cannot decode image: ") + e.what());
    }
}

std::string encode_png(const RgbaImage& image) {
    mapnik::image_rgba8 out(image.width, image.height);
    std::memcpy(out.bytes(), image.pixels.data(), image.pixels.size() * sizeof(Rgba));
    return mapnik::save_to_string(out, "png32");
}

} // namespace wangge::render
