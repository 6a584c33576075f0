// competitions.h - module 20's races: `tito submit --competition cifar|gpt`.
//
// A competition is a program (graders/competitions/<name>.cpp, installed compiled as
// share/competitions/<name>/libcompetition.a) linked with the student's code - every passed
// module and module 20's files - and the reference engine for the rest, run under the sandbox
// limits of its rules (configs/competitions/<name>.json: threads, memory, a time budget).
//
// tito, never the program, computes every score. The program is given what a deployed model is
// given and nothing more, one request at a time through files tito writes into the run folder
// only when the program asks for them (so work cannot start early and the clock is tito's):
//   cifar  the training images and labels; after it reports "trained", the test images without
//          labels. It returns predictions; tito compares them with labels only tito reads.
//   gpt    the checkpoint and the text's alphabet; after "ready", the prompts; then validation
//          windows. It returns token ids and logits; tito compares them with the reference
//          program's (run by tito on the same checkpoint) and computes perplexity itself.
// Messages arrive through the sandbox's result channel (a pipe with a per-run token), so text the
// program prints can never count as a result.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "course.h"
#include "sandbox.h"

namespace tito {

namespace fs = std::filesystem;

struct CompetitionRules {
    std::string name;         // "cifar"
    std::string title;        // "CIFAR-10: train within 240 s"
    std::string score_name;   // "test accuracy", "tokens/s"
    std::string score_unit;   // "%" (score shown x100) or "tokens/s"
    bool quick = false;       // the --quick variant (small data, short budget: tests)
    nlohmann::json rules;     // the effective rules: the file with the quick variant merged in
    std::string hash;         // SHA-256 of rules.dump() (goes into every entry)
    Limits limits;            // for the whole run
    int threads = 2;
    double verify_tolerance = 0.0;  // how far a re-run's score may differ (absolute for accuracy, relative for speed)
    bool relative_tolerance = false;
    bool available = false;   // its program is installed
};

std::vector<std::string> competition_names(const Course& course);
// UserError for an unknown name (with the list and a "did you mean").
CompetitionRules load_competition(const Course& course, const std::string& name, bool quick);

struct CompetitionOptions {
    bool reference = false;        // the course's reference solution and engine
    std::string test_set;          // cifar: a folder with test_batch.bin to use instead (instructors)
    std::string checkpoint;        // gpt: the checkpoint (default: the workspace's gpt milestone one)
    // Live progress: {"phase": "building"|"loading"|"training"|"predicting"|..., "elapsed": s,
    // "budget": s, "epoch": ..., "loss": ..., "note": ...}
    std::function<void(const nlohmann::json&)> on_progress;
};

struct CompetitionResult {
    bool scored = false;           // false: a failed attempt, `failure` says why
    std::string failure;           // one line: "over the 240 s budget: cifar_train returned after 251.3 s"
    double score = 0.0;
    nlohmann::json metrics = nlohmann::json::object();  // training_seconds, predict_seconds, peak_memory_mib, model_bytes, ...
    nlohmann::json identity = nlohmann::json::object(); // name, handle, email (module 01)
    std::vector<std::string> student_modules;           // dir names whose student code ran
    std::string output;            // what the program printed (for -v and failures)
    double build_seconds = 0.0, run_seconds = 0.0;
};

// Builds and runs one submission of the code under `code_root` (a workspace, or a checkout of one
// for `tito leaderboard verify`). `student_modules`: the module dir names whose student files are
// used (the rest run the reference); ignored with options.reference. Throws UserError for what
// stops it before the run (code that does not compile, missing data); everything the program
// does wrong is a failed attempt in the result.
CompetitionResult run_competition(const Course& course, const fs::path& code_root, const fs::path& build_root,
                                  const std::vector<std::string>& student_modules, const CompetitionRules& rules,
                                  const CompetitionOptions& options);

// CPU model ("AMD EPYC 7B13", from /proc/cpuinfo) and online cores, for entries.
std::string cpu_model();
int cpu_cores();

}  // namespace tito
