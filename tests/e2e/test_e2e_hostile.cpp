// End to end: hostile student code. Each case puts misbehaving code into module 01's
// system_check() (the identity tests never call it, so they must keep their points) and checks:
// the affected tests fail with the right reason, tito finishes in bounded time with bounded
// memory, no process is left behind, and the workspace state is intact.
#include <algorithm>
#include <catch2/catch.hpp>

#include "e2e_support.h"

using namespace e2e;

namespace {

struct Hostile {
    std::string includes;  // added at the top of the file
    std::string code;      // runs at the start of system_check()
    std::string globals;   // added after the includes
};

struct Outcome {
    Run run;
    nlohmann::json report;
};

// Runs `tito test 01` on the reference with `hostile` injected. `expect_pass`: the hostile code
// is harmless to the results (only its side effects are checked).
Outcome run_hostile(const std::string& name, const Hostile& hostile, std::vector<std::string> extra_args = {},
                    bool expect_pass = false) {
    TempDir ws("hostile-" + name);
    REQUIRE(tito({"module", "start", "01", "-q"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    std::string text = read_file(file);
    const std::string marker = "SystemReport system_check() {";
    REQUIRE(text.find(marker) != std::string::npos);
    text.replace(text.find(marker), marker.size(), marker + "\n" + hostile.code + "\n");
    text = hostile.includes + "\n" + text;
    const std::string ns = "namespace tt {";
    text.replace(text.find(ns), ns.size(), hostile.globals + "\n" + ns);
    write_file(file, text);
    const std::string progress_before = read_file(ws.path / ".tito" / "progress.json");

    if (std::find(extra_args.begin(), extra_args.end(), "--timeout") == extra_args.end())
        extra_args.insert(extra_args.end(), {"--timeout", "3"});
    std::vector<std::string> args = {"test", "01"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    Outcome out{tito(args, ws.path, {}, 240), {}};
    INFO(out.run.text());
    CHECK_FALSE(out.run.timed_out);
    CHECK(out.run.exit_code == (expect_pass ? 0 : 1));
    CHECK(out.run.peak_rss_kib < 150 * 1024);  // tito itself stays small whatever the child does
    // No process of the run survives it.
    CHECK(processes_with_environment("TITO_CHILD=1").empty());
    // The student's file is untouched, the state files are valid and say what tito recorded.
    CHECK(read_file(file) == text);
    nlohmann::json progress = nlohmann::json::parse(read_file(ws.path / ".tito" / "progress.json"));
    CHECK(progress.at("modules").at("01").at("state") == (expect_pass ? "passed" : "started"));
    CHECK(progress.at("modules").at("01").at("attempts") == 1);
    CHECK(progress_before != read_file(ws.path / ".tito" / "progress.json"));
    out.report = results(ws.path, "01_setup");
    return out;
}

// Some tests pass (those that never call system_check) and every failing one has `reason`.
void check_reasons(const Outcome& out, const std::string& reason) {
    INFO(out.run.out);
    int passed = 0, failed = 0;
    for (const auto& t : out.report.at("tests")) {
        if (t.at("status") == "passed") {
            ++passed;
            continue;
        }
        ++failed;
        INFO(t.at("name").get<std::string>());
        CHECK_THAT(t.at("reason").get<std::string>(), Catch::Contains(reason));
    }
    CHECK(passed > 0);
    CHECK(failed > 0);
    CHECK(out.report.at("score").get<int>() > 0);
    CHECK(out.report.at("score").get<int>() < out.report.at("max_score").get<int>());
}

}  // namespace

TEST_CASE("hostile: an infinite loop times out", "[hostile]") {
    Outcome out = run_hostile("loop", {"", "volatile bool forever = true;\nwhile (forever) {}", ""});
    check_reasons(out, "timed out after 3 s");
}

TEST_CASE("hostile: a fork of many sleeping children, some escaping with setsid", "[hostile]") {
    Outcome out = run_hostile("forks", {"#include <unistd.h>",
                                        "for (int i = 0; i < 200; ++i) {\n"
                                        "    if (fork() == 0) {\n"
                                        "        if (i % 2 == 0) { setsid(); if (fork() != 0) _exit(0); }\n"
                                        "        sleep(1000); _exit(0);\n"
                                        "    }\n"
                                        "}\n"
                                        "sleep(1000);",
                                        ""});
    check_reasons(out, "started more than");
}

TEST_CASE("hostile: a few escaping children do not outlive a passing test", "[hostile]") {
    Outcome out = run_hostile("escape", {"#include <unistd.h>",
                                         "if (fork() == 0) { setsid(); if (fork() == 0) { sleep(1000); } _exit(0); }",
                                         ""},
                              {}, true);
    // All tests may pass here; what matters is that no process survives (checked in run_hostile).
    (void)out;
}

TEST_CASE("hostile: a segmentation fault", "[hostile]") {
    Outcome out = run_hostile("segv", {"", "volatile int* nowhere = reinterpret_cast<volatile int*>(64); *nowhere = 42;", ""});
    check_reasons(out, "segmentation fault");
}

TEST_CASE("hostile: abort", "[hostile]") {
    Outcome out = run_hostile("abort", {"#include <cstdlib>", "std::abort();", ""});
    check_reasons(out, "aborted (SIGABRT)");
}

TEST_CASE("hostile: _exit(0) after printing fake passing output", "[hostile]") {
    Outcome out = run_hostile("fake", {"#include <cstdio>\n#include <unistd.h>",
                                       "std::printf(\"All tests passed (42 assertions in 1 test case)\\n\");\n"
                                       "std::printf(\"{\\\"test\\\": \\\"x\\\", \\\"passed\\\": true}\\n\");\n"
                                       "std::fflush(stdout); _exit(0);",
                                       ""});
    check_reasons(out, "exited before reporting a result");
}

TEST_CASE("hostile: a gigabyte of output", "[hostile]") {
    Outcome out = run_hostile("output", {"#include <cstdio>\n#include <string>",
                                         "std::string line(1 << 20, 'x');\n"
                                         "for (int i = 0; i < 1024; ++i) std::fwrite(line.data(), 1, line.size(), stdout);",
                                         ""});
    check_reasons(out, "more than 1024 KiB of output");
}

TEST_CASE("hostile: allocating 8 GiB", "[hostile]") {
    // Page faults run at about 1 GiB/s on these machines: give the 2 GiB limit time to trip.
    Outcome out = run_hostile("memory", {"#include <vector>",
                                         "std::vector<char> big(size_t(8) << 30, 1);\nvolatile char sink = big[12345];\n(void)sink;",
                                         ""},
                              {"--timeout", "30"});
    check_reasons(out, "MiB of memory");
    // The same without sanitizers, where the address-space limit also applies.
    Outcome plain = run_hostile("memory-plain", {"#include <vector>",
                                                 "std::vector<char> big(size_t(8) << 30, 1);\nvolatile char sink = big[12345];\n(void)sink;",
                                                 ""},
                                {"--no-sanitize", "--timeout", "30"});
    check_reasons(plain, "memory");
}

TEST_CASE("hostile: overwriting tito's state files", "[hostile]") {
    Outcome out = run_hostile("tamper", {"#include <filesystem>\n#include <fstream>",
                                         "for (auto dir = std::filesystem::current_path(); dir != dir.root_path(); dir = dir.parent_path()) {\n"
                                         "    if (std::filesystem::exists(dir / \".tito\" / \"progress.json\")) {\n"
                                         "        std::ofstream(dir / \".tito\" / \"progress.json\") << \"{\\\"modules\\\": {\\\"01\\\": {\\\"state\\\": \\\"passed\\\", \\\"best_score\\\": 999}}}\";\n"
                                         "        std::ofstream(dir / \".tito\" / \"results\" / \"01_setup.json\") << \"{\\\"score\\\": 999}\";\n"
                                         "        std::ofstream(dir / \".tito\" / \"forged.json\") << \"{}\";\n"
                                         "        break;\n"
                                         "    }\n"
                                         "}",
                                         ""});
    check_reasons(out, "changed tito's state files");
    // Tests run two at a time; a change of the state files is pinned on the test that made it
    // (each suspect runs again alone), never on the test that happened to run beside it.
    for (const auto& t : out.report.at("tests")) {
        const std::string name = t.at("name");
        INFO(name);
        if (name.rfind("my_identity", 0) == 0) CHECK(t.at("status") == "passed");
    }
}

TEST_CASE("hostile: a hang before main() is reported once, quickly", "[hostile]") {
    // With 20 s a test, timing out test by test would take minutes; the start-up probe takes 5 s.
    Outcome out = run_hostile("static", {"", "", "static int hang_forever = [] { volatile bool forever = true; while (forever) {} return 0; }();"},
                              {"--timeout", "20"});
    CHECK(out.report.at("outcome") == "startup_failed");
    CHECK(out.report.at("score") == 0);
    CHECK_THAT(out.run.out, Catch::Contains("hung before any test started"));
    CHECK(out.report.at("tests").size() > 2);
    CHECK(out.run.seconds < 60);
}
