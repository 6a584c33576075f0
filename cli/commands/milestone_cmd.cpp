// milestone_cmd.cpp - `tito milestone list | run <name> [--force] [--reference] | status`.
#include "commands/milestone_cmd.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "course.h"
#include "errors.h"
#include "files.h"
#include "git_repo.h"
#include "milestones.h"
#include "term.h"
#include "workspace.h"
#include "workspace_lock.h"

namespace tito {

namespace {

struct RunOptions {
    std::string name;
    bool force = false;
    bool reference = false;
    bool quick = false;
    std::string dataset;
};

// "45 s", "3 min 20 s", "1 h 02 min": a duration for a sentence.
std::string duration_text(double seconds) {
    const long total = std::lround(std::max(0.0, seconds));
    char text[48];
    if (total < 60) {
        std::snprintf(text, sizeof text, "%ld s", total);
    } else if (total < 3600) {
        std::snprintf(text, sizeof text, "%ld min %02ld s", total / 60, total % 60);
    } else {
        std::snprintf(text, sizeof text, "%ld h %02ld min", total / 3600, (total % 3600) / 60);
    }
    return text;
}

// "2:05", "1:02:03": a countdown for a progress line.
std::string clock_text(double seconds) {
    const long total = std::lround(std::max(0.0, seconds));
    char text[32];
    if (total >= 3600) {
        std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, (total % 3600) / 60, total % 60);
    } else {
        std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
    }
    return text;
}

// "[########..........]" for done of total, `width` cells.
std::string bar_text(double done, double total, int width = 20) {
    const int filled = total > 0 ? static_cast<int>(std::clamp(done / total, 0.0, 1.0) * width) : 0;
    return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

std::string format_value(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", value);
    return text;
}

std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", seconds);
    return text;
}

Color state_color(const std::string& state) {
    if (state == "passed") return Color::green;
    if (state == "not passed") return Color::red;
    if (state == "locked" || state == "coming") return Color::dim;
    return Color::none;
}

// Wraps a paragraph at `width` columns with `indent` spaces before each line.
std::string wrap(const std::string& text, size_t width, size_t indent) {
    std::string out, line;
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
        if (!line.empty() && line.size() + 1 + word.size() > width) {
            out += std::string(indent, ' ') + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) out += std::string(indent, ' ') + line + "\n";
    return out;
}

// "model two-layer  seed 3  epoch 1200/5000  loss 0.0421  accuracy 100%": the usual fields in
// that order, then any others. A training run's line has a bar for the steps of its epoch, the
// speed and the time left: "epoch 2/4  [#######.....] 412/938  1,930 img/s  ETA 3:05  loss 0.31".
std::string progress_text(const nlohmann::json& fields) {
    static const std::vector<std::string> first = {"phase", "model", "seed", "epoch", "step", "images_per_second", "eta_seconds",
                                                   "mistakes", "loss", "accuracy"};
    std::vector<std::string> keys;
    for (const std::string& key : first)
        if (fields.contains(key)) keys.push_back(key);
    for (const auto& [key, value] : fields.items())
        if (std::find(first.begin(), first.end(), key) == first.end()) keys.push_back(key);
    std::string text;
    for (const std::string& key : keys) {
        const nlohmann::json& value = fields.at(key);
        if (key == "epochs" || key == "steps") continue;
        std::string shown;
        if (key == "step" && fields.contains("steps") && value.is_number() && fields.at("steps").is_number()) {
            text += (text.empty() ? "" : "  ") + bar_text(value.get<double>(), fields.at("steps").get<double>()) + " " +
                    value.dump() + "/" + fields.at("steps").dump();
            continue;
        } else if (key == "images_per_second" && value.is_number()) {
            text += (text.empty() ? "" : "  ") + std::to_string(std::lround(value.get<double>())) + " img/s";
            continue;
        } else if (key == "eta_seconds" && value.is_number()) {
            text += (text.empty() ? "" : "  ") + std::string("ETA ") + clock_text(value.get<double>());
            continue;
        } else if (key == "epoch" && fields.contains("epochs")) {
            shown = value.dump() + "/" + fields.at("epochs").dump();
        } else if (key == "accuracy" && value.is_number()) {
            shown = format_value(100.0 * value.get<double>()) + "%";
        } else if (value.is_number_float()) {
            shown = format_value(value.get<double>());
        } else if (value.is_string()) {
            shown = value.get<std::string>();
        } else {
            shown = value.dump();
        }
        text += (text.empty() ? "" : "  ") + key + " " + shown;
    }
    return text;
}

int run_list() {
    const Course course = Course::load(find_share_dir());
    const std::vector<MilestoneInfo> milestones = load_milestones(course);
    std::optional<Workspace> workspace;
    if (auto root = Workspace::find_root(fs::current_path())) workspace = Workspace::open(*root);

    if (console().json) {
        nlohmann::json out = nlohmann::json::array();
        for (const MilestoneInfo& m : milestones) {
            nlohmann::json j = {{"name", m.name},   {"year", m.year},         {"title", m.title},
                                {"after", m.after}, {"requires", m.required}, {"available", m.available}};
            if (workspace) j["state"] = milestone_state(course, *workspace, m);
            out.push_back(j);
        }
        std::cout << out.dump(2) << "\n";
        return kExitOk;
    }
    Table table;
    table.header = {"milestone", "year", "title", "after"};
    if (workspace) table.header.push_back("state");
    table.right_aligned = {false, true, false, false, false};
    for (const MilestoneInfo& m : milestones) {
        const ModuleInfo* after = course.find(m.after);
        // Outside a workspace there is no state column to say "coming".
        const std::string title = m.title + (m.available || workspace ? "" : paint("  (coming later)", Color::dim));
        std::vector<std::string> row = {m.name, std::to_string(m.year), title, after ? after->dir_name() : m.after};
        if (workspace) {
            const std::string state = milestone_state(course, *workspace, m);
            row.push_back(paint(state, state_color(state)));
        }
        table.rows.push_back(row);
    }
    table.print(std::cout);
    if (console().verbosity >= 0) std::cout << "\nRun one with `tito milestone <name>` once its modules are passed.\n";
    return kExitOk;
}

int run_status() {
    const Course course = Course::load(find_share_dir());
    const Workspace workspace = open_current_workspace();
    const std::vector<MilestoneInfo> milestones = load_milestones(course);
    if (console().json) {
        nlohmann::json out = nlohmann::json::array();
        for (const MilestoneInfo& m : milestones) {
            nlohmann::json j = {{"name", m.name}, {"state", milestone_state(course, workspace, m)},
                                {"missing", milestone_missing(course, workspace, m)}};
            if (auto it = workspace.progress().milestones.find(m.name); it != workspace.progress().milestones.end()) {
                j["attempts"] = it->second.attempts;
                j["last_metrics"] = it->second.last_metrics;
                j["passed_at"] = it->second.passed_at;
            }
            out.push_back(j);
        }
        std::cout << out.dump(2) << "\n";
        return kExitOk;
    }
    Table table;
    table.header = {"milestone", "year", "state", "runs", "needs"};
    table.right_aligned = {false, true, false, true, false};
    for (const MilestoneInfo& m : milestones) {
        const std::string state = milestone_state(course, workspace, m);
        auto it = workspace.progress().milestones.find(m.name);
        const int attempts = it == workspace.progress().milestones.end() ? 0 : it->second.attempts;
        const ModuleInfo* after = course.find(m.after);
        const std::string needs = state == "locked" ? "pass " + join(milestone_missing(course, workspace, m))
                                  : state == "coming" ? "comes with " + (after ? after->dir_name() : m.after)
                                                      : "";
        table.rows.push_back({m.name, std::to_string(m.year), paint(state, state_color(state)), attempts ? std::to_string(attempts) : "", needs});
    }
    table.print(std::cout);
    return kExitOk;
}

int run_run(const RunOptions& options) {
    const Course course = Course::load(find_share_dir());
    const std::vector<MilestoneInfo> milestones = load_milestones(course);
    const MilestoneInfo& m = resolve_milestone(milestones, options.name);
    require_available(course, milestones, m);
    m.conditions(options.quick, options.dataset);  // a usage error before anything else

    std::optional<Workspace> workspace;
    std::optional<WorkspaceLock> lock;  // one tito at a time in a workspace (its build folder, progress)
    if (auto root = Workspace::find_root(fs::current_path())) {
        workspace = Workspace::open(*root);
        lock = WorkspaceLock::acquire(workspace->tito_dir());
        workspace = Workspace::open(*root);  // re-read: the holder before us may have saved
    }
    if (!workspace && !options.reference)
        throw UserError("not inside a tito workspace (no .tito/workspace.json here or above)",
                        "cd into your workspace, or add --reference to run the reference engine");

    bool locked = false;
    if (workspace && !options.reference) {
        std::vector<std::string> missing = milestone_missing(course, *workspace, m);
        locked = !missing.empty();
        if (locked && !options.force)
            throw UserError("milestone " + m.name + " is locked: pass " + join(missing) + " first",
                            "`tito test` those modules; or add --force to run it anyway (a forced run does not count)");
    }
    // A reference run, a quick run, or a forced run of a locked milestone, is shown but never recorded.
    const bool counts = workspace && !options.reference && !locked && !options.quick;
    const bool show = !console().json && console().verbosity >= 0;

    if (show) {
        std::cout << paint("Milestone " + m.name + " (" + std::to_string(m.year) + "): " + m.title, Color::bold) << "\n"
                  << wrap(m.note, 96, 2) << "\n";
        if (options.quick)
            std::cout << "  A quick run: a small part of the data, for a first check; it is not recorded.\n\n";
        else if (!m.expected.empty())
            std::cout << "  This run takes " << m.expected << " with the reference engine on a 2-core machine; your code may take longer.\n\n";
    }

    ProgressLine progress;
    auto last_printed = std::chrono::steady_clock::now() - std::chrono::hours(1);
    std::string pending;  // in a log: the latest progress line not printed yet
    auto flush_pending = [&] {
        if (!pending.empty()) std::cout << pending << "\n" << std::flush;
        pending.clear();
    };
    MilestoneOptions run_options;
    run_options.reference = options.reference;
    run_options.quick = options.quick;
    run_options.dataset = options.dataset;
    run_options.on_report = [&](const nlohmann::json& report) {
        if (!show) return;
        if (report.contains("estimate") && report.at("estimate").is_object() && report.at("estimate").value("seconds", -1.0) >= 0) {
            progress.clear();
            flush_pending();
            std::cout << "  This run will take about " << duration_text(report.at("estimate").at("seconds").get<double>())
                      << " (measured on its first batches).\n"
                      << std::flush;
        } else if (report.contains("log")) {
            progress.clear();
            flush_pending();
            std::cout << "  " << report.at("log").get<std::string>() << "\n" << std::flush;
        } else if (report.contains("progress")) {
            const std::string text = "  " + progress_text(report.at("progress"));
            if (console().interactive) {
                progress.update(text);
            } else if (std::chrono::steady_clock::now() - last_printed > std::chrono::seconds(5)) {
                // In a log, one line every 5 seconds at most, and the last line of each phase.
                pending.clear();
                std::cout << text << "\n" << std::flush;
                last_printed = std::chrono::steady_clock::now();
            } else {
                pending = text;
            }
        }
    };
    if (show) {
        progress.update("  building ...");
    }
    MilestoneOutcome outcome = run_milestone(course, workspace ? &*workspace : nullptr, m, run_options);
    progress.clear();
    if (show) flush_pending();

    if (counts) {
        MilestoneProgress& record = workspace->progress().milestones[m.name];
        ++record.attempts;
        record.last_run_at = utc_timestamp();
        record.last_metrics = outcome.metrics;
        if (outcome.passed && !record.passed) {
            record.passed = true;
            record.passed_at = record.last_run_at;
            record.best_metrics = outcome.metrics;
        }
        workspace->save_progress();
        GitRepo::open_or_init(workspace->root())
            .commit_all("tito milestone run " + m.name + ": " + (outcome.passed ? "passed" : "not passed"));
    }

    if (console().json) {
        nlohmann::json conditions = nlohmann::json::array();
        for (const ConditionResult& c : outcome.conditions)
            conditions.push_back({{"metric", c.condition.metric}, {"label", c.condition.label}, {"requirement", c.condition.requirement()},
                                  {"value", c.value ? nlohmann::json(*c.value) : nlohmann::json()}, {"ok", c.ok}});
        std::cout << nlohmann::json{{"milestone", m.name},         {"passed", outcome.passed},
                                    {"recorded", counts},          {"student_modules", outcome.student_modules},
                                    {"quick", options.quick},      {"dataset", m.dataset_of(options.dataset)},
                                    {"saved_files", outcome.saved_files},
                                    {"estimate_seconds", outcome.estimate_seconds ? nlohmann::json(*outcome.estimate_seconds) : nlohmann::json()},
                                    {"metrics", outcome.metrics},  {"conditions", conditions},
                                    {"failure", outcome.failure},  {"build_seconds", outcome.build_seconds},
                                    {"run_seconds", outcome.run_seconds}}
                         .dump(2)
                  << "\n";
        return outcome.passed ? kExitOk : kExitFailed;
    }
    if (!show) return outcome.passed ? kExitOk : kExitFailed;

    std::cout << "\n  code: "
              << (options.reference ? "the reference engine only (--reference)"
                  : outcome.student_modules.empty() ? "the reference engine (no module passed yet)"
                                                    : "yours for " + join(outcome.student_modules) + "; the reference for the rest")
              << "\n";
    if (!outcome.saved_files.empty()) std::cout << "  saved: " << join(outcome.saved_files) << " (open the .svg in a browser)\n";
    if (!outcome.failure.empty()) {
        std::cout << "  " << paint("the program " + outcome.failure, Color::red) << "\n";
        if (console().verbosity > 0 && !outcome.output.empty()) std::cout << outcome.output << "\n";
    }
    Table table;
    table.header = {"check", "value", "needed", ""};
    table.right_aligned = {false, true, true, false};
    for (const ConditionResult& c : outcome.conditions)
        table.rows.push_back({c.condition.label, c.value ? format_value(*c.value) : "-", c.condition.requirement(),
                              c.ok ? paint("ok", Color::green) : paint("no", Color::red)});
    std::cout << "\n";
    table.print(std::cout);
    std::cout << "\n"
              << (outcome.passed ? paint("PASSED", Color::green) : paint("NOT PASSED", Color::red)) << "  (" << m.name << ", built in "
              << seconds_text(outcome.build_seconds) << ", ran in " << seconds_text(outcome.run_seconds) << ")";
    if (counts) {
        std::cout << (outcome.passed ? " - recorded in your progress." : " - recorded; try again after fixing your modules.");
    } else if (options.reference) {
        std::cout << " - a reference run is not recorded.";
    } else if (options.quick) {
        std::cout << " - a quick run is not recorded; run it without --quick to count.";
    } else if (workspace) {
        std::cout << " - a forced run of a locked milestone is not recorded.";
    }
    std::cout << "\n";
    return outcome.passed ? kExitOk : kExitFailed;
}

}  // namespace

