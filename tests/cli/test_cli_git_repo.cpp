// Tests of cli/git_repo.cpp: HEAD's full id and writing out a commit's files (what `tito
// leaderboard verify` re-runs).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_testing.h"
#include "errors.h"
#include "git_repo.h"

namespace fs = std::filesystem;
using cli_testing::scratch_dir;

namespace {

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

TEST_CASE("git: head_id is HEAD's full id, empty before the first commit") {
    const fs::path root = scratch_dir("git-head");
    tito::GitRepo repo = tito::GitRepo::open_or_init(root);
    CHECK(repo.head_id().empty());
    write_file(root / "01_tensor" / "tensor.cpp", "int a;\n");
    const std::string short_id = repo.commit_all("first");
    const std::string id = repo.head_id();
    CHECK(id.size() == 40);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(id.rfind(short_id, 0) == 0);
    CHECK(repo.history().front().id == id);
    fs::remove_all(root);
}

TEST_CASE("git: export_commit writes that commit's files, not the work tree's") {
    const fs::path root = scratch_dir("git-export");
    tito::GitRepo repo = tito::GitRepo::open_or_init(root);
    write_file(root / "01_tensor" / "tensor.cpp", "version 1\n");
    write_file(root / "20_capstone" / "src" / "cifar.cpp", "train\n");
    write_file(root / ".tito" / "workspace.json", "{}\n");
    write_file(root / "notes.txt", "not tito's: never committed\n");
    repo.commit_all("first");
    const std::string first = repo.head_id();
    ::chmod((root / "01_tensor" / "tensor.cpp").c_str(), 0755);
    write_file(root / "01_tensor" / "tensor.cpp", "version 2\n");
    fs::remove(root / "20_capstone" / "src" / "cifar.cpp");
    repo.commit_all("second");
    write_file(root / "01_tensor" / "tensor.cpp", "version 3, not committed\n");

    const fs::path out = scratch_dir("git-export-out") / "code";
    repo.export_commit(first, out);
    CHECK(read_file(out / "01_tensor" / "tensor.cpp") == "version 1\n");
    CHECK(read_file(out / "20_capstone" / "src" / "cifar.cpp") == "train\n");
    CHECK(read_file(out / ".tito" / "workspace.json") == "{}\n");
    CHECK(!fs::exists(out / "notes.txt"));
    CHECK(!fs::exists(out / ".git"));

    const fs::path out2 = out.parent_path() / "code2";
    repo.export_commit(repo.head_id().substr(0, 10), out2);  // an abbreviated id works too
    CHECK(read_file(out2 / "01_tensor" / "tensor.cpp") == "version 2\n");
    CHECK((fs::status(out2 / "01_tensor" / "tensor.cpp").permissions() & fs::perms::owner_exec) != fs::perms::none);
    CHECK(!fs::exists(out2 / "20_capstone" / "src" / "cifar.cpp"));

    CHECK_THROWS_AS(repo.export_commit("0123456789abcdef0123456789abcdef01234567", out.parent_path() / "x"), tito::UserError);
    CHECK_THROWS_AS(repo.export_commit("", out.parent_path() / "y"), tito::UserError);
    CHECK_THROWS_AS(repo.export_commit("not a commit", out.parent_path() / "z"), tito::UserError);
    fs::remove_all(root);
    fs::remove_all(out.parent_path());
}
