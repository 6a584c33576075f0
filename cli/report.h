// report.h - shows a grade report to a person (table + score) or writes it for a machine:
// tito's own JSON, JUnit XML (CI systems), or Gradescope's results.json.
//
// The reports' texts were cleaned where they entered tito (text.h), so every writer gets valid
// UTF-8 without control characters; the JUnit writer still checks each character against XML 1.0.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "grading.h"

namespace tito {

// How much print_report shows: quiet (-q) errors and the score line; normal the table, the
// first compiler error; verbose (-v) every failure's details and the whole compiler output.
enum class Detail { quiet, normal, verbose };

// The table of tests, the score line, and what to do next.
void print_report(std::ostream& out, const GradeReport& report, Detail detail);

// Who sees what of a Gradescope export: configs/grading.json, "gradescope". Each value is one of
// Gradescope's visibilities: visible, hidden, after_due_date, after_published.
struct GradescopeSettings {
    std::string visibility = "visible";           // the submission's results as a whole
    std::string stdout_visibility = "hidden";     // the autograder's own stdout
    std::string hidden_tests = "after_published"; // tests of the hidden graders: names, expected values
    std::string visible_tests = "visible";        // tests the student also has in NN_name/tests/
    // Reads the "gradescope" object of grading.json (missing keys keep the defaults above);
    // throws UserError naming the key for a value Gradescope does not know.
    static GradescopeSettings from_config(const nlohmann::json& grading);
};

// formats: "json", "junit", "gradescope". Several reports (tito test --all) go into one document.
std::string format_reports(const std::vector<GradeReport>& reports, const std::string& format,
                           const GradescopeSettings& gradescope = {});

// Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
// score, max_score, execution_time, output, visibility, stdout_visibility, and per test name,
// number ("02.17": module and position), score, max_score, status, output, tags (the module),
// visibility.
std::string gradescope_results(const std::vector<GradeReport>& reports, const GradescopeSettings& settings = {});

// JUnit XML as the Ant JUnit task writes it and Jenkins reads it: <testsuites> with one
// <testsuite> per module (tests, failures, errors, skipped counts), each test a <testcase> with
// <failure type=...> (a failed check), <error type=...> (a crash, time-out or limit) or <skipped>
// (not run: the module did not compile, --filter, --exitfirst).
std::string junit_xml(const std::vector<GradeReport>& reports);

}  // namespace tito
