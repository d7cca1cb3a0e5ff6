// Photo type checks (src/incident/photos.hpp): every uploaded photo is read by structure (JPEG
// segments, PNG chunks, WebP RIFF chunks) and its location metadata cut out before it is
// stored. The input is the upload. Checked: only wangge::Error leaves prepare_photo; what it
// keeps is no larger than the upload, of a type it names, hashed as 64 hex digits, and taking
// it again keeps the same bytes (the location is gone after one pass).
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "incident/photos.hpp"

#include <string_view>

using namespace wangge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view upload(reinterpret_cast<const char*>(data), size);
    incident::PhotoLimits limits;
    limits.max_bytes = 1 << 20;
    try {
        const incident::Photo photo = incident::prepare_photo(upload, 1, limits);
        if (photo.bytes.size() > upload.size()) fuzz::fail("prepare_photo made the photo larger");
        if (photo.media_type != "image/jpeg" && photo.media_type != "image/png" && photo.media_type != "image/webp")
            fuzz::fail("prepare_photo named the type", photo.media_type);
        if (!incident::is_photo_hash(photo.hash)) fuzz::fail("prepare_photo gave the hash", photo.hash);
        const incident::Photo again = incident::prepare_photo(photo.bytes, 1, limits);
        if (again.bytes != photo.bytes)
            fuzz::fail("a photo prepared twice changed the second time", photo.media_type);
    } catch (const Error&) {
    }
    return 0;
}
