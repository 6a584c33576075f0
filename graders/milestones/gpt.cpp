// gpt.cpp - milestone 2018: a transformer language model learns to write like Shakespeare.
//
// Radford, Narasimhan, Salimans and Sutskever, "Improving language understanding by generative
// pre-training" (2018): a decoder-only transformer trained only to predict the next token. This
// milestone trains the character-level GPT of nanoGPT's CPU configuration on tiny-shakespeare
// (1.1 million characters) with the student's tokenizer (11), embeddings (12), attention (13) and
// transformer blocks (14), on top of tensors, autograd and AdamW (02-08) and checkpoints (10).
//
//     text -> CharTokenizer (65 characters) -> ids; the first 90% train, the last 10% validate
//     batch: 12 random windows of 64 + 1 characters: x = the first 64, y = the 64 after (shifted by one)
//     GPT: 4 pre-LN blocks, 4 heads, width 128, context 64, tied head, no dropout    (0.81M parameters)
//     loss: cross-entropy of logits (12 * 64, 65) against y (12 * 64,)
//     AdamW lr 1e-3, betas 0.9/0.99, weight decay 0.1 (matrices only, as nanoGPT);
//     100 warm-up steps, cosine decay to 1e-4; gradients clipped to norm 1;  2,000 steps
//     every 250 steps: the validation loss on 40 fixed batches (30,720 characters)
//     --quick: 2 layers, 2 heads, width 48, context 32, 300 steps on the first 200,000 characters
//
// Time: 8-15 minutes on 2 cores with module 02's naive matmul, which does 80-90% of the work
// (6 FLOPs per parameter per token: 0.81M * 768 tokens * 6 = 3.7 GFLOPs per step). nanoGPT's
// run of this configuration reaches a validation loss of about 1.88; this one 1.90.
//
// A loss that goes down says little about bugs that help the model cheat or that it can train
// around, so three checks run, each a metric tito holds to a bound:
//     causality_error    a causal language model must not see the future: changing the tokens after
//                        position t must not change the logits at positions <= t (a missing or
//                        shifted mask lets the model read the answer: a low loss that means nothing);
//                        before training and on the trained model
//     gradient_error     every parameter's gradient against finite differences (training_report.h),
//                        on a probe GPT whose weights make every path matter (make_probe)
//     unused_parameters  parameter tensors the logits do not depend on at all (a LayerNorm that
//                        forgets its scale trains fine - and its scale is dead weight)
// At the end the model writes a sample (sample.txt) and is saved (checkpoint.ttc, tt::load_gpt).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "milestone.h"
#include "tinytorch/tinytorch.h"
#include "training_report.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The run's sizes: the milestone's, or --quick's tiny model on a slice of the text (seconds).
struct Setup {
    int64_t layers, heads, width, context, batch, steps, warmup, eval_every, eval_batches;
    size_t text_chars;  // 0: all of it
};
constexpr Setup kFull{4, 4, 128, 64, 12, 2000, 100, 250, 40, 0};
constexpr Setup kQuick{2, 2, 48, 32, 12, 300, 20, 100, 10, 200000};

// A batch of language-model examples: x (B, T) token ids and y (B, T) the id that follows each.
struct Batch {
    tt::Tensor x, y;
};

// B windows of T + 1 consecutive tokens from ids, starting at random positions (nanoGPT's get_batch).
Batch random_batch(const std::vector<int64_t>& ids, int64_t B, int64_t T, tt::Generator& gen) {
    Batch batch{tt::empty({B, T}), tt::empty({B, T})};
    float* x = batch.x.data();
    float* y = batch.y.data();
    const auto starts = static_cast<uint64_t>(ids.size()) - static_cast<uint64_t>(T);  // start + T + 1 <= size
    for (int64_t b = 0; b < B; ++b) {
        const auto start = static_cast<size_t>(gen.randint(starts));
        for (int64_t t = 0; t < T; ++t) {
            x[b * T + t] = static_cast<float>(ids[start + static_cast<size_t>(t)]);
            y[b * T + t] = static_cast<float>(ids[start + static_cast<size_t>(t) + 1]);
        }
    }
    return batch;
}

