// Tests of cli/report.cpp: the table for a person (-q, normal, -v), and the exports checked
// against the schemas in tests/schemas/ (JUnit XSD with libxml2, Gradescope's results.json with
// valijson), with every kind of test result and the bytes a student's code can produce.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "compiler.h"
#include "e2e_support.h"
#include "errors.h"
#include "files.h"
#include "report.h"
#include "text.h"

namespace fs = std::filesystem;
using nlohmann::json;
using tito::Detail;
using tito::GradeReport;
using tito::TestCaseResult;

namespace {

const std::string kHostile = std::string("Ada\xff\xfe") + std::string(1, '\0') + "\x1b[31mred\x07" + "\xEF\xBF\xBE" + "<&\"'>";

TestCaseResult make_test(const std::string& name, const std::string& status, int points, int max_points, bool visible) {
    TestCaseResult t;
    t.name = name;
    t.status = status;
    t.points = points;
    t.max_points = max_points;
    t.visible = visible;
    t.seconds = 0.00001;  // would print as 1e-05 with a plain ostream
    return t;
}

// A graded module with one test of every status; the failing ones carry hostile text that went
// through evaluate_run, as it does in tito.
GradeReport graded_report() {
    GradeReport r;
    r.module_id = "02";
    r.module_dir = "02_tensor";
    r.outcome = "graded";
    r.started_at = "2026-11-30T07:06:53Z";
    r.tests.push_back(make_test("views share storage", "passed", 2, 2, false));
    TestCaseResult failed = make_test("sum over an axis", "failed", 0, 3, false);
    tito::RunResult run;
    run.outcome = tito::Outcome::exited;
    run.exit_code = 0;
    run.output_head = "printed " + kHostile + "\n" + std::string(100000, 'y');
    run.output_bytes = static_cast<int64_t>(run.output_head.size());
    run.reports = {json{{"test", failed.name},
                        {"matched", true},
                        {"passed", false},
                        {"assertions_passed", 1},
                        {"failures", json::array({{{"kind", "exception"}, {"message", "threw " + kHostile}}})}}};
    tito::evaluate_run(run, tito::Limits{}, "/ws", failed);
    r.tests.push_back(failed);
    r.tests.push_back(make_test("visible shape check", "passed", 1, 1, true));
    TestCaseResult crashed = make_test("matmul of big matrices", "crashed", 0, 2, false);
    crashed.reason = "crashed: segmentation fault (SIGSEGV) at matmul.cpp:12";
    r.tests.push_back(crashed);
    TestCaseResult timeout = make_test("visible transpose", "timeout", 0, 1, true);
    timeout.reason = "timed out after 10 s";
    r.tests.push_back(timeout);
    TestCaseResult limit = make_test("reshape", "limit", 0, 1, false);
    limit.reason = "used more than 2048 MiB of memory";
    r.tests.push_back(limit);
    TestCaseResult skipped = make_test("broadcast", "not_run", 0, 1, false);
    skipped.reason = "not run (--filter)";
    r.tests.push_back(skipped);
    for (const TestCaseResult& t : r.tests) {
        r.score += t.points;
        r.max_score += t.max_points;
    }
    return r;
}

GradeReport compile_error_report(const std::string& diagnostics) {
    GradeReport r;
    r.module_id = "01";
    r.module_dir = "01_setup";
    r.outcome = "compile_error";
    r.message = "01_setup/setup.cpp does not compile";
    r.diagnostics = tito::clean_text(diagnostics);
    r.compile_log = ".tito/build/01_setup/test-sanitized/compile.log";
    r.started_at = "2026-11-30T07:06:53Z";
    for (int i = 0; i < 4; ++i) {
        TestCaseResult t = make_test("test " + std::to_string(i), "not_run", 0, 2, i == 0);
        t.reason = "did not compile";
        r.tests.push_back(t);
        r.max_score += 2;
    }
    return r;
}

std::string attribute_of(const std::string& xml, const std::string& element, const std::string& attribute) {
    size_t at = xml.find("<" + element + " ");
    if (at == std::string::npos) return "";
    size_t end = xml.find('>', at);
    size_t a = xml.find(" " + attribute + "=\"", at);
    if (a == std::string::npos || a > end) return "";
    a += attribute.size() + 3;
    return xml.substr(a, xml.find('"', a) - a);
}

std::string printed(const GradeReport& report, Detail detail) {
    std::ostringstream out;
    tito::print_report(out, report, detail);
    return out.str();
}

// What g++ says about one bad line: an unclosed class makes the rest of the file errors.
std::string real_compiler_errors() {
    const fs::path dir = fs::temp_directory_path() / ("tito-test-cc-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    tito::atomic_write_file(dir / "bad.cpp",
                            "#include <vector>\n"
                            "struct Tensor {\n"
                            "    std::vector<float> data\n"  // the missing ';'
                            "    int size() const { return static_cast<int>(data.size()); }\n"
                            "};\n"
                            "int one() { Tensor t; return t.size() + missing_a; }\n"
                            "int two() { return missing_b; }\n"
                            "int three() { return missing_c; }\n"
                            "int four() { return missing_d; }\n");
    tito::ToolOutput out = tito::run_tool({"/usr/bin/g++", "-std=c++20", "-fdiagnostics-color=never", "-c", "bad.cpp", "-o", "bad.o"}, dir);
    fs::remove_all(dir);
    return out.output;
}

}  // namespace

