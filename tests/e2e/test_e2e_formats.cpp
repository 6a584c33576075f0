// End to end: machine-readable results (tito JSON, JUnit XML, Gradescope results.json).
#include <catch2/catch.hpp>

#include "e2e_support.h"

using namespace e2e;

TEST_CASE("formats: json, junit and gradescope describe the same run", "[formats]") {
    TempDir ws("formats");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    // Break exactly one function so the results hold passes and failures.
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    std::string text = read_file(file);
    const std::string marker = "SystemReport system_check() {";
    REQUIRE(text.find(marker) != std::string::npos);
    text.replace(text.find(marker), marker.size(), marker + " throw tt::Error(\"broken on purpose\");");
    write_file(file, text);

    Run json_run = tito({"test", "01", "--format", "json"}, ws.path);
    REQUIRE(json_run.exit_code == 1);
    nlohmann::json report = nlohmann::json::parse(json_run.out);
    const int score = report.at("score");
    const int max_score = report.at("max_score");
    CHECK(score > 0);
    CHECK(score < max_score);
    bool saw_reason = false;
    for (const auto& t : report.at("tests"))
        if (t.at("status") == "failed") saw_reason = saw_reason || t.at("reason").get<std::string>().find("broken on purpose") != std::string::npos;
    CHECK(saw_reason);

    Run gradescope = tito({"test", "01", "--format", "gradescope"}, ws.path);
    nlohmann::json gs = nlohmann::json::parse(gradescope.out);
    CHECK(gs.at("score") == score);
    CHECK(gs.at("max_score") == max_score);
    REQUIRE(gs.at("tests").size() == report.at("tests").size());
    for (const auto& t : gs.at("tests")) {
        CHECK(t.contains("name"));
        CHECK(t.contains("score"));
        CHECK(t.contains("max_score"));
        CHECK((t.at("status") == "passed" || t.at("status") == "failed"));
        CHECK(t.contains("output"));
        CHECK(t.at("visibility") == "visible");
    }

    Run junit = tito({"test", "01", "--format", "junit"}, ws.path);
    CHECK_THAT(junit.out, Catch::StartsWith("<?xml") && Catch::Contains("<testsuite name=\"01_setup\"") &&
                              Catch::Contains("<failure message=") && Catch::Contains("</testsuites>"));

    // --output keeps the table on stdout and writes the document to the file.
    Run to_file = tito({"test", "01", "--format", "gradescope", "--output", "results.json"}, ws.path);
    CHECK_THAT(to_file.out, Catch::Contains("score " + std::to_string(score) + "/" + std::to_string(max_score)));
    CHECK(nlohmann::json::parse(read_file(ws.path / "results.json")).at("score") == score);
}