// The GPT with its (B, T, V) logits flattened to (B * T, V), so the (N, C) losses and checks of
// modules 05 and 10 (and training_report.h's gradient check) apply to it as they are.
class FlatLogits : public tt::Module {
public:
    explicit FlatLogits(std::shared_ptr<tt::GPT> gpt) : gpt(register_module("gpt", std::move(gpt))) {}
    tt::Tensor forward(const tt::Tensor& ids) override {
        const tt::Tensor logits = gpt->forward(ids);  // (B, T, V)
        return logits.reshape({-1, logits.size(-1)});  // (B * T, V)
    }
    std::string name() const override { return "FlatLogits"; }
    std::shared_ptr<tt::GPT> gpt;
};

struct Evaluation {
    double loss = 0.0, accuracy = 0.0;
};

// Mean loss and next-character accuracy over fixed batches, in eval mode without a graph.
Evaluation evaluate(FlatLogits& model, const std::vector<Batch>& batches) {
    tt::NoGradGuard no_grad;
    model.eval();
    Evaluation result;
    for (const Batch& batch : batches) {
        const tt::Tensor logits = model(batch.x);  // (B * T, V)
        const tt::Tensor targets = batch.y.reshape({-1});
        result.loss += tt::cross_entropy(logits, targets).item();
        result.accuracy += tt::accuracy(logits, targets);
    }
    model.train();
    result.loss /= static_cast<double>(batches.size());
    result.accuracy /= static_cast<double>(batches.size());
    return result;
}

// The largest change of the logits at positions 0..t when every token after t is replaced by
// another one, over a few cut points t on the given sequences (eval mode, no graph). A causal
// model gives exactly 0 - position t's computation never reads a later token - however the mask
// is implemented; without the mask, or with one shifted by a position, it is of order 0.1 to 1.
double causality_error(tt::GPT& model, const tt::Tensor& ids, tt::Generator& gen) {
    tt::NoGradGuard no_grad;
    model.eval();
    const int64_t B = ids.size(0), T = ids.size(1), V = model.config.vocab_size;
    const std::vector<float> before = model(ids).to_vector();  // (B, T, V)
    double worst = 0.0;
    for (const int64_t cut : {int64_t{0}, T / 2, T - 2}) {
        const std::vector<float> original = ids.to_vector();
        tt::Tensor changed = tt::empty({B, T});
        float* c = changed.data();
        std::copy(original.begin(), original.end(), c);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = cut + 1; t < T; ++t) {  // every later token becomes a different one
                const auto shift = static_cast<int64_t>(1 + gen.randint(static_cast<uint64_t>(V - 1)));
                c[b * T + t] = static_cast<float>((static_cast<int64_t>(c[b * T + t]) + shift) % V);
            }
        const std::vector<float> after = model(changed).to_vector();
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t <= cut; ++t)
                for (int64_t v = 0; v < V; ++v) {
                    const size_t i = static_cast<size_t>((b * T + t) * V + v);
                    const double difference = std::fabs(static_cast<double>(before[i]) - after[i]);
                    worst = std::isnan(difference) ? 1e30 : std::max(worst, difference);  // NaN: as bad as it gets
                }
    }
    model.train();
    return worst;
}

// The checks run on a probe: a small GPT built by the same code (the student's layers), with
// untied embeddings and weights drawn so that every path matters - activations of order 1, sharp
// attention, LayerNorm scales and shifts away from 1 and 0. At the milestone's initialisation (N(0,
// 0.02^2) weights, attention nearly uniform, the tied head dominating the embedding's gradient) the
// same bugs move a gradient by only 1-7%: an Embedding backward that assigns instead of adding, a
// LayerNorm backward without its variance term, softmax's backward without its row sum.
std::shared_ptr<tt::GPT> make_probe(int64_t V, tt::Generator& gen) {
    auto probe = std::make_shared<tt::GPT>(tt::GPTConfig{.vocab_size = V, .context_length = 16, .num_layers = 2, .num_heads = 2,
                                                         .embed_dim = 32, .dropout = 0.0f, .bias = true, .tie_weights = false},
                                           &gen);
    tt::NoGradGuard no_grad;
    for (auto& [name, p] : probe->named_parameters()) {
        float* w = p.data();
        const bool table = name.find("embedding") != std::string::npos;
        const bool scale = p.dim() == 1 && name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;  // LayerNorm's
        // A Linear (out, in): std 1 / sqrt(in), so every output is of order 1; a table: N(0, 1).
        const float std = table ? 1.0f : p.dim() == 2 ? 1.0f / std::sqrt(static_cast<float>(p.size(1))) : 0.3f;
        for (int64_t i = 0; i < p.numel(); ++i) w[i] = (scale ? 1.0f : 0.0f) + std * gen.normal();
        p.bump_version();
    }
    return probe;
}

