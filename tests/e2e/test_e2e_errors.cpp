// End to end: bad input gets one clear line with a hint, never a crash, and nothing is lost.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "e2e_support.h"

using namespace e2e;

namespace {

// An error is one line on stderr that starts with "error:" and carries a hint.
void check_one_line_error(const Run& run, const std::string& must_mention) {
    INFO(run.text());
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::StartsWith("error: ") && Catch::Contains(must_mention) && Catch::Contains("hint:"));
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
    CHECK_THAT(run.err, !Catch::Contains("terminate") && !Catch::Contains("what()") && !Catch::Contains("Aborted"));
}

// A CLI11 message that says nothing about what was wrong.
void check_not_generic(const Run& run) {
    CHECK_THAT(run.text(), !Catch::Contains("A subcommand is required") && !Catch::Contains("Run with --help"));
}

// tito as a user who may not write to folders the test made read-only. As root (as in CI), chmod
// does not stop writes, so tito runs as nobody (65534) through setpriv; otherwise chmod applies.
const std::vector<std::string> kAsNobody = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};

// A tito that nobody may run: the one under test when the folders above it are open to everyone
// (as in most checkouts), else a copy installed into a temporary prefix.
fs::path tito_for_nobody() {
    static fs::path chosen;
    if (!chosen.empty()) return chosen;
    std::vector<std::string> probe = kAsNobody;
    const fs::path course = tito_binary().parent_path().parent_path() / "share" / "tinytorch" / "build.json";
    probe.insert(probe.end(), {"/usr/bin/test", "-x", tito_binary().string(), "-a", "-r", course.string()});
    if (run(probe, "/").exit_code == 0) return chosen = tito_binary();
    static TempDir prefix("nobody-prefix");
    Run install = run({"/usr/bin/env", "cmake", "--install", build_dir().string(), "--prefix", prefix.path.string()}, prefix.path);
    INFO(install.text());
    REQUIRE(install.exit_code == 0);
    return chosen = prefix.path / "bin" / "tito";
}

Run tito_unprivileged(const std::vector<std::string>& args, const fs::path& cwd) {
    if (::geteuid() != 0) return tito(args, cwd);
    REQUIRE(fs::exists(kAsNobody.front()));  // util-linux
    std::vector<std::string> argv = kAsNobody;
    argv.push_back(tito_for_nobody().string());
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, cwd, {{"HOME", "/nonexistent"}});
}

// chmod -R a-w (or u+w back) on `root`: what stops an ordinary user.
void set_writable(const fs::path& root, bool writable) {
    const auto w = fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write;
    auto apply = [&](const fs::path& p) {
        if (fs::is_symlink(p)) return;
        fs::permissions(p, writable ? fs::perms::owner_write : w, writable ? fs::perm_options::add : fs::perm_options::remove);
    };
    apply(root);
    if (fs::is_directory(root))
        for (const auto& entry : fs::recursive_directory_iterator(root)) apply(entry.path());
}

// Gives everything under `root` but `except` to nobody, as root (chown -R 65534 minus one folder).
void give_to_nobody(const fs::path& root, const fs::path& except) {
    REQUIRE(::lchown(root.c_str(), 65534, 65534) == 0);
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        if (it->path() == except) {
            it.disable_recursion_pending();
            continue;
        }
        REQUIRE(::lchown(it->path().c_str(), 65534, 65534) == 0);
    }
}

// One line naming what could not be written and why, with a hint about permissions: a problem
// with the folder, never "a bug in tito".
void check_access_error(const Run& run, const std::string& must_mention) {
    check_one_line_error(run, must_mention);
    CHECK_THAT(run.err, Catch::Contains("owner") && !Catch::Contains("bug in tito") && !Catch::Contains("damaged"));
}

}  // namespace

