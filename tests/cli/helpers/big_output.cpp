// tt_helper_big_output [MIB] - prints MIB MiB (default 1024) of text as fast as it can, then exits 0.
#include <string>

#include "helper_common.h"

int main(int argc, char** argv) {
    long long mib = argc >= 2 ? std::atoll(argv[1]) : 1024;
    std::string line = "first line\n";
    helper::say(line);
    std::string chunk;
    while (chunk.size() < 64 * 1024) chunk += "the quick brown fox jumps over the lazy dog, again and again..\n";
    chunk.resize(64 * 1024);
    long long total = mib * 1024 * 1024 - static_cast<long long>(line.size());
    while (total > 0) {
        size_t n = total < static_cast<long long>(chunk.size()) ? static_cast<size_t>(total) : chunk.size();
        helper::write_all(1, chunk.substr(0, n));
        total -= static_cast<long long>(n);
    }
    return 0;
}
