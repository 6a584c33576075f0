// grading.cpp - see grading.h.
#include "grading.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>

#include "compiler.h"
#include "errors.h"
#include "files.h"
#include "sandbox.h"

namespace tito {

namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// What a failed assertion looked like, for a person: one line for the table and the full text.
void describe_failures(const nlohmann::json& report, bool visible, const Limits& limits, TestCaseResult& test) {
    const nlohmann::json failures = report.value("failures", nlohmann::json::array());
    if (failures.empty()) {
        if (!report.value("matched", false)) {
            test.reason = "the grader did not run this test (report this to your instructor)";
        } else if (report.value("assertions_passed", 0) == 0) {
            test.reason = "the test checked nothing (no assertion ran)";
        } else {
            test.reason = "failed";
        }
        return;
    }
    std::ostringstream details;
    for (const nlohmann::json& f : failures) {
        const std::string kind = f.value("kind", "failure");
        const std::string file = fs::path(f.value("file", "")).filename().string();
        // Hidden graders' file names mean nothing to a student; visible tests they can open.
        if (visible && !file.empty()) details << file << ":" << f.value("line", 0) << ": ";
        if (kind == "exception") {
            details << "threw: " << f.value("message", "") << "\n";
        } else {
            if (f.contains("expression")) details << f.value("expression", "") << "\n";
            if (f.contains("expansion")) details << "  with expansion: " << f.value("expansion", "") << "\n";
            if (!f.value("message", "").empty()) details << "  " << f.value("message", "") << "\n";
        }
        for (const auto& info : f.value("info", nlohmann::json::array())) details << "  note: " << info.get<std::string>() << "\n";
    }
    test.details = details.str();

    const nlohmann::json& f = failures.front();
    if (f.value("kind", "") == "exception") {
        std::string message = f.value("message", "");
        test.reason = message.rfind("not implemented", 0) == 0 ? first_line(message) : "threw: " + first_line(message);
        // Under the address-space limit an allocation fails instead of growing past the limit.
        if (message.find("bad_alloc") != std::string::npos)
            test.reason = "ran out of memory (limit " + std::to_string(limits.memory_mib) + " MiB): threw " + first_line(message);
    } else if (f.contains("expansion")) {
        test.reason = "expected " + first_line(f.value("expression", "")) + " -- got " + first_line(f.value("expansion", ""));
        const auto info = f.value("info", nlohmann::json::array());
        if (!info.empty()) test.reason = info.front().get<std::string>() + ": " + test.reason;
    } else {
        test.reason = first_line(f.value("message", "failed"));
    }
}

// Turns one sandboxed run into a test result.
void evaluate(const RunResult& run, const Limits& limits, TestCaseResult& test) {
    test.seconds = run.wall_seconds;
    const nlohmann::json* report = nullptr;
    for (const nlohmann::json& r : run.reports)
        if (r.contains("test")) report = &r;

    const bool clean_exit = run.outcome == Outcome::exited && run.exit_code == 0;
    const std::string finding = sanitizer_finding(run.output());
    if (report && clean_exit) {
        if (report->value("passed", false) && report->value("matched", false)) {
            test.status = "passed";
            test.points = test.max_points;
            return;
        }
        test.status = "failed";
        describe_failures(*report, test.visible, limits, test);
    } else {
        test.status = "crashed";
        if (!finding.empty()) {
            test.reason = "crashed: " + finding;
        } else if (run.outcome == Outcome::exited) {
            test.reason = run.exit_code == 0 ? "exited before reporting a result (does the code call exit()?)"
                                             : "exited with status " + std::to_string(run.exit_code) + " before reporting a result";
        } else {
            test.reason = run.describe(limits);
        }
        if (run.outcome == Outcome::timed_out) test.status = "timeout";
        if (run.outcome != Outcome::exited && run.outcome != Outcome::signaled && run.outcome != Outcome::timed_out)
            test.status = "limit";
        if (report) test.reason += " (after the test finished)";
    }
    std::string output = run.output();
    if (!output.empty()) test.details += "output of the test:\n" + output;
    if (run.stray_processes_killed > 0)
        test.details += std::to_string(run.stray_processes_killed) + " leftover processes were killed\n";
}

}  // namespace

