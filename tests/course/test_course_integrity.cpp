// Course integrity: for one module with content (TITO_MODULE, set per ctest entry), through the
// real tito in a fresh workspace:
//   1. the generated template compiles, links and scores 0;
//   2. the reference implementation scores full marks;
//   3. every known-buggy variant in tests/course/mutants/<module>.json loses points.
// Plus the module's files, lesson and visible tests are where module.json says.
//
// Cost: a mutant is graded without sanitizers (its one changed file recompiles in about a second,
// where AddressSanitizer would take several) and stops at its first failing test (-x), which is
// all "loses points" needs. A mutant whose bug only a sanitizer sees says "sanitize": true.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <set>

#include "e2e_support.h"

using namespace e2e;

namespace {

std::string module_under_test() {
    const char* module = std::getenv("TITO_MODULE");
    if (!module || !*module) FAIL("TITO_MODULE is not set: run through ctest (course_NN_name)");
    return module;
}

nlohmann::json grade(const fs::path& workspace, const std::string& id, const std::vector<std::string>& options = {}) {
    std::vector<std::string> args = {"test", id, "--format", "json"};
    args.insert(args.end(), options.begin(), options.end());
    Run run = tito(args, workspace);
    INFO(run.err);
    REQUIRE(run.exit_code != 2);
    return nlohmann::json::parse(run.out);
}

std::string summary(const nlohmann::json& report) {
    std::string text = report.value("message", "") + "\n";
    for (const auto& t : report.at("tests"))
        if (t.at("status") != "passed") text += "  " + t.at("name").get<std::string>() + ": " + t.at("reason").get<std::string>() + "\n";
    return text;
}

}  // namespace

TEST_CASE("course integrity of one module") {
    const std::string module = module_under_test();
    const std::string id = module.substr(0, 2);
    const fs::path source = source_dir();
    const nlohmann::json info = nlohmann::json::parse(read_file(source / "modules" / module / "module.json"));

    SECTION("module.json lists exactly the reference sources, and the lesson and visible tests exist") {
        std::set<std::string> listed, present;
        for (const auto& file : info.at("files")) listed.insert(file.get<std::string>());
        for (const auto& entry : fs::directory_iterator(source / "engine" / "src" / module))
            if (entry.path().extension() == ".cpp") present.insert("engine/src/" + module + "/" + entry.path().filename().string());
        CHECK(listed == present);
        CHECK(fs::exists(source / "modules" / module / "README.md"));
        CHECK(fs::exists(source / "modules" / module / "tests"));
    }

    SECTION("template scores 0, reference scores full marks, every mutant loses points") {
        TempDir workspace("course-" + module);
        Run start = tito({"module", "start", id, "--force", "-q"}, workspace.path);
        INFO(start.err);
        REQUIRE(start.exit_code == 0);

        nlohmann::json template_report = grade(workspace.path, id);
        INFO("template:\n" << summary(template_report));
        CHECK(template_report.at("outcome") == "graded");  // compiles, links, starts
        CHECK(template_report.at("max_score").get<int>() > 0);
        CHECK(template_report.at("score") == 0);

        drop_in_reference(workspace.path, module);
        nlohmann::json reference_report = grade(workspace.path, id);
        INFO("reference:\n" << summary(reference_report));
        CHECK(reference_report.at("outcome") == "graded");
        CHECK(reference_report.at("score") == reference_report.at("max_score"));

        const fs::path mutants_file = source / "tests" / "course" / "mutants" / (module + ".json");
        REQUIRE(fs::exists(mutants_file));
        const nlohmann::json mutants = nlohmann::json::parse(read_file(mutants_file));
        CHECK(mutants.size() >= 5);
        for (const nlohmann::json& mutant : mutants) {
            const std::string name = mutant.at("name");
            const std::string file = mutant.at("file");
            const std::string find = mutant.at("find");
            INFO("mutant " << name << " (" << mutant.value("why", "") << ") in " << file);
            drop_in_reference(workspace.path, module);
            const fs::path target = workspace.path / module / file;
            std::string text = read_file(target);
            const size_t at = text.find(find);
            REQUIRE(at != std::string::npos);                              // the reference still has this text
            REQUIRE(text.find(find, at + 1) == std::string::npos);         // exactly once
            text.replace(at, find.size(), mutant.at("replace").get<std::string>());
            write_file(target, text);
            std::vector<std::string> options = {"--exitfirst"};
            if (!mutant.value("sanitize", false)) options.push_back("--no-sanitize");
            nlohmann::json report = grade(workspace.path, id, options);
            INFO(summary(report));
            CHECK(report.at("outcome") == "graded");  // a mutant that does not compile proves nothing
            CHECK(report.at("score").get<int>() < report.at("max_score").get<int>());
        }
    }
}
