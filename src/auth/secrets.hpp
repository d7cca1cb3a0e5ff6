#pragma once
// The cryptography of accounts, all from libsodium (docs/DEPENDENCIES.md): Argon2id password
// hashes, 256-bit random secrets for API tokens and sessions, their BLAKE2b digests (the only
// form the store keeps), and constant-time comparison.
#include <string>
#include <string_view>

namespace wangge::auth {

// An Argon2id hash in libsodium's self-describing string form (salt and cost inside), at the
// "interactive" cost: about 64 MiB and 0.1 s, so guessing offline is slow.
std::string hash_password(std::string_view password);
// Whether `password` matches `hash`; false for a malformed hash.
bool verify_password(std::string_view password, const std::string& hash);
// Spends the time of a verification, so that an unknown user name takes as long to refuse as a
// wrong password.
void verify_dummy_password(std::string_view password);

// 32 random bytes, base64url without padding, after `prefix` (e.g. "wgt_" for API tokens, so
// that a leaked token is recognisable by secret scanners).
std::string new_secret(std::string_view prefix);
// Hex BLAKE2b-256 of a secret: what the store keeps. A fast hash suffices for 256 random bits.
std::string digest(std::string_view secret);
// Hex SHA-256 of `bytes`: the name of a stored file (case photos are kept under it).
std::string sha256_hex(std::string_view bytes);
// Keyed BLAKE2b-256 of `message` under `key` (16 to 64 bytes are used), base64url without
// padding: a value only the key's holder can make, checked by making it again.
std::string keyed_digest(std::string_view key, std::string_view message);

// Equal size and bytes, in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace wangge::auth
