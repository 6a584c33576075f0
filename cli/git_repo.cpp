// git_repo.cpp - see git_repo.h. libgit2 objects are freed by small RAII holders.
#include "git_repo.h"

#include <git2.h>

#include <utility>

#include "errors.h"

namespace tito {

namespace {

void ensure_libgit2() {
    static const int initialised = git_libgit2_init();
    (void)initialised;
}

// Throws a UserError with libgit2's own explanation when rc < 0.
void check(int rc, const std::string& what) {
    if (rc >= 0) return;
    const git_error* e = git_error_last();
    throw UserError(what + ": " + (e && e->message ? e->message : "unknown libgit2 error"),
                    "the workspace's .git folder may be damaged; `git status` in the workspace tells more");
}

template <class T, void (*Free)(T*)>
struct Holder {
    T* ptr = nullptr;
    ~Holder() {
        if (ptr) Free(ptr);
    }
    T** out() { return &ptr; }
};

using Index = Holder<git_index, git_index_free>;
using Tree = Holder<git_tree, git_tree_free>;
using Commit = Holder<git_commit, git_commit_free>;
using Signature = Holder<git_signature, git_signature_free>;

std::string short_id(const git_oid& oid) {
    char text[GIT_OID_HEXSZ + 1];
    git_oid_tostr(text, sizeof text, &oid);
    return std::string(text).substr(0, 10);
}

}  // namespace

GitRepo::GitRepo(git_repository* repo) : repo_(repo) {}
GitRepo::GitRepo(GitRepo&& other) noexcept : repo_(std::exchange(other.repo_, nullptr)) {}
GitRepo& GitRepo::operator=(GitRepo&& other) noexcept {
    std::swap(repo_, other.repo_);
    return *this;
}
GitRepo::~GitRepo() {
    if (repo_) git_repository_free(repo_);
}

bool GitRepo::exists(const std::filesystem::path& root) { return std::filesystem::exists(root / ".git"); }

GitRepo GitRepo::open_or_init(const std::filesystem::path& root) {
    ensure_libgit2();
    git_repository* repo = nullptr;
    if (exists(root)) {
        check(git_repository_open_ext(&repo, root.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr),
              "cannot open the git repository in " + root.string());
    } else {
        git_repository_init_options options = GIT_REPOSITORY_INIT_OPTIONS_INIT;
        options.flags = GIT_REPOSITORY_INIT_MKPATH;
        options.initial_head = "main";
        check(git_repository_init_ext(&repo, root.c_str(), &options), "cannot create a git repository in " + root.string());
    }
    return GitRepo(repo);
}

std::string GitRepo::head() const {
    git_oid oid;
    if (git_reference_name_to_id(&oid, repo_, "HEAD") < 0) return "";
    return short_id(oid);
}

std::string GitRepo::commit_all(const std::string& message) {
    Index index;
    check(git_repository_index(index.out(), repo_), "cannot open the git index");
    // Only what tito manages: a workspace made in a busy folder (say, a home directory) must not
    // sweep unrelated files into the history.
    char ignore_file[] = ".gitignore";
    char editor_file[] = "compile_commands.json";
    char state[] = ".tito";
    char modules[] = "[0-9][0-9]_*";
    char* patterns[] = {ignore_file, editor_file, state, modules};
    git_strarray everything = {patterns, 4};
    check(git_index_add_all(index.ptr, &everything, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr), "cannot stage files");
    check(git_index_update_all(index.ptr, &everything, nullptr, nullptr), "cannot stage deletions");
    check(git_index_write(index.ptr), "cannot write the git index");

    git_oid tree_id;
    check(git_index_write_tree(&tree_id, index.ptr), "cannot write the snapshot");
    Tree tree;
    check(git_tree_lookup(tree.out(), repo_, &tree_id), "cannot read the snapshot");

    Commit parent;
    git_oid parent_id;
    const bool has_parent = git_reference_name_to_id(&parent_id, repo_, "HEAD") == 0;
    if (has_parent) {
        check(git_commit_lookup(parent.out(), repo_, &parent_id), "cannot read the last commit");
        if (git_oid_equal(git_commit_tree_id(parent.ptr), &tree_id)) return "";  // nothing changed
    }

    // The student's own git identity when they have one; tito's otherwise.
    Signature signature;
    if (git_signature_default(signature.out(), repo_) < 0)
        check(git_signature_now(signature.out(), "tito", "tito@localhost"), "cannot make a commit signature");

    const git_commit* parents[] = {parent.ptr};
    git_oid commit_id;
    check(git_commit_create(&commit_id, repo_, "HEAD", signature.ptr, signature.ptr, nullptr, message.c_str(), tree.ptr,
                            has_parent ? 1 : 0, has_parent ? parents : nullptr),
          "cannot commit");
    return short_id(commit_id);
}

}  // namespace tito
