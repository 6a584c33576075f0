// completion_cmd.cpp - `tito completion bash|zsh [--output FILE]` and `tito --complete KIND`.
#include "commands/completion_cmd.h"

#include <iostream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "commands/help_cmd.h"
#include "course.h"
#include "errors.h"
#include "files.h"
#include "milestones.h"

namespace tito {

namespace {

// What the script knows about one command: `path` is "" for tito itself, "module start" for
// `tito module start`.
struct CommandInfo {
    std::string path;
    std::vector<std::pair<std::string, std::string>> commands;  // subcommand, description
    std::vector<std::pair<std::string, std::string>> options;   // "--force", description
    std::vector<std::string> value_options;                     // options followed by a value
    std::vector<std::pair<std::string, std::string>> option_values;  // "--format" -> "json junit gradescope" or "@files"
    // What the first word that is not a subcommand may be: "@modules", "@milestones" (asked of
    // tito), "@commands" (`tito help module start`), a list of words, or "" (nothing to offer).
    std::string positional;
};

std::string join(const std::vector<std::string>& items, const std::string& separator = " ") {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

// The choices of an option checked with CLI::IsMember: its type name reads "TEXT:{json,junit}".
std::vector<std::string> member_values(const CLI::Option& option) {
    const std::string type = option.get_type_name();
    const size_t open = type.find('{'), close = type.find('}', open == std::string::npos ? 0 : open);
    std::vector<std::string> values;
    if (open == std::string::npos || close == std::string::npos) return values;
    std::istringstream items(type.substr(open + 1, close - open - 1));
    std::string item;
    while (std::getline(items, item, ',')) values.push_back(item);
    return values;
}

std::vector<std::string> names_of(const CLI::Option& option) {
    std::vector<std::string> names;
    for (const std::string& name : option.get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option.get_snames()) names.push_back("-" + name);
    return names;
}

void add_options(const CLI::App& command, CommandInfo& info, bool global_only) {
    for (const CLI::Option* option : command.get_options()) {
        if (!option->nonpositional() || option->get_group().empty()) continue;  // positional, or hidden
        const std::vector<std::string> names = names_of(*option);
        if (global_only && (names.front() == "--help" || names.front() == "--version")) continue;
        for (const std::string& name : names) {
            info.options.emplace_back(name, option->get_description());
            if (option->get_expected_max() <= 0) continue;  // a flag
            info.value_options.push_back(name);
            const std::vector<std::string> values = member_values(*option);
            if (!values.empty()) {
                info.option_values.emplace_back(name, join(values));
            } else if (option->get_lnames().size() == 1 && option->get_lnames().front() == "output") {
                info.option_values.emplace_back(name, "@files");
            }
        }
    }
}

void collect(const CLI::App& root, const CLI::App& command, const std::string& path, std::vector<CommandInfo>& out) {
    CommandInfo info;
    info.path = path;
    for (const CLI::App* sub : visible_subcommands(command)) info.commands.emplace_back(sub->get_name(), sub->get_description());
    add_options(command, info, false);
    if (&command != &root) add_options(root, info, true);  // -v, -q, --json work after any command
    for (const CLI::Option* option : command.get_options()) {
        if (!option->get_positional() || option->nonpositional()) continue;
        const std::string name = option->get_name(true);
        if (name == "module") {
            info.positional = "@modules";
        } else if (name == "milestone") {
            info.positional = "@milestones";
        } else if (name == "command") {
            info.positional = "@commands";
        } else {
            info.positional = join(member_values(*option));
        }
        break;  // the first positional is what tito's commands take
    }
    out.push_back(info);
    for (const CLI::App* sub : visible_subcommands(command))
        collect(root, *sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
}

// 'text' for a shell, with embedded single quotes closed, escaped and reopened.
std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// One case statement: `function "$1"` -> `assign` of the values of each command that has some.
template <class Values>
void write_case(std::ostream& out, const std::string& function, const std::string& subject, const std::vector<CommandInfo>& commands,
                Values values, const std::string& assign, const std::string& otherwise) {
    out << function << "() {\n    case \"" << subject << "\" in\n";
    for (const CommandInfo& command : commands)
        for (const auto& [label, value] : values(command))
            if (!value.empty()) out << "        " << quoted(label) << ") " << assign << value << " ;;\n";
    out << "        *) " << otherwise << " ;;\n    esac\n}\n\n";
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string bash_script(const std::vector<CommandInfo>& commands) {
    std::ostringstream out;
    out << "# bash completion for tito, the TinyTorch C++ course runner (made by `tito completion bash`).\n"
           "# Installed in <prefix>/share/bash-completion/completions/tito; or add to ~/.bashrc:\n"
           "#     source <(tito completion bash)\n\n";
    write_case(out, "_tito_commands", "$1", commands, [](const CommandInfo& c) {
        std::vector<std::string> names;
        for (const auto& [name, description] : c.commands) names.push_back(name);
        return Pairs{{c.path, names.empty() ? "" : quoted(join(names))}};
    }, "echo ", ":");
    write_case(out, "_tito_options", "$1", commands, [](const CommandInfo& c) {
        std::vector<std::string> names;
        for (const auto& [name, description] : c.options) names.push_back(name);
        return Pairs{{c.path, quoted(join(names))}};
    }, "echo ", ":");
    write_case(out, "_tito_value_options", "$1", commands, [](const CommandInfo& c) {
        return Pairs{{c.path, c.value_options.empty() ? "" : quoted(join(c.value_options))}};
    }, "echo ", ":");
    write_case(out, "_tito_option_values", "$1|$2", commands, [](const CommandInfo& c) {
        Pairs pairs;
        for (const auto& [option, values] : c.option_values) pairs.emplace_back(c.path + "|" + option, quoted(values));
        return pairs;
    }, "echo ", ":");
    write_case(out, "_tito_positional", "$1", commands, [](const CommandInfo& c) {
        return Pairs{{c.path, c.positional.empty() ? "" : quoted(c.positional)}};
    }, "echo ", ":");
    out << R"BASH(_tito() {
    local cur="${COMP_WORDS[COMP_CWORD]}" tito="${COMP_WORDS[0]}"
    local cmd="" word="" value_of="" kind="" words="" i
    local -a args=()
    [[ $tito == "~/"* ]] && tito="$HOME/${tito#"~/"}"
    # The command typed so far ("module start"), the words after it, and whether the word being
    # completed is the value of an option (--format <Tab>).
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ -n $value_of ]]; then
            value_of=""
            continue
        fi
        case "$word" in
            -*=*) ;;
            -*) [[ " $(_tito_value_options "$cmd") " == *" $word "* ]] && value_of="$word" ;;
            *)
                if ((${#args[@]} == 0)) && [[ " $(_tito_commands "$cmd") " == *" $word "* ]]; then
                    cmd="${cmd:+$cmd }$word"
                else
                    args+=("$word")
                fi
                ;;
        esac
    done
    if [[ -n $value_of ]]; then
        words="$(_tito_option_values "$cmd" "$value_of")"
        if [[ $words == "@files" ]]; then
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$words" -- "$cur"))
        fi
        return 0
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_tito_options "$cmd")" -- "$cur"))
        return 0
    fi
    kind="$(_tito_positional "$cmd")"
    if [[ $kind == "@commands" ]]; then
        words="$(_tito_commands "${args[*]}")"
    elif ((${#args[@]} == 0)); then
        words="$(_tito_commands "$cmd")"
        case "$kind" in
            "@modules") words="$words $("$tito" --complete modules 2>/dev/null)" ;;
            "@milestones") words="$words $("$tito" --complete milestones 2>/dev/null)" ;;
            *) words="$words $kind" ;;
        esac
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return 0
}

complete -F _tito tito
)BASH";
    return out.str();
}

