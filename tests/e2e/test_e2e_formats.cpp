// End to end: machine-readable results (tito JSON, JUnit XML, Gradescope results.json).
#include <algorithm>
#include <catch2/catch.hpp>

#include "e2e_support.h"

using namespace e2e;

namespace {

int progress_of_attempts(const fs::path& workspace) {
    return nlohmann::json::parse(read_file(workspace / ".tito" / "progress.json")).at("modules").at("01").at("attempts");
}

}  // namespace

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
    CHECK(gradescope_schema_errors(gradescope.out) == "");
    nlohmann::json gs = nlohmann::json::parse(gradescope.out);
    CHECK(gs.at("score") == score);
    // results.json has no top-level max_score; the specification's extra_data carries it.
    CHECK(gs.at("extra_data").at("max_score") == max_score);
    REQUIRE(gs.at("tests").size() == report.at("tests").size());
    int position = 0;
    for (const auto& t : gs.at("tests")) {
        CHECK(t.contains("name"));
        CHECK(t.contains("score"));
        CHECK(t.contains("max_score"));
        CHECK((t.at("status") == "passed" || t.at("status") == "failed"));
        CHECK(t.contains("output"));
        CHECK(t.at("number") == "01." + std::to_string(++position));
        CHECK(t.at("tags") == nlohmann::json::array({"01_setup"}));
        // Students see a hidden test's name, expected values and output only once grades are
        // published (configs/grading.json); the visible tests they have anyway.
        const bool visible = report.at("tests").at(position - 1).at("visible");
        CHECK(t.at("visibility") == (visible ? "visible" : "after_published"));
    }

    Run junit = tito({"test", "01", "--format", "junit"}, ws.path);
    CHECK_THAT(junit.out, Catch::StartsWith("<?xml") && Catch::Contains("<testsuite name=\"01_setup\"") &&
                              Catch::Contains("<failure type=\"failed\" message=") && Catch::Contains("</testsuites>"));
    CHECK(junit_schema_errors(junit.out) == "");

    // Where tito was built is nobody's business: no path of the source or build tree in any export
    // or state file (the workspace is elsewhere).
    for (const std::string& text : {json_run.out, gradescope.out, junit.out, read_file(ws.path / ".tito" / "results" / "01_setup.json")}) {
        CHECK_THAT(text, !Catch::Contains(source_dir().string() + "/") && !Catch::Contains("graders/"));
    }

    // --output keeps the table on stdout and writes the document to the file.
    Run to_file = tito({"test", "01", "--format", "gradescope", "--output", "results.json"}, ws.path);
    CHECK_THAT(to_file.out, Catch::Contains("score " + std::to_string(score) + "/" + std::to_string(max_score)));
    CHECK(nlohmann::json::parse(read_file(ws.path / "results.json")).at("score") == score);
}

TEST_CASE("formats: the installed test list names no hidden grader file", "[formats]") {
    int visible = 0, hidden = 0;
    for (const auto& entry : fs::directory_iterator(build_dir() / "share" / "tinytorch" / "graders")) {
        const fs::path manifest = entry.path() / "tests.json";
        if (!fs::exists(manifest)) continue;
        const std::string text = read_file(manifest);
        CHECK_THAT(text, !Catch::Contains(source_dir().string()) && !Catch::Contains("graders/"));
        for (const auto& t : nlohmann::json::parse(text)) {
            INFO(t.dump());
            if (t.at("visible") == true) {
                ++visible;
                CHECK_THAT(t.at("file").get<std::string>(), Catch::StartsWith("modules/" + entry.path().filename().string() + "/tests/"));
            } else {
                ++hidden;
                CHECK_FALSE(t.contains("file"));
                CHECK_FALSE(t.contains("line"));
            }
        }
    }
    CHECK(visible > 0);
    CHECK(hidden > 0);
}

