// doctor_cmd.h - `tito doctor`: checks the installation, the compiler and the workspace.
#pragma once

#include "commands/command.h"

namespace tito {

void setup_doctor(CLI::App& app, CommandRunner& run);

}  // namespace tito
