// test_cli_sandbox.cpp - run_sandboxed() against programs that misbehave on purpose
// (tests/cli/helpers/tt_helper_*), and sanitizer_finding() on real sanitizer reports.
//
// Every run checks three things besides its outcome: the one-line description a student reads,
// that it ended in bounded time, and that no process of the run is left anywhere afterwards.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox.h"

namespace fs = std::filesystem;
using tito::Limits;
using tito::Outcome;
using tito::RunRequest;
using tito::RunResult;

namespace {

fs::path helper_dir() {
    if (const char* dir = std::getenv("TITO_TEST_HELPERS")) return dir;
    return fs::read_symlink("/proc/self/exe").parent_path();  // running bin/test_cli by hand
}

std::string helper(const std::string& name) { return (helper_dir() / ("tt_helper_" + name)).string(); }

RunRequest request_for(const std::string& name, std::vector<std::string> args = {}) {
    RunRequest request;
    request.argv.push_back(helper(name));
    for (auto& a : args) request.argv.push_back(std::move(a));
    return request;
}

struct TimedRun {
    RunResult result;
    double seconds = 0;   // as seen from outside run_sandboxed, cleanup included
    std::string marker;   // in the environment of every process of the run
};

TimedRun run(RunRequest request) {
    static int counter = 0;
    tito::init_sandbox_parent();
    TimedRun timed;
    timed.marker = std::to_string(getpid()) + "-" + std::to_string(++counter);
    request.extra_env["TT_SANDBOX_TEST_MARKER"] = timed.marker;
    auto start = std::chrono::steady_clock::now();
    timed.result = tito::run_sandboxed(request);
    timed.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // TT_SANDBOX_TIMINGS=1 prints how long each run took, cleanup included.
    if (std::getenv("TT_SANDBOX_TIMINGS") != nullptr) {
        std::fprintf(stderr, "[sandbox timing] %-14s %6.3f s  %s\n", fs::path(request.argv[0]).filename().c_str(),
                     timed.seconds, timed.result.describe(request.limits).c_str());
    }
    return timed;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Processes left over from a run: any child of this test process (alive or zombie - everything a
// run starts is re-parented to us, the subreaper), or any process anywhere whose environment
// carries the run's marker.
std::vector<std::string> leftovers(const std::string& marker) {
    std::vector<std::string> found;
    const std::string needle = "TT_SANDBOX_TEST_MARKER=" + marker + std::string(1, '\0');
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string pid = entry.path().filename().string();
        if (!std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
        std::string stat = read_file(entry.path() / "stat");
        size_t close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::string comm = stat.substr(stat.find('(') + 1, close - stat.find('(') - 1);
        std::istringstream fields(stat.substr(close + 2));
        char state = '?';
        long parent = 0;
        fields >> state >> parent;
        bool ours = parent == getpid();
        if (!ours && comm.rfind("tt_helper_", 0) == 0) {
            std::string environment = read_file(entry.path() / "environ") + '\0';
            ours = environment.find(needle) != std::string::npos;
        }
        if (ours) found.push_back(pid + " " + comm + " " + state);
    }
    return found;
}

int64_t own_peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "tt_sandbox_test_XXXXXX").string();
        path = mkdtemp(pattern.data());
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
    return parts;
}

}  // namespace

// --- programs that behave ----------------------------------------------------------------------

