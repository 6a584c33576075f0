// End to end: a student's session with the real tito, in a temporary folder.
#include <catch2/catch.hpp>
#include <map>

#include "e2e_support.h"

using namespace e2e;

namespace {

nlohmann::json progress_of(const fs::path& workspace) {
    return nlohmann::json::parse(read_file(workspace / ".tito" / "progress.json"));
}

}  // namespace

TEST_CASE("workflow: start 01, fail the tests, solve, pass", "[workflow]") {
    TempDir ws("workflow");
    Run start = tito({"module", "start", "01"}, ws.path);
    INFO(start.text());
    REQUIRE(start.exit_code == 0);
    CHECK_THAT(start.out, Catch::Contains("01_setup/setup.cpp"));
    CHECK(fs::exists(ws.path / "01_setup" / "setup.cpp"));
    CHECK(fs::exists(ws.path / "01_setup" / "README.md"));
    CHECK(fs::exists(ws.path / "01_setup" / "tests"));
    CHECK(fs::exists(ws.path / ".tito" / "workspace.json"));
    CHECK(fs::exists(ws.path / ".git"));
    CHECK_THAT(read_file(ws.path / "compile_commands.json"), Catch::Contains("setup.cpp"));
    CHECK_THAT(read_file(ws.path / "01_setup" / "setup.cpp"), Catch::Contains("NotImplemented"));
    CHECK_THAT(read_file(ws.path / "01_setup" / "setup.cpp"), !Catch::Contains("Ada Lovelace"));
    const int commits_after_start = commit_count(ws.path);
    CHECK(commits_after_start >= 1);

    // The untouched template fails every test, from inside the module folder too.
    Run failing = tito({"test"}, ws.path / "01_setup");
    INFO(failing.text());
    CHECK(failing.exit_code == 1);
    CHECK_THAT(failing.out, Catch::Contains("score 0/"));
    CHECK_THAT(failing.out, Catch::Contains("not implemented"));
    nlohmann::json first = results(ws.path, "01_setup");
    CHECK(first.at("score") == 0);
    CHECK(progress_of(ws.path).at("modules").at("01").at("state") == "started");

    // The reference solution passes.
    drop_in_reference(ws.path, "01_setup");
    Run passing = tito({"test", "01"}, ws.path);
    INFO(passing.text());
    CHECK(passing.exit_code == 0);
    nlohmann::json second = results(ws.path, "01_setup");
    CHECK(second.at("score") == second.at("max_score"));
    nlohmann::json progress = progress_of(ws.path);
    CHECK(progress.at("modules").at("01").at("state") == "passed");
    CHECK(progress.at("modules").at("01").at("attempts") == 2);
    CHECK(progress.at("modules").at("01").at("best_score") == second.at("max_score"));
    CHECK(commit_count(ws.path) == commits_after_start + 2);  // one snapshot per test run

    // Status shows it; module 02 is now ready rather than locked.
    Run status = tito({"--json", "status"}, ws.path);
    REQUIRE(status.exit_code == 0);
    nlohmann::json modules = nlohmann::json::parse(status.out).at("modules");
    CHECK(modules.at(0).at("state") == "passed");
    CHECK(modules.at(1).at("state") == "ready");
    CHECK(modules.at(2).at("state") == "locked");
    Run table = tito({"status"}, ws.path);
    CHECK_THAT(table.out, Catch::Contains("passed") && Catch::Contains("1 of 20 modules passed"));
}

TEST_CASE("workflow: a second start keeps the student's edits and restores missing files", "[workflow]") {
    TempDir ws("restart");
    REQUIRE(tito({"module", "start", "1"}, ws.path).exit_code == 0);
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    const std::string edited = read_file(file) + "\n// my notes: identity first\n";
    write_file(file, edited);
    fs::remove(ws.path / "01_setup" / "README.md");

    Run again = tito({"module", "start", "setup"}, ws.path);
    INFO(again.text());
    REQUIRE(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("kept"));
    CHECK(read_file(file) == edited);
    CHECK(fs::exists(ws.path / "01_setup" / "README.md"));
}

