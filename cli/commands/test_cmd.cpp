// test_cmd.cpp - `tito test [N] [--all] [--format json|junit|gradescope] [--output FILE]
// [--filter TEXT] [-x]`.
//
// The whole command holds the workspace lock (workspace_lock.h): a second `tito test` in the same
// workspace waits for the first, then reads the progress the first one saved, so two runs never
// share a build folder or lose each other's progress update.
#include "commands/test_cmd.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "course.h"
#include "errors.h"
#include "files.h"
#include "git_repo.h"
#include "grading.h"
#include "report.h"
#include "term.h"
#include "workspace.h"
#include "workspace_lock.h"

namespace tito {

namespace {

struct TestOptions {
    std::string module;
    bool all = false;
    std::string format;
    std::string output;
    bool no_sanitize = false;
    double timeout = 0;
    std::string filter;
    bool exit_first = false;
};

std::string elapsed_since(std::chrono::steady_clock::time_point start) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return text;
}

// The module to test when none is named: the one whose folder we are in, else the last started.
const ModuleInfo& default_module(const Course& course, const Workspace& workspace) {
    const fs::path here = fs::current_path();
    for (const ModuleInfo& m : course.modules()) {
        const fs::path folder = workspace.module_dir(m);
        auto [end, _] = std::mismatch(folder.begin(), folder.end(), here.begin(), here.end());
        if (end == folder.end()) return m;
    }
    if (!workspace.progress().last_module.empty())
        if (const ModuleInfo* m = course.find(workspace.progress().last_module)) return *m;
    throw UserError("which module? none is started in this workspace", "name one: `tito test 01`");
}

// Updates the module's progress with this report (never called for a partial report).
void record(Workspace& workspace, const ModuleInfo& m, const GradeReport& report) {
    ModuleProgress& p = workspace.progress().modules[m.id];
    if (p.state.empty()) {
        p.state = "started";
        p.started_at = report.started_at;
    }
    ++p.attempts;
    p.last_score = report.score;
    p.max_score = report.max_score;
    p.best_score = std::max(p.best_score, report.score);
    p.last_tested_at = report.started_at;
    if (report.passed && p.state != "passed") {
        p.state = "passed";
        p.passed_at = report.started_at;
    }
    workspace.progress().last_module = m.id;
}

// `tito test 05` before `tito module start 05`: say that, rather than "your file is missing".
void require_started(const Workspace& workspace, const ModuleInfo& m) {
    if (!m.has_content || workspace.progress().modules.count(m.id) || fs::exists(workspace.module_dir(m))) return;
    throw UserError("module " + m.dir_name() + " is not started in this workspace", "start it with `tito module start " + m.id + "`");
}

int run_test(const TestOptions& options) {
    const Course course = Course::load(find_share_dir());
    Workspace workspace = open_current_workspace();
    if (!options.format.empty() && options.format != "json" && options.format != "junit" && options.format != "gradescope")
        throw UserError("unknown format '" + options.format + "'", "use --format json, junit or gradescope");
    const GradescopeSettings gradescope =
        options.format == "gradescope" ? GradescopeSettings::from_config(course.config("grading.json")) : GradescopeSettings{};

    // One tito at a time in a workspace; what the one before us saved is read after we get in.
    WorkspaceLock lock = WorkspaceLock::acquire(workspace.tito_dir());
    workspace = Workspace::open(workspace.root());

    std::vector<const ModuleInfo*> modules;
    if (options.all) {
        for (const ModuleInfo& m : course.modules())
            if (workspace.progress().modules.count(m.id) && m.has_content) modules.push_back(&m);
        if (modules.empty()) throw UserError("no module is started yet", "start one: `tito module start 01`");
    } else {
        modules.push_back(options.module.empty() ? &default_module(course, workspace) : &course.resolve(options.module));
        require_started(workspace, *modules.front());
    }

    // Machine-readable output on stdout replaces the table; with --output the table stays.
    // -q keeps errors and the score line; --json (without --format) prints only the JSON.
    const bool table = (options.format.empty() || !options.output.empty()) && !console().json;
    const bool chatty = table && console().verbosity >= 0;
    const Detail detail = console().verbosity < 0 ? Detail::quiet : console().verbosity > 0 ? Detail::verbose : Detail::normal;
    const bool partial = !options.filter.empty() || options.exit_first;
    std::vector<GradeReport> reports;
    bool all_passed = true;
    for (const ModuleInfo* m : modules) {
        GradeOptions grade;
        grade.sanitize = !options.no_sanitize;
        if (options.timeout > 0) grade.timeout_seconds = options.timeout;
        grade.filter = options.filter;
        grade.exit_first = options.exit_first;
        ProgressLine progress;
        const auto start = std::chrono::steady_clock::now();
        grade.on_build_progress = [&](const std::string& what) {
            progress.update("compiling " + m->dir_name() + "  " + what + "  " + elapsed_since(start));
        };
        grade.on_test_start = [&](size_t index, size_t total, const std::string& name) {
            progress.update("testing " + m->dir_name() + "  " + std::to_string(index + 1) + "/" + std::to_string(total) + "  " + name);
        };
        if (table) progress.update("compiling " + m->dir_name() + " ...");
        GradeReport report = grade_module(course, workspace, *m, grade);
        progress.clear();

        // A partial run (--filter, --exitfirst) says nothing about the module as a whole: it
        // leaves no trace in the results, the progress or the history.
        if (!report.partial) {
            record(workspace, *m, report);
            atomic_write_file(workspace.results_path(*m), report.to_json().dump(2) + "\n");
            workspace.save_progress();
            const std::string message = "tito test " + m->dir_name() + ": " + std::to_string(report.score) + "/" +
                                        std::to_string(report.max_score) + (report.outcome == "graded" ? "" : " (" + report.outcome + ")");
            report.commit = GitRepo::open_or_init(workspace.root()).commit_all(message);
        }

        if (table) {
            if (modules.size() > 1 && detail != Detail::quiet) std::cout << paint("== " + m->dir_name(), Color::bold) << "\n";
            print_report(std::cout, report, detail);
            if (modules.size() > 1 && detail != Detail::quiet) std::cout << "\n";
        }
        all_passed = all_passed && report.outcome == "graded" &&
                     std::all_of(report.tests.begin(), report.tests.end(), [&](const TestCaseResult& t) {
                         return t.status == "passed" || (partial && t.status == "not_run");
                     });
        reports.push_back(std::move(report));
    }

    if (console().json && options.format.empty()) {
        std::cout << format_reports(reports, "json");
    } else if (!options.format.empty()) {
        const std::string document = format_reports(reports, options.format, gradescope);
        if (options.output.empty()) {
            std::cout << document;
        } else {
            atomic_write_file(options.output, document);
            if (chatty) std::cout << "wrote " << options.format << " results to " << options.output << "\n";
        }
    }
    if (chatty && all_passed && !partial && modules.size() == 1) {
        const ModuleInfo& m = *modules.front();
        std::cout << paint("All tests pass: " + m.dir_name() + " is passed.", Color::green);
        for (const ModuleInfo& next : course.modules())
            if (next.id > m.id && next.has_content) {
                std::cout << " Next: `tito module start " << next.id << "`.";
                break;
            }
        std::cout << "\n";
    }
    return all_passed ? kExitOk : kExitFailed;
}

}  // namespace

void setup_test(CLI::App& app, CommandRunner& run) {
    auto options = std::make_shared<TestOptions>();
    CLI::App* test = app.add_subcommand("test", "Compile your module and run its tests (each in its own process)");
    test->add_option("module", options->module, "Module number or name (default: the folder you are in, else the last started)");
    test->add_flag("--all", options->all, "Test every started module");
    test->add_option("--format", options->format, "Write results as json, junit or gradescope (stdout, or --output)")
        ->check(CLI::IsMember({"json", "junit", "gradescope"}));
    test->add_option("--output", options->output, "File for --format results (the table is still shown)");
    test->add_flag("--no-sanitize", options->no_sanitize, "Compile without AddressSanitizer/UBSan (faster, finds fewer bugs)");
    test->add_option("--timeout", options->timeout, "Seconds each test may run (default from configs/limits.json)")
        ->check(CLI::PositiveNumber);
    test->add_option("--filter", options->filter, "Run only tests whose name contains this text (not recorded)");
    test->add_flag("-x,--exitfirst", options->exit_first, "Stop at the first test that does not pass (not recorded)");
    test->callback([&run, options] { run = [options] { return run_test(*options); }; });
}

}  // namespace tito