TEST_CASE("sandbox: a well-behaved program reports through the result channel only", "[sandbox]") {
    TempDir dir;
    // An fd tito holds open without close-on-exec must not reach the program.
    int leaked = ::open("/dev/null", O_RDONLY);
    REQUIRE(leaked >= 0);

    RunRequest request = request_for("reporter");
    request.working_dir = dir.path;
    request.extra_env["TT_HELPER_VALUE"] = "forty two";
    auto [r, seconds, marker] = run(request);
    ::close(leaked);

    CHECK(r.outcome == Outcome::exited);
    CHECK(r.exit_code == 0);
    CHECK(r.describe(request.limits) == "exited with status 0");
    CHECK(r.output().find("hello from the reporter\n") != std::string::npos);
    CHECK(r.output().find("a line on stderr\n") != std::string::npos);
    CHECK(r.output_tail.empty());
    CHECK(r.output_bytes == static_cast<int64_t>(r.output_head.size()));

    // Two complete lines with the token; not the text, the other token, the array, the cut-off line.
    REQUIRE(r.reports.size() == 2);
    CHECK(r.reports[0]["test"] == "first");
    CHECK(r.reports[0]["passed"] == true);
    CHECK(r.reports[1]["test"] == "second");
    CHECK(r.reports[1]["passed"] == false);
    CHECK_FALSE(r.reports[0].contains("token"));
    CHECK_FALSE(r.reports[1].contains("token"));

    // What the program saw: fds 0-3 only, stdin from /dev/null, the working directory, extra_env.
    auto fds = split(r.reports[0]["open_fds"].get<std::string>(), ',');
    std::sort(fds.begin(), fds.end());
    CHECK(fds == std::vector<std::string>{"0", "1", "2", "3"});
    CHECK(r.reports[0]["stdin"] == "/dev/null");
    CHECK(fs::path(r.reports[0]["cwd"].get<std::string>()) == fs::canonical(dir.path));
    CHECK(r.reports[0]["value"] == "forty two");

    CHECK(r.stray_processes_killed == 0);
    CHECK(r.wall_seconds < 2);
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: the exit status is reported", "[sandbox]") {
    auto [r, seconds, marker] = run(request_for("reporter", {"exit", "3"}));
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.exit_code == 3);
    CHECK(r.describe(Limits{}) == "exited with status 3");
    CHECK(r.reports.size() == 2);  // results still count; the grader decides what a failure means
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: Limits::cpus runs the program on that many CPUs", "[sandbox]") {
    // The first CPU tito may use, as the kernel lists it in /proc/<pid>/status.
    cpu_set_t allowed;
    REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    int first = 0;
    while (!CPU_ISSET(first, &allowed)) ++first;
    RunRequest request;
    request.argv = {"/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status"};
    request.limits.cpus = 1;
    RunResult r = run_sandboxed(request);
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.output() == "Cpus_allowed_list:\t" + std::to_string(first) + "\n");
    // Without the limit, the program keeps tito's CPUs.
    request.limits.cpus = 0;
    r = run_sandboxed(request);
    if (CPU_COUNT(&allowed) > 1) CHECK(r.output() != "Cpus_allowed_list:\t" + std::to_string(first) + "\n");
}

TEST_CASE("sandbox: results with a wrong token or on stdout do not count", "[sandbox]") {
    auto [r, seconds, marker] = run(request_for("wrong_token"));
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.reports.empty());
    CHECK(r.output().find("\"passed\":true") != std::string::npos);
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: printing 'All tests passed' and _exit(0) gives no results", "[sandbox]") {
    auto [r, seconds, marker] = run(request_for("fake_pass"));
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.exit_code == 0);
    CHECK(r.reports.empty());
    CHECK(r.output().find("All tests passed") != std::string::npos);
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

// --- crashes -----------------------------------------------------------------------------------

