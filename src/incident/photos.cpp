#include "incident/photos.hpp"

#include "auth/secrets.hpp"
#include "core/error.hpp"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <optional>

namespace wangge::incident {

namespace {

using Bytes = std::string_view;

Error not_an_image(int index, const std::string& why) {
    return Error(ErrorKind::unprocessable, "not_an_image",
                 "photo " + std::to_string(index) + " is not a whole JPEG, PNG or WebP image: " + why);
}

std::uint32_t be16(Bytes b, std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1]));
}
std::uint32_t be32(Bytes b, std::size_t at) { return (be16(b, at) << 16) | be16(b, at + 2); }
std::uint32_t le32(Bytes b, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
    return v;
}
void put_le32(std::string& s, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// --- Exif (TIFF) inside a JPEG APP1 segment ---

// Reads a TIFF structure in either byte order, within its own bounds.
class Tiff {
public:
    explicit Tiff(std::string& data) : m_data(data) {}

    bool header() {
        if (m_data.size() < 8) return false;
        if (m_data.compare(0, 4, "II*\0", 4) == 0) m_little = true;
        else if (m_data.compare(0, 4, "MM\0*", 4) == 0) m_little = false;
        else return false;
        return true;
    }
    std::optional<std::uint32_t> u16(std::size_t at) const {
        if (at + 2 > m_data.size()) return std::nullopt;
        const auto b0 = static_cast<unsigned char>(m_data[at]), b1 = static_cast<unsigned char>(m_data[at + 1]);
        return m_little ? (b1 << 8 | b0) : (b0 << 8 | b1);
    }
    std::optional<std::uint32_t> u32(std::size_t at) const {
        const auto a = u16(at), b = u16(at + 2);
        if (!a || !b) return std::nullopt;
        return m_little ? (*b << 16 | *a) : (*a << 16 | *b);
    }
    bool zero(std::size_t at, std::size_t n) {
        if (at > m_data.size() || n > m_data.size() - at) return false;
        std::fill_n(m_data.begin() + static_cast<std::ptrdiff_t>(at), n, '\0');
        return true;
    }
    void put_u16(std::size_t at, std::uint32_t v) {
        m_data[at] = static_cast<char>(m_little ? v & 0xFF : (v >> 8) & 0xFF);
        m_data[at + 1] = static_cast<char>(m_little ? (v >> 8) & 0xFF : v & 0xFF);
    }

private:
    std::string& m_data;
    bool m_little = true;
};

std::size_t tiff_type_size(std::uint32_t type) {
    switch (type) {
    case 3: case 8: return 2;   // SHORT, SSHORT
    case 4: case 9: case 11: case 13: return 4; // LONG, SLONG, FLOAT, IFD
    case 5: case 10: case 12: return 8; // RATIONAL, SRATIONAL, DOUBLE
    default: return 1;          // BYTE, ASCII, SBYTE, UNDEFINED
    }
}

enum class GpsOutcome { none, removed, malformed };

// Blanks the GPS IFD of Exif data (the bytes after "Exif\0\0"): its values, its entries, and its
// count, so that no reader finds a position and none is left in the file.
GpsOutcome blank_gps(std::string& exif) {
    Tiff t(exif);
    if (!t.header()) return GpsOutcome::malformed;
    const auto ifd0 = t.u32(4);
    if (!ifd0) return GpsOutcome::malformed;
    const auto n0 = t.u16(*ifd0);
    if (!n0) return GpsOutcome::malformed;
    std::optional<std::uint32_t> gps;
    for (std::uint32_t i = 0; i < *n0; ++i) {
        const std::size_t entry = *ifd0 + 2 + 12 * static_cast<std::size_t>(i);
        const auto tag = t.u16(entry);
        if (!tag) return GpsOutcome::malformed;
        if (*tag == 0x8825) {
            gps = t.u32(entry + 8);
            if (!gps) return GpsOutcome::malformed;
        }
    }
    if (!gps) return GpsOutcome::none;
    const auto n = t.u16(*gps);
    if (!n) return GpsOutcome::malformed;
    for (std::uint32_t i = 0; i < *n; ++i) {
        const std::size_t entry = *gps + 2 + 12 * static_cast<std::size_t>(i);
        const auto type = t.u16(entry + 2), count = t.u32(entry + 4), value = t.u32(entry + 8);
        if (!type || !count || !value) return GpsOutcome::malformed;
        const std::uint64_t size = std::uint64_t{*count} * tiff_type_size(*type);
        if (size > 4 && !t.zero(*value, static_cast<std::size_t>(size))) return GpsOutcome::malformed;
        if (!t.zero(entry, 12)) return GpsOutcome::malformed;
    }
    t.put_u16(*gps, 0);
    return GpsOutcome::removed;
}

// blank_gps, and Exif data it left unreadable (a GPS value that overlapped the header or an IFD,
// which blanking zeroed) is malformed: dropped whole, as it would be when the photo came again.
GpsOutcome remove_gps(std::string& exif) {
    const GpsOutcome outcome = blank_gps(exif);
    if (outcome != GpsOutcome::removed) return outcome;
    std::string again = exif;
    return blank_gps(again) == GpsOutcome::malformed ? GpsOutcome::malformed : outcome;
}

// --- JPEG ---

constexpr std::string_view exif_id{"Exif\0\0", 6};
constexpr std::string_view xmp_id{"http://ns.adobe.com/xap/1.0/\0", 29};
constexpr std::string_view xmp_extension_id{"http://ns.adobe.com/xmp/extension/\0", 35};

Photo jpeg(Bytes in, int index, bool keep_location) {
    Photo out;
    out.media_type = "image/jpeg";
    out.bytes.reserve(in.size());
    out.bytes.append(in.substr(0, 2));
    std::size_t at = 2;
    bool frame = false;
    while (true) {
        if (at + 2 > in.size()) throw not_an_image(index, "the JPEG ends before its image data");
        if (static_cast<unsigned char>(in[at]) != 0xFF) throw not_an_image(index, "a JPEG segment has no marker");
        while (at + 1 < in.size() && static_cast<unsigned char>(in[at + 1]) == 0xFF) ++at; // fill bytes
        if (at + 2 > in.size()) throw not_an_image(index, "the JPEG ends in a marker");
        const auto marker = static_cast<unsigned char>(in[at + 1]);
        if (marker == 0xD9) throw not_an_image(index, "the JPEG ends before its image data");
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { // no length
            out.bytes.append(in.substr(at, 2));
            at += 2;
            continue;
        }
        if (at + 4 > in.size()) throw not_an_image(index, "a JPEG segment is cut short");
        const std::size_t length = be16(in, at + 2);
        if (length < 2 || at + 2 + length > in.size()) throw not_an_image(index, "a JPEG segment is cut short");
        const Bytes segment = in.substr(at, 2 + length);
        const Bytes payload = segment.substr(4);
        at += 2 + length;
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
            if (payload.size() < 6 || be16(payload, 1) == 0 || be16(payload, 3) == 0)
                throw not_an_image(index, "the JPEG frame has no size");
            frame = true;
        }
        if (marker == 0xDA) { // start of scan: the entropy-coded data follows, up to the end
            if (!frame) throw not_an_image(index, "the JPEG has image data before its frame header");
            const Bytes rest = in.substr(at);
            if (rest.find("\xFF\xD9") == Bytes::npos) throw not_an_image(index, "the JPEG image data is cut short");
            out.bytes.append(segment);
            out.bytes.append(rest);
            return out;
        }
        if (!keep_location && marker == 0xE1 && (payload.starts_with(xmp_id) || payload.starts_with(xmp_extension_id))) {
            out.location_removed = true; // XMP may hold a position (exif:GPSLatitude): dropped whole
            continue;
        }
        if (!keep_location && marker == 0xE1 && payload.starts_with(exif_id)) {
            std::string exif(payload.substr(exif_id.size()));
            const GpsOutcome gps = remove_gps(exif);
            if (gps == GpsOutcome::malformed) { // unreadable Exif: dropped whole rather than kept
                out.location_removed = true;
                continue;
            }
            if (gps == GpsOutcome::removed) {
                out.location_removed = true;
                out.bytes.append(segment.substr(0, 4));
                out.bytes.append(exif_id);
                out.bytes.append(exif);
                continue;
            }
        }
        out.bytes.append(segment);
    }
}

