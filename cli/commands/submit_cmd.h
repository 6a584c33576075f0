// submit_cmd.h - `tito submit --competition cifar|gpt`: race your engine, record the result.
#pragma once

#include "commands/command.h"

namespace tito {

void setup_submit(CLI::App& app, CommandRunner& run);

}  // namespace tito
