// End to end: `tito leaderboard` (table, --csv, --json), `tito leaderboard export --html` and
// `tito leaderboard verify` on an entry recorded by a real `tito submit --competition cifar --quick`.
//
// The data is synthetic, as in test_e2e_competitions.cpp: every image is one flat grey level per
// class, so the capstone below - label = the image's mean grey level - scores exactly 75% on a test
// set whose every 4th image has the next class's grey. The capstone reads a marker file: while it
// exists, it predicts class 0 for every image. That lets the test make a re-run differ from the
// recorded run on purpose, without touching the recorded commit.
#include <catch2/catch.hpp>

#include "e2e_support.h"

using namespace e2e;

namespace {

std::string record(int label, int grey_of) {
    std::string bytes(1 + 3072, static_cast<char>(20 * grey_of + 10));
    bytes[0] = static_cast<char>(label);
    return bytes;
}

std::string capstone_cifar(const fs::path& marker) {
    return R"(
#include <algorithm>
#include <cmath>
#include <fstream>
#include "tinytorch/capstone.h"
#include "tinytorch/errors.h"

namespace {
class GreyLevel : public tt::Module {
public:
    GreyLevel() { scale = register_parameter("scale", tt::zeros({10})); }
    tt::Tensor forward(const tt::Tensor& x) override { return x; }
    std::string name() const override { return "GreyLevel"; }
    tt::Tensor scale;
};
}  // namespace

namespace tt::capstone {

std::shared_ptr<Module> cifar_train(std::shared_ptr<data::ImageDataset> train_set, Budget& budget) {
    (void)train_set;
    budget.report({1, 1, 1, 1, 0.5, "reading grey levels"});
    return std::make_shared<GreyLevel>();
}

std::vector<int64_t> cifar_predict(Module& model, const Tensor& images) {
    (void)model;
    const bool sabotaged = static_cast<bool>(std::ifstream(")" +
           marker.string() + R"("));
    const int64_t B = images.size(0), per_image = images.numel() / B;
    const float* x = images.data();
    std::vector<int64_t> labels;
    for (int64_t b = 0; b < B; ++b) {
        double sum = 0;
        for (int64_t i = 0; i < per_image; ++i) sum += x[b * per_image + i];
        const double grey = 255.0 * sum / static_cast<double>(per_image);
        labels.push_back(sabotaged ? 0 : std::clamp<int64_t>(std::lround((grey - 10.0) / 20.0), 0, 9));
    }
    return labels;
}

}  // namespace tt::capstone
)";
}

const char* const kCapstoneGpt = R"(
#include "tinytorch/capstone.h"
#include "tinytorch/errors.h"
namespace tt::capstone {
std::unique_ptr<GptInference> gpt_load(const std::string& checkpoint_path) { (void)checkpoint_path; throw NotImplemented("gpt_load"); }
}  // namespace tt::capstone
)";

}  // namespace

