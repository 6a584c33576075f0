// tt_helper_abort - calls abort(), as a failed assert() does.
#include "helper_common.h"

int main() {
    helper::say("about to abort\n");
    std::abort();
}
