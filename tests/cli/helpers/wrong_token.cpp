// tt_helper_wrong_token - claims success the wrong ways: a result line with a made-up token, and the
// real token printed on stdout instead of the result channel. Neither may count.
#include "helper_common.h"

int main() {
    std::string t = helper::token();
    helper::write_all(helper::result_fd(), "{\"token\":\"0123456789abcdef0123456789abcdef\",\"test\":\"a\",\"passed\":true}\n");
    helper::say("{\"token\":\"" + t + "\",\"test\":\"a\",\"passed\":true}\n");
    return 0;
}