TEST_CASE("sandbox: a segmentation fault is a crash", "[sandbox]") {
    auto [r, seconds, marker] = run(request_for("segfault"));
    CHECK(r.outcome == Outcome::signaled);
    CHECK(r.signal == SIGSEGV);
    CHECK(r.describe(Limits{}) == "crashed: segmentation fault (SIGSEGV)");
    CHECK(r.output() == "about to crash\n");
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: abort() is a crash", "[sandbox]") {
    auto [r, seconds, marker] = run(request_for("abort"));
    CHECK(r.outcome == Outcome::signaled);
    CHECK(r.signal == SIGABRT);
    CHECK(r.describe(Limits{}) == "crashed: aborted (SIGABRT)");
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

// --- time --------------------------------------------------------------------------------------

TEST_CASE("sandbox: a program that sleeps forever times out", "[sandbox]") {
    RunRequest request = request_for("sleep_forever");
    request.limits.wall_seconds = 1;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::timed_out);
    CHECK(r.describe(request.limits) == "timed out after 1 s");
    CHECK(r.wall_seconds >= 1.0);
    CHECK(seconds < 1 + 2);
    CHECK(r.output() == "going to sleep\n");
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: an endless loop times out", "[sandbox]") {
    RunRequest request = request_for("busy_loop");
    request.limits.wall_seconds = 1;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::timed_out);
    CHECK(r.describe(request.limits) == "timed out after 1 s");
    CHECK(r.cpu_seconds > 0);  // how much depends on the machine's load
    CHECK(seconds < 1 + 2);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: the CPU limit stops a CPU burner", "[sandbox]") {
    // How much wall time 1 s of CPU takes depends on the machine's load; cpu_limit rather than
    // timed_out shows the CPU limit ended the run.
    RunRequest request = request_for("busy_loop");
    request.limits.cpu_seconds = 1;
    request.limits.wall_seconds = 30;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::cpu_limit);
    CHECK(r.describe(request.limits) == "used more than 1 s of CPU time");
    // Not >= 1: RLIMIT_CPU counts scheduler ticks, rusage the precise run time, and on a
    // virtual machine the ticks run ahead (SIGXCPU came at 0.88 s of rusage time here).
    CHECK(r.cpu_seconds > 0.5);
    CHECK(seconds < 30);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: the CPU limit counts the whole process tree", "[sandbox]") {
    // Two burners each stay under a per-process RLIMIT_CPU of 1 s until the tree has used 1 s.
    RunRequest request = request_for("busy_loop", {"2"});
    request.limits.cpu_seconds = 1;
    request.limits.wall_seconds = 30;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::cpu_limit);
    CHECK(r.describe(request.limits) == "used more than 1 s of CPU time");
    CHECK(seconds < 30);
    CHECK(leftovers(marker).empty());
}

// --- processes ---------------------------------------------------------------------------------

TEST_CASE("sandbox: every process a program leaves behind is killed, escaped or not", "[sandbox]") {
    // 200 sleepers, 50 of them after setsid() and a double fork; the program itself exits 0.
    RunRequest request = request_for("fork_tree", {"200", "exit"});
    request.limits.max_processes = 1000;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.exit_code == 0);
    CHECK(r.output() == "started 200\n");
    CHECK(r.stray_processes_killed == 200);
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: a process that keeps changing its pid is still caught", "[sandbox]") {
    // fork() and exit in a loop: whatever /proc showed a moment ago is already gone.
    RunRequest request = request_for("hopper");
    SECTION("in the program's process group") {}
    SECTION("in a new session at every hop") { request.argv.push_back("setsid"); }
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::exited);
    // Not stray_processes_killed: the process-group kill may get the hopper before any scan has
    // seen it alive, and only processes seen alive are counted.
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: too many processes at once is the process limit", "[sandbox]") {
    RunRequest request = request_for("fork_tree", {"200", "wait"});
    request.limits.max_processes = 64;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::process_limit);
    CHECK(r.describe(request.limits) == "started more than 64 processes");
    CHECK(r.stray_processes_killed == 0);  // killed for the limit, not left behind
    CHECK(seconds < 2);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: a background process holding stdout open does not make tito wait", "[sandbox]") {
    auto [r, seconds, marker] = run(request_for("keep_stdout"));
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.exit_code == 0);
    CHECK(r.output() == "main part done\n");
    REQUIRE(r.reports.size() == 1);
    CHECK(r.reports[0]["test"] == "quick");
    CHECK(r.stray_processes_killed == 1);
    CHECK(seconds < 1);
    CHECK(leftovers(marker).empty());
}

// --- output --------------------------------------------------------------------------------------

