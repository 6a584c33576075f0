// test_batchnorm.cpp - module 09 grader: batch_norm, its backward, and BatchNorm2d (batchnorm.cpp).
//     y = (x - mean_c) / sqrt(var_c + eps) * weight[c] + bias[c], statistics per channel c over (N, H, W)
//     training: the batch's mean and biased variance; then, in place,
//               running_mean = (1 - momentum) * running_mean + momentum * mean
//               running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)
//     evaluation: the running statistics, left unchanged
// Expected values: by hand, from the definition in spatial_reference.h (double precision), or from
// PyTorch 1.13 (numbers written below).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "spatial_reference.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = spatial_reference;

namespace {

// x (2, 2, 1, 2): channel 0 holds {1, 3 | 5, 7} (mean 4, biased variance 5, unbiased 20/3),
// channel 1 is constant 10 (variance 0). Per example, channel 0 would have means 2 and 6.
tt::Tensor hand_input() { return nested({{{{1, 3}}, {{10, 10}}}, {{{5, 7}}, {{10, 10}}}}); }

// Shifted and scaled random values, so the statistics are far from 0 and 1.
tt::Tensor shifted(const tt::Shape& shape, uint64_t seed, float scale = 3.0f, float shift = 1.5f) {
    return reference_unary(random_values(shape, seed), [=](float v) { return scale * v + shift; });
}

std::vector<double> as_double(const tt::Tensor& t) {
    const std::vector<float> v = values_of(t);
    return {v.begin(), v.end()};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------------------------

TEST_CASE("batch_norm in training normalises each channel with the batch statistics by hand", "[points=2]") {
    const tt::Tensor y = tt::batch_norm(hand_input(), tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true);
    // channel 0: (x - 4) / sqrt(5) (biased variance); channel 1: (10 - 10) / sqrt(0 + eps) = 0
    const float a = 1.0f / std::sqrt(5.0f);
    CHECK_THAT(y, tensor_near(nested({{{{-3 * a, -a}}, {{0, 0}}}, {{{a, 3 * a}}, {{0, 0}}}}), 1e-5, 1e-5));
    const tt::Tensor affine = tt::batch_norm(hand_input(), tt::Tensor(), tt::Tensor(), nested({2, 1}), nested({0.5f, -1}), true);
    CHECK_THAT(affine, tensor_near(nested({{{{-6 * a + 0.5f, -2 * a + 0.5f}}, {{-1, -1}}}, {{{2 * a + 0.5f, 6 * a + 0.5f}}, {{-1, -1}}}}),
                                   1e-5, 1e-5));
}

TEST_CASE("batch_norm statistics are per channel over the batch and the image and not per example", "[points=2]") {
    // Two examples whose channel 0 differs by a constant: normalised per channel over the batch,
    // the first example comes out below zero and the second above.
    const tt::Tensor x = nested({{{{1, 2}, {3, 4}}, {{0, 0}, {0, 1}}}, {{{11, 12}, {13, 14}}, {{1, 0}, {0, 0}}}});  // (2, 2, 2, 2)
    const tt::Tensor y = tt::batch_norm(x, tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true);
    const ref::ChannelStats st = ref::channel_stats(x);
    CHECK_THAT(y, tensor_near(ref::normalise(x, st.mean, st.variance, 1e-5f), 1e-5, 1e-5));
    CHECK(st.mean[0] == 7.5);
    for (const tt::Shape& shape : std::vector<tt::Shape>{{4, 3, 5, 2}, {2, 2, 3, 7}, {1, 3, 4, 4}, {3, 1, 1, 2}}) {
        INFO("x " << shape_text(shape));
        const tt::Tensor r = shifted(shape, 3);
        const ref::ChannelStats s = ref::channel_stats(r);
        CHECK_THAT(tt::batch_norm(r, tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true),
                   tensor_near(ref::normalise(r, s.mean, s.variance, 1e-5f), 1e-4, 1e-4));
    }
}

TEST_CASE("batch_norm normalises with the biased variance and eps inside the square root", "[points=2]") {
    // Two values per channel: the biased variance of {0, 2} is 1, the unbiased one 2.
    const tt::Tensor x = nested({{0, 10}, {2, 14}});  // (N 2, C 2)
    CHECK_THAT(tt::batch_norm(x, tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true, 0.1f, 0.0f),
               tensor_near(nested({{-1, -1}, {1, 1}}), 1e-6, 1e-6));
    // A large eps shows where it goes: 1 / sqrt(var + eps), not 1 / (sqrt(var) + eps)
    CHECK_THAT(tt::batch_norm(x, tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true, 0.1f, 3.0f),
               tensor_near(nested({{-0.5f, -2 / std::sqrt(7.0f)}, {0.5f, 2 / std::sqrt(7.0f)}}), 1e-6, 1e-6));
    const tt::Tensor r = shifted({3, 2, 4, 3}, 4);
    const ref::ChannelStats st = ref::channel_stats(r);
    CHECK_THAT(tt::batch_norm(r, tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true, 0.1f, 0.7f),
               tensor_near(ref::normalise(r, st.mean, st.variance, 0.7f), 1e-5, 1e-5));
}

TEST_CASE("batch_norm applies weight and bias per channel with either missing on 2-D and strided inputs", "[points=2]") {
    const tt::Tensor x = shifted({3, 4, 2, 3}, 5);
    const tt::Tensor w = random_values({4}, 6, -2.0f, 2.0f), b = random_values({4}, 7);
    const ref::ChannelStats st = ref::channel_stats(x);
    CHECK_THAT(tt::batch_norm(x, tt::Tensor(), tt::Tensor(), w, b, true),
               tensor_near(ref::normalise(x, st.mean, st.variance, 1e-5f, values_of(w), values_of(b)), 1e-5, 1e-5));
    CHECK_THAT(tt::batch_norm(x, tt::Tensor(), tt::Tensor(), w, tt::Tensor(), true),
               tensor_near(ref::normalise(x, st.mean, st.variance, 1e-5f, values_of(w)), 1e-5, 1e-5));
    CHECK_THAT(tt::batch_norm(x, tt::Tensor(), tt::Tensor(), tt::Tensor(), b, true),
               tensor_near(ref::normalise(x, st.mean, st.variance, 1e-5f, std::vector<float>(4, 1.0f), values_of(b)), 1e-5, 1e-5));
    const tt::Tensor x2 = shifted({8, 5}, 8);
    const tt::Tensor w5 = random_values({5}, 9), b5 = random_values({5}, 10);
    const ref::ChannelStats s2 = ref::channel_stats(x2);
    CHECK_THAT(tt::batch_norm(x2, tt::Tensor(), tt::Tensor(), w5, b5, true),
               tensor_near(ref::normalise(x2, s2.mean, s2.variance, 1e-5f, values_of(w5), values_of(b5)), 1e-5, 1e-5));
    const tt::Tensor x4 = shifted({2, 3, 4, 5}, 11);
    const ref::ChannelStats s4 = ref::channel_stats(x4);
    const tt::Tensor expected = ref::normalise(x4, s4.mean, s4.variance, 1e-5f);
    CHECK_THAT(tt::batch_norm(padded(x4), tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true), tensor_near(expected, 1e-5, 1e-5));
    const tt::Tensor channels_last = raw_copy(x4.permute({0, 2, 3, 1}));
    CHECK_THAT(tt::batch_norm(channels_last.permute({0, 3, 1, 2}), tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true),
               tensor_near(expected, 1e-5, 1e-5));
}

// ---------------------------------------------------------------------------------------------
// Running statistics
// ---------------------------------------------------------------------------------------------

TEST_CASE("batch_norm in training updates the running statistics in place by hand", "[points=2]") {
    tt::Tensor running_mean = nested({0, 0}), running_var = nested({1, 1});
    const int64_t version = running_mean.version();
    tt::batch_norm(hand_input(), running_mean, running_var, tt::Tensor(), tt::Tensor(), true);
    // running_mean = 0.9 * 0 + 0.1 * mean;  running_var = 0.9 * 1 + 0.1 * var * m / (m - 1), m = 4
    CHECK_THAT(running_mean, tensor_near(nested({0.4f, 1.0f}), 1e-6, 1e-6));
    CHECK_THAT(running_var, tensor_near(nested({0.9f + 0.1f * 20 / 3, 0.9f}), 1e-6, 1e-6));
    CHECK(running_mean.version() > version);  // an in-place write: saved copies must notice
    // Momentum weighs the NEW value: from (2, -4) and (3, 0.5) with momentum 0.25
    tt::Tensor m2 = nested({2, -4}), v2 = nested({3, 0.5f});
    tt::batch_norm(hand_input(), m2, v2, tt::Tensor(), tt::Tensor(), true, 0.25f);
    CHECK_THAT(m2, tensor_near(nested({0.75f * 2 + 0.25f * 4, 0.75f * -4 + 0.25f * 10}), 1e-6, 1e-6));
    CHECK_THAT(v2, tensor_near(nested({0.75f * 3 + 0.25f * 20 / 3, 0.75f * 0.5f}), 1e-6, 1e-6));
    // momentum 1: the batch's statistics themselves, the variance unbiased
    tt::Tensor m1 = nested({7, 7}), v1 = nested({7, 7});
    tt::batch_norm(hand_input(), m1, v1, tt::Tensor(), tt::Tensor(), true, 1.0f);
    CHECK_THAT(m1, tensor_near(nested({4, 10}), 1e-6, 1e-6));
    CHECK_THAT(v1, tensor_near(nested({20.0f / 3, 0}), 1e-6, 1e-6));
    // running statistics passed as strided views are updated through their strides
    tt::Tensor strided_mean = padded(nested({0, 0})), strided_var = padded(nested({1, 1}));
    tt::batch_norm(hand_input(), strided_mean, strided_var, tt::Tensor(), tt::Tensor(), true);
    CHECK_THAT(strided_mean, tensor_near(nested({0.4f, 1.0f}), 1e-6, 1e-6));
    CHECK_THAT(strided_var, tensor_near(nested({0.9f + 0.1f * 20 / 3, 0.9f}), 1e-6, 1e-6));
}

TEST_CASE("batch_norm unbiases the running variance with the count of values per channel", "[points=1]") {
    // m = N * H * W values per channel (here 3 * 4 * 2 = 24), not N
    const tt::Tensor x = shifted({3, 2, 4, 2}, 12);
    const ref::ChannelStats st = ref::channel_stats(x);
    tt::Tensor running_mean = nested({0.5f, -0.5f}), running_var = nested({2, 0.5f});
    tt::batch_norm(x, running_mean, running_var, tt::Tensor(), tt::Tensor(), true, 0.2f);
    std::vector<float> mean, var;
    const float old_mean[] = {0.5f, -0.5f}, old_var[] = {2, 0.5f};
    for (size_t c = 0; c < 2; ++c) {
        mean.push_back(static_cast<float>(0.8 * old_mean[c] + 0.2 * st.mean[c]));
        var.push_back(static_cast<float>(0.8 * old_var[c] + 0.2 * st.variance[c] * 24 / 23));
    }
    CHECK_THAT(running_mean, tensor_near(raw(mean, {2}), 1e-5, 1e-5));
    CHECK_THAT(running_var, tensor_near(raw(var, {2}), 1e-5, 1e-5));
}

TEST_CASE("batch_norm in evaluation uses the running statistics by hand", "[points=2]") {
    tt::Tensor running_mean = nested({1, 10}), running_var = nested({4, 0.25f});
    const tt::Tensor y =
        tt::batch_norm(hand_input(), running_mean, running_var, nested({2, 1}), nested({0.5f, -1}), false, 0.1f, 0.0f);
    // channel 0: (x - 1) / 2 * 2 + 0.5 = x - 0.5;  channel 1: (10 - 10) / 0.5 - 1 = -1
    CHECK_THAT(y, tensor_near(nested({{{{0.5f, 2.5f}}, {{-1, -1}}}, {{{4.5f, 6.5f}}, {{-1, -1}}}}), 1e-6, 1e-6));
    const tt::Tensor x = shifted({3, 2, 3, 3}, 13);
    const tt::Tensor rm = nested({0.3f, -1.2f}), rv = nested({2.5f, 0.4f});
    CHECK_THAT(tt::batch_norm(x, rm, rv, tt::Tensor(), tt::Tensor(), false, 0.1f, 1e-3f),
               tensor_near(ref::normalise(x, as_double(rm), as_double(rv), 1e-3f), 1e-5, 1e-5));
}

TEST_CASE("batch_norm in evaluation leaves the running statistics alone", "[points=2]") {
    tt::Tensor running_mean = nested({1, 10}), running_var = nested({4, 0.25f});
    for (int i = 0; i < 3; ++i) tt::batch_norm(shifted({4, 2, 3, 3}, 14 + i), running_mean, running_var, tt::Tensor(), tt::Tensor(), false);
    CHECK_THAT(running_mean, tensor_equal(nested({1, 10})));
    CHECK_THAT(running_var, tensor_equal(nested({4, 0.25f})));
    const tt::Tensor rm = nested({0.5f, 2, -1}), rv = nested({1.5f, 0.5f, 3});
    const tt::Tensor x = shifted({4, 3, 2, 2}, 17);
    const tt::Tensor batch = tt::batch_norm(x, rm, rv, tt::Tensor(), tt::Tensor(), false);
    for (int64_t n = 0; n < 4; ++n) {
        INFO("example " << n);
        const tt::Tensor alone = tt::batch_norm(raw_copy(x.slice(0, n, n + 1)), rm, rv, tt::Tensor(), tt::Tensor(), false);
        CHECK_THAT(alone, tensor_near(raw_copy(batch.slice(0, n, n + 1)), 1e-6, 1e-6));
    }
}

// ---------------------------------------------------------------------------------------------
// Backward
// ---------------------------------------------------------------------------------------------

TEST_CASE("batch_norm training gradients match the closed form through the batch statistics", "[points=2]") {
    for (const tt::Shape& shape : std::vector<tt::Shape>{{4, 3, 2, 2}, {2, 2, 3, 5}, {6, 4}, {1, 2, 3, 3}}) {
        INFO("x " << shape_text(shape));
        const int64_t C = shape[1];
        tt::Tensor x = leaf(shifted(shape, 20)), w = leaf(random_values({C}, 21, 0.5f, 2.0f)), b = leaf(random_values({C}, 22));
        const tt::Tensor g = random_values(shape, 23);
        tt::batch_norm(x, tt::Tensor(), tt::Tensor(), w, b, true).backward(g);
        const ref::BatchNormGrads expected = ref::batch_norm_train_grads(x, values_of(w), g, 1e-5f);
        CHECK_THAT(x.grad(), tensor_near(expected.dx, 1e-4, 1e-4));
        CHECK_THAT(w.grad(), tensor_near(expected.dw, 1e-4, 1e-4));
        CHECK_THAT(b.grad(), tensor_near(expected.db, 1e-5, 1e-5));
    }
}

TEST_CASE("batch_norm training gradients agree with finite differences", "[points=1]") {
    for (const tt::Shape& shape : std::vector<tt::Shape>{{3, 2, 2, 3}, {4, 3}, {2, 2, 1, 3}}) {
        INFO("x " << shape_text(shape));
        const int64_t C = shape[1];
        const tt::Tensor x = random_values(shape, 30), w = random_values({C}, 31, 0.5f, 1.5f), b = random_values({C}, 32);
        CHECK(gradient_check([](const auto& in) { return tt::batch_norm(in[0], tt::Tensor(), tt::Tensor(), in[1], in[2], true); },
                             {x, w, b}));
        CHECK(gradient_check([](const auto& in) { return tt::batch_norm(in[0], tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true); },
                             {x}));
    }
}

TEST_CASE("batch_norm evaluation gradients treat the running statistics as constants", "[points=2]") {
    const tt::Tensor rm = nested({0.5f, -1}), rv = nested({4, 0.25f});
    tt::Tensor x = leaf(hand_input()), w = leaf(nested({2, 3})), b = leaf(nested({0, 0}));
    tt::batch_norm(x, rm, rv, w, b, false, 0.1f, 0.0f).backward(nested({{{{1, 2}}, {{3, 4}}}, {{{5, 6}}, {{7, 8}}}}));
    // dx = g * weight / sqrt(running_var): channel 0 times 2 / 2, channel 1 times 3 / 0.5
    CHECK_THAT(x.grad(), tensor_near(nested({{{{1, 2}}, {{18, 24}}}, {{{5, 6}}, {{42, 48}}}}), 1e-6, 1e-6));
    // dweight = sum(g * (x - running_mean) / sqrt(running_var)), dbias = sum(g)
    CHECK_THAT(w.grad(), tensor_near(nested({(1 * 0.5f + 2 * 2.5f + 5 * 4.5f + 6 * 6.5f) / 2, (3 + 4 + 7 + 8) * 11 / 0.5f}), 1e-5, 1e-6));
    CHECK_THAT(b.grad(), tensor_near(nested({14, 22}), 1e-6, 1e-6));
    const tt::Tensor mean = random_values({3}, 33), var = random_values({3}, 34, 0.5f, 2.0f);
    CHECK(gradient_check([mean, var](const auto& in) { return tt::batch_norm(in[0], mean, var, in[1], in[2], false); },
                         {random_values({2, 3, 2, 2}, 35), random_values({3}, 36), random_values({3}, 37)}));
}

TEST_CASE("batch_norm matches PyTorch on a 2-D input with momentum and eps", "[points=1]") {
    // PyTorch 1.13, wave(shape, a, b, scale)[i] = scale * sin(a * i + b):
    //   x = wave((5,4), .61, .3, 3.); rm = [.5, -1, 2, 0]; rv = [1, 2, .5, 3]
    //   y = F.batch_norm(x, rm, rv, None, None, training=True, momentum=.3, eps=1e-3); y.backward(wave((5,4), .41, .2))
    tt::Tensor x = leaf(ref::wave({5, 4}, 0.61, 0.3, 3.0));
    tt::Tensor rm = nested({0.5f, -1, 2, 0}), rv = nested({1, 2, 0.5f, 3});
    const tt::Tensor y = tt::batch_norm(x, rm, rv, tt::Tensor(), tt::Tensor(), true, 0.3f, 1e-3f);
    CHECK_THAT(y, tensor_near(raw({0.382191539f, 1.05884302f, 1.34776175f, 1.22798848f, 0.521896303f, -0.309315294f,
                           -0.974700868f, -1.35542405f, -1.35841978f, -0.675288737f, 0.162648872f, 0.970449388f,
                           1.37430346f, 1.25194168f, 0.747661471f, 0.000786898483f, -0.919971585f, -1.3261807f,
                           -1.28337133f, -0.843800724f}, {5, 4}), 1e-5, 1e-5));
    CHECK_THAT(rm, tensor_near(raw({0.381167382f, -0.683469713f, 1.39593065f, -0.0232011732f}, {4}), 1e-5, 1e-5));
    CHECK_THAT(rv, tensor_near(raw({2.27225232f, 3.18970942f, 2.21966124f, 3.80715442f}, {4}), 1e-5, 1e-5));
    y.backward(ref::wave({5, 4}, 0.41, 0.2));
    CHECK_THAT(x.grad(), tensor_near(raw({0.0851356313f, 0.295106024f, 0.403108239f, 0.438228756f, 0.467774272f, 0.256431431f,
                           0.0336069241f, -0.158715293f, -0.285156161f, -0.446610689f, -0.488416374f, -0.510991216f,
                           -0.396827579f, -0.261429548f, -0.179627508f, -0.0735565796f, 0.129073799f, 0.156502753f,
                           0.231328666f, 0.30503431f}, {5, 4}), 1e-5, 1e-4));
}

// ---------------------------------------------------------------------------------------------
// Errors and BatchNorm2d
// ---------------------------------------------------------------------------------------------

TEST_CASE("batch_norm refuses wrong shapes with a tt::Error that names the op", "[points=1]") {
    const tt::Tensor x = random_values({2, 3, 4, 4}, 1);
    const tt::Tensor c3 = random_values({3}, 2);
    CHECK_THAT(error_message([&] { tt::batch_norm(random_values({3}, 1), c3, c3, c3, c3, true); }), Contains("batch_norm") && Contains("(3)"));
    CHECK_THAT(error_message([&] { tt::batch_norm(x, c3, c3, random_values({4}, 1), c3, true); }),
               Contains("batch_norm") && Contains("(4)"));
    CHECK_THAT(error_message([&] { tt::batch_norm(x, c3, c3, c3, random_values({2}, 1), true); }),
               Contains("batch_norm") && Contains("(2)"));
    CHECK_THAT(error_message([&] { tt::batch_norm(x, random_values({2}, 1), c3, c3, c3, true); }), Contains("batch_norm") && Contains("(2)"));
    CHECK_THAT(error_message([&] { tt::batch_norm(x, tt::Tensor(), tt::Tensor(), c3, c3, false); }), Contains("batch_norm"));
    CHECK_THAT(error_message([&] { tt::batch_norm(random_values({1, 3}, 1), c3, c3, c3, c3, true); }), Contains("batch_norm"));
    CHECK_THAT(error_message([&] { tt::batch_norm(random_values({1, 3, 1, 1}, 1), c3, c3, c3, c3, true); }), Contains("batch_norm"));
    CHECK_NOTHROW(tt::batch_norm(random_values({1, 3}, 1), c3, random_values({3}, 3, 0.5f, 1.0f), c3, c3, false));  // one example: fine in eval
}

TEST_CASE("BatchNorm2d has weight and bias parameters and running statistics as buffers", "[points=2]") {
    tt::BatchNorm2d bn(3);
    const auto params = bn.named_parameters();
    REQUIRE(params.size() == 2);  // the running statistics are not trained: an optimizer must not see them
    CHECK(params[0].first == "weight");
    CHECK(params[1].first == "bias");
    CHECK(params[0].second.is_same(bn.weight));
    CHECK_THAT(bn.weight, tensor_equal(nested({1, 1, 1})));
    CHECK_THAT(bn.bias, tensor_equal(nested({0, 0, 0})));
    CHECK(bn.weight.requires_grad());
    const auto buffers = bn.named_buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].first == "running_mean");
    CHECK(buffers[1].first == "running_var");
    CHECK(buffers[0].second.is_same(bn.running_mean));
    CHECK(buffers[1].second.is_same(bn.running_var));
    CHECK_THAT(bn.running_mean, tensor_equal(nested({0, 0, 0})));
    CHECK_THAT(bn.running_var, tensor_equal(nested({1, 1, 1})));
    CHECK_FALSE(bn.running_mean.requires_grad());
    CHECK_FALSE(bn.running_var.requires_grad());
    CHECK(bn.parameter_count() == 6);
    CHECK(bn.to_string() == "BatchNorm2d(3, eps=1e-05, momentum=0.1)");
    CHECK(tt::BatchNorm2d(16, 1e-3f, 0.01f).extra_repr() == "16, eps=0.001, momentum=0.01");
    CHECK_THAT(error_message([&] { bn(random_values({4, 2, 3, 3}, 1)); }), Contains("BatchNorm2d") && Contains("(4, 2, 3, 3)"));
    CHECK_THAT(error_message([&] { bn(random_values({4, 3}, 1)); }), Contains("BatchNorm2d") && Contains("(4, 3)"));
    CHECK_THAT(error_message([] { tt::BatchNorm2d(0); }), Contains("BatchNorm2d"));
}

