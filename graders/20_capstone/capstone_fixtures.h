// capstone_fixtures.h - module 20 grader: the synthetic data and the expected values of both tracks.
//
// No real data and no shipped checkpoint: a grader must run anywhere, in seconds.
//   gpt    a GPT with random weights (module 14's tt::GPT, the reference - not the code under test),
//          saved with save_gpt to a temporary file; expected logits come from its forward pass and
//          the expected greedy text from a plain loop over that forward pass, written here.
//   cifar  images of (3, 32, 32) whose class is their colour (10 colours far apart), with pixel
//          noise: a network that trains at all separates them within a few seconds.
// Also used by the engine's own tests (tests/engine/test_capstone.cpp).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/data.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"
#include "tinytorch/transformer.h"

namespace capstone_fixtures {

using tt::Tensor;

// A file in the temporary folder, removed at the end of the test.
struct TemporaryFile {
    std::string path;
    explicit TemporaryFile(const std::string& name)
        : path((std::filesystem::temp_directory_path() / ("tt_capstone_" + name + "_" + std::to_string(::getpid()) + ".ttc"))
                   .string()) {}
    ~TemporaryFile() {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
};

// ---------------------------------------------------------------------------------------------
// gpt
// ---------------------------------------------------------------------------------------------

// A GPT with seeded random weights. GPT-2's initialisation (std 0.02) gives logits that all lie
// within a few hundredths of each other, so greedy choices would hinge on round-off: every weight
// is multiplied by `spread` to give the logits a trained model's range (gaps between the best two
// far above float round-off), and every bias and LayerNorm weight (0 and 1 at initialisation) gets
// noise of +-0.3, so that code which forgets one gives other numbers.
inline std::shared_ptr<tt::GPT> random_gpt(const tt::GPTConfig& config, uint64_t seed, float spread = 25.0f) {
    tt::manual_seed(seed);
    auto model = std::make_shared<tt::GPT>(config);
    tt::Generator gen(seed + 1000);
    for (const auto& [name, parameter] : model->named_parameters()) {
        std::vector<float> values = tt::testing::values_of(parameter);
        const bool norm = name.find("ln_") != std::string::npos;  // ln_1, ln_2, ln_f
        const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
        for (float& v : values) v = norm || bias ? v + 0.3f * gen.uniform(-1.0f, 1.0f) : v * spread;
        tt::testing::set_values(parameter, values);
    }
    return model;
}

// ids as a (1, T) float tensor, built without student code.
inline Tensor ids_row(const std::vector<int64_t>& ids) {
    std::vector<float> values(ids.begin(), ids.end());
    return tt::testing::raw(values, {1, static_cast<int64_t>(ids.size())});
}

// The GPT's forward pass on one sequence in eval mode (dropout off), without a graph: (T * V) floats.
inline std::vector<float> forward_logits(tt::GPT& model, const std::vector<int64_t>& ids) {
    tt::NoGradGuard no_grad;
    model.eval();
    return tt::testing::values_of(model(ids_row(ids)));
}

// The index of the first largest value of row [begin, begin + V).
inline int64_t first_argmax(const std::vector<float>& values, size_t begin, int64_t V) {
    int64_t best = 0;
    for (int64_t v = 1; v < V; ++v)
        if (values[begin + v] > values[begin + best]) best = v;
    return best;
}

// Greedy decoding the slow, obvious way: the whole forward pass for every new token.
struct Greedy {
    std::vector<int64_t> tokens;  // the new ids
    float smallest_gap = INFINITY;  // between the best and second-best logit over all steps
};
inline Greedy greedy_by_forward(tt::GPT& model, std::vector<int64_t> sequence, int64_t new_tokens) {
    const int64_t V = model.config.vocab_size;
    Greedy out;
    for (int64_t step = 0; step < new_tokens; ++step) {
        const std::vector<float> logits = forward_logits(model, sequence);
        const size_t last = (sequence.size() - 1) * static_cast<size_t>(V);
        const int64_t best = first_argmax(logits, last, V);
        float second = -INFINITY;
        for (int64_t v = 0; v < V; ++v)
            if (v != best) second = std::max(second, logits[last + v]);
        out.smallest_gap = std::min(out.smallest_gap, logits[last + best] - second);
        out.tokens.push_back(best);
        sequence.push_back(best);
    }
    return out;
}

// The largest |a - b| (inf when the sizes differ).
inline float max_difference(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return INFINITY;
    float worst = 0.0f;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    return worst;
}

inline std::string ids_text(const std::vector<int64_t>& ids) {
    std::string s;
    for (int64_t id : ids) s += std::to_string(id) + " ";
    return s;
}

// ---------------------------------------------------------------------------------------------
// cifar
// ---------------------------------------------------------------------------------------------

// Ten colours (R, G, B in [0, 1]) at least 0.35 apart in some channel: one per class.
inline const std::vector<std::vector<float>>& class_colours() {
    static const std::vector<std::vector<float>> colours = {
        {0.9f, 0.1f, 0.1f}, {0.1f, 0.9f, 0.1f}, {0.1f, 0.1f, 0.9f}, {0.9f, 0.9f, 0.1f}, {0.9f, 0.1f, 0.9f},
        {0.1f, 0.9f, 0.9f}, {0.5f, 0.5f, 0.5f}, {0.1f, 0.1f, 0.1f}, {0.9f, 0.9f, 0.9f}, {0.5f, 0.1f, 0.5f}};
    return colours;
}

// `per_class` images of each class (in class order, interleaved: 0, 1, ..., 9, 0, 1, ...), each its
// class's colour plus uniform pixel noise of +-0.15 and a brightness offset of +-0.05 per image.
struct ColourImages {
    std::vector<uint8_t> pixels, labels;  // N * 3 * 32 * 32 bytes, N labels
    int64_t count = 0;
};
inline ColourImages colour_images(int64_t per_class, uint64_t seed) {
    tt::Generator gen(seed);
    ColourImages out;
    out.count = 10 * per_class;
    for (int64_t n = 0; n < out.count; ++n) {
        const int64_t label = n % 10;
        out.labels.push_back(static_cast<uint8_t>(label));
        const float offset = gen.uniform(-0.05f, 0.05f);
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t i = 0; i < 32 * 32; ++i) {
                const float v = class_colours()[label][c] + offset + gen.uniform(-0.15f, 0.15f);
                out.pixels.push_back(static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)));
            }
    }
    return out;
}

inline std::shared_ptr<tt::data::ImageDataset> as_dataset(const ColourImages& images) {
    return std::make_shared<tt::data::ImageDataset>(images.pixels, images.labels, 3, 32, 32);
}

// Images [first, first + count) as a (count, 3, 32, 32) tensor in [0, 1] (byte / 255, as the
// data set), built without student code.
inline Tensor as_tensor(const ColourImages& images, int64_t first, int64_t count) {
    const size_t image = 3 * 32 * 32;
    std::vector<float> values(static_cast<size_t>(count) * image);
    for (size_t i = 0; i < values.size(); ++i) values[i] = images.pixels[static_cast<size_t>(first) * image + i] / 255.0f;
    return tt::testing::raw(values, {count, 3, 32, 32});
}

}  // namespace capstone_fixtures
