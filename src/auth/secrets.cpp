#include "auth/secrets.hpp"

#include "core/error.hpp"

#include <sodium.h>

#include <array>
#include <algorithm>
#include <mutex>
#include <stdexcept>

namespace wangge::auth {

namespace {

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) throw Error(ErrorKind::internal, "crypto", "libsodium could not be initialised");
    });
}

constexpr unsigned long long ops_limit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t mem_limit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

} // namespace

std::string hash_password(std::string_view password) {
    init();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), ops_limit, mem_limit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw Error(ErrorKind::unavailable, "out_of_memory", "not enough memory to hash a password now");
    return out.data();
}

bool verify_password(std::string_view password, const std::string& hash) {
    init();
    if (hash.size() >= crypto_pwhash_STRBYTES) return false;
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

void verify_dummy_password(std::string_view password) {
    static const std::string dummy = hash_password("a password nobody has");
    (void)verify_password(password, dummy);
}

std::string new_secret(std::string_view prefix) {
    init();
    std::array<unsigned char, 32> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::array<char, sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)> text{};
    sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return std::string(prefix) + text.data();
}

std::string digest(std::string_view secret) {
    init();
    std::array<unsigned char, crypto_generichash_BYTES> hash{};
    crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                       nullptr, 0);
    std::array<char, crypto_generichash_BYTES * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
    return hex.data();
}

std::string sha256_hex(std::string_view bytes) {
    init();
    std::array<unsigned char, crypto_hash_sha256_BYTES> hash{};
    crypto_hash_sha256(hash.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
    return hex.data();
}

std::string keyed_digest(std::string_view key, std::string_view message) {
    init();
    if (key.size() < crypto_generichash_KEYBYTES_MIN) throw std::invalid_argument("a key of at least 16 bytes");
    std::array<unsigned char, 32> mac{};
    crypto_generichash(mac.data(), mac.size(), reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(key.data()),
                       std::min<std::size_t>(key.size(), crypto_generichash_KEYBYTES_MAX));
    std::array<char, sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)> text{};
    sodium_bin2base64(text.data(), text.size(), mac.data(), mac.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return text.data();
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    return a.empty() || sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace wangge::auth
