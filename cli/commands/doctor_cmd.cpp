// doctor_cmd.cpp - `tito doctor`: one line per check, a hint for every problem.
#include "commands/doctor_cmd.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "compiler.h"
#include "course.h"
#include "datasets.h"
#include "errors.h"
#include "files.h"
#include "git_repo.h"
#include "term.h"
#include "workspace.h"

namespace tito {

namespace {

struct Check {
    std::string name;
    std::string status;  // ok, warn, fail
    std::string detail;
    std::string hint;
};

void check_compiler(const Course& course, std::vector<Check>& checks) {
    std::string cxx;
    try {
        cxx = find_compiler(course);
    } catch (const UserError& e) {
        checks.push_back({"compiler", "fail", e.what(), e.hint()});
        return;
    }
    ToolOutput version = run_tool({cxx, "--version"}, {});
    std::string first = version.output.substr(0, version.output.find('\n'));

    // Compile and run a tiny C++20 program with the sanitizers, exactly as tito test does.
    const fs::path scratch = fs::temp_directory_path() / ("tito-doctor-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    atomic_write_file(scratch / "probe.cpp",
                      "#include <span>\n#include <vector>\nint main() { std::vector<int> v{1, 2, 3}; std::span<int> s(v); "
                      "return s.size() == 3 ? 0 : 1; }\n");
    std::vector<std::string> argv = compile_command(course, CompileMode::test, true);
    argv.insert(argv.end(), {"probe.cpp", "-o", "probe"});
    ToolOutput build = run_tool(argv, scratch);
    bool ran = build.exit_code == 0 && run_tool({(scratch / "probe").string()}, scratch).exit_code == 0;
    fs::remove_all(scratch);
    if (!ran) {
        checks.push_back({"compiler", "fail", first + ": cannot build a C++20 program with the sanitizers",
                          "install g++ 10 or newer with its sanitizer runtimes (`sudo apt-get install g++`); the error was: " +
                              build.output.substr(0, build.output.find('\n'))});
        return;
    }
    checks.push_back({"compiler", "ok", first + " (" + cxx + "), C++20 with AddressSanitizer and UBSan", ""});
}

void check_engine(const Course& course, std::vector<Check>& checks) {
    std::vector<std::string> missing;
    int graded = 0;
    for (const char* lib : {"libtt_core.a", "libtito_grader_main.a"})
        if (!fs::exists(course.lib_dir() / lib)) missing.push_back(lib);
    for (const ModuleInfo& m : course.modules()) {
        if (!m.has_content) continue;
        ++graded;
        for (const fs::path& needed : {course.engine_library(m.dir_name()), course.grader_dir(m) / "libgrader.a"})
            if (!fs::exists(needed)) missing.push_back(needed.filename().string() + " of " + m.dir_name());
        for (const std::string& file : m.file_names())
            if (!fs::exists(course.template_path(m, file))) missing.push_back("template " + m.dir_name() + "/" + file);
    }
    if (!missing.empty()) {
        checks.push_back({"engine", "fail", "missing " + missing.front() + (missing.size() > 1 ? " and " + std::to_string(missing.size() - 1) + " more" : ""),
                          "rebuild (cmake --build build) or reinstall tito"});
        return;
    }
    checks.push_back({"engine", "ok", std::to_string(graded) + " modules with graders, libraries in " + course.lib_dir().string(), ""});
}

void check_openblas(std::vector<Check>& checks) {
    void* handle = ::dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        checks.push_back({"openblas", "warn", "libopenblas.so.0 not found (needed from module 15 on)",
                          "sudo apt-get install libopenblas-dev"});
        return;
    }
    using GetText = char* (*)();
    auto config = reinterpret_cast<GetText>(::dlsym(handle, "openblas_get_config"));
    auto corename = reinterpret_cast<GetText>(::dlsym(handle, "openblas_get_corename"));
    std::string detail = config ? config() : "found";
    std::string core = corename ? corename() : "";
    ::dlclose(handle);
    // Virtual machines often hide the CPU model; OpenBLAS then falls back to 2004-era kernels.
    const char* better = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
    if (core == "Prescott" && better && !std::getenv("OPENBLAS_CORETYPE")) {
        checks.push_back({"openblas", "warn", detail + ": slow Prescott kernels on a CPU that has " +
                                                   (std::string(better) == "SkylakeX" ? "AVX-512" : "AVX2"),
                          std::string("export OPENBLAS_CORETYPE=") + better + " (OpenBLAS did not recognise this CPU model)"});
        return;
    }
    checks.push_back({"openblas", "ok", detail, ""});
}

void check_workspace(const Course& course, std::vector<Check>& checks) {
    auto root = Workspace::find_root(fs::current_path());
    if (!root) {
        checks.push_back({"workspace", "ok", "not inside a workspace (`tito module start 01` creates one here)", ""});
        return;
    }
    try {
        Workspace workspace = Workspace::open(*root);
        std::string problems;
        for (const auto& [id, progress] : workspace.progress().modules) {
            const ModuleInfo* m = course.find(id);
            if (!m) continue;
            for (const std::string& file : m->file_names())
                if (!fs::exists(workspace.module_dir(*m) / file)) problems += " " + m->dir_name() + "/" + file;
        }
        if (!problems.empty()) {
            checks.push_back({"workspace", "fail", "missing files:" + problems,
                              "`tito module start <N>` restores missing files, keeping the others"});
            return;
        }
        if (!GitRepo::exists(*root)) {
            checks.push_back({"workspace", "fail", root->string() + " has no git repository",
                              "`tito module start <N>` of any started module creates it again"});
            return;
        }
        GitRepo repo = GitRepo::open_or_init(*root);
        checks.push_back({"workspace", "ok",
                          root->string() + ", " + std::to_string(workspace.progress().modules.size()) + (workspace.progress().modules.size() == 1 ? " module" : " modules") + " started, commit " +
                              (repo.head().empty() ? "none" : repo.head()),
                          ""});
    } catch (const UserError& e) {
        checks.push_back({"workspace", "fail", e.what(), e.hint()});
    }
}

// The data sets, found by the same look-up as `tito data` and the engine's find_dataset (no
// reading of the files here: `tito data verify` does that; a failed last verify is reported).
void check_data(std::vector<Check>& checks) {
    if (const char* dir = std::getenv("TITO_DATA_DIR"); dir && *dir && !fs::is_directory(dir)) {
        checks.push_back({"data", "fail", std::string("TITO_DATA_DIR=") + dir + " is not a folder",
                          "point TITO_DATA_DIR at a folder holding mnist/, cifar10/, tinyshakespeare/, or unset it"});
        return;
    }
    std::optional<Catalog> catalog;
    try {
        catalog = Catalog::load_default();
    } catch (const UserError& e) {
        checks.push_back({"data", "fail", e.what(), e.hint()});
        return;
    }
    std::vector<std::pair<std::string, std::string>> found;  // (where, name)
    std::vector<std::string> missing, failed;
    for (const DatasetSpec& spec : catalog->datasets()) {
        const auto at = locate(spec);
        if (!at) {
            missing.push_back(spec.name);
            continue;
        }
        found.emplace_back(at->root.path.string() + " (" + at->root.label + ")", spec.name);
        if (const auto record = last_verify(spec.name, at->dataset_dir); record && !record->ok && record->signature == files_signature(spec, at->dataset_dir))
            failed.push_back(spec.name);
    }
    // "mnist, cifar10 in /data (TITO_DATA_DIR); fashion-mnist in /usr/share/datasets (system)"
    std::string detail;
    for (size_t i = 0; i < found.size(); ++i) {
        bool first_of_place = true;
        for (size_t j = 0; j < i; ++j) first_of_place = first_of_place && found[j].first != found[i].first;
        if (!first_of_place) continue;
        std::string names;
        for (const auto& [place, name] : found)
            if (place == found[i].first) names += (names.empty() ? "" : ", ") + name;
        detail += (detail.empty() ? "" : "; ") + names + " in " + found[i].first;
    }
    auto commands = [](const std::vector<std::string>& names, const std::string& verb) {
        std::string text;
        for (const std::string& name : names) text += (text.empty() ? "" : ", ") + std::string("`tito data ") + verb + " " + name + "`";
        return text;
    };
    auto listed = [](const std::vector<std::string>& names) {
        std::string text;
        for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
        return text;
    };
    if (!failed.empty()) {
        checks.push_back({"data", "warn", detail + "; the last verify of " + listed(failed) + " failed", commands(failed, "verify") + " says what is wrong"});
        return;
    }
    if (found.empty()) {
        checks.push_back({"data", "warn", "no data sets found (needed from module 07 on): " + listed(missing) + " missing",
                          commands(missing, "fetch") + ", or set TITO_DATA_DIR to a folder holding them"});
        return;
    }
    if (!missing.empty()) {
        checks.push_back({"data", "warn", detail + "; missing " + listed(missing), commands(missing, "fetch")});
        return;
    }
    checks.push_back({"data", "ok", detail, ""});
}

int run_doctor() {
    std::vector<Check> checks;
    std::optional<Course> course;
    try {
        fs::path share = find_share_dir();
        course = Course::load(share);
        checks.push_back({"tito", "ok", "version " TITO_VERSION ", course data in " + share.string(), ""});
    } catch (const UserError& e) {
        checks.push_back({"tito", "fail", e.what(), e.hint()});
    }
    if (course) {
        check_compiler(*course, checks);
        check_engine(*course, checks);
    }
    check_openblas(checks);
    if (course) check_workspace(*course, checks);
    check_data(checks);

    bool ok = std::none_of(checks.begin(), checks.end(), [](const Check& c) { return c.status == "fail"; });
    if (console().json) {
        nlohmann::json out = nlohmann::json::array();
        for (const Check& c : checks) out.push_back({{"check", c.name}, {"status", c.status}, {"detail", c.detail}, {"hint", c.hint}});
        std::cout << nlohmann::json{{"ok", ok}, {"checks", out}}.dump(2) << "\n";
        return ok ? kExitOk : kExitFailed;
    }
    for (const Check& c : checks) {
        Color color = c.status == "ok" ? Color::green : c.status == "warn" ? Color::yellow : Color::red;
        std::string label = c.status;
        label.resize(5, ' ');
        std::string name = c.name;
        name.resize(10, ' ');
        std::cout << paint(label, color) << name << c.detail;
        if (!c.hint.empty()) std::cout << paint("  (hint: " + c.hint + ")", Color::dim);
        std::cout << "\n";
    }
    if (!ok) std::cout << "\nSome checks failed; each line above says how to fix it.\n";
    return ok ? kExitOk : kExitFailed;
}

}  // namespace

void setup_doctor(CLI::App& app, CommandRunner& run) {
    CLI::App* doctor = app.add_subcommand("doctor", "Check the compiler, the engine, OpenBLAS, your workspace and data");
    doctor->callback([&run] { run = run_doctor; });
}

}  // namespace tito