// training_report.h's gradient check (see gradient_error there), with each parameter tensor cut
// into `blocks` contiguous parts, each checked along its own direction: the fused qkv weight (3D,
// D) holds q's, k's and v's rows, and a wrong q or k gradient would hide behind v's larger one in a
// single direction over the whole tensor. Returns the worst relative error and where it is.
milestone::GradientError gradient_error_by_block(tt::Module& model, const tt::Tensor& inputs, const tt::Tensor& targets,
                                                 int64_t blocks) {
    model.zero_grad();
    tt::cross_entropy(model.forward(inputs), targets).backward();
    tt::Generator gen(1234);
    milestone::GradientError result;
    tt::NoGradGuard no_grad;
    for (auto& [name, p] : model.named_parameters()) {
        if (p.numel() == 0 || !p.contiguous().is_same(p)) continue;
        float* w = p.data();
        const auto n = static_cast<size_t>(p.numel());
        const std::vector<float> saved(w, w + n);
        const tt::Tensor grad = p.grad();
        const std::vector<float> g = grad.defined() ? grad.to_vector() : std::vector<float>(n, 0.0f);
        double squares = 0.0;
        for (float value : saved) squares += static_cast<double>(value) * value;
        const double scale = std::max(std::sqrt(squares / static_cast<double>(n)), 0.1);
        const auto parts = static_cast<size_t>(std::min<int64_t>(blocks, p.numel()));
        for (size_t b = 0; b < parts; ++b) {
            const size_t begin = n * b / parts, end = n * (b + 1) / parts;  // entries [begin, end)
            std::vector<float> v(end - begin);
            double analytic = 0.0;
            for (size_t j = begin; j < end; ++j) {
                v[j - begin] = g[j] > 0.0f ? 1.0f : g[j] < 0.0f ? -1.0f : (gen.randint(2) == 0 ? -1.0f : 1.0f);
                analytic += static_cast<double>(g[j]) * v[j - begin];  // = sum |g_j| over the block
            }
            const double step = analytic > 0.0 ? std::min(1e-4 / analytic, 0.05 * scale) : 0.01 * scale;
            const auto h = static_cast<float>(step);
            analytic *= h;
            auto loss_at = [&](float sign) {
                for (size_t j = begin; j < end; ++j) w[j] = saved[j] + sign * h * v[j - begin];
                p.bump_version();
                return static_cast<double>(tt::cross_entropy(model.forward(inputs), targets).item());
            };
            const double numeric = (loss_at(1.0f) - loss_at(-1.0f)) / 2.0;
            std::copy(saved.begin(), saved.end(), w);
            p.bump_version();
            const double size = std::max(std::fabs(analytic), std::fabs(numeric));
            double error = size > 1e-5 ? std::fabs(analytic - numeric) / size : 0.0;
            if (std::isnan(analytic) || std::isnan(numeric)) error = 1e30;  // NaN: as bad as it gets
            if (error > result.worst) {
                const std::string part = parts > 1 ? " part " + std::to_string(b + 1) + "/" + std::to_string(parts) : "";
                result = {error, name + " " + tt::shape_str(p.shape()) + part};
            }
        }
    }
    model.zero_grad();
    return result;
}

