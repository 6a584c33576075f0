// workspace_lock.cpp - see workspace_lock.h.
#include "workspace_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include "errors.h"
#include "term.h"

namespace tito {

namespace fs = std::filesystem;

namespace {

// "/usr/local/bin/tito\0test\002\0" -> "tito test 02" (at most ~80 characters, printable only).
std::string command_line_of(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    if (!in) return "";
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> args;
    std::string current;
    for (char c : raw) {
        if (c == '\0') {
            args.push_back(current);
            current.clear();
        } else {
            current += c;
        }
    }
    if (!current.empty()) args.push_back(current);
    if (args.empty()) return "";
    args[0] = fs::path(args[0]).filename().string();
    std::string text;
    for (const std::string& a : args) text += (text.empty() ? "" : " ") + a;
    for (char& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
}

// The pid holding an flock on the file with this device and inode, from /proc/locks:
//   "1: FLOCK  ADVISORY  WRITE 3859 fe:00:10953047 0 EOF"
// (lines with "->" are processes waiting for a lock, not holding it).
long lock_holder_pid(const struct stat& st) {
    std::ifstream locks("/proc/locks");
    std::string line;
    long inode_only = 0;
    while (std::getline(locks, line)) {
        std::istringstream fields(line);
        std::string number, kind, mode, access, file;
        long pid = 0;
        if (!(fields >> number >> kind)) continue;
        if (kind == "->") continue;
        if (kind != "FLOCK" || !(fields >> mode >> access >> pid >> file)) continue;
        unsigned int dev_major = 0, dev_minor = 0;
        unsigned long long inode = 0;
        if (std::sscanf(file.c_str(), "%x:%x:%llu", &dev_major, &dev_minor, &inode) != 3) continue;
        if (inode != static_cast<unsigned long long>(st.st_ino)) continue;
        if (dev_major == major(st.st_dev) && dev_minor == minor(st.st_dev)) return pid;
        inode_only = pid;  // overlay file systems report another device than stat() does
    }
    return inode_only;
}

std::string describe_holder(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return "another process";
    long pid = lock_holder_pid(st);
    if (pid <= 0) return "another process";
    std::string command = command_line_of(pid);
    return "pid " + std::to_string(pid) + (command.empty() ? "" : ": " + command);
}

bool same_file(int fd, const fs::path& path) {
    struct stat by_fd {}, by_path {};
    if (::fstat(fd, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0) return false;
    return by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

int open_lock_file(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && (errno == EACCES || errno == EROFS)) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw UserError("cannot open the workspace lock " + path.string() + ": " + std::strerror(errno),
                        "check that you may write to the workspace folder");
    return fd;
}

}  // namespace

fs::path WorkspaceLock::lock_path(const fs::path& tito_dir) { return tito_dir / "lock"; }

std::optional<WorkspaceLock> WorkspaceLock::lock(const fs::path& tito_dir, bool wait) {
    std::error_code ec;
    fs::create_directories(tito_dir, ec);
    const fs::path path = lock_path(tito_dir);
    bool told = false;
    while (true) {
        int fd = open_lock_file(path);
        int rc;
        do {
            rc = ::flock(fd, LOCK_EX | LOCK_NB);
        } while (rc != 0 && errno == EINTR);
        if (rc != 0 && errno == EWOULDBLOCK) {
            if (!wait) {
                ::close(fd);
                return std::nullopt;
            }
            if (!told) {
                std::cerr << "waiting for another tito in this workspace (" << describe_holder(fd) << ") ..." << std::endl;
                told = true;
            }
            do {
                rc = ::flock(fd, LOCK_EX);
            } while (rc != 0 && errno == EINTR);
        }
        if (rc != 0) {
            // A file system without locks (some network mounts): carry on unlocked rather than
            // refuse to work at all.
            warn("cannot lock " + path.string() + " (" + std::strerror(errno) +
                 "); do not run two tito commands in this workspace at once");
            return WorkspaceLock(fd);
        }
        // The file may have been deleted or replaced while we waited: the lock must be on the
        // file that is there now, or the next tito would lock a different one.
        if (same_file(fd, path)) return WorkspaceLock(fd);
        ::close(fd);
    }
}

WorkspaceLock WorkspaceLock::acquire(const fs::path& tito_dir) { return *lock(tito_dir, true); }

std::optional<WorkspaceLock> WorkspaceLock::try_acquire(const fs::path& tito_dir) { return lock(tito_dir, false); }

WorkspaceLock::WorkspaceLock(WorkspaceLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

WorkspaceLock& WorkspaceLock::operator=(WorkspaceLock&& other) noexcept {
    if (this != &other) {
        release();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

WorkspaceLock::~WorkspaceLock() { release(); }

void WorkspaceLock::release() {
    if (fd_ < 0) return;
    ::close(fd_);  // closing the only descriptor releases the flock
    fd_ = -1;
}

std::string workspace_lock_holder(const fs::path& tito_dir) {
    const fs::path path = WorkspaceLock::lock_path(tito_dir);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string holder;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        ::flock(fd, LOCK_UN);
    } else if (errno == EWOULDBLOCK) {
        holder = describe_holder(fd);
    }
    ::close(fd);
    return holder;
}

}  // namespace tito
