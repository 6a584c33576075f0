// workspace.cpp - see workspace.h.
#include "workspace.h"

#include <set>

#include "compiler.h"
#include "errors.h"
#include "files.h"
#include "git_repo.h"

namespace tito {

namespace {

const char* kProgressHint =
    "`tito workspace repair` restores the last copy tito committed and keeps the damaged file beside it; "
    "or move the file away to start counting afresh";

bool readable_json(const std::string& text) { return nlohmann::json::accept(text); }

bool readable_progress(const std::string& text) {
    try {
        Progress::from_json(nlohmann::json::parse(text), "progress.json");  // throws when the structure is wrong
        return true;
    } catch (const nlohmann::json::exception&) {
        return false;
    } catch (const UserError&) {
        return false;
    }
}

bool readable_marker(const std::string& text) {
    try {
        return nlohmann::json::parse(text).is_object();
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

// Moves a damaged file aside - "progress.json.damaged", "progress.json.damaged-2", ... - and
// returns the new name.
fs::path move_aside(const fs::path& file) {
    fs::path target = file.string() + ".damaged";
    for (int n = 2; fs::exists(target); ++n) target = file.string() + ".damaged-" + std::to_string(n);
    fs::rename(file, target);
    return target;
}

}  // namespace

nlohmann::json Progress::to_json() const {
    nlohmann::json j;
    j["format"] = 1;
    j["last_module"] = last_module;
    j["modules"] = nlohmann::json::object();
    for (const auto& [id, m] : modules) {
        j["modules"][id] = {{"state", m.state},           {"best_score", m.best_score},
                            {"max_score", m.max_score},   {"last_score", m.last_score},
                            {"attempts", m.attempts},     {"started_at", m.started_at},
                            {"last_tested_at", m.last_tested_at}, {"passed_at", m.passed_at}};
    }
    j["milestones"] = nlohmann::json::object();
    for (const auto& [name, m] : milestones) {
        j["milestones"][name] = {{"passed", m.passed},           {"attempts", m.attempts},
                                 {"last_run_at", m.last_run_at}, {"passed_at", m.passed_at},
                                 {"best_metrics", m.best_metrics}, {"last_metrics", m.last_metrics}};
    }
    return j;
}

Progress Progress::from_json(const nlohmann::json& j, const std::string& source) {
    Progress p;
    try {
        if (!j.is_object()) throw UserError(source + " should hold a JSON object", kProgressHint);
        p.last_module = j.value("last_module", "");
        const nlohmann::json modules = j.value("modules", nlohmann::json::object());
        const nlohmann::json milestones = j.value("milestones", nlohmann::json::object());
        for (const auto& [id, m] : modules.items()) {
            ModuleProgress mp;
            mp.state = m.value("state", "started");
            if (mp.state != "started" && mp.state != "passed")
                throw UserError(source + ": module " + id + " has unknown state '" + mp.state + "'", kProgressHint);
            mp.best_score = m.value("best_score", 0);
            mp.max_score = m.value("max_score", 0);
            mp.last_score = m.value("last_score", -1);
            mp.attempts = m.value("attempts", 0);
            mp.started_at = m.value("started_at", "");
            mp.last_tested_at = m.value("last_tested_at", "");
            mp.passed_at = m.value("passed_at", "");
            p.modules[id] = mp;
        }
        for (const auto& [name, m] : milestones.items()) {
            MilestoneProgress mp;
            mp.passed = m.value("passed", false);
            mp.attempts = m.value("attempts", 0);
            mp.last_run_at = m.value("last_run_at", "");
            mp.passed_at = m.value("passed_at", "");
            mp.best_metrics = m.value("best_metrics", nlohmann::json::object());
            mp.last_metrics = m.value("last_metrics", nlohmann::json::object());
            p.milestones[name] = mp;
        }
    } catch (const nlohmann::json::exception& e) {
        throw UserError(source + " has an unexpected structure (" + e.what() + ")", kProgressHint);
    }
    return p;
}

std::optional<fs::path> Workspace::find_root(const fs::path& start) {
    fs::path dir = fs::absolute(start);
    while (true) {
        if (fs::exists(dir / ".tito" / "workspace.json")) return dir;
        if (dir == dir.root_path() || !dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
}

Workspace Workspace::open(const fs::path& root) {
    Workspace ws;
    ws.root_ = root;
    load_json_file(root / ".tito" / "workspace.json",
                   "`tito workspace repair` restores the last copy tito committed and keeps the damaged file beside it");
    if (fs::exists(ws.progress_path()))
        ws.progress_ = Progress::from_json(load_json_file(ws.progress_path(), kProgressHint), ws.progress_path().string());
    return ws;
}

Workspace Workspace::create(const fs::path& root) {
    Workspace ws;
    ws.root_ = fs::absolute(root);
    fs::create_directories(ws.tito_dir());
    nlohmann::json marker = {{"format", 1}, {"course", "TinyTorch C++"}, {"created_at", utc_timestamp()},
                             {"tito_version", TITO_VERSION}};
    atomic_write_file(ws.tito_dir() / "workspace.json", marker.dump(2) + "\n");
    ws.save_progress();
    const fs::path gitignore = ws.root_ / ".gitignore";
    if (!fs::exists(gitignore)) atomic_write_file(gitignore, "# tito's build cache: rebuilt whenever needed\n.tito/build/\n");
    GitRepo::open_or_init(ws.root_);
    return ws;
}

void Workspace::save_progress() const { atomic_write_file(progress_path(), progress_.to_json().dump(2) + "\n"); }

std::vector<std::string> Workspace::missing_requirements(const Course& course, const ModuleInfo& m) const {
    std::vector<std::string> missing;
    for (const std::string& id : m.required) {
        auto it = progress_.modules.find(id);
        if (it == progress_.modules.end() || it->second.state != "passed") {
            const ModuleInfo* required = course.find(id);
            missing.push_back(required ? required->dir_name() : id);
        }
    }
    return missing;
}

std::vector<std::string> Workspace::missing_prerequisites(const Course& course, const ModuleInfo& m) const {
    std::set<std::string> seen;
    std::vector<std::string> pending = m.required;
    while (!pending.empty()) {
        const std::string id = pending.back();
        pending.pop_back();
        if (!seen.insert(id).second) continue;
        if (const ModuleInfo* required = course.find(id))
            pending.insert(pending.end(), required->required.begin(), required->required.end());
    }
    std::vector<std::string> missing;
    for (const ModuleInfo& module : course.modules()) {  // course order
        if (!seen.count(module.id)) continue;
        auto it = progress_.modules.find(module.id);
        if (it == progress_.modules.end() || it->second.state != "passed") missing.push_back(module.dir_name());
    }
    return missing;
}

std::string Workspace::module_state(const Course& course, const ModuleInfo& m) const {
    auto it = progress_.modules.find(m.id);
    if (it != progress_.modules.end()) return it->second.state;
    if (!m.has_content) return "coming";
    return missing_requirements(course, m).empty() ? "ready" : "locked";
}

void Workspace::write_compile_commands(const Course& course) const {
    nlohmann::json entries = nlohmann::json::array();
    for (const ModuleInfo& m : course.modules()) {
        if (!progress_.modules.count(m.id)) continue;
        for (const std::string& file : m.file_names()) {
            std::vector<std::string> arguments = compile_command(course, CompileMode::test, true);
            arguments.push_back("-c");
            arguments.push_back(file);
            entries.push_back({{"directory", module_dir(m).string()}, {"file", file}, {"arguments", arguments}});
        }
    }
    atomic_write_file(root_ / "compile_commands.json", entries.dump(2) + "\n");
}

Workspace open_current_workspace() {
    const auto root = Workspace::find_root(fs::current_path());
    if (root) return Workspace::open(*root);
    // .tito/ deleted: say how to get it back rather than how to start afresh.
    if (std::optional<StateInHistory> state = find_state_in_history(fs::current_path()))
        throw UserError(state->root.string() + " has no .tito/ folder, but its git history holds your workspace (commit " +
                            state->commit.short_id + ")",
                        "`tito workspace repair` restores it, your progress included");
    throw UserError("not inside a tito workspace (no .tito/workspace.json here or above)",
                    "start one with `tito module start 01`, or cd into your workspace");
}

std::optional<StateInHistory> find_state_in_history(const fs::path& start) {
    fs::path dir = fs::absolute(start);
    while (true) {
        if (GitRepo::exists(dir)) {  // the nearest repository decides
            std::optional<GitRepo> repo = GitRepo::open_existing(dir);
            // tito commits .tito/ with every snapshot: a workspace's state is in its recent history.
            for (const CommitInfo& commit : repo->history(10000))
                if (repo->read_file(commit.id, ".tito/workspace.json")) return StateInHistory{dir, commit};
            return std::nullopt;
        }
        if (dir == dir.root_path() || !dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
        dir = dir.parent_path();
    }
}

fs::path workspace_to_repair(const fs::path& start) {
    if (auto root = Workspace::find_root(start)) return *root;
    if (auto state = find_state_in_history(start)) return state->root;
    throw UserError("no tito workspace here or above, and no git history of one to restore it from",
                    "cd into your workspace folder; `tito module start 01` makes a new one");
}

RepairResult repair_workspace(const fs::path& root) {
    RepairResult result;
    result.root = root;
    std::optional<GitRepo> repo = GitRepo::open_existing(result.root);
    const std::vector<CommitInfo> history = repo ? repo->history() : std::vector<CommitInfo>{};

    // First a plan - which files, from which commit - so that nothing changes when a file that
    // matters cannot be restored.
    struct Step {
        RestoredFile restored;
        std::string content;
    };
    std::vector<Step> steps;
    std::vector<std::string> unrestorable_state;
    auto plan = [&](const std::string& file, bool (*valid)(const std::string&), bool needed) {
        const fs::path local = result.root / file;
        std::string why = "missing";
        if (fs::exists(local)) {
            std::string text;
            bool read = true;
            try {
                text = read_text_file(local);
            } catch (const UserError&) {
                read = false;
            }
            if (read && valid(text)) {
                result.intact.push_back(file);
                return;
            }
            why = "damaged";
        }
        for (const CommitInfo& commit : history) {
            std::optional<std::string> content = repo->read_file(commit.id, file);
            if (content && valid(*content)) {
                steps.push_back({{file, why, commit, ""}, *content});
                return;
            }
        }
        if (why == "damaged") {
            (needed ? unrestorable_state : result.unrestorable).push_back(file);
        }
    };
    plan(".tito/workspace.json", readable_marker, true);
    plan(".tito/progress.json", readable_progress, true);
    plan(".gitignore", [](const std::string&) { return true; }, false);
    std::set<std::string> results;
    if (fs::exists(result.root / ".tito" / "results"))
        for (const auto& entry : fs::directory_iterator(result.root / ".tito" / "results"))
            if (entry.path().extension() == ".json") results.insert(entry.path().filename().string());
    for (const CommitInfo& commit : history)
        for (const std::string& name : repo->list_folder(commit.id, ".tito/results"))
            if (fs::path(name).extension() == ".json") results.insert(name);
    for (const std::string& name : results) plan(".tito/results/" + name, readable_json, false);

    if (!unrestorable_state.empty()) {
        std::string files;
        for (const std::string& file : unrestorable_state) files += (files.empty() ? "" : ", ") + file;
        throw UserError(files + " " + (unrestorable_state.size() > 1 ? "are" : "is") + " damaged, and no commit in " +
                            result.root.string() + " has a readable copy; nothing was changed",
                        history.empty() ? "there is no git history to restore from; move the damaged file away to start afresh"
                                        : "move the damaged file away to start afresh (tito then counts from zero)");
    }
    for (Step& step : steps) {
        const fs::path local = result.root / step.restored.file;
        if (step.restored.why == "damaged") step.restored.kept_as = fs::relative(move_aside(local), result.root).string();
        atomic_write_file(local, step.content);
        result.restored.push_back(step.restored);
    }
    return result;
}

}  // namespace tito
