// tt_helper_busy_loop [PROCESSES] - spins forever on the CPU, in PROCESSES processes (default 1).
#include "helper_common.h"

int main(int argc, char** argv) {
    int processes = argc >= 2 ? std::atoi(argv[1]) : 1;
    for (int i = 1; i < processes; ++i) {
        if (fork() == 0) break;
    }
    volatile unsigned long counter = 0;
    for (;;) counter = counter + 1;
}