TEST_CASE("leaderboard: a submitted entry is listed in every format, exported, and verified from its commit", "[leaderboard]") {
    TempDir root("leaderboard");
    const fs::path data = root.path / "data", workspace = root.path / "ws", board = root.path / "class" / "board.db";
    const fs::path marker = root.path / "sabotage";
    const fs::path cifar = data / "cifar10" / "cifar-10-batches-bin";
    fs::create_directories(cifar);
    for (int b = 0; b < 5; ++b) {
        std::string batch;
        for (int i = 0; i < 40; ++i) batch += record((b * 40 + i) % 10, (b * 40 + i) % 10);
        write_file(cifar / ("data_batch_" + std::to_string(b + 1) + ".bin"), batch);
    }
    std::string test;
    for (int i = 0; i < 200; ++i) test += record(i % 10, i % 4 == 3 ? (i + 1) % 10 : i % 10);
    write_file(cifar / "test_batch.bin", test);
    const std::map<std::string, std::string> env = {{"TITO_DATA_DIR", data.string()}, {"TITO_LEADERBOARD", board.string()}};

    fs::create_directories(workspace);
    REQUIRE(tito({"module", "start", "01", "-q"}, workspace).exit_code == 0);
    write_identity(workspace, "Grace Hopper", "grace", "grace@example.com");
    write_file(workspace / "20_capstone" / "cifar.cpp", capstone_cifar(marker));
    write_file(workspace / "20_capstone" / "gpt_inference.cpp", kCapstoneGpt);

    SECTION("before any submit: a friendly line, nothing created") {
        const Run run = tito({"leaderboard"}, workspace, env);
        INFO(run.text());
        CHECK(run.exit_code == 0);
        CHECK_THAT(run.out, Catch::Matchers::Contains("tito submit --competition cifar"));
        CHECK(!fs::exists(board));
        // Without --leaderboard or $TITO_LEADERBOARD: configs/leaderboard.json's path, "~/" expanded.
        const Run default_path = tito({"leaderboard"}, workspace, {{"TITO_LEADERBOARD", ""}, {"HOME", root.path.string()}});
        CHECK_THAT(default_path.out, Catch::Matchers::Contains((root.path / ".local/share/tinytorch/leaderboard.db").string()));
        const Run explicit_path = tito({"leaderboard", "--leaderboard", "~/mine.db"}, workspace, {{"HOME", root.path.string()}});
        CHECK_THAT(explicit_path.out, Catch::Matchers::Contains((root.path / "mine.db").string()));
    }

    SECTION("after a submit") {
        const Run submit = tito({"submit", "--competition", "cifar", "--quick"}, workspace, env, 300);
        INFO(submit.text());
        REQUIRE(submit.exit_code == 0);
        REQUIRE(fs::exists(board));

        const Run table = tito({"leaderboard", "--quick"}, workspace, env);
        INFO(table.text());
        CHECK(table.exit_code == 0);
        CHECK_THAT(table.out, Catch::Matchers::Contains("75.00%"));
        // Full runs and quick runs are ranked apart: there are no full runs yet.
        const Run full = tito({"leaderboard", "cifar"}, workspace, env);
        CHECK(full.exit_code == 0);
        CHECK_THAT(full.out, Catch::Matchers::Contains("No scored entries for cifar yet"));

        const Run csv = tito({"leaderboard", "--quick", "--csv", "--leaderboard", board.string()}, workspace);
        CHECK(csv.exit_code == 0);
        CHECK(csv.out.rfind("competition,rank,handle,name,score,", 0) == 0);
        CHECK_THAT(csv.out, Catch::Matchers::Contains("\r\ncifar,1,"));
        CHECK_THAT(csv.out, Catch::Matchers::Contains(",0.75,"));

        const Run json = tito({"--json", "leaderboard", "--quick"}, workspace, env);
        const nlohmann::json entries = nlohmann::json::parse(json.out, nullptr, false);
        REQUIRE(entries.is_array());
        REQUIRE(entries.size() == 1);
        CHECK(entries[0].at("id") == 1);
        CHECK(entries[0].at("rank") == 1);
        CHECK(entries[0].at("score") == 0.75);
        CHECK(entries[0].at("commit").get<std::string>().size() == 40);

        const fs::path page = root.path / "page.html";
        const Run html = tito({"leaderboard", "export", "--html", page.string(), "--quick"}, workspace, env);
        INFO(html.text());
        CHECK(html.exit_code == 0);
        CHECK_THAT(read_file(page), Catch::Matchers::Contains("75.00") && Catch::Matchers::Contains("<svg"));

        const std::string board_before = read_file(board);
        // The work tree changes after the submit (uncommitted): verify re-runs the recorded commit.
        write_file(workspace / "20_capstone" / "cifar.cpp", "this does not even compile\n");
        const Run same = tito({"leaderboard", "verify", "1"}, workspace, env, 300);
        INFO(same.text());
        CHECK(same.exit_code == 0);
        CHECK_THAT(same.out, Catch::Matchers::Contains("reproduces yes"));

        // The same commit scoring differently now: reported, exit status 1.
        write_file(marker, "");
        const Run differs = tito({"--json", "leaderboard", "verify", "1"}, workspace, env, 300);
        INFO(differs.text());
        CHECK(differs.exit_code == 1);
        const nlohmann::json report = nlohmann::json::parse(differs.out, nullptr, false);
        REQUIRE(report.is_object());
        CHECK(report.at("reproduces") == false);
        CHECK(report.at("recorded").at("score") == 0.75);
        CHECK(report.at("rerun").at("score").get<double>() < 0.5);
        CHECK(read_file(board) == board_before);  // verify never writes to the leaderboard

        const Run missing = tito({"leaderboard", "verify", "7"}, workspace, env);
        CHECK(missing.exit_code == 2);
        CHECK_THAT(missing.err, Catch::Matchers::Contains("has no entry 7"));
    }

    SECTION("a damaged board: one line, exit 2, the file left as it was") {
        fs::create_directories(board.parent_path());
        const std::string garbage = "not a leaderboard\n" + std::string(3000, '\x02');
        write_file(board, garbage);
        for (const std::vector<std::string>& args : {std::vector<std::string>{"leaderboard"}, {"leaderboard", "verify", "1"},
                                                     {"leaderboard", "export", "--html", (root.path / "p.html").string()}}) {
            const Run run = tito(args, workspace, env);
            INFO(run.text());
            CHECK(run.exit_code == 2);
            CHECK_THAT(run.err, Catch::Matchers::Contains("is not an SQLite database"));
            CHECK(run.err.find('\n') == run.err.size() - 1);
            CHECK(read_file(board) == garbage);
        }
        CHECK(!fs::exists(root.path / "p.html"));
    }
}
