// tt_helper_fork_tree COUNT exit|wait - starts COUNT sleeping processes. Every fourth one escapes
// the usual way: an intermediate child calls setsid() and forks again, then exits, so the sleeper
// is re-parented and in its own session and process group. All COUNT sleepers exist before the
// helper prints "started" and then exits (exit) or sleeps too (wait).
#include <sys/wait.h>

#include "helper_common.h"

int main(int argc, char** argv) {
    int count = argc >= 2 ? std::atoi(argv[1]) : 200;
    bool wait = argc >= 3 && std::string(argv[2]) == "wait";
    for (int i = 0; i < count; ++i) {
        pid_t child = fork();
        if (child < 0) {
            helper::say("fork failed\n");
            return 1;
        }
        if (child == 0) {
            if (i % 4 == 3) {
                setsid();
                if (fork() != 0) _exit(0);
            }
            helper::sleep_forever();
        }
        if (i % 4 == 3) waitpid(child, nullptr, 0);  // the intermediate, once its child exists
    }
    helper::say("started " + std::to_string(count) + "\n");
    if (wait) helper::sleep_forever();
    return 0;
}
