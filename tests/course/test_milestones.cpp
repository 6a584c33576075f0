// Milestone integrity (TITO_MILESTONE, set per ctest entry), through the real tito:
//   1. the milestone passes on the reference engine (--reference) and on reference code that a
//      student "passed" with;
//   2. it is locked until its modules are passed; --force runs it without recording the result;
//   3. it fails when any required module is replaced by its template, or by a broken variant
//      (listed below per milestone), and the failure is recorded as such.
// Milestones that train on real data for minutes (mlp, lenet, alexnet) have a --quick mode (a
// small part of the data, lower thresholds): every run here uses it, and checks that a quick run
// is never recorded. Their full runs are measured by bench/bench_milestones.sh. They need the data
// sets (TITO_DATA_DIR, as CI sets it); without them they fail saying how to get them.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "e2e_support.h"

using namespace e2e;

namespace {

struct BrokenVariant {
    std::string module_dir, file, find, replace, why;
};

// Bugs that a milestone must expose. Each `find` must occur exactly once in the reference file.
std::vector<BrokenVariant> broken_variants(const std::string& milestone) {
    if (milestone == "perceptron")
        return {{"04_layers", "layers.cpp", "if (bias.defined()) y = y + bias;", "(void)0;",
                 "Linear ignores its bias: the separating line is forced through the origin"},
                {"02_tensor", "elementwise.cpp", "\"gt\", [](float x, float y) { return x > y ? 1.0f : 0.0f; }",
                 "\"gt\", [](float x, float y) { return x < y ? 1.0f : 0.0f; }", "gt compares the wrong way round"}};
    if (milestone == "xor")
        return {{"06_autograd", "nodes_activations.cpp", "[](float g, float v) { return v <= 0.0f ? 0.0f : g; }",
                 "[](float g, float v) { return v <= 0.0f ? g : 0.0f; }", "ReLU's gradient flows where the input was negative, not positive"}};
    // Shared by the three phase-2 milestones: the data pipeline and the optimizer.
    const BrokenVariant never_shuffles{"07_dataloader", "dataloader.cpp", "if (options_.shuffle)", "if (!options_.shuffle)",
                                       "the shuffle flag is read the wrong way round: the training data is never shuffled"};
    const BrokenVariant one_batch{"07_dataloader", "dataloader.cpp", "const int64_t start = k * b, stop = std::min(start + b, n);",
                                  "const int64_t start = 0, stop = std::min(start + b, n);",
                                  "every batch of an epoch is its first batch: the DataLoader repeats one batch"};
    const BrokenVariant conv_weight_last_image{"09_spatial", "conv.cpp", "for (int64_t e = 0; e < F * R; ++e) d[e] += product[e];",
                                               "for (int64_t e = 0; e < F * R; ++e) d[e] = product[e];",
                                               "the conv weight gradient is overwritten per image, not summed over the batch"};
    const BrokenVariant conv_weight_missing{"09_spatial", "conv.cpp", "if (need_dw) accumulate_grad(weight, dw);", "(void)need_dw;",
                                            "the conv weight gradient never reaches the weights (the filters never learn)"};
    if (milestone == "mlp")
        return {{"08_optimizers", "optimizers.cpp", "w[j] -= lr * (nesterov ? d + momentum * b[j] : b[j]);",
                 "w[j] += lr * (nesterov ? d + momentum * b[j] : b[j]);", "SGD with momentum steps up the gradient"},
                never_shuffles, one_batch};
    if (milestone == "lenet")
        return {conv_weight_last_image, conv_weight_missing,
                {"09_spatial", "pooling.cpp", "for (int64_t o = 0; o < outputs; ++o) d[static_cast<int64_t>(index[o])] += g_plane[o];",
                 "for (int64_t o = 0; o < outputs; ++o) d[o] += g_plane[o];",
                 "max-pool's gradient lands at the output's position, not at its window's maximum"},
                {"08_optimizers", "optimizers.cpp", "w[j] -= step_size * (m[j] / denominator);", "w[j] += step_size * (m[j] / denominator);",
                 "Adam steps up the gradient"},
                never_shuffles};
    if (milestone == "alexnet")
        return {{"09_spatial", "batchnorm.cpp", "is_training(), momentum, eps);", "true, momentum, eps);",
                 "BatchNorm2d uses the batch's statistics in eval mode too"},
                {"09_spatial", "conv.cpp", "for (int64_t e = 0; e < F * R; ++e) d[e] += product[e];",
                 "for (int64_t e = 0; e < F * R; ++e) d[e] -= product[e];", "the conv weight gradient has the wrong sign"},
                never_shuffles};
    // The language model: bugs that a falling loss hides (a model that reads the future has a
    // LOW loss) are caught by the causality, gradient and unused-parameter checks.
    if (milestone == "gpt")
        return {{"13_attention", "attention.cpp", "attention.causal = options.causal;", "attention.causal = false;",
                 "MultiHeadAttention never passes on its causal flag: every token sees the future"},
                {"13_attention", "attention.cpp", "std::clamp<int64_t>(i + offset + 1, 0, Tk)", "std::clamp<int64_t>(i + offset + 2, 0, Tk)",
                 "the causal mask is off by one: each token also sees the next one (the answer)"},
                {"13_attention", "attention.cpp", "row[j] = p_row[j] * (row[j] - dot) * scale;", "row[j] = p_row[j] * row[j] * scale;",
                 "softmax's backward forgets the row-sum term"},
                {"14_transformers", "layer_norm.cpp", "return layer_norm(x, weight, bias, eps);", "return layer_norm(x, Tensor(), bias, eps);",
                 "LayerNorm ignores its learnable scale (weight)"},
                {"14_transformers", "layer_norm.cpp", "d[i] = inv * (gw[i] - mean_gw - hr[i] * mean_gw_h);", "d[i] = inv * (gw[i] - mean_gw);",
                 "LayerNorm's input gradient forgets the variance term"},
                {"14_transformers", "gpt.cpp", "return h + (*mlp)((*ln_2)(h));", "return h + (*mlp)((*ln_1)(h));",
                 "the block uses ln_1 twice: ln_2 is never used"},
                {"12_embeddings", "embedding.cpp", "for (int64_t j = 0; j < D; ++j) row[j] += grad_row[j];",
                 "for (int64_t j = 0; j < D; ++j) row[j] = grad_row[j];",
                 "Embedding's backward assigns instead of adding: a repeated token keeps one contribution"},
                {"12_embeddings", "embedding.cpp", "for (int64_t i = 0; i < block; ++i) d[i] += src[i];",
                 "for (int64_t i = 0; i < block; ++i) d[i] = src[i];",
                 "the position embedding's gradient comes from the last sequence of the batch only"}};
    return {};
}

nlohmann::json config_of(const std::string& milestone) {
    const nlohmann::json all = nlohmann::json::parse(read_file(source_dir() / "configs" / "milestones.json"));
    REQUIRE(all.contains(milestone));
    return all.at(milestone);
}

std::string dir_of(const std::string& id) {
    for (const auto& entry : fs::directory_iterator(source_dir() / "modules"))
        if (entry.path().filename().string().rfind(id + "_", 0) == 0) return entry.path().filename().string();
    FAIL("no module " << id);
    return "";
}

void mark_passed(const fs::path& workspace, const std::vector<std::string>& ids) {
    nlohmann::json progress = nlohmann::json::parse(read_file(workspace / ".tito" / "progress.json"));
    for (const std::string& id : ids) progress["modules"][id] = {{"state", "passed"}, {"best_score", 1}, {"max_score", 1}, {"last_score", 1}};
    write_file(workspace / ".tito" / "progress.json", progress.dump(2));
}

// Runs `tito milestone <args>`, adding --quick for milestones that have a quick mode.
Run milestone(const fs::path& workspace, std::vector<std::string> args, bool quick) {
    args.insert(args.begin(), "milestone");
    if (quick) args.push_back("--quick");
    return tito(args, workspace, {}, 900);
}

// The data sets a milestone trains on must be there (CI points TITO_DATA_DIR at them).
void require_data(const nlohmann::json& config) {
    for (const auto& name : config.value("datasets", nlohmann::json::array())) {
        Run found = tito({"data", "path", name.get<std::string>()}, fs::temp_directory_path());
        INFO("data set " << name << ": " << found.text());
        if (found.exit_code != 0)
            FAIL("milestone tests need the data set " << name << ": set TITO_DATA_DIR to a folder holding it (CI uses ../shared/datasets) or run `tito data fetch " << name.get<std::string>() << "`");
    }
}

}  // namespace