TEST_CASE("workflow: starting 02 before 01 is passed warns, --force does not", "[workflow]") {
    TempDir ws("order");
    Run warned = tito({"module", "start", "02"}, ws.path);
    CHECK(warned.exit_code == 0);
    CHECK_THAT(warned.err, Catch::Contains("warning") && Catch::Contains("01_setup"));
    Run forced = tito({"module", "start", "02_tensor", "--force"}, ws.path);
    CHECK(forced.exit_code == 0);
    CHECK_THAT(forced.err, !Catch::Contains("warning"));
    for (const char* file : {"tensor.cpp", "elementwise.cpp", "reductions.cpp", "matmul.cpp"})
        CHECK(fs::exists(ws.path / "02_tensor" / file));
}

TEST_CASE("workflow: module reset commits the student's files, then restores the templates", "[workflow]") {
    TempDir ws("reset");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    const std::string template_text = read_file(file);
    write_file(file, template_text + "// precious work\n");

    Run reset = tito({"module", "reset", "01"}, ws.path);
    INFO(reset.text());
    REQUIRE(reset.exit_code == 0);
    CHECK(read_file(file) == template_text);
    // The saved commit still has the student's version.
    Run show = run({"/usr/bin/git", "-C", ws.path.string(), "log", "-p", "--all"}, ws.path);
    CHECK_THAT(show.out, Catch::Contains("precious work"));
}

TEST_CASE("workflow: module list shows all 20 modules, with states inside a workspace", "[workflow]") {
    TempDir ws("list");
    Run outside = tito({"module", "list"}, ws.path);
    REQUIRE(outside.exit_code == 0);
    CHECK_THAT(outside.out, Catch::Contains("tensor") && Catch::Contains("capstone"));
    Run json = tito({"--json", "module", "list"}, ws.path);
    REQUIRE(json.exit_code == 0);
    nlohmann::json modules = nlohmann::json::parse(json.out);
    REQUIRE(modules.size() == 20);
    CHECK(modules.at(8).at("id") == "09");
    CHECK(modules.at(8).at("name") == "spatial");
    CHECK_FALSE(modules.at(0).contains("state"));

    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    nlohmann::json inside = nlohmann::json::parse(tito({"--json", "module", "list"}, ws.path).out);
    CHECK(inside.at(0).at("state") == "started");
    CHECK(inside.at(1).at("state") == "locked");
}

TEST_CASE("workflow: tito --help, --version and doctor", "[workflow]") {
    TempDir ws("help");
    Run help = tito({"--help"}, ws.path);
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("module") && Catch::Contains("test") && Catch::Contains("doctor"));
    Run version = tito({"--version"}, ws.path);
    CHECK(version.exit_code == 0);
    CHECK_THAT(version.out, Catch::StartsWith("tito "));
    Run doctor = tito({"doctor"}, ws.path);
    INFO(doctor.text());
    CHECK(doctor.exit_code == 0);
    CHECK_THAT(doctor.out, Catch::Contains("compiler") && Catch::Contains("engine") && Catch::Contains("workspace"));
    Run doctor_json = tito({"--json", "doctor"}, ws.path);
    CHECK(nlohmann::json::parse(doctor_json.out).at("ok") == true);
}

