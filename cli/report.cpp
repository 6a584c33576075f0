// report.cpp - see report.h.
#include "report.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "compiler.h"
#include "errors.h"
#include "term.h"
#include "text.h"

namespace tito {

namespace {

// At most `width` characters on one line, cut at a character boundary with "...".
std::string one_line(std::string text, size_t width) {
    for (char& c : text)
        if (c == '\n' || c == '\t') c = ' ';
    if (display_width(text) <= width) return text;
    size_t characters = 0, i = 0;
    while (i < text.size() && characters < width - 3) {
        ++i;
        while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
        ++characters;
    }
    return text.substr(0, i) + "...";
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

// Text for XML 1.0 content or attribute values: markup characters escaped, and only characters
// XML allows (clean_text already guarantees that; this is the last line of defence, so that a
// report can never make an unreadable file). Newlines and tabs in attributes are kept as
// character references, which parsers do not turn into spaces.
std::string xml_escape(const std::string& text, bool attribute) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        uint32_t cp = 0;
        size_t n = decode_utf8(text, i, cp);
        if (n == 0 || !xml_char_allowed(cp)) {
            out += "\xEF\xBF\xBD";  // U+FFFD
            i += n == 0 ? 1 : n;
            continue;
        }
        switch (cp) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            case '\r': out += "&#13;"; break;
            case '\n': out += attribute ? "&#10;" : "\n"; break;
            case '\t': out += attribute ? "&#9;" : "\t"; break;
            default: out.append(text, i, n);
        }
        i += n;
    }
    return out;
}

std::string xml_attribute(const std::string& text) { return xml_escape(text, true); }
std::string xml_text(const std::string& text) { return xml_escape(text, false); }

// Seconds as JUnit readers parse them: "0.012", never "1e-05".
std::string xml_seconds(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", seconds < 0 ? 0.0 : seconds);
    return text;
}

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
    return clean_line(name, 200);
}

// The compiler's output for a terminal: "error:" in red, "warning:" in yellow, like the compiler
// itself would (tito asks it for plain text, which is what the result files store).
std::string paint_diagnostics(const std::string& text) {
    if (!console().color) return text;
    std::string out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        for (auto [word, color] : {std::pair{": error: ", Color::red}, {": fatal error: ", Color::red}, {": warning: ", Color::yellow},
                                   {": note: ", Color::blue}}) {
            size_t at = line.find(word);
            if (at == std::string::npos) continue;
            line = paint(line.substr(0, at + 2), Color::bold) + paint(line.substr(at + 2, std::string(word).size() - 3), color) +
                   line.substr(at + std::string(word).size() - 1);
            break;
        }
        out += line + "\n";
    }
    return out;
}

std::string with_newline(std::string text) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    return text;
}

// Why the build failed, for the terminal: the first compiler error (all of them with -v).
void print_build_failure(std::ostream& out, const GradeReport& report, Detail detail) {
    if (report.diagnostics.empty()) return;
    if (detail == Detail::verbose) {
        out << paint_diagnostics(with_newline(report.diagnostics));
        return;
    }
    if (report.outcome == "startup_failed") return;  // the message says it; -v shows the output
    const FirstError first = report.outcome == "compile_error" ? first_error(report.diagnostics) : FirstError{};
    if (first.text.empty()) {
        out << trim_diagnostics(report.diagnostics, 15, report.compile_log);
        return;
    }
    out << paint_diagnostics(first.text);
    if (first.errors > 1)
        out << "... and " << first.errors - 1 << " more error" << (first.errors > 2 ? "s" : "")
            << ", often caused by the first one (`tito test -v` shows them all; the full log is " << report.compile_log << ")\n";
}

}  // namespace

