// tt_helper_hopper [setsid] - never stays one process: forks, and the parent exits at once, again
// and again, so its pid keeps changing (with setsid: its session and process group too). The
// program itself ends at the first hop. Harder to kill than a fork tree: the process seen in /proc
// a moment ago is already gone. Gives up by itself after 8 s, so a failed test cannot leave it
// running on the machine.
#include <time.h>

#include "helper_common.h"

static double now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    bool new_session = argc >= 2 && std::string(argv[1]) == "setsid";
    const double give_up = now() + 8;
    helper::say("hopping\n");
    for (;;) {
        pid_t child = fork();
        if (child != 0) _exit(child < 0 ? 1 : 0);
        if (new_session) setsid();
        if (now() > give_up) _exit(0);
    }
}