TEST_CASE("sandbox: 1 GiB of output stops at the output limit", "[sandbox]") {
    int64_t rss_before = own_peak_rss_kib();
    RunRequest request = request_for("big_output");
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::output_limit);
    CHECK(r.describe(request.limits) == "printed more than 1024 KiB of output");
    CHECK(r.output_bytes > 1024 * 1024);
    CHECK(r.output_bytes < 4 * 1024 * 1024);
    CHECK(r.output_head.size() == request.output_keep_bytes);
    CHECK(r.output_head.rfind("first line\n", 0) == 0);
    CHECK(r.output_tail.size() == request.output_keep_bytes);
    CHECK(r.output().find(" bytes omitted ...]\n") != std::string::npos);
    CHECK(seconds < 2);
    CHECK(own_peak_rss_kib() - rss_before < 16 * 1024);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: tito's memory stays small while reading 1 GiB of output", "[sandbox]") {
    int64_t rss_before = own_peak_rss_kib();
    RunRequest request = request_for("big_output");
    request.limits.output_kib = 4 * 1024 * 1024;  // everything is read, only head and tail kept
    request.limits.wall_seconds = 60;
    request.limits.cpu_seconds = 60;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.output_bytes == int64_t(1) << 30);
    CHECK(r.output_head.size() == request.output_keep_bytes);
    CHECK(r.output_tail.size() == request.output_keep_bytes);
    CHECK(own_peak_rss_kib() - rss_before < 16 * 1024);
    CHECK(seconds < 30);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: output past the limit is the output limit however the reads were timed", "[sandbox]") {
    // 1024 KiB against a 1000 KiB limit: the loop may read the last bytes before or after the
    // program has exited; the outcome must not depend on which.
    RunRequest request = request_for("big_output", {"1"});
    request.limits.output_kib = 1000;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::output_limit);
    CHECK(r.describe(request.limits) == "printed more than 1000 KiB of output");
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: output keeps the first and the last bytes", "[sandbox]") {
    RunRequest request = request_for("big_output", {"1"});
    request.output_keep_bytes = 1000;
    request.limits.output_kib = 2048;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::exited);
    CHECK(r.output_bytes == 1024 * 1024);
    CHECK(r.output_head.size() == 1000);
    CHECK(r.output_tail.size() == 1000);
    CHECK(r.output().find("\n[... " + std::to_string(1024 * 1024 - 2000) + " bytes omitted ...]\n") !=
          std::string::npos);
    CHECK(leftovers(marker).empty());
}

// --- memory and files ----------------------------------------------------------------------------

TEST_CASE("sandbox: allocating 8 GiB stops at the memory limit", "[sandbox]") {
    int64_t rss_before = own_peak_rss_kib();
    RunRequest request = request_for("big_memory", {"chunks", "8"});
    request.limits.memory_mib = 256;

    SECTION("measured resident memory, no address-space limit (as under AddressSanitizer)") {
        request.limits.address_space_limit = false;
    }
    SECTION("with the address-space limit too") { request.limits.address_space_limit = true; }

    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::memory_limit);
    CHECK(r.describe(request.limits) == "used more than 256 MiB of memory");
    CHECK(r.peak_memory_kib > 256 * 1024);
    CHECK(r.peak_memory_kib < 1024 * 1024);  // stopped long before 8 GiB
    CHECK(seconds < 3);
    CHECK(own_peak_rss_kib() - rss_before < 16 * 1024);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: one huge allocation under the address-space limit is the memory limit", "[sandbox]") {
    RunRequest request = request_for("big_memory", {"single", "8"});
    request.limits.memory_mib = 256;
    request.limits.address_space_limit = true;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::memory_limit);
    CHECK(r.describe(request.limits) == "used more than 256 MiB of memory");
    CHECK(r.output().find("std::bad_alloc") != std::string::npos);
    CHECK(seconds < 3);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: writing a 200 MiB file stops at the file size limit", "[sandbox]") {
    TempDir dir;
    fs::path file = dir.path / "big.bin";
    RunRequest request = request_for("big_file", {file.string(), "200"});
    request.limits.file_size_mib = 16;
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::file_size_limit);
    CHECK(r.describe(request.limits) == "wrote a file larger than 16 MiB");
    CHECK(fs::file_size(file) <= 16u * 1024 * 1024);
    CHECK(seconds < 3);
    CHECK(leftovers(marker).empty());
}

// --- programs that cannot start ------------------------------------------------------------------

TEST_CASE("sandbox: a program that cannot be started is failed_to_start", "[sandbox]") {
    TempDir dir;
    RunRequest request;
    std::string expected;
    SECTION("missing") {
        request.argv = {(dir.path / "no_such_program").string()};
        expected = "No such file or directory";
    }
    SECTION("not executable") {
        fs::path text = dir.path / "notes.txt";
        std::ofstream(text) << "not a program\n";
        fs::permissions(text, fs::perms::owner_read | fs::perms::owner_write);
        request.argv = {text.string()};
        expected = "Permission denied";
    }
    SECTION("missing working directory") {
        request = request_for("reporter");
        request.working_dir = dir.path / "gone";
        expected = "cannot change to directory";
    }
    auto [r, seconds, marker] = run(request);
    CHECK(r.outcome == Outcome::failed_to_start);
    CHECK(r.error.find(expected) != std::string::npos);
    CHECK(r.describe(request.limits).rfind("could not be started: ", 0) == 0);
    CHECK(seconds < 1);
    CHECK(leftovers(marker).empty());
}

