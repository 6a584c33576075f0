// git_repo.h - the workspace's history, kept with libgit2 (no git executable needed).
//
// tito commits a snapshot at every milestone of a student's work (module started, tested with a
// score, reset), so nothing a student wrote is ever lost and an instructor can see the history.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

struct git_repository;

namespace tito {

class GitRepo {
public:
    // Opens the repository whose work tree is exactly `root`, creating it (branch "main") if
    // there is none. Throws UserError on failure.
    static GitRepo open_or_init(const std::filesystem::path& root);
    static bool exists(const std::filesystem::path& root);

    // Stages every change (new, modified, deleted files; .gitignore respected) to what tito
    // manages - .gitignore, compile_commands.json, .tito/ and the NN_name/ module folders - and
    // commits it.
    // Returns the new commit's short id, or "" when there was nothing to commit.
    std::string commit_all(const std::string& message);
    // Short id of HEAD, "" before the first commit.
    std::string head() const;

    GitRepo(GitRepo&&) noexcept;
    GitRepo& operator=(GitRepo&&) noexcept;
    ~GitRepo();

private:
    explicit GitRepo(git_repository* repo);
    git_repository* repo_ = nullptr;
};

}  // namespace tito
