// sandbox.h - runs one untrusted program (a grader linked with student code) under limits.
//
// Threat model (DESIGN.md): we protect against accidents and casual tampering - crashes, hangs,
// runaway memory or output, fork storms, early exit(0) after printing "all tests passed" - not
// against a determined attacker inside the process.
//
// How each limit is enforced:
//   wall time      tito polls and kills the whole process tree                -> timed_out
//   CPU time       RLIMIT_CPU (SIGXCPU)                                       -> cpu_limit
//   memory         tito polls the resident memory of the whole tree; plus RLIMIT_AS when
//                  address_space_limit (not under AddressSanitizer, which reserves terabytes
//                  of virtual memory it never touches)                        -> memory_limit
//   processes      RLIMIT_NPROC where it applies (not for root), and tito counts the tree
//                                                                             -> process_limit
//   file size      RLIMIT_FSIZE (SIGXFSZ)                                     -> file_size_limit
//   output         tito reads stdout+stderr; past the limit it kills the tree -> output_limit
//                  (the first and last output_keep_bytes are kept for the report)
//   CPUs           with cpus > 0, CPU affinity set in the child before exec (inherited by every
//                  thread and process it starts): more threads than that only share them
// No process survives the run: tito makes itself a child subreaper (init_sandbox_parent), so even
// a grandchild that calls setsid() and double-forks is re-parented to tito, found, and killed.
//
// The program reports results through a pipe: the descriptor number is in TITO_RESULT_FD and a
// random token in TITO_RESULT_TOKEN. Only JSON lines carrying that token count, so text printed to
// stdout can never be mistaken for a result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tito {

struct Limits {
    double wall_seconds = 10.0;
    double cpu_seconds = 20.0;
    int64_t memory_mib = 2048;      // resident memory of all processes of the run together
    int max_processes = 64;         // alive at once, the program itself included
    int64_t file_size_mib = 64;     // largest file the program may write
    int64_t output_kib = 1024;      // stdout + stderr together
    bool address_space_limit = true;
    int cpus = 0;                   // > 0: the program runs on the first `cpus` CPUs tito may use
                                    // (sched_setaffinity before exec; its threads share them)
};

struct RunRequest {
    std::vector<std::string> argv;                    // argv[0]: path of the program
    std::map<std::string, std::string> extra_env;     // added to (or replacing in) tito's environment
    std::filesystem::path working_dir;                // empty: tito's current directory
    Limits limits;
    size_t output_keep_bytes = 16 * 1024;             // kept from the start and from the end
    // Called with each result-channel message as it arrives (live progress); runs in tito's
    // thread between polls, so keep it quick. The messages are also in RunResult::reports.
    std::function<void(const nlohmann::json&)> on_report;
};

enum class Outcome {
    exited,           // exit_code is valid (0 or not)
    signaled,         // killed by a signal it caused or received (signal is valid)
    timed_out,
    cpu_limit,
    memory_limit,
    output_limit,
    process_limit,
    file_size_limit,
    failed_to_start,  // fork/exec failed; error says why
};

struct RunResult {
    Outcome outcome = Outcome::failed_to_start;
    int exit_code = -1;
    int signal = 0;
    std::string error;               // for failed_to_start
    double wall_seconds = 0.0;
    double cpu_seconds = 0.0;        // user + system of the program and its reaped children
    int64_t peak_memory_kib = 0;     // highest resident memory seen for the whole tree
    std::string output_head;         // stdout and stderr interleaved as they arrived
    std::string output_tail;         // empty unless the output was longer than the head
    int64_t output_bytes = 0;        // all output, including what was not kept
    std::vector<nlohmann::json> reports;  // result-channel messages with the right token (token removed)
    int stray_processes_killed = 0;  // processes still alive after the program ended

    // All the output we kept; "[... N bytes omitted ...]" between head and tail.
    std::string output() const;
    // One line for a person: "timed out after 10 s", "crashed: segmentation fault (SIGSEGV)",
    // "exited with status 3", "used more than 2048 MiB of memory", ...
    std::string describe(const Limits& limits) const;
};

// Call once before the first run_sandboxed (tito's main does): makes this process a child
// subreaper, so orphaned descendants of a run are re-parented to us and can be killed.
void init_sandbox_parent();

// Runs the program to completion or to a limit. Never throws for the program's misbehaviour;
// the outcome says what happened. Thread-compatible, not thread-safe: one run at a time per
// process, because a run's processes are found as the descendants of the process that started
// it. Two runs at once need two processes (grading.cpp's TestWorkers).
RunResult run_sandboxed(const RunRequest& request);

// Signal name and plain-English meaning: "segmentation fault (SIGSEGV)".
std::string describe_signal(int signal);

// The first AddressSanitizer / UndefinedBehaviorSanitizer / LeakSanitizer finding in `output`,
// as one line with the student-side location when there is one:
//   "AddressSanitizer: heap-buffer-overflow at tensor.cpp:42 in tt::Tensor::at"
//   "undefined behaviour: signed integer overflow at tensor.cpp:17"
// Empty when there is none.
std::string sanitizer_finding(const std::string& output);

}  // namespace tito
