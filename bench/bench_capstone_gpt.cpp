// bench_capstone_gpt - the gpt competition's workload: greedy generation with the gpt milestone's
// model, by module 20's reference inference engine, by module 14's generate(), and by PyTorch with
// the same weights.
//
//     build/bin/bench_capstone_gpt [--checkpoint FILE] [--prompts N] [--prompt-tokens N]
//                                  [--new-tokens N] [--threads T] [--repeats R]
//
// The model: the gpt milestone's shape - vocabulary 65, context 64, 4 layers, 4 heads, width 128,
// tied head - with GPT-2's random initialisation (seed 2018), or a trained checkpoint (save_gpt's
// format, e.g. the milestone's checkpoint.ttc). The workload, as configs/competitions/gpt.json:
// N prompts (default 16) of 16 token ids, each continued greedily by 48 new tokens (16 + 48 = the
// whole context). Reported: tokens/s (new tokens over wall time, median of R runs) for
//   capstone::GptInference  module 20's reference (KV cache, no graph), naive gemm and OpenBLAS
//   tt::generate            module 14 (no cache: the whole sequence again per token), both gemms
//   PyTorch 1.13            bench/pytorch/gpt_capstone.py, the same weights, no cache, T threads
// and whether each wrote exactly the reference engine's tokens (the competition's gate).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_support.h"
#include "tinytorch/capstone.h"
#include "tinytorch/tinytorch.h"

namespace {

struct Workload {
    std::vector<std::vector<int64_t>> prompts;
    int64_t new_tokens = 48;
};

struct Row {
    std::string name;
    double tokens_per_second = 0.0;
    bool same_text = true;
};

// Tokens/s of `generate_all` (which returns every continuation), median of `repeats` runs.
double tokens_per_second(const Workload& w, int repeats, const std::function<std::vector<std::vector<int64_t>>()>& generate_all,
                         std::vector<std::vector<int64_t>>& texts) {
    const double seconds = bench::median_seconds([&] { texts = generate_all(); }, repeats);
    return static_cast<double>(w.prompts.size()) * static_cast<double>(w.new_tokens) / seconds;
}

// The weights for PyTorch: a manifest (config and parameter names and shapes, in order) and the
// float32 values one after the other.
void export_weights(const tt::GPT& model, const std::string& manifest_path, const std::string& values_path) {
    nlohmann::json manifest;
    const tt::GPTConfig& c = model.config;
    manifest["config"] = {{"vocab_size", c.vocab_size}, {"context_length", c.context_length}, {"num_layers", c.num_layers},
                          {"num_heads", c.num_heads},   {"embed_dim", c.embed_dim},           {"bias", c.bias},
                          {"tie_weights", c.tie_weights}};
    std::ofstream values(values_path, std::ios::binary);
    for (const auto& [name, parameter] : model.named_parameters()) {
        manifest["parameters"].push_back({{"name", name}, {"shape", parameter.shape()}});
        const std::vector<float> v = parameter.contiguous().to_vector();
        values.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
    }
    std::ofstream(manifest_path) << manifest.dump();
}

}  // namespace