// Parameter tensors the model's output does not depend on: moving every entry of the tensor by
// half its scale (random signs) leaves every logit bit for bit the same. A correct model has none -
// every weight, bias, LayerNorm scale and shift feeds the logits. Returns their names.
std::vector<std::string> unused_parameters(tt::Module& model, const tt::Tensor& inputs) {
    tt::NoGradGuard no_grad;
    model.eval();
    const std::vector<float> base = model(inputs).to_vector();
    tt::Generator gen(2018);
    std::vector<std::string> unused;
    for (auto& [name, p] : model.named_parameters()) {
        if (p.numel() == 0 || !p.contiguous().is_same(p)) continue;
        float* w = p.data();
        const auto n = static_cast<size_t>(p.numel());
        const std::vector<float> saved(w, w + n);
        double squares = 0.0;
        for (float value : saved) squares += static_cast<double>(value) * value;
        const auto h = static_cast<float>(0.5 * std::max(std::sqrt(squares / static_cast<double>(n)), 1.0));
        for (size_t j = 0; j < n; ++j) w[j] = saved[j] + (gen.randint(2) == 0 ? -h : h);
        p.bump_version();
        const std::vector<float> moved = model(inputs).to_vector();
        std::copy(saved.begin(), saved.end(), w);
        p.bump_version();
        if (moved == base) unused.push_back(name + " " + tt::shape_str(p.shape()));
    }
    model.train();
    return unused;
}

// Per-interval numbers for the History (one record per evaluation) and the progress bar.
struct Interval {
    double loss_sum = 0.0, accuracy_sum = 0.0;
    int64_t steps = 0;
    Clock::time_point start = Clock::now();
};

}  // namespace

