// End to end: bad input gets one clear line with a hint, never a crash, and nothing is lost.
#include <catch2/catch.hpp>
#include <sstream>

#include "e2e_support.h"

using namespace e2e;

namespace {

// An error is one line on stderr that starts with "error:" and carries a hint.
void check_one_line_error(const Run& run, const std::string& must_mention) {
    INFO(run.text());
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::StartsWith("error: ") && Catch::Contains(must_mention) && Catch::Contains("hint:"));
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
    CHECK_THAT(run.err, !Catch::Contains("terminate") && !Catch::Contains("what()") && !Catch::Contains("Aborted"));
}

}  // namespace

TEST_CASE("errors: unknown module names", "[errors]") {
    TempDir ws("unknown");
    check_one_line_error(tito({"module", "start", "42"}, ws.path), "unknown module '42'");
    Run typo = tito({"module", "start", "tensr"}, ws.path);
    check_one_line_error(typo, "unknown module 'tensr'");
    CHECK_THAT(typo.err, Catch::Contains("did you mean '02_tensor'"));
    CHECK_FALSE(fs::exists(ws.path / ".tito"));  // nothing was created for a bad request
    check_one_line_error(tito({"module", "start", "07"}, ws.path), "has no content yet");
    // Every way of naming a module reaches the same one.
    for (const char* spec : {"9", "09", "spatial", "09_spatial"})
        check_one_line_error(tito({"module", "start", spec}, ws.path), "module 09_spatial has no content yet");
}

TEST_CASE("errors: outside a workspace", "[errors]") {
    TempDir ws("outside");
    check_one_line_error(tito({"test", "01"}, ws.path), "not inside a tito workspace");
    check_one_line_error(tito({"status"}, ws.path), "not inside a tito workspace");
}

TEST_CASE("errors: a corrupt progress.json is reported and never overwritten", "[errors]") {
    TempDir ws("corrupt");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const fs::path progress = ws.path / ".tito" / "progress.json";
    const std::string corrupt = "{\"modules\": {\"01\": {\"state\": \"started\",,}}";
    write_file(progress, corrupt);
    const std::string student = read_file(ws.path / "01_setup" / "setup.cpp");

    check_one_line_error(tito({"test", "01"}, ws.path), "progress.json is not valid JSON");
    check_one_line_error(tito({"status"}, ws.path), "progress.json");
    check_one_line_error(tito({"module", "start", "01"}, ws.path), "progress.json");
    CHECK(read_file(progress) == corrupt);
    CHECK(read_file(ws.path / "01_setup" / "setup.cpp") == student);

    // Wrong structure (valid JSON, wrong types) is also a clear error.
    write_file(progress, "[1, 2, 3]");
    check_one_line_error(tito({"status"}, ws.path), "progress.json");
    write_file(progress, "{\"modules\": {\"01\": {\"state\": \"flying\"}}}");
    check_one_line_error(tito({"status"}, ws.path), "unknown state 'flying'");
}

TEST_CASE("errors: a missing compiler", "[errors]") {
    TempDir ws("nocompiler");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const std::string progress = read_file(ws.path / ".tito" / "progress.json");
    const std::string student = read_file(ws.path / "01_setup" / "setup.cpp");
    Run run = tito({"test", "01"}, ws.path, {{"TITO_CXX", "/nonexistent/bin/g++"}});
    check_one_line_error(run, "C++ compiler '/nonexistent/bin/g++' not found");
    CHECK_THAT(run.err, Catch::Contains("apt-get install g++"));
    Run by_name = tito({"test", "01"}, ws.path, {{"TITO_CXX", "no-such-compiler-x"}});
    check_one_line_error(by_name, "not found on PATH");
    CHECK(read_file(ws.path / ".tito" / "progress.json") == progress);
    CHECK(read_file(ws.path / "01_setup" / "setup.cpp") == student);
    Run doctor = tito({"doctor"}, ws.path, {{"TITO_CXX", "/nonexistent/bin/g++"}});
    CHECK(doctor.exit_code == 1);
    CHECK_THAT(doctor.out, Catch::Contains("fail") && Catch::Contains("compiler") && Catch::Contains("hint"));
}

TEST_CASE("errors: student code with a syntax error", "[errors]") {
    TempDir ws("syntax");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    std::string text = read_file(file);
    // Break line 3 of the function body area: an unclosed expression.
    text += "\nint broken() { return 1 +; }\n";
    write_file(file, text);
    const int line = static_cast<int>(std::count(text.begin(), text.end(), '\n'));

    Run run = tito({"test", "01"}, ws.path);
    INFO(run.text());
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.out, Catch::Contains("01_setup/setup.cpp:" + std::to_string(line) + ":"));
    CHECK_THAT(run.out, Catch::Contains("does not compile"));
    CHECK(read_file(file) == text);  // untouched
    nlohmann::json report = results(ws.path, "01_setup");
    CHECK(report.at("outcome") == "compile_error");
    CHECK(report.at("score") == 0);
    // A missing student file is a clear error too, and `module start` restores it.
    fs::remove(file);
    check_one_line_error(tito({"test", "01"}, ws.path), "01_setup/setup.cpp is missing");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    CHECK(fs::exists(file));
}

TEST_CASE("errors: bad options", "[errors]") {
    TempDir ws("options");
    Run run = tito({"test", "--format", "xml"}, ws.path);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains("xml"));
    CHECK(tito({"frobnicate"}, ws.path).exit_code == 2);
}
