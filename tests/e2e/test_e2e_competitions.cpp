// End to end: `tito submit --competition cifar --quick` with capstone code written by the test.
//
// The data is synthetic (no download): a CIFAR-10 folder whose images are one flat grey level per
// class (class c: every pixel 20c + 10), so a "model" that reads the mean pixel value labels an
// image exactly. The test set makes that model right on 3 images of 4 and wrong on the 4th
// (its pixels are the next class's grey), so the true accuracy is known: 75%.
//
// One workspace is shared (module 20's files are rewritten per case; tito's build cache keeps the
// engine objects), each case gets its own leaderboard file. The cases are the cheats and
// accidents of issue 9: wrong count or type of predictions, a fake score, a tampered leaderboard,
// a late result, a crash after the predictions, and a look for the test labels from inside.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "e2e_support.h"

using namespace e2e;

namespace {

constexpr int kTrainImages = 200;  // 40 per data_batch file
constexpr int kTestImages = 200;   // every 4th one "mislabelled" for the grey-level model

// A CIFAR-10 record: the label byte, then 3,072 pixels of one grey level.
std::string record(int label, int grey_of) {
    std::string bytes(1 + 3072, static_cast<char>(20 * grey_of + 10));
    bytes[0] = static_cast<char>(label);
    return bytes;
}

struct Fixture {
    TempDir root{"competitions"};
    fs::path data, workspace, capstone_dir, checkpoint;
    std::vector<std::string> capstone_files;  // module 20's file names (module.json)

    Fixture() {
        data = root.path / "data";
        const fs::path cifar = data / "cifar10" / "cifar-10-batches-bin";
        fs::create_directories(cifar);
        for (int b = 0; b < 5; ++b) {
            std::string batch;
            for (int i = 0; i < kTrainImages / 5; ++i) batch += record((b * 40 + i) % 10, (b * 40 + i) % 10);
            write_file(cifar / ("data_batch_" + std::to_string(b + 1) + ".bin"), batch);
        }
        std::string test;
        for (int i = 0; i < kTestImages; ++i) test += record(i % 10, i % 4 == 3 ? (i + 1) % 10 : i % 10);
        write_file(cifar / "test_batch.bin", test);

        // tiny-shakespeare's stand-in, and an untrained GPT on its alphabet (tests/e2e/make_tiny_gpt.cpp).
        std::string text;
        for (int i = 0; i < 60; ++i) text += "First Citizen: speak, speak! We are resolved rather to die than famish.\n";
        write_file(data / "tinyshakespeare" / "input.txt", text);
        checkpoint = root.path / "tiny.ttc";
        const char* maker = std::getenv("TT_MAKE_TINY_GPT");
        REQUIRE(maker != nullptr);  // set by ctest (tests/CMakeLists.txt)
        const Run made = run({maker, (data / "tinyshakespeare" / "input.txt").string(), checkpoint.string()}, root.path);
        INFO(made.text());
        REQUIRE(made.exit_code == 0);

        workspace = root.path / "ws";
        fs::create_directories(workspace);
        const Run start = tito({"module", "start", "01", "-q"}, workspace);
        INFO(start.text());
        REQUIRE(start.exit_code == 0);
        write_identity(workspace, "Grace Hopper", "grace", "grace@example.com");
        const nlohmann::json module = nlohmann::json::parse(read_file(source_dir() / "modules" / "20_capstone" / "module.json"));
        for (const auto& file : module.at("files")) capstone_files.push_back(fs::path(file.get<std::string>()).filename().string());
        capstone_dir = workspace / "20_capstone";
    }
};

Fixture& fixture() {
    static std::unique_ptr<Fixture> f;
    if (!f) f = std::make_unique<Fixture>();
    return *f;
}


// Module 20's files: the grey-level model in the cifar file, gpt_load a TODO in the others. The
// hooks a case fills in: code at file scope (`globals`), at the start of cifar_train (`train`),
// and in cifar_predict just before it returns `labels` (`predict`).
void write_capstone(const std::string& globals = "", const std::string& train = "", const std::string& predict = "",
                    const std::string& gpt_source = "") {
    Fixture& f = fixture();
    const std::string cifar = R"(
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include "tinytorch/capstone.h"
#include "tinytorch/errors.h"

namespace {
)" + globals + R"(
// One parameter, so the model has a size to report.
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
)" + train + R"(
    budget.report({1, 1, 1, 1, 0.5, "reading grey levels"});
    return std::make_shared<GreyLevel>();
}

std::vector<int64_t> cifar_predict(Module& model, const Tensor& images) {
    (void)model;
    const int64_t B = images.size(0), per_image = images.numel() / B;
    const float* x = images.data();
    std::vector<int64_t> labels;
    for (int64_t b = 0; b < B; ++b) {
        double sum = 0;
        for (int64_t i = 0; i < per_image; ++i) sum += x[b * per_image + i];
        const double grey = 255.0 * sum / static_cast<double>(per_image);
        labels.push_back(std::clamp<int64_t>(std::lround((grey - 10.0) / 20.0), 0, 9));
    }
)" + predict + R"(
    return labels;
}

}  // namespace tt::capstone
)";
    const std::string gpt = !gpt_source.empty() ? gpt_source : R"(