TEST_CASE("errors: unknown commands and options name the word and list the choices", "[errors]") {
    TempDir ws("usage");
    Run bogus = tito({"--bogus"}, ws.path);
    check_one_line_error(bogus, "unknown option '--bogus'");
    check_not_generic(bogus);

    Run frob = tito({"module", "frob"}, ws.path);
    check_one_line_error(frob, "unknown command 'frob' for `tito module`");
    CHECK_THAT(frob.err, Catch::Contains("list, start, reset"));
    check_not_generic(frob);

    Run word = tito({"frobnicate"}, ws.path);
    check_one_line_error(word, "unknown command 'frobnicate'");
    CHECK_THAT(word.err, Catch::Contains("module, test, milestone, submit, leaderboard, data, status, doctor, workspace, completion, help"));
    Run typo = tito({"modul", "list"}, ws.path);
    check_one_line_error(typo, "unknown command 'modul'");
    CHECK_THAT(typo.err, Catch::Contains("did you mean 'module'?"));
    Run sub_typo = tito({"module", "strat", "01"}, ws.path);
    check_one_line_error(sub_typo, "unknown command 'strat'");
    CHECK_THAT(sub_typo.err, Catch::Contains("did you mean 'start'?"));

    Run option_typo = tito({"test", "--no-sanitise"}, ws.path);
    check_one_line_error(option_typo, "unknown option '--no-sanitise' for `tito test`");
    CHECK_THAT(option_typo.err, Catch::Contains("did you mean '--no-sanitize'?") && Catch::Contains("tito help test"));
    Run missing = tito({"module", "start"}, ws.path);
    check_one_line_error(missing, "`tito module start` needs its module argument");
    CHECK_THAT(missing.err, Catch::Contains("usage: tito module start"));
    check_one_line_error(tito({"module", "start", "01", "02"}, ws.path), "unexpected argument '02' for `tito module start`");
    check_one_line_error(tito({"help", "frob"}, ws.path), "unknown command 'frob'");
    check_one_line_error(tito({"help", "module", "strat"}, ws.path), "did you mean 'start'?");
    CHECK_FALSE(fs::exists(ws.path / ".tito"));  // nothing was created for a bad request
}

TEST_CASE("errors: milestones still to come, and the short form `tito milestone <name>`", "[errors]") {
    TempDir ws("milestone-errors");
    // mlperf comes with module 19: not "unknown milestone", in either form.
    for (const std::vector<std::string>& args : {std::vector<std::string>{"milestone", "run", "mlperf"}, {"milestone", "mlperf"}}) {
        Run coming = tito(args, ws.path);
        check_one_line_error(coming, "milestone mlperf (2018) comes with module 19_benchmarking");
        CHECK_THAT(coming.err, !Catch::Contains("unknown milestone") && Catch::Contains("perceptron, xor, mlp, lenet, alexnet, gpt"));
    }
    Run mlperf = tito({"milestone", "mlperf", "--reference"}, ws.path);
    check_one_line_error(mlperf, "comes with module 19_benchmarking");
    // The short form runs the milestone as `run` does: here it stops at the workspace check.
    check_one_line_error(tito({"milestone", "xor"}, ws.path), "not inside a tito workspace");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    Run locked = tito({"milestone", "xor"}, ws.path);
    check_one_line_error(locked, "milestone xor is locked: pass 02_tensor");
    check_not_generic(locked);
    Run typo = tito({"milestone", "lenett"}, ws.path);
    check_one_line_error(typo, "unknown milestone 'lenett'");
    CHECK_THAT(typo.err, Catch::Contains("did you mean 'lenet'?"));
    // The subcommands are never taken for milestone names.
    check_one_line_error(tito({"milestone", "run"}, ws.path), "`tito milestone run` needs its milestone argument");
    check_one_line_error(tito({"milestone", "list", "xor"}, ws.path), "unexpected argument 'xor' for `tito milestone list`");
}

TEST_CASE("errors: no milestone may be named after a milestone command", "[errors]") {
    // A copy of the installed course whose milestones.json names a milestone "list".
    TempDir home("milestone-names");
    const fs::path share = tito_binary().parent_path().parent_path() / "share" / "tinytorch";
    for (const auto& entry : fs::directory_iterator(share))
        if (entry.path().filename() != "configs") fs::create_symlink(entry.path(), home.path / entry.path().filename());
    fs::create_directories(home.path / "configs");
    for (const auto& entry : fs::directory_iterator(share / "configs"))
        if (entry.path().filename() != "milestones.json") fs::create_symlink(entry.path(), home.path / "configs" / entry.path().filename());
    write_file(home.path / "configs" / "milestones.json",
               R"({"list": {"year": 2000, "title": "t", "after": "04", "requires": ["04"], "pass": []}})");
    Run run = tito({"milestone", "list"}, home.path, {{"TITO_HOME", home.path.string()}});
    check_one_line_error(run, "a milestone may not be called 'list'");
}

