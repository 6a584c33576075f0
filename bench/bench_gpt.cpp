// bench_gpt - one training step of the gpt milestone's model, and generation without a KV cache,
// the reference engine beside PyTorch with the same model, batch and thread count.
//
//     build/bin/bench_gpt [--steps N] [--threads T] [--tokens N] [--only naive|openblas|pytorch]
//
// The model: a character-level GPT, vocabulary 65, context 64, 4 layers, 4 heads, width 128, no
// dropout, tied head (0.81M parameters). A training step on a random batch of 12 x 64 tokens is
// zero_grad, forward, cross-entropy, backward, clip_grad_norm_(1.0) and an AdamW step: the work of
// one step of the milestone. The median of N steps is reported. Generation: greedy, N new tokens
// from a 1-token prompt, feeding the last 64 tokens each time (no KV cache: every token re-runs the
// whole window - module 16's cache removes that).
//
// The engine runs with module 02's naive gemm behind kernels::gemm (what a student's code runs)
// and with OpenBLAS behind the same dispatch point (T threads); PyTorch runs bench/pytorch/gpt.py
// with torch.set_num_threads(T) when python3 can import torch. The numbers that matter are the
// ratios engine/PyTorch, measured in this one run (goal: engine with OpenBLAS <= 0.5 x PyTorch's
// time per step - PyTorch's overhead per op is large at this size).
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_support.h"
#include "tinytorch/tinytorch.h"

namespace {

constexpr int64_t kVocab = 65, kContext = 64, kBatch = 12;

std::shared_ptr<tt::GPT> make_model(tt::Generator& gen) {
    return std::make_shared<tt::GPT>(
        tt::GPTConfig{.vocab_size = kVocab, .context_length = kContext, .num_layers = 4, .num_heads = 4, .embed_dim = 128}, &gen);
}

tt::Tensor random_ids(tt::Generator& gen) {
    tt::Tensor ids = tt::empty({kBatch, kContext});
    float* d = ids.data();
    for (int64_t i = 0; i < ids.numel(); ++i) d[i] = static_cast<float>(gen.randint(kVocab));
    return ids;
}

// Median milliseconds of one training step, over `steps` steps after two warm-up steps.
double step_ms(int steps) {
    tt::Generator gen(2018);
    auto model = make_model(gen);
    std::vector<tt::Tensor> decayed, not_decayed;
    for (const tt::Tensor& p : model->parameters()) (p.dim() >= 2 ? decayed : not_decayed).push_back(p);
    tt::optim::AdamW decay(decayed, {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.99f, .weight_decay = 0.1f});
    tt::optim::AdamW no_decay(not_decayed, {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.99f, .weight_decay = 0.0f});
    tt::Generator data(1);
    const tt::Tensor x = random_ids(data), y = random_ids(data).reshape({-1});
    auto step = [&] {
        model->zero_grad();
        tt::Tensor loss = tt::cross_entropy(model->forward(x).reshape({-1, kVocab}), y);
        loss.backward();
        tt::optim::clip_grad_norm_(model->parameters(), 1.0f);
        decay.step();
        no_decay.step();
    };
    step();  // one more warm-up: median_seconds does the other
    return 1000.0 * bench::median_seconds(step, steps);
}

// Greedy tokens per second without a KV cache, from a 1-token prompt.
double generate_tokens_per_second(int64_t tokens) {
    tt::Generator gen(2018);
    auto model = make_model(gen);
    const tt::GenerateOptions options{.max_new_tokens = tokens, .sampling = {.temperature = 0.0f}, .at_context = tt::ContextPolicy::slide};
    tt::generate(*model, {0}, {.max_new_tokens = 8, .sampling = {.temperature = 0.0f}});  // warm-up
    const double start = bench::now_seconds();
    const tt::Generated generated = tt::generate(*model, {0}, options);
    return static_cast<double>(generated.new_tokens) / (bench::now_seconds() - start);
}

}  // namespace

