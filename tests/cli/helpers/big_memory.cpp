// tt_helper_big_memory [chunks|single] [GIB] - allocates GIB GiB (default 8) and touches every page:
// in 64 MiB chunks (resident memory grows steadily) or as one allocation (fails at once under an
// address-space limit, with an uncaught std::bad_alloc).
#include <cstring>
#include <memory>
#include <vector>

#include "helper_common.h"

int main(int argc, char** argv) {
    bool single = argc >= 2 && std::string(argv[1]) == "single";
    size_t gib = argc >= 3 ? static_cast<size_t>(std::atoll(argv[2])) : 8;
    size_t total = gib << 30;
    if (single) {
        auto block = std::make_unique<char[]>(total);  // value-initialised: every page is touched
        helper::say("allocated " + std::to_string(gib) + " GiB, byte " + std::to_string(block[total / 2]) + "\n");
        return 0;
    }
    std::vector<char*> chunks;
    const size_t chunk = size_t(64) << 20;
    for (size_t done = 0; done < total; done += chunk) {
        char* p = new char[chunk];
        std::memset(p, 1, chunk);
        chunks.push_back(p);
    }
    helper::say("allocated " + std::to_string(gib) + " GiB\n");
    return 0;
}
