// data_cmd.h - `tito data list | path NAME | verify [NAME] | fetch NAME | import NAME PATH`: the
// data sets the course trains on (MNIST, Fashion-MNIST, CIFAR-10, tiny-shakespeare).
#pragma once

#include "commands/command.h"

namespace tito {

void setup_data(CLI::App& app, CommandRunner& run);

}  // namespace tito
