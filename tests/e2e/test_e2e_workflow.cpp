// End to end: a student's session with the real tito, in a temporary folder.
#include <catch2/catch.hpp>

#include "e2e_support.h"

using namespace e2e;

namespace {

nlohmann::json progress_of(const fs::path& workspace) {
    return nlohmann::json::parse(read_file(workspace / ".tito" / "progress.json"));
}

}  // namespace

TEST_CASE("workflow: start 01, fail the tests, solve, pass", "[workflow]") {
    TempDir ws("workflow");
    Run start = tito({"module", "start", "01"}, ws.path);
    INFO(start.text());
    REQUIRE(start.exit_code == 0);
    CHECK_THAT(start.out, Catch::Contains("01_setup/setup.cpp"));
    CHECK(fs::exists(ws.path / "01_setup" / "setup.cpp"));
    CHECK(fs::exists(ws.path / "01_setup" / "README.md"));
    CHECK(fs::exists(ws.path / "01_setup" / "tests"));
    CHECK(fs::exists(ws.path / ".tito" / "workspace.json"));
    CHECK(fs::exists(ws.path / ".git"));
    CHECK_THAT(read_file(ws.path / "compile_commands.json"), Catch::Contains("setup.cpp"));
    CHECK_THAT(read_file(ws.path / "01_setup" / "setup.cpp"), Catch::Contains("NotImplemented"));
    CHECK_THAT(read_file(ws.path / "01_setup" / "setup.cpp"), !Catch::Contains("Ada Lovelace"));
    const int commits_after_start = commit_count(ws.path);
    CHECK(commits_after_start >= 1);

    // The untouched template fails every test, from inside the module folder too.
    Run failing = tito({"test"}, ws.path / "01_setup");
    INFO(failing.text());
    CHECK(failing.exit_code == 1);
    CHECK_THAT(failing.out, Catch::Contains("score 0/"));
    CHECK_THAT(failing.out, Catch::Contains("not implemented"));
    nlohmann::json first = results(ws.path, "01_setup");
    CHECK(first.at("score") == 0);
    CHECK(progress_of(ws.path).at("modules").at("01").at("state") == "started");

    // The reference solution passes.
    drop_in_reference(ws.path, "01_setup");
    Run passing = tito({"test", "01"}, ws.path);
    INFO(passing.text());
    CHECK(passing.exit_code == 0);
    nlohmann::json second = results(ws.path, "01_setup");
    CHECK(second.at("score") == second.at("max_score"));
    nlohmann::json progress = progress_of(ws.path);
    CHECK(progress.at("modules").at("01").at("state") == "passed");
    CHECK(progress.at("modules").at("01").at("attempts") == 2);
    CHECK(progress.at("modules").at("01").at("best_score") == second.at("max_score"));
    CHECK(commit_count(ws.path) == commits_after_start + 2);  // one snapshot per test run

    // Status shows it; module 02 is now ready rather than locked.
    Run status = tito({"--json", "status"}, ws.path);
    REQUIRE(status.exit_code == 0);
    nlohmann::json modules = nlohmann::json::parse(status.out).at("modules");
    CHECK(modules.at(0).at("state") == "passed");
    CHECK(modules.at(1).at("state") == "ready");
    CHECK(modules.at(2).at("state") == "locked");
    Run table = tito({"status"}, ws.path);
    CHECK_THAT(table.out, Catch::Contains("passed") && Catch::Contains("1 of 20 modules passed"));
}

TEST_CASE("workflow: a second start keeps the student's edits and restores missing files", "[workflow]") {
    TempDir ws("restart");
    REQUIRE(tito({"module", "start", "1"}, ws.path).exit_code == 0);
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    const std::string edited = read_file(file) + "\n// my notes: identity first\n";
    write_file(file, edited);
    fs::remove(ws.path / "01_setup" / "README.md");

    Run again = tito({"module", "start", "setup"}, ws.path);
    INFO(again.text());
    REQUIRE(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("kept"));
    CHECK(read_file(file) == edited);
    CHECK(fs::exists(ws.path / "01_setup" / "README.md"));
}

TEST_CASE("workflow: starting 02 before 01 is passed warns, --force does not", "[workflow]") {
    TempDir ws("order");
    Run warned = tito({"module", "start", "02"}, ws.path);
    CHECK(warned.exit_code == 0);
    CHECK_THAT(warned.err, Catch::Contains("warning") && Catch::Contains("01_setup"));
    Run forced = tito({"module", "start", "02_tensor", "--force"}, ws.path);
    CHECK(forced.exit_code == 0);
    CHECK_THAT(forced.err, !Catch::Contains("warning"));
    for (const char* file : {"tensor.cpp", "elementwise.cpp", "reductions.cpp", "matmul.cpp"})
        CHECK(fs::exists(ws.path / "02_tensor" / file));
}

TEST_CASE("workflow: module reset commits the student's files, then restores the templates", "[workflow]") {
    TempDir ws("reset");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    const std::string template_text = read_file(file);
    write_file(file, template_text + "// precious work\n");

    Run reset = tito({"module", "reset", "01"}, ws.path);
    INFO(reset.text());
    REQUIRE(reset.exit_code == 0);
    CHECK(read_file(file) == template_text);
    // The saved commit still has the student's version.
    Run show = run({"/usr/bin/git", "-C", ws.path.string(), "log", "-p", "--all"}, ws.path);
    CHECK_THAT(show.out, Catch::Contains("precious work"));
}

TEST_CASE("workflow: module list shows all 20 modules, with states inside a workspace", "[workflow]") {
    TempDir ws("list");
    Run outside = tito({"module", "list"}, ws.path);
    REQUIRE(outside.exit_code == 0);
    CHECK_THAT(outside.out, Catch::Contains("tensor") && Catch::Contains("capstone"));
    Run json = tito({"--json", "module", "list"}, ws.path);
    REQUIRE(json.exit_code == 0);
    nlohmann::json modules = nlohmann::json::parse(json.out);
    REQUIRE(modules.size() == 20);
    CHECK(modules.at(8).at("id") == "09");
    CHECK(modules.at(8).at("name") == "spatial");
    CHECK_FALSE(modules.at(0).contains("state"));

    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    nlohmann::json inside = nlohmann::json::parse(tito({"--json", "module", "list"}, ws.path).out);
    CHECK(inside.at(0).at("state") == "started");
    CHECK(inside.at(1).at("state") == "locked");
}

TEST_CASE("workflow: tito --help, --version and doctor", "[workflow]") {
    TempDir ws("help");
    Run help = tito({"--help"}, ws.path);
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("module") && Catch::Contains("test") && Catch::Contains("doctor"));
    Run version = tito({"--version"}, ws.path);
    CHECK(version.exit_code == 0);
    CHECK_THAT(version.out, Catch::StartsWith("tito "));
    Run doctor = tito({"doctor"}, ws.path);
    INFO(doctor.text());
    CHECK(doctor.exit_code == 0);
    CHECK_THAT(doctor.out, Catch::Contains("compiler") && Catch::Contains("engine") && Catch::Contains("workspace"));
    Run doctor_json = tito({"--json", "doctor"}, ws.path);
    CHECK(nlohmann::json::parse(doctor_json.out).at("ok") == true);
}