// --- PNG ---

constexpr std::string_view png_signature{"\x89PNG\r\n\x1A\n", 8};

Photo png(Bytes in, int index, bool keep_location) {
    Photo out;
    out.media_type = "image/png";
    out.bytes.reserve(in.size());
    out.bytes.append(png_signature);
    std::size_t at = png_signature.size();
    bool first = true, data = false;
    while (true) {
        if (at + 12 > in.size()) throw not_an_image(index, "the PNG ends before its IEND chunk");
        const std::size_t length = be32(in, at);
        if (length > in.size() - at - 12) throw not_an_image(index, "a PNG chunk is cut short");
        const Bytes type = in.substr(at + 4, 4);
        const Bytes chunk = in.substr(at, 12 + length);
        const Bytes body = in.substr(at + 8, length);
        const auto crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(in.data() + at + 4),
                               static_cast<uInt>(4 + length));
        if (crc != be32(in, at + 8 + length)) throw not_an_image(index, "a PNG chunk fails its checksum");
        at += 12 + length;
        if (first) {
            if (type != "IHDR" || length != 13 || be32(body, 0) == 0 || be32(body, 4) == 0)
                throw not_an_image(index, "the PNG does not begin with its header");
            first = false;
        }
        if (type == "IDAT") data = true;
        if (type == "IEND") {
            if (!data) throw not_an_image(index, "the PNG has no image data");
            out.bytes.append(chunk);
            return out;
        }
        const bool xmp_text = (type == "iTXt" || type == "tEXt" || type == "zTXt") && body.starts_with("XML:com.adobe.xmp");
        if (!keep_location && (type == "eXIf" || xmp_text)) {
            out.location_removed = true;
            continue;
        }
        out.bytes.append(chunk);
    }
}

