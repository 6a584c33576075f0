// help_cmd.h - `tito help [command [subcommand]]`, and the one-line message for every usage error
// (an unknown command or option, a missing argument) with a "did you mean" and the valid choices.
#pragma once

#include <string>
#include <vector>

#include "commands/command.h"

namespace tito {

void setup_help(CLI::App& app, CommandRunner& run);

// "tito module start" for the `start` subcommand of `module`.
std::string command_path(const CLI::App& command);
// The subcommands a person may type (hidden ones left out), in the order the help lists them.
std::vector<const CLI::App*> visible_subcommands(const CLI::App& command);

// Prints the help of `tito`, or of the command selected on the command line, on stdout.
void print_help(const CLI::App& command);

// Reports a parse error of the command line: help and --version print and return 0; anything else
// is one line on stderr (what was wrong, the valid choices) and returns kExitUserError.
int report_parse_error(CLI::App& app, const CLI::ParseError& error);

}  // namespace tito
