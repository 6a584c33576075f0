// workspace_lock.h - one tito at a time in a workspace.
//
// Two commands that change a workspace at once (two `tito test` in two terminals, `tito test`
// beside `tito module reset`) would share one build folder, interleave their progress.json
// updates and commit each other's half-written state. Every command that writes to a workspace
// holds its lock for the whole command:
//
//     Workspace workspace = open_current_workspace();
//     WorkspaceLock lock = WorkspaceLock::acquire(workspace.tito_dir());
//     workspace = Workspace::open(workspace.root());  // re-read: the holder before us may have saved
//
// The lock is flock(2) on .tito/lock, an empty file (so the snapshots tito commits never change
// because of it). The kernel releases it when the holder's last descriptor closes, so a tito that
// is killed, crashes or loses power never leaves a stale lock behind. While another tito holds
// it, acquire() says so on stderr, once, and waits:
//     waiting for another tito in this workspace (pid 4242: tito test 02) ...
// The holder is found in /proc/locks, and its command line in /proc/<pid>/cmdline.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tito {

class WorkspaceLock {
public:
    // Blocks until this process holds the lock of the workspace whose state folder is `tito_dir`
    // (created when missing). Throws UserError when the lock file cannot be created or locked.
    static WorkspaceLock acquire(const std::filesystem::path& tito_dir);
    // The lock if nobody else holds it, nullopt otherwise; never waits.
    static std::optional<WorkspaceLock> try_acquire(const std::filesystem::path& tito_dir);

    WorkspaceLock(WorkspaceLock&& other) noexcept;
    WorkspaceLock& operator=(WorkspaceLock&& other) noexcept;
    WorkspaceLock(const WorkspaceLock&) = delete;
    WorkspaceLock& operator=(const WorkspaceLock&) = delete;
    ~WorkspaceLock();  // releases

    void release();
    bool held() const { return fd_ >= 0; }

    // .tito/lock
    static std::filesystem::path lock_path(const std::filesystem::path& tito_dir);

private:
    explicit WorkspaceLock(int fd) : fd_(fd) {}
    static std::optional<WorkspaceLock> lock(const std::filesystem::path& tito_dir, bool wait);
    int fd_ = -1;
};

// Who holds the lock of a workspace right now: "pid 4242: tito test 02", "pid 4242" when its
// command line cannot be read, "another process" when /proc/locks does not say; "" when nobody.
std::string workspace_lock_holder(const std::filesystem::path& tito_dir);

}  // namespace tito