TEST_CASE("workflow: tito help works as in git", "[workflow]") {
    TempDir ws("help-command");
    Run help = tito({"help"}, ws.path);
    INFO(help.text());
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("Usage: tito") && Catch::Contains("Commands:") && Catch::Contains("workspace") &&
                             Catch::Contains("completion"));
    Run module = tito({"help", "module"}, ws.path);
    CHECK(module.exit_code == 0);
    CHECK_THAT(module.out, Catch::Contains("Usage: tito module") && Catch::Contains("start") && Catch::Contains("reset"));
    Run start = tito({"help", "module", "start"}, ws.path);
    CHECK(start.exit_code == 0);
    CHECK_THAT(start.out, Catch::Contains("Usage: tito module start") && Catch::Contains("--force"));
    CHECK(start.out == tito({"module", "start", "--help"}, ws.path).out);  // the same as --help
    Run run = tito({"help", "milestone", "run"}, ws.path);
    CHECK_THAT(run.out, Catch::Contains("Usage: tito milestone run") && Catch::Contains("--reference"));
    CHECK(tito({"help", "workspace", "repair"}, ws.path).exit_code == 0);
    // A command group without its subcommand shows its help - a usage error, as in git.
    Run bare = tito({}, ws.path);
    CHECK(bare.exit_code == 2);
    CHECK_THAT(bare.out, Catch::Contains("Usage: tito") && Catch::Contains("module"));
    Run group = tito({"module"}, ws.path);
    CHECK(group.exit_code == 2);
    CHECK_THAT(group.out, Catch::Contains("Usage: tito module") && Catch::Contains("list"));
    CHECK_THAT(bare.text() + group.text(), !Catch::Contains("A subcommand is required"));
    CHECK_FALSE(fs::exists(ws.path / ".tito"));
}

TEST_CASE("workflow: modules and milestones without content are coming, not ready", "[workflow]") {
    // 15_acceleration and the mlperf milestone (after 19) have no content in this release.
    TempDir ws("coming");
    // Outside a workspace: the list says which modules and milestones are still to come.
    nlohmann::json modules_outside = nlohmann::json::parse(tito({"--json", "module", "list"}, ws.path).out);
    CHECK(modules_outside.at(13).at("id") == "14");
    CHECK(modules_outside.at(13).at("available") == true);
    CHECK(modules_outside.at(14).at("id") == "15");
    CHECK(modules_outside.at(14).at("available") == false);
    nlohmann::json milestones_outside = nlohmann::json::parse(tito({"--json", "milestone", "list"}, ws.path).out);
    std::vector<std::string> names;
    for (const auto& m : milestones_outside) names.push_back(m.at("name"));
    CHECK(names == std::vector<std::string>{"perceptron", "xor", "mlp", "lenet", "alexnet", "gpt", "mlperf"});
    CHECK(milestones_outside.at(5).at("year") == 2018);
    CHECK(milestones_outside.at(5).at("after") == "14");
    CHECK(milestones_outside.at(5).at("available") == true);
    CHECK(milestones_outside.at(6).at("after") == "19");
    CHECK(milestones_outside.at(6).at("available") == false);
    CHECK(milestones_outside.at(1).at("available") == true);
    CHECK_THAT(tito({"milestone", "list"}, ws.path).out, Catch::Contains("mlperf") && Catch::Contains("(coming later)"));

    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    REQUIRE(tito({"test", "01"}, ws.path).exit_code == 0);
    // Everything up to 14 is passed, so 15 - which has no content - would be "ready".
    nlohmann::json progress = nlohmann::json::parse(read_file(ws.path / ".tito" / "progress.json"));
    for (const char* id : {"02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14"})
        progress["modules"][id] = {{"state", "passed"}, {"best_score", 1}, {"max_score", 1}, {"last_score", 1}};
    write_file(ws.path / ".tito" / "progress.json", progress.dump(2));

    nlohmann::json status = nlohmann::json::parse(tito({"--json", "status"}, ws.path).out);
    CHECK(status.at("modules").at(13).at("state") == "passed");
    CHECK(status.at("modules").at(14).at("state") == "coming");  // 15_acceleration
    CHECK(status.at("modules").at(16).at("state") == "coming");
    std::map<std::string, std::string> milestone_states;
    for (const auto& m : status.at("milestones")) milestone_states[m.at("name")] = m.at("state");
    CHECK(milestone_states.at("xor") == "ready");
    CHECK(milestone_states.at("gpt") == "ready");
    CHECK(milestone_states.at("mlperf") == "coming");
    Run table = tito({"status"}, ws.path);
    REQUIRE(table.out.find("acceleration") != std::string::npos);
    const size_t row = table.out.rfind('\n', table.out.find("acceleration")) + 1;
    const std::string line = table.out.substr(row, table.out.find('\n', row) - row);
    CHECK_THAT(line, Catch::Contains("coming") && !Catch::Contains("ready"));
    CHECK_THAT(table.out, Catch::Contains("mlperf coming") && Catch::Contains("gpt ready"));
    nlohmann::json list = nlohmann::json::parse(tito({"--json", "module", "list"}, ws.path).out);
    CHECK(list.at(14).at("state") == "coming");
    nlohmann::json milestone_status = nlohmann::json::parse(tito({"--json", "milestone", "status"}, ws.path).out);
    CHECK(milestone_status.at(6).at("state") == "coming");
    CHECK_THAT(tito({"milestone", "status"}, ws.path).out, Catch::Contains("comes with 19_benchmarking"));
}