GradescopeSettings GradescopeSettings::from_config(const nlohmann::json& grading) {
    GradescopeSettings settings;
    if (!grading.is_object() || !grading.contains("gradescope")) return settings;
    const nlohmann::json& g = grading.at("gradescope");
    const char* hint = "use one of visible, hidden, after_due_date, after_published (configs/grading.json)";
    auto read = [&](const char* key, std::string& value) {
        if (!g.is_object() || !g.contains(key)) return;
        const nlohmann::json& v = g.at(key);
        const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
        if (text != "visible" && text != "hidden" && text != "after_due_date" && text != "after_published")
            throw UserError("configs/grading.json: gradescope." + std::string(key) + " is " + clean_line(text, 60) +
                                ", which Gradescope does not know",
                            hint);
        value = text;
    };
    read("visibility", settings.visibility);
    read("stdout_visibility", settings.stdout_visibility);
    read("hidden_tests", settings.hidden_tests);
    read("visible_tests", settings.visible_tests);
    return settings;
}

void print_report(std::ostream& out, const GradeReport& report, Detail detail) {
    int passed = 0;
    for (const TestCaseResult& t : report.tests) passed += t.status == "passed";
    const std::string score = "score " + std::to_string(report.score) + "/" + std::to_string(report.max_score);
    const std::string not_recorded = report.partial ? ", not recorded: only some tests ran" : "";
    if (report.outcome != "graded") {
        out << paint("error: ", Color::red) << report.message << "\n";
        print_build_failure(out, report, detail);
        out << paint(score, Color::bold) << "  (" << report.module_dir << not_recorded << ")\n";
        return;
    }
    const std::string summary = "  (" + report.module_dir + ": " + std::to_string(passed) + "/" + std::to_string(report.tests.size()) +
                                " tests passed, compile " + seconds_text(report.compile_seconds) + ", run " +
                                seconds_text(report.run_seconds) + (report.sanitized ? "" : ", sanitizers off") + not_recorded + ")\n";
    if (detail == Detail::quiet) {
        out << paint(score, report.passed ? Color::green : Color::bold) << summary;
        return;
    }
    Table table;
    table.header = {"#", "test", "points", "status", "reason"};
    table.right_aligned = {true, false, true, false, false};
    // A partial run (--filter, --exitfirst) lists only the tests that ran: a hundred "not run"
    // rows would bury the one that matters. The numbers stay those of the full list.
    int number = 0, hidden = 0;
    for (const TestCaseResult& t : report.tests) {
        ++number;
        if (report.partial && t.status == "not_run") {
            ++hidden;
            continue;
        }
        std::string name = t.name + (t.visible ? " (visible)" : "");
        table.rows.push_back({std::to_string(number), one_line(name, 60),
                              std::to_string(t.points) + "/" + std::to_string(t.max_points),
                              paint(t.status == "not_run" ? "not run" : t.status, status_color(t.status)),
                              t.status == "passed" ? "" : one_line(t.reason, 100)});
    }
    table.print(out);
    if (hidden > 0) out << paint(std::to_string(hidden) + " more tests not run", Color::dim) << "\n";
    if (detail == Detail::verbose) {
        for (const TestCaseResult& t : report.tests) {
            if (t.status == "passed" || t.details.empty()) continue;
            out << "\n" << paint("--- " + t.name, Color::bold) << "\n" << with_newline(t.details);
        }
    }
    out << "\n" << paint(score, report.passed ? Color::green : Color::bold) << summary;
}

