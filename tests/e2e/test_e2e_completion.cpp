// End to end: `tito completion bash|zsh` scripts complete commands, subcommands, options, module
// numbers and names and milestone names - checked by running them in real bash and zsh.
#include <catch2/catch.hpp>

#include "e2e_support.h"
#include "test_e2e_completion.h"

using namespace e2e;

namespace {

using Words = std::vector<std::string>;

bool offers(const std::vector<std::string>& candidates, const std::string& word) {
    return std::find(candidates.begin(), candidates.end(), word) != candidates.end();
}

// The script for `shell`, written by the tito under test into `folder`.
fs::path write_script(const std::string& shell, const fs::path& folder) {
    const fs::path script = folder / (shell == "zsh" ? "_tito" : "tito.bash");
    Run made = tito({"completion", shell, "--output", script.string()}, folder);
    INFO(made.text());
    REQUIRE(made.exit_code == 0);
    REQUIRE(fs::exists(script));
    Run printed = tito({"completion", shell}, folder);
    REQUIRE(printed.exit_code == 0);
    CHECK(printed.out == read_file(script));  // --output writes what is printed
    return script;
}

}  // namespace

TEST_CASE("completion: bash completes commands, subcommands, options, modules and milestones", "[completion]") {
    TempDir dir("completion-bash");
    const fs::path script = write_script("bash", dir.path);
    const std::string t = tito_binary().string();
    CHECK(run({"/usr/bin/bash", "-n", script.string()}, dir.path).exit_code == 0);

    CHECK(bash_completions(script, {t, "mod"}) == Words{"module"});
    CHECK(bash_completions(script, {t, "module", "st"}) == Words{"start"});
    CHECK(bash_completions(script, {t, "w"}) == Words{"workspace"});
    CHECK(bash_completions(script, {t, "workspace", ""}) == Words{"repair"});
    CHECK(bash_completions(script, {t, "completion", ""}) == Words{"bash", "zsh"});
    // Module numbers and names come from the installed course, through tito itself.
    CHECK(bash_completions(script, {t, "test", "0"}) == Words{"01", "02", "03", "04", "05", "06", "07", "08", "09"});
    CHECK(bash_completions(script, {t, "module", "start", "ten"}) == Words{"tensor"});
    CHECK(bash_completions(script, {t, "module", "reset", "1"}).size() == 10);  // 10 ... 19
    // Global options and option values are skipped when finding the command.
    CHECK(bash_completions(script, {t, "--json", "mod"}) == Words{"module"});
    CHECK(bash_completions(script, {t, "test", "--format", "json", "0"}).size() == 9);
    CHECK(bash_completions(script, {t, "test", "--format", ""}) == Words{"json", "junit", "gradescope"});
    CHECK(bash_completions(script, {t, "test", "--output", script.string()}) == Words{script.string()});  // file names
    const auto test_options = bash_completions(script, {t, "test", "--f"});
    CHECK((offers(test_options, "--format") && offers(test_options, "--filter")));
    CHECK(bash_completions(script, {t, "module", "start", "--fo"}) == Words{"--force"});
    // Milestones: the subcommands and the short form `tito milestone <name>`.
    const auto milestone = bash_completions(script, {t, "milestone", ""});
    for (const char* word : {"list", "run", "status", "perceptron", "xor", "lenet", "gpt"}) CHECK(offers(milestone, word));
    CHECK(bash_completions(script, {t, "milestone", "run", "x"}) == Words{"xor"});
    CHECK(bash_completions(script, {t, "milestone", "run", "xor", ""}).empty());  // one milestone per run
    // `tito help` completes the command it explains, and its subcommands.
    CHECK(bash_completions(script, {t, "help", "mi"}) == Words{"milestone"});
    CHECK(bash_completions(script, {t, "help", "module", "s"}) == Words{"start"});
    // Nothing is offered where nothing fits, and hidden options stay hidden.
    CHECK(bash_completions(script, {t, "status", ""}).empty());
    CHECK_FALSE(offers(bash_completions(script, {t, "--c"}), "--complete"));
}

TEST_CASE("completion: zsh loads the script and completes the same words", "[completion]") {
    TempDir dir("completion-zsh");
    const fs::path script = write_script("zsh", dir.path);
    const std::string t = tito_binary().string();
    CHECK_THAT(read_file(script), Catch::StartsWith("#compdef tito\n"));
    Run syntax = run({"/usr/bin/zsh", "-n", script.string()}, dir.path);
    INFO(syntax.text());
    CHECK(syntax.exit_code == 0);

    // compinit finds it in $fpath and makes it the completion function of tito.
    const fs::path functions = dir.path / "site-functions";
    fs::create_directories(functions);
    fs::copy_file(script, functions / "_tito");
    Run registered = run({"/usr/bin/zsh", "-f", "-c",
                          "fpath=(" + shell_quoted(functions.string()) + " $fpath); autoload -Uz compinit; compinit -u -D; "
                          "print -r -- ${_comps[tito]}"},
                         dir.path, {{"HOME", dir.path.string()}});
    INFO(registered.text());
    CHECK(registered.out == "_tito\n");

    CHECK(zsh_completions(script, {t, "mod"}) == Words{"module"});
    CHECK(zsh_completions(script, {t, "module", "st"}) == Words{"start"});
    CHECK(zsh_completions(script, {t, "test", "0"}) == Words{"01", "02", "03", "04", "05", "06", "07", "08", "09"});
    CHECK(zsh_completions(script, {t, "--json", "test", "ten"}) == Words{"tensor"});
    CHECK(zsh_completions(script, {t, "test", "--format", ""}) == Words{"json", "junit", "gradescope"});
    CHECK(zsh_completions(script, {t, "test", "--output", ""}) == Words{"@files"});
    CHECK(zsh_completions(script, {t, "module", "start", "--fo"}) == Words{"--force"});
    CHECK(zsh_completions(script, {t, "milestone", "run", "x"}) == Words{"xor"});
    const auto milestone = zsh_completions(script, {t, "milestone", ""});
    for (const char* word : {"list", "run", "status", "perceptron", "xor", "lenet"}) CHECK(offers(milestone, word));
    CHECK(zsh_completions(script, {t, "help", "module", "s"}) == Words{"start"});
    CHECK(zsh_completions(script, {t, "completion", ""}) == Words{"bash", "zsh"});
}

TEST_CASE("completion: the hidden --complete option and bad shells", "[completion]") {
    TempDir dir("completion-words");
    Run modules = tito({"--complete", "modules"}, dir.path);
    REQUIRE(modules.exit_code == 0);
    const auto words = lines_of(modules.out);
    REQUIRE(words.size() == 40);  // 20 numbers, 20 names
    CHECK(words.front() == "01");
    CHECK(offers(words, "spatial"));
    Run milestones = tito({"--complete", "milestones"}, dir.path);
    CHECK(lines_of(milestones.out).front() == "perceptron");
    // Hidden from the help.
    CHECK_THAT(tito({"--help"}, dir.path).out, !Catch::Contains("--complete"));
    // A broken installation prints nothing on Tab, rather than an error in the middle of a line.
    Run broken = tito({"--complete", "modules"}, dir.path, {{"TITO_HOME", dir.path.string()}});
    CHECK(broken.exit_code == 0);
    CHECK(broken.text().empty());
    Run fish = tito({"completion", "fish"}, dir.path);
    CHECK(fish.exit_code == 2);
    CHECK_THAT(fish.err, Catch::StartsWith("error: ") && Catch::Contains("fish") && Catch::Contains("hint:"));
}
