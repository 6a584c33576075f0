// completion_cmd.h - `tito completion bash|zsh`: a shell completion script for tito.
//
// The script is generated from the command table itself (commands, subcommands, options, the
// values an option accepts), so it never falls behind. What depends on the installed course -
// module numbers and names, milestone names - it asks tito for when you press Tab, through the
// hidden option `tito --complete modules|milestones`.
//
// `cmake --install` puts the scripts where bash-completion and zsh look for them:
//   <prefix>/share/bash-completion/completions/tito, <prefix>/share/zsh/site-functions/_tito
#pragma once

#include <string>

#include "commands/command.h"

namespace tito {

// Adds `tito completion` and the hidden `--complete` option to `app`, the root command.
void setup_completion(CLI::App& app, CommandRunner& run);

// The script for `shell` ("bash" or "zsh"), describing the commands of `app`.
std::string completion_script(const CLI::App& app, const std::string& shell);

}  // namespace tito