TEST_CASE("workflow: module start 09 says what it builds on that is not passed, and nothing once it is", "[workflow]") {
    TempDir fresh("start09-fresh");
    Run cold = tito({"module", "start", "09"}, fresh.path);
    INFO(cold.text());
    REQUIRE(cold.exit_code == 0);
    // Every module 09 builds on, through 08, 07, ... - not only its direct requirement.
    CHECK_THAT(cold.err, Catch::Contains("warning") && Catch::Contains("01_setup") && Catch::Contains("05_losses") &&
                             Catch::Contains("08_optimizers") && Catch::Contains("reference code for every other module"));
    const nlohmann::json info = nlohmann::json::parse(read_file(source_dir() / "modules" / "09_spatial" / "module.json"));
    for (const auto& file : info.at("files")) CHECK(fs::exists(fresh.path / "09_spatial" / fs::path(file.get<std::string>()).filename()));
    CHECK(fs::exists(fresh.path / "09_spatial" / "README.md"));
    CHECK(fs::exists(fresh.path / "09_spatial" / "tests" / "grading.h"));
    CHECK(progress_of(fresh.path).at("modules").at("09").at("state") == "started");
    // Its template compiles and fails its tests with "not implemented", graded against the
    // reference of everything else.
    Run first = tito({"test", "09", "-x"}, fresh.path);
    INFO(first.text());
    CHECK(first.exit_code == 1);
    CHECK_THAT(first.out, Catch::Contains("not implemented"));

    TempDir ready("start09-ready");
    REQUIRE(tito({"module", "start", "01", "-q"}, ready.path).exit_code == 0);
    nlohmann::json progress = progress_of(ready.path);
    for (const char* id : {"01", "02", "03", "04", "05", "06", "07", "08"})
        progress["modules"][id] = {{"state", "passed"}, {"best_score", 1}, {"max_score", 1}, {"last_score", 1}};
    write_file(ready.path / ".tito" / "progress.json", progress.dump(2));
    CHECK(nlohmann::json::parse(tito({"--json", "status"}, ready.path).out).at("modules").at(8).at("state") == "ready");
    Run warm = tito({"module", "start", "09"}, ready.path);
    INFO(warm.text());
    CHECK(warm.exit_code == 0);
    CHECK_THAT(warm.err, !Catch::Contains("warning"));
    CHECK_THAT(warm.out, Catch::Contains("Started 09_spatial") && Catch::Contains("tito test 09"));
}

