#include "incident/receipts.hpp"

#include "auth/secrets.hpp"
#include "core/error.hpp"


namespace wangge::incident {

std::string receipt_key(store::Database& db) {
    if (auto key = db.meta("receipt_key")) return *key;
    return db.meta_or_set("receipt_key", auth::new_secret(""));
}

std::string receipt_of(std::string_view key, std::int64_t id) {
    if (key.empty()) throw Error(ErrorKind::internal, "no_receipt_key", "receipts need the database's receipt key");
    return "wgr_" + auth::keyed_digest(key, "wangge receipt " + std::to_string(id));
}

bool receipt_matches(std::string_view key, std::int64_t id, std::string_view receipt) {
    if (key.empty() || receipt.size() > 100) return false;
    return auth::constant_time_equal(receipt_of(key, id), receipt);
}

} // namespace wangge::incident
