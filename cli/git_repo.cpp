// git_repo.cpp - see git_repo.h. libgit2 objects are freed by small RAII holders.
#include "git_repo.h"

#include <git2.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "errors.h"

namespace tito {

namespace {

void ensure_libgit2() {
    static const int initialised = git_libgit2_init();
    (void)initialised;
}

// The operating-system error a libgit2 message reports ("... '.git/index.lock' for writing:
// Permission denied"), or 0 when it names none of those a person can fix.
int os_error_in(const std::string& message) {
    for (int error_number : {EACCES, EPERM, EROFS, ENOSPC, EDQUOT})
        if (message.find(std::strerror(error_number)) != std::string::npos) return error_number;
    return 0;
}

// libgit2 refuses a repository that another user owns ("safe.directory").
[[noreturn]] void throw_not_owned(const std::string& what, const std::string& root) {
    throw UserError(what + ": it belongs to another user",
                    "was tito run with sudo there? `sudo chown -R \"$USER\" " + root +
                        "` makes its owner you again; or work in a folder of your own");
}

// Whether `root` or its .git belongs to a user other than the one running tito.
bool owned_by_someone_else(const std::filesystem::path& root) {
    for (const std::filesystem::path& path : {root, root / ".git"}) {
        struct stat info {};
        if (::stat(path.c_str(), &info) == 0 && info.st_uid != ::geteuid()) return true;
    }
    return false;
}

// Throws a UserError with libgit2's own explanation when rc < 0.
void check(int rc, const std::string& what) {
    if (rc >= 0) return;
    const git_error* e = git_error_last();
    const std::string message = e && e->message ? e->message : "unknown libgit2 error";
    if (const int error_number = os_error_in(message))
        throw UserError(what + ": " + message, os_error_hint(error_number));
    if (rc == GIT_EOWNER) throw_not_owned(what, "<workspace>");
    throw UserError(what + ": " + message, "the workspace's .git folder may be damaged; `git status` in the workspace tells more");
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
using RevWalk = Holder<git_revwalk, git_revwalk_free>;
using TreeEntry = Holder<git_tree_entry, git_tree_entry_free>;
using Blob = Holder<git_blob, git_blob_free>;

// The root tree of commit `commit_id` (a full hexadecimal id) into `tree`.
void commit_tree(git_repository* repo, const std::string& commit_id, Tree& tree) {
    git_oid id;
    check(git_oid_fromstr(&id, commit_id.c_str()), "not a commit id: " + commit_id);
    Commit commit;
    check(git_commit_lookup(commit.out(), repo, &id), "cannot read commit " + commit_id);
    check(git_commit_tree(tree.out(), commit.ptr), "cannot read commit " + commit_id);
}

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

std::optional<GitRepo> GitRepo::open_existing(const std::filesystem::path& root) {
    if (!exists(root)) return std::nullopt;
    return open_or_init(root);
}

GitRepo GitRepo::open_or_init(const std::filesystem::path& root) {
    ensure_libgit2();
    git_repository* repo = nullptr;
    if (exists(root)) {
        const std::string what = "cannot open the git repository in " + root.string();
        const int rc = git_repository_open_ext(&repo, root.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
        // libgit2 1.5 loses its own "not owned by current user" message ("config value
        // 'safe.directory' was not found"), so ownership is checked here.
        if (rc < 0 && owned_by_someone_else(root)) throw_not_owned(what, root.string());
        check(rc, what);
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

std::string GitRepo::head_id() const {
    git_oid oid;
    if (git_reference_name_to_id(&oid, repo_, "HEAD") < 0) return "";
    char text[GIT_OID_HEXSZ + 1];
    git_oid_tostr(text, sizeof text, &oid);
    return text;
}

namespace {

// Writes the blobs of `tree` below `folder`, recursing into subtrees. Symbolic links are written
// as links, executables keep their mode; submodules (commits inside a tree) are left out.
void export_tree(git_repository* repo, const git_tree* tree, const std::filesystem::path& folder) {
    std::filesystem::create_directories(folder);
    for (size_t i = 0; i < git_tree_entrycount(tree); ++i) {
        const git_tree_entry* item = git_tree_entry_byindex(tree, i);
        const std::string name = git_tree_entry_name(item);
        // A tree entry is one path component; anything else would write outside `folder`.
        if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) continue;
        const std::filesystem::path target = folder / name;
        if (git_tree_entry_type(item) == GIT_OBJECT_TREE) {
            Tree sub;
            check(git_tree_lookup(sub.out(), repo, git_tree_entry_id(item)), "cannot read folder " + name);
            export_tree(repo, sub.ptr, target);
            continue;
        }
        if (git_tree_entry_type(item) != GIT_OBJECT_BLOB) continue;
        Blob blob;
        check(git_blob_lookup(blob.out(), repo, git_tree_entry_id(item)), "cannot read " + name);
        const char* data = static_cast<const char*>(git_blob_rawcontent(blob.ptr));
        const auto size = static_cast<size_t>(git_blob_rawsize(blob.ptr));
        const git_filemode_t mode = git_tree_entry_filemode(item);
        if (mode == GIT_FILEMODE_LINK) {
            if (::symlink(std::string(data, size).c_str(), target.c_str()) != 0) {
                const int error_number = errno;
                throw UserError("cannot write " + target.string() + ": " + std::strerror(error_number), os_error_hint(error_number, folder.string()));
            }
            continue;
        }
        const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);
        if (fd < 0) {
            const int error_number = errno;
            throw UserError("cannot write " + target.string() + ": " + std::strerror(error_number), os_error_hint(error_number, folder.string()));
        }
        size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(fd, data + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                const int error_number = errno;
                ::close(fd);
                throw UserError("cannot write " + target.string() + ": " + std::strerror(error_number), os_error_hint(error_number, folder.string()));
            }
            done += static_cast<size_t>(n);
        }
        ::close(fd);
    }
}

}  // namespace

void GitRepo::export_commit(const std::string& commit_id, const std::filesystem::path& folder) const {
    git_object* object = nullptr;
    if (commit_id.empty() || git_revparse_single(&object, repo_, (commit_id + "^{commit}").c_str()) < 0)
        throw UserError("the workspace's history has no commit " + (commit_id.empty() ? std::string("''") : commit_id),
                        "`git log` in the workspace lists its commits");
    Commit commit;
    commit.ptr = reinterpret_cast<git_commit*>(object);
    Tree tree;
    check(git_commit_tree(tree.out(), commit.ptr), "cannot read commit " + commit_id);
    export_tree(repo_, tree.ptr, folder);
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
    char milestones[] = "milestones";  // each milestone's history and curves
    char* patterns[] = {ignore_file, editor_file, state, modules, milestones};
    git_strarray everything = {patterns, 5};
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

std::vector<CommitInfo> GitRepo::history(size_t limit) const {
    std::vector<CommitInfo> commits;
    git_oid head_id;
    if (git_reference_name_to_id(&head_id, repo_, "HEAD") < 0) return commits;  // no commit yet
    RevWalk walk;
    check(git_revwalk_new(walk.out(), repo_), "cannot read the history");
    git_revwalk_sorting(walk.ptr, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
    check(git_revwalk_push(walk.ptr, &head_id), "cannot read the history");
    git_oid id;
    while (commits.size() < limit && git_revwalk_next(&id, walk.ptr) == 0) {
        Commit commit;
        check(git_commit_lookup(commit.out(), repo_, &id), "cannot read a commit");
        char text[GIT_OID_HEXSZ + 1];
        git_oid_tostr(text, sizeof text, &id);
        const char* summary = git_commit_summary(commit.ptr);
        commits.push_back({text, short_id(id), static_cast<int64_t>(git_commit_time(commit.ptr)), summary ? summary : ""});
    }
    return commits;
}

std::optional<std::string> GitRepo::read_file(const std::string& commit_id, const std::string& path) const {
    Tree tree;
    commit_tree(repo_, commit_id, tree);
    TreeEntry entry;
    if (git_tree_entry_bypath(entry.out(), tree.ptr, path.c_str()) < 0) return std::nullopt;
    if (git_tree_entry_type(entry.ptr) != GIT_OBJECT_BLOB) return std::nullopt;
    Blob blob;
    check(git_blob_lookup(blob.out(), repo_, git_tree_entry_id(entry.ptr)), "cannot read " + path + " in commit " + commit_id);
    const char* data = static_cast<const char*>(git_blob_rawcontent(blob.ptr));
    return std::string(data, static_cast<size_t>(git_blob_rawsize(blob.ptr)));
}

std::vector<std::string> GitRepo::list_folder(const std::string& commit_id, const std::string& path) const {
    std::vector<std::string> names;
    Tree root;
    commit_tree(repo_, commit_id, root);
    TreeEntry entry;
    if (git_tree_entry_bypath(entry.out(), root.ptr, path.c_str()) < 0 || git_tree_entry_type(entry.ptr) != GIT_OBJECT_TREE)
        return names;
    Tree folder;
    check(git_tree_lookup(folder.out(), repo_, git_tree_entry_id(entry.ptr)), "cannot read " + path + " in commit " + commit_id);
    for (size_t i = 0; i < git_tree_entrycount(folder.ptr); ++i) {
        const git_tree_entry* item = git_tree_entry_byindex(folder.ptr, i);
        if (git_tree_entry_type(item) == GIT_OBJECT_BLOB) names.push_back(git_tree_entry_name(item));
    }
    return names;
}

}  // namespace tito