#include "tinytorch/capstone.h"
#include "tinytorch/errors.h"
namespace tt::capstone {
std::unique_ptr<GptInference> gpt_load(const std::string& checkpoint_path) { (void)checkpoint_path; throw NotImplemented("gpt_load"); }
}  // namespace tt::capstone
)";
    fs::create_directories(f.capstone_dir);
    // One file: both tracks in it; several: the cifar track in the one named after it.
    for (const std::string& file : f.capstone_files)
        write_file(f.capstone_dir / file, f.capstone_files.size() == 1 ? cifar + gpt : file.find("cifar") != std::string::npos ? cifar : gpt);
}

struct Submitted {
    Run run;
    nlohmann::json entry;  // --json's output (empty when tito printed none)
};

Submitted submit(const fs::path& board, const std::vector<std::string>& extra = {}, const std::string& competition = "cifar") {
    std::vector<std::string> args = {"--json", "submit", "--competition", competition, "--quick", "--leaderboard", board.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Submitted s;
    s.run = tito(args, fixture().workspace, {{"TITO_DATA_DIR", fixture().data.string()}, {"TITO_LEADERBOARD", ""}}, 300);
    if (!s.run.out.empty()) s.entry = nlohmann::json::parse(s.run.out, nullptr, false);
    return s;
}

fs::path board_path(const std::string& name) { return fixture().root.path / (name + ".db"); }

// A failed attempt: exit status 1, recorded as failed with score 0 and the reason.
void require_failed(const Submitted& s, const std::string& reason) {
    INFO(s.run.text());
    REQUIRE(s.run.exit_code == 1);
    REQUIRE(s.entry.is_object());
    CHECK(s.entry.at("status") == "failed");
    CHECK(s.entry.at("score") == 0.0);
    CHECK_THAT(s.entry.at("failure").get<std::string>(), Catch::Matchers::Contains(reason));
}

// A message written straight into tito's result channel, with the token read from the
// environment before main() takes it away - what a student could do from a static initializer.
const std::string kChannelGrab = R"(
int channel_fd = -1;
std::string channel_token;
const bool grabbed = [] {
    if (const char* fd = std::getenv("TITO_RESULT_FD")) channel_fd = std::atoi(fd);
    if (const char* token = std::getenv("TITO_RESULT_TOKEN")) channel_token = token;
    return true;
}();
void inject(const std::string& json_without_brace) {
    const std::string line = "{\"token\":\"" + channel_token + "\"," + json_without_brace + "\n";
    if (channel_fd >= 0) (void)!write(channel_fd, line.data(), line.size());
}
)";

}  // namespace