TEST_CASE("sandbox: an empty command is failed_to_start", "[sandbox]") {
    RunResult r = tito::run_sandboxed(RunRequest{});
    CHECK(r.outcome == Outcome::failed_to_start);
    CHECK_FALSE(r.error.empty());
}

// --- AddressSanitizer end to end -----------------------------------------------------------------

TEST_CASE("sandbox: a sanitizer report becomes one line", "[sandbox]") {
    RunRequest request = request_for("asan", {"overflow"});
    request.extra_env["ASAN_OPTIONS"] = "detect_leaks=0";
    request.extra_env["UBSAN_OPTIONS"] = "halt_on_error=1";
    request.limits.address_space_limit = false;  // AddressSanitizer reserves terabytes
    SECTION("AddressSanitizer") {
        auto [r, seconds, marker] = run(request);
        CHECK(r.outcome == Outcome::exited);
        CHECK(r.exit_code != 0);
        CHECK(tito::sanitizer_finding(r.output()).rfind("AddressSanitizer: heap-buffer-overflow at asan.cpp:", 0) == 0);
        CHECK(tito::sanitizer_finding(r.output()).find(" in tt::Buffer::at") != std::string::npos);
        CHECK(leftovers(marker).empty());
    }
    SECTION("UndefinedBehaviorSanitizer") {
        request.argv[1] = "integer";
        auto [r, seconds, marker] = run(request);
        CHECK(r.exit_code != 0);
        CHECK(tito::sanitizer_finding(r.output()).rfind("undefined behaviour: signed integer overflow at asan.cpp:", 0) == 0);
        CHECK(leftovers(marker).empty());
    }
    SECTION("AddressSanitizer cannot start under an address-space limit") {
        request.limits.address_space_limit = true;
        auto [r, seconds, marker] = run(request);
        CHECK(r.outcome != Outcome::exited);
        CHECK(tito::sanitizer_finding(r.output()).rfind("AddressSanitizer could not start", 0) == 0);
        CHECK(leftovers(marker).empty());
    }
}

// --- describing results --------------------------------------------------------------------------

TEST_CASE("sandbox: describe() says what happened in one line", "[sandbox]") {
    Limits limits;
    limits.wall_seconds = 10;
    limits.cpu_seconds = 20;
    limits.memory_mib = 512;
    limits.max_processes = 64;
    limits.file_size_mib = 64;
    limits.output_kib = 1024;
    auto describe = [&](Outcome outcome, int signal = 0) {
        RunResult r;
        r.outcome = outcome;
        r.signal = signal;
        r.exit_code = 3;
        r.error = "cannot run ./grader: No such file or directory";
        return r.describe(limits);
    };
    CHECK(describe(Outcome::exited) == "exited with status 3");
    CHECK(describe(Outcome::signaled, SIGSEGV) == "crashed: segmentation fault (SIGSEGV)");
    CHECK(describe(Outcome::signaled, SIGFPE) == "crashed: arithmetic error such as division by zero (SIGFPE)");
    CHECK(describe(Outcome::signaled, SIGKILL) == "was killed by signal: killed (SIGKILL)");
    CHECK(describe(Outcome::timed_out) == "timed out after 10 s");
    CHECK(describe(Outcome::cpu_limit) == "used more than 20 s of CPU time");
    CHECK(describe(Outcome::memory_limit) == "used more than 512 MiB of memory");
    CHECK(describe(Outcome::output_limit) == "printed more than 1024 KiB of output");
    CHECK(describe(Outcome::process_limit) == "started more than 64 processes");
    CHECK(describe(Outcome::file_size_limit) == "wrote a file larger than 64 MiB");
    CHECK(describe(Outcome::failed_to_start) == "could not be started: cannot run ./grader: No such file or directory");
    limits.wall_seconds = 2.5;
    CHECK(describe(Outcome::timed_out) == "timed out after 2.5 s");
}

