// git_repo.h - the workspace's history, kept with libgit2 (no git executable needed).
//
// tito commits a snapshot at every milestone of a student's work (module started, tested with a
// score, reset), so nothing a student wrote is ever lost and an instructor can see the history.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct git_repository;

namespace tito {

struct CommitInfo {
    std::string id;        // full hex id
    std::string short_id;  // the first 10 digits, as tito prints them
    int64_t time = 0;      // seconds since 1970 (committer time)
    std::string summary;   // the first line of the message
};

class GitRepo {
public:
    // Opens the repository whose work tree is exactly `root`, creating it (branch "main") if
    // there is none. Throws UserError on failure.
    static GitRepo open_or_init(const std::filesystem::path& root);
    static bool exists(const std::filesystem::path& root);
    // Opens the repository whose work tree is exactly `root`; nullopt when there is none (nothing
    // is created). Throws UserError when it exists but cannot be opened.
    static std::optional<GitRepo> open_existing(const std::filesystem::path& root);

    // Stages every change (new, modified, deleted files; .gitignore respected) to what tito
    // manages - .gitignore, compile_commands.json, .tito/, the NN_name/ module folders and milestones/ - and
    // commits it.
    // Returns the new commit's short id, or "" when there was nothing to commit.
    std::string commit_all(const std::string& message);
    // Short id of HEAD, "" before the first commit.
    std::string head() const;
    // Full (40 hex digits) id of HEAD, "" before the first commit.
    std::string head_id() const;
    // Writes every file of commit `commit_id`'s tree (a full or unique abbreviated id) into
    // `folder` (created when missing), as it was committed: what `git archive` would give, read
    // from the object database with libgit2 (no git executable, the work tree untouched).
    // UserError for an unknown commit.
    void export_commit(const std::string& commit_id, const std::filesystem::path& folder) const;

    // Commits reachable from HEAD, newest first, at most `limit` of them (none before the first).
    std::vector<CommitInfo> history(size_t limit = 100000) const;
    // The content of the file at `path` ("/"-separated, from the work tree's root) in commit
    // `commit_id`; nullopt when that commit has no such file.
    std::optional<std::string> read_file(const std::string& commit_id, const std::string& path) const;
    // The names of the files directly in folder `path` of commit `commit_id` (none when absent).
    std::vector<std::string> list_folder(const std::string& commit_id, const std::string& path) const;

    GitRepo(GitRepo&&) noexcept;
    GitRepo& operator=(GitRepo&&) noexcept;
    ~GitRepo();

private:
    explicit GitRepo(git_repository* repo);
    git_repository* repo_ = nullptr;
};

}  // namespace tito
