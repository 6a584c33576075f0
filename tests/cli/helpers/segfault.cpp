// tt_helper_segfault - writes through a null pointer.
#include "helper_common.h"

int* volatile target = nullptr;

int main() {
    helper::say("about to crash\n");
    *target = 42;
    return 0;
}
