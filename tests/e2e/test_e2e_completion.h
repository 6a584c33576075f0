// test_e2e_completion.h - running tito's completion scripts in real bash and zsh, for the
// completion and install tests.
#pragma once

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "e2e_support.h"

namespace e2e {

// 'text' for a POSIX shell.
inline std::string shell_quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) lines.push_back(line);
    return lines;
}

// What bash offers for the last of `words` (the word being completed; "" right after a space):
// loads `script` into a plain bash and calls the completion function it registered for tito
// with COMP_WORDS/COMP_CWORD, as bash does on Tab. words[0] is the tito to ask for modules.
inline std::vector<std::string> bash_completions(const fs::path& script, const std::vector<std::string>& words) {
    std::string array;
    for (const std::string& word : words) array += " " + shell_quoted(word);
    const std::string program = "source " + shell_quoted(script.string()) + " || exit 3\n" +
                                "function=$(complete -p tito | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')\n"
                                "[ -n \"$function\" ] || exit 4\n"
                                "COMP_WORDS=(" + array + ")\n" +
                                "COMP_CWORD=" + std::to_string(words.size() - 1) + "\n" +
                                "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
                                "\"$function\" tito \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\" || exit 5\n"
                                "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    Run r = run({"/usr/bin/bash", "--norc", "--noprofile", "-c", program}, script.parent_path());
    INFO(r.text());
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    return lines_of(r.out);
}

// What zsh offers for the last of `words`: loads the script into zsh -f and calls _tito with
// `words` and CURRENT set as the completion system sets them; compadd, _describe and _files are
// replaced by functions printing the candidates that match the word being completed ("@files"
// for _files), since the real ones only work inside a completion widget. (The stubs' own
// variables have names of their own: _describe reads the caller's array by name.)
inline std::vector<std::string> zsh_completions(const fs::path& script, const std::vector<std::string>& words) {
    std::string array;
    for (const std::string& word : words) array += " " + shell_quoted(word);
    const std::string program =
        "compadd() { [[ $1 == -- ]] && shift; local -a _stub_items; _stub_items=(\"$@\"); print -rl -- ${(M)_stub_items:#${PREFIX}*}; }\n"
        "_describe() { local -a _stub_specs _stub_names; _stub_specs=(\"${(@P)4}\"); "
        "_stub_names=(\"${(@)_stub_specs%%:*}\"); print -rl -- ${(M)_stub_names:#${PREFIX}*}; }\n"
        "_files() { print -r -- @files; }\n"
        "source " + shell_quoted(script.string()) + " || exit 3\n" +
        "(($+functions[_tito])) || exit 4\n"
        "words=(" + array + ")\n" +
        "CURRENT=" + std::to_string(words.size()) + "\n" +
        "PREFIX=${words[CURRENT]}\n"
        "_tito\n";
    Run r = run({"/usr/bin/zsh", "-f", "-c", program}, script.parent_path());
    INFO(r.text());
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    return lines_of(r.out);
}

}  // namespace e2e