TEST_CASE("competitions: a good submission is scored by tito and recorded with every field", "[competitions]") {
    write_capstone();
    const fs::path board = board_path("good");
    Submitted s = submit(board);
    INFO(s.run.text());
    REQUIRE(s.run.exit_code == 0);
    REQUIRE(s.entry.is_object());
    const nlohmann::json& e = s.entry;
    CHECK(e.at("status") == "scored");
    CHECK(e.at("competition") == "cifar");
    CHECK(e.at("quick") == true);
    CHECK(e.at("reference") == false);
    CHECK(e.at("score") == Approx(0.75).margin(1e-12));  // 150 of 200: every 4th test image has the next class's grey
    CHECK(e.at("metrics").at("test_accuracy") == Approx(0.75).margin(1e-12));
    CHECK(e.at("metrics").at("test_images") == kTestImages);
    CHECK(e.at("metrics").at("train_images") == kTrainImages);
    CHECK(e.at("metrics").at("parameters") == 10);
    CHECK(e.at("metrics").at("model_bytes") == 40);
    for (const char* key : {"training_seconds", "predict_seconds", "peak_memory_mib", "images_per_second"})
        CHECK(e.at("metrics").at(key).is_number());
    CHECK(e.at("metrics").at("training_seconds").get<double>() < 10.0);
    CHECK(e.at("name") == "Grace Hopper");  // the student's module 01, passed or not (never the reference's)
    CHECK(e.at("handle") == "grace");
    CHECK(e.at("email") == "grace@example.com");
    CHECK(e.at("student_modules") == nlohmann::json{"01_setup", "20_capstone"});
    CHECK(e.at("commit").get<std::string>().size() == 40);
    CHECK(e.at("rules_hash").get<std::string>().size() == 64);
    CHECK_FALSE(e.at("cpu_model").get<std::string>().empty());
    CHECK(e.at("cores").get<int>() >= 1);
    CHECK_FALSE(e.at("tito_version").get<std::string>().empty());
    CHECK_FALSE(e.at("engine_version").get<std::string>().empty());
    CHECK(fs::path(e.at("workspace").get<std::string>()) == fixture().workspace);
    CHECK(e.at("id") == 1);
    CHECK(e.at("rank") == "#1 of 1 on cifar (quick runs)");
    // The entry names the code that ran: the commit holds module 20's file as submitted.
    CHECK(commit_count(fixture().workspace) >= 2);

    // The data's copies are not left in the workspace.
    CHECK_FALSE(fs::exists(fixture().workspace / ".tito" / "build" / "competitions" / "cifar" / "student" / "run" / "train"));

    // An instructor's private test set: here every image has its own class's grey, so 100%.
    const fs::path private_set = fixture().root.path / "private";
    std::string records;
    for (int i = 0; i < 30; ++i) records += record(i % 10, i % 10);
    write_file(private_set / "test_batch.bin", records);
    Submitted graded = submit(board, {"--test-set", private_set.string()});
    INFO(graded.run.text());
    CHECK(graded.run.exit_code == 0);
    CHECK(graded.entry.at("score") == 1.0);
    CHECK(graded.entry.at("metrics").at("test_images") == 30);
    CHECK(graded.entry.at("metrics").at("test_set") == private_set.string());

    // Without --json: the result table and the rank, for a person.
    {
        Run run = tito({"submit", "--competition", "cifar", "--quick", "--leaderboard", board.string()}, fixture().workspace,
                       {{"TITO_DATA_DIR", fixture().data.string()}, {"TITO_LEADERBOARD", ""}}, 300);
        INFO(run.text());
        CHECK(run.exit_code == 0);
        CHECK_THAT(run.out, Catch::Matchers::Contains("75.00%"));
        CHECK_THAT(run.out, Catch::Matchers::Contains("#1 of 1 on cifar"));
        CHECK_THAT(run.out, Catch::Matchers::Contains("entry 3"));
    }
}

TEST_CASE("competitions: predictions of the wrong count are a failed attempt", "[competitions]") {
    write_capstone("", "", "    labels.pop_back();");
    require_failed(submit(board_path("count")), "labels for a batch of 200 images");
}

TEST_CASE("competitions: a label outside 0-9 is a failed attempt", "[competitions]") {
    write_capstone("", "", "    labels[3] = 10;");
    require_failed(submit(board_path("range")), "predicted the label 10 for image 3");
}

