// Photos over real HTTP through `wangge serve`: a report with a photo larger than the body limit
// of other requests is taken (the upload limit is chosen once the header says multipart), a JSON
// body of that size is still 413; the photo is stored beside the database and served back to the
// staff of the case; the reporter reads their case by the receipt in the answer.
#include "support/http_client.hpp"
#include "support/images.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace wangge;
using nlohmann::json;
using test::wangge_cli;

TEST_CASE("photos e2e: a large photo with a report over HTTP, served back, and the receipt read", "[cli][http][photos]") {
    test::TempDir dir;
    const auto db = dir / "d.sqlite";
    REQUIRE(wangge_cli({"demo", db.string(), "--households", "20000", "--seed", "5"}).exit_code == 0);
    const std::string token = test::cli_token(db, "hotline", "admin");
    char quality[] = "QUALITY=100";
    char* options[] = {quality, nullptr};
    const std::string jpeg = test::encode_image("JPEG", "jpg", 1400, options);
    REQUIRE(jpeg.size() > (1u << 20)); // more than the 1 MiB of other bodies

    test::WanggeServer server(db);
    test::HttpClient client(server.port, std::chrono::seconds(30));
    const json report{{"category", "0101"},
                      {"description", "路面塌陷"},
                      {"source", "hotline"},
                      {"reporter", {{"name", "张三"}, {"phone", "13912345678"}}},
                      {"location", {{"lon", 118.80}, {"lat", 31.96}}}};
    const std::string body = "--b7\r\nContent-Disposition: form-data; name=\"report\"\r\nContent-Type: application/json\r\n\r\n" +
                             report.dump() +
                             "\r\n--b7\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n"
                             "Content-Type: image/jpeg\r\n\r\n" +
                             jpeg + "\r\n--b7--\r\n";
    const auto filed = client.request("POST", "/api/v1/incidents", body,
                                      {{"Content-Type", "multipart/form-data; boundary=b7"},
                                       {"Authorization", "Bearer " + token}});
    INFO(filed.body.substr(0, 500));
    REQUIRE(filed.status == 201);
    const json j = json::parse(filed.body);
    REQUIRE(j["photos"].size() == 1);
    const std::string hash = j["photos"][0]["hash"];
    CHECK(std::filesystem::exists(std::filesystem::path(db.string() + ".photos") / hash.substr(0, 2) / hash));

    // The same size as JSON is refused: only multipart bodies get the upload limit.
    const std::string big_json = json{{"category", "0101"}, {"description", std::string(jpeg.size(), 'x')}}.dump();
    test::HttpClient other(server.port, std::chrono::seconds(30));
    CHECK(other.request("POST", "/api/v1/incidents", big_json,
                        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}})
              .status == 413);

    const auto photo = client.request("GET", j["photos"][0]["url"].get<std::string>(), "",
                                      {{"Authorization", "Bearer " + token}});
    REQUIRE(photo.status == 200);
    CHECK(photo.header("content-type") == "image/jpeg");
    CHECK(photo.body == jpeg);
    test::HttpClient anonymous(server.port);
    CHECK(anonymous.get(j["photos"][0]["url"].get<std::string>()).status == 401);

    const auto status = anonymous.get(j["status_url"].get<std::string>());
    REQUIRE(status.status == 200);
    CHECK(json::parse(status.body)["state"] == "dispatched");
    CHECK(status.body.find("13912345678") == std::string::npos);
}