nlohmann::json GradeReport::to_json() const {
    nlohmann::json j = {{"module", module_id},
                        {"module_dir", module_dir},
                        {"outcome", outcome},
                        {"message", message},
                        {"score", score},
                        {"max_score", max_score},
                        {"passed", passed},
                        {"compile_seconds", compile_seconds},
                        {"run_seconds", run_seconds},
                        {"objects_compiled", objects_compiled},
                        {"objects_reused", objects_reused},
                        {"sanitized", sanitized},
                        {"started_at", started_at},
                        {"commit", commit},
                        {"diagnostics", diagnostics}};
    j["tests"] = nlohmann::json::array();
    for (const TestCaseResult& t : tests)
        j["tests"].push_back({{"name", t.name},
                              {"points", t.points},
                              {"max_points", t.max_points},
                              {"visible", t.visible},
                              {"status", t.status},
                              {"reason", t.reason},
                              {"details", t.details},
                              {"seconds", t.seconds}});
    return j;
}

nlohmann::json load_test_manifest(const Course& course, const ModuleInfo& m) {
    const fs::path manifest = course.grader_dir(m) / "tests.json";
    if (!m.has_content || !fs::exists(manifest)) {
        std::string ready;
        for (const ModuleInfo& other : course.modules())
            if (other.has_content) ready += (ready.empty() ? "" : ", ") + other.id;
        throw UserError("module " + m.dir_name() + " has no grader yet",
                        "its content arrives in a later release; modules you can work on now: " + ready);
    }
    return load_json_file(manifest, "the installation is damaged: rebuild or reinstall tito");
}

std::map<std::string, std::string> grader_environment() {
    return {
        // Leaks are not graded; a report at exit would turn a passing test into a failure.
        {"ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:print_summary=1"},
        {"UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"},
        {"TITO_CHILD", "1"},
    };
}

StateGuard::StateGuard(const fs::path& tito_dir) : tito_dir_(tito_dir) {
    for (const fs::path& file : list()) saved_[file] = read_text_file(file);
}

std::vector<fs::path> StateGuard::list() const {
    std::vector<fs::path> files;
    if (!fs::exists(tito_dir_)) return files;
    for (auto it = fs::recursive_directory_iterator(tito_dir_); it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_directory() && it->path().filename() == "build" && it->path().parent_path() == tito_dir_) {
            it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file() || it->is_symlink()) files.push_back(it->path());
    }
    return files;
}

std::vector<std::string> StateGuard::restore() {
    std::vector<std::string> changed;
    std::set<fs::path> present;
    for (const fs::path& file : list()) {
        present.insert(file);
        auto saved = saved_.find(file);
        if (saved == saved_.end()) {  // created by the child
            fs::remove(file);
            changed.push_back(fs::relative(file, tito_dir_.parent_path()).string());
            continue;
        }
        std::string now;
        try {
            now = fs::is_symlink(file) ? std::string("\x01symlink") : read_text_file(file);
        } catch (const UserError&) {
            now = "\x01unreadable";
        }
        if (now != saved->second) {
            fs::remove(file);
            atomic_write_file(file, saved->second);
            changed.push_back(fs::relative(file, tito_dir_.parent_path()).string());
        }
    }
    for (const auto& [file, content] : saved_) {
        if (present.count(file)) continue;  // deleted by the child
        atomic_write_file(file, content);
        changed.push_back(fs::relative(file, tito_dir_.parent_path()).string());
    }
    return changed;
}

