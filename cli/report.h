// report.h - shows a grade report to a person (table + score) or writes it for a machine:
// tito's own JSON, JUnit XML (CI systems), or Gradescope's results.json.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "grading.h"

namespace tito {

// The table of tests, the score line, and what to do next. `verbose` adds each failure's details.
void print_report(std::ostream& out, const GradeReport& report, bool verbose);

// formats: "json", "junit", "gradescope". Several reports (tito test --all) go into one document.
std::string format_reports(const std::vector<GradeReport>& reports, const std::string& format);

// Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
std::string gradescope_results(const std::vector<GradeReport>& reports);
std::string junit_xml(const std::vector<GradeReport>& reports);

}  // namespace tito
