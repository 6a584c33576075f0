// Tests of cli/grading.cpp: what a sandboxed run means for a test, whatever the child printed or
// reported - invalid UTF-8, NUL, control characters, megabyte lines, fields of the wrong type -
// and that no path of the machine that built the graders reaches the student.
#include <catch2/catch.hpp>
#include <string>

#include "grading.h"
#include "text.h"

using nlohmann::json;
using tito::Outcome;
using tito::RunResult;
using tito::TestCaseResult;

namespace {

// Everything a student's code can put into a string.
const std::string kHostile = std::string("Ada\xff\xfe") + std::string(1, '\0') + "\x1b[31mred\x07\r\x01" + "\xC2\x9B" + "2J";

RunResult exited(int code, const std::string& output, std::vector<json> reports) {
    RunResult run;
    run.outcome = Outcome::exited;
    run.exit_code = code;
    run.output_head = output;
    run.output_bytes = static_cast<int64_t>(output.size());
    run.reports = std::move(reports);
    run.wall_seconds = 0.1;
    return run;
}

TestCaseResult evaluate(const RunResult& run, bool visible = false) {
    TestCaseResult test;
    test.name = "a test";
    test.max_points = 2;
    test.visible = visible;
    tito::evaluate_run(run, tito::Limits{}, "/home/ana/ws", test);
    return test;
}

// The report as tito stores it: json dump() throws on invalid UTF-8, which once stopped grading.
std::string stored(const TestCaseResult& test) {
    tito::GradeReport report;
    report.tests = {test};
    return report.to_json().dump(2);
}

}  // namespace

TEST_CASE("grading: hostile bytes in the output and in every reported field end up as clean text") {
    const std::string long_line(1 << 20, 'y');
    json failure_exception = {{"kind", "exception"}, {"message", "threw " + kHostile + long_line}, {"file", "x"}, {"line", 1}};
    json failure_assertion = {{"kind", "assertion"},
                              {"expression", "CHECK( name == expected )"},
                              {"condition", "name == expected"},
                              {"expansion", "\"" + kHostile + "\" == \"Ada\""},
                              {"message", kHostile},
                              {"info", json::array({"name := " + kHostile})}};
    json report = {{"test", "a test"},
                   {"matched", true},
                   {"passed", false},
                   {"assertions_passed", 1},
                   {"assertions_failed", 2},
                   {"failures", json::array({failure_assertion, failure_exception})}};
    TestCaseResult test = evaluate(exited(0, "printed " + kHostile + "\n" + long_line + "\nend\n", {report}));
    CHECK(test.status == "failed");
    CHECK(test.points == 0);
    CHECK(tito::is_clean_text(test.reason));
    CHECK(tito::is_clean_text(test.details));
    CHECK(test.reason.find('\n') == std::string::npos);
    CHECK_THAT(test.details, Catch::Contains("\\x00\\x1b[31mred\\x07") && Catch::Contains("\xEF\xBF\xBD") &&
                                 Catch::Contains("[... line cut: ") && Catch::Contains("end\n"));
    CHECK(test.details.size() < 200 * 1024);
    std::string dumped;
    REQUIRE_NOTHROW(dumped = stored(test));
    CHECK(json::parse(dumped).at("tests").at(0).at("details") == test.details);
}

TEST_CASE("grading: a crash with bytes in the output is still a crash with a reason") {
    RunResult run = exited(0, kHostile, {});
    run.outcome = Outcome::signaled;
    run.signal = 11;
    TestCaseResult test = evaluate(run);
    CHECK(test.status == "crashed");
    CHECK_THAT(test.reason, Catch::Contains("segmentation fault"));
    CHECK(tito::is_clean_text(test.details));
    REQUIRE_NOTHROW(stored(test));
}

TEST_CASE("grading: report fields of the wrong type fail the test instead of stopping tito") {
    for (const json& report : {json{{"test", "a test"}, {"passed", "yes"}, {"matched", 1}, {"failures", "none"}},
                               json{{"test", 42}, {"passed", true}, {"matched", true}, {"failures", json::array({17, "x"})}},
                               json{{"test", "another test"}, {"passed", true}, {"matched", true}},
                               json{{"test", "a test"}, {"matched", true}, {"failures", json::array({{{"kind", 3}, {"info", {1}}}})}}}) {
        INFO(report.dump());
        TestCaseResult test;
        REQUIRE_NOTHROW(test = evaluate(exited(0, "", {report})));
        CHECK(test.status != "passed");
        CHECK(test.points == 0);
        CHECK_FALSE(test.reason.empty());
    }
}