TEST_CASE("sandbox: describe_signal() names the signal", "[sandbox]") {
    CHECK(tito::describe_signal(SIGSEGV) == "segmentation fault (SIGSEGV)");
    CHECK(tito::describe_signal(SIGABRT) == "aborted (SIGABRT)");
    CHECK(tito::describe_signal(SIGBUS) == "bus error (SIGBUS)");
    CHECK(tito::describe_signal(SIGXCPU) == "CPU time limit exceeded (SIGXCPU)");
    CHECK(tito::describe_signal(SIGWINCH) == "signal 28 (SIGWINCH)");
    CHECK(tito::describe_signal(12345) == "signal 12345");
}

TEST_CASE("sandbox: output() marks what was left out", "[sandbox]") {
    RunResult r;
    r.output_head = "start\n";
    CHECK(r.output() == "start\n");
    r.output_tail = "end\n";
    r.output_bytes = 10;
    CHECK(r.output() == "start\nend\n");
    r.output_bytes = 110;
    CHECK(r.output() == "start\n[... 100 bytes omitted ...]\nend\n");
}

// --- sanitizer reports ---------------------------------------------------------------------------
// Trimmed copies of what GCC 12's sanitizers print (Debian 12), with student-like paths.

namespace {

const char* kHeapOverflow = R"(running test conv2d_forward
=================================================================
==7465==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000024 at pc 0x5595952ebd8f bp 0x7fff24cfeb50 sp 0x7fff24cfeb48
READ of size 4 at 0x602000000024 thread T0
    #0 0x5595952ebd8e in tt::Tensor::at(int) const /home/ana/tinytorch/01_tensor/tensor.cpp:42
    #1 0x5595952eb5e0 in test_at /home/ana/tinytorch/01_tensor/grader.cpp:16
    #2 0x7f8d6b645249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58
    #3 0x7f8d6b645304 in __libc_start_main_impl ../csu/libc-start.c:360
    #4 0x5595952eb280 in _start (/home/ana/tinytorch/.tito/build/grader+0x5280)

0x602000000024 is located 4 bytes to the right of 16-byte region [0x602000000010,0x602000000020)
allocated by thread T0 here:
    #0 0x7f8d6b8b9628 in operator new[](unsigned long) ../../../../src/libsanitizer/asan/asan_new_delete.cpp:98
    #1 0x5595952eb575 in main /home/ana/tinytorch/01_tensor/grader.cpp:16

SUMMARY: AddressSanitizer: heap-buffer-overflow /home/ana/tinytorch/01_tensor/tensor.cpp:42 in tt::Tensor::at(int) const
Shadow bytes around the buggy address:
  0x0c047fff7ff0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
=>0x0c047fff8000: fa fa 00 00[fa]fa fa fa fa fa fa fa fa fa fa fa
==7465==ABORTING
)";

// memcpy's interceptor is frame #0 and what SUMMARY names.
const char* kOverflowInMemcpy = R"(=================================================================
==7474==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000018 at pc 0x7fcfe9a48061 bp 0x7fff76eed070 sp 0x7fff76eec820
WRITE of size 18 at 0x602000000018 thread T0
    #0 0x7fcfe9a48060 in __interceptor_memcpy ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:827
    #1 0x55accba2d838 in tt::Storage::copy_from(float const*, long) /home/ana/tinytorch/01_tensor/storage.cpp:20
    #2 0x7fcfe8c45249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

SUMMARY: AddressSanitizer: heap-buffer-overflow ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:827 in __interceptor_memcpy
)";

// std::copy inlined from libstdc++ headers, frames #1-#5.
const char* kOverflowInLibstdcxx = R"(==7553==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000038 at pc 0x7f80cae47c21 bp 0x7fff549fac00 sp 0x7fff549fa3b0
WRITE of size 16 at 0x602000000038 thread T0
    #0 0x7f80cae47c20 in __interceptor_memmove ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:810
    #1 0x56166c95ded7 in int* std::__copy_move<false, true, std::random_access_iterator_tag>::__copy_m<int>(int const*, int const*, int*) /usr/include/c++/12/bits/stl_algobase.h:431
    #2 0x56166c95dbfa in int* std::__copy_move_a2<false, int*, int*>(int*, int*, int*) /usr/include/c++/12/bits/stl_algobase.h:495
    #5 0x56166c95d54c in int* std::copy<__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int*>(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, __gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int*) /usr/include/c++/12/bits/stl_algobase.h:620
    #6 0x56166c95c505 in tt::Tensor tt::concat<int>(std::vector<tt::Tensor, std::allocator<tt::Tensor> > const&) /home/ana/tinytorch/02_ops/concat.cpp:9
    #7 0x7f80cac45249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

