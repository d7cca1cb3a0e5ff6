// Tiles of the demo district rendered with the styles of the repository: sizes, content at the
// three levels, load colours, Chinese labels, reference images, live data and bad arguments.
#include "reference.hpp"
#include "render_fixture.hpp"

#include "core/error.hpp"
#include "store/copy.hpp"
#include "store/pg_cluster.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>

using namespace wangge;

namespace {

// Colours of styles/default.xml.
constexpr std::uint32_t outside_colour = 0xe6e8eb;
constexpr std::uint32_t street_area_colour = 0xf8f6f1;
constexpr std::uint32_t in_band_colour = 0xcde8c4;
constexpr std::uint32_t below_band_colour = 0xfbe3a0;
constexpr std::uint32_t above_band_colour = 0xf6b3a8;
constexpr std::uint32_t unit_colour = 0xd6d0ee;

tiles::TileId centre_tile(int z) { return tiles::tile_at(test::demo_centre, z); }

std::string name_of(std::string_view style, const tiles::TileId& t, int scale) {
    std::string name = std::string(style) + "-" + std::to_string(t.z) + "-" + std::to_string(t.x) + "-" + std::to_string(t.y);
    return scale == 2 ? name + "@2x" : name;
}

render::RgbaImage render_image(const render::Renderer& r, std::string_view style, const tiles::TileId& t, int scale = 1) {
    return render::decode_png(r.render_png(style, t, scale));
}

std::size_t distinct_colours(const render::RgbaImage& image) {
    std::set<std::uint32_t> colours;
    for (const auto& p : image.pixels)
        colours.insert(static_cast<std::uint32_t>(p.r) << 24 | static_cast<std::uint32_t>(p.g) << 16 |
                       static_cast<std::uint32_t>(p.b) << 8 | p.a);
    return colours.size();
}

template <typename F>
void require_error(F&& f, ErrorKind kind, const std::string& code) {
    try {
        f();
        FAIL("no error thrown, expected " << code);
    } catch (const Error& e) {
        CHECK(e.kind() == kind);
        CHECK(e.code() == code);
    }
}

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

} // namespace

TEST_CASE("render: the styles of the repository load", "[render]") {
    const auto& r = *test::RenderFixture::get().renderer();
    CHECK(r.styles() == std::vector<std::string>{"dark", "default"});
    CHECK(r.has_style("default"));
    CHECK_FALSE(r.has_style("nope"));
}

TEST_CASE("render: tiles at the three levels decode, are full size and not blank", "[render]") {
    const auto& r = *test::RenderFixture::get().renderer();
    for (int z : {12, 14, 16}) {
        const tiles::TileId t = centre_tile(z);
        INFO("tile " << tiles::to_string(t));
        const std::string png = r.render_png("default", t, 1);
        REQUIRE(png.substr(1, 3) == "PNG");
        const render::RgbaImage image = render::decode_png(png);
        CHECK(image.width == 256);
        CHECK(image.height == 256);
        // Drawn: most pixels are neither the empty background nor bare street area, and the
        // tile has lines, fills and labels of many shades.
        const std::size_t plain = test::count_colour(image, outside_colour, 0) + test::count_colour(image, street_area_colour, 0);
        CHECK(test::fraction(image.pixels.size() - plain, image) > (z == 12 ? 0.01 : 0.3));
        CHECK(distinct_colours(image) >= 8);
    }
}

TEST_CASE("render: grids are filled by load at street zooms", "[render]") {
    const auto& r = *test::RenderFixture::get().renderer();
    const render::RgbaImage z14 = render_image(r, "default", centre_tile(14));
    // The demo district's residential grids are all in the band.
    CHECK(test::fraction(test::count_colour(z14, in_band_colour), z14) > 0.25);
    CHECK(test::count_colour(z14, below_band_colour) == 0);
    // District zooms draw no grid fills; community zooms tint them only faintly.
    const render::RgbaImage z12 = render_image(r, "default", centre_tile(12));
    CHECK(test::count_colour(z12, in_band_colour) == 0);
    const render::RgbaImage z16 = render_image(r, "default", centre_tile(16));
    CHECK(test::count_colour(z16, in_band_colour) == 0);
}

