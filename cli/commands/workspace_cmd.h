// workspace_cmd.h - `tito workspace repair`: restores tito's state files from the git history.
#pragma once

#include "commands/command.h"

namespace tito {

void setup_workspace(CLI::App& app, CommandRunner& run);

}  // namespace tito
