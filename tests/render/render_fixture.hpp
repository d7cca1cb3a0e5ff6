#pragma once
// The demo district of `wangge demo` (60,000 households, the default seed) written to SpatiaLite
// the way the CLI writes it, the styles of the repository over it, and pixel helpers for the
// rendering tests.
#include "demo/generator.hpp"
#include "demo/store_district.hpp"
#include "grid/assign.hpp"
#include "render/png.hpp"
#include "render/renderer.hpp"
#include "store/database.hpp"
#include "support/temp_dir.hpp"
#include "support/test_config.hpp"

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace wangge::test {

inline void write_demo(const std::filesystem::path& path) {
    demo::DemoDistrict d = demo::generate_demo(demo::DemoOptions{});
    auto db = store::Database::open(path, store::OpenMode::create);
    demo::store_district(*db, d);
}

inline const std::filesystem::path styles_dir = source_dir / "styles";

// The default demo district is 118.800-118.832 E, 31.950-31.985 N; this point is inside a
// residential grid near its middle.
inline constexpr LonLat demo_centre{118.812, 31.962};

// One district and one renderer per test process: generating and loading take a second.
class RenderFixture {
public:
    static RenderFixture& get() {
        static RenderFixture fixture;
        return fixture;
    }
    const std::filesystem::path& database() const noexcept { return m_database; }
    const std::shared_ptr<render::Renderer>& renderer() const noexcept { return m_renderer; }

private:
    RenderFixture() : m_database(m_dir / "demo.sqlite") {
        write_demo(m_database);
        m_renderer = std::make_shared<render::Renderer>(m_database, styles_dir);
    }
    TempDir m_dir;
    std::filesystem::path m_database;
    std::shared_ptr<render::Renderer> m_renderer;
};

inline int channel_distance(const render::Rgba& a, const render::Rgba& b) {
    auto d = [](std::uint8_t x, std::uint8_t y) { return x > y ? x - y : y - x; };
    int m = d(a.r, b.r);
    m = std::max(m, d(a.g, b.g));
    m = std::max(m, d(a.b, b.b));
    return std::max(m, d(a.a, b.a));
}

// Pixels within `tolerance` (in every channel) of an opaque colour given as 0xRRGGBB.
inline std::size_t count_colour(const render::RgbaImage& image, std::uint32_t rgb, int tolerance = 4) {
    const render::Rgba colour{static_cast<std::uint8_t>(rgb >> 16), static_cast<std::uint8_t>(rgb >> 8),
                              static_cast<std::uint8_t>(rgb), 255};
    std::size_t n = 0;
    for (const auto& p : image.pixels)
        if (channel_distance(p, colour) <= tolerance) ++n;
    return n;
}

inline double fraction(std::size_t pixels, const render::RgbaImage& image) {
    return static_cast<double>(pixels) / static_cast<double>(image.pixels.size());
}

} // namespace wangge::test
