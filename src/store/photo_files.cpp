#include "store/photo_files.hpp"

#include "core/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace wangge::store {

namespace {

Error io_error(const std::string& what) {
    return Error(ErrorKind::io, "photo_storage", what + ": " + std::strerror(errno));
}

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) ::close(m_fd);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return m_fd; }

private:
    int m_fd;
};

void sync_dir(const std::filesystem::path& dir) {
    const Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) throw io_error("syncing " + dir.string());
}

bool valid_hash(const std::string& hash) {
    if (hash.size() != 64) return false;
    for (char c : hash)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

} // namespace

PhotoFiles::PhotoFiles(std::filesystem::path dir) : m_dir(std::move(dir)) {
    std::error_code ec;
    if (!std::filesystem::exists(m_dir, ec)) {
        std::filesystem::create_directories(m_dir, ec);
        if (ec) throw Error(ErrorKind::io, "photo_storage", "cannot create " + m_dir.string() + ": " + ec.message());
        std::filesystem::permissions(m_dir, std::filesystem::perms::owner_all, ec);
    }
    if (!std::filesystem::is_directory(m_dir))
        throw Error(ErrorKind::io, "photo_storage", m_dir.string() + " is not a directory");
}

std::filesystem::path PhotoFiles::default_dir(const std::filesystem::path& db) {
    return std::filesystem::path(db.string() + ".photos");
}

std::filesystem::path PhotoFiles::path_of(const std::string& hash) const {
    if (!valid_hash(hash)) throw Error(ErrorKind::bad_request, "invalid_photo", "'" + hash + "' is not a photo's hash");
    return m_dir / hash.substr(0, 2) / hash;
}

void PhotoFiles::put(const std::string& hash, std::string_view bytes) const {
    const auto target = path_of(hash);
    std::error_code ec;
    if (std::filesystem::exists(target, ec) && std::filesystem::file_size(target, ec) == bytes.size()) return;
    const auto dir = target.parent_path();
    if (!std::filesystem::exists(dir)) {
        std::filesystem::create_directory(dir, ec);
        if (ec && !std::filesystem::is_directory(dir))
            throw Error(ErrorKind::io, "photo_storage", "cannot create " + dir.string() + ": " + ec.message());
        sync_dir(m_dir);
    }
    // A name of its own per writer, so that two uploads of one photo do not write one file.
    static std::atomic<std::uint64_t> serial{0};
    const auto temporary = dir / (hash + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(serial++));
    {
        const Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (fd.get() < 0) throw io_error("creating " + temporary.string());
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                const Error e = io_error("writing " + temporary.string());
                ::unlink(temporary.c_str());
                throw e;
            }
            done += static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0) {
            const Error e = io_error("syncing " + temporary.string());
            ::unlink(temporary.c_str());
            throw e;
        }
    }
    if (::rename(temporary.c_str(), target.c_str()) != 0) {
        const Error e = io_error("storing " + target.string());
        ::unlink(temporary.c_str());
        throw e;
    }
    sync_dir(dir);
}

std::optional<std::string> PhotoFiles::get(const std::string& hash) const {
    std::ifstream in(path_of(hash), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return std::move(s).str();
}

} // namespace wangge::store
