// tt_helper_sleep_forever - never ends by itself and uses no CPU.
#include "helper_common.h"

int main() {
    helper::say("going to sleep\n");
    helper::sleep_forever();
}