TEST_CASE("render: the load colours follow the configured band", "[render]") {
    render::RendererOptions options{test::RenderFixture::get().database(), test::styles_dir, {}, {}};
    // A band every demo grid is above: no grid is in band, and the above colour fills them.
    options.band_min = 1;
    options.band_max = 2;
    const render::Renderer above(options);
    const render::RgbaImage z14 = render_image(above, "default", centre_tile(14));
    CHECK(test::count_colour(z14, in_band_colour) == 0);
    CHECK(test::fraction(test::count_colour(z14, above_band_colour), z14) > 0.25);
    // A band every grid is below.
    options.band_min = 100000;
    options.band_max = 200000;
    const render::RgbaImage below = render_image(render::Renderer(options), "default", centre_tile(14));
    CHECK(test::fraction(test::count_colour(below, below_band_colour), below) > 0.25);
    options.band_min = 600;
    options.band_max = 500;
    require_error([&] { render::Renderer bad(options); }, ErrorKind::bad_request, "invalid_band");
}

TEST_CASE("render: unit grids have a colour of their own", "[render]") {
    const auto& r = *test::RenderFixture::get().renderer();
    // The demo's schools and hospitals are unit grids: render every z14 tile of the district.
    const tiles::TileId north_west = tiles::tile_at({118.800, 31.985}, 14);
    const tiles::TileId south_east = tiles::tile_at({118.832, 31.950}, 14);
    std::size_t unit_pixels = 0;
    for (std::uint32_t x = north_west.x; x <= south_east.x; ++x)
        for (std::uint32_t y = north_west.y; y <= south_east.y; ++y)
            unit_pixels += test::count_colour(render_image(r, "default", {14, x, y}), unit_colour);
    CHECK(unit_pixels > 100);
}

TEST_CASE("render: @2x tiles are 512 pixels and cover the same ground", "[render]") {
    const auto& r = *test::RenderFixture::get().renderer();
    const tiles::TileId t = centre_tile(14);
    const render::RgbaImage one = render_image(r, "default", t, 1);
    const render::RgbaImage two = render_image(r, "default", t, 2);
    CHECK(two.width == 512);
    CHECK(two.height == 512);
    // Same rules selected (scale denominators are corrected by the scale factor): the load fill
    // covers about the same share of both.
    const double f1 = test::fraction(test::count_colour(one, in_band_colour), one);
    const double f2 = test::fraction(test::count_colour(two, in_band_colour), two);
    CHECK(f2 == Approx(f1).margin(0.08));
}

TEST_CASE("render: tiles match the reference images", "[render][reference]") {
    const auto& r = *test::RenderFixture::get().renderer();
    struct Case {
        const char* style;
        int z;
        int scale;
    };
    for (const Case& c : {Case{"default", 12, 1}, Case{"default", 14, 1}, Case{"default", 16, 1},
                          Case{"default", 15, 2}, Case{"dark", 14, 1}}) {
        const tiles::TileId t = centre_tile(c.z);
        test::check_reference(name_of(c.style, t, c.scale), r.render_png(c.style, t, c.scale));
    }
}

TEST_CASE("render: neighbouring tiles agree at their seams, names are whole or absent", "[render][seams]") {
    // A 2 x 2 block rendered as one image (a metatile) has no seams of its own: a name that
    // crosses the middle lines is whole in it. Each of the four tiles rendered alone must show
    // exactly the block's quarter, so a name crossing a tile edge is drawn whole on both sides
    // (issue 11: grid codes cut in half along the top and left edges of z15 tiles). Zooms without
    // road and building names, which Mapnik places away from each tile's own edges.
    const auto& r = *test::RenderFixture::get().renderer();
    for (int z : {12, 13, 14, 15}) {
        for (const tiles::TileId& origin : {centre_tile(z), tiles::TileId{z, centre_tile(z).x - 1, centre_tile(z).y - 1}}) {
            INFO("block of 2 x 2 from " << tiles::to_string(origin));
            const render::RgbaImage block = render::decode_png(r.render_block_png("default", origin, 2, 1));
            REQUIRE(block.width == 2 * render::tile_size);
            std::size_t differing = 0;
            render::RgbaImage diff = block;
            for (std::uint32_t dx = 0; dx < 2; ++dx)
                for (std::uint32_t dy = 0; dy < 2; ++dy) {
                    const render::RgbaImage tile = render_image(r, "default", {z, origin.x + dx, origin.y + dy});
                    for (int y = 0; y < tile.height; ++y)
                        for (int x = 0; x < tile.width; ++x) {
                            const int bx = static_cast<int>(dx) * render::tile_size + x;
                            const int by = static_cast<int>(dy) * render::tile_size + y;
                            if (test::channel_distance(tile.at(x, y), block.at(bx, by)) > test::reference_channel_tolerance) {
                                ++differing;
                                diff.at(bx, by) = {255, 0, 0, 255};
                            }
                        }
                }
            if (differing > 0) {
                const std::string name = "seams-" + std::to_string(origin.z) + "-" + std::to_string(origin.x) + "-" +
                                         std::to_string(origin.y);
                test::write_bytes(test::diff_dir / (name + "-block.png"), r.render_block_png("default", origin, 2, 1));
                test::write_bytes(test::diff_dir / (name + "-diff.png"), render::encode_png(diff));
                FAIL_CHECK(differing << " pixels of the tiles differ from the block; block and differences (red) in "
                                     << (test::diff_dir / (name + "-*.png")).string());
            }
        }
    }
}

