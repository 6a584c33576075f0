// course.h - the course as tito sees it: the 20 modules, where their content was installed, and
// the settings in configs/ (compiler, limits, grading).
//
// Installed layout (the build tree mirrors it under build/share/tinytorch):
//   <prefix>/bin/tito
//   <prefix>/share/tinytorch/
//       build.json                      how the libraries were built
//       configs/*.json                  compiler.json, limits.json, grading.json, ...
//       include/tinytorch/*.h           the API students code against
//       lib/libtt_core.a, libtt_NN_name.a, libtito_grader_main.a
//       graders/NN_name/libgrader.a, tests.json     hidden graders, compiled only
//       modules/NN_name/module.json, README.md, tests/, templates/
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sandbox.h"

namespace tito {

namespace fs = std::filesystem;

struct ModuleInfo {
    std::string id;     // "02"
    std::string name;   // "tensor"
    std::string title;  // "Tensors: storage, strides, views, ..."
    std::string phase;
    std::vector<std::string> required;   // module ids that should be passed first
    std::vector<std::string> files;       // reference sources, relative to the repository root
    std::vector<std::string> milestones;  // unlocked by passing this module
    bool has_content = false;             // a grader and templates are installed

    std::string dir_name() const { return id + "_" + name; }  // "02_tensor"
    // The student's file names: "tensor.cpp", ... (the last path component of each of `files`).
    std::vector<std::string> file_names() const;
};

struct CompilerConfig {
    std::string cxx = "g++";
    std::string standard = "c++20";
    std::vector<std::string> flags, test_flags, sanitize_flags, release_flags, link_flags;
};

class Course {
public:
    // Loads the course installed at `share` (see find_share_dir()).
    static Course load(const fs::path& share);

    const std::vector<ModuleInfo>& modules() const { return modules_; }
    // Accepts "9", "09", "spatial" and "09_spatial"; throws UserError (with a suggestion) otherwise.
    const ModuleInfo& resolve(const std::string& spec) const;
    const ModuleInfo* find(const std::string& id) const;

    fs::path share() const { return share_; }
    fs::path include_dir() const { return share_ / "include"; }
    fs::path lib_dir() const { return share_ / "lib"; }
    fs::path grader_dir(const ModuleInfo& m) const { return share_ / "graders" / m.dir_name(); }
    fs::path content_dir(const ModuleInfo& m) const { return share_ / "modules" / m.dir_name(); }
    fs::path template_path(const ModuleInfo& m, const std::string& file) const {
        return content_dir(m) / "templates" / file;
    }
    // The engine library of a module, or of the core ("core").
    fs::path engine_library(const std::string& dir_name) const { return lib_dir() / ("libtt_" + dir_name + ".a"); }

    const CompilerConfig& compiler() const { return compiler_; }
    const Limits& test_limits() const { return test_limits_; }
    double startup_seconds() const { return startup_seconds_; }
    double pass_fraction() const { return pass_fraction_; }
    const nlohmann::json& build_info() const { return build_info_; }
    // A config file from configs/, parsed (UserError when missing or corrupt).
    nlohmann::json config(const std::string& name) const;

private:
    fs::path share_;
    std::vector<ModuleInfo> modules_;
    CompilerConfig compiler_;
    Limits test_limits_;
    double startup_seconds_ = 5.0;
    double pass_fraction_ = 1.0;
    nlohmann::json build_info_;
};

// Edit distance (insertions, deletions, substitutions) between two words.
size_t edit_distance(const std::string& a, const std::string& b);
// The candidate closest to `word` - a typo (at most two edits, fewer for short words) or a
// prefix ("mod" for "module") - or "" when none is close: for "did you mean 'module'?".
std::string closest_word(const std::string& word, const std::vector<std::string>& candidates);

// The executable's own path (/proc/self/exe).
fs::path executable_path();
// The course data: $TITO_HOME when set, else <tito's folder>/../share/tinytorch. Throws a
// UserError saying how to fix a broken installation when it is missing.
fs::path find_share_dir();

}  // namespace tito