SUMMARY: AddressSanitizer: heap-buffer-overflow ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:810 in __interceptor_memmove
)";

const char* kSegv = R"(AddressSanitizer:DEADLYSIGNAL
=================================================================
==7511==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000010 (pc 0x56401361f2b9 bp 0x7ffc2a3908b0 sp 0x7ffc2a3908b0 T0)
==7511==The signal is caused by a READ memory access.
==7511==Hint: address points to the zero page.
    #0 0x56401361f2b9 in sum(Node const*) /home/ana/tinytorch/05_autograd/graph.cpp:6
    #1 0x56401361f548 in main /home/ana/tinytorch/05_autograd/grader.cpp:10
    #2 0x7f06d8645249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

AddressSanitizer can not provide additional info.
SUMMARY: AddressSanitizer: SEGV /home/ana/tinytorch/05_autograd/graph.cpp:6 in sum(Node const*)
==7511==ABORTING
)";

// strlen in libc, called through the interceptor.
const char* kSegvInLibc = R"(==7556==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc 0x7fd9af385ad8 bp 0x7ffe427fb7e0 sp 0x7ffe427faf88 T0)
==7556==The signal is caused by a READ memory access.
==7556==Hint: address points to the zero page.
    #0 0x7fd9af385ad8 in __strlen_evex ../sysdeps/x86_64/multiarch/strlen-evex.S:79
    #1 0x7fd9af84a6ac in __interceptor_strlen ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:387
    #2 0x55ce918905d8 in tt::load_names(char const*) /home/ana/tinytorch/08_data/dataset.cpp:10
    #3 0x7fd9af245249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

AddressSanitizer can not provide additional info.
SUMMARY: AddressSanitizer: SEGV ../sysdeps/x86_64/multiarch/strlen-evex.S:79 in __strlen_evex
)";

const char* kFpe = R"(AddressSanitizer:DEADLYSIGNAL
=================================================================
==7559==ERROR: AddressSanitizer: FPE on unknown address 0x560af6ca660e (pc 0x560af6ca660e bp 0x7ffd6d12be40 sp 0x7ffd6d12bd10 T0)
    #0 0x560af6ca660e in tt::mean(tt::Tensor const&) /home/ana/tinytorch/02_ops/reduce.cpp:11
    #1 0x7f682b045249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

AddressSanitizer can not provide additional info.
SUMMARY: AddressSanitizer: FPE /home/ana/tinytorch/02_ops/reduce.cpp:11 in tt::mean(tt::Tensor const&)
)";

const char* kDoubleFree = R"(=================================================================
==7550==ERROR: AddressSanitizer: attempting double-free on 0x602000000010 in thread T0:
    #0 0x7f548a0ba038 in operator delete[](void*) ../../../../src/libsanitizer/asan/asan_new_delete.cpp:155
    #1 0x564d6ed86401 in tt::Storage::~Storage() /home/ana/tinytorch/01_tensor/storage.cpp:8
    #2 0x7f5489a45249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

0x602000000010 is located 0 bytes inside of 12-byte region [0x602000000010,0x60200000001c)
freed by thread T0 here:
    #0 0x7f548a0ba038 in operator delete[](void*) ../../../../src/libsanitizer/asan/asan_new_delete.cpp:155
    #1 0x564d6ed863e8 in main /home/ana/tinytorch/01_tensor/grader.cpp:8

SUMMARY: AddressSanitizer: double-free ../../../../src/libsanitizer/asan/asan_new_delete.cpp:155 in operator delete[](void*)
==7550==ABORTING
)";

const char* kLeak = R"(All tests passed (3 assertions in 1 test case)

=================================================================
==7471==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 40 byte(s) in 1 object(s) allocated from:
    #0 0x7f7e2deb9628 in operator new[](unsigned long) ../../../../src/libsanitizer/asan/asan_new_delete.cpp:98
    #1 0x55d4d67a570f in tt::Tensor::Tensor(std::vector<long, std::allocator<long> >) /home/ana/tinytorch/01_tensor/tensor.cpp:19
    #2 0x7f7e2dc45249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