TEST_CASE("render: a block is 1 to 16 tiles of its zoom wide", "[render]") {
    const auto& r = *test::RenderFixture::get().renderer();
    require_error([&] { r.render_block_png("default", {2, 3, 0}, 2, 1); }, ErrorKind::bad_request, "invalid_tile");
    require_error([&] { r.render_block_png("default", {14, 0, 0}, 0, 1); }, ErrorKind::bad_request, "invalid_tile");
    require_error([&] { r.render_block_png("nope", {14, 0, 0}, 2, 1); }, ErrorKind::not_found, "unknown_style");
    CHECK(render::decode_png(r.render_block_png("default", centre_tile(14), 3, 2)).width == 3 * 512);
}

TEST_CASE("render: Chinese labels are drawn", "[render]") {
    // The default style once as it is and once without its text: the community names of a
    // district-zoom tile (all Chinese) must account for a visible share of the pixels.
    test::TempDir dir;
    std::filesystem::create_directories(dir / "styles");
    const std::string xml = test::read_bytes(test::styles_dir / "default.xml");
    write_text(dir / "styles" / "labels.xml", xml);
    write_text(dir / "styles" / "nolabels.xml",
               std::regex_replace(xml, std::regex("<TextSymbolizer[^>]*>[^<]*</TextSymbolizer>"), ""));
    render::Renderer r(test::RenderFixture::get().database(), dir / "styles");
    const tiles::TileId t = centre_tile(13);
    const render::RgbaImage with = render_image(r, "labels", t);
    const render::RgbaImage without = render_image(r, "nolabels", t);
    std::size_t differing = 0;
    for (std::size_t i = 0; i < with.pixels.size(); ++i)
        if (test::channel_distance(with.pixels[i], without.pixels[i]) > 40) ++differing;
    CHECK(test::fraction(differing, with) > 0.01);
    // Dark text pixels (glyph strokes, not halos) exist only with labels.
    auto dark = [](const render::RgbaImage& image) {
        std::size_t n = 0;
        for (const auto& p : image.pixels)
            if (p.r < 120 && p.g < 120 && p.b < 160) ++n;
        return n;
    };
    CHECK(dark(with) > dark(without) + 200);
}

TEST_CASE("render: a change of households shows in the next render", "[render]") {
    // The renderer reads the database, not a snapshot: committed changes show at once (the tile
    // cache, keyed by data version, decides when a tile is rendered again).
    test::TempDir dir;
    test::write_demo(dir / "demo.sqlite");
    render::Renderer r(dir / "demo.sqlite", test::styles_dir);
    const tiles::TileId t = centre_tile(14);
    const render::RgbaImage before = render_image(r, "default", t);
    CHECK(test::count_colour(before, below_band_colour) == 0);
    {
        auto db = store::Database::open(dir / "demo.sqlite", store::OpenMode::read_write);
        store::Transaction tx(*db);
        db->exec("UPDATE buildings SET households = households / 4");
        tx.commit();
    }
    const render::RgbaImage after = render_image(r, "default", t);
    CHECK(test::fraction(test::count_colour(after, below_band_colour), after) > 0.25);
    CHECK(test::count_colour(after, in_band_colour) == 0);
}

