// tt_helper_fake_pass - prints what a passing test run looks like, writes no result and leaves
// with _exit(0). A grade must come from the result channel, never from this.
#include "helper_common.h"

int main() {
    helper::say("===============================================================================\n"
                "All tests passed (42 assertions in 7 test cases)\n\n"
                "{\"test\":\"conv2d_forward\",\"passed\":true}\n");
    _exit(0);
}