std::string zsh_script(const std::vector<CommandInfo>& commands) {
    std::ostringstream out;
    out << "#compdef tito\n"
           "# zsh completion for tito, the TinyTorch C++ course runner (made by `tito completion zsh`).\n"
           "# Installed in <prefix>/share/zsh/site-functions/_tito (that folder must be in $fpath before\n"
           "# compinit runs); or add to ~/.zshrc, after compinit:\n"
           "#     source <(tito completion zsh)\n\n";
    auto specs = [](const std::vector<std::pair<std::string, std::string>>& items) {
        std::vector<std::string> out;
        for (const auto& [name, description] : items) out.push_back(quoted(name + ":" + description));
        return out.empty() ? std::string() : "(" + join(out) + ")";
    };
    write_case(out, "_tito_command_specs", "$1", commands, [&](const CommandInfo& c) { return Pairs{{c.path, specs(c.commands)}}; },
               "reply=", "reply=()");
    write_case(out, "_tito_option_specs", "$1", commands, [&](const CommandInfo& c) { return Pairs{{c.path, specs(c.options)}}; },
               "reply=", "reply=()");
    write_case(out, "_tito_value_options", "$1", commands, [](const CommandInfo& c) {
        std::vector<std::string> names;
        for (const std::string& name : c.value_options) names.push_back(quoted(name));
        return Pairs{{c.path, names.empty() ? "" : "(" + join(names) + ")"}};
    }, "reply=", "reply=()");
    write_case(out, "_tito_option_values", "$1|$2", commands, [](const CommandInfo& c) {
        Pairs pairs;
        for (const auto& [option, values] : c.option_values) pairs.emplace_back(c.path + "|" + option, "(" + values + ")");
        return pairs;
    }, "reply=", "reply=()");
    write_case(out, "_tito_positional", "$1", commands, [](const CommandInfo& c) {
        return Pairs{{c.path, c.positional.empty() ? "" : quoted(c.positional)}};
    }, "REPLY=", "REPLY=''");
    out << R"ZSH(_tito() {
    local tito="${words[1]}" cur="${words[CURRENT]}" cmd="" word="" value_of="" kind=""
    local -i i
    local -a args names specs reply
    local REPLY
    tito="${~tito}"
    # The command typed so far ("module start"), the words after it, and whether the word being
    # completed is the value of an option (--format <Tab>).
    for ((i = 2; i < CURRENT; i++)); do
        word="${words[i]}"
        if [[ -n $value_of ]]; then
            value_of=""
            continue
        fi
        case "$word" in
            -*=*) ;;
            -*)
                _tito_value_options "$cmd"
                ((${reply[(Ie)$word]})) && value_of="$word"
                ;;
            *)
                _tito_command_specs "$cmd"
                names=("${(@)reply%%:*}")
                if ((${#args} == 0 && ${names[(Ie)$word]})); then
                    cmd="${cmd:+$cmd }$word"
                else
                    args+=("$word")
                fi
                ;;
        esac
    done
    if [[ -n $value_of ]]; then
        _tito_option_values "$cmd" "$value_of"
        if [[ ${reply[1]} == "@files" ]]; then
            _files
        else
            compadd -- "${reply[@]}"
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        _tito_option_specs "$cmd"
        specs=("${reply[@]}")
        _describe -t options 'option' specs
        return
    fi
    _tito_positional "$cmd"
    kind="$REPLY"
    if [[ $kind == "@commands" ]]; then
        _tito_command_specs "${(j: :)args}"
        specs=("${reply[@]}")
        ((${#specs})) && _describe -t commands 'tito command' specs
        return
    fi
    ((${#args} == 0)) || return
    _tito_command_specs "$cmd"
    specs=("${reply[@]}")
    ((${#specs})) && _describe -t commands 'tito command' specs
    case "$kind" in
        "@modules") compadd -- ${(f)"$("$tito" --complete modules 2>/dev/null)"} ;;
        "@milestones") compadd -- ${(f)"$("$tito" --complete milestones 2>/dev/null)"} ;;
        "") ;;
        *) compadd -- ${=kind} ;;
    esac
}

if [[ "${funcstack[1]}" == _tito ]]; then
    _tito "$@"  # autoloaded from $fpath: complete now
elif (($+functions[compdef])); then
    compdef _tito tito  # sourced after compinit
fi
)ZSH";
    return out.str();
}

// `tito --complete KIND`: the words a script offers for KIND, one a line. Nothing (and success)
// when the course cannot be read: a Tab key should never print errors.
int print_completion_words(const std::string& kind) {
    try {
        const Course course = Course::load(find_share_dir());
        if (kind == "modules") {
            for (const ModuleInfo& m : course.modules()) std::cout << m.id << "\n";
            for (const ModuleInfo& m : course.modules()) std::cout << m.name << "\n";
        } else if (kind == "milestones") {
            for (const MilestoneInfo& m : load_milestones(course)) std::cout << m.name << "\n";
        }
    } catch (const std::exception&) {
    }
    return kExitOk;
}

struct CompletionOptions {
    std::string shell;
    std::string output;
};

}  // namespace

std::string completion_script(const CLI::App& app, const std::string& shell) {
    std::vector<CommandInfo> commands;
    collect(app, app, "", commands);
    if (shell == "bash") return bash_script(commands);
    if (shell == "zsh") return zsh_script(commands);
    throw UserError("no completion for the shell '" + shell + "'", "tito completes in bash and zsh");
}

void setup_completion(CLI::App& app, CommandRunner& run) {
    auto options = std::make_shared<CompletionOptions>();
    CLI::App* completion = app.add_subcommand("completion", "Print the bash or zsh script that completes tito's commands on Tab");
    completion->add_option("shell", options->shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
    completion->add_option("--output", options->output, "Write the script to this file instead of printing it");
    completion->footer("Try it: `source <(tito completion bash)`, or in zsh `source <(tito completion zsh)` after compinit.\n"
                       "`cmake --install` installs both where bash-completion and zsh find them.");
    const CLI::App* root = &app;
    completion->callback([&run, root, options] {
        run = [root, options] {
            const std::string script = completion_script(*root, options->shell);
            if (options->output.empty()) {
                std::cout << script;
            } else {
                atomic_write_file(options->output, script);
            }
            return kExitOk;
        };
    });

    // Hidden (no group): what the scripts call for the words that depend on the installed course.
    auto kind = std::make_shared<std::string>();
    app.add_option_function<std::string>(
           "--complete", [&run, kind](const std::string& value) {
               *kind = value;
               run = [kind] { return print_completion_words(*kind); };
           },
           "For completion scripts: print the module or milestone names")
        ->group("");
}

}  // namespace tito
