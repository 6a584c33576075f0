// test_cmd.h - `tito test [N] [--all]`: compile, grade, record, show.
#pragma once

#include "commands/command.h"

namespace tito {

void setup_test(CLI::App& app, CommandRunner& run);

}  // namespace tito