TEST_CASE("report: JUnit export is valid against the JUnit schema, with skipped tests counted as skipped") {
    const std::string xml = tito::junit_xml({graded_report()});
    INFO(xml.substr(0, 3000));
    CHECK(e2e::junit_schema_errors(xml) == "");
    CHECK(attribute_of(xml, "testsuite", "tests") == "7");
    CHECK(attribute_of(xml, "testsuite", "failures") == "1");
    CHECK(attribute_of(xml, "testsuite", "errors") == "3");
    CHECK(attribute_of(xml, "testsuite", "skipped") == "1");
    CHECK_THAT(xml, Catch::Contains("<failure type=\"failed\" message=\"threw: ") && Catch::Contains("<error type=\"timeout\"") &&
                        Catch::Contains("<skipped message=\"not run (--filter)\"/>"));
    CHECK_THAT(xml, !Catch::Contains("e-05"));

    // A module that did not compile: every test skipped, none an error; the compiler's output is
    // in system-out.
    const std::string failed_build = tito::junit_xml({compile_error_report("01_setup/setup.cpp:3:5: error: " + kHostile + "\n")});
    INFO(failed_build);
    CHECK(e2e::junit_schema_errors(failed_build) == "");
    CHECK(attribute_of(failed_build, "testsuite", "skipped") == "4");
    CHECK(attribute_of(failed_build, "testsuite", "errors") == "0");
    CHECK_THAT(failed_build, Catch::Contains("<system-out>01_setup/setup.cpp does not compile\n01_setup/setup.cpp:3:5: error: Ada"));

    // Two modules (tito test --all) in one document.
    CHECK(e2e::junit_schema_errors(tito::junit_xml({graded_report(), compile_error_report("")})) == "");
}

TEST_CASE("report: the JUnit writer emits only XML characters even when given raw bytes") {
    GradeReport r = compile_error_report("");
    r.tests[0].reason = kHostile;   // not cleaned on purpose: the writer's own defence
    r.tests[0].details = kHostile;
    r.tests[0].status = "failed";
    r.message = kHostile;
    r.diagnostics = kHostile;
    r.outcome = "link_error";
    CHECK(e2e::junit_schema_errors(tito::junit_xml({r})) == "");
}

TEST_CASE("report: Gradescope export follows the results.json specification, hidden tests stay hidden") {
    const std::string text = tito::gradescope_results({graded_report()});
    INFO(text.substr(0, 3000));
    CHECK(e2e::gradescope_schema_errors(text) == "");
    const json results = json::parse(text);
    CHECK(results.at("visibility") == "visible");
    CHECK(results.at("stdout_visibility") == "hidden");
    CHECK(results.at("score") == 3);
    CHECK(results.at("extra_data").at("max_score") == 11);
    const json& tests = results.at("tests");
    REQUIRE(tests.size() == 7);
    CHECK(tests.at(0).at("number") == "02.1");
    CHECK(tests.at(6).at("number") == "02.7");
    for (const json& t : tests) {
        INFO(t.dump());
        CHECK(t.at("tags") == json::array({"02_tensor"}));
        const bool visible = t.at("name") == "02_tensor: visible shape check" || t.at("name") == "02_tensor: visible transpose";
        CHECK(t.at("visibility") == (visible ? "visible" : "after_published"));
    }

    tito::GradescopeSettings settings = tito::GradescopeSettings::from_config(
        json{{"gradescope", {{"visibility", "after_due_date"}, {"stdout_visibility", "visible"}, {"hidden_tests", "hidden"}}}});
    const json custom = json::parse(tito::gradescope_results({graded_report(), compile_error_report("x: error: y\n")}, settings));
    CHECK(e2e::gradescope_schema_errors(custom.dump()) == "");
    CHECK(custom.at("visibility") == "after_due_date");
    CHECK(custom.at("stdout_visibility") == "visible");
    CHECK(custom.at("tests").at(1).at("visibility") == "hidden");
    CHECK(custom.at("tests").at(2).at("visibility") == "visible");
    CHECK(custom.at("tests").at(7).at("number") == "01.1");
    CHECK_THROWS_AS(tito::GradescopeSettings::from_config(json{{"gradescope", {{"hidden_tests", "secret"}}}}), tito::UserError);
    CHECK(tito::GradescopeSettings::from_config(json{{"pass_fraction", 1.0}}).hidden_tests == "after_published");
}

