// wangge user | token | audit: accounts and the audit log on the command line
// (docs/SECURITY.md). Every change made here is written to the audit log as by user "cli".
#include "app/commands.hpp"

#include "auth/accounts.hpp"
#include "core/codes.hpp"
#include "core/error.hpp"
#include "core/time.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace wangge::app {

namespace {

// The first line of standard input, without its line end.
std::string read_line() {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

std::string prompt_hidden(const char* prompt) {
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
    termios before{};
    tcgetattr(STDIN_FILENO, &before);
    termios hidden = before;
    hidden.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &hidden);
    std::string line = read_line();
    tcsetattr(STDIN_FILENO, TCSANOW, &before);
    std::fprintf(stderr, "\n");
    return line;
}

// From standard input when asked (scripts), else typed twice at a terminal.
std::string read_password(bool from_stdin) {
    if (from_stdin) return read_line();
    if (!isatty(STDIN_FILENO))
        throw Error(ErrorKind::bad_request, "invalid_option",
                    "no terminal to type a password at: pipe it in with --password-stdin");
    std::string first = prompt_hidden("password: ");
    if (prompt_hidden("again: ") != first) throw Error(ErrorKind::bad_request, "password_mismatch", "the passwords differ");
    return first;
}

void audit_cli(auth::Accounts& accounts, std::string action, std::string user, std::vector<std::string> codes,
               std::string detail) {
    store::AuditRow row;
    row.user = "cli";
    row.action = std::move(action);
    row.outcome = "ok";
    row.codes = std::move(codes);
    row.address = "cli";
    row.detail = user.empty() ? std::move(detail) : "user " + user + (detail.empty() ? "" : ": " + detail);
    accounts.audit(std::move(row));
}

nlohmann::json user_json(const store::UserRow& u) {
    return {{"name", u.name},         {"display_name", u.display_name}, {"role", u.role},
            {"scopes", u.scopes},     {"disabled", u.disabled},         {"password", u.password_hash.has_value()},
            {"created_at", u.created_at}};
}

std::string scope_text(const std::vector<std::string>& scopes) {
    return scopes.empty() ? std::string("(all)") : fmt::format("{}", fmt::join(scopes, ","));
}

} // namespace

int run_user(const UserCommand& c) {
    auth::Accounts accounts(c.db);
    if (c.action == "add") {
        const auto role = auth::parse_role(c.role);
        if (!role)
            throw Error(ErrorKind::bad_request, "invalid_option",
                        "--role takes admin, street, community, worker or viewer (got '" + c.role + "')");
        auth::NewUser u{c.name, c.display_name, *role, c.scopes, read_password(c.password_stdin)};
        const store::UserRow row = accounts.add_user(u);
        audit_cli(accounts, "user.add", row.name, row.scopes, std::string("role ") + row.role);
        std::printf("user %s added: %s, scope %s\n", row.name.c_str(), row.role.c_str(), scope_text(row.scopes).c_str());
        return 0;
    }
    if (c.action == "list") {
        const auto users = accounts.list_users();
        if (c.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& u : users) out.push_back(user_json(u));
            std::printf("%s\n", out.dump(2).c_str());
            return 0;
        }
        std::printf("%-20s %-10s %-9s %s\n", "name", "role", "state", "scope");
        for (const auto& u : users)
            std::printf("%-20s %-10s %-9s %s\n", u.name.c_str(), u.role.c_str(), u.disabled ? "disabled" : "active",
                        scope_text(u.scopes).c_str());
        return 0;
    }
    if (c.action == "disable" || c.action == "enable") {
        accounts.set_disabled(c.name, c.action == "disable");
        audit_cli(accounts, "user." + c.action, c.name, {}, {});
        std::printf("user %s %sd\n", c.name.c_str(), c.action.c_str());
        return 0;
    }
    if (c.action == "passwd") {
        accounts.set_password(c.name, read_password(c.password_stdin));
        audit_cli(accounts, "user.passwd", c.name, {}, "sessions ended");
        std::printf("password of %s changed; its sessions have ended\n", c.name.c_str());
        return 0;
    }
    throw Error(ErrorKind::bad_request, "invalid_option", "wangge user takes add, list, disable, enable or passwd");
}

