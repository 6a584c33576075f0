// command.h - what every subcommand file provides, and the state they share.
//
// Each command is one file pair, commands/<name>_cmd.{h,cpp}, with
//     void setup_<name>(CLI::App& app, CommandRunner& run);
// which adds the subcommand, its options and help, and - when the subcommand is chosen - stores
// in `run` the function that does the work and returns the exit status. main() holds the table.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace tito {

using CommandRunner = std::function<int()>;

}  // namespace tito