GradeReport grade_module(const Course& course, const Workspace& workspace, const ModuleInfo& m, const GradeOptions& options) {
    GradeReport report;
    report.module_id = m.id;
    report.module_dir = m.dir_name();
    report.started_at = utc_timestamp();
    report.sanitized = options.sanitize;

    const nlohmann::json manifest = load_test_manifest(course, m);
    for (const nlohmann::json& t : manifest) {
        TestCaseResult test;
        test.name = t.at("name").get<std::string>();
        test.max_points = t.at("points").get<int>();
        test.visible = t.value("visible", false);
        test.status = "not_run";
        report.max_score += test.max_points;
        report.tests.push_back(test);
    }
    auto fail_all = [&](const std::string& outcome, const std::string& message, const std::string& reason) {
        report.outcome = outcome;
        report.message = message;
        for (TestCaseResult& t : report.tests) t.reason = reason;
        return report;
    };

    // 1. Compile the student's files.
    std::vector<fs::path> sources;
    for (const std::string& file : m.file_names()) {
        fs::path source = fs::path(m.dir_name()) / file;
        if (!fs::exists(workspace.root() / source))
            throw UserError("your file " + source.string() + " is missing",
                            "`tito module start " + m.id + "` puts back missing files and keeps the others");
        sources.push_back(source);
    }
    const fs::path build_dir = workspace.build_dir() / m.dir_name() / (options.sanitize ? "test-sanitized" : "test");
    BuildResult compiled = compile_sources(course, workspace.root(), sources, build_dir, CompileMode::test, options.sanitize);
    report.compile_seconds = compiled.seconds;
    report.objects_compiled = compiled.built;
    report.objects_reused = compiled.reused;
    report.diagnostics = compiled.diagnostics;
    atomic_write_file(build_dir / "compile.log", compiled.diagnostics);
    if (!compiled.ok) {
        std::string failing;
        for (const fs::path& s : sources)
            if (compiled.diagnostics.find(s.string() + ":") != std::string::npos) failing += (failing.empty() ? "" : ", ") + s.string();
        return fail_all("compile_error", (failing.empty() ? m.dir_name() : failing) + " does not compile", "did not compile");
    }

    // 2. Link: student objects + the grader's tests + runner + every other module's reference.
    LinkRequest link;
    link.objects = compiled.outputs;
    link.whole_archives = {course.grader_dir(m) / "libgrader.a"};
    link.libraries = {course.lib_dir() / "libtito_grader_main.a"};
    for (const fs::path& library : reference_libraries(course, {m.dir_name()})) link.libraries.push_back(library);
    link.output = build_dir / "grader";
    link.sanitize = options.sanitize;
    BuildResult linked = link_program(course, link);
    report.compile_seconds += linked.seconds;
    if (!linked.ok) {
        report.diagnostics += linked.diagnostics;
        atomic_write_file(build_dir / "compile.log", report.diagnostics);
        std::string message = "your code compiles but does not link";
        size_t undefined = linked.diagnostics.find("undefined reference to");
        if (undefined != std::string::npos)
            message += ": " + first_line(linked.diagnostics.substr(undefined)) +
                       " (every function of the template must stay defined)";
        else if (linked.diagnostics.find("multiple definition") != std::string::npos)
            message += ": " + first_line(linked.diagnostics.substr(linked.diagnostics.find("multiple definition")));
        return fail_all("link_error", message, "did not link");
    }

    Limits limits = course.test_limits();
    if (options.timeout_seconds) {
        limits.wall_seconds = *options.timeout_seconds;
        limits.cpu_seconds = std::max(limits.cpu_seconds, 2 * *options.timeout_seconds);
    }
    // AddressSanitizer reserves terabytes of address space it never touches.
    limits.address_space_limit = !options.sanitize;
    const fs::path run_dir = build_dir / "run";
    const auto run_start = std::chrono::steady_clock::now();

    auto run_child = [&](const std::vector<std::string>& args, const Limits& run_limits) {
        fs::remove_all(run_dir);
        fs::create_directories(run_dir);
        RunRequest request;
        request.argv = {link.output.string()};
        request.argv.insert(request.argv.end(), args.begin(), args.end());
        request.extra_env = grader_environment();
        request.working_dir = run_dir;
        request.limits = run_limits;
        return run_sandboxed(request);
    };

    // 3. A program that hangs or crashes before main() (static initialisers) fails once, quickly.
    StateGuard guard(workspace.tito_dir());
    Limits startup = limits;
    startup.wall_seconds = course.startup_seconds();
    RunResult probe = run_child({"--tito-probe"}, startup);
    bool ready = probe.outcome == Outcome::exited && probe.exit_code == 0;
    ready = ready && std::any_of(probe.reports.begin(), probe.reports.end(),
                                 [](const nlohmann::json& r) { return r.value("probe", "") == "ready"; });
    guard.restore();
    if (!ready) {
        TestCaseResult scratch;
        evaluate(probe, startup, scratch);
        std::string reason = scratch.reason;
        if (probe.outcome == Outcome::timed_out)
            reason = "hung before any test started (timed out after " + std::to_string(static_cast<int>(startup.wall_seconds)) +
                     " s; look at global variables and static initialisation)";
        report.diagnostics = probe.output();
        return fail_all("startup_failed", "the program failed before any test started: " + reason, "not run: the program did not start");
    }

    // 4. Every test in its own child.
    size_t index = 0;
    for (TestCaseResult& test : report.tests) {
        if (!options.filter.empty() && test.name.find(options.filter) == std::string::npos) {
            test.reason = "skipped (--filter)";
            continue;
        }
        if (options.on_test_start) options.on_test_start(index, report.tests.size(), test.name);
        ++index;
        RunResult run = run_child({"--tito-run", test.name}, limits);
        evaluate(run, limits, test);
        std::vector<std::string> changed = guard.restore();
        if (!changed.empty()) {
            std::string names;
            for (const std::string& c : changed) names += (names.empty() ? "" : ", ") + c;
            test.status = "failed";
            test.points = 0;
            test.reason = "changed tito's state files (" + names + "); they were restored";
        }
    }
    report.run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    report.outcome = "graded";
    for (const TestCaseResult& t : report.tests) report.score += t.points;
    report.passed = report.max_score > 0 && report.score >= course.pass_fraction() * report.max_score - 1e-9;
    return report;
}

}  // namespace tito