TEST_CASE("report: the schemas refuse what they should") {
    CHECK(e2e::gradescope_schema_errors(R"({"score": 1, "tests": [{"score": 1, "visibility": "students"}]})") != "");
    CHECK(e2e::gradescope_schema_errors(R"({"score": 1, "tests": [{"score": 1, "number": 1.1}]})") != "");
    CHECK(e2e::gradescope_schema_errors(R"({"tests": [{"name": "no score anywhere"}]})") != "");
    CHECK(e2e::gradescope_schema_errors(R"({"score": 1, "max_score": 2})") != "");  // not in the specification
    CHECK(e2e::junit_schema_errors("<testsuites><testsuite name=\"x\"/></testsuites>") != "");
    CHECK(e2e::junit_schema_errors("not xml") != "");
}

TEST_CASE("report: -q shows errors and the score line, nothing else") {
    const std::string graded = printed(graded_report(), Detail::quiet);
    CHECK_THAT(graded, Catch::StartsWith("score 3/11  (02_tensor: 2/7 tests passed"));
    CHECK(std::count(graded.begin(), graded.end(), '\n') == 1);

    const std::string diagnostics = real_compiler_errors();
    const std::string broken = printed(compile_error_report(diagnostics), Detail::quiet);
    CHECK_THAT(broken, Catch::StartsWith("error: 01_setup/setup.cpp does not compile\n") && Catch::Contains("bad.cpp:3:") &&
                           Catch::EndsWith("score 0/8  (01_setup)\n"));
}

TEST_CASE("report: a compiler error shows the first error and counts the rest; -v shows all") {
    const std::string diagnostics = real_compiler_errors();
    const tito::FirstError first = tito::first_error(diagnostics);
    INFO(diagnostics);
    CHECK(first.errors >= 4);
    CHECK_THAT(first.text, Catch::Contains("bad.cpp:3:") && Catch::Contains("error:"));
    CHECK_THAT(first.text, !Catch::Contains("missing_b"));

    const std::string shown = printed(compile_error_report(diagnostics), Detail::normal);
    INFO(shown);
    CHECK(std::count(shown.begin(), shown.end(), '\n') <= 15);
    CHECK_THAT(shown, Catch::Contains("... and " + std::to_string(first.errors - 1) + " more errors") &&
                          Catch::Contains("tito test -v") && Catch::Contains(".tito/build/01_setup/test-sanitized/compile.log"));
    const std::string all = printed(compile_error_report(diagnostics), Detail::verbose);
    CHECK_THAT(all, Catch::Contains("missing_b") && Catch::Contains("missing_d") && !Catch::Contains("more errors"));
}

TEST_CASE("report: the table's reason shows the values before it is cut") {
    GradeReport r = graded_report();
    r.tests[1].reason = tito::failure_reason(
        json{{"kind", "assertion"},
             {"expression", "CHECK_THAT( tt::sum(x, 1), tensor_near(nested({{6, 15}})) )"},
             {"condition", "tt::sum(x, 1), tensor_near(nested({{6, 15}}))"},
             {"expansion", "tensor (2) [6, 16]\n  is close to (atol 1e-05, rtol 1e-05)\n  (2) [6, 15]\n  but 1 of 2 elements differ; "
                           "worst at (1): got 16, expected 15"},
             {"info", json::array({"a long explanation of what sum over an axis means, which would push the values out of view"})}},
        tito::Limits{});
    const std::string table = printed(r, Detail::normal);
    INFO(table);
    std::istringstream lines(table);
    std::string line;
    bool found = false;
    while (std::getline(lines, line))
        if (line.find("sum over an axis") != std::string::npos) found = line.find("got 16, expected 15") != std::string::npos;
    CHECK(found);
}