TEST_CASE("milestone integrity") {
    const char* name_env = std::getenv("TITO_MILESTONE");
    if (!name_env || !*name_env) FAIL("TITO_MILESTONE is not set: run through ctest (milestone_<name>)");
    const std::string name = name_env;
    const nlohmann::json config = config_of(name);
    const std::vector<std::string> required = config.at("requires").get<std::vector<std::string>>();

    const bool quick = config.contains("quick");
    const std::vector<std::string> datasets = config.value("datasets", std::vector<std::string>{});
    if (!datasets.empty()) require_data(config);

    TempDir ws("milestone-" + name);
    for (const std::string& id : required) {
        REQUIRE(tito({"module", "start", id, "--force", "-q"}, ws.path).exit_code == 0);
        drop_in_reference(ws.path, dir_of(id));
    }

    // Locked until its modules are passed; --force runs it but does not count.
    Run locked = milestone(ws.path, {"run", name}, quick);
    INFO(locked.text());
    CHECK(locked.exit_code == 2);
    CHECK_THAT(locked.err, Catch::Contains("is locked"));
    Run forced = milestone(ws.path, {"run", name, "--force"}, quick);
    INFO(forced.text());
    CHECK(forced.exit_code == 0);
    CHECK_THAT(forced.out, Catch::Contains("not recorded"));
    CHECK_FALSE(nlohmann::json::parse(read_file(ws.path / ".tito" / "progress.json")).at("milestones").contains(name));

    // The reference engine alone passes.
    Run reference = milestone(ws.path, {"run", name, "--reference"}, quick);
    INFO(reference.text());
    CHECK(reference.exit_code == 0);
    CHECK_THAT(reference.out, Catch::Contains("PASSED"));

    // A student whose required modules are passed (with correct code) passes, and it is recorded.
    mark_passed(ws.path, required);
    Run passing = milestone(ws.path, {"--json", "run", name}, quick);
    INFO(passing.text());
    REQUIRE(passing.exit_code == 0);
    nlohmann::json result = nlohmann::json::parse(passing.out);
    CHECK(result.at("passed") == true);
    CHECK(result.at("student_modules").size() == required.size());
    nlohmann::json progress = nlohmann::json::parse(read_file(ws.path / ".tito" / "progress.json"));
    if (quick) {
        // A quick run passes its own (lower) bar but never counts.
        CHECK(result.at("recorded") == false);
        CHECK_FALSE(progress.at("milestones").contains(name));
        // What the run measured is kept in the workspace: the history and its curves (and a
        // language model's sample and checkpoint).
        CHECK(result.at("saved_files").size() == (name == "gpt" ? 4u : 2u));
        CHECK(fs::exists(ws.path / "milestones" / name / "quick-history.json"));
        if (name == "gpt") {
            CHECK(read_file(ws.path / "milestones" / name / "quick-sample.txt").size() > 100);
            CHECK_THAT(read_file(ws.path / "milestones" / name / "quick-checkpoint.ttc"), Catch::StartsWith("TTCKPT\r\n"));
        }
        const std::string svg = read_file(ws.path / "milestones" / name / "quick-curves.svg");
        CHECK_THAT(svg, Catch::StartsWith("<svg") || Catch::StartsWith("<?xml"));
        CHECK(nlohmann::json::parse(read_file(ws.path / "milestones" / name / "quick-history.json")).at("epochs").size() >= 1);
        CHECK(result.at("estimate_seconds").is_number());
        // Every other data set it trains on works too.
        for (size_t i = 1; i < datasets.size(); ++i) {
            Run other = milestone(ws.path, {"--json", "run", name, "--dataset", datasets[i]}, quick);
            INFO(other.text());
            CHECK(other.exit_code == 0);
            CHECK(nlohmann::json::parse(other.out).at("dataset") == datasets[i]);
        }
        Run unknown = milestone(ws.path, {"run", name, "--dataset", "imagenet"}, quick);
        CHECK(unknown.exit_code == 2);
        CHECK_THAT(unknown.err, Catch::Contains("does not train on 'imagenet'"));
    } else {
        CHECK(result.at("recorded") == true);
        CHECK(progress.at("milestones").at(name).at("passed") == true);
        Run status = tito({"--json", "milestone", "status"}, ws.path);
        bool listed = false;
        for (const auto& m : nlohmann::json::parse(status.out))
            if (m.at("name") == name) listed = m.at("state") == "passed";
        CHECK(listed);
    }

    // Each required module replaced by its template: the milestone fails.
    for (const std::string& id : required) {
        const std::string dir = dir_of(id);
        INFO("template of " << dir);
        REQUIRE(tito({"module", "reset", id, "-q"}, ws.path).exit_code == 0);
        Run broken = milestone(ws.path, {"run", name}, quick);
        INFO(broken.text());
        CHECK(broken.exit_code == 1);
        CHECK_THAT(broken.out, Catch::Contains("NOT PASSED"));
        CHECK_THAT(broken.out, Catch::Contains("not implemented"));
        drop_in_reference(ws.path, dir);
    }

    // Known-buggy variants: the milestone fails.
    for (const BrokenVariant& variant : broken_variants(name)) {
        INFO("broken variant in " << variant.module_dir << "/" << variant.file << ": " << variant.why);
        const fs::path file = ws.path / variant.module_dir / variant.file;
        std::string text = read_file(file);
        const size_t at = text.find(variant.find);
        REQUIRE(at != std::string::npos);
        REQUIRE(text.find(variant.find, at + 1) == std::string::npos);
        text.replace(at, variant.find.size(), variant.replace);
        write_file(file, text);
        Run broken = milestone(ws.path, {"--json", "run", name}, quick);
        INFO(broken.text());
        CHECK(broken.exit_code == 1);
        CHECK(nlohmann::json::parse(broken.out).at("passed") == false);
        drop_in_reference(ws.path, variant.module_dir);
    }
    CHECK_FALSE(broken_variants(name).empty());
}
