// module_cmd.h - `tito module list | start <N> | reset <N>`.
#pragma once

#include "commands/command.h"

namespace tito {

void setup_module(CLI::App& app, CommandRunner& run);

}  // namespace tito
