// report.cpp - see report.h.
#include "report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "errors.h"
#include "term.h"

namespace tito {

namespace {

std::string one_line(std::string text, size_t width) {
    for (char& c : text)
        if (c == '\n' || c == '\t') c = ' ';
    if (text.size() > width) text = text.substr(0, width - 3) + "...";
    return text;
}

std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, seconds < 10 ? "%.2f s" : "%.0f s", seconds);
    return text;
}

Color status_color(const std::string& status) {
    if (status == "passed") return Color::green;
    if (status == "not_run") return Color::dim;
    return Color::red;
}

std::string xml_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // XML 1.0 forbids most control characters; output may contain anything.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
                    out += '?';
                } else {
                    out += c;
                }
        }
    }
    return out;
}

}  // namespace

void print_report(std::ostream& out, const GradeReport& report, bool verbose) {
    if (report.outcome != "graded") {
        out << paint("error: ", Color::red) << report.message << "\n";
        if (!report.diagnostics.empty() && report.outcome != "startup_failed") out << report.diagnostics;
        if (!report.diagnostics.empty() && report.outcome == "startup_failed" && verbose) out << report.diagnostics << "\n";
        out << paint("score " + std::to_string(report.score) + "/" + std::to_string(report.max_score), Color::bold) << "  ("
            << report.module_dir << ")\n";
        return;
    }
    Table table;
    table.header = {"#", "test", "points", "status", "reason"};
    table.right_aligned = {true, false, true, false, false};
    int number = 0;
    for (const TestCaseResult& t : report.tests) {
        ++number;
        std::string name = t.name + (t.visible ? " (visible)" : "");
        table.rows.push_back({std::to_string(number), one_line(name, 60),
                              std::to_string(t.points) + "/" + std::to_string(t.max_points),
                              paint(t.status == "not_run" ? "skipped" : t.status, status_color(t.status)),
                              t.status == "passed" ? "" : one_line(t.reason, 100)});
    }
    table.print(out);
    if (verbose) {
        for (const TestCaseResult& t : report.tests) {
            if (t.status == "passed" || t.details.empty()) continue;
            out << "\n" << paint("--- " + t.name, Color::bold) << "\n" << t.details;
            if (!t.details.empty() && t.details.back() != '\n') out << "\n";
        }
    }
    int passed = 0;
    for (const TestCaseResult& t : report.tests) passed += t.status == "passed";
    std::string score = "score " + std::to_string(report.score) + "/" + std::to_string(report.max_score);
    out << "\n" << paint(score, report.passed ? Color::green : Color::bold) << "  (" << report.module_dir << ": " << passed << "/"
        << report.tests.size() << " tests passed, compile " << seconds_text(report.compile_seconds) << ", run "
        << seconds_text(report.run_seconds) << (report.sanitized ? "" : ", sanitizers off") << ")\n";
}

std::string junit_xml(const std::vector<GradeReport>& reports) {
    std::ostringstream out;
    int tests = 0, failures = 0, errors = 0;
    for (const GradeReport& r : reports)
        for (const TestCaseResult& t : r.tests) {
            ++tests;
            failures += t.status == "failed";
            errors += t.status != "failed" && t.status != "passed";
        }
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << "<testsuites name=\"tito\" tests=\"" << tests << "\" failures=\"" << failures << "\" errors=\"" << errors << "\">\n";
    for (const GradeReport& r : reports) {
        int suite_failures = 0, suite_errors = 0;
        for (const TestCaseResult& t : r.tests) {
            suite_failures += t.status == "failed";
            suite_errors += t.status != "failed" && t.status != "passed";
        }
        out << "  <testsuite name=\"" << xml_escape(r.module_dir) << "\" tests=\"" << r.tests.size() << "\" failures=\""
            << suite_failures << "\" errors=\"" << suite_errors << "\" time=\"" << r.run_seconds << "\" timestamp=\""
            << r.started_at << "\">\n";
        out << "    <properties><property name=\"score\" value=\"" << r.score << "\"/><property name=\"max_score\" value=\""
            << r.max_score << "\"/></properties>\n";
        for (const TestCaseResult& t : r.tests) {
            out << "    <testcase classname=\"" << xml_escape(r.module_dir) << "\" name=\"" << xml_escape(t.name) << "\" time=\""
                << t.seconds << "\"";
            if (t.status == "passed") {
                out << "/>\n";
                continue;
            }
            out << ">\n";
            const char* tag = t.status == "failed" ? "failure" : t.status == "not_run" ? "skipped" : "error";
            out << "      <" << tag << " message=\"" << xml_escape(t.reason) << "\"";
            if (t.details.empty()) {
                out << "/>\n";
            } else {
                out << ">" << xml_escape(t.details) << "</" << tag << ">\n";
            }
            out << "    </testcase>\n";
        }
        out << "  </testsuite>\n";
    }
    out << "</testsuites>\n";
    return out.str();
}

std::string gradescope_results(const std::vector<GradeReport>& reports) {
    nlohmann::json results;
    int score = 0, max_score = 0;
    double seconds = 0;
    std::string output;
    nlohmann::json tests = nlohmann::json::array();
    for (const GradeReport& r : reports) {
        score += r.score;
        max_score += r.max_score;
        seconds += r.compile_seconds + r.run_seconds;
        output += r.module_dir + ": " + std::to_string(r.score) + "/" + std::to_string(r.max_score) +
                  (r.outcome == "graded" ? "" : " - " + r.message) + "\n";
        if (r.outcome != "graded" && !r.diagnostics.empty()) output += r.diagnostics + "\n";
        for (const TestCaseResult& t : r.tests) {
            std::string text = t.status == "passed" ? "" : t.reason;
            if (!t.details.empty()) text += "\n" + t.details;
            tests.push_back({{"name", r.module_dir + ": " + t.name},
                             {"number", r.module_id},
                             {"score", t.points},
                             {"max_score", t.max_points},
                             {"status", t.status == "passed" ? "passed" : "failed"},
                             {"output", text},
                             {"visibility", "visible"}});
        }
    }
    results["score"] = score;
    results["max_score"] = max_score;
    results["execution_time"] = static_cast<int>(seconds + 0.5);
    results["output"] = output;
    results["visibility"] = "visible";
    results["stdout_visibility"] = "hidden";
    results["tests"] = tests;
    return results.dump(2) + "\n";
}

std::string format_reports(const std::vector<GradeReport>& reports, const std::string& format) {
    if (format == "json") {
        nlohmann::json j = nlohmann::json::array();
        for (const GradeReport& r : reports) j.push_back(r.to_json());
        return (reports.size() == 1 ? j[0] : j).dump(2) + "\n";
    }
    if (format == "junit") return junit_xml(reports);
    if (format == "gradescope") return gradescope_results(reports);
    throw UserError("unknown format '" + format + "'", "use json, junit or gradescope");
}

}  // namespace tito
