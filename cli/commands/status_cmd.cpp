// status_cmd.cpp - `tito status`.
#include "commands/status_cmd.h"

#include <iostream>

#include "course.h"
#include "errors.h"
#include "milestones.h"
#include "term.h"
#include "workspace.h"

namespace tito {

namespace {

int run_status() {
    const Course course = Course::load(find_share_dir());
    const Workspace workspace = open_current_workspace();
    const Progress& progress = workspace.progress();
    const std::vector<MilestoneInfo> milestones = load_milestones(course);

    if (console().json) {
        nlohmann::json modules = nlohmann::json::array();
        for (const ModuleInfo& m : course.modules()) {
            nlohmann::json j = {{"id", m.id}, {"name", m.name}, {"state", workspace.module_state(course, m)}, {"available", m.has_content}};
            if (auto it = progress.modules.find(m.id); it != progress.modules.end()) {
                j["best_score"] = it->second.best_score;
                j["last_score"] = it->second.last_score;
                j["max_score"] = it->second.max_score;
                j["attempts"] = it->second.attempts;
            }
            modules.push_back(j);
        }
        nlohmann::json milestone_states = nlohmann::json::array();
        for (const MilestoneInfo& m : milestones)
            milestone_states.push_back({{"name", m.name}, {"after", m.after}, {"state", milestone_state(course, workspace, m)}});
        std::cout << nlohmann::json{{"workspace", workspace.root().string()}, {"modules", modules}, {"milestones", milestone_states}}.dump(2)
                  << "\n";
        return kExitOk;
    }

    Table table;
    table.header = {"#", "module", "state", "best", "last", "tests run", "milestone"};
    table.right_aligned = {true, false, false, true, true, true, false};
    int passed = 0;
    for (const ModuleInfo& m : course.modules()) {
        const std::string state = workspace.module_state(course, m);
        passed += state == "passed";
        Color color = state == "passed" ? Color::green : state == "started" ? Color::yellow : state == "locked" || state == "coming" ? Color::dim : Color::none;
        std::string unlocks;
        for (const MilestoneInfo& milestone : milestones) {
            if (milestone.after != m.id) continue;
            const std::string milestone_state_text = milestone_state(course, workspace, milestone);
            Color milestone_color = milestone_state_text == "passed" ? Color::green : milestone_state_text == "not passed" ? Color::red : Color::dim;
            unlocks += (unlocks.empty() ? "" : ", ") + milestone.name + " " + paint(milestone_state_text, milestone_color);
        }
        std::vector<std::string> row = {m.id, m.name, paint(state, color), "", "", "", unlocks};
        if (auto it = progress.modules.find(m.id); it != progress.modules.end() && it->second.last_score >= 0) {
            const std::string max = "/" + std::to_string(it->second.max_score);
            row[3] = std::to_string(it->second.best_score) + max;
            row[4] = std::to_string(it->second.last_score) + max;
            row[5] = std::to_string(it->second.attempts);
        }
        table.rows.push_back(row);
    }
    std::cout << "Workspace " << workspace.root().string() << "\n\n";
    table.print(std::cout);
    int milestones_passed = 0;
    for (const MilestoneInfo& milestone : milestones) milestones_passed += milestone_state(course, workspace, milestone) == "passed";
    std::cout << "\n" << passed << " of " << course.modules().size() << " modules passed, " << milestones_passed << " of "
              << milestones.size() << " milestones.";
    if (const ModuleInfo* last = course.find(progress.last_module)) std::cout << " Working on " << last->dir_name() << ".";
    std::cout << "\n";
    return kExitOk;
}

}  // namespace

void setup_status(CLI::App& app, CommandRunner& run) {
    CLI::App* status = app.add_subcommand("status", "Each module's state (coming, locked, ready, started, passed) and scores");
    status->callback([&run] { run = run_status; });
}

}  // namespace tito