TEST_CASE("errors: a workspace tito may not write to is a clear error, never a bug", "[errors]") {
    TempDir ws("readonly");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    REQUIRE(tito({"test", "01"}, ws.path).exit_code == 1);  // fills the build cache
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    write_file(file, read_file(file) + "// edited since the last test\n");
    const std::string progress = read_file(ws.path / ".tito" / "progress.json");
    const std::string student = read_file(file);
    const int commits = commit_count(ws.path);
    set_writable(ws.path, false);

    // Module files and state: 02's folder cannot be created.
    check_access_error(tito_unprivileged({"module", "start", "02", "--force"}, ws.path), "cannot create directories " + (ws.path / "02_tensor").string() + ": Permission denied");
    // The build cache.
    check_access_error(tito_unprivileged({"test", "01"}, ws.path), (ws.path / ".tito" / "build").string());
    // State: starting 01 again writes only progress.json.
    check_access_error(tito_unprivileged({"module", "start", "01"}, ws.path),
                       "cannot create a temporary file in " + (ws.path / ".tito").string() + ": Permission denied");
    // Git (reset commits the student's files first).
    check_access_error(tito_unprivileged({"module", "reset", "01"}, ws.path), "git");
    // Reading is fine.
    Run status = tito_unprivileged({"status"}, ws.path);
    INFO(status.text());
    CHECK(status.exit_code == 0);
    set_writable(ws.path, true);
    CHECK(read_file(ws.path / ".tito" / "progress.json") == progress);
    CHECK(read_file(file) == student);
    CHECK(commit_count(ws.path) == commits);
    CHECK_FALSE(fs::exists(ws.path / "02_tensor"));

    // A new workspace in a folder tito may not write to.
    TempDir fresh("readonly-fresh");
    set_writable(fresh.path, false);
    Run start = tito_unprivileged({"module", "start", "01"}, fresh.path);
    check_access_error(start, fresh.path.string());
    CHECK_THAT(start.err, Catch::Contains("Permission denied"));
    set_writable(fresh.path, true);
}

TEST_CASE("errors: a build cache the compiler may not write to is not a compile error", "[errors]") {
    TempDir ws("readonly-cache");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    write_file(file, read_file(file) + "\nint broken( {\n");
    REQUIRE(tito({"test", "01"}, ws.path).exit_code == 1);  // the cache folder exists, with no object in it
    set_writable(ws.path, false);
    Run test = tito_unprivileged({"test", "01"}, ws.path);
    check_access_error(test, "cannot write to the build cache " + (ws.path / ".tito" / "build" / "01_setup").string());
    CHECK_THAT(test.text(), !Catch::Contains("does not compile"));
    set_writable(ws.path, true);
}

TEST_CASE("errors: a git repository tito may not write to is a clear error", "[errors]") {
    TempDir ws("readonly-git");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const std::string student = read_file(ws.path / "01_setup" / "setup.cpp");
    if (::geteuid() == 0) {
        give_to_nobody(ws.path, ws.path / ".git");  // nobody owns the workspace, root its .git
    } else {
        set_writable(ws.path / ".git", false);
    }
    Run start = tito_unprivileged({"module", "start", "02", "--force"}, ws.path);
    check_access_error(start, "git");
    CHECK_THAT(start.err, Catch::Contains(ws.path.string()));
    if (::geteuid() != 0) set_writable(ws.path / ".git", true);
    CHECK(read_file(ws.path / "01_setup" / "setup.cpp") == student);
}

TEST_CASE("errors: unknown module names", "[errors]") {
    TempDir ws("unknown");
    check_one_line_error(tito({"module", "start", "42"}, ws.path), "unknown module '42'");
    Run typo = tito({"module", "start", "tensr"}, ws.path);
    check_one_line_error(typo, "unknown module 'tensr'");
    CHECK_THAT(typo.err, Catch::Contains("did you mean '02_tensor'"));
    CHECK_FALSE(fs::exists(ws.path / ".tito"));  // nothing was created for a bad request
    check_one_line_error(tito({"module", "start", "16"}, ws.path), "has no content yet");
    // Every way of naming a module reaches the same one.
    for (const char* spec : {"15", "acceleration", "15_acceleration"})
        check_one_line_error(tito({"module", "start", spec}, ws.path), "module 15_acceleration has no content yet");
    CHECK_FALSE(fs::exists(ws.path / ".tito"));
    // A single digit names a module too.
    Run nine = tito({"module", "start", "9", "--force"}, ws.path);
    CHECK(nine.exit_code == 0);
    CHECK_THAT(nine.out, Catch::Contains("Started 09_spatial"));
}