TEST_CASE("BatchNorm2d uses batch statistics in train mode and running ones in eval mode", "[points=2]") {
    tt::BatchNorm2d bn(2, 1e-5f, 0.5f);
    const tt::Tensor x = shifted({3, 2, 2, 2}, 40);
    const ref::ChannelStats st = ref::channel_stats(x);
    CHECK(bn.is_training());
    CHECK_THAT(bn(x), tensor_near(ref::normalise(x, st.mean, st.variance, 1e-5f), 1e-5, 1e-5));
    std::vector<double> mean, var;
    for (size_t c = 0; c < 2; ++c) {
        mean.push_back(0.5 * st.mean[c]);
        var.push_back(0.5 + 0.5 * st.variance[c] * 12 / 11);
    }
    const auto buffers = bn.named_buffers();  // the module's own tensors, updated in place
    CHECK_THAT(buffers[0].second, tensor_near(raw({static_cast<float>(mean[0]), static_cast<float>(mean[1])}, {2}), 1e-5, 1e-5));
    CHECK_THAT(buffers[1].second, tensor_near(raw({static_cast<float>(var[0]), static_cast<float>(var[1])}, {2}), 1e-5, 1e-5));
    bn.eval();
    const tt::Tensor x2 = shifted({2, 2, 3, 3}, 41);
    CHECK_THAT(bn(x2), tensor_near(ref::normalise(x2, mean, var, 1e-5f), 1e-5, 1e-5));
    CHECK_THAT(bn.running_mean, tensor_near(raw({static_cast<float>(mean[0]), static_cast<float>(mean[1])}, {2}), 1e-5, 1e-5));
    bn.train();
    bn(x2);
    const ref::ChannelStats st2 = ref::channel_stats(x2);
    CHECK_THAT(bn.running_mean, tensor_near(raw({static_cast<float>(0.5 * mean[0] + 0.5 * st2.mean[0]),
                                                 static_cast<float>(0.5 * mean[1] + 0.5 * st2.mean[1])}, {2}), 1e-5, 1e-5));
}