TEST_CASE("workflow: `tito milestone <name>` runs a milestone as `tito milestone run <name>` does", "[workflow]") {
    TempDir ws("milestone-short");
    Run short_form = tito({"--json", "milestone", "perceptron", "--reference"}, ws.path);
    INFO(short_form.text());
    REQUIRE(short_form.exit_code == 0);
    nlohmann::json result = nlohmann::json::parse(short_form.out);
    CHECK(result.at("milestone") == "perceptron");
    CHECK(result.at("passed") == true);
    CHECK(result.at("recorded") == false);
    // The subcommands keep working.
    CHECK(tito({"milestone", "list"}, ws.path).exit_code == 0);
    Run run = tito({"--json", "milestone", "run", "perceptron", "--reference"}, ws.path);
    CHECK(run.exit_code == 0);
    CHECK(nlohmann::json::parse(run.out).at("passed") == true);
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    Run status = tito({"milestone", "status"}, ws.path);
    CHECK(status.exit_code == 0);
    CHECK_THAT(status.out, Catch::Contains("perceptron") && Catch::Contains("locked"));
}

TEST_CASE("workflow: a lost .tito/ comes back with `tito workspace repair`; module start does not reset it", "[workflow]") {
    TempDir ws("repair");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    REQUIRE(tito({"test", "01"}, ws.path).exit_code == 0);
    REQUIRE(tito({"module", "start", "02"}, ws.path).exit_code == 0);
    const fs::path mine = ws.path / "02_tensor" / "tensor.cpp";
    const std::string edited = read_file(mine) + "// my work in progress, not committed yet\n";
    write_file(mine, edited);
    const std::string progress = read_file(ws.path / ".tito" / "progress.json");
    const std::string result = read_file(ws.path / ".tito" / "results" / "01_setup.json");
    const std::string marker = read_file(ws.path / ".tito" / "workspace.json");
    const int commits = commit_count(ws.path);

    fs::remove_all(ws.path / ".tito");
    // The suggested `tito module start 01` would start afresh and lock 02: it points at repair.
    Run start = tito({"module", "start", "01"}, ws.path);
    INFO(start.text());
    CHECK(start.exit_code == 2);
    CHECK_THAT(start.err, Catch::StartsWith("error: ") && Catch::Contains("git history") && Catch::Contains("`tito workspace repair`") &&
                              Catch::Contains("--force"));
    CHECK(std::count(start.err.begin(), start.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(ws.path / ".tito"));
    Run status_without = tito({"status"}, ws.path / "01_setup");  // other commands point at repair too
    CHECK(status_without.exit_code == 2);
    CHECK_THAT(status_without.err, Catch::Contains("git history") && Catch::Contains("`tito workspace repair`"));

    // Repair, from inside a module folder.
    Run repair = tito({"workspace", "repair"}, ws.path / "02_tensor");
    INFO(repair.text());
    REQUIRE(repair.exit_code == 0);
    CHECK_THAT(repair.out, Catch::Contains(".tito/workspace.json") && Catch::Contains(".tito/progress.json") &&
                               Catch::Contains(".tito/results/01_setup.json") && Catch::Contains("missing") &&
                               Catch::Contains("1 module passed"));
    CHECK(read_file(ws.path / ".tito" / "progress.json") == progress);
    CHECK(read_file(ws.path / ".tito" / "results" / "01_setup.json") == result);
    CHECK(read_file(ws.path / ".tito" / "workspace.json") == marker);
    CHECK(read_file(mine) == edited);  // the student's files are not touched
    CHECK(commit_count(ws.path) == commits);
    nlohmann::json status = nlohmann::json::parse(tito({"--json", "status"}, ws.path).out);
    CHECK(status.at("modules").at(0).at("state") == "passed");
    CHECK(status.at("modules").at(1).at("state") == "started");
    Run again = tito({"workspace", "repair"}, ws.path);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Catch::Contains("Nothing to repair"));

    // --force starts afresh where the history is, keeping the student's files.
    fs::remove_all(ws.path / ".tito");
    Run fresh = tito({"module", "start", "01", "--force"}, ws.path / "02_tensor");
    INFO(fresh.text());
    REQUIRE(fresh.exit_code == 0);
    CHECK(fs::exists(ws.path / ".tito" / "workspace.json"));
    CHECK_FALSE(fs::exists(ws.path / "02_tensor" / ".tito"));
    CHECK(nlohmann::json::parse(read_file(ws.path / ".tito" / "progress.json")).at("modules").at("01").at("state") == "started");
    CHECK(read_file(mine) == edited);
}