TEST_CASE("grading: no source path of the machine that built the graders reaches the student") {
    const std::string build = "/home/builder/tinytorch";
    json report = {{"test", "a test"},
                   {"matched", true},
                   {"passed", false},
                   {"assertions_passed", 0},
                   {"failures", json::array({{{"kind", "exception"},
                                              {"file", build + "/graders/02_tensor/test_views.cpp"},
                                              {"line", 42},
                                              {"message", "internal error (a bug in TinyTorch, please report it): ok failed at " + build +
                                                              "/engine/src/core/storage.cpp:12"}}})}};
    // Catch2's console report and sanitizer stacks name grader files too.
    const std::string output = build + "/graders/02_tensor/test_views.cpp:42: FAILED:\n"
                               "    #1 0x55d4 in ____C_A_T_C_H____T_E_S_T____4() " + build + "/graders/02_tensor/test_views.cpp:42\n"
                               "    #2 0x55d5 in tt::testing::values_of(tt::Tensor const&) ../../graders/common/grading.h:120\n"
                               "    #3 0x55d6 in tt::Tensor::at(long) const /home/ana/ws/02_tensor/tensor.cpp:9\n";
    TestCaseResult hidden = evaluate(exited(0, output, {report}));
    CHECK(hidden.status == "failed");
    const std::string all = hidden.reason + hidden.details;
    INFO(all);
    CHECK_THAT(all, !Catch::Contains(build) && !Catch::Contains("graders/") && !Catch::Contains("test_views.cpp"));
    CHECK_THAT(all, Catch::Contains("engine/src/core/storage.cpp:12") && Catch::Contains("(hidden grader code)"));
    CHECK_THAT(all, Catch::Contains("/home/ana/ws/02_tensor/tensor.cpp:9"));  // the student's own file stays

    // A visible test names its file as the student has it.
    json visible_report = report;
    visible_report["failures"][0]["file"] = "modules/02_tensor/tests/test_tensor_visible.cpp";
    TestCaseResult visible = evaluate(exited(0, "", {visible_report}), true);
    CHECK_THAT(visible.details, Catch::StartsWith("02_tensor/tests/test_tensor_visible.cpp:42: threw: "));

    // A sanitizer report whose first frame we may name is the grader's: no file, no function.
    const std::string asan = "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020 at pc 0x55 bp 0x7f sp 0x7f\n"
                             "READ of size 4 at 0x6020 thread T0\n"
                             "    #0 0x55d4 in ____C_A_T_C_H____T_E_S_T____4() " + build + "/graders/02_tensor/test_views.cpp:42\n"
                             "    #1 0x55d5 in Catch::RunContext::invokeActiveTestCase() /usr/include/catch2/catch.hpp:13000\n"
                             "SUMMARY: AddressSanitizer: heap-buffer-overflow " + build + "/graders/02_tensor/test_views.cpp:42 in x\n";
    TestCaseResult crashed = evaluate(exited(1, asan, {}));
    CHECK(crashed.status == "crashed");
    CHECK(crashed.reason == "crashed: AddressSanitizer: heap-buffer-overflow in the grader's test code");
    CHECK_THAT(crashed.details, !Catch::Contains(build) && !Catch::Contains("test_views.cpp"));
}

TEST_CASE("grading: a failure's reason starts with the values that matter") {
    const tito::Limits limits;
    // A tensor comparison: the matcher's verdict is the summary.
    json tensor = {{"kind", "assertion"},
                   {"expression", "CHECK_THAT( tt::add(x, y), tensor_near(nested({{2, 4, 6}, {8, 10, 12}})) )"},
                   {"condition", "tt::add(x, y), tensor_near(nested({{2, 4, 6}, {8, 10, 12}}))"},
                   {"expansion", "tensor (2, 3) [[1, 2, 3], [4, 5, 6]]\n  is close to (atol 1e-05, rtol 1e-05)\n  (2, 3) [[2, 4, 6], "
                                 "[8, 10, 12]]\n  but 6 of 6 elements differ; worst at (1, 2): got 6, expected 12"},
                   {"info", json::array({"add of a = (2, 3) [[1, 2, 3], [4, 5, 6]] and b = (2, 3) [[1, 2, 3], [4, 5, 6]]"})}};
    CHECK_THAT(tito::failure_reason(tensor, limits),
               Catch::StartsWith("6 of 6 elements differ; worst at (1, 2): got 6, expected 12 -- in CHECK_THAT( tt::add(x, y)") &&
                   Catch::EndsWith("-- add of a = (2, 3) [[1, 2, 3], [4, 5, 6]] and b = (2, 3) [[1, 2, 3], [4, 5, 6]]"));
    json comparison = {{"kind", "assertion"},
                       {"expression", "CHECK( me.handle.size() <= 32 )"},
                       {"condition", "me.handle.size() <= 32"},
                       {"expansion", "33 <= 32"},
                       {"info", json::array({"me.handle := \"a_very_long_handle_of_thirty_three\""})}};
    CHECK(tito::failure_reason(comparison, limits) ==
          "got 33 <= 32 -- expected me.handle.size() <= 32 -- me.handle := \"a_very_long_handle_of_thirty_three\"");
    json boolean = {{"kind", "assertion"}, {"expression", "CHECK( is_handle_character(c) )"}, {"condition", "is_handle_character(c)"},
                    {"expansion", "false"}};
    CHECK(tito::failure_reason(boolean, limits) == "is_handle_character(c) is false");
    json not_implemented = {{"kind", "exception"}, {"message", "not implemented: Tensor::view\n(see the TODO)"}};
    CHECK(tito::failure_reason(not_implemented, limits) == "not implemented: Tensor::view");
    // Catch2 repeats an unexpected exception's message among the notes: the reason says it once.
    json repeated = {{"kind", "exception"},
                     {"message", "not implemented: my_identity (replace the TODO with your code)"},
                     {"info", json::array({"not implemented: my_identity (replace the TODO with your code)"})}};
    CHECK(tito::failure_reason(repeated, limits) == "not implemented: my_identity (replace the TODO with your code)");
    json noted = {{"kind", "exception"}, {"message", "threw here"}, {"info", json::array({"x := 3"})}};
    CHECK(tito::failure_reason(noted, limits) == "threw: threw here -- x := 3");
}
