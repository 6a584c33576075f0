// cli_testing.h - helpers shared by tito's unit tests (tests/cli/test_cli_*.cpp).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace cli_testing {

// A fresh, empty folder in the system's temporary folder, unique to this process and `name`.
inline std::filesystem::path scratch_dir(const std::string& name) {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("tito-test-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

}  // namespace cli_testing
