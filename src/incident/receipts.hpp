#pragma once
// Receipts (回执): what a resident gets back when they file a report, to read their own case
// later without an account (docs/INCIDENTS.md, "Receipts"). A receipt is the keyed BLAKE2b of the
// case's id under a key kept in the database, so it needs no storage of its own, a retried report
// gets the same receipt again, and nobody without the key can make one for another case.
#include "store/database.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace wangge::incident {

// The database's receipt key, made (256 random bits) the first time it is asked for; call it in
// a write transaction.
std::string receipt_key(store::Database& db);

// The receipt of case `id`: "wgr_" and 43 base64url characters.
std::string receipt_of(std::string_view key, std::int64_t id);

// Whether `receipt` is the receipt of case `id`, compared in constant time.
bool receipt_matches(std::string_view key, std::int64_t id, std::string_view receipt);

} // namespace wangge::incident
