// e2e_support.h - running the real tito binary from the project's end-to-end tests.
//
// ctest sets TITO_BIN (the tito under test), TITO_SOURCE_DIR (this repository) and TITO_BUILD_DIR.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace e2e {

namespace fs = std::filesystem;

struct Run {
    int exit_code = -1;        // 128 + signal when killed
    std::string out, err;      // stdout and stderr
    double seconds = 0.0;
    long peak_rss_kib = 0;     // tito's own high-water mark (VmHWM), polled while it ran
    bool timed_out = false;
    std::string text() const { return out + err; }
};

fs::path tito_binary();
fs::path source_dir();
fs::path build_dir();

// Runs `program args...` in `cwd` with extra environment variables (an empty value unsets one),
// killing it after `timeout` seconds.
Run run(const std::vector<std::string>& argv, const fs::path& cwd, const std::map<std::string, std::string>& env = {},
        double timeout = 900);
// Runs tito.
Run tito(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env = {},
         double timeout = 900);
// Runs tito with stderr on a pseudo-terminal (TERM=xterm), as a person at a terminal sees it:
// progress lines are drawn there. stdout stays a pipe.
Run tito_on_terminal(const std::vector<std::string>& args, const fs::path& cwd, double timeout = 900);
// Starts tito without waiting; finish() collects it.
struct Started {
    int pid = -1;
    int out_fd = -1, err_fd = -1;
    double start = 0;
};
Started start_tito(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env = {});
Run finish(Started started, double timeout = 900);

// A fresh empty folder, removed at the end of the scope.
struct TempDir {
    explicit TempDir(const std::string& name);
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    fs::path path;
};

std::string read_file(const fs::path& path);
void write_file(const fs::path& path, const std::string& content);

// Copies the reference sources of a module (engine/src/<dir>/*.cpp) into the workspace's module folder.
void drop_in_reference(const fs::path& workspace, const std::string& module_dir);
// Writes 01_setup/setup.cpp: the reference's, returning this identity from my_identity().
void write_identity(const fs::path& workspace, const std::string& name, const std::string& handle, const std::string& email);

// .tito/results/<dir>.json of a workspace.
nlohmann::json results(const fs::path& workspace, const std::string& module_dir);
// The result entry of one test by name (fails the Catch2 test when absent).
nlohmann::json test_result(const nlohmann::json& results, const std::string& name);

// Processes (other than us) whose environment contains `marker` (e.g. "TITO_CHILD=1").
std::vector<int> processes_with_environment(const std::string& marker);

// Exports checked against the schemas in tests/schemas/: "" when valid, else what is wrong.
//   junit.xsd                         JUnit XML as Ant's JUnit task and Jenkins read it (libxml2)
//   gradescope_results.schema.json    Gradescope's results.json specification (valijson)
std::string junit_schema_errors(const std::string& xml);
std::string gradescope_schema_errors(const std::string& results_json);

// Number of commits on HEAD of a workspace's repository, counted with the git executable
// (-1 when git is not installed or there is no commit).
int commit_count(const fs::path& workspace);

}  // namespace e2e
