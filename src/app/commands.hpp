#pragma once
// The wangge subcommands. main.cpp parses the command line with CLI11 and calls one of these;
// each returns the process exit code and reports through standard output/error.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace wangge::app {

struct ServeOptions {
    std::filesystem::path db;
    std::string host = "127.0.0.1";
    unsigned short port = 8080;
    int threads = 0;
    int band_min = 250;
    int band_max = 500;
    bool access_log = false;
};
int run_serve(const ServeOptions& o);

struct ImportCommand {
    std::filesystem::path db;
    std::string target;
    std::filesystem::path file;
    std::optional<std::string> crs;
    std::optional<std::string> layer;
    std::map<std::string, std::string> field_map;
    bool replace = false;
    std::optional<std::filesystem::path> estimator_config;
};
int run_import(const ImportCommand& c);

struct DemoCommand {
    std::filesystem::path out;
    std::uint64_t seed = 20240601;
    long households = 60000;
    bool force = false;
};
int run_demo(const DemoCommand& c);

int run_validate(const std::filesystem::path& db, bool json);
int run_info(const std::filesystem::path& db);
int run_locate(const std::filesystem::path& db, double lon, double lat, const std::string& crs);

} // namespace wangge::app
