// sampling.cpp - module 14: picking the next token, and writing text one token at a time.
//
// A language model gives, at every position, logits (V,): a score per token of the vocabulary.
// softmax(logits) is the model's belief about the next token. How we turn that belief into ONE
// token decides what the text reads like:
//
//     greedy (temperature 0)   always the most likely token: deterministic, and prone to loops
//                              ("the the the ...") because the likeliest continuation of a
//                              repetition is often more repetition
//     temperature t            softmax(logits / t): t < 1 sharpens the distribution (safer,
//                              duller), t > 1 flattens it (more surprising, more mistakes)
//     top-k                    only the k likeliest tokens may be drawn: cuts the long tail of
//                              tokens that are each unlikely but together likely to be drawn
//     top-p (nucleus)          only the smallest set of likeliest tokens holding probability
//                              mass >= p: a top-k whose k adapts - few tokens when the model is
//                              sure, many when it is not (Holtzman et al. 2019)
//
// The exact procedure (transformer.h) fixes every detail - ties, the order of the final running
// sum, one uniform draw - so that a seed reproduces the same sample on every machine and a grader
// can recompute it with its own Generator.
//
// Generation cost. generate() runs the whole model on the whole sequence for every new token:
// token t costs a forward pass over t positions, so n tokens cost O(n) passes of O(n) work each
// (and attention inside each pass is O(n^2)). All but the last position's results were already
// computed by the previous pass; module 16's KV cache keeps them and makes each step O(n).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"
#include "tinytorch/transformer.h"

namespace tt {

namespace {

// [given] tt::Error for sampling options no procedure can follow.
[[maybe_unused]] void check_sampling_options(const SamplingOptions& options) {
    TT_CHECK(std::isfinite(options.temperature) && options.temperature >= 0.0f, "sample_token: temperature ",
             options.temperature, " must be a finite number >= 0 (0: greedy, 1: the model's own distribution)");
    TT_CHECK(options.top_k >= 0, "sample_token: top_k ", options.top_k, " must be >= 0 (0: no top-k filtering)");
    TT_CHECK(options.top_p > 0.0f && options.top_p <= 1.0f, "sample_token: top_p ", options.top_p,
             " must be in (0, 1] (1: no nucleus filtering)");
}

// [given] Puts the model back in the training mode it had, however generate() ends (an exception too).
class TrainingModeRestorer {
public:
    explicit TrainingModeRestorer(Module& model) : model_(model), was_training_(model.is_training()) {}
    ~TrainingModeRestorer() { model_.train(was_training_); }
    TrainingModeRestorer(const TrainingModeRestorer&) = delete;
    TrainingModeRestorer& operator=(const TrainingModeRestorer&) = delete;

private:
    Module& model_;
    bool was_training_;
};

}  // namespace

// logits (V,) -> one token id in [0, V).
int64_t sample_token(const Tensor& logits, const SamplingOptions& options, Generator& gen) {
    //! BEGIN SOLUTION
    //! HINT: check logits is 1-D and not empty, no logit is NaN, and the options (check_sampling_options); errors name sample_token.
    //! HINT: temperature 0: the index of the first maximum, and return WITHOUT drawing from gen (greedy must not move the generator).
    //! HINT: scores = logits / temperature in double. top_k (when 0 < k < V): the k-th highest score is the threshold; every score >= it stays (ties with the k-th stay too).
    //! HINT: p_i = exp(score_i - max): the softmax of the kept scores up to a common factor (dividing by the total changes nothing below). Dropped tokens have p = 0.
    //! HINT: top_p < 1: sort the kept ids by p descending (ties: smaller id first); walking that order, a token stays while the mass of the tokens BEFORE it (out of the total) is < top_p.
    //! HINT: then, in id order (not sorted order): total = sum of kept p; u = gen.uniform() (exactly one draw); return the first id whose running sum exceeds u * total; the last kept id if rounding leaves none.
    TT_CHECK(logits.dim() == 1 && logits.numel() >= 1, "sample_token: logits of shape ", shape_str(logits.shape()),
             " must be 1-D and not empty: (V,), the scores of one position (take logits[b, -1] of the model's output)");
    check_sampling_options(options);
    const std::vector<float> values = logits.to_vector();
    const auto V = static_cast<int64_t>(values.size());
    for (int64_t i = 0; i < V; ++i)
        TT_CHECK(!std::isnan(values[i]), "sample_token: logit ", i, " is NaN; the model's output is broken (check the loss "
                 "for NaN, a learning rate that is too high, or a division by zero)");
    const auto first_max = static_cast<int64_t>(std::max_element(values.begin(), values.end()) - values.begin());
    if (options.temperature == 0.0f) return first_max;  // greedy: no randomness at all
    TT_CHECK(values[first_max] > -std::numeric_limits<float>::infinity(),
             "sample_token: every logit is -inf, so no token can be drawn");

    // Scores in double: logits / a small temperature can exceed the float range.
    std::vector<double> scores(values.size());
    for (int64_t i = 0; i < V; ++i) scores[i] = static_cast<double>(values[i]) / options.temperature;
    std::vector<bool> kept(values.size(), true);
    if (options.top_k > 0 && options.top_k < V) {
        std::vector<double> sorted = scores;
        std::nth_element(sorted.begin(), sorted.begin() + (options.top_k - 1), sorted.end(), std::greater<>());
        const double threshold = sorted[options.top_k - 1];  // the k-th highest score
        for (int64_t i = 0; i < V; ++i) kept[i] = scores[i] >= threshold;
    }
    // Probabilities of the kept tokens up to a common factor. An infinite maximum (a +inf logit)
    // would give inf - inf = NaN: then the +inf tokens share all the mass.
    const double top = scores[first_max];
    std::vector<double> p(values.size(), 0.0);
    for (int64_t i = 0; i < V; ++i)
        if (kept[i]) p[i] = std::isinf(top) ? (scores[i] == top ? 1.0 : 0.0) : std::exp(scores[i] - top);
    if (options.top_p < 1.0f) {
        std::vector<int64_t> order;
        for (int64_t i = 0; i < V; ++i)
            if (kept[i]) order.push_back(i);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });  // ties: id order
        const double total = std::accumulate(p.begin(), p.end(), 0.0);
        double before = 0.0;  // mass of the tokens before this one in `order`
        for (int64_t id : order) {
            if (before / total >= options.top_p) {
                kept[id] = false;
                p[id] = 0.0;
            }
            before += p[id] > 0.0 ? p[id] : 0.0;
        }
    }
    double total = 0.0;
    int64_t last_kept = first_max;
    for (int64_t i = 0; i < V; ++i) {
        total += p[i];
        if (kept[i]) last_kept = i;
    }
    const double target = static_cast<double>(gen.uniform()) * total;
    double running = 0.0;
    for (int64_t i = 0; i < V; ++i) {
        if (!kept[i]) continue;
        running += p[i];
        if (running > target) return i;
    }
    return last_kept;
    //! END SOLUTION
}

