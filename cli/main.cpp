// main.cpp - tito's entry point and its command table.
//
// To add a command: write commands/<name>_cmd.{h,cpp} with setup_<name>(), and add a row below.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "commands/completion_cmd.h"
#include "commands/data_cmd.h"
#include "commands/doctor_cmd.h"
#include "commands/help_cmd.h"
#include "commands/leaderboard_cmd.h"
#include "commands/milestone_cmd.h"
#include "commands/module_cmd.h"
#include "commands/status_cmd.h"
#include "commands/submit_cmd.h"
#include "commands/test_cmd.h"
#include "commands/workspace_cmd.h"
#include "errors.h"
#include "sandbox.h"
#include "term.h"
#include <spdlog/spdlog.h>

namespace {

struct CommandEntry {
    const char* name;
    void (*setup)(CLI::App&, tito::CommandRunner&);
};

// The command table: every subcommand of tito, in the order `tito --help` lists them.
const CommandEntry kCommands[] = {
    {"module", tito::setup_module},
    {"test", tito::setup_test},
    {"milestone", tito::setup_milestone},
    {"submit", tito::setup_submit},
    {"leaderboard", tito::setup_leaderboard},
    {"data", tito::setup_data},
    {"status", tito::setup_status},
    {"doctor", tito::setup_doctor},
    {"workspace", tito::setup_workspace},
    {"completion", tito::setup_completion},
    {"help", tito::setup_help},
};

int print_error(const std::string& message, const std::string& hint) {
    std::cerr << tito::paint("error: ", tito::Color::red) << message;
    if (!hint.empty()) std::cerr << " (hint: " << hint << ")";
    std::cerr << "\n";
    return tito::kExitUserError;
}

// "cannot create directories /ws/02_tensor: Permission denied" from a std::filesystem error,
// whose what() reads "filesystem error: cannot create directories: Permission denied [/ws/02_tensor]".
std::string describe(const std::filesystem::filesystem_error& e) {
    std::string what = e.what();
    const std::string prefix = "filesystem error: ";
    if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
    const std::string reason = ": " + e.code().message();
    const size_t at = what.find(reason);
    std::string action = at == std::string::npos ? what.substr(0, what.find(" [")) : what.substr(0, at);
    std::string message = action;
    if (!e.path1().empty()) message += " " + e.path1().string();
    if (!e.path2().empty()) message += " -> " + e.path2().string();
    return message + ": " + e.code().message();
}

// Help lists subcommands under "Commands:" (CLI11 says "Subcommands:"); hidden ones stay hidden.
void name_command_groups(CLI::App& command) {
    for (CLI::App* sub : command.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_group() == "Subcommands") sub->group("Commands");
        name_command_groups(*sub);
    }
}

// The folder an access error is about: the one holding `path` (creating, replacing and removing a
// file all write to its folder), or the nearest existing one above it.
std::filesystem::path blocking_folder(std::filesystem::path path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return path;
    path = path.parent_path();
    while (!path.empty() && path.has_parent_path() && path != path.parent_path() && !std::filesystem::exists(path, ec))
        path = path.parent_path();
    return path;
}

}  // namespace

int main(int argc, char** argv) {
    tito::Console& console = tito::console();
    console = tito::detect_console();

    CLI::App app{"tito - the TinyTorch C++ course: build a deep-learning engine, module by module", "tito"};
    app.set_version_flag("--version", "tito " TITO_VERSION);
    app.require_subcommand(0, 1);  // none: the help is shown (see below)
    app.fallthrough();
    app.get_formatter()->label("SUBCOMMAND", "COMMAND");

    bool verbose = false, quiet = false, json = false;
    app.add_flag("-v,--verbose", verbose, "Show more: commands run, failure details");
    app.add_flag("-q,--quiet", quiet, "Show only errors and results");
    app.add_flag("--json", json, "Print data as JSON (for scripts)");

    tito::CommandRunner run;
    for (const CommandEntry& command : kCommands) command.setup(app, run);
    name_command_groups(app);
    app.footer("Start with `tito module start 01`, then `tito test`. More: `tito help <command>`.");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return tito::report_parse_error(app, e);
    }

    console.verbosity = quiet ? -1 : verbose ? 1 : 0;
    console.json = json;
    spdlog::set_pattern("%v");
    spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::warn);

    // No command (`tito`, `tito module`): show what there is to type, as git does; a usage error.
    if (!run) {
        tito::print_help(app);
        return tito::kExitUserError;
    }
    tito::init_sandbox_parent();

    try {
        return run();
    } catch (const tito::UserError& e) {
        return print_error(e.what(), e.hint());
    } catch (const std::filesystem::filesystem_error& e) {
        // A file tito could not create, write or remove: a problem with the folder, not with tito.
        return print_error(describe(e), tito::os_error_hint(e.code().value(), blocking_folder(e.path1()).string()));
    } catch (const std::system_error& e) {
        return print_error(e.what(), tito::os_error_hint(e.code().value()));
    } catch (const std::exception& e) {
        return print_error(e.what(), "this looks like a bug in tito; run again with -v and report it");
    }
}