// --- WebP ---

Photo webp(Bytes in, int index, bool keep_location) {
    Photo out;
    out.media_type = "image/webp";
    const std::size_t riff = le32(in, 4);
    if (riff < 4 || riff > in.size() - 8) throw not_an_image(index, "the WebP file is cut short");
    const Bytes body = in.substr(12, riff - 4);
    out.bytes.reserve(in.size());
    out.bytes.append(in.substr(0, 12));
    std::size_t at = 0;
    bool image = false;
    std::optional<std::size_t> vp8x; // where the VP8X flags byte went in the output
    while (at < body.size()) {
        if (at + 8 > body.size()) throw not_an_image(index, "a WebP chunk is cut short");
        const Bytes fourcc = body.substr(at, 4);
        const std::size_t size = le32(body, at + 4);
        const std::size_t padded = size + (size & 1);
        if (size > body.size() - at - 8)
            throw not_an_image(index, "a WebP chunk is cut short");
        const Bytes chunk = body.substr(at, std::min(body.size() - at, 8 + padded));
        at += 8 + padded;
        if (fourcc == "VP8 " || fourcc == "VP8L" || fourcc == "ANIM") image = true;
        if (fourcc == "VP8X") {
            if (size < 10) throw not_an_image(index, "the WebP extended header is cut short");
            vp8x = out.bytes.size() + 8;
        }
        if (!keep_location && (fourcc == "EXIF" || fourcc == "XMP ")) {
            out.location_removed = true;
            continue;
        }
        out.bytes.append(chunk);
    }
    if (!image) throw not_an_image(index, "the WebP has no image data");
    if (vp8x && !keep_location) out.bytes[*vp8x] = static_cast<char>(out.bytes[*vp8x] & ~0x0C); // no Exif, no XMP
    put_le32(out.bytes, 4, static_cast<std::uint32_t>(out.bytes.size() - 8));
    return out;
}

} // namespace

Photo prepare_photo(std::string_view upload, int index, const PhotoLimits& limits) {
    if (upload.size() > limits.max_bytes)
        throw Error(ErrorKind::payload_too_large, "photo_too_large",
                    "photo " + std::to_string(index) + " has " + std::to_string(upload.size()) + " bytes, at most " +
                        std::to_string(limits.max_bytes));
    Photo p;
    if (upload.size() >= 4 && upload.starts_with("\xFF\xD8\xFF")) p = jpeg(upload, index, limits.keep_location);
    else if (upload.starts_with(png_signature)) p = png(upload, index, limits.keep_location);
    else if (upload.size() >= 12 && upload.starts_with("RIFF") && upload.substr(8, 4) == "WEBP")
        p = webp(upload, index, limits.keep_location);
    else throw not_an_image(index, "its content is none of them");
    p.hash = auth::sha256_hex(p.bytes);
    return p;
}

void attach_photos(store::Database& db, std::int64_t incident_id, std::int64_t event_id,
                   const std::vector<PhotoRef>& photos) {
    for (const PhotoRef& p : photos) db.insert_photo({incident_id, event_id, p.hash, p.media_type, p.bytes});
}

bool is_photo_hash(std::string_view hash) noexcept {
    if (hash.size() != 64) return false;
    for (char c : hash)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

} // namespace wangge::incident
