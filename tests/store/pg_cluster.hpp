#pragma once
// The PostgreSQL cluster of the tests: its URL comes from WANGGE_TEST_PG_URL (scripts/test.sh
// starts a private cluster and sets it). Without it the tests fail, saying so: a store test that
// passes without a server would prove nothing. Each test works in a database of its own.
#include "store/pg/connection.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <random>
#include <string>

namespace wangge::test {

inline std::string pg_cluster_url() {
    const char* url = std::getenv("WANGGE_TEST_PG_URL");
    if (!url || !*url)
        FAIL("WANGGE_TEST_PG_URL is not set: these tests need a PostgreSQL + PostGIS cluster. "
             "scripts/test.sh starts one; by hand: export WANGGE_TEST_PG_URL=$(scripts/pg-cluster.sh start /tmp/pg)");
    return url;
}

// `url` naming database `name` instead of its own (and `user` as the role, when given).
inline std::string pg_url_of(const std::string& url, const std::string& name, const std::string& user = "") {
    const auto scheme = url.find("://");
    REQUIRE(scheme != std::string::npos);
    const auto authority = scheme + 3;
    auto slash = url.find('/', authority);
    const auto query = url.find('?', authority);
    std::string host = url.substr(authority, std::min(slash, query) - authority);
    if (!user.empty()) {
        const auto at = host.find('@');
        host = user + "@" + (at == std::string::npos ? host : host.substr(at + 1));
    }
    return url.substr(0, authority) + host + "/" + name + (query == std::string::npos ? "" : url.substr(query));
}

// A unique name for a database or role of this test run.
inline std::string pg_unique_name(const std::string& prefix) {
    static std::atomic<int> counter{0};
    static const unsigned run = std::random_device{}();
    return prefix + "_" + std::to_string(run) + "_" + std::to_string(++counter);
}

// A fresh, empty database (no PostGIS yet), dropped with everything in it on destruction.
class TestPgDatabase {
public:
    explicit TestPgDatabase(const std::string& owner = "") : m_name(pg_unique_name("wangge_test")) {
        auto admin = store::PgConnection::connect(pg_cluster_url());
        admin.exec("CREATE DATABASE " + m_name + (owner.empty() ? "" : " OWNER " + owner));
        m_url = pg_url_of(pg_cluster_url(), m_name);
    }
    ~TestPgDatabase() {
        try {
            auto admin = store::PgConnection::connect(pg_cluster_url());
            admin.exec("DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
        } catch (...) {
            // A database left behind is removed with the test cluster.
        }
    }
    TestPgDatabase(const TestPgDatabase&) = delete;
    TestPgDatabase& operator=(const TestPgDatabase&) = delete;

    const std::string& url() const noexcept { return m_url; }
    const std::string& name() const noexcept { return m_name; }
    // The URL as another role sees it.
    std::string url_as(const std::string& role) const { return pg_url_of(pg_cluster_url(), m_name, role); }

private:
    std::string m_name;
    std::string m_url;
};

} // namespace wangge::test

// Checks that `expr` throws wangge::Error of `kind_` with the machine code `code_`, and returns
// nothing; the message is shown on failure.
#define CHECK_WANGGE_ERROR(expr, kind_, code_)                                                                 \
    do {                                                                                                       \
        try {                                                                                                  \
            (void)(expr);                                                                                      \
            FAIL_CHECK("no Error thrown by " #expr);                                                           \
        } catch (const ::wangge::Error& e) {                                                                   \
            INFO(e.what());                                                                                    \
            CHECK(std::string(to_string(e.kind())) == std::string(to_string(kind_)));                          \
            CHECK(e.code() == (code_));                                                                        \
        }                                                                                                      \
    } while (false)
