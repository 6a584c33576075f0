// milestone_cmd.h - `tito milestone list | run <name> | status`.
#pragma once

#include "commands/command.h"

namespace tito {

void setup_milestone(CLI::App& app, CommandRunner& run);

}  // namespace tito
