// End to end: `cmake --install` gives a tito that works from any directory.
#include <catch2/catch.hpp>

#include "e2e_support.h"
#include "test_e2e_completion.h"

using namespace e2e;

TEST_CASE("install: an installed tito finds its course data and grades from anywhere", "[install]") {
    TempDir prefix("prefix");
    Run install = run({"/usr/bin/env", "cmake", "--install", build_dir().string(), "--prefix", prefix.path.string()}, prefix.path);
    INFO(install.text());
    REQUIRE(install.exit_code == 0);
    const fs::path installed = prefix.path / "bin" / "tito";
    REQUIRE(fs::exists(installed));
    CHECK(fs::exists(prefix.path / "share" / "tinytorch" / "build.json"));
    // Graders are installed compiled only: no grader or reference source.
    for (const auto& entry : fs::recursive_directory_iterator(prefix.path / "share" / "tinytorch")) {
        const std::string name = entry.path().string();
        INFO(name);
        const bool allowed = name.find("/graders/") == std::string::npos || entry.is_directory() ||
                             entry.path().extension() == ".a" || entry.path().filename() == "tests.json";
        CHECK(allowed);
    }

    TempDir ws("installed-ws");
    Run list = run({installed.string(), "module", "list"}, fs::path("/"));
    CHECK(list.exit_code == 0);
    CHECK_THAT(list.out, Catch::Contains("tensor"));
    REQUIRE(run({installed.string(), "module", "start", "01"}, ws.path).exit_code == 0);
    drop_in_reference(ws.path, "01_setup");
    Run test = run({installed.string(), "test", "01"}, ws.path);
    INFO(test.text());
    CHECK(test.exit_code == 0);

    // Shell completion, where bash-completion and zsh look for it, as tito prints it.
    const fs::path bash_script = prefix.path / "share" / "bash-completion" / "completions" / "tito";
    const fs::path zsh_script = prefix.path / "share" / "zsh" / "site-functions" / "_tito";
    REQUIRE(fs::exists(bash_script));
    REQUIRE(fs::exists(zsh_script));
    CHECK(read_file(bash_script) == run({installed.string(), "completion", "bash"}, ws.path).out);
    CHECK(read_file(zsh_script) == run({installed.string(), "completion", "zsh"}, ws.path).out);
    // The installed scripts work with the installed tito: bash completes `tito mod` and module
    // numbers; zsh parses the script and compinit registers it from site-functions.
    CHECK(bash_completions(bash_script, {installed.string(), "mod"}) == std::vector<std::string>{"module"});
    CHECK(bash_completions(bash_script, {installed.string(), "test", "0"}).size() == 9);
    CHECK(zsh_completions(zsh_script, {installed.string(), "module", "st"}) == std::vector<std::string>{"start"});
    Run registered = run({"/usr/bin/zsh", "-f", "-c",
                          "fpath=(" + shell_quoted(zsh_script.parent_path().string()) +
                              " $fpath); autoload -Uz compinit; compinit -u -D; print -r -- ${_comps[tito]}"},
                         ws.path, {{"HOME", ws.path.string()}});
    CHECK(registered.out == "_tito\n");
}