std::string junit_xml(const std::vector<GradeReport>& reports) {
    // The root carries no attributes: the Ant schema allows none there, and readers sum the suites.
    std::ostringstream out;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << "<testsuites>\n";
    const std::string host = xml_attribute(host_name());
    int id = 0;
    for (const GradeReport& r : reports) {
        int failures = 0, errors = 0, skipped = 0;
        for (const TestCaseResult& t : r.tests) {
            failures += t.status == "failed";
            skipped += t.status == "not_run";
            errors += t.status != "failed" && t.status != "passed" && t.status != "not_run";
        }
        // Ant's timestamp has no time zone; tito's times are UTC.
        std::string timestamp = r.started_at;
        if (!timestamp.empty() && timestamp.back() == 'Z') timestamp.pop_back();
        out << "  <testsuite name=\"" << xml_attribute(r.module_dir) << "\" tests=\"" << r.tests.size() << "\" failures=\"" << failures
            << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\"" << xml_seconds(r.compile_seconds + r.run_seconds)
            << "\" timestamp=\"" << xml_attribute(timestamp) << "\" hostname=\"" << host << "\" id=\"" << id++
            << "\" package=\"tinytorch\">\n";
        out << "    <properties>\n";
        for (const auto& [name, value] : {std::pair<std::string, std::string>{"score", std::to_string(r.score)},
                                          {"max_score", std::to_string(r.max_score)},
                                          {"outcome", r.outcome},
                                          {"sanitized", r.sanitized ? "true" : "false"}})
            out << "      <property name=\"" << name << "\" value=\"" << xml_attribute(value) << "\"/>\n";
        out << "    </properties>\n";
        for (const TestCaseResult& t : r.tests) {
            out << "    <testcase name=\"" << xml_attribute(t.name) << "\" classname=\"" << xml_attribute(r.module_dir) << "\" time=\""
                << xml_seconds(t.seconds) << "\"";
            if (t.status == "passed") {
                out << "/>\n";
                continue;
            }
            out << ">\n";
            if (t.status == "not_run") {
                out << "      <skipped message=\"" << xml_attribute(t.reason) << "\"/>\n";
            } else {
                // failure: a check of the test failed; error: the test could not finish (crash,
                // time-out, limit). type says which, as a Java exception's class name would.
                const char* tag = t.status == "failed" ? "failure" : "error";
                out << "      <" << tag << " type=\"" << xml_attribute(t.status) << "\" message=\"" << xml_attribute(t.reason) << "\">"
                    << xml_text(t.details) << "</" << tag << ">\n";
            }
            out << "    </testcase>\n";
        }
        // What made the module fail as a whole (compiler output, start-up failure) goes to system-out.
        const std::string whole = r.outcome == "graded" ? "" : r.message + "\n" + r.diagnostics;
        out << "    <system-out>" << xml_text(whole) << "</system-out>\n";
        out << "    <system-err></system-err>\n";
        out << "  </testsuite>\n";
    }
    out << "</testsuites>\n";
    return out.str();
}

std::string gradescope_results(const std::vector<GradeReport>& reports, const GradescopeSettings& settings) {
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
        int position = 0;
        for (const TestCaseResult& t : r.tests) {
            std::string text = t.status == "passed" ? "" : t.reason;
            if (!t.details.empty()) text += "\n" + t.details;
            // A hidden test's name, expected values and failure output are the grader's secret
            // until the instructor publishes grades (by default; configs/grading.json).
            tests.push_back({{"name", r.module_dir + ": " + t.name},
                             {"number", r.module_id + "." + std::to_string(++position)},
                             {"score", t.points},
                             {"max_score", t.max_points},
                             {"status", t.status == "passed" ? "passed" : "failed"},
                             {"output", text},
                             {"tags", nlohmann::json::array({r.module_dir})},
                             {"visibility", t.visible ? settings.visible_tests : settings.hidden_tests}});
        }
    }
    results["score"] = score;
    // The specification has no top-level max_score (Gradescope takes it from the assignment);
    // extra_data is where it allows anything else.
    results["extra_data"] = {{"max_score", max_score}, {"tito_version", TITO_VERSION}};
    results["execution_time"] = static_cast<int>(seconds + 0.5);
    results["output"] = output;
    results["output_format"] = "text";
    results["test_output_format"] = "text";
    results["test_name_format"] = "text";
    results["visibility"] = settings.visibility;
    results["stdout_visibility"] = settings.stdout_visibility;
    results["tests"] = tests;
    return results.dump(2) + "\n";
}

std::string format_reports(const std::vector<GradeReport>& reports, const std::string& format, const GradescopeSettings& gradescope) {
    if (format == "json") {
        nlohmann::json j = nlohmann::json::array();
        for (const GradeReport& r : reports) j.push_back(r.to_json());
        return (reports.size() == 1 ? j[0] : j).dump(2) + "\n";
    }
    if (format == "junit") return junit_xml(reports);
    if (format == "gradescope") return gradescope_results(reports, gradescope);
    throw UserError("unknown format '" + format + "'", "use json, junit or gradescope");
}

}  // namespace tito
