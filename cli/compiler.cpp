// compiler.cpp - see compiler.h.
#include "compiler.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <sstream>

#include "errors.h"
#include "files.h"
#include "term.h"

extern char** environ;

namespace tito {

namespace {

bool is_executable(const fs::path& path) { return ::access(path.c_str(), X_OK) == 0 && fs::is_regular_file(path); }

// A digest of everything installed that compiled code depends on: headers and libraries.
std::string engine_digest(const Course& course) {
    static std::string cached;
    static fs::path cached_for;
    if (!cached.empty() && cached_for == course.share()) return cached;
    std::string all;
    for (const fs::path& folder : {course.include_dir(), course.lib_dir(), course.share() / "graders"}) {
        if (!fs::exists(folder)) continue;
        std::vector<fs::path> files;
        for (const auto& entry : fs::recursive_directory_iterator(folder))
            if (entry.is_regular_file()) files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& file : files) {
            // Headers by content; libraries by size and time (they are large).
            if (file.extension() == ".h") {
                all += file.string() + read_text_file(file);
            } else {
                all += file.string() + std::to_string(fs::file_size(file)) +
                       std::to_string(fs::last_write_time(file).time_since_epoch().count());
            }
        }
    }
    cached = content_hash(all);
    cached_for = course.share();
    return cached;
}

std::string compiler_identity(const std::string& cxx) {
    std::error_code ec;
    fs::path real = fs::canonical(cxx, ec);
    if (ec) return cxx;
    return real.string() + ":" + std::to_string(fs::file_size(real, ec)) + ":" +
           std::to_string(fs::last_write_time(real, ec).time_since_epoch().count());
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out += p + '\x1f';
    return out;
}

// Diagnostics are stored and exported (results JSON, JUnit, Gradescope), so they are always plain
// text; report.cpp colours them for a terminal.
constexpr const char* kNoColor = "-fdiagnostics-color=never";
constexpr size_t kParallelJobs = 2;

}  // namespace

std::string find_compiler(const Course& course) {
    std::string cxx = course.compiler().cxx;
    if (const char* env = std::getenv("CXX"); env && *env) cxx = env;
    if (const char* env = std::getenv("TITO_CXX"); env && *env) cxx = env;
    const std::string hint = "install one with `sudo apt-get install g++`, or set TITO_CXX to a C++20 compiler";
    if (cxx.find('/') != std::string::npos) {
        if (is_executable(cxx)) return cxx;
        throw UserError("C++ compiler '" + cxx + "' not found", hint);
    }
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty()) continue;
        fs::path candidate = fs::path(dir) / cxx;
        if (is_executable(candidate)) return candidate.string();
    }
    throw UserError("C++ compiler '" + cxx + "' not found on PATH", hint);
}

std::vector<std::string> compile_command(const Course& course, CompileMode mode, bool sanitize) {
    const CompilerConfig& c = course.compiler();
    std::vector<std::string> argv = {find_compiler(course), "-std=" + c.standard};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    const auto& mode_flags = mode == CompileMode::test ? c.test_flags : c.release_flags;
    argv.insert(argv.end(), mode_flags.begin(), mode_flags.end());
    if (sanitize) argv.insert(argv.end(), c.sanitize_flags.begin(), c.sanitize_flags.end());
    argv.push_back("-I" + course.include_dir().string());
    return argv;
}

