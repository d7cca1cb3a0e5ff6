#pragma once
// Photos of cases (docs/INCIDENTS.md, "Photos"): an upload is taken only when its content is a
// JPEG, PNG or WebP image (its structure read, not its name or declared type), and the place where
// it was taken is removed before it is stored: the GPS block of a JPEG's Exif data, and a PNG's or
// WebP's Exif and XMP chunks (and a JPEG's XMP), which is where cameras and phones write it. The
// rest of the file is kept byte for byte, so the picture and its orientation stay as they were.
#include "store/database.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::incident {

struct PhotoLimits {
    std::size_t max_bytes = 10 * 1024 * 1024; // per photo
    int max_count = 9;                        // per report or step
    bool keep_location = false;               // true: GPS and XMP kept as uploaded
};

// A stored photo as a case names it.
struct PhotoRef {
    std::string hash;       // SHA-256 of the stored bytes, 64 lowercase hex digits
    std::string media_type; // image/jpeg | image/png | image/webp
    std::int64_t bytes = 0;
};

struct Photo {
    std::string media_type;        // image/jpeg | image/png | image/webp
    std::string bytes;             // as stored: the upload with its location removed
    std::string hash;              // SHA-256 of `bytes`, 64 lowercase hex digits
    bool location_removed = false; // the upload carried location metadata that was taken out

    PhotoRef ref() const { return {hash, media_type, static_cast<std::int64_t>(bytes.size())}; }
};

// Checks `upload` (the `index`-th photo of its request, 1-based, for the messages) and prepares it
// for storing. Throws Error(payload_too_large, "photo_too_large") above limits.max_bytes and
// Error(unprocessable, "not_an_image") when the content is not a whole JPEG, PNG or WebP image.
Photo prepare_photo(std::string_view upload, int index, const PhotoLimits& limits);

// Records `photos` as photos of case `incident_id`, taken with the event `event_id`, in the
// caller's transaction (their files are stored before: store/photo_files.hpp).
void attach_photos(store::Database& db, std::int64_t incident_id, std::int64_t event_id,
                   const std::vector<PhotoRef>& photos);

// Whether `hash` has the shape prepare_photo gives (64 lowercase hex digits).
bool is_photo_hash(std::string_view hash) noexcept;

} // namespace wangge::incident