TEST_CASE("competitions: predictions of the wrong type sent through the channel are a failed attempt", "[competitions]") {
    // Student code that finds the channel and answers for the harness: floats, then strings.
    const auto [payload, reason] = GENERATE(table<std::string, std::string>({
        {"\"predictions\":[1.5,2.5],\"offset\":0}", "not a whole number (1.5)"},
        {"\"predictions\":[\"3\",\"4\"],\"offset\":0}", "not a whole number (\"3\")"},
    }));
    write_capstone(kChannelGrab, "", "    inject(R\"(" + payload + ")\");");
    require_failed(submit(board_path("type")), reason);
}

TEST_CASE("competitions: a fake score printed or sent through the channel counts for nothing", "[competitions]") {
    write_capstone(kChannelGrab, "", R"cap(
    std::cout << "test accuracy: 99%\n{\"score\": 0.99}" << std::endl;
    inject(R"("score":0.99})");
    inject(R"("metrics":{"test_accuracy":0.99}})");
    inject(R"("test_accuracy":0.99,"phase":"scored"})");)cap");
    Submitted s = submit(board_path("fake"));
    INFO(s.run.text());
    REQUIRE(s.run.exit_code == 0);
    CHECK(s.entry.at("status") == "scored");
    CHECK(s.entry.at("score") == Approx(0.75).margin(1e-12));  // tito's own count, not the 99% claimed
    CHECK(s.entry.at("metrics").at("test_accuracy") == Approx(0.75).margin(1e-12));
}

TEST_CASE("competitions: a leaderboard changed by student code during the run refuses the entry", "[competitions]") {
    // The board has an entry before the cheat runs; the cheat deletes the file, or overwrites it.
    const std::string how = GENERATE(std::string("delete"), std::string("overwrite"));
    const fs::path board = board_path("tampered-" + how);
    write_capstone();
    REQUIRE(submit(board).run.exit_code == 0);
    const std::string cheat = how == "delete"
                                  ? "    for (const char* suffix : {\"\", \"-wal\", \"-shm\"}) std::filesystem::remove(\"" + board.string() + "\" + std::string(suffix));"
                                  : "    { std::ofstream out(\"" + board.string() + "\", std::ios::binary | std::ios::trunc); out << std::string(8192, 'x'); }";
    write_capstone("", cheat);
    Submitted s = submit(board);
    INFO(s.run.text());
    CHECK(s.run.exit_code == 1);
    CHECK_THAT(s.run.err, Catch::Matchers::Contains("the leaderboard changed during your run in a way tito did not write"));
    CHECK_THAT(s.run.err, Catch::Matchers::Contains("entry refused"));
    CHECK(s.run.out.empty());  // no entry printed: none was recorded
    // tito wrote nothing afterwards: the file is as the cheat left it.
    if (how == "delete") {
        CHECK_FALSE(fs::exists(board));
    } else {
        CHECK(read_file(board) == std::string(8192, 'x'));
    }
}

TEST_CASE("competitions: training past the budget is a failed attempt even with good late results", "[competitions]") {
    // --quick: a 10 s budget with 2 s of grace; this returns after 12.5 s, then predicts well.
    write_capstone("", "    std::this_thread::sleep_for(std::chrono::milliseconds(12500));");
    Submitted s = submit(board_path("late"));
    require_failed(s, "over the 10 s budget: cifar_train returned after 12.");
    CHECK(s.entry.at("metrics").at("test_accuracy") == Approx(0.75).margin(1e-12));  // shown, never the score
}

TEST_CASE("competitions: a crash after the predictions is a failed attempt", "[competitions]") {
    write_capstone("", "    std::atexit([] { std::abort(); });");
    Submitted s = submit(board_path("crash"));
    require_failed(s, "after sending its predictions");
    CHECK_THAT(s.entry.at("failure").get<std::string>(), Catch::Matchers::Contains("SIGABRT"));
}