ToolOutput run_tool(const std::vector<std::string>& argv, const fs::path& cwd) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw UserError(std::string("cannot create a pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (rc != 0) {
        ::close(pipe_fds[0]);
        throw UserError("cannot run " + argv[0] + ": " + std::strerror(rc), "check that the compiler is installed");
    }
    ToolOutput result;
    char buffer[8192];
    while (true) {
        ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        result.output.append(buffer, static_cast<size_t>(n));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

BuildResult compile_sources(const Course& course, const fs::path& workspace_root, const std::vector<fs::path>& sources,
                            const fs::path& build_dir, CompileMode mode, bool sanitize, const ProgressCallback& on_progress) {
    const auto start = std::chrono::steady_clock::now();
    fs::create_directories(build_dir);
    require_writable_folder(build_dir.string(), "the build cache");
    const std::vector<std::string> base = compile_command(course, mode, sanitize);
    const std::string key_prefix = compiler_identity(base[0]) + join(base) + engine_digest(course);

    // Local headers next to the student's files also affect the objects.
    std::string local_headers;
    for (const fs::path& source : sources) {
        const fs::path folder = (workspace_root / source).parent_path();
        for (const auto& entry : fs::directory_iterator(folder))
            if (entry.path().extension() == ".h" || entry.path().extension() == ".hpp")
                local_headers += entry.path().filename().string() + read_text_file(entry.path());
    }

    struct Job {
        fs::path source, object, key_file;
        std::string key;
    };
    std::vector<Job> jobs;
    BuildResult result;
    for (const fs::path& source : sources) {
        Job job;
        job.source = source;
        job.object = build_dir / (source.stem().string() + ".o");
        job.key_file = build_dir / (source.stem().string() + ".o.key");
        job.key = content_hash(key_prefix + local_headers + read_text_file(workspace_root / source));
        result.outputs.push_back(job.object);
        if (fs::exists(job.object) && fs::exists(job.key_file) && read_text_file(job.key_file) == job.key) {
            ++result.reused;
            continue;
        }
        jobs.push_back(job);
    }

    // Two compilations at a time (these machines have two cores), the next one starting as soon as
    // one ends. Every 0.2 s the caller hears which files are being compiled, for a cold build that
    // takes a while.
    std::vector<ToolOutput> outputs(jobs.size());
    std::vector<std::future<ToolOutput>> running(jobs.size());
    size_t next = 0, finished = 0;
    std::vector<size_t> active;
    while (finished < jobs.size()) {
        while (active.size() < kParallelJobs && next < jobs.size()) {
            std::vector<std::string> argv = base;
            argv.push_back(kNoColor);
            argv.insert(argv.end(), {"-c", jobs[next].source.string(), "-o", jobs[next].object.string()});
            fs::remove(jobs[next].key_file);
            running[next] = std::async(std::launch::async, run_tool, argv, workspace_root);
            active.push_back(next++);
        }
        if (on_progress) {
            std::string names;
            for (size_t i : active) names += (names.empty() ? "" : ", ") + jobs[i].source.filename().string();
            on_progress(names + " (" + std::to_string(finished) + " of " + std::to_string(jobs.size()) + " compiled)");
        }
        running[active.front()].wait_for(std::chrono::milliseconds(100));
        for (auto it = active.begin(); it != active.end();) {
            if (running[*it].wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
                outputs[*it] = running[*it].get();
                ++finished;
                it = active.erase(it);
            } else {
                ++it;
            }
        }
    }
    result.ok = true;
    for (size_t i = 0; i < jobs.size(); ++i) {
        result.diagnostics += outputs[i].output;
        if (outputs[i].exit_code == 0) {
            atomic_write_file(jobs[i].key_file, jobs[i].key);
            ++result.built;
        } else {
            result.ok = false;
        }
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

BuildResult link_program(const Course& course, const LinkRequest& request, const ProgressCallback& on_progress) {
    const auto start = std::chrono::steady_clock::now();
    BuildResult result;
    result.outputs = {request.output};
    const CompilerConfig& c = course.compiler();

    std::vector<std::string> argv = {find_compiler(course)};
    if (request.sanitize) argv.insert(argv.end(), c.sanitize_flags.begin(), c.sanitize_flags.end());
    argv.push_back(kNoColor);
    argv.insert(argv.end(), {"-o", request.output.string()});
    for (const fs::path& object : request.objects) argv.push_back(object.string());
    for (const fs::path& archive : request.whole_archives) {
        argv.push_back("-Wl,--whole-archive");
        argv.push_back(archive.string());
        argv.push_back("-Wl,--no-whole-archive");
    }
    argv.push_back("-Wl,--start-group");
    for (const fs::path& library : request.libraries) argv.push_back(library.string());
    argv.push_back("-Wl,--end-group");
    argv.insert(argv.end(), c.link_flags.begin(), c.link_flags.end());

    // The cache key: the command (minus colour) and the identity of every input file.
    std::string key = compiler_identity(argv[0]) + engine_digest(course);
    for (const std::string& a : argv)
        if (a.rfind("-fdiagnostics-color", 0) != 0) key += a + '\x1f';
    for (const fs::path& object : request.objects) {
        std::error_code ec;
        key += std::to_string(fs::file_size(object, ec)) +
               std::to_string(fs::last_write_time(object, ec).time_since_epoch().count());
    }
    key = content_hash(key);
    const fs::path key_file = request.output.string() + ".key";
    if (fs::exists(request.output) && fs::exists(key_file) && read_text_file(key_file) == key) {
        result.ok = true;
        result.reused = 1;
        return result;
    }
    fs::remove(key_file);
    fs::create_directories(request.output.parent_path());
    require_writable_folder(request.output.parent_path().string(), "the build cache");
    std::future<ToolOutput> linking = std::async(std::launch::async, run_tool, argv, request.output.parent_path());
    while (on_progress && linking.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) on_progress("linking");
    ToolOutput out = linking.get();
    result.diagnostics = out.output;
    result.ok = out.exit_code == 0;
    if (result.ok) {
        atomic_write_file(key_file, key);
        result.built = 1;
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

std::vector<fs::path> reference_libraries(const Course& course, const std::set<std::string>& replaced) {
    std::vector<fs::path> libraries;
    for (const ModuleInfo& m : course.modules()) {
        if (replaced.count(m.dir_name())) continue;
        fs::path library = course.engine_library(m.dir_name());
        if (fs::exists(library)) libraries.push_back(library);
    }
    libraries.push_back(course.engine_library("core"));
    return libraries;
}

std::string trim_diagnostics(const std::string& diagnostics, size_t max_lines, const fs::path& full_log) {
    std::istringstream in(diagnostics);
    std::string line, out;
    size_t count = 0, total = 0;
    while (std::getline(in, line)) {
        ++total;
        if (count < max_lines) {
            out += line + "\n";
            ++count;
        }
    }
    if (total > count)
        out += "... " + std::to_string(total - count) + " more lines in " + full_log.string() + "\n";
    return out;
}

namespace {

// "02_tensor/tensor.cpp:42:5: error: ..." -> "error"; "" for a line that is no diagnostic.
std::string diagnostic_kind(const std::string& line) {
    if (line.empty() || line[0] == ' ') return "";
    for (const char* kind : {"fatal error", "error", "warning", "note"}) {
        const std::string marker = std::string(": ") + kind + ": ";
        size_t at = line.find(marker);
        if (at == std::string::npos || at == 0) continue;
        // Before the marker: "file:line:column" (or "file:line"), digits after the last colons.
        size_t colon = line.rfind(':', at - 1);
        if (colon == std::string::npos) continue;
        if (line.find_first_not_of("0123456789", colon + 1) != at) continue;
        return std::string(kind) == "fatal error" ? "error" : kind;
    }
    return "";
}

// Lines that introduce the next diagnostic: where it happened.
bool is_context_line(const std::string& line) {
    return line.rfind("In file included from ", 0) == 0 || line.rfind("                 from ", 0) == 0 ||
           line.find(": In function ") != std::string::npos || line.find(": In member function ") != std::string::npos ||
           line.find(": In constructor ") != std::string::npos || line.find(": In destructor ") != std::string::npos ||
           line.find(": In lambda function") != std::string::npos || line.find(": In instantiation of ") != std::string::npos ||
           line.find(": In static member function ") != std::string::npos || line.find(": At global scope:") != std::string::npos ||
           line.find(": In copy constructor ") != std::string::npos || line.find(": In substitution of ") != std::string::npos;
}

}  // namespace

FirstError first_error(const std::string& diagnostics) {
    std::vector<std::string> lines;
    std::istringstream in(diagnostics);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    FirstError result;
    size_t first = lines.size();
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string kind = diagnostic_kind(lines[i]);
        if (kind == "error") {
            if (result.errors++ == 0) first = i;
        } else if (kind == "warning") {
            ++result.warnings;
        }
    }
    if (first == lines.size()) return result;
    size_t begin = first;
    while (begin > 0 && is_context_line(lines[begin - 1])) --begin;
    // After the error: its source excerpt ("   42 |   x = 1", "      |   ^") and its notes, up to
    // the next error or warning, or the context of the next diagnostic.
    constexpr size_t kMaxShown = 40;
    size_t end = first + 1;
    while (end < lines.size()) {
        const std::string kind = diagnostic_kind(lines[end]);
        if (kind == "error" || kind == "warning" || is_context_line(lines[end])) break;
        // "file:12:3:   required from here" belongs to the error above it.
        ++end;
    }
    for (size_t i = begin; i < end && i < begin + kMaxShown; ++i) result.text += lines[i] + "\n";
    if (end > begin + kMaxShown) result.text += "  [... " + std::to_string(end - begin - kMaxShown) + " more lines of notes]\n";
    return result;
}

}  // namespace tito
