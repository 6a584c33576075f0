// milestones.h - historical models trained on the student's own engine (configs/milestones.json).
//
// A milestone is a program (graders/milestones/<name>.cpp, installed compiled) linked with the
// student's code for every module they have passed and the reference for the rest. It reports
// progress and final metrics through the result channel; tito - never the program - compares the
// metrics with the thresholds in the configuration and records the outcome.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "course.h"
#include "sandbox.h"
#include "workspace.h"

namespace tito {

struct MilestoneCondition {
    std::string metric;  // a key of the program's metrics
    std::string label;   // "two-layer network: 100% from every seed"
    std::optional<double> at_least, at_most;
    // "at least 1", "at most 0.75"
    std::string requirement() const;
    bool holds(double value) const;
};

struct MilestoneInfo {
    std::string name;   // "xor"
    int year = 0;
    std::string title, note;
    std::string after;  // the module that unlocks it, for tables ("06")
    std::vector<std::string> required;  // module ids that must be passed
    std::vector<MilestoneCondition> pass;
    std::vector<MilestoneCondition> quick;   // for --quick runs (empty: the milestone has no quick mode)
    std::vector<std::string> datasets;       // the data sets it may train on; the first is the default
    std::map<std::string, std::vector<MilestoneCondition>> dataset_pass;  // conditions for a non-default data set
    std::string expected;                    // "about 3 minutes" (reference engine, 2 cores)
    Limits limits;
    // The conditions of a run with these options (quick, a data set), and the data set it uses
    // ("" for none). UserError for a data set the milestone does not know or a quick mode it lacks.
    const std::vector<MilestoneCondition>& conditions(bool quick, const std::string& dataset) const;
    std::string dataset_of(const std::string& requested) const;
    bool available = false;  // its program is installed; a milestone without one is "coming"
};

// The words after `tito milestone` that are commands, so no milestone may be named after them.
inline const std::vector<std::string> kMilestoneCommands = {"list", "run", "status"};

std::vector<MilestoneInfo> load_milestones(const Course& course);
// By name; UserError with the list of milestones (and a "did you mean") otherwise.
const MilestoneInfo& resolve_milestone(const std::vector<MilestoneInfo>& milestones, const std::string& name);
// Throws UserError when `m` cannot run in this installation: it comes with a later module.
void require_available(const Course& course, const std::vector<MilestoneInfo>& milestones, const MilestoneInfo& m);

// "coming" (its program is not in this release), "locked" (a required module not passed),
// "ready", "passed", or "not passed" (tried, not passed).
std::string milestone_state(const Course& course, const Workspace& workspace, const MilestoneInfo& m);
// Required modules not passed yet (dir names).
std::vector<std::string> milestone_missing(const Course& course, const Workspace& workspace, const MilestoneInfo& m);

struct ConditionResult {
    MilestoneCondition condition;
    std::optional<double> value;  // missing when the program did not report the metric
    bool ok = false;
};

struct MilestoneOutcome {
    std::optional<double> estimate_seconds;  // the program's own estimate of the run, once measured
    std::vector<std::string> saved_files;    // history and curves copied into the workspace
    bool passed = false;
    std::vector<std::string> student_modules;  // dir names of the modules whose student code ran
    nlohmann::json metrics = nlohmann::json::object();
    std::vector<ConditionResult> conditions;
    std::string failure;  // why the program did not finish, when it did not
    std::string output;   // what it printed (shown with -v or on failure)
    double build_seconds = 0.0, run_seconds = 0.0;
};

struct MilestoneOptions {
    bool reference = false;  // the reference engine alone
    bool quick = false;      // a small subset, for tests: never recorded as a pass
    std::string dataset;     // "" : the default
    std::function<void(const nlohmann::json&)> on_report;
};

// Builds and runs the milestone. `workspace` may be null only with options.reference.
MilestoneOutcome run_milestone(const Course& course, const Workspace* workspace, const MilestoneInfo& m,
                               const MilestoneOptions& options);

}  // namespace tito