int main(int argc, char** argv) {
    return milestone::run([&](milestone::Reporter& report) {
        const milestone::Options options = milestone::parse_options(argc, argv);
        if (!options.dataset.empty() && options.dataset != "tinyshakespeare")
            throw tt::Error("gpt trains on tinyshakespeare, not '" + options.dataset + "'");
        const Setup s = options.quick ? kQuick : kFull;
        const Clock::time_point run_start = Clock::now();

        // The text and its tokens. nanoGPT's split: the first 90% to train on, the last 10% to
        // measure how well the model predicts text it has never seen.
        const std::string path = tt::data::find_dataset("tinyshakespeare") + "/input.txt";
        TT_CHECK(std::filesystem::is_regular_file(path), "gpt: ", path, " is missing; get it with `tito data fetch tinyshakespeare`");
        std::string text = tt::data::read_text(path);
        if (s.text_chars > 0 && text.size() > s.text_chars) text.resize(s.text_chars);
        const tt::CharTokenizer tokenizer = tt::CharTokenizer::fit(text);
        const std::vector<int64_t> ids = tokenizer.encode(text);
        TT_CHECK(tokenizer.decode(ids) == text, "gpt: CharTokenizer: decode(encode(text)) is not the text (module 11)");
        const auto split = static_cast<std::ptrdiff_t>(ids.size() * 9 / 10);
        const std::vector<int64_t> train_ids(ids.begin(), ids.begin() + split), val_ids(ids.begin() + split, ids.end());
        const int64_t V = tokenizer.vocab_size();

        tt::Generator model_gen(2018);
        auto gpt = std::make_shared<tt::GPT>(tt::GPTConfig{.vocab_size = V, .context_length = s.context, .num_layers = s.layers,
                                                           .num_heads = s.heads, .embed_dim = s.width, .dropout = 0.0f},
                                             &model_gen);
        FlatLogits model(gpt);
        char line[512];
        std::snprintf(line, sizeof line,
                      "tiny-shakespeare: %zu characters, %lld distinct; %zu to train on, %zu to validate. Model: GPT, %lld layers, "
                      "%lld heads, width %lld, context %lld, %lld parameters; AdamW, batch %lld, %lld steps.",
                      text.size(), static_cast<long long>(V), train_ids.size(), val_ids.size(), static_cast<long long>(s.layers),
                      static_cast<long long>(s.heads), static_cast<long long>(s.width), static_cast<long long>(s.context),
                      static_cast<long long>(gpt->parameter_count()), static_cast<long long>(s.batch), static_cast<long long>(s.steps));
        report.log(line);

        // The checks, before training, on the probe (see make_probe) and a few validation windows.
        tt::Generator probe_gen(7), check_gen(1);
        const std::shared_ptr<tt::GPT> probe = make_probe(V, probe_gen);
        FlatLogits probe_logits(probe);
        const Batch probe_batch = random_batch(val_ids, 4, probe->config.context_length, check_gen);
        const double causality_before = std::max(causality_error(*probe, probe_batch.x, check_gen),
                                                 causality_error(*gpt, random_batch(val_ids, 4, s.context, check_gen).x, check_gen));
        probe_logits.eval();
        const milestone::GradientError gradient = gradient_error_by_block(probe_logits, probe_batch.x, probe_batch.y.reshape({-1}), 6);
        const std::vector<std::string> unused = unused_parameters(probe_logits, probe_batch.x);
        std::snprintf(line, sizeof line,
                      "gradient check (a probe GPT, 4 validation sequences): largest relative error %.1e, at %s (backward vs finite differences)%s",
                      gradient.worst, gradient.parameter.c_str(),
                      gradient.worst > milestone::kGradientTolerance ? " - a backward is wrong: `tito test` the module of that layer" : "");
        report.log(line);
        std::string unused_names;
        for (const std::string& name : unused) unused_names += (unused_names.empty() ? "" : ", ") + name;
        report.log(unused.empty() ? "every parameter tensor changes the logits"
                                  : "parameters the logits do not depend on: " + unused_names +
                                        " - a layer ignores them in forward (a LayerNorm's weight and bias: module 14)");

        // The optimizer: weight decay on the matrices (and embeddings) only, as nanoGPT - decaying
        // a LayerNorm scale or a bias towards 0 only fights the training.
        std::vector<tt::Tensor> decayed, not_decayed;
        for (const tt::Tensor& p : model.parameters()) (p.dim() >= 2 ? decayed : not_decayed).push_back(p);
        tt::optim::AdamW decay(decayed, {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.99f, .weight_decay = 0.1f});
        tt::optim::AdamW no_decay(not_decayed, {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.99f, .weight_decay = 0.0f});
        tt::optim::WarmupCosineLR decay_schedule(decay, s.warmup, s.steps, 1e-4f);
        tt::optim::WarmupCosineLR no_decay_schedule(no_decay, s.warmup, s.steps, 1e-4f);

        // A fixed set of validation batches, so every evaluation measures the same text.
        tt::Generator val_gen(2018), train_gen(1337);
        std::vector<Batch> val_batches;
        for (int64_t i = 0; i < s.eval_batches; ++i) val_batches.push_back(random_batch(val_ids, s.batch, s.context, val_gen));

        // Before training: the loss of a model that knows nothing is ln V (every character equally likely).
        const Clock::time_point eval_start = Clock::now();
        const Evaluation initial = evaluate(model, val_batches);
        const double eval_seconds = seconds_since(eval_start);
        std::snprintf(line, sizeof line, "before training: validation loss %.3f (a uniform guess over %lld characters: ln %lld = %.3f)",
                      initial.loss, static_cast<long long>(V), static_cast<long long>(V), std::log(static_cast<double>(V)));
        report.log(line);

        tt::History history;
        Interval interval;
        Evaluation last_eval = initial;
        double last_train_loss = std::numeric_limits<double>::quiet_NaN(), train_seconds = 0.0;
        const int64_t evaluations = (s.steps + s.eval_every - 1) / s.eval_every;
        bool estimated = false;
        Clock::time_point last_report{};
        const double tokens_per_step = static_cast<double>(s.batch * s.context);
        for (int64_t step = 1; step <= s.steps; ++step) {
            const Clock::time_point step_start = Clock::now();
            const Batch batch = random_batch(train_ids, s.batch, s.context, train_gen);
            const tt::Tensor targets = batch.y.reshape({-1});
            model.zero_grad();
            const tt::Tensor logits = model(batch.x);  // (B * T, V)
            tt::Tensor loss = tt::cross_entropy(logits, targets);
            loss.backward();
            tt::optim::clip_grad_norm_(model.parameters(), 1.0f);
            decay.step();
            no_decay.step();
            decay_schedule.step();
            no_decay_schedule.step();
            interval.loss_sum += loss.item();
            {
                tt::NoGradGuard no_grad;
                interval.accuracy_sum += tt::accuracy(logits, targets);
            }
            ++interval.steps;
            train_seconds += seconds_since(step_start);

            // Seconds left: training steps at the pace so far, plus the evaluations still to come.
            const auto remaining = [&] {
                const int64_t evaluations_left = evaluations - (step - 1) / s.eval_every;
                return static_cast<double>(s.steps - step) * train_seconds / static_cast<double>(step) +
                       static_cast<double>(evaluations_left) * eval_seconds;
            };
            if (!estimated && (step >= 10 || train_seconds > 3.0)) {
                estimated = true;
                report.estimate(seconds_since(run_start) + remaining());
            }
            const bool evaluate_now = step % s.eval_every == 0 || step == s.steps;
            if (evaluate_now || std::chrono::duration<double>(Clock::now() - last_report).count() >= 0.25) {
                last_report = Clock::now();
                report.progress({{"phase", "train"},
                                 {"step", step},
                                 {"steps", s.steps},
                                 {"loss", interval.loss_sum / static_cast<double>(interval.steps)},
                                 {"tokens_per_second", tokens_per_step * static_cast<double>(step) / train_seconds},
                                 {"eta_seconds", remaining()}});
            }
            if (!evaluate_now) continue;

            last_eval = evaluate(model, val_batches);
            last_train_loss = interval.loss_sum / static_cast<double>(interval.steps);
            tt::EpochRecord record;
            record.epoch = static_cast<int64_t>(history.epochs.size()) + 1;
            record.train_loss = last_train_loss;
            record.train_accuracy = interval.accuracy_sum / static_cast<double>(interval.steps);
            record.val_loss = last_eval.loss;
            record.val_accuracy = last_eval.accuracy;
            record.learning_rate = decay.lr;
            record.seconds = seconds_since(interval.start);
            record.examples_per_second = tokens_per_step * static_cast<double>(step) / train_seconds;  // tokens/s
            record.peak_memory_bytes = tt::peak_memory_bytes();
            history.epochs.push_back(record);
            if (history.best_epoch == 0 || record.val_loss < history.epochs[static_cast<size_t>(history.best_epoch - 1)].val_loss)
                history.best_epoch = record.epoch;
            std::snprintf(line, sizeof line,
                          "step %lld/%lld: train loss %.4f, validation loss %.4f (next character right %.1f%%), lr %.2e, %.0f tokens/s, "
                          "peak memory %.0f MB",
                          static_cast<long long>(step), static_cast<long long>(s.steps), record.train_loss, record.val_loss,
                          100.0 * record.val_accuracy, record.learning_rate, record.examples_per_second,
                          static_cast<double>(record.peak_memory_bytes) / 1e6);
            report.log(line);
            interval = Interval{};
        }
        history.save("history.json", "curves.svg",
                     "gpt (2018): a character-level GPT on tiny-shakespeare (one point per " + std::to_string(s.eval_every) +
                         " steps; accuracy: the next character)");

        // What it learned: a sample, from a newline, at temperature 0.8 (a little more careful
        // than the model's own distribution), then the model itself.
        const tt::Generated sample = tt::generate(
            *gpt, tokenizer.encode("\n"), {.max_new_tokens = 300, .sampling = {.temperature = 0.8f}, .seed = 2018});
        const std::string written = tokenizer.decode(sample.tokens);
        std::ofstream("sample.txt", std::ios::binary) << written;
        report.log("a sample (temperature 0.8):" + written);
        tt::save_gpt("checkpoint.ttc", *gpt);

        // Causality once more, on the trained model (its attention is sharp: a leak shows most).
        const double causality = std::max(causality_before, causality_error(*gpt, val_batches.front().x, check_gen));
        std::snprintf(line, sizeof line, "causality check: changing later tokens moves earlier logits by at most %.1e%s", causality,
                      causality > 1e-4 ? " - the model sees the future: check the causal mask (module 13)" : " (a causal model: 0)");
        report.log(line);

        report.metrics({{"val_loss", last_eval.loss},
                        {"val_accuracy", last_eval.accuracy},
                        {"train_loss", last_train_loss},
                        {"initial_val_loss", initial.loss},
                        {"steps", s.steps},
                        {"tokens_per_second", tokens_per_step * static_cast<double>(s.steps) / train_seconds},
                        {"causality_error", causality},
                        {"gradient_error", gradient.worst},
                        {"unused_parameters", static_cast<double>(unused.size())},
                        {"parameters", gpt->parameter_count()},
                        {"seconds", seconds_since(run_start)},
                        {"peak_memory_mb", static_cast<double>(tt::peak_memory_bytes()) / 1e6}});
    });
}
