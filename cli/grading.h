// grading.h - grades one module of a workspace: compile, link with the hidden grader, run every
// test case in its own sandboxed child process, and turn what happened into scores and reasons.
//
// A test passes only when its child reported, through the result channel, that exactly this test
// ran with at least one assertion and none failed, AND the child then exited normally with status
// 0. Everything else - a crash, a hang, an early exit(0), a sanitizer report, a limit - is a
// failure with a plain reason, and the other tests keep their points.
//
// Everything the child sends or prints is untrusted text: it passes through clean_text() and
// course_paths() (text.h) here, once, so reports and exports never see invalid UTF-8, control
// characters, megabyte lines or the source paths of the machine that built the graders.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "course.h"
#include "workspace.h"

namespace tito {

struct TestCaseResult {
    std::string name;
    int points = 0;      // earned
    int max_points = 0;
    bool visible = false;
    std::string status;  // passed, failed, crashed, timeout, limit, not_run
    // One line for the table, the values that matter first: "3 of 6 elements differ; worst at
    // (1, 2): got 5, expected 6 -- in CHECK_THAT( ... )", "timed out after 10 s".
    std::string reason;
    std::string details; // longer text: failed assertions, captured output
    double seconds = 0.0;
};

struct GradeReport {
    std::string module_id, module_dir;
    std::string outcome;  // "graded", "compile_error", "link_error", "startup_failed"
    std::string message;  // for the non-graded outcomes: what went wrong, one line
    std::string diagnostics;  // compiler/linker output, or the startup failure's output
    std::string compile_log;  // where the full compiler output is, relative to the workspace
    int score = 0, max_score = 0;
    bool passed = false;  // score reached the pass threshold
    bool partial = false;  // --filter or --exitfirst: some tests were not run on purpose; not recorded
    std::vector<TestCaseResult> tests;
    double compile_seconds = 0.0, run_seconds = 0.0;
    int objects_compiled = 0, objects_reused = 0;
    bool sanitized = true;
    std::string started_at;
    std::string commit;  // the workspace snapshot that recorded this report

    nlohmann::json to_json() const;
};

struct GradeOptions {
    bool sanitize = true;
    std::optional<double> timeout_seconds;  // overrides configs/limits.json for each test
    std::string filter;                     // only tests whose name contains this; the others score 0
    bool exit_first = false;                // stop at the first test that does not pass
    // Called while compiling and linking, about every 0.2 s: what is being done ("tensor.cpp,
    // matmul.cpp (1 of 4 compiled)", "linking"). Drives the progress line.
    std::function<void(const std::string&)> on_build_progress;
    // Called before each test runs (index from 0, total): drives the progress line.
    std::function<void(size_t, size_t, const std::string&)> on_test_start;
};

// The tests a module's grader holds, from its installed tests.json.
nlohmann::json load_test_manifest(const Course& course, const ModuleInfo& m);

// Compiles and runs everything; never throws for the student code's behaviour (UserError only for
// a broken environment: no compiler, missing files).
GradeReport grade_module(const Course& course, const Workspace& workspace, const ModuleInfo& m, const GradeOptions& options);

// What one sandboxed run of a test means for that test: status, points, reason, details. All text
// is cleaned (text.h); paths inside `workspace_root` are the student's and stay as they are.
void evaluate_run(const RunResult& run, const Limits& limits, const std::string& workspace_root, TestCaseResult& test);

// The one-line reason for one failure the grader reported ({kind, message, expression,
// condition, expansion, info}), already cleaned: the values first, then where.
std::string failure_reason(const nlohmann::json& failure, const Limits& limits);

// How many tests run at once: configs/limits.json "parallel_tests", at most one per core.
size_t parallel_tests(const Course& course);

// The environment a grader child gets (sanitizer settings, data directory).
std::map<std::string, std::string> grader_environment();

// Watches tito's state files around a child run: anything the child changed is put back, and the
// change is reported so that the test fails with "changed tito's state files".
class StateGuard {
public:
    explicit StateGuard(const fs::path& tito_dir);
    // Restores every guarded file the child changed, created or deleted; returns their names.
    std::vector<std::string> restore();

private:
    fs::path tito_dir_;
    std::map<fs::path, std::string> saved_;
    std::vector<fs::path> list() const;
};

}  // namespace tito
