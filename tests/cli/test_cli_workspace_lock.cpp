// Tests of cli/workspace_lock.cpp: one tito at a time, a lock that dies with its holder, and a
// message naming who holds it.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_testing.h"
#include "files.h"
#include "workspace_lock.h"

namespace fs = std::filesystem;
using cli_testing::scratch_dir;
using tito::WorkspaceLock;

namespace {

// A child process that takes the lock, writes "locked" to `ready`, and keeps it for `seconds`.
pid_t hold_in_child(const fs::path& tito_dir, const fs::path& ready, double seconds) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        WorkspaceLock lock = WorkspaceLock::acquire(tito_dir);
        std::ofstream(ready) << "locked";
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
        ::_exit(0);
    }
    for (int i = 0; i < 500 && !fs::exists(ready); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(fs::exists(ready));
    return pid;
}

}  // namespace

TEST_CASE("workspace lock: one holder at a time; released on destruction") {
    const fs::path dir = scratch_dir("lock") / ".tito";
    {
        WorkspaceLock first = WorkspaceLock::acquire(dir);
        CHECK(first.held());
        CHECK(fs::exists(WorkspaceLock::lock_path(dir)));
        CHECK_FALSE(WorkspaceLock::try_acquire(dir).has_value());  // another open file description
        // The lock file stays empty: tito commits .tito/, and the lock must never change a snapshot.
        CHECK(fs::file_size(WorkspaceLock::lock_path(dir)) == 0);
        const std::string holder = tito::workspace_lock_holder(dir);
        CHECK_THAT(holder, Catch::StartsWith("pid " + std::to_string(::getpid()) + ": test_cli"));
    }
    auto again = WorkspaceLock::try_acquire(dir);
    REQUIRE(again.has_value());
    again->release();
    CHECK(tito::workspace_lock_holder(dir).empty());
    fs::remove_all(dir.parent_path());
}

TEST_CASE("workspace lock: a holder that is killed releases it") {
    const fs::path dir = scratch_dir("lock-kill") / ".tito";
    const pid_t holder = hold_in_child(dir, dir.parent_path() / "ready", 60);
    CHECK_FALSE(WorkspaceLock::try_acquire(dir).has_value());
    CHECK_THAT(tito::workspace_lock_holder(dir), Catch::StartsWith("pid " + std::to_string(holder) + ": test_cli"));
    ::kill(holder, SIGKILL);
    int status = 0;
    ::waitpid(holder, &status, 0);
    CHECK(WorkspaceLock::try_acquire(dir).has_value());
    fs::remove_all(dir.parent_path());
}

TEST_CASE("workspace lock: acquire waits for the holder and says who it is, once") {
    const fs::path dir = scratch_dir("lock-wait") / ".tito";
    const pid_t holder = hold_in_child(dir, dir.parent_path() / "ready", 0.5);

    // Catch stderr while acquire() waits.
    const fs::path captured = dir.parent_path() / "stderr.txt";
    int saved = ::dup(2);
    int file = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(file, 2);
    const auto start = std::chrono::steady_clock::now();
    WorkspaceLock lock = WorkspaceLock::acquire(dir);
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ::dup2(saved, 2);
    ::close(saved);
    ::close(file);
    int status = 0;
    ::waitpid(holder, &status, 0);

    CHECK(lock.held());
    CHECK(waited > 0.2);
    const std::string message = tito::read_text_file(captured);
    CHECK_THAT(message, Catch::StartsWith("waiting for another tito in this workspace (pid " + std::to_string(holder) + ": test_cli") &&
                            Catch::EndsWith(") ...\n"));
    CHECK(std::count(message.begin(), message.end(), '\n') == 1);
    fs::remove_all(dir.parent_path());
}

TEST_CASE("workspace lock: the lock follows the file when it is replaced") {
    const fs::path dir = scratch_dir("lock-replace") / ".tito";
    WorkspaceLock first = WorkspaceLock::acquire(dir);
    // Someone deletes .tito/lock while it is held (a repair, a careless rm): a new tito locks the
    // new file, but a tito that waited on the old one must not believe it holds the lock.
    fs::remove(WorkspaceLock::lock_path(dir));
    auto second = WorkspaceLock::try_acquire(dir);
    CHECK(second.has_value());
    CHECK_FALSE(WorkspaceLock::try_acquire(dir).has_value());
    fs::remove_all(dir.parent_path());
}
