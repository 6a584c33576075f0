// grading.cpp - see grading.h.
#include "grading.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <deque>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "compiler.h"
#include "errors.h"
#include "files.h"
#include "sandbox.h"
#include "text.h"

namespace tito {

namespace {

using nlohmann::json;

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Safe readers of what the child reported: a field of the wrong type (a child can write anything
// with the token) reads as empty, false or 0 instead of throwing.
std::string text_of(const json& j, const char* key) {
    if (!j.is_object()) return "";
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return "";
    if (it->is_string()) return it->get_ref<const std::string&>();
    return it->dump(-1, ' ', false, json::error_handler_t::replace);
}
bool flag_of(const json& j, const char* key) {
    if (!j.is_object()) return false;
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}
int64_t count_of(const json& j, const char* key) {
    if (!j.is_object()) return 0;
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
json array_of(const json& j, const char* key) {
    if (!j.is_object()) return json::array();
    auto it = j.find(key);
    return it != j.end() && it->is_array() ? *it : json::array();
}

// Untrusted text as it may be shown and stored: see text.h.
std::string incoming(const std::string& text, const std::string& workspace_root) {
    return course_paths(clean_text(text), workspace_root);
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// "tensor (2, 3) [[...]]\n  is close to ...\n  but 3 of 6 elements differ; ..." -> the "but" line,
// which every matcher of graders/common/grading.h writes: the summary a student needs first.
std::string verdict_of(const std::string& expansion) {
    size_t begin = 0;
    while (begin < expansion.size()) {
        size_t end = expansion.find('\n', begin);
        if (end == std::string::npos) end = expansion.size();
        std::string line = expansion.substr(begin, end - begin);
        line.erase(0, line.find_first_not_of(" \t"));
        if (starts_with(line, "but ")) return line.substr(4);
        begin = end + 1;
    }
    return "";
}

std::string failure_reason_in(const json& f, const Limits& limits, const std::string& root) {
    auto field = [&](const char* key) { return incoming(text_of(f, key), root); };
    const std::string kind = text_of(f, "kind");
    const std::string message = field("message");
    std::string reason;
    if (kind == "exception") {
        reason = starts_with(message, "not implemented") ? first_line(message) : "threw: " + first_line(message);
        // Under the address-space limit an allocation fails instead of growing past the limit.
        if (message.find("bad_alloc") != std::string::npos)
            reason = "ran out of memory (limit " + std::to_string(limits.memory_mib) + " MiB): threw " + first_line(message);
    } else if (f.is_object() && f.contains("expansion")) {
        const std::string expansion = field("expansion");
        const std::string expression = field("expression");
        std::string condition = field("condition");
        if (condition.empty()) condition = expression;
        const std::string verdict = verdict_of(expansion);
        if (!verdict.empty()) {
            reason = verdict + " -- in " + first_line(expression);
        } else if (expansion == "false" || expansion == "true") {
            reason = first_line(condition) + " is " + expansion;
        } else if (expansion == condition || expansion.empty()) {
            reason = (message.empty() ? kind : first_line(message)) + " -- in " + first_line(expression);
        } else {
            reason = "got " + first_line(expansion) + " -- expected " + first_line(condition);
        }
    } else {
        reason = first_line(message.empty() ? (kind.empty() ? std::string("failed") : kind) : message);
    }
    // The first note (INFO/CAPTURE) says which case failed; Catch2 also repeats an unexpected
    // exception's message there, which the reason already holds.
    const json info = array_of(f, "info");
    if (!info.empty()) {
        const std::string note = first_line(incoming(info.front().is_string() ? info.front().get<std::string>() : info.front().dump(), root));
        if (!note.empty() && reason.find(note) == std::string::npos) reason += " -- " + note;
    }
    return clean_line(reason);
}

// What the failed assertions looked like, for a person: one line for the table and the full text.
void describe_failures(const json& report, bool visible, const Limits& limits, const std::string& root, TestCaseResult& test) {
    const json failures = array_of(report, "failures");
    if (failures.empty()) {
        if (!flag_of(report, "matched")) {
            test.reason = "the grader did not run this test (report this to your instructor)";
        } else if (count_of(report, "assertions_passed") == 0) {
            test.reason = "the test checked nothing (no assertion ran)";
        } else {
            test.reason = "failed";
        }
        return;
    }
    std::ostringstream details;
    for (const json& f : failures) {
        auto field = [&](const char* key) { return incoming(text_of(f, key), root); };
        const std::string kind = text_of(f, "kind");
        // Hidden graders' files mean nothing to a student (and are not theirs to know); the
        // visible tests are in their module folder.
        const std::string file = field("file");
        if (visible && !file.empty() && file.find("(hidden grader code)") == std::string::npos)
            details << file << ":" << count_of(f, "line") << ": ";
        if (kind == "exception") {
            details << "threw: " << field("message") << "\n";
        } else {
            if (f.is_object() && f.contains("expression")) details << field("expression") << "\n";
            if (f.is_object() && f.contains("expansion")) details << "  with expansion: " << field("expansion") << "\n";
            if (!text_of(f, "message").empty()) details << "  " << field("message") << "\n";
        }
        for (const json& info : array_of(f, "info")) {
            const std::string note = incoming(info.is_string() ? info.get<std::string>() : info.dump(), root);
            if (kind != "exception" || note != field("message")) details << "  note: " << note << "\n";
        }
    }
    test.details = details.str();
    test.reason = failure_reason_in(failures.front(), limits, root);
}

json test_to_json(const TestCaseResult& t) {
    return {{"name", t.name},     {"points", t.points}, {"max_points", t.max_points}, {"visible", t.visible},
            {"status", t.status}, {"reason", t.reason}, {"details", t.details},       {"seconds", t.seconds}};
}

void test_from_json(const json& j, TestCaseResult& t) {
    t.points = static_cast<int>(count_of(j, "points"));
    t.status = text_of(j, "status");
    t.reason = text_of(j, "reason");
    t.details = text_of(j, "details");
    t.seconds = j.is_object() && j.contains("seconds") && j.at("seconds").is_number() ? j.at("seconds").get<double>() : 0.0;
}

// On a socket, MSG_NOSIGNAL: a peer that died makes the write fail, not kill tito with SIGPIPE.
void write_line(int fd, const std::string& line) {
    const char* data = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::send(fd, data, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        data += n;
        left -= static_cast<size_t>(n);
    }
}

// Reads what is there; false at end of file (the other side is gone).
bool read_into(int fd, std::string& buffer) {
    char chunk[65536];
    while (true) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buffer.append(chunk, static_cast<size_t>(n));
        return true;
    }
}

std::optional<std::string> take_line(std::string& buffer) {
    size_t newline = buffer.find('\n');
    if (newline == std::string::npos) return std::nullopt;
    std::string line = buffer.substr(0, newline);
    buffer.erase(0, newline + 1);
    return line;
}

// Tests run `count` at a time, each worker a process of its own.
//
// Why processes and not threads: the sandbox finds a run's processes as "descendants of the
// subreaper that started it" (sandbox.h), so two runs started by one process would count - and
// kill - each other's processes. Each worker is a fork of tito that makes itself a subreaper and
// runs its tests one after the other, exactly as tito alone would; tito hands out the tests and
// collects the results (one JSON line each) through a socket pair per worker. A worker dies with
// tito (PDEATHSIG), and its runs die with it. tito forks while it has no other thread (the
// compile jobs have ended), so the worker may use anything tito uses.
//
// tito's state files are checked (and restored) after every test, as without workers. A change
// cannot be pinned on one test when two were running, so every test that was running since the
// last check is returned as a suspect, and run again alone afterwards, where a change is its own.
class TestWorkers {
public:
    using RunOne = std::function<void(TestCaseResult& test, size_t worker)>;

    TestWorkers(size_t count, std::vector<TestCaseResult>& tests, RunOne run_one) : tests_(tests), run_one_(std::move(run_one)) {
        std::cout.flush();
        std::cerr.flush();
        const pid_t parent = ::getpid();
        for (size_t w = 0; w < count; ++w) {
            int ends[2];  // [0] tito's, [1] the worker's
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) break;
            pid_t pid = ::fork();
            if (pid < 0) {
                ::close(ends[0]);
                ::close(ends[1]);
                break;
            }
            if (pid == 0) {
                ::close(ends[0]);
                for (const Worker& other : workers_) ::close(other.socket);  // the other workers' are not ours
                serve(parent, ends[1], w);
            }
            ::close(ends[1]);
            workers_.push_back({pid, ends[0], "", std::nullopt});
        }
    }

    ~TestWorkers() {
        for (Worker& w : workers_) stop(w);
    }

    bool started() const { return !workers_.empty(); }

    // Runs every test of `queue`; `on_start` before each, `check_state` after each (true when a
    // state file was changed; it is restored). Returns the tests to run again alone.
    std::vector<size_t> run(std::deque<size_t> queue, const std::function<void(size_t)>& on_start,
                            const std::function<bool()>& check_state) {
        std::set<size_t> suspects;
        auto assign = [&](Worker& w) {
            if (queue.empty() || w.socket < 0) return;
            w.running = queue.front();
            queue.pop_front();
            on_start(*w.running);
            write_line(w.socket, std::to_string(*w.running) + "\n");
        };
        auto finished = [&](Worker& w, size_t index) {
            w.running.reset();
            if (check_state()) {
                suspects.insert(index);
                for (const Worker& other : workers_)
                    if (other.running) suspects.insert(*other.running);
            }
        };
        for (Worker& w : workers_) assign(w);
        while (true) {
            std::vector<pollfd> fds;
            std::vector<Worker*> owners;
            for (Worker& w : workers_)
                if (w.running) {
                    fds.push_back({w.socket, POLLIN, 0});
                    owners.push_back(&w);
                }
            if (fds.empty()) break;
            if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
            for (size_t i = 0; i < fds.size(); ++i) {
                if (fds[i].revents == 0) continue;
                Worker& w = *owners[i];
                const size_t index = *w.running;
                const bool open = read_into(w.socket, w.buffer);
                if (auto line = take_line(w.buffer)) {
                    const json message = json::parse(*line, nullptr, false);
                    test_from_json(message.is_object() ? message.value("test", json::object()) : json::object(), tests_[index]);
                    if (tests_[index].status.empty()) {
                        tests_[index].status = "crashed";
                        tests_[index].reason = "tito lost this test's result (report this to your instructor)";
                    }
                    finished(w, index);
                    assign(w);
                } else if (!open) {
                    // The worker died (it should not): its test did not run to a result, and
                    // what it had not started goes to the others, or to tito itself.
                    TestCaseResult& test = tests_[index];
                    test.status = "crashed";
                    test.points = 0;
                    test.reason = "tito's test worker stopped before this test ended (report this to your instructor)";
                    finished(w, index);
                    stop(w);
                    bool any = false;
                    for (Worker& other : workers_) any = any || other.socket >= 0;
                    if (!any) {  // tito runs the rest alone
                        suspects.insert(queue.begin(), queue.end());
                        queue.clear();
                    }
                }
            }
        }
        return {suspects.begin(), suspects.end()};
    }

private:
    struct Worker {
        pid_t pid;
        int socket;  // tito -> worker: a test's index per line; worker -> tito: {"index", "test"} per line
        std::string buffer;
        std::optional<size_t> running;
    };

    [[noreturn]] void serve(pid_t parent, int socket, size_t worker) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(0);
        std::string buffer;
        while (read_into(socket, buffer)) {
            while (auto line = take_line(buffer)) {
                const size_t index = std::stoul(*line);
                TestCaseResult test = tests_.at(index);
                try {
                    run_one_(test, worker);
                } catch (const std::exception& e) {
                    test.status = "crashed";
                    test.points = 0;
                    test.reason = clean_line(std::string("tito could not run this test: ") + e.what());
                }
                write_line(socket, json{{"index", index}, {"test", test_to_json(test)}}.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
            }
        }
        ::_exit(0);  // no destructors, no atexit handlers, no flushing of tito's buffers: tito does that
    }

    void stop(Worker& w) {
        if (w.socket >= 0) ::close(w.socket);  // end of file: the worker exits
        w.socket = -1;
        if (w.pid > 0) {
            int status = 0;
            while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
            }
            w.pid = -1;
        }
    }

    std::vector<TestCaseResult>& tests_;
    RunOne run_one_;
    std::vector<Worker> workers_;
};

}  // namespace

std::string failure_reason(const json& failure, const Limits& limits) { return failure_reason_in(failure, limits, ""); }

void evaluate_run(const RunResult& run, const Limits& limits, const std::string& root, TestCaseResult& test) {
    test.seconds = run.wall_seconds;
    const json* report = nullptr;
    for (const json& r : run.reports)
        if (r.is_object() && r.contains("test") && r.at("test").is_string()) report = &r;

    const bool clean_exit = run.outcome == Outcome::exited && run.exit_code == 0;
    const std::string output = incoming(run.output(), root);
    if (report && clean_exit) {
        if (flag_of(*report, "passed") && flag_of(*report, "matched") && text_of(*report, "test") == test.name) {
            test.status = "passed";
            test.points = test.max_points;
            return;
        }
        test.status = "failed";
        describe_failures(*report, test.visible, limits, root, test);
    } else {
        test.status = "crashed";
        const std::string finding = clean_line(course_paths(sanitizer_finding(run.output()), root));
        if (!finding.empty()) {
            test.reason = "crashed: " + finding;
        } else if (run.outcome == Outcome::exited) {
            test.reason = run.exit_code == 0 ? "exited before reporting a result (does the code call exit()?)"
                                             : "exited with status " + std::to_string(run.exit_code) + " before reporting a result";
        } else {
            test.reason = clean_line(run.describe(limits));
        }
        if (run.outcome == Outcome::timed_out) test.status = "timeout";
        if (run.outcome != Outcome::exited && run.outcome != Outcome::signaled && run.outcome != Outcome::timed_out)
            test.status = "limit";
        if (report) test.reason += " (after the test finished)";
    }
    if (!output.empty()) test.details += "output of the test:\n" + output + (output.back() == '\n' ? "" : "\n");
    if (run.stray_processes_killed > 0)
        test.details += std::to_string(run.stray_processes_killed) + " leftover processes were killed\n";
}

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
                        {"partial", partial},
                        {"compile_log", compile_log},
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

size_t parallel_tests(const Course& course) {
    const nlohmann::json limits = course.config("limits.json");
    const nlohmann::json& value = limits.contains("parallel_tests") ? limits.at("parallel_tests") : nlohmann::json(1);
    const int64_t wanted = value.is_number_integer() ? value.get<int64_t>() : 1;
    const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
    return static_cast<size_t>(std::clamp<int64_t>(wanted, 1, cores));
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
    try {
        for (const nlohmann::json& t : manifest) {
            TestCaseResult test;
            test.name = clean_line(t.at("name").get<std::string>());
            test.max_points = t.at("points").get<int>();
            test.visible = t.value("visible", false);
            test.status = "not_run";
            report.max_score += test.max_points;
            report.tests.push_back(test);
        }
    } catch (const nlohmann::json::exception& e) {
        throw UserError((course.grader_dir(m) / "tests.json").string() + " is damaged (" + e.what() + ")",
                        "rebuild or reinstall tito");
    }
    report.partial = !options.filter.empty() || options.exit_first;
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
    report.compile_log = fs::relative(build_dir / "compile.log", workspace.root()).string();
    BuildResult compiled =
        compile_sources(course, workspace.root(), sources, build_dir, CompileMode::test, options.sanitize, options.on_build_progress);
    report.compile_seconds = compiled.seconds;
    report.objects_compiled = compiled.built;
    report.objects_reused = compiled.reused;
    // The compiler repeats the student's source lines, which may hold any bytes.
    report.diagnostics = clean_text(compiled.diagnostics, kMaxLineBytes, 1024 * 1024);
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
    BuildResult linked = link_program(course, link, options.on_build_progress);
    report.compile_seconds += linked.seconds;
    if (!linked.ok) {
        atomic_write_file(build_dir / "compile.log", compiled.diagnostics + linked.diagnostics);
        linked.diagnostics = clean_text(linked.diagnostics, kMaxLineBytes, 1024 * 1024);
        report.diagnostics += linked.diagnostics;
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
    const auto run_start = std::chrono::steady_clock::now();

    // Each worker (see TestWorkers) has a working folder of its own: run, run-1, ...
    auto run_child = [&](const std::vector<std::string>& args, const Limits& run_limits, size_t worker = 0) {
        const fs::path run_dir = build_dir / (worker == 0 ? std::string("run") : "run-" + std::to_string(worker));
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
                                 [](const nlohmann::json& r) { return text_of(r, "probe") == "ready"; });
    guard.restore();
    const std::string root = workspace.root().string();
    if (!ready) {
        TestCaseResult scratch;
        evaluate_run(probe, startup, root, scratch);
        std::string reason = scratch.reason;
        if (probe.outcome == Outcome::timed_out)
            reason = "hung before any test started (timed out after " + std::to_string(static_cast<int>(startup.wall_seconds)) +
                     " s; look at global variables and static initialisation)";
        report.diagnostics = incoming(probe.output(), root);
        return fail_all("startup_failed", "the program failed before any test started: " + reason, "not run: the program did not start");
    }

    // 4. Every test in its own child, `parallel_tests` at a time (configs/limits.json, at most one
    // per core); one at a time with --exitfirst, which must stop at the first test that fails.
    auto selected = [&](const TestCaseResult& test) { return options.filter.empty() || test.name.find(options.filter) != std::string::npos; };
    std::deque<size_t> queue;
    for (size_t i = 0; i < report.tests.size(); ++i) {
        if (selected(report.tests[i])) {
            queue.push_back(i);
        } else {
            report.tests[i].reason = "not run (--filter)";
        }
    }
    const size_t total = queue.size();
    size_t started = 0;
    auto on_start = [&](size_t index) {
        if (options.on_test_start) options.on_test_start(started, total, report.tests[index].name);
        ++started;
    };
    auto run_one = [&](TestCaseResult& test, size_t worker) {
        test.points = 0;
        test.reason.clear();
        test.details.clear();
        RunResult run = run_child({"--tito-run", test.name}, limits, worker);
        evaluate_run(run, limits, root, test);
    };
    // A test run alone: the state files it changed are its own doing.
    auto run_alone = [&](TestCaseResult& test) {
        run_one(test, 0);
        std::vector<std::string> changed = guard.restore();
        if (changed.empty()) return;
        std::string names;
        for (const std::string& c : changed) names += (names.empty() ? "" : ", ") + c;
        test.status = "failed";
        test.points = 0;
        test.reason = "changed tito's state files (" + names + "); they were restored";
    };
    const size_t parallel = options.exit_first ? 1 : std::min(parallel_tests(course), queue.size());
    std::optional<TestWorkers> workers;
    if (parallel > 1) workers.emplace(parallel, report.tests, run_one);
    if (workers && workers->started()) {
        const std::vector<size_t> again = workers->run(std::move(queue), on_start, [&] { return !guard.restore().empty(); });
        workers.reset();
        for (size_t index : again) run_alone(report.tests[index]);
    } else {
        bool stopped = false;
        for (size_t index : queue) {
            TestCaseResult& test = report.tests[index];
            if (stopped) {
                test.reason = "not run (--exitfirst: an earlier test did not pass)";
                continue;
            }
            on_start(index);
            run_alone(test);
            stopped = options.exit_first && test.status != "passed";
        }
    }
    report.run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    report.outcome = "graded";
    for (const TestCaseResult& t : report.tests) report.score += t.points;
    report.passed = report.max_score > 0 && report.score >= course.pass_fraction() * report.max_score - 1e-9;
    return report;
}

}  // namespace tito