TEST_CASE("BatchNorm2d matches PyTorch over two training steps and then in evaluation", "[points=2]") {
    // PyTorch 1.13: bn = nn.BatchNorm2d(3); bn.weight = [1.5, -.5, .75]; bn.bias = [.25, 1, -.5]
    //   x1 = wave((4,3,2,3), .37, .1, 2.); y1 = bn(x1); y1.backward(wave(y1.shape, .23, .5))
    //   bn(wave((2,3,3,2), .59, .8, 3.) + 1); bn.eval(); bn(wave((2,3,2,2), .83, .4, 2.))
    tt::BatchNorm2d bn(3);
    ref::set_values(bn.weight, {1.5f, -0.5f, 0.75f});
    ref::set_values(bn.bias, {0.25f, 1.0f, -0.5f});
    tt::Tensor x1 = leaf(ref::wave({4, 3, 2, 3}, 0.37, 0.1, 2.0));
    const tt::Tensor y1 = bn(x1);
    CHECK_THAT(y1, tensor_near(raw({-3.25996256f, -1.32761049f, 0.269252032f, 1.31449759f, 1.66665626f, 1.27806592f,
                           -0.168515459f, 0.121549286f, 0.469527036f, 0.828320682f, 1.14936912f, 1.38922012f,
                           -1.50417137f, -1.49834549f, -1.32586741f, -1.01008105f, -0.593726754f, -0.133156091f,
                           -1.29441404f, 0.294052869f, 1.32754552f, 1.66618621f, 1.26414073f, 0.175824404f,
                           0.127571151f, 0.476188451f, 0.834720016f, 1.15464032f, 1.39264953f, 1.51653445f,
                           -1.49663687f, -1.32124209f, -1.00316513f, -0.585456312f, -0.124650471f, 0.316884488f,
                           0.31866315f, 1.3403554f, 1.66546166f, 1.24997997f, 0.150144398f, -1.48518825f,
                           0.482853264f, 0.841106117f, 1.15988338f, 1.39603996f, 1.51761329f, 1.50814891f,
                           -1.3165679f, -0.996215165f, -0.577171147f, -0.116151482f, 0.324446946f, 0.684991241f,
                           1.35292614f, 1.66448295f, 1.23558462f, 0.124280393f, -1.51902008f, -3.47190356f,
                           0.847478628f, 1.16509807f, 1.39939106f, 1.51864707f, 1.50672567f, 1.3652401f,
                           -0.989231288f, -0.568871498f, -0.107659489f, 0.331981987f, 0.690549493f, 0.91951257f}, {4, 3, 2, 3}), 1e-5, 1e-5));
    CHECK_THAT(bn.running_mean, tensor_near(raw({0.148225129f, -0.0919037387f, -0.0371038988f}, {3}), 1e-6, 1e-5));
    CHECK_THAT(bn.running_var, tensor_near(raw({0.931348622f, 1.00853777f, 1.04888678f}, {3}), 1e-6, 1e-5));
    y1.backward(ref::wave({4, 3, 2, 3}, 0.23, 0.5));
    CHECK_THAT(x1.grad(), tensor_near(raw({0.284343004f, 1.05879259f, 1.69172752f, 2.13194776f, 2.34457326f, 2.31446624f,
                           -0.252848953f, -0.239605963f, -0.210807905f, -0.164691865f, -0.100305125f, -0.018012967f,
                           -0.0877850875f, -0.227384537f, -0.338915706f, -0.417940289f, -0.462925017f, -0.474966288f,
                           -3.49115825f, -3.24945545f, -2.9405067f, -2.5921464f, -2.22650981f, -1.85835648f,
                           0.307944149f, 0.15692763f, 0.0039242534f, -0.139628649f, -0.263155371f, -0.357906938f,
                           0.551421642f, 0.616995275f, 0.664691925f, 0.689351678f, 0.686198711f, 0.651563466f,
                           1.10136104f, 0.697668374f, 0.141631514f, -0.541101873f, -1.30992556f, -2.11204314f,
                           0.468739063f, 0.50213635f, 0.518804789f, 0.520870984f, 0.510451853f, 0.489241838f,
                           -0.531825781f, -0.411291897f, -0.257183671f, -0.0811056346f, 0.103831023f, 0.284218669f,
                           0.544251978f, 1.14674056f, 1.56960726f, 1.79537964f, 1.82459974f, 1.67411375f,
                           -0.385429889f, -0.390778065f, -0.362774163f, -0.300684929f, -0.206656486f, -0.0857533887f,
                           0.0557859689f, -0.0454397872f, -0.135916829f, -0.214719117f, -0.281356037f, -0.335302711f}, {4, 3, 2, 3}), 1e-5, 1e-4));
    CHECK_THAT(bn.weight.grad(), tensor_near(raw({-1.78010118f, 2.79023552f, -2.88632107f}, {3}), 1e-5, 1e-5));
    CHECK_THAT(bn.bias.grad(), tensor_near(raw({4.84716082f, 3.96288562f, -3.3441112f}, {3}), 1e-5, 1e-5));

    bn(reference_unary(ref::wave({2, 3, 3, 2}, 0.59, 0.8, 3.0), [](float v) { return v + 1.0f; }));
    CHECK_THAT(bn.running_mean, tensor_near(raw({0.324843407f, -0.0767715201f, 0.148548722f}, {3}), 1e-6, 1e-5));
    CHECK_THAT(bn.running_var, tensor_near(raw({1.25587857f, 1.32231081f, 1.37196743f}, {3}), 1e-6, 1e-5));
    bn.eval();
    CHECK_THAT(bn(ref::wave({2, 3, 2, 2}, 0.83, 0.4, 2.0)), tensor_near(raw({0.857666254f, 2.3382268f, 2.17819285f, 0.481626213f, 1.4420346f, 1.82480204f, 1.64953721f,
                           1.03020573f, 0.284163713f, 0.685331762f, 0.253890157f, -0.729616821f, -2.33905172f,
                           -2.81134629f, -1.57573318f, 0.56433183f, 0.186299399f, 0.156738669f, 0.653801322f,
                           1.35427308f, -1.82629454f, -1.68603933f, -0.836413264f, 0.170115471f}, {2, 3, 2, 2}), 1e-5, 1e-5));
}