TEST_CASE("formats: bytes that are not text reach every format safely and grading goes on", "[formats]") {
    TempDir ws("bytes");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    // The student's code prints invalid UTF-8 (a raw 0xFF), NUL, terminal escapes and a line of a
    // megabyte (once: the output limit is 1 MiB); returns a name with those bytes (in assertion
    // expansions and captured values) that differs on every call; and throws an exception whose
    // message holds them too, with another megabyte.
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    std::string text = "#include <cstdio>\n#include <stdexcept>\n#include <string>\n" + read_file(file);
    const std::string identity = "return {\"Ada Lovelace\", \"ada\", \"ada@example.com\"};";
    REQUIRE(text.find(identity) != std::string::npos);
    text.replace(text.find(identity), identity.size(),
                 "static int calls = 0;\n"
                 "    const std::string bad = std::string(\"Ada\\xff\\xfe\") + std::string(1, '\\0') + \"\\x1b[31mred\\x07\\r\";\n"
                 "    std::fwrite(bad.data(), 1, bad.size(), stdout);\n"
                 "    if (calls == 0) { const std::string line(1000000, 'y'); std::fwrite(line.data(), 1, line.size(), stdout); }\n"
                 "    std::fflush(stdout);\n"
                 "    return {bad + std::to_string(++calls), \"ada\", \"ada@example.com\"};");
    const std::string marker = "SystemReport system_check() {";
    REQUIRE(text.find(marker) != std::string::npos);
    text.replace(text.find(marker), marker.size(),
                 marker + " throw std::runtime_error(std::string(\"bad \\xff\\x01 bytes \") + std::string(1 << 20, 'z'));");
    write_file(file, text);

    Run table = tito({"test", "01"}, ws.path);
    INFO(table.text().substr(0, 4000));
    CHECK(table.exit_code == 1);
    CHECK_THAT(table.out, Catch::Contains("score ") && !Catch::Contains("invalid UTF-8") && !Catch::Contains("\xff"));
    CHECK(table.err.empty());
    const nlohmann::json stored = results(ws.path, "01_setup");
    CHECK(stored.at("outcome") == "graded");
    CHECK(stored.at("score").get<int>() > 0);
    bool saw_escape = false;
    for (const auto& t : stored.at("tests")) {
        const std::string all = t.at("reason").get<std::string>() + t.at("details").get<std::string>();
        saw_escape = saw_escape || all.find("\\x00\\x1b[31mred\\x07") != std::string::npos;
        CHECK(all.size() < 256 * 1024);
    }
    CHECK(saw_escape);
    // Through the result channel: an assertion's expansion and an exception's message.
    const auto same = test_result(stored, "my_identity returns the same identity on every call");
    CHECK_THAT(same.at("reason").get<std::string>(), Catch::StartsWith("got \"Ada\xEF\xBF\xBD\xEF\xBF\xBD\\x00\\x1b[31mred\\x07\\r1\" =="));
    const auto threw = test_result(stored, "system_check reports the byte order");
    CHECK_THAT(threw.at("reason").get<std::string>(), Catch::StartsWith("threw: bad \xEF\xBF\xBD\\x01 bytes zzz"));
    CHECK_THAT(threw.at("details").get<std::string>(), Catch::Contains("[... line cut: "));
    CHECK(progress_of_attempts(ws.path) == 1);

    Run verbose = tito({"test", "01", "-v"}, ws.path);
    CHECK(verbose.exit_code == 1);
    CHECK_THAT(verbose.out, Catch::Contains("\\x1b[31m") && Catch::Contains("[... line cut: ") && !Catch::Contains("\x1b"));
    Run json_run = tito({"test", "01", "--format", "json"}, ws.path);
    CHECK(json_run.exit_code == 1);
    CHECK(nlohmann::json::parse(json_run.out).at("score") == stored.at("score"));
    Run junit = tito({"test", "01", "--format", "junit"}, ws.path);
    CHECK(junit.exit_code == 1);
    CHECK(junit_schema_errors(junit.out) == "");
    Run gradescope = tito({"test", "01", "--format", "gradescope"}, ws.path);
    CHECK(gradescope.exit_code == 1);
    CHECK(gradescope_schema_errors(gradescope.out) == "");
    CHECK(nlohmann::json::parse(gradescope.out).at("score") == stored.at("score"));
}

TEST_CASE("formats: who sees what of a Gradescope export comes from configs/grading.json", "[formats]") {
    // A copy of the installed course whose grading.json differs (TITO_HOME points tito at it).
    TempDir home("gradescope-home");
    const fs::path share = build_dir() / "share" / "tinytorch";
    for (const auto& entry : fs::directory_iterator(share))
        if (entry.path().filename() != "configs") fs::create_directory_symlink(entry.path(), home.path / entry.path().filename());
    fs::copy(share / "configs", home.path / "configs", fs::copy_options::recursive);
    nlohmann::json grading = nlohmann::json::parse(read_file(home.path / "configs" / "grading.json"));
    grading["gradescope"] = {{"visibility", "after_due_date"}, {"stdout_visibility", "visible"}, {"hidden_tests", "hidden"}, {"visible_tests", "after_published"}};
    write_file(home.path / "configs" / "grading.json", grading.dump(2));
    const std::map<std::string, std::string> env = {{"TITO_HOME", home.path.string()}};

    TempDir ws("gradescope-config");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path, env).exit_code == 0);
    Run run = tito({"test", "01", "--format", "gradescope"}, ws.path, env);
    INFO(run.text());
    CHECK(gradescope_schema_errors(run.out) == "");
    const nlohmann::json gs = nlohmann::json::parse(run.out);
    CHECK(gs.at("visibility") == "after_due_date");
    CHECK(gs.at("stdout_visibility") == "visible");
    for (const auto& t : gs.at("tests")) CHECK((t.at("visibility") == "hidden" || t.at("visibility") == "after_published"));

    grading["gradescope"]["hidden_tests"] = "secret";
    write_file(home.path / "configs" / "grading.json", grading.dump(2));
    Run bad = tito({"test", "01", "--format", "gradescope"}, ws.path, env);
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::StartsWith("error: configs/grading.json: gradescope.hidden_tests is secret") && Catch::Contains("hint: use one of visible"));
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
}
