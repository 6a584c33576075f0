// status_cmd.h - `tito status`: every module's state and best score.
#pragma once

#include "commands/command.h"

namespace tito {

void setup_status(CLI::App& app, CommandRunner& run);

}  // namespace tito
