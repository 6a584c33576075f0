// help_cmd.cpp - `tito help [command [subcommand]]` and the messages for usage errors.
#include "commands/help_cmd.h"

#include <iostream>
#include <memory>
#include <sstream>

#include "course.h"
#include "errors.h"
#include "term.h"

namespace tito {

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

std::vector<std::string> subcommand_names(const CLI::App& command) {
    std::vector<std::string> names;
    for (const CLI::App* sub : visible_subcommands(command)) names.push_back(sub->get_name());
    return names;
}

// "`tito help module start`" - how to read the help of `command`.
std::string help_command(const CLI::App& command) {
    const std::string path = command_path(command);
    return "`tito help" + path.substr(std::string("tito").size()) + "`";
}

// The option names valid at `command`: its own and, since options fall through to the commands
// above, theirs. Hidden options are left out.
std::vector<std::string> option_names(const CLI::App& command) {
    std::vector<std::string> names;
    for (const CLI::App* level = &command; level; level = level->get_parent())
        for (const CLI::Option* option : level->get_options()) {
            if (!option->nonpositional() || option->get_group().empty()) continue;
            for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
            for (const std::string& name : option->get_snames()) names.push_back("-" + name);
        }
    return names;
}

// "unknown command 'frob'" with the valid ones; `word` is not a subcommand of `command`.
UserError unknown_command(const CLI::App& command, const std::string& word) {
    const std::vector<std::string> names = subcommand_names(command);
    const std::string suggestion = closest_word(word, names);
    const bool top = command.get_parent() == nullptr;
    std::string message = "unknown command '" + word + "'" + (top ? "" : " for `" + command_path(command) + "`");
    std::string hint = suggestion.empty() ? "" : "did you mean '" + suggestion + "'? ";
    hint += top ? "the commands are " + join(names) + "; `tito help <command>` explains one"
                : "`" + command_path(command) + "` has " + join(names) + "; " + help_command(command) + " explains them";
    return UserError(message, hint);
}

void print_error(const UserError& error) {
    std::cerr << paint("error: ", Color::red) << error.what();
    if (!error.hint().empty()) std::cerr << " (hint: " << error.hint() << ")";
    std::cerr << "\n";
}

// "tito module start [OPTIONS] module": the usage line of the command's help.
std::string usage_line(const CLI::App& command) {
    std::istringstream help(command.get_formatter()->make_help(&command, command_path(command), CLI::AppFormatMode::Normal));
    const std::string label = "Usage: ";
    std::string line;
    while (std::getline(help, line))
        if (line.rfind(label, 0) == 0) return line.substr(label.size());
    return command_path(command);
}

int run_help(const CLI::App& root, const std::vector<std::string>& words) {
    const CLI::App* command = &root;
    for (const std::string& word : words) {
        const CLI::App* next = nullptr;
        for (const CLI::App* sub : visible_subcommands(*command))
            if (sub->get_name() == word) next = sub;
        if (!next) {
            if (visible_subcommands(*command).empty())
                throw UserError("`" + command_path(*command) + "` has no subcommand '" + word + "'",
                                help_command(*command) + " explains it");
            throw unknown_command(*command, word);
        }
        command = next;
    }
    std::cout << command->get_formatter()->make_help(command, command_path(*command), CLI::AppFormatMode::Normal);
    return kExitOk;
}

}  // namespace

std::string command_path(const CLI::App& command) {
    std::string path = command.get_name();
    for (const CLI::App* parent = command.get_parent(); parent; parent = parent->get_parent())
        path = parent->get_name() + " " + path;
    return path;
}

std::vector<const CLI::App*> visible_subcommands(const CLI::App& command) {
    return command.get_subcommands([](const CLI::App* sub) { return !sub->get_group().empty() && !sub->get_name().empty(); });
}

void print_help(const CLI::App& command) {
    const CLI::App* selected = &command;
    while (!selected->get_subcommands().empty()) selected = selected->get_subcommands().front();
    std::cout << selected->get_formatter()->make_help(selected, command_path(*selected), CLI::AppFormatMode::Normal);
}

int report_parse_error(CLI::App& app, const CLI::ParseError& error) {
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(error);  // --help, --version

    // The command the error is about: the deepest one selected on the command line.
    const CLI::App* command = &app;
    while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
    const std::string path = command_path(*command);

    // Words nobody claimed come first: they are usually the real mistake (`tito module frob`).
    const std::vector<std::string> extras = app.remaining(true);
    if (!extras.empty()) {
        const std::string& word = extras.front();
        if (word.size() > 1 && word[0] == '-') {
            const std::string name = word.substr(0, word.find('='));
            const std::string suggestion = closest_word(name, option_names(*command));
            print_error(UserError("unknown option '" + name + "'" + (command == &app ? "" : " for `" + path + "`"),
                                  (suggestion.empty() ? "" : "did you mean '" + suggestion + "'? ") + help_command(*command) +
                                      " lists the options"));
        } else if (!visible_subcommands(*command).empty()) {
            print_error(unknown_command(*command, word));
        } else {
            print_error(UserError("unexpected argument '" + word + "' for `" + path + "`",
                                  "usage: " + usage_line(*command) + "; " + help_command(*command) + " explains it"));
        }
        return kExitUserError;
    }
    const std::string what = error.what();
    const std::string required = " is required";
    if (dynamic_cast<const CLI::RequiredError*>(&error) && what.size() > required.size() &&
        what.compare(what.size() - required.size(), required.size(), required) == 0 && what.find(' ') == what.size() - required.size()) {
        print_error(UserError("`" + path + "` needs its " + what.substr(0, what.size() - required.size()) + " argument",
                              "usage: " + usage_line(*command) + "; " + help_command(*command) + " explains it"));
        return kExitUserError;
    }
    print_error(UserError(what + (command == &app ? "" : " (in `" + path + "`)"),
                          help_command(*command) + " shows the options and their values"));
    return kExitUserError;
}

void setup_help(CLI::App& app, CommandRunner& run) {
    auto words = std::make_shared<std::vector<std::string>>();
    CLI::App* help = app.add_subcommand("help", "Show how to use tito or one of its commands: `tito help module start`");
    help->add_option("command", *words, "A command, and a subcommand of it");
    const CLI::App* root = &app;
    help->callback([&run, root, words] { run = [root, words] { return run_help(*root, *words); }; });
}

}  // namespace tito