TEST_CASE("competitions: the program cannot find the test labels", "[competitions]") {
    // A capstone that looks for the data set and reports what it found as its error.
    write_capstone("", R"(
    std::string found;
    if (const char* dir = std::getenv("TITO_DATA_DIR"); dir && *dir) found += " TITO_DATA_DIR=" + std::string(dir);
    try { found += " find_dataset=" + tt::data::find_dataset("cifar10"); } catch (const tt::Error&) {}
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(".", ec))
        if (entry.path().filename() == "test_batch.bin") found += " " + entry.path().string();
    throw tt::Error("looked for the test labels and found:" + (found.empty() ? std::string(" nothing") : found));)");
    Submitted s = submit(board_path("labels"));
    require_failed(s, "stopped with an error: looked for the test labels and found: nothing");
}

TEST_CASE("competitions: usage errors are one line and touch nothing", "[competitions]") {
    SECTION("an unknown competition names the ones there are") {
        Run run = tito({"submit", "--competition", "cifra"}, fixture().workspace);
        CHECK(run.exit_code == 2);
        CHECK(run.err == "error: unknown competition 'cifra' (hint: did you mean 'cifar'? the competitions are: cifar" +
                             std::string(fs::exists(build_dir() / "share" / "tinytorch" / "configs" / "competitions" / "gpt.json") ? ", gpt" : "") +
                             ")\n");
    }
    SECTION("a corrupt leaderboard file is reported and left as it was") {
        const fs::path board = board_path("corrupt");
        const std::string garbage = "this is not a leaderboard\n" + std::string(5000, '\x01');
        write_file(board, garbage);
        write_capstone();
        Submitted s = submit(board);
        INFO(s.run.text());
        CHECK(s.run.exit_code == 2);
        CHECK(std::count(s.run.err.begin(), s.run.err.end(), '\n') == 1);
        CHECK_THAT(s.run.err, Catch::Matchers::StartsWith("error: "));
        CHECK(read_file(board) == garbage);
    }
    SECTION("module 20 must be started") {
        TempDir other("competitions-unstarted");
        REQUIRE(tito({"module", "start", "01", "-q"}, other.path).exit_code == 0);
        Run run = tito({"submit", "--competition", "cifar", "--quick"}, other.path, {{"TITO_DATA_DIR", fixture().data.string()}});
        CHECK(run.exit_code == 2);
        CHECK_THAT(run.err, Catch::Matchers::Contains("start it with `tito module start 20`"));
    }
    SECTION("module 01 must be started: it names the entry") {
        TempDir other("competitions-anonymous");
        REQUIRE(tito({"module", "start", "20", "-q", "--force"}, other.path).exit_code == 0);
        Run run = tito({"submit", "--competition", "cifar", "--quick"}, other.path, {{"TITO_DATA_DIR", fixture().data.string()}});
        CHECK(run.exit_code == 2);
        CHECK_THAT(run.err, Catch::Matchers::Contains("`tito module start 01`"));
    }
    SECTION("outside a workspace") {
        TempDir outside("competitions-outside");
        Run run = tito({"submit", "--competition", "cifar", "--quick"}, outside.path, {{"TITO_DATA_DIR", fixture().data.string()}});
        CHECK(run.exit_code == 2);
        CHECK_THAT(run.err, Catch::Matchers::Contains("not inside a tito workspace"));
    }
}