TEST_CASE("errors: outside a workspace", "[errors]") {
    TempDir ws("outside");
    check_one_line_error(tito({"test", "01"}, ws.path), "not inside a tito workspace");
    check_one_line_error(tito({"status"}, ws.path), "not inside a tito workspace");
}

TEST_CASE("errors: a corrupt progress.json is reported and never overwritten", "[errors]") {
    TempDir ws("corrupt");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const fs::path progress = ws.path / ".tito" / "progress.json";
    const std::string corrupt = "{\"modules\": {\"01\": {\"state\": \"started\",,}}";
    write_file(progress, corrupt);
    const std::string student = read_file(ws.path / "01_setup" / "setup.cpp");

    check_one_line_error(tito({"test", "01"}, ws.path), "progress.json is not valid JSON");
    check_one_line_error(tito({"status"}, ws.path), "progress.json");
    Run start = tito({"module", "start", "01"}, ws.path);
    check_one_line_error(start, "progress.json");
    CHECK_THAT(start.err, Catch::Contains("`tito workspace repair`"));
    CHECK(read_file(progress) == corrupt);
    CHECK(read_file(ws.path / "01_setup" / "setup.cpp") == student);

    // Wrong structure (valid JSON, wrong types) is also a clear error.
    write_file(progress, "[1, 2, 3]");
    check_one_line_error(tito({"status"}, ws.path), "progress.json");
    write_file(progress, "{\"modules\": {\"01\": {\"state\": \"flying\"}}}");
    check_one_line_error(tito({"status"}, ws.path), "unknown state 'flying'");
}

TEST_CASE("errors: a missing compiler", "[errors]") {
    TempDir ws("nocompiler");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const std::string progress = read_file(ws.path / ".tito" / "progress.json");
    const std::string student = read_file(ws.path / "01_setup" / "setup.cpp");
    Run run = tito({"test", "01"}, ws.path, {{"TITO_CXX", "/nonexistent/bin/g++"}});
    check_one_line_error(run, "C++ compiler '/nonexistent/bin/g++' not found");
    CHECK_THAT(run.err, Catch::Contains("apt-get install g++"));
    Run by_name = tito({"test", "01"}, ws.path, {{"TITO_CXX", "no-such-compiler-x"}});
    check_one_line_error(by_name, "not found on PATH");
    CHECK(read_file(ws.path / ".tito" / "progress.json") == progress);
    CHECK(read_file(ws.path / "01_setup" / "setup.cpp") == student);
    Run doctor = tito({"doctor"}, ws.path, {{"TITO_CXX", "/nonexistent/bin/g++"}});
    CHECK(doctor.exit_code == 1);
    CHECK_THAT(doctor.out, Catch::Contains("fail") && Catch::Contains("compiler") && Catch::Contains("hint"));
}

TEST_CASE("errors: student code with a syntax error", "[errors]") {
    TempDir ws("syntax");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    const fs::path file = ws.path / "01_setup" / "setup.cpp";
    std::string text = read_file(file);
    // Break line 3 of the function body area: an unclosed expression.
    text += "\nint broken() { return 1 +; }\n";
    write_file(file, text);
    const int line = static_cast<int>(std::count(text.begin(), text.end(), '\n'));

    Run run = tito({"test", "01"}, ws.path);
    INFO(run.text());
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.out, Catch::Contains("01_setup/setup.cpp:" + std::to_string(line) + ":"));
    CHECK_THAT(run.out, Catch::Contains("does not compile"));
    CHECK(read_file(file) == text);  // untouched
    nlohmann::json report = results(ws.path, "01_setup");
    CHECK(report.at("outcome") == "compile_error");
    CHECK(report.at("score") == 0);
    // A missing student file is a clear error too, and `module start` restores it.
    fs::remove(file);
    check_one_line_error(tito({"test", "01"}, ws.path), "01_setup/setup.cpp is missing");
    REQUIRE(tito({"module", "start", "01"}, ws.path).exit_code == 0);
    CHECK(fs::exists(file));
}

TEST_CASE("errors: bad options", "[errors]") {
    TempDir ws("options");
    Run run = tito({"test", "--format", "xml"}, ws.path);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains("xml"));
    CHECK(tito({"frobnicate"}, ws.path).exit_code == 2);
}