TEST_CASE("render: bad arguments are refused before rendering", "[render]") {
    const auto& r = *test::RenderFixture::get().renderer();
    require_error([&] { r.render_png("nope", {14, 0, 0}, 1); }, ErrorKind::not_found, "unknown_style");
    require_error([&] { r.render_png("default", {3, 8, 0}, 1); }, ErrorKind::bad_request, "invalid_tile");
    require_error([&] { r.render_png("default", {23, 0, 0}, 1); }, ErrorKind::bad_request, "invalid_tile");
    require_error([&] { r.render_png("default", {3, 0, 0}, 3); }, ErrorKind::bad_request, "invalid_scale");
    require_error([&] { render::png_tile_source(r, "nope", 1); }, ErrorKind::not_found, "unknown_style");
    require_error([&] { render::png_tile_source(r, "default", 0); }, ErrorKind::bad_request, "invalid_scale");
}

TEST_CASE("render: the MBTiles tile source renders as render_png does", "[render]") {
    const auto& r = *test::RenderFixture::get().renderer();
    auto source = render::png_tile_source(r, "default", 2);
    const tiles::TileId t = centre_tile(15);
    CHECK(source(t) == r.render_png("default", t, 2));
    CHECK(render::decode_png(source(t)).width == 512);
}

TEST_CASE("render: construction fails clearly", "[render]") {
    test::TempDir dir;
    const auto& db = test::RenderFixture::get().database();
    require_error([&] { render::Renderer(dir / "missing.sqlite", test::styles_dir); }, ErrorKind::io, "database_missing");
    std::filesystem::create_directories(dir / "empty");
    require_error([&] { render::Renderer(db, dir / "empty"); }, ErrorKind::io, "no_styles");
    require_error([&] { render::Renderer(db, dir / "absent"); }, ErrorKind::io, "no_styles");
    std::filesystem::create_directories(dir / "broken");
    write_text(dir / "broken" / "broken.xml", "<Map srs=\"epsg:3857\"><Layer name=\"x\"><Datasource><Parameter "
                                              "name=\"type\">nosuchplugin</Parameter></Datasource></Layer></Map>");
    try {
        render::Renderer r(db, dir / "broken");
        FAIL("a broken style loaded");
    } catch (const Error& e) {
        CHECK(e.code() == "style_load_failed");
        CHECK_THAT(e.what(), Catch::Contains("broken"));
    }
    std::filesystem::create_directories(dir / "badname");
    write_text(dir / "badname" / "Bad Name.xml", test::read_bytes(test::styles_dir / "default.xml"));
    require_error([&] { render::Renderer(db, dir / "badname"); }, ErrorKind::io, "style_load_failed");
}

TEST_CASE("render: a PostgreSQL copy of the district renders the same pixels as its file", "[render][postgresql]") {
    test::TestPgDatabase pg;
    store::copy_database(test::RenderFixture::get().database().string(), pg.url());
    render::Renderer from_pg(render::RendererOptions{pg.url(), test::styles_dir, {}, {}});
    const render::Renderer& from_file = *test::RenderFixture::get().renderer();
    CHECK(from_pg.styles() == from_file.styles());
    for (const int z : {12, 14, 16, 17})
        for (const std::string style : {"default", "dark"}) {
            const tiles::TileId t = centre_tile(z);
            INFO(name_of(style, t, 1));
            const render::RgbaImage a = render_image(from_file, style, t);
            const render::RgbaImage b = render_image(from_pg, style, t);
            REQUIRE(a.pixels.size() == b.pixels.size());
            CHECK(distinct_colours(b) > 3); // drawn, not blank
            std::size_t differ = 0;
            for (std::size_t i = 0; i < a.pixels.size(); ++i) differ += test::channel_distance(a.pixels[i], b.pixels[i]) > 0;
            CHECK(differ == 0);
        }
}

TEST_CASE("render: styles over a PostgreSQL URL that no server answers fail as unavailable, naming it", "[render][postgresql]") {
    try {
        render::Renderer r(render::RendererOptions{"postgresql://nobody@127.0.0.1:1/none", test::styles_dir, {}, {}});
        FAIL("the styles loaded without a database");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::unavailable);
        CHECK(e.code() == "db_render");
        CHECK(std::string(e.what()).find("port 1") != std::string::npos);
    }
}
