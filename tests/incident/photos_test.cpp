// Photos of cases: real JPEG, PNG and WebP files (written by GDAL) with location metadata added
// the way phones add it; prepare_photo must take out exactly that, leave the picture decoding to
// the same pixels, refuse what is not a whole image, and store files under their hash.
#include "core/error.hpp"
#include "incident/photos.hpp"
#include "store/photo_files.hpp"
#include "support/images.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <cpl_vsi.h>
#include <gdal_priv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using namespace wangge;

namespace {

// A 16 x 16 RGB picture in `driver`'s format.
std::string encode(const char* driver, const char* ext) { return test::encode_image(driver, ext); }

// The pixels of the first band, as GDAL decodes `bytes`; empty when it cannot.
std::vector<GByte> decode(const std::string& bytes, const char* ext) {
    const std::string path = std::string("/vsimem/photo_decode.") + ext;
    VSILFILE* f = VSIFileFromMemBuffer(path.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(bytes.data())),
                                       bytes.size(), FALSE);
    VSIFCloseL(f);
    std::vector<GByte> pixels;
    {
        std::unique_ptr<GDALDataset> ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER));
        if (ds && ds->GetRasterXSize() == 16 && ds->GetRasterYSize() == 16) {
            pixels.resize(256);
            if (ds->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, 16, 16, pixels.data(), 16, 16, GDT_Byte, 0, 0) != CE_None)
                pixels.clear();
        }
    }
    VSIUnlink(path.c_str());
    return pixels;
}