// prompt (n ids) -> the prompt and up to max_new_tokens new ids.
Generated generate(GPT& model, const std::vector<int64_t>& prompt, const GenerateOptions& options) {
    Generated result;
    //! BEGIN SOLUTION
    //! HINT: check first: a prompt that is not empty, every id in [0, vocab_size), max_new_tokens >= 0, the sampling options, and with ContextPolicy::stop a prompt no longer than the context. Errors name generate.
    //! HINT: eval mode for the whole loop (dropout off) with a TrainingModeRestorer so the caller's mode comes back even after an exception, and a NoGradGuard: nothing here is trained, a graph would only cost memory.
    //! HINT: one Generator(options.seed) for the whole call. Each step: the window is the whole sequence, or with slide its last context_length tokens; ids_tensor(window).unsqueeze(0) is (1, T); the logits of the last position are logits.select(0, 0).select(0, T - 1), shape (V,).
    //! HINT: with stop, a full context ends the loop with a stop_reason sentence (see transformer.h).
    const GPTConfig& config = model.config;
    TT_CHECK(!prompt.empty(), "generate: the prompt is empty; give at least one token id to start from");
    for (size_t i = 0; i < prompt.size(); ++i)
        TT_CHECK(prompt[i] >= 0 && prompt[i] < config.vocab_size, "generate: prompt token ", prompt[i], " at position ", i,
                 " is outside the vocabulary [0, ", config.vocab_size, ")");
    TT_CHECK(options.max_new_tokens >= 0, "generate: max_new_tokens ", options.max_new_tokens, " must be >= 0");
    check_sampling_options(options.sampling);
    const auto context = config.context_length;
    TT_CHECK(options.at_context != ContextPolicy::stop || static_cast<int64_t>(prompt.size()) <= context,
             "generate: the prompt has ", prompt.size(), " tokens but the context holds ", context,
             "; shorten the prompt, or use ContextPolicy::slide to keep only its last ", context);

    TrainingModeRestorer restore(model);
    model.eval();
    NoGradGuard no_grad;
    Generator gen(options.seed);
    result.tokens = prompt;
    while (result.new_tokens < options.max_new_tokens) {
        const auto length = static_cast<int64_t>(result.tokens.size());
        if (options.at_context == ContextPolicy::stop && length >= context) {
            result.stop_reason = "stopped after " + std::to_string(result.new_tokens) + " new tokens: the context of " +
                                 std::to_string(context) + " tokens is full (ContextPolicy::slide keeps going with the last " +
                                 std::to_string(context) + ")";
            break;
        }
        const int64_t start = std::max<int64_t>(0, length - context);  // slide: the last `context` tokens
        const std::vector<int64_t> window(result.tokens.begin() + start, result.tokens.end());
        const auto T = static_cast<int64_t>(window.size());
        const Tensor logits = model(ids_tensor(window).unsqueeze(0));  // (1, T) -> (1, T, V)
        result.tokens.push_back(sample_token(logits.select(0, 0).select(0, T - 1), options.sampling, gen));
        ++result.new_tokens;
    }
    //! END SOLUTION
    return result;
}

}  // namespace tt
