// workspace.cpp - see workspace.h.
#include "workspace.h"

#include "compiler.h"
#include "errors.h"
#include "files.h"
#include "git_repo.h"

namespace tito {

namespace {

const char* kProgressHint =
    "restore it with `git checkout -- .tito/progress.json` in the workspace (tito commits it after every test), "
    "or move it away to start counting afresh";

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
                   "restore it with `git checkout -- .tito/workspace.json` in the workspace");
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

std::string Workspace::module_state(const Course& course, const ModuleInfo& m) const {
    auto it = progress_.modules.find(m.id);
    if (it != progress_.modules.end()) return it->second.state;
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
    auto root = Workspace::find_root(fs::current_path());
    if (!root)
        throw UserError("not inside a tito workspace (no .tito/workspace.json here or above)",
                        "start one with `tito module start 01`, or cd into your workspace");
    return Workspace::open(*root);
}

}  // namespace tito