SUMMARY: AddressSanitizer: 40 byte(s) leaked in 1 allocation(s).
)";

// UBSan with its default print_stacktrace=0: the location is in the line itself.
const char* kSignedOverflow =
    "test 3: sum of squares\n"
    "tensor.cpp:17:34: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'\n";

// UBSan with print_stacktrace=1, inside a libstdc++ header.
const char* kNullInHeader = R"(/usr/include/c++/12/bits/stl_vector.h:1123:2: runtime error: reference binding to null pointer of type 'float'
    #0 0x556068b6f377 in std::vector<float, std::allocator<float> >::operator[](unsigned long) /usr/include/c++/12/bits/stl_vector.h:1123
    #1 0x556068b6f658 in tt::Linear::forward(tt::Tensor const&) /home/ana/tinytorch/03_layers/linear.cpp:31
    #2 0x7f65d6645249 in __libc_start_call_main ../sysdeps/nptl/libc_start_call_main.h:58

)";

const char* kShadowReserveFailed =
    "==7528==ERROR: AddressSanitizer failed to allocate 0xdfff0001000 (15392894357504) bytes at address "
    "2008fff7000 (errno: 12)\n"
    "==7528==ReserveShadowMemoryRange failed while trying to map 0xdfff0001000 bytes. Perhaps you're using ulimit -v\n";

}  // namespace

TEST_CASE("sanitizer_finding: AddressSanitizer reports", "[sandbox][sanitizer]") {
    CHECK(tito::sanitizer_finding(kHeapOverflow) == "AddressSanitizer: heap-buffer-overflow at tensor.cpp:42 in tt::Tensor::at");
    CHECK(tito::sanitizer_finding(kOverflowInMemcpy) ==
          "AddressSanitizer: heap-buffer-overflow at storage.cpp:20 in tt::Storage::copy_from");
    CHECK(tito::sanitizer_finding(kOverflowInLibstdcxx) ==
          "AddressSanitizer: heap-buffer-overflow at concat.cpp:9 in tt::concat<int>");
    CHECK(tito::sanitizer_finding(kDoubleFree) == "AddressSanitizer: double-free at storage.cpp:8 in tt::Storage::~Storage");
}

TEST_CASE("sanitizer_finding: signals caught by AddressSanitizer read as the signal", "[sandbox][sanitizer]") {
    CHECK(tito::sanitizer_finding(kSegv) == "segmentation fault (SIGSEGV) at graph.cpp:6 in sum");
    CHECK(tito::sanitizer_finding(kSegvInLibc) == "segmentation fault (SIGSEGV) at dataset.cpp:10 in tt::load_names");
    CHECK(tito::sanitizer_finding(kFpe) ==
          "arithmetic error such as division by zero (SIGFPE) at reduce.cpp:11 in tt::mean");
}

TEST_CASE("sanitizer_finding: LeakSanitizer and UndefinedBehaviorSanitizer", "[sandbox][sanitizer]") {
    CHECK(tito::sanitizer_finding(kLeak) ==
          "LeakSanitizer: 40 byte(s) leaked in 1 allocation(s), allocated at tensor.cpp:19 in tt::Tensor::Tensor");
    CHECK(tito::sanitizer_finding(kSignedOverflow) == "undefined behaviour: signed integer overflow at tensor.cpp:17");
    CHECK(tito::sanitizer_finding(kNullInHeader) ==
          "undefined behaviour: reference binding to null pointer of type 'float' at linear.cpp:31 in tt::Linear::forward");
}

TEST_CASE("sanitizer_finding: the first finding wins, and plain output has none", "[sandbox][sanitizer]") {
    CHECK(tito::sanitizer_finding(std::string(kSignedOverflow) + kHeapOverflow) ==
          "undefined behaviour: signed integer overflow at tensor.cpp:17");
    CHECK(tito::sanitizer_finding("All tests passed\nERROR: expected 3, got 4\n") == "");
    CHECK(tito::sanitizer_finding("") == "");
    CHECK(tito::sanitizer_finding(kShadowReserveFailed).rfind("AddressSanitizer could not start", 0) == 0);
}