int main(int argc, char** argv) {
    bench::ensure_openblas_kernels(argv);
    std::string checkpoint;
    int threads = 2, repeats = 3;
    int64_t prompt_count = 16, prompt_tokens = 16, new_tokens = 48;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--checkpoint")) checkpoint = argv[i + 1];
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--prompts")) prompt_count = std::atoll(argv[i + 1]);
        if (!std::strcmp(argv[i], "--prompt-tokens")) prompt_tokens = std::atoll(argv[i + 1]);
        if (!std::strcmp(argv[i], "--new-tokens")) new_tokens = std::atoll(argv[i + 1]);
    }

    // The model, and a checkpoint file for gpt_load.
    const std::filesystem::path folder = std::filesystem::temp_directory_path() / ("bench_capstone_gpt_" + std::to_string(getpid()));
    std::filesystem::create_directories(folder);
    std::shared_ptr<tt::GPT> model;
    if (checkpoint.empty()) {
        tt::Generator gen(2018);
        model = std::make_shared<tt::GPT>(
            tt::GPTConfig{.vocab_size = 65, .context_length = 64, .num_layers = 4, .num_heads = 4, .embed_dim = 128}, &gen);
        checkpoint = (folder / "random.ttc").string();
        tt::save_gpt(checkpoint, *model);
    } else {
        model = tt::load_gpt(checkpoint);
    }
    model->eval();
    const tt::GPTConfig& c = model->config;
    new_tokens = std::min(new_tokens, c.context_length - prompt_tokens);
    Workload w;
    w.new_tokens = new_tokens;
    for (int64_t p = 0; p < prompt_count; ++p) {
        std::vector<int64_t> prompt;
        for (int64_t i = 0; i < prompt_tokens; ++i) prompt.push_back((p * 13 + i * 7 + 1) % c.vocab_size);
        w.prompts.push_back(prompt);
    }
    std::printf("GPT: vocabulary %lld, context %lld, %lld layers, %lld heads, width %lld (%lld parameters), %s\n",
                static_cast<long long>(c.vocab_size), static_cast<long long>(c.context_length), static_cast<long long>(c.num_layers),
                static_cast<long long>(c.num_heads), static_cast<long long>(c.embed_dim),
                static_cast<long long>(model->parameter_count()), checkpoint.find(folder.string()) == 0 ? "random weights" : checkpoint.c_str());
    std::printf("workload: %lld prompts of %lld tokens, %lld new tokens each, greedy; %d threads; median of %d runs\n\n",
                static_cast<long long>(prompt_count), static_cast<long long>(prompt_tokens), static_cast<long long>(new_tokens),
                threads, repeats);

    std::vector<Row> rows;
    std::vector<std::vector<int64_t>> reference, texts;
    auto inference_all = [&](tt::capstone::GptInference& gpt) {
        std::vector<std::vector<int64_t>> out;
        for (const auto& prompt : w.prompts) out.push_back(gpt.generate_greedy(prompt, w.new_tokens));
        return out;
    };
    auto generate_all = [&] {
        std::vector<std::vector<int64_t>> out;
        for (const auto& prompt : w.prompts) {
            const tt::Generated g = tt::generate(*model, prompt, {.max_new_tokens = w.new_tokens, .sampling = {.temperature = 0.0f}});
            out.emplace_back(g.tokens.begin() + static_cast<int64_t>(prompt.size()), g.tokens.end());
        }
        return out;
    };

    // gpt_load calls use_fastest_gemm(); the naive row switches the dispatch point back after it.
    for (const std::string backend : {"openblas", "naive"}) {
        auto gpt = tt::capstone::gpt_load(checkpoint);
        bench::use_backend(backend, threads);
        const std::string gemm = backend == "naive" ? "naive gemm" : "OpenBLAS";
        const double tps = tokens_per_second(w, repeats, [&] { return inference_all(*gpt); }, texts);
        if (reference.empty()) reference = texts;
        rows.push_back({"GptInference (KV cache), " + gemm, tps, texts == reference});
    }
    for (const std::string backend : {"openblas", "naive"}) {
        bench::use_backend(backend, threads);
        const std::string gemm = backend == "naive" ? "naive gemm" : "OpenBLAS";
        const double tps = tokens_per_second(w, 1, generate_all, texts);
        rows.push_back({"tt::generate (no cache), " + gemm, tps, texts == reference});
    }
    bench::use_backend("naive", threads);

    // PyTorch with the same weights and prompts.
    const std::string manifest = (folder / "weights.json").string(), values = (folder / "weights.bin").string(),
                      prompts = (folder / "prompts.json").string();
    export_weights(*model, manifest, values);
    std::ofstream(prompts) << nlohmann::json(w.prompts).dump();
    const std::string out = bench::run_pytorch(bench::pytorch_script("gpt_capstone.py"), std::to_string(threads) + " " + manifest +
                                                                                               " " + values + " " + prompts + " " +
                                                                                               std::to_string(w.new_tokens));
    double torch_tps = 0.0;
    if (!out.empty()) {
        const nlohmann::json result = nlohmann::json::parse(out);
        torch_tps = result.at("tokens_per_second").get<double>();
        rows.push_back({"PyTorch (no cache, " + std::to_string(threads) + " threads)", torch_tps,
                        result.at("tokens").get<std::vector<std::vector<int64_t>>>() == reference});
    }
    std::filesystem::remove_all(folder);

    std::printf("%-40s %12s %14s %12s\n", "", "tokens/s", "x PyTorch", "same text");
    for (const Row& row : rows) {
        std::printf("%-40s %12.0f", row.name.c_str(), row.tokens_per_second);
        if (torch_tps > 0) std::printf(" %14.2f", row.tokens_per_second / torch_tps);
        else std::printf(" %14s", "-");
        std::printf(" %12s\n", row.same_text ? "yes" : "NO");
    }
    if (torch_tps <= 0)
        std::printf("PyTorch: not measured (python3 cannot import torch; on Debian: apt-get install python3-torch)\n");
    std::printf("\n'same text': every continuation identical to the first row's, token for token (the competition's gate).\n");
    return 0;
}
