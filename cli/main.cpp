// main.cpp - tito's entry point and its command table.
//
// To add a command: write commands/<name>_cmd.{h,cpp} with setup_<name>(), and add a row below.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands/doctor_cmd.h"
#include "commands/milestone_cmd.h"
#include "commands/module_cmd.h"
#include "commands/status_cmd.h"
#include "commands/test_cmd.h"
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
    {"status", tito::setup_status},
    {"doctor", tito::setup_doctor},
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tito - the TinyTorch C++ course: build a deep-learning engine, module by module", "tito"};
    app.set_version_flag("--version", "tito " TITO_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.footer("Start with `tito module start 01`, then `tito test`. More: `tito <command> --help`.");

    bool verbose = false, quiet = false, json = false;
    app.add_flag("-v,--verbose", verbose, "Show more: commands run, failure details");
    app.add_flag("-q,--quiet", quiet, "Show only errors and results");
    app.add_flag("--json", json, "Print data as JSON (for scripts)");

    tito::CommandRunner run;
    for (const CommandEntry& command : kCommands) command.setup(app, run);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int status = app.exit(e);
        return status == 0 ? 0 : tito::kExitUserError;
    }

    tito::Console& console = tito::console();
    console = tito::detect_console();
    console.verbosity = quiet ? -1 : verbose ? 1 : 0;
    console.json = json;
    spdlog::set_pattern("%v");
    spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::warn);
    tito::init_sandbox_parent();

    try {
        return run ? run() : tito::kExitUserError;
    } catch (const tito::UserError& e) {
        std::cerr << tito::paint("error: ", tito::Color::red) << e.what();
        if (!e.hint().empty()) std::cerr << " (hint: " << e.hint() << ")";
        std::cerr << "\n";
        return tito::kExitUserError;
    } catch (const std::exception& e) {
        std::cerr << tito::paint("error: ", tito::Color::red) << e.what()
                  << " (hint: this looks like a bug in tito; run again with -v and report it)\n";
        return tito::kExitUserError;
    }
}