namespace {

// A plain GPT inference for the gpt track: module 14's GPT (load_gpt) run on the whole sequence
// for every token. `pick` and `scale` are the bugs a case plants: code run after the greedy
// choice `best` of step `step`, and a factor applied to every logit logits() returns.
std::string plain_gpt(const std::string& pick = "", const std::string& scale = "1.0f") {
    return R"(
#include <algorithm>
#include "tinytorch/autograd.h"
#include "tinytorch/capstone.h"
#include "tinytorch/transformer.h"
namespace tt::capstone {
namespace {
class PlainGpt : public GptInference {
public:
    explicit PlainGpt(std::shared_ptr<GPT> model) : model_(std::move(model)) { model_->eval(); }
    int64_t vocab_size() const override { return model_->config.vocab_size; }
    int64_t context_length() const override { return model_->config.context_length; }
    std::vector<float> logits(const std::vector<int64_t>& ids) override {
        NoGradGuard no_grad;
        const auto T = static_cast<int64_t>(ids.size());
        Tensor x = empty({1, T});
        for (int64_t t = 0; t < T; ++t) x.data()[t] = static_cast<float>(ids[static_cast<size_t>(t)]);
        std::vector<float> values = model_->forward(x).contiguous().to_vector();
        for (float& v : values) v *= )" + scale + R"(;
        return values;
    }
    std::vector<int64_t> generate_greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) override {
        std::vector<int64_t> ids = prompt, out;
        const int64_t V = vocab_size();
        for (int64_t step = 0; step < new_tokens; ++step) {
            const std::vector<float> all = logits(ids);
            const float* last = all.data() + (all.size() - static_cast<size_t>(V));
            int64_t best = std::max_element(last, last + V) - last;
)" + pick + R"(
            ids.push_back(best);
            out.push_back(best);
        }
        return out;
    }
private:
    std::shared_ptr<GPT> model_;
};
}  // namespace
std::unique_ptr<GptInference> gpt_load(const std::string& checkpoint_path) {
    return std::make_unique<PlainGpt>(load_gpt(checkpoint_path));
}
}  // namespace tt::capstone
)";
}

}  // namespace

TEST_CASE("competitions: gpt - exact output is scored in tokens/s, tito's perplexity beside it", "[competitions]") {
    write_capstone("", "", "", plain_gpt());
    Submitted s = submit(board_path("gpt"), {"--checkpoint", fixture().checkpoint.string()}, "gpt");
    INFO(s.run.text());
    REQUIRE(s.run.exit_code == 0);
    const nlohmann::json& m = s.entry.at("metrics");
    CHECK(s.entry.at("status") == "scored");
    CHECK(s.entry.at("score").get<double>() > 0.0);
    CHECK(s.entry.at("score") == m.at("tokens_per_second"));
    CHECK(m.at("prompts") == 4);
    CHECK(m.at("new_tokens") == 16);  // context 32 - prompts of 16
    CHECK(m.at("perplexity").get<double>() == Approx(m.at("reference_perplexity").get<double>()).epsilon(1e-4));
    CHECK(m.at("checkpoint_sha256").get<std::string>().size() == 64);

    // Without --checkpoint: the workspace's quick gpt milestone checkpoint, once there is one.
    const fs::path saved = fixture().workspace / "milestones" / "gpt" / "quick-checkpoint.ttc";
    fs::remove(saved);
    Submitted none = submit(board_path("gpt"), {}, "gpt");
    CHECK(none.run.exit_code == 2);
    CHECK_THAT(none.run.err, Catch::Matchers::Contains("no quick GPT checkpoint: run `tito milestone gpt --quick` first"));
    fs::create_directories(saved.parent_path());
    fs::copy_file(fixture().checkpoint, saved);
    Submitted found = submit(board_path("gpt"), {}, "gpt");
    INFO(found.run.text());
    CHECK(found.run.exit_code == 0);
    CHECK(found.entry.at("metrics").at("checkpoint_sha256") == m.at("checkpoint_sha256"));
    fs::remove(saved);
}

TEST_CASE("competitions: gpt - text that differs from the reference's is a failed attempt", "[competitions]") {
    // The second-best token once: the rest of the text follows from it.
    write_capstone("", "", "", plain_gpt("            if (step == 5) best = (best + 1) % V;"));
    require_failed(submit(board_path("gpt-text"), {"--checkpoint", fixture().checkpoint.string()}, "gpt"),
                   "generated text that differs from the reference's: prompt 1, from character 6");
}

TEST_CASE("competitions: gpt - logits off by 10% fail the perplexity gate", "[competitions]") {
    // Scaled logits keep every greedy choice: only tito's perplexity notices.
    write_capstone("", "", "", plain_gpt("", "1.1f"));
    require_failed(submit(board_path("gpt-ppl"), {"--checkpoint", fixture().checkpoint.string()}, "gpt"), "from the reference's");
}
