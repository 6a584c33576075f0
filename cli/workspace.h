// workspace.h - a student's workspace: their module folders, tito's state in .tito/, and git.
//
//   <workspace>/
//       .git/                      history (libgit2); tito commits snapshots with scores
//       .gitignore                 ignores .tito/build/
//       .tito/workspace.json       marks the folder as a workspace (found by walking up)
//       .tito/progress.json        per module: state and scores; per milestone: results
//       .tito/results/NN_name.json the last full test report of each module
//       .tito/build/               object cache and grader executables (never committed)
//       compile_commands.json      so editors (clangd, VS Code) understand the student's code
//       02_tensor/                 README.md (lesson), tensor.cpp ... (the student's files), tests/
//
// State files are written atomically and never overwritten when they cannot be read: a corrupt
// progress.json stops tito with a message saying how to restore it. Since tito commits .tito/
// (all but build/) with every snapshot, `tito workspace repair` can restore lost or damaged state
// files from the history without touching the student's files (repair_workspace below).
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "course.h"
#include "git_repo.h"

namespace tito {

namespace fs = std::filesystem;

struct ModuleProgress {
    std::string state;  // "started" or "passed" (locked and ready are derived, never stored)
    int best_score = 0;
    int max_score = 0;
    int last_score = -1;  // -1: never tested
    int attempts = 0;
    std::string started_at, last_tested_at, passed_at;
};

struct MilestoneProgress {
    bool passed = false;
    int attempts = 0;
    std::string last_run_at, passed_at;
    nlohmann::json best_metrics = nlohmann::json::object();
    nlohmann::json last_metrics = nlohmann::json::object();
};

struct Progress {
    std::map<std::string, ModuleProgress> modules;        // by module id
    std::map<std::string, MilestoneProgress> milestones;  // by milestone name
    std::string last_module;                              // id of the module last started or tested

    nlohmann::json to_json() const;
    // Throws UserError (naming `source`) when the JSON has the wrong structure.
    static Progress from_json(const nlohmann::json& j, const std::string& source);
};

class Workspace {
public:
    // The nearest folder at or above `start` holding .tito/workspace.json.
    static std::optional<fs::path> find_root(const fs::path& start);
    // Opens an existing workspace; throws UserError when its state files are unreadable.
    static Workspace open(const fs::path& root);
    // Makes `root` a workspace (state files, .gitignore, git repository).
    static Workspace create(const fs::path& root);

    const fs::path& root() const { return root_; }
    fs::path tito_dir() const { return root_ / ".tito"; }
    fs::path build_dir() const { return root_ / ".tito" / "build"; }
    fs::path progress_path() const { return root_ / ".tito" / "progress.json"; }
    fs::path results_path(const ModuleInfo& m) const { return root_ / ".tito" / "results" / (m.dir_name() + ".json"); }
    fs::path module_dir(const ModuleInfo& m) const { return root_ / m.dir_name(); }

    Progress& progress() { return progress_; }
    const Progress& progress() const { return progress_; }
    void save_progress() const;

    // "coming" (no content in this release, not started), "locked" (a required module not
    // passed), "ready", "started" or "passed".
    std::string module_state(const Course& course, const ModuleInfo& m) const;
    // Required modules of m that are not passed yet.
    std::vector<std::string> missing_requirements(const Course& course, const ModuleInfo& m) const;
    // Every module m builds on, directly or through others (09 -> 08 -> 07 -> ...), that is not
    // passed yet, in course order (dir names).
    std::vector<std::string> missing_prerequisites(const Course& course, const ModuleInfo& m) const;

    // Rewrites compile_commands.json for every started module (editors' view of the code).
    void write_compile_commands(const Course& course) const;

private:
    fs::path root_;
    Progress progress_;
};

// The workspace containing the current directory; throws UserError with a hint when there is none.
Workspace open_current_workspace();

// A folder whose .tito/workspace.json is gone but whose git history (tito commits .tito/ with
// every snapshot) still holds it.
struct StateInHistory {
    fs::path root;      // the folder holding .git
    CommitInfo commit;  // the newest commit with .tito/workspace.json
};
// Looks in `start` and the folders above it for the nearest git repository, and in its history
// for tito's workspace state; nullopt when there is none.
std::optional<StateInHistory> find_state_in_history(const fs::path& start);

struct RestoredFile {
    std::string file;    // ".tito/progress.json"
    std::string why;     // "missing" or "damaged"
    CommitInfo commit;   // where the restored copy comes from
    std::string kept_as; // a damaged file moved aside, relative to the root ("" when it was missing)
};

struct RepairResult {
    fs::path root;
    std::vector<RestoredFile> restored;
    std::vector<std::string> intact;        // state files that were fine and left alone
    std::vector<std::string> unrestorable;  // damaged results no commit has a readable copy of (left alone)
};

// The workspace `tito workspace repair` works on, seen from `start`: the nearest folder with
// .tito/workspace.json, else the nearest git repository whose history has one. Throws UserError
// when there is neither.
fs::path workspace_to_repair(const fs::path& start);

// Restores the workspace's state files - .tito/workspace.json, .tito/progress.json, the results in
// .tito/results/ and .gitignore - that are missing or unreadable, each from the newest commit with
// a readable copy. A damaged file is moved aside (never deleted); the student's files are never
// touched. Throws UserError when a damaged workspace.json or progress.json has no readable copy in
// the history (and then changes nothing).
RepairResult repair_workspace(const fs::path& root);

}  // namespace tito
