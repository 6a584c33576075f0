// memory.cpp - the [given] peak_memory_bytes() of training.h: how much memory the run needed.
//
// Linux keeps, for every process, the high-water mark of its resident set: the most physical
// memory it ever held at once (VmHWM in /proc/self/status). That is the number that decides whether
// a training run fits on a machine - not what it holds at the end, when the activations of the
// last batch are long gone - and reading it costs one small file read, so the Trainer records it
// after every epoch for free.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "tinytorch/training.h"

namespace tt {

int64_t peak_memory_bytes() {
    // The line reads "VmHWM:\t  123456 kB" (the kernel's kB are KiB).
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) != 0) continue;
        std::istringstream fields(line.substr(6));
        int64_t kib = 0;
        std::string unit;
        if (fields >> kib >> unit && unit == "kB" && kib >= 0) return kib * 1024;
        return 0;
    }
    return 0;  // not Linux, or /proc is not mounted
}

}  // namespace tt
