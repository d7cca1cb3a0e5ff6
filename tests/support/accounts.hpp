#pragma once
// Accounts on a test database: users made with the real auth::Accounts (token-only users skip
// the deliberate cost of Argon2id), and requests that carry their tokens.
#include "api/message.hpp"
#include "auth/accounts.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace wangge::test {

struct TestAccounts {
    std::shared_ptr<auth::Accounts> accounts;

    explicit TestAccounts(const std::filesystem::path& db, auth::AccountsOptions options = {})
        : accounts(std::make_shared<auth::Accounts>(db, std::move(options))) {}

    // Adds a user with the role and scopes and returns a fresh API token of theirs.
    std::string token_for(const std::string& name, auth::Role role, std::vector<std::string> scopes = {}) const {
        accounts->add_user(auth::NewUser{name, name, role, std::move(scopes), std::nullopt});
        return accounts->create_token(name, "test", 30).secret;
    }
};

// A write as a well-behaved API client sends it: JSON, with its bearer token.
inline api::Request json_post(const std::string& target, const std::string& body, const std::string& token) {
    api::Request req = api::make_request("POST", target);
    req.body = body;
    req.headers.emplace_back("content-type", "application/json");
    if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
    return req;
}

} // namespace wangge::test