TEST_CASE("workflow: repair restores a damaged progress.json and keeps the damaged copy", "[workflow]") {
    TempDir ws("repair-corrupt");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    REQUIRE(tito({"test", "01"}, ws.path).exit_code == 0);
    const std::string good = read_file(ws.path / ".tito" / "progress.json");
    const std::string corrupt = "{\"modules\": {\"01\": {\"state\": \"passed\",,}}";
    write_file(ws.path / ".tito" / "progress.json", corrupt);
    write_file(ws.path / ".tito" / "results" / "01_setup.json", "{ truncated");
    REQUIRE(tito({"status"}, ws.path).exit_code == 2);

    Run repair = tito({"--json", "workspace", "repair"}, ws.path);
    INFO(repair.text());
    REQUIRE(repair.exit_code == 0);
    nlohmann::json report = nlohmann::json::parse(repair.out);
    std::map<std::string, nlohmann::json> restored;
    for (const auto& r : report.at("restored")) restored[r.at("file")] = r;
    REQUIRE(restored.count(".tito/progress.json"));
    CHECK(restored.at(".tito/progress.json").at("was") == "damaged");
    CHECK(restored.at(".tito/progress.json").at("kept_as") == ".tito/progress.json.damaged");
    CHECK(restored.at(".tito/results/01_setup.json").at("was") == "damaged");
    CHECK_FALSE(restored.count(".tito/workspace.json"));  // intact, left alone
    CHECK(report.at("passed") == nlohmann::json::array({"01"}));
    CHECK(read_file(ws.path / ".tito" / "progress.json") == good);
    CHECK(read_file(ws.path / ".tito" / "progress.json.damaged") == corrupt);
    CHECK(tito({"status"}, ws.path).exit_code == 0);
}

TEST_CASE("workflow: commands that change a workspace wait for another tito working in it", "[workflow]") {
    TempDir ws("lock");
    TempDir scratch("lock-scratch");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const fs::path lock = ws.path / ".tito" / "lock";
    REQUIRE(fs::exists(lock));
    // flock(1) holds the workspace's lock for two seconds while the command runs.
    const std::string script =
        "ready=\"$1\"; lock=\"$2\"; shift 2\n"
        "flock \"$lock\" sh -c 'touch \"$0\"; sleep 2' \"$ready\" &\n"
        "while [ ! -e \"$ready\" ]; do sleep 0.05; done\n"
        "\"$@\"; status=$?\n"
        "wait\n"
        "exit $status\n";
    int round = 0;
    auto while_locked = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"/usr/bin/bash", "-c", script, "bash", (scratch.path / ("ready" + std::to_string(++round))).string(),
                                         lock.string(), tito_binary().string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, ws.path);
    };
    for (const std::vector<std::string>& args : {std::vector<std::string>{"module", "start", "02", "--force"},
                                                 {"module", "reset", "01"}, {"workspace", "repair"}, {"milestone", "xor"}}) {
        Run waited = while_locked(args);
        INFO(args.front() + " " + args.at(1) + ": " + waited.text());
        CHECK_THAT(waited.err, Catch::Contains("waiting for another tito in this workspace (pid "));
        CHECK(waited.seconds >= 1.9);
        CHECK(waited.exit_code == (args.front() == "milestone" ? 2 : 0));  // xor is locked: an error, after the wait
    }
    CHECK(fs::exists(ws.path / "02_tensor" / "tensor.cpp"));
}
