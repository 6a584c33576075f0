// End to end: `tito test` itself - two at once in one workspace, partial runs (--filter,
// --exitfirst) that record nothing, -q, a module that is not started, compiler errors, and the
// progress line on a terminal.
#include <algorithm>
#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

#include "e2e_support.h"

using namespace e2e;

namespace {

nlohmann::json progress_of(const fs::path& workspace) {
    return nlohmann::json::parse(read_file(workspace / ".tito" / "progress.json"));
}

std::string git_log(const fs::path& workspace) {
    return run({"/usr/bin/git", "-C", workspace.string(), "log", "--format=%s"}, workspace).out;
}

int count_of(const std::string& text, const std::string& part) {
    int n = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

// Module 01 with the reference solution, except that system_check() throws: the identity tests
// pass, the system tests fail.
void half_solved(const fs::path& workspace) {
    drop_in_reference(workspace, "01_setup");
    const fs::path file = workspace / "01_setup" / "setup.cpp";
    std::string text = read_file(file);
    const std::string marker = "SystemReport system_check() {";
    REQUIRE(text.find(marker) != std::string::npos);
    text.replace(text.find(marker), marker.size(), marker + " throw tt::Error(\"broken on purpose\");");
    write_file(file, text);
}

}  // namespace

TEST_CASE("test: two tito test at once in one workspace both count, nothing is lost", "[testcmd]") {
    TempDir ws("concurrent");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    const int commits_before = commit_count(ws.path);

    Started first = start_tito({"test", "01"}, ws.path);
    Started second = start_tito({"test", "01"}, ws.path);
    Run a = finish(first, 600);
    Run b = finish(second, 600);
    INFO("first:\n" << a.text() << "\nsecond:\n" << b.text());
    CHECK(a.exit_code == 0);
    CHECK(b.exit_code == 0);
    CHECK_THAT(a.out, Catch::Contains("score 16/16"));
    CHECK_THAT(b.out, Catch::Contains("score 16/16"));
    CHECK_THAT(a.text() + b.text(), !Catch::Contains("could not be started"));
    // One of them waited for the other, and said so.
    const std::string waited = a.err + b.err;
    CHECK(std::regex_search(waited, std::regex("waiting for another tito in this workspace \\(pid [0-9]+: tito test 01\\) \\.\\.\\.")));

    const nlohmann::json module = progress_of(ws.path).at("modules").at("01");
    CHECK(module.at("attempts") == 2);
    CHECK(module.at("state") == "passed");
    CHECK(module.at("last_score") == 16);
    CHECK(results(ws.path, "01_setup").at("score") == 16);
    CHECK(commit_count(ws.path) == commits_before + 2);
    CHECK(count_of(git_log(ws.path), "tito test 01_setup: 16/16") == 2);
}

TEST_CASE("test: --filter and --exitfirst are partial runs and record nothing", "[testcmd]") {
    TempDir ws("partial");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    half_solved(ws.path);
    const std::string progress_before = read_file(ws.path / ".tito" / "progress.json");
    const int commits_before = commit_count(ws.path);
    const fs::path results_file = ws.path / ".tito" / "results" / "01_setup.json";

    // --filter: only the matching tests run; all of them pass, so the exit status is 0.
    Run filtered = tito({"test", "01", "--filter", "my_identity"}, ws.path);
    INFO(filtered.text());
    CHECK(filtered.exit_code == 0);
    CHECK_THAT(filtered.out, Catch::Contains("more tests not run") && Catch::Contains("not recorded"));
    CHECK_THAT(filtered.out, Catch::Contains("my_identity") && !Catch::Contains("system_check"));  // only what ran is listed
    CHECK_FALSE(fs::exists(results_file));
    CHECK(read_file(ws.path / ".tito" / "progress.json") == progress_before);
    CHECK(commit_count(ws.path) == commits_before);

    // --exitfirst: stops at the first test that does not pass; the rest are "not run".
    Run first = tito({"test", "01", "-x", "--format", "json"}, ws.path);
    INFO(first.text());
    CHECK(first.exit_code == 1);
    const nlohmann::json report = nlohmann::json::parse(first.out);
    CHECK(report.at("partial") == true);
    int failed = 0, not_run = 0;
    bool after_failure = false;
    for (const auto& t : report.at("tests")) {
        if (after_failure) CHECK(t.at("status") == "not_run");
        if (t.at("status") == "not_run") ++not_run;
        if (t.at("status") != "passed" && t.at("status") != "not_run") {
            ++failed;
            after_failure = true;
        }
    }
    CHECK(failed == 1);
    CHECK(not_run > 0);
    CHECK_FALSE(fs::exists(results_file));
    CHECK(read_file(ws.path / ".tito" / "progress.json") == progress_before);
    CHECK(commit_count(ws.path) == commits_before);
    Run long_name = tito({"test", "01", "--exitfirst", "-q"}, ws.path);
    CHECK(long_name.exit_code == 1);
    CHECK_FALSE(fs::exists(results_file));

    // A full run records, as always.
    CHECK(tito({"test", "01", "-q"}, ws.path).exit_code == 1);
    CHECK(fs::exists(results_file));
    CHECK(progress_of(ws.path).at("modules").at("01").at("attempts") == 1);
    CHECK(commit_count(ws.path) == commits_before + 1);
}

TEST_CASE("test: -q shows the score line, and errors", "[testcmd]") {
    TempDir ws("quiet");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    half_solved(ws.path);
    Run quiet = tito({"-q", "test", "01"}, ws.path);
    INFO(quiet.text());
    CHECK(quiet.exit_code == 1);
    CHECK_THAT(quiet.out, Catch::StartsWith("score ") && Catch::Contains("(01_setup: "));
    CHECK(std::count(quiet.out.begin(), quiet.out.end(), '\n') == 1);

    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    write_file(file, read_file(file) + "\nint broken() { return 1 +; }\n");
    Run broken = tito({"-q", "test", "01"}, ws.path);
    INFO(broken.text());
    CHECK(broken.exit_code == 1);
    CHECK_THAT(broken.out, Catch::StartsWith("error: 01_setup/setup.cpp does not compile") && Catch::Contains("01_setup/setup.cpp:") &&
                               Catch::Contains("error:") && Catch::EndsWith("score 0/16  (01_setup)\n"));
}

TEST_CASE("test: a module that is not started says so, and how to start it", "[testcmd]") {
    TempDir ws("not-started");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    Run run = tito({"test", "05"}, ws.path);
    INFO(run.text());
    CHECK(run.exit_code == 2);
    CHECK(run.err == "error: module 05_losses is not started in this workspace (hint: start it with `tito module start 05`)\n");
    CHECK_FALSE(fs::exists(ws.path / ".tito" / "results" / "05_losses.json"));
}

TEST_CASE("test: one bad line shows its first error and counts the rest", "[testcmd]") {
    TempDir ws("compile-errors");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    // A missing brace: everything after it is inside the function, a cascade of errors.
    std::string text = read_file(file);
    const std::string marker = "StudentIdentity my_identity() {";
    REQUIRE(text.find(marker) != std::string::npos);
    text.replace(text.find(marker), marker.size(), marker + " if (true) {");
    write_file(file, text);

    Run run = tito({"test", "01"}, ws.path);
    INFO(run.text());
    CHECK(run.exit_code == 1);
    const std::string log = read_file(ws.path / ".tito" / "build" / "01_setup" / "test-sanitized" / "compile.log");
    const int errors = count_of(log, ": error: ");
    REQUIRE(errors > 1);
    CHECK(count_of(run.out, ": error: ") == 1);
    CHECK_THAT(run.out, Catch::Contains("... and " + std::to_string(errors - 1) + " more error") && Catch::Contains("tito test -v") &&
                            Catch::Contains(".tito/build/01_setup/test-sanitized/compile.log"));
    CHECK(std::count(run.out.begin(), run.out.end(), '\n') < 25);
    Run verbose = tito({"test", "01", "-v"}, ws.path);
    CHECK(count_of(verbose.out, ": error: ") == errors);
}

TEST_CASE("test: on a terminal the progress line names the file being compiled and the time", "[testcmd]") {
    TempDir ws("progress");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    Run run = tito_on_terminal({"test", "01"}, ws.path);
    INFO(run.err);
    CHECK(run.exit_code == 0);
    CHECK(std::regex_search(run.err, std::regex("compiling 01_setup  setup\\.cpp \\(0 of 1 compiled\\)  [0-9]+\\.[0-9] s")));
    CHECK_THAT(run.err, Catch::Contains("testing 01_setup  1/11"));
    // Not on a terminal: no progress line at all.
    Run piped = tito({"test", "01"}, ws.path);
    CHECK_THAT(piped.err, !Catch::Contains("compiling"));
}

namespace {

// [start, end] of each test that logged one line "<start ns> <end ns>" (CLOCK_MONOTONIC, which is
// the same clock in every process).
std::vector<std::pair<long long, long long>> intervals_in(const fs::path& log) {
    std::vector<std::pair<long long, long long>> intervals;
    std::istringstream in(fs::exists(log) ? read_file(log) : "");
    long long begin = 0, end = 0;
    while (in >> begin >> end) intervals.emplace_back(begin, end);
    return intervals;
}

bool any_overlap(const std::vector<std::pair<long long, long long>>& intervals) {
    for (size_t i = 0; i < intervals.size(); ++i)
        for (size_t j = i + 1; j < intervals.size(); ++j)
            if (intervals[i].first < intervals[j].second && intervals[j].first < intervals[i].second) return true;
    return false;
}

}  // namespace

TEST_CASE("test: tests run two at a time, and one at a time with --exitfirst", "[testcmd]") {
    TempDir ws("parallel");
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    // Every system_check test waits 300 ms and logs when it ran. Two tests whose intervals overlap
    // ran at the same time, however busy the machine is (no timing threshold involved).
    const fs::path log = ws.path / "intervals.log";
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    std::string text = "#include <chrono>\n#include <fstream>\n#include <thread>\n#include <time.h>\n" + read_file(file);
    const std::string marker = "SystemReport system_check() {";
    REQUIRE(text.find(marker) != std::string::npos);
    text.replace(text.find(marker), marker.size(),
                 marker + " { auto now = [] { timespec t{}; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; };"
                          " long long begin = now(); std::this_thread::sleep_for(std::chrono::milliseconds(300));"
                          " std::ofstream(\"" + log.string() + "\", std::ios::app) << begin << ' ' << now() << '\\n'; }");
    write_file(file, text);

    Run run = tito({"test", "01", "--format", "json"}, ws.path);
    INFO(run.text());
    REQUIRE(run.exit_code == 0);
    const auto parallel = intervals_in(log);
    CHECK(parallel.size() >= 4);  // every system_check test logged
    CHECK(any_overlap(parallel));

    // --exitfirst must stop at the first failure, so it runs one test at a time.
    fs::remove(log);
    Run first = tito({"test", "01", "-x", "--format", "json"}, ws.path);
    INFO(first.text());
    REQUIRE(first.exit_code == 0);
    const auto serial = intervals_in(log);
    CHECK(serial.size() == parallel.size());
    CHECK_FALSE(any_overlap(serial));
}