int run_token(const TokenCommand& c) {
    auth::Accounts accounts(c.db);
    if (c.action == "create") {
        const auth::CreatedToken t = accounts.create_token(c.user, c.label, c.days);
        audit_cli(accounts, "token.create", c.user, {}, fmt::format("token {} until {}", t.id, t.expires_at));
        if (c.json) {
            std::printf("%s\n", nlohmann::json{{"id", t.id}, {"token", t.secret}, {"expires_at", t.expires_at}}.dump().c_str());
            return 0;
        }
        std::fprintf(stderr, "token %lld for %s, valid until %s; it is shown only now:\n", static_cast<long long>(t.id),
                     c.user.c_str(), t.expires_at.c_str());
        std::printf("%s\n", t.secret.c_str());
        return 0;
    }
    if (c.action == "list") {
        const auto tokens = accounts.list_tokens(c.user.empty() ? std::nullopt : std::optional(c.user));
        if (c.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& t : tokens)
                out.push_back({{"id", t.id}, {"user", t.user_name}, {"label", t.label}, {"created_at", t.created_at},
                               {"expires_at", t.expires_at}, {"last_used_at", t.last_used_at.value_or("")},
                               {"revoked_at", t.revoked_at.value_or("")}});
            std::printf("%s\n", out.dump(2).c_str());
            return 0;
        }
        std::printf("%-5s %-16s %-16s %-21s %-21s %s\n", "id", "user", "label", "expires", "last used", "state");
        for (const auto& t : tokens)
            std::printf("%-5lld %-16s %-16s %-21s %-21s %s\n", static_cast<long long>(t.id), t.user_name.c_str(),
                        t.label.c_str(), t.expires_at.c_str(), t.last_used_at.value_or("never").c_str(),
                        t.revoked_at ? "revoked" : (t.expires_at <= accounts.now_utc() ? "expired" : "active"));
        return 0;
    }
    if (c.action == "revoke") {
        accounts.revoke_token(c.id);
        audit_cli(accounts, "token.revoke", {}, {}, fmt::format("token {}", c.id));
        std::printf("token %lld revoked\n", static_cast<long long>(c.id));
        return 0;
    }
    throw Error(ErrorKind::bad_request, "invalid_option", "wangge token takes create, list or revoke");
}

int run_audit(const AuditCommand& c) {
    auto utc = [](const std::optional<std::string>& text, const char* name) -> std::optional<std::string> {
        if (!text) return std::nullopt;
        const auto t = parse_utc(*text);
        if (!t)
            throw Error(ErrorKind::bad_request, "invalid_option",
                        std::string(name) + " takes a UTC date (2026-12-04) or time (2026-12-04T08:00:00Z), not '" + *text + "'");
        return format_utc(*t);
    };
    store::AuditFilter f;
    f.user = c.user;
    if (c.code && !level_of_code(*c.code))
        throw Error(ErrorKind::bad_request, "invalid_option", "--code takes a 9-, 12- or 15-digit division code");
    f.code = c.code;
    f.action = c.action;
    f.since = utc(c.since, "--since");
    f.until = utc(c.until, "--until");
    f.limit = c.limit;
    auth::Accounts accounts(c.db);
    const auto rows = accounts.list_audit(f);
    if (c.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& a : rows)
            out.push_back({{"id", a.id}, {"at", a.at}, {"user", a.user}, {"action", a.action}, {"outcome", a.outcome},
                           {"status", a.status}, {"target", a.target}, {"codes", a.codes}, {"address", a.address},
                           {"detail", a.detail}});
        std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
    }
    for (const auto& a : rows)
        std::printf("%s %-12s %-18s %-7s %3d %s %s %s\n", a.at.c_str(), a.user.empty() ? "-" : a.user.c_str(),
                    a.action.c_str(), a.outcome.c_str(), a.status, a.address.c_str(),
                    fmt::format("{}", fmt::join(a.codes, ",")).c_str(), a.detail.c_str());
    return 0;
}

} // namespace wangge::app
