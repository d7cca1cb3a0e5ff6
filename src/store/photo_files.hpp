#pragma once
// The files of case photos, outside the database (docs/INCIDENTS.md, "Photos"): one file per
// photo, named by its SHA-256 under a directory of its first two digits, so the same photo sent
// twice is stored once. A file is written whole to a temporary name, synced, renamed into place
// and its directory synced before put() returns: a photo that a committed case names is on disk,
// and a crash leaves at worst a file that no case names (harmless, and taken by the next upload
// of the same photo).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace wangge::store {

class PhotoFiles {
public:
    // Creates `dir` when missing (mode 0700: photos may show people).
    explicit PhotoFiles(std::filesystem::path dir);

    // Stores `bytes` under `hash` (64 hex digits, the caller's digest of them), durably.
    void put(const std::string& hash, std::string_view bytes) const;
    // The bytes stored under `hash`, nullopt when there are none.
    std::optional<std::string> get(const std::string& hash) const;

    const std::filesystem::path& dir() const noexcept { return m_dir; }

    // Where photos of the database at `db` are kept unless configured: beside it, "<db>.photos".
    static std::filesystem::path default_dir(const std::filesystem::path& db);

private:
    std::filesystem::path path_of(const std::string& hash) const;

    std::filesystem::path m_dir;
};

} // namespace wangge::store
