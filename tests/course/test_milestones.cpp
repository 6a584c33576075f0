// Milestone integrity (TITO_MILESTONE, set per ctest entry), through the real tito:
//   1. the milestone passes on the reference engine (--reference) and on reference code that a
//      student "passed" with;
//   2. it is locked until its modules are passed; --force runs it without recording the result;
//   3. it fails when any required module is replaced by its template, or by a broken variant
//      (listed below per milestone), and the failure is recorded as such.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "e2e_support.h"

using namespace e2e;

namespace {

struct BrokenVariant {
    std::string module_dir, file, find, replace, why;
};

// Bugs that a milestone must expose. Each `find` must occur exactly once in the reference file.
std::vector<BrokenVariant> broken_variants(const std::string& milestone) {
    if (milestone == "perceptron")
        return {{"04_layers", "layers.cpp", "if (bias.defined()) y = y + bias;", "(void)0;",
                 "Linear ignores its bias: the separating line is forced through the origin"},
                {"02_tensor", "elementwise.cpp", "\"gt\", [](float x, float y) { return x > y ? 1.0f : 0.0f; }",
                 "\"gt\", [](float x, float y) { return x < y ? 1.0f : 0.0f; }", "gt compares the wrong way round"}};
    if (milestone == "xor")
        return {{"06_autograd", "nodes_activations.cpp", "[](float g, float v) { return v <= 0.0f ? 0.0f : g; }",
                 "[](float g, float v) { return v <= 0.0f ? g : 0.0f; }", "ReLU's gradient flows where the input was negative, not positive"}};
    return {};
}

nlohmann::json config_of(const std::string& milestone) {
    const nlohmann::json all = nlohmann::json::parse(read_file(source_dir() / "configs" / "milestones.json"));
    REQUIRE(all.contains(milestone));
    return all.at(milestone);
}

std::string dir_of(const std::string& id) {
    for (const auto& entry : fs::directory_iterator(source_dir() / "modules"))
        if (entry.path().filename().string().rfind(id + "_", 0) == 0) return entry.path().filename().string();
    FAIL("no module " << id);
    return "";
}

void mark_passed(const fs::path& workspace, const std::vector<std::string>& ids) {
    nlohmann::json progress = nlohmann::json::parse(read_file(workspace / ".tito" / "progress.json"));
    for (const std::string& id : ids) progress["modules"][id] = {{"state", "passed"}, {"best_score", 1}, {"max_score", 1}, {"last_score", 1}};
    write_file(workspace / ".tito" / "progress.json", progress.dump(2));
}

Run milestone(const fs::path& workspace, std::vector<std::string> args) {
    args.insert(args.begin(), "milestone");
    Run run = tito(args, workspace, {}, 900);
    return run;
}

}  // namespace

TEST_CASE("milestone integrity") {
    const char* name_env = std::getenv("TITO_MILESTONE");
    if (!name_env || !*name_env) FAIL("TITO_MILESTONE is not set: run through ctest (milestone_<name>)");
    const std::string name = name_env;
    const nlohmann::json config = config_of(name);
    const std::vector<std::string> required = config.at("requires").get<std::vector<std::string>>();

    TempDir ws("milestone-" + name);
    for (const std::string& id : required) {
        REQUIRE(tito({"module", "start", id, "--force", "-q"}, ws.path).exit_code == 0);
        drop_in_reference(ws.path, dir_of(id));
    }

    // Locked until its modules are passed; --force runs it but does not count.
    Run locked = milestone(ws.path, {"run", name});
    INFO(locked.text());
    CHECK(locked.exit_code == 2);
    CHECK_THAT(locked.err, Catch::Contains("is locked"));
    Run forced = milestone(ws.path, {"run", name, "--force"});
    INFO(forced.text());
    CHECK(forced.exit_code == 0);
    CHECK_THAT(forced.out, Catch::Contains("not recorded"));
    CHECK_FALSE(nlohmann::json::parse(read_file(ws.path / ".tito" / "progress.json")).at("milestones").contains(name));

    // The reference engine alone passes.
    Run reference = milestone(ws.path, {"run", name, "--reference"});
    INFO(reference.text());
    CHECK(reference.exit_code == 0);
    CHECK_THAT(reference.out, Catch::Contains("PASSED"));

    // A student whose required modules are passed (with correct code) passes, and it is recorded.
    mark_passed(ws.path, required);
    Run passing = milestone(ws.path, {"--json", "run", name});
    INFO(passing.text());
    REQUIRE(passing.exit_code == 0);
    nlohmann::json result = nlohmann::json::parse(passing.out);
    CHECK(result.at("passed") == true);
    CHECK(result.at("recorded") == true);
    CHECK(result.at("student_modules").size() == required.size());
    nlohmann::json progress = nlohmann::json::parse(read_file(ws.path / ".tito" / "progress.json"));
    CHECK(progress.at("milestones").at(name).at("passed") == true);
    Run status = tito({"--json", "milestone", "status"}, ws.path);
    bool listed = false;
    for (const auto& m : nlohmann::json::parse(status.out))
        if (m.at("name") == name) listed = m.at("state") == "passed";
    CHECK(listed);

    // Each required module replaced by its template: the milestone fails.
    for (const std::string& id : required) {
        const std::string dir = dir_of(id);
        INFO("template of " << dir);
        REQUIRE(tito({"module", "reset", id, "-q"}, ws.path).exit_code == 0);
        Run broken = milestone(ws.path, {"run", name});
        INFO(broken.text());
        CHECK(broken.exit_code == 1);
        CHECK_THAT(broken.out, Catch::Contains("NOT PASSED"));
        CHECK_THAT(broken.out, Catch::Contains("not implemented"));
        drop_in_reference(ws.path, dir);
    }

    // Known-buggy variants: the milestone fails.
    for (const BrokenVariant& variant : broken_variants(name)) {
        INFO("broken variant in " << variant.module_dir << "/" << variant.file << ": " << variant.why);
        const fs::path file = ws.path / variant.module_dir / variant.file;
        std::string text = read_file(file);
        const size_t at = text.find(variant.find);
        REQUIRE(at != std::string::npos);
        REQUIRE(text.find(variant.find, at + 1) == std::string::npos);
        text.replace(at, variant.find.size(), variant.replace);
        write_file(file, text);
        Run broken = milestone(ws.path, {"--json", "run", name});
        INFO(broken.text());
        CHECK(broken.exit_code == 1);
        CHECK(nlohmann::json::parse(broken.out).at("passed") == false);
        drop_in_reference(ws.path, variant.module_dir);
    }
    CHECK_FALSE(broken_variants(name).empty());
}
