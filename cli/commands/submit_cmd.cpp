// submit_cmd.cpp - `tito submit --competition NAME [--quick] [--reference] [--leaderboard FILE]
// [--test-set DIR] [--checkpoint FILE]`.
//
// The order matters:
//   1. the rules and the leaderboard are opened first: an unknown competition or a corrupt
//      leaderboard file stops the submit before any work (the file left exactly as it was);
//   2. the workspace is committed, so the entry names the code that ran;
//   3. the program is built and run (competitions.cpp), progress shown live;
//   4. the leaderboard is checked against the snapshot taken in 1: if something other than tito
//      changed it during the run (student code can write files), the entry is refused;
//   5. the entry - scored, or a failed attempt with its reason - is appended in one transaction.
#include "commands/submit_cmd.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "competitions.h"
#include "course.h"
#include "errors.h"
#include "files.h"
#include "git_repo.h"
#include "leaderboard.h"
#include "term.h"
#include "workspace.h"
#include "workspace_lock.h"

namespace tito {

namespace {

struct SubmitOptions {
    std::string competition;
    bool quick = false;
    bool reference = false;
    std::string leaderboard;
    std::string test_set;
    std::string checkpoint;
};

// "2:05": a clock for a progress line.
std::string clock_text(double seconds) {
    const long total = std::lround(std::max(0.0, seconds));
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
    return text;
}

std::string bar_text(double done, double total, int width = 20) {
    const int filled = total > 0 ? static_cast<int>(std::clamp(done / total, 0.0, 1.0) * width) : 0;
    return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

std::string fixed(double value, int digits) {
    char text[48];
    std::snprintf(text, sizeof text, "%.*f", digits, value);
    return text;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// "training  epoch 2/4  loss 0.3100  [######..............] 1:12 / 4:00", "reference: generating"
std::string progress_text(const nlohmann::json& p) {
    std::string text = p.value("phase", "");
    // gpt runs the reference program first (for the answers to compare with), then the student's.
    if (p.contains("program") && p.at("program").is_string()) text = p.at("program").get<std::string>() + ": " + text;
    if (p.contains("epoch") && p.at("epoch").is_number() && p.at("epoch").get<double>() > 0) {
        text += "  epoch " + p.at("epoch").dump();
        if (p.contains("epochs") && p.at("epochs").is_number() && p.at("epochs").get<double>() > 0) text += "/" + p.at("epochs").dump();
    }
    if (p.contains("step") && p.contains("steps") && p.at("steps").is_number() && p.at("steps").get<double>() > 0)
        text += "  step " + p.at("step").dump() + "/" + p.at("steps").dump();
    if (p.contains("loss") && p.at("loss").is_number()) text += "  loss " + fixed(p.at("loss").get<double>(), 4);
    if (p.contains("elapsed") && p.contains("budget") && p.at("elapsed").is_number() && p.at("budget").is_number()) {
        const double elapsed = p.at("elapsed").get<double>(), budget = p.at("budget").get<double>();
        text += "  " + bar_text(elapsed, budget) + " " + clock_text(elapsed) + " / " + clock_text(budget);
    }
    if (p.contains("note") && p.at("note").is_string() && !p.at("note").get<std::string>().empty())
        text += "  " + p.at("note").get<std::string>().substr(0, 60);
    return text;
}

// The score as people read it: "81.23%" for accuracy, "245.1 tokens/s" otherwise.
std::string score_text(const CompetitionRules& rules, double score) {
    if (rules.score_unit == "%") return fixed(100.0 * score, 2) + "%";
    return fixed(score, 1) + (rules.score_unit.empty() ? "" : " " + rules.score_unit);
}

std::string metric_text(const std::string& key, const nlohmann::json& value) {
    if (key.size() > 7 && key.compare(key.size() - 7, 7, "_sha256") == 0 && value.is_string())
        return value.get<std::string>().substr(0, 12);  // enough to tell two apart; --json has all of it
    if (!value.is_number()) return value.is_string() ? value.get<std::string>() : value.dump();
    const double v = value.get<double>();
    if (key.find("accuracy") != std::string::npos) return fixed(100.0 * v, 2) + "%";
    if (key.size() > 8 && key.compare(key.size() - 8, 8, "_seconds") == 0) return fixed(v, 1) + " s";
    if (key == "peak_memory_mib") return fixed(v, 0) + " MiB";
    if (key == "model_bytes") return fixed(v / (1024.0 * 1024.0), 2) + " MiB";
    if (key == "images_per_second") return fixed(v, 0) + " images/s";
    if (key == "tokens_per_second") return fixed(v, 1) + " tokens/s";
    if (value.is_number_integer()) return value.dump();
    return fixed(v, v >= 100 ? 1 : 4);
}

// A metric's name for a person: "training_seconds" -> "training time", "peak_memory_mib" -> "peak
// memory"; names without an entry lose their underscores. --json keeps the keys.
std::string metric_label(const std::string& key) {
    static const std::map<std::string, std::string> labels = {
        {"training_seconds", "training time"},  {"predict_seconds", "prediction time"}, {"load_seconds", "loading time"},
        {"generate_seconds", "generation time"}, {"evaluate_seconds", "evaluation time"}, {"peak_memory_mib", "peak memory"},
        {"model_bytes", "model size"},          {"images_per_second", "prediction speed"}, {"train_images", "training images"},
        {"tokens_per_second", "speed"}};
    if (auto it = labels.find(key); it != labels.end()) return it->second;
    std::string label = key;
    std::replace(label.begin(), label.end(), '_', ' ');
    return label;
}

std::string engine_version(const Course& course) {
    try {
        return load_json_file(course.share() / "build.json", "rebuild or reinstall tito").value("version", std::string(TITO_VERSION));
    } catch (const UserError&) {
        return TITO_VERSION;
    }
}

int run_submit(const SubmitOptions& options) {
    const Course course = Course::load(find_share_dir());
    // 1. The rules, then the leaderboard: both may stop the submit before any work.
    const CompetitionRules rules = load_competition(course, options.competition, options.quick);
    if (!options.checkpoint.empty() && rules.name != "gpt")
        throw UserError("--checkpoint is for the gpt competition", "leave it out for " + rules.name);
    if (!options.test_set.empty() && rules.name != "cifar")
        throw UserError("--test-set is for the cifar competition", "leave it out for " + rules.name);

    std::optional<Workspace> workspace;
    std::optional<WorkspaceLock> lock;  // one tito at a time in a workspace (its build folder, progress)
    if (auto root = Workspace::find_root(fs::current_path())) {
        workspace = Workspace::open(*root);
        lock = WorkspaceLock::acquire(workspace->tito_dir());
        workspace = Workspace::open(*root);  // re-read: the holder before us may have saved
    }
    if (!workspace && !options.reference)
        throw UserError("not inside a tito workspace (no .tito/workspace.json here or above)",
                        "cd into your workspace, or add --reference to run the course's reference solution");

    // Whose code runs: every passed module with content; module 20 - the competition's own code -
    // whether it is passed or not; and module 01, whose my_identity names the entry (the
    // reference's would put someone else's name on it).
    std::vector<std::string> student_modules;
    if (!options.reference) {
        auto started = [&](const char* id) {
            const ModuleInfo* module = course.find(id);
            if (!module) throw UserError(std::string("this course has no module ") + id, "reinstall tito");
            bool all = fs::is_directory(workspace->module_dir(*module));
            for (const std::string& file : module->file_names()) all = all && fs::exists(workspace->module_dir(*module) / file);
            return all;
        };
        if (!started("20"))
            throw UserError("module 20 (capstone) is not started: the competitions run its cifar_train, cifar_predict and gpt_load",
                            "start it with `tito module start 20`");
        if (!started("01"))
            throw UserError("module 01 (setup) is not started: your entry is named by its my_identity",
                            "start it with `tito module start 01` and fill in your name and handle");
        for (const ModuleInfo& module : course.modules()) {
            auto it = workspace->progress().modules.find(module.id);
            const bool passed = it != workspace->progress().modules.end() && it->second.state == "passed" && module.has_content;
            if (passed || module.id == "01" || module.id == "20") student_modules.push_back(module.dir_name());
        }
    }

    Leaderboard board = Leaderboard::open_or_create(leaderboard_path(course, options.leaderboard));
    const Leaderboard::Snapshot before = board.snapshot();

    // 2. The code that runs is committed first, so the entry can name it.
    std::string commit;
    if (workspace && !options.reference) {
        GitRepo repo = GitRepo::open_or_init(workspace->root());
        repo.commit_all("tito submit --competition " + rules.name + (options.quick ? " --quick" : ""));
        commit = repo.head_id();
    }

    // Scratch space: the workspace's build folder, or a temporary one for --reference outside one.
    std::optional<TempFolder> temporary;
    if (!workspace) temporary.emplace("tito-submit");
    const fs::path build_root = workspace ? workspace->build_dir() : temporary->path();

    // 3. The run, with its progress.
    const bool show = !console().json && console().verbosity >= 0;
    // The title is printed with the first progress report ("building"), after the data and the
    // checkpoint were found: a missing data set is one error line, not a title and then an error.
    bool titled = false;
    auto print_title = [&] {
        if (titled || !show) return;
        titled = true;
        std::cout << paint("Competition " + rules.name + ": " + rules.title, Color::bold) << "\n";
        if (options.quick) std::cout << "  A quick run: a small part of the data and a short budget, listed only with --quick.\n";
        std::cout << "  " << (options.reference ? std::string("the reference solution")
                                                 : "your code for " + join(student_modules) + "; the reference for the rest")
                  << "\n"
                  << std::flush;
    };
    ProgressLine line;
    std::string last_phase;
    auto last_printed = std::chrono::steady_clock::now() - std::chrono::hours(1);
    CompetitionOptions run_options;
    run_options.reference = options.reference;
    run_options.test_set = options.test_set;
    run_options.checkpoint = options.checkpoint;
    run_options.on_progress = [&](const nlohmann::json& p) {
        if (!show) return;
        print_title();
        const std::string text = "  " + progress_text(p);
        const std::string phase = p.value("phase", "");
        if (console().interactive) {
            line.update(text);
        } else if (phase != last_phase || std::chrono::steady_clock::now() - last_printed > std::chrono::seconds(5)) {
            // In a log: each new phase, then one line every 5 seconds at most.
            std::cout << text << "\n" << std::flush;
            last_printed = std::chrono::steady_clock::now();
        }
        last_phase = phase;
    };
    const CompetitionResult result =
        run_competition(course, workspace ? workspace->root() : fs::path(), build_root, student_modules, rules, run_options);
    line.clear();
    print_title();

    // 4. Only tito may have written the leaderboard since the snapshot.
    // A file that can no longer be read at all (overwritten with other bytes) changed too.
    std::string changed;
    try {
        changed = board.changed_since(before);
    } catch (const UserError& e) {
        changed = std::string("it can no longer be read: ") + e.what();
    }
    if (!changed.empty()) {
        std::cerr << paint("error: ", Color::red) << "the leaderboard changed during your run in a way tito did not write (" << changed
                  << "): entry refused (hint: `tito leaderboard verify` checks the file; an instructor can restore it from a backup)\n";
        return kExitFailed;
    }

    // 5. The entry.
    LeaderboardEntry entry;
    entry.competition = rules.name;
    entry.quick = options.quick;
    entry.reference = options.reference;
    entry.status = result.scored ? "scored" : "failed";
    entry.failure = result.failure;
    entry.name = result.identity.value("name", "");
    entry.handle = result.identity.value("handle", "");
    entry.email = result.identity.value("email", "");
    entry.score = result.scored ? result.score : 0.0;
    entry.metrics = result.metrics;
    if (!options.test_set.empty()) entry.metrics["test_set"] = fs::absolute(options.test_set).string();
    entry.workspace = workspace ? workspace->root().string() : "";
    entry.commit = commit;
    entry.student_modules = result.student_modules;
    entry.engine_version = engine_version(course);
    entry.tito_version = TITO_VERSION;
    entry.cpu_model = cpu_model();
    entry.cores = cpu_cores();
    entry.rules_hash = rules.hash;
    const LeaderboardEntry stored = board.append(entry);

    // The rank: this student's best entry among every student's best.
    std::string rank;
    if (result.scored) {
        const std::vector<LeaderboardEntry> ranked = ranking(board.entries(rules.name), rules.name, true, options.quick);
        for (size_t i = 0; i < ranked.size(); ++i)
            if (ranked[i].handle == stored.handle && ranked[i].reference == stored.reference)
                rank = "#" + std::to_string(i + 1) + " of " + std::to_string(ranked.size()) + " on " + rules.name + (options.quick ? " (quick runs)" : "");
    }

    if (console().json) {
        nlohmann::json out = stored.to_json();
        out["rank"] = rank;
        out["leaderboard"] = board.path().string();
        out["build_seconds"] = result.build_seconds;
        out["run_seconds"] = result.run_seconds;
        std::cout << out.dump(2) << "\n";
        return result.scored ? kExitOk : kExitFailed;
    }
    if (!result.failure.empty()) {
        std::cout << "  " << paint("the program " + result.failure, Color::red) << "\n";
        if (console().verbosity > 0 && !result.output.empty()) std::cout << result.output << "\n";
    }
    Table table;
    table.header = {"", "value"};
    table.right_aligned = {false, true};
    if (result.scored) table.rows.push_back({rules.score_name, score_text(rules, result.score)});
    const std::string score_key = rules.rules.value("score", std::string());
    for (const auto& [key, value] : result.metrics.items())
        if (key != score_key || !result.scored) table.rows.push_back({metric_label(key), metric_text(key, value)});
    std::cout << "\n";
    table.print(std::cout);
    std::cout << "\n";
    if (result.scored) {
        std::cout << paint("SCORED", Color::green) << "  " << score_text(rules, result.score) << "  " << rank;
    } else {
        std::cout << paint("FAILED ATTEMPT", Color::red) << "  (recorded as failed, never as a score)";
    }
    std::cout << "  - entry " << stored.id << " in " << board.path().string() << "\n";
    return result.scored ? kExitOk : kExitFailed;
}

}  // namespace

void setup_submit(CLI::App& app, CommandRunner& run) {
    auto options = std::make_shared<SubmitOptions>();
    CLI::App* submit = app.add_subcommand("submit", "Race your engine in a competition (module 20) and record the result on the leaderboard");
    submit->add_option("--competition", options->competition, "cifar or gpt (configs/competitions/)")->required();
    submit->add_flag("--quick", options->quick, "A small part of the data and a short budget, to try things out");
    submit->add_flag("--reference", options->reference, "Run the course's reference solution (works outside a workspace)");
    submit->add_option("--leaderboard", options->leaderboard, "The leaderboard file (default: $TITO_LEADERBOARD or configs/leaderboard.json)");
    submit->add_option("--test-set", options->test_set, "cifar: a folder holding a private test_batch.bin (instructors)");
    submit->add_option("--checkpoint", options->checkpoint, "gpt: the checkpoint to serve (default: your gpt milestone's)");
    submit->callback([&run, options] { run = [options] { return run_submit(*options); }; });
}

}  // namespace tito