void setup_milestone(CLI::App& app, CommandRunner& run) {
    CLI::App* milestone = app.add_subcommand("milestone", "Train historical models (perceptron, xor, ...) on your own engine");
    milestone->require_subcommand(0, 1);  // none: `tito milestone <name>`, or its help

    CLI::App* list = milestone->add_subcommand("list", "The milestones, their year and what unlocks them");
    list->callback([&run] { run = run_list; });

    CLI::App* status = milestone->add_subcommand("status", "Which milestones you have passed, and what the others need");
    status->callback([&run] { run = run_status; });

    auto options = std::make_shared<RunOptions>();
    CLI::App* start = milestone->add_subcommand("run", "Build a milestone with your passed modules and run it");
    start->add_option("milestone", options->name, "Milestone name (see `tito milestone list`)")->required();
    start->add_flag("--force", options->force, "Run a locked milestone anyway (the result does not count)");
    start->add_flag("--reference", options->reference, "Use the reference engine alone, to compare (not recorded)");
    start->add_flag("--quick", options->quick, "A small part of the data, for a first check in seconds (not recorded)");
    start->add_option("--dataset", options->dataset, "Train on another data set the milestone supports (lenet: fashion-mnist)");
    start->callback([&run, options] { run = [options] { return run_run(*options); }; });

    // The short form students are told about: `tito milestone xor` = `tito milestone run xor`. A
    // word naming a subcommand (list, run, status) is that subcommand, never a milestone.
    auto short_form = std::make_shared<RunOptions>();
    milestone->add_option("milestone", short_form->name, "Short for `tito milestone run <milestone>`");
    milestone->add_flag("--force", short_form->force, "With a milestone: as for `run`");
    milestone->add_flag("--reference", short_form->reference, "With a milestone: as for `run`");
    milestone->add_flag("--quick", short_form->quick, "With a milestone: as for `run`");
    milestone->add_option("--dataset", short_form->dataset, "With a milestone: as for `run`");
    milestone->callback([&run, milestone, short_form] {
        const std::vector<CLI::App*> chosen = milestone->get_subcommands();
        if (chosen.empty()) {
            if (!short_form->name.empty()) run = [short_form] { return run_run(*short_form); };
            return;
        }
        // Options fall through to this level, so a stray word after a subcommand lands here.
        if (!short_form->name.empty()) {
            const std::string word = short_form->name, path = "tito milestone " + chosen.front()->get_name();
            run = [word, path]() -> int {
                throw UserError("unexpected argument '" + word + "' for `" + path + "`", "`tito help " + path.substr(5) + "` explains it");
            };
        }
    });
}

}  // namespace tito
