// tt_helper_big_file PATH [MIB] - writes a file of MIB MiB (default 200) in 1 MiB pieces.
#include <fcntl.h>

#include <string>

#include "helper_common.h"

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    long long mib = argc >= 3 ? std::atoll(argv[2]) : 200;
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 3;
    std::string piece(1024 * 1024, 'x');
    for (long long i = 0; i < mib; ++i) {
        if (write(fd, piece.data(), piece.size()) != static_cast<ssize_t>(piece.size())) {
            helper::say("write failed\n");
            return 1;
        }
    }
    close(fd);
    helper::say("wrote the file\n");
    return 0;
}
