// compiler.h - compiles a student's files and links them with the engine and a grader.
//
// One static library per module means linking decides whose code runs: the student's objects come
// first, then the reference library of every OTHER module, so exactly one definition of each
// function is linked - the student's for their module, the reference for the rest.
//
// Objects and linked programs are cached in .tito/build/, keyed by a hash of everything that
// affects them (compiler, flags, source text, engine headers and libraries), so a second
// `tito test` with no edits compiles nothing.
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "course.h"

namespace tito {

namespace fs = std::filesystem;

enum class CompileMode {
    test,     // graders: -O1, or -O0 with sanitizers (configs/compiler.json)
    release,  // milestones and competitions: -O2, no sanitizers
};

// $TITO_CXX, else $CXX, else configs/compiler.json's "cxx", found on PATH. Throws UserError
// ("C++ compiler 'g++' not found" + how to install one) when it does not exist.
std::string find_compiler(const Course& course);

// The compiler command without inputs/outputs: {cxx, -std=..., flags..., -I<engine headers>}.
std::vector<std::string> compile_command(const Course& course, CompileMode mode, bool sanitize);

struct ToolOutput {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};
// Runs a trusted tool (the compiler) to completion in `cwd`; throws UserError if it cannot start.
ToolOutput run_tool(const std::vector<std::string>& argv, const fs::path& cwd);

struct BuildResult {
    bool ok = false;
    std::string diagnostics;  // the compiler's or linker's messages
    std::vector<fs::path> outputs;
    int built = 0;   // compiled or linked now
    int reused = 0;  // taken from the cache
    double seconds = 0.0;
};

// Told what a build is doing while it runs, about every 0.1 s: "tensor.cpp, matmul.cpp (1 of 4
// compiled)", "linking".
using ProgressCallback = std::function<void(const std::string&)>;

// Compiles `sources` (relative to `workspace_root`, so messages read "02_tensor/tensor.cpp:42:5")
// into objects in `build_dir`, two at a time, reusing cached objects whose inputs did not change.
// Diagnostics are plain text (no colour codes).
BuildResult compile_sources(const Course& course, const fs::path& workspace_root, const std::vector<fs::path>& sources,
                            const fs::path& build_dir, CompileMode mode, bool sanitize, const ProgressCallback& on_progress = {});

struct LinkRequest {
    std::vector<fs::path> objects;         // the student's
    std::vector<fs::path> whole_archives;  // grader tests: every member linked (tests register themselves)
    std::vector<fs::path> libraries;       // runner, engine libraries: linked as one group
    fs::path output;
    CompileMode mode = CompileMode::test;
    bool sanitize = true;
};
// Links (or reuses the cached program when nothing changed).
BuildResult link_program(const Course& course, const LinkRequest& request, const ProgressCallback& on_progress = {});

// Core plus the reference library of every module whose dir name is not in `replaced`.
std::vector<fs::path> reference_libraries(const Course& course, const std::set<std::string>& replaced);

// Turns "02_tensor/tensor.cpp:42:5: error: ..." output into at most `max_lines` lines for the
// terminal, ending with a pointer to the full log when cut.
std::string trim_diagnostics(const std::string& diagnostics, size_t max_lines, const fs::path& full_log);

// GCC's and Clang's output for a person, as `-fmax-errors=1` would show it: the first error with
// its context (the "In function ..." and "In file included from ..." lines before it, the source
// excerpt and notes after it). One bad line often causes hundreds of follow-on errors; those are
// only counted. `text` is empty when no "file:line:column: error:" line was found.
struct FirstError {
    std::string text;
    int errors = 0;    // all errors, the first included
    int warnings = 0;  // all warnings
};
FirstError first_error(const std::string& diagnostics);

}  // namespace tito