void le16(std::string& s, std::uint32_t v) {
    s.push_back(static_cast<char>(v & 0xFF));
    s.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void le32(std::string& s, std::uint32_t v) {
    le16(s, v & 0xFFFF);
    le16(s, v >> 16);
}
void be32(std::string& s, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// The rational numbers of the position: 32° 3' 12345.678" N, 118° 47' 7654.321" E, recognisable bytes.
const std::vector<std::uint32_t> latitude{32, 1, 3, 1, 12345678, 1000};
const std::vector<std::uint32_t> longitude{118, 1, 47, 1, 7654321, 1000};

std::string rationals(const std::vector<std::uint32_t>& v) {
    std::string s;
    for (std::uint32_t x : v) le32(s, x);
    return s;
}

// Exif data as a phone writes it: IFD0 with Orientation = 6 and a GPS IFD with the position.
std::string exif_with_gps() {
    std::string t = "II*";
    t.push_back('\0');
    le32(t, 8);
    // IFD0 at 8: two entries, then the next-IFD offset.
    le16(t, 2);
    le16(t, 0x0112), le16(t, 3), le32(t, 1), le16(t, 6), le16(t, 0); // Orientation SHORT 6
    const std::uint32_t gps = 8 + 2 + 2 * 12 + 4;                         // 38
    le16(t, 0x8825), le16(t, 4), le32(t, 1), le32(t, gps);              // GPSInfo LONG
    le32(t, 0);
    // GPS IFD: LatitudeRef "N", Latitude, LongitudeRef "E", Longitude.
    const std::uint32_t data = gps + 2 + 4 * 12 + 4;
    le16(t, 4);
    le16(t, 0x0001), le16(t, 2), le32(t, 2), t.append("N\0\0\0", 4);
    le16(t, 0x0002), le16(t, 5), le32(t, 3), le32(t, data);
    le16(t, 0x0003), le16(t, 2), le32(t, 2), t.append("E\0\0\0", 4);
    le16(t, 0x0004), le16(t, 5), le32(t, 3), le32(t, data + 24);
    le32(t, 0);
    t += rationals(latitude) + rationals(longitude);
    return t;
}

std::string app1(const std::string& id, const std::string& payload) {
    const std::size_t length = 2 + id.size() + payload.size();
    std::string s = "\xFF\xE1";
    s.push_back(static_cast<char>(length >> 8));
    s.push_back(static_cast<char>(length & 0xFF));
    return s + id + payload;
}

const std::string exif_id("Exif\0\0", 6);
const std::string xmp_id("http://ns.adobe.com/xap/1.0/\0", 29);
const std::string xmp_packet = "<x:xmpmeta><rdf:Description exif:GPSLatitude=\"32,3.2N\"/></x:xmpmeta>";

std::string png_chunk(const std::string& type, const std::string& data) {
    std::string s;
    be32(s, static_cast<std::uint32_t>(data.size()));
    s += type + data;
    const std::string covered = type + data;
    std::uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : covered) { // the CRC of PNG (ISO 3309), computed here independently of zlib
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    be32(s, crc ^ 0xFFFFFFFFu);
    return s;
}

incident::Photo prepare(const std::string& bytes, bool keep = false) {
    incident::PhotoLimits limits;
    limits.keep_location = keep;
    return incident::prepare_photo(bytes, 1, limits);
}

std::string error_code_of(const std::string& bytes) {
    try {
        prepare(bytes);
    } catch (const Error& e) {
        return e.code();
    }
    return "";
}

} // namespace

TEST_CASE("photos: a JPEG loses its GPS block and XMP, keeps its orientation and its pixels", "[photos][incident]") {
    const std::string plain = encode("JPEG", "jpg");
    REQUIRE(plain.substr(0, 2) == "\xFF\xD8");
    const std::string phone = plain.substr(0, 2) + app1(exif_id, exif_with_gps()) + app1(xmp_id, xmp_packet) + plain.substr(2);
    REQUIRE(phone.find(rationals(latitude)) != std::string::npos);

    const incident::Photo p = prepare(phone);
    CHECK(p.media_type == "image/jpeg");
    CHECK(p.location_removed);
    CHECK(p.bytes.find(rationals(latitude)) == std::string::npos);
    CHECK(p.bytes.find(rationals(longitude)) == std::string::npos);
    CHECK(p.bytes.find("GPSLatitude") == std::string::npos);
    CHECK(p.bytes.find(exif_id) != std::string::npos); // the Exif block stays, without its position
    std::string orientation;
    le16(orientation, 0x0112), le16(orientation, 3), le32(orientation, 1), le16(orientation, 6);
    CHECK(p.bytes.find(orientation) != std::string::npos);
    CHECK(p.bytes.size() == phone.size() - app1(xmp_id, xmp_packet).size()); // GPS blanked in place
    const auto pixels = decode(p.bytes, "jpg");
    REQUIRE(pixels.size() == 256);
    CHECK(pixels == decode(plain, "jpg"));
    CHECK(incident::is_photo_hash(p.hash));
    CHECK(prepare(phone).hash == p.hash);

    // Configured to keep it: byte for byte as uploaded.
    const incident::Photo kept = prepare(phone, true);
    CHECK(kept.bytes == phone);
    CHECK_FALSE(kept.location_removed);
    // A JPEG without location metadata is stored as it came.
    const incident::Photo clean = prepare(plain);
    CHECK(clean.bytes == plain);
    CHECK_FALSE(clean.location_removed);
}

TEST_CASE("photos: PNG eXIf and XMP chunks and WebP EXIF and XMP chunks are removed", "[photos][incident]") {
    const std::string png = encode("PNG", "png");
    const std::size_t after_header = 8 + 12 + 13;
    const std::string comment = png_chunk("tEXt", std::string("Comment\0broken lamp", 19));
    const std::string located = png.substr(0, after_header) + png_chunk("eXIf", exif_with_gps()) +
                                png_chunk("iTXt", std::string("XML:com.adobe.xmp\0\0\0\0\0", 22) + xmp_packet) +
                                comment + png.substr(after_header);
    const incident::Photo p = prepare(located);
    CHECK(p.media_type == "image/png");
    CHECK(p.location_removed);
    CHECK(p.bytes == png.substr(0, after_header) + comment + png.substr(after_header));
    CHECK(decode(p.bytes, "png") == decode(png, "png"));

    const std::string webp = encode("WEBP", "webp");
    REQUIRE(webp.substr(12, 4) == "VP8 ");
    // The extended form phones write: VP8X (flags: Exif 0x08, XMP 0x04), the image, EXIF, XMP.
    std::string vp8x = "VP8X";
    le32(vp8x, 10);
    vp8x.push_back(static_cast<char>(0x0C));
    vp8x.append(3, '\0');
    vp8x.append("\x0F\x00\x00\x0F\x00\x00", 6); // canvas 16 x 16, stored minus one
    std::string exif = "EXIF";
    const std::string tiff = exif_with_gps();
    le32(exif, static_cast<std::uint32_t>(tiff.size()));
    exif += tiff;
    if (tiff.size() % 2) exif.push_back('\0');
    std::string xmp = "XMP ";
    le32(xmp, static_cast<std::uint32_t>(xmp_packet.size()));
    xmp += xmp_packet;
    if (xmp_packet.size() % 2) xmp.push_back('\0');
    const std::string chunks = vp8x + webp.substr(12) + exif + xmp;
    std::string extended = "RIFF";
    le32(extended, static_cast<std::uint32_t>(4 + chunks.size()));
    extended += "WEBP" + chunks;
    REQUIRE(decode(extended, "webp").size() == 256);

    const incident::Photo w = prepare(extended);
    CHECK(w.media_type == "image/webp");
    CHECK(w.location_removed);
    CHECK(w.bytes.find(rationals(latitude)) == std::string::npos);
    CHECK(w.bytes.find("GPSLatitude") == std::string::npos);
    CHECK(w.bytes.size() == extended.size() - exif.size() - xmp.size());
    CHECK((static_cast<unsigned char>(w.bytes[20]) & 0x0C) == 0); // the flags no longer announce them
    std::uint32_t riff = 0;
    for (int i = 3; i >= 0; --i) riff = (riff << 8) | static_cast<unsigned char>(w.bytes[4 + static_cast<std::size_t>(i)]);
    CHECK(riff == w.bytes.size() - 8);
    CHECK(decode(w.bytes, "webp") == decode(webp, "webp"));
}

TEST_CASE("photos: what is not a whole image is refused, and so is a photo over the size limit", "[photos][incident]") {
    const std::string jpeg = encode("JPEG", "jpg");
    const std::string png = encode("PNG", "png");
    CHECK(error_code_of("just some text, not a photo") == "not_an_image");
    CHECK(error_code_of(std::string("GIF89a\x10\x00\x10\x00", 10)) == "not_an_image");
    CHECK(error_code_of("") == "not_an_image");
    CHECK(error_code_of(jpeg.substr(0, jpeg.size() / 2)) == "not_an_image");  // cut in its image data
    CHECK(error_code_of(jpeg.substr(0, 20)) == "not_an_image");               // cut in its headers
    CHECK(error_code_of(png.substr(0, png.size() - 12)) == "not_an_image");   // no IEND
    std::string flipped = png;
    flipped[png.size() / 2] = static_cast<char>(flipped[png.size() / 2] ^ 0x20); // in IDAT: the CRC fails
    CHECK(error_code_of(flipped) == "not_an_image");
    CHECK(error_code_of("\xFF\xD8\xFF\xD9") == "not_an_image"); // a JPEG that ends at once
    CHECK(error_code_of(std::string("RIFF\x04\x00\x00\x00WEBP", 12)) == "not_an_image"); // no image chunk

    incident::PhotoLimits small;
    small.max_bytes = jpeg.size() - 1;
    try {
        incident::prepare_photo(jpeg, 3, small);
        FAIL("a photo over the limit was taken");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::payload_too_large);
        CHECK(std::string(e.what()).find("photo 3") != std::string::npos);
    }
}

TEST_CASE("photos: files are stored under their hash, once, and read back", "[photos][store]") {
    test::TempDir dir;
    const store::PhotoFiles files(dir / "photos");
    const incident::Photo p = prepare(encode("PNG", "png"));
    CHECK_FALSE(files.get(p.hash));
    files.put(p.hash, p.bytes);
    files.put(p.hash, p.bytes); // the same photo again: kept once
    const auto back = files.get(p.hash);
    REQUIRE(back);
    CHECK(*back == p.bytes);
    CHECK(std::filesystem::exists(dir / "photos" / p.hash.substr(0, 2) / p.hash));
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir / "photos" / p.hash.substr(0, 2))) ++entries;
    CHECK(entries == 1); // no temporary left behind
    CHECK_THROWS_AS(files.get("../../etc/passwd"), Error);
    CHECK_THROWS_AS(files.put("ABC", "x"), Error);
}
