// course.cpp - see course.h.
#include "course.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "errors.h"
#include "files.h"

namespace tito {

std::vector<std::string> ModuleInfo::file_names() const {
    std::vector<std::string> names;
    for (const std::string& file : files) names.push_back(fs::path(file).filename().string());
    return names;
}

fs::path executable_path() {
    char buffer[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
    if (n <= 0) throw UserError("cannot find tito's own location (/proc/self/exe)", "is /proc mounted?");
    return fs::path(std::string(buffer, static_cast<size_t>(n)));
}

fs::path find_share_dir() {
    if (const char* home = std::getenv("TITO_HOME"); home && *home) {
        fs::path share(home);
        if (!fs::exists(share / "build.json"))
            throw UserError("TITO_HOME=" + share.string() + " does not contain the course data (no build.json)",
                            "unset TITO_HOME, or point it at <prefix>/share/tinytorch");
        return share;
    }
    fs::path share = executable_path().parent_path().parent_path() / "share" / "tinytorch";
    if (!fs::exists(share / "build.json"))
        throw UserError("the course data is missing: expected it at " + share.string(),
                        "rebuild (cmake --build build) or reinstall (cmake --install build --prefix <prefix>)");
    return share;
}

namespace {

std::vector<std::string> string_list(const nlohmann::json& j, const char* key) {
    std::vector<std::string> out;
    if (j.contains(key))
        for (const auto& item : j.at(key)) out.push_back(item.get<std::string>());
    return out;
}

}  // namespace

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string closest_word(const std::string& word, const std::vector<std::string>& candidates) {
    if (word.empty()) return "";
    std::string best;
    size_t best_distance = word.size() <= 3 ? 1 : 2;  // "tst" -> "test", but "ab" is no typo of "doctor"
    bool found = false;
    for (const std::string& candidate : candidates) {
        const size_t d = edit_distance(word, candidate);
        if (d <= best_distance && (!found || d < best_distance)) {
            best = candidate;
            best_distance = d;
            found = true;
        }
    }
    if (found) return best;
    for (const std::string& candidate : candidates)
        if (word.size() >= 2 && candidate.rfind(word, 0) == 0) return candidate;
    return "";
}

Course Course::load(const fs::path& share) {
    Course course;
    course.share_ = share;
    const std::string reinstall = "the installation is damaged: rebuild or reinstall tito";
    course.build_info_ = load_json_file(share / "build.json", reinstall);

    std::vector<fs::path> module_files;
    if (fs::exists(share / "modules"))
        for (const auto& entry : fs::directory_iterator(share / "modules"))
            if (fs::exists(entry.path() / "module.json")) module_files.push_back(entry.path() / "module.json");
    std::sort(module_files.begin(), module_files.end());
    if (module_files.empty()) throw UserError("no modules found in " + (share / "modules").string(), reinstall);

    for (const fs::path& file : module_files) {
        nlohmann::json j = load_json_file(file, reinstall);
        ModuleInfo m;
        try {
            m.id = j.at("id").get<std::string>();
            m.name = j.at("name").get<std::string>();
            m.title = j.value("title", m.name);
            m.phase = j.value("phase", "");
            m.required = string_list(j, "requires");
            m.files = string_list(j, "files");
            m.milestones = string_list(j, "milestones");
        } catch (const nlohmann::json::exception& e) {
            throw UserError(file.string() + ": " + e.what(), reinstall);
        }
        m.has_content = fs::exists(share / "graders" / m.dir_name() / "tests.json");
        course.modules_.push_back(std::move(m));
    }

    const nlohmann::json compiler = course.config("compiler.json");
    CompilerConfig& c = course.compiler_;
    c.cxx = compiler.value("cxx", c.cxx);
    c.standard = compiler.value("std", c.standard);
    c.flags = string_list(compiler, "flags");
    c.test_flags = string_list(compiler, "test_flags");
    c.sanitize_flags = string_list(compiler, "sanitize_flags");
    c.release_flags = string_list(compiler, "release_flags");
    c.link_flags = string_list(compiler, "link_flags");

    const nlohmann::json limits = course.config("limits.json");
    const nlohmann::json test = limits.value("test", nlohmann::json::object());
    Limits& l = course.test_limits_;
    l.wall_seconds = test.value("wall_seconds", l.wall_seconds);
    l.cpu_seconds = test.value("cpu_seconds", l.cpu_seconds);
    l.memory_mib = test.value("memory_mib", l.memory_mib);
    l.max_processes = test.value("max_processes", l.max_processes);
    l.file_size_mib = test.value("file_size_mib", l.file_size_mib);
    l.output_kib = test.value("output_kib", l.output_kib);
    course.startup_seconds_ = limits.value("startup_seconds", course.startup_seconds_);
    course.pass_fraction_ = course.config("grading.json").value("pass_fraction", 1.0);
    return course;
}

nlohmann::json Course::config(const std::string& name) const {
    const fs::path path = share_ / "configs" / name;
    if (!fs::exists(path)) throw UserError("missing course setting " + path.string(), "rebuild or reinstall tito");
    return load_json_file(path, "fix the JSON syntax, or rebuild/reinstall tito to restore it");
}

const ModuleInfo* Course::find(const std::string& id) const {
    for (const ModuleInfo& m : modules_)
        if (m.id == id) return &m;
    return nullptr;
}

const ModuleInfo& Course::resolve(const std::string& spec) const {
    std::string wanted = spec;
    // "9" -> "09"
    if (!wanted.empty() && std::all_of(wanted.begin(), wanted.end(), ::isdigit) && wanted.size() < 3) {
        int number = std::stoi(wanted);
        char text[8];
        std::snprintf(text, sizeof text, "%02d", number);
        wanted = text;
    }
    for (const ModuleInfo& m : modules_)
        if (m.id == wanted || m.name == wanted || m.dir_name() == wanted) return m;

    std::string hint = "`tito module list` shows the " + std::to_string(modules_.size()) +
                       " modules; name one by number (9, 09) or name (spatial)";
    size_t best = 3;
    const ModuleInfo* suggestion = nullptr;
    for (const ModuleInfo& m : modules_) {
        size_t d = std::min(edit_distance(spec, m.name), edit_distance(spec, m.dir_name()));
        if (d < best) {
            best = d;
            suggestion = &m;
        }
    }
    if (suggestion) hint = "did you mean '" + suggestion->dir_name() + "'? " + hint;
    throw UserError("unknown module '" + spec + "'", hint);
}

}  // namespace tito