int main(int argc, char** argv) {
    bench::ensure_openblas_kernels(argv);
    int steps = 20, threads = 2;
    int64_t tokens = 200;
    std::string only;  // run one of the three (for profiling)
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--tokens")) tokens = std::atoll(argv[i + 1]);
        if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    }
    {
        tt::Generator gen(2018);
        std::printf("GPT: vocabulary %lld, context %lld, 4 layers, 4 heads, width 128 (%lld parameters); batch %lld x %lld tokens\n\n",
                    static_cast<long long>(kVocab), static_cast<long long>(kContext),
                    static_cast<long long>(make_model(gen)->parameter_count()), static_cast<long long>(kBatch),
                    static_cast<long long>(kContext));
    }
    auto wanted = [&only](const char* what) { return only.empty() || only == what; };
    double naive_ms = 0, blas_ms = 0, naive_tps = 0, blas_tps = 0;
    if (wanted("naive")) {
        bench::use_backend("naive", threads);
        naive_ms = step_ms(steps);
        naive_tps = generate_tokens_per_second(tokens);
    }
    if (wanted("openblas")) {
        bench::use_backend("openblas", threads);
        blas_ms = step_ms(steps);
        blas_tps = generate_tokens_per_second(tokens);
    }
    bench::use_backend("naive", threads);

    double torch_ms = 0, torch_tps = 0;
    if (wanted("pytorch")) {
        const std::string script = bench::pytorch_script("gpt.py");
        const std::string step_out = bench::run_pytorch(script, "step " + std::to_string(threads) + " " + std::to_string(steps));
        if (!step_out.empty()) torch_ms = nlohmann::json::parse(step_out).at("ms_per_step").get<double>();
        const std::string gen_out = bench::run_pytorch(script, "generate " + std::to_string(threads) + " " + std::to_string(tokens));
        if (!gen_out.empty()) torch_tps = nlohmann::json::parse(gen_out).at("tokens_per_second").get<double>();
    }

    const double tokens_per_step = static_cast<double>(kBatch * kContext);
    std::printf("training step (median of %d)      %10s %12s %16s\n", steps, "ms/step", "tokens/s", "engine/PyTorch");
    auto step_row = [&](const std::string& name, double ms, bool engine) {
        if (ms <= 0) return;
        std::printf("%-34s %10.1f %12.0f", name.c_str(), ms, tokens_per_step / ms * 1000.0);
        if (engine && torch_ms > 0) std::printf(" %16.2f", ms / torch_ms);
        std::printf("\n");
    };
    step_row("engine, naive gemm", naive_ms, true);
    step_row("engine, OpenBLAS (" + std::to_string(threads) + " threads)", blas_ms, true);
    step_row("PyTorch (" + std::to_string(threads) + " threads)", torch_ms, false);

    std::printf("\ngeneration, greedy, %lld tokens, no cache %12s %16s\n", static_cast<long long>(tokens), "tokens/s", "engine/PyTorch");
    auto generate_row = [&](const std::string& name, double tps, bool engine) {
        if (tps <= 0) return;
        std::printf("%-45s %12.0f", name.c_str(), tps);
        // As a time ratio (lower is faster), like the training rows.
        if (engine && torch_tps > 0) std::printf(" %16.2f", torch_tps / tps);
        std::printf("\n");
    };
    generate_row("engine, naive gemm", naive_tps, true);
    generate_row("engine, OpenBLAS (" + std::to_string(threads) + " threads)", blas_tps, true);
    generate_row("PyTorch (" + std::to_string(threads) + " threads)", torch_tps, false);
    if (wanted("pytorch") && torch_ms <= 0)
        std::printf("PyTorch: not measured (python3 cannot import torch; on Debian: apt-get install python3-torch)\n");
    std::printf("\npeak resident memory of this process: %.0f MB\n", static_cast<double>(tt::peak_memory_bytes()) / 1e6);
    return 0;
}
