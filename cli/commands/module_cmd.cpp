// module_cmd.cpp - `tito module list | start <N> | reset <N>`.
#include "commands/module_cmd.h"

#include <iostream>
#include <memory>

#include "course.h"
#include "errors.h"
#include "files.h"
#include "git_repo.h"
#include "term.h"
#include "workspace.h"
#include "workspace_lock.h"

namespace tito {

namespace {

struct StartOptions {
    std::string module;
    bool force = false;
};

struct ResetOptions {
    std::string module;
};

std::string score_text(const ModuleProgress& p) {
    if (p.last_score < 0) return "";
    return std::to_string(p.best_score) + "/" + std::to_string(p.max_score);
}

Color state_color(const std::string& state) {
    if (state == "passed") return Color::green;
    if (state == "started") return Color::yellow;
    if (state == "locked" || state == "coming") return Color::dim;
    return Color::none;
}

int run_list() {
    const Course course = Course::load(find_share_dir());
    std::optional<Workspace> workspace;
    if (auto root = Workspace::find_root(fs::current_path())) workspace = Workspace::open(*root);

    if (console().json) {
        nlohmann::json out = nlohmann::json::array();
        for (const ModuleInfo& m : course.modules()) {
            nlohmann::json j = {{"id", m.id},         {"name", m.name},           {"title", m.title},
                                {"phase", m.phase},   {"requires", m.required},   {"milestones", m.milestones},
                                {"available", m.has_content}};
            if (workspace) {
                j["state"] = workspace->module_state(course, m);
                auto it = workspace->progress().modules.find(m.id);
                if (it != workspace->progress().modules.end()) {
                    j["best_score"] = it->second.best_score;
                    j["max_score"] = it->second.max_score;
                }
            }
            out.push_back(j);
        }
        std::cout << out.dump(2) << "\n";
        return kExitOk;
    }

    Table table;
    table.header = {"#", "module", "title"};
    if (workspace) table.header.insert(table.header.end(), {"state", "best"});
    table.right_aligned = {true, false, false, false, true};
    for (const ModuleInfo& m : course.modules()) {
        // Outside a workspace there is no state column to say "coming".
        std::string title = m.title + (m.has_content || workspace ? "" : paint("  (coming later)", Color::dim));
        std::vector<std::string> row = {m.id, m.name, title};
        if (workspace) {
            std::string state = workspace->module_state(course, m);
            auto it = workspace->progress().modules.find(m.id);
            row.push_back(paint(state, state_color(state)));
            row.push_back(it == workspace->progress().modules.end() ? "" : score_text(it->second));
        }
        table.rows.push_back(row);
    }
    table.print(std::cout);
    if (!workspace && console().verbosity >= 0)
        std::cout << "\nNot in a workspace. `tito module start 01` makes this folder one.\n";
    return kExitOk;
}

// Copies `from` to `to` unless `to` exists (a student's file is never overwritten).
bool place_file(const fs::path& from, const fs::path& to) {
    if (fs::exists(to)) return false;
    fs::create_directories(to.parent_path());
    atomic_write_file(to, read_text_file(from));
    return true;
}

int run_start(const StartOptions& options) {
    const Course course = Course::load(find_share_dir());
    const ModuleInfo& m = course.resolve(options.module);
    if (!m.has_content) {
        std::string ready;
        for (const ModuleInfo& other : course.modules())
            if (other.has_content) ready += (ready.empty() ? "" : ", ") + other.id;
        throw UserError("module " + m.dir_name() + " has no content yet",
                        "it arrives in a later release; modules you can start now: " + ready);
    }

    std::optional<fs::path> root = Workspace::find_root(fs::current_path());
    if (!root) {
        // .tito/ gone, but the history has it: a fresh workspace would lock every module the
        // student already passed. Repairing keeps their progress; --force starts afresh.
        root = fs::current_path();
        if (std::optional<StateInHistory> state = find_state_in_history(*root)) {
            if (!options.force)
                throw UserError(state->root.string() + " has no .tito/ folder, but its git history holds your workspace (commit " +
                                    state->commit.short_id + ": " + state->commit.summary + ")",
                                "`tito workspace repair` restores your progress from it; `tito module start " + m.id +
                                    " --force` starts afresh instead");
            root = state->root;
        }
        fs::create_directories(*root / ".tito");  // says plainly when the folder is not writable
    }
    // One tito at a time in a workspace; what the one before us saved (or created) is read after
    // we get in.
    WorkspaceLock lock = WorkspaceLock::acquire(*root / ".tito");
    bool created = false;
    if (!fs::exists(*root / ".tito" / "workspace.json")) {
        Workspace::create(*root);
        created = true;
    }
    Workspace workspace = Workspace::open(*root);
    if (created && console().verbosity >= 0)
        std::cout << "Made " << root->string() << " a tito workspace (.tito/ and a git repository).\n";

    // Everything the module builds on, directly or not, that is not passed yet: the student should
    // know what they skip, and what tito does about it.
    std::vector<std::string> missing = workspace.missing_prerequisites(course, m);
    if (!missing.empty() && !options.force) {
        std::string names;
        for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
        warn(m.dir_name() + " builds on " + names + ", " + (missing.size() > 1 ? "which are" : "which is") +
             " not passed yet. Starting anyway: `tito test " + m.id + "` grades your " + m.dir_name() +
             " with the reference code for every other module, and milestones use your code only for passed modules "
             "(--force hides this warning)");
    }

    const fs::path folder = workspace.module_dir(m);
    const fs::path content = course.content_dir(m);
    std::vector<std::string> placed, kept;
    for (const std::string& file : m.file_names()) {
        const fs::path target = folder / file;
        (place_file(course.template_path(m, file), target) ? placed : kept).push_back(m.dir_name() + "/" + file);
    }
    place_file(content / "README.md", folder / "README.md");
    if (fs::exists(content / "tests")) {
        for (const auto& entry : fs::directory_iterator(content / "tests"))
            place_file(entry.path(), folder / "tests" / entry.path().filename());
        place_file(course.share() / "testing" / "grading.h", folder / "tests" / "grading.h");
    }

    Progress& progress = workspace.progress();
    if (!progress.modules.count(m.id)) {
        ModuleProgress p;
        p.state = "started";
        p.started_at = utc_timestamp();
        progress.modules[m.id] = p;
    }
    progress.last_module = m.id;
    workspace.save_progress();
    workspace.write_compile_commands(course);
    GitRepo::open_or_init(workspace.root()).commit_all("tito module start " + m.dir_name());

    if (console().json) {
        std::cout << nlohmann::json{{"module", m.id}, {"folder", folder.string()}, {"created", placed}, {"kept", kept},
                                    {"workspace", workspace.root().string()}}
                         .dump(2)
                  << "\n";
        return kExitOk;
    }
    if (console().verbosity < 0) return kExitOk;
    std::cout << paint("Started " + m.dir_name(), Color::bold) << ": " << m.title << "\n";
    for (const std::string& f : placed) std::cout << "  new    " << f << "\n";
    for (const std::string& f : kept) std::cout << "  kept   " << f << paint("  (your work, unchanged)", Color::dim) << "\n";
    std::cout << "  lesson " << m.dir_name() << "/README.md\n"
              << "  API    " << (course.include_dir() / "tinytorch").string() << "/ (the headers your code implements)\n\n"
              << "Next: read the lesson, replace each TODO in your file" << (m.files.size() > 1 ? "s" : "")
              << ", then run `tito test " << m.id << "`.\n";
    return kExitOk;
}

int run_reset(const ResetOptions& options) {
    const Course course = Course::load(find_share_dir());
    const ModuleInfo& m = course.resolve(options.module);
    Workspace workspace = open_current_workspace();
    WorkspaceLock lock = WorkspaceLock::acquire(workspace.tito_dir());
    workspace = Workspace::open(workspace.root());
    if (!workspace.progress().modules.count(m.id) && !fs::exists(workspace.module_dir(m)))
        throw UserError(m.dir_name() + " is not started, so there is nothing to reset", "start it with `tito module start " + m.id + "`");

    // First a snapshot, so the student's current files stay in history; only then overwrite.
    GitRepo repo = GitRepo::open_or_init(workspace.root());
    repo.commit_all("tito module reset " + m.dir_name() + ": your files before the reset");
    const std::string saved = repo.head();
    for (const std::string& file : m.file_names()) {
        const fs::path target = workspace.module_dir(m) / file;
        fs::create_directories(target.parent_path());
        atomic_write_file(target, read_text_file(course.template_path(m, file)));
    }
    repo.commit_all("tito module reset " + m.dir_name() + ": templates restored");

    if (console().json) {
        std::cout << nlohmann::json{{"module", m.id}, {"saved_commit", saved}}.dump(2) << "\n";
    } else if (console().verbosity >= 0) {
        std::cout << "Restored the templates of " << m.dir_name() << ".\n"
                  << "Your previous files are saved in commit " << saved << ": for example `git show " << saved << ":"
                  << m.dir_name() << "/" << m.file_names().front() << "`.\n";
    }
    return kExitOk;
}

}  // namespace

void setup_module(CLI::App& app, CommandRunner& run) {
    CLI::App* module = app.add_subcommand("module", "List, start and reset course modules");
    module->require_subcommand(0, 1);  // none: its help is shown

    CLI::App* list = module->add_subcommand("list", "All 20 modules, with their state in this workspace");
    list->callback([&run] { run = run_list; });

    auto start_options = std::make_shared<StartOptions>();
    CLI::App* start = module->add_subcommand("start", "Set up a module's folder: your file(s), the lesson, visible tests");
    start->add_option("module", start_options->module, "Module number or name: 9, 09, spatial, 09_spatial")->required();
    start->add_flag("--force", start_options->force,
                    "Don't warn when earlier modules are not passed; start afresh where .tito/ was lost (instead of `tito workspace repair`)");
    start->callback([&run, start_options] { run = [start_options] { return run_start(*start_options); }; });

    auto reset_options = std::make_shared<ResetOptions>();
    CLI::App* reset = module->add_subcommand("reset", "Commit your current files, then restore the module's templates");
    reset->add_option("module", reset_options->module, "Module number or name")->required();
    reset->callback([&run, reset_options] { run = [reset_options] { return run_reset(*reset_options); }; });
}

}  // namespace tito
