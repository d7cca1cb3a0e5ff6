#pragma once
// Golden images: a rendered tile is compared with tests/render/reference/<name>.png within a
// tolerance, so that font hinting or anti-aliasing differences between library builds pass while
// a changed colour, a lost layer or moved labels fail. WANGGE_UPDATE_REFERENCES=1 rewrites the
// references instead (review the new images before committing them).
#include "render/png.hpp"
#include "render_fixture.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace wangge::test {

// A pixel differs when any channel is off by more than this ...
inline constexpr int reference_channel_tolerance = 40;
// ... and an image differs when more than this fraction of its pixels do.
inline constexpr double reference_pixel_tolerance = 0.01;

inline const std::filesystem::path reference_dir = source_dir / "tests" / "render" / "reference";
inline const std::filesystem::path diff_dir = binary_dir / "tests" / "render" / "diff";

inline bool updating_references() {
    const char* v = std::getenv("WANGGE_UPDATE_REFERENCES");
    return v && std::string(v) == "1";
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    REQUIRE(out.good());
}

inline std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct ImageDifference {
    std::size_t differing = 0;
    render::RgbaImage diff; // differing pixels red, the rest a faded copy of the expected image
};

inline ImageDifference compare_images(const render::RgbaImage& expected, const render::RgbaImage& actual) {
    ImageDifference result;
    result.diff = expected;
    for (std::size_t i = 0; i < expected.pixels.size(); ++i) {
        render::Rgba& out = result.diff.pixels[i];
        if (channel_distance(expected.pixels[i], actual.pixels[i]) > reference_channel_tolerance) {
            ++result.differing;
            out = {255, 0, 0, 255};
        } else {
            out = {static_cast<std::uint8_t>(128 + out.r / 2), static_cast<std::uint8_t>(128 + out.g / 2),
                   static_cast<std::uint8_t>(128 + out.b / 2), 255};
        }
    }
    return result;
}

inline void check_reference(const std::string& name, const std::string& png) {
    const std::filesystem::path expected_path = reference_dir / (name + ".png");
    if (updating_references()) {
        write_bytes(expected_path, png);
        WARN("reference rewritten: " << expected_path.string());
        return;
    }
    INFO("reference " << expected_path.string() << " (WANGGE_UPDATE_REFERENCES=1 rewrites it)");
    REQUIRE(std::filesystem::exists(expected_path));
    const render::RgbaImage expected = render::decode_png(read_bytes(expected_path));
    const render::RgbaImage actual = render::decode_png(png);
    REQUIRE(actual.width == expected.width);
    REQUIRE(actual.height == expected.height);
    const ImageDifference d = compare_images(expected, actual);
    const double share = fraction(d.differing, expected);
    if (share >= reference_pixel_tolerance) {
        const std::filesystem::path actual_path = diff_dir / (name + "-actual.png");
        const std::filesystem::path diff_path = diff_dir / (name + "-diff.png");
        write_bytes(actual_path, png);
        write_bytes(diff_path, render::encode_png(d.diff));
        FAIL_CHECK(name << ": " << d.differing << " pixels (" << share * 100 << "%) differ from the reference; "
                        << "actual " << actual_path.string() << ", diff image " << diff_path.string());
    }
}

} // namespace wangge::test
