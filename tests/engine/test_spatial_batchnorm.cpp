// test_spatial_batchnorm.cpp - module 09: batch_norm, its backward, and BatchNorm2d
// (engine/src/09_spatial/batchnorm.cpp).
//
// Expected values: by hand, from the definition in graders/09_spatial/spatial_reference.h (double
// precision), or from PyTorch 1.13 (numbers written below, with the Python that produced them).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../../graders/09_spatial/spatial_reference.h"
#include "engine_testing.h"
#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/spatial.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;
namespace ref = spatial_reference;

namespace {

// x (2, 2, 1, 2): channel 0 holds {1, 3 | 5, 7} (mean 4, variance 5), channel 1 is constant 10.
tt::Tensor hand_input() { return nested({{{{1, 3}}, {{10, 10}}}, {{{5, 7}}, {{10, 10}}}}); }

}  // namespace

TEST_CASE("spatial: batch_norm in training, by hand", "[09][spatial][batchnorm]") {
    tt::Tensor running_mean = nested({0, 0}), running_var = nested({1, 1});
    const tt::Tensor y = tt::batch_norm(hand_input(), running_mean, running_var, nested({2, 1}), nested({0.5f, -1}), true);
    // channel 0: (x - 4) / sqrt(5) * 2 + 0.5;  channel 1: 0 (eps keeps 0 / sqrt(0 + eps) finite) - 1
    const float a = 2.0f / std::sqrt(5.0f);
    CHECK_THAT(y, tensor_near(nested({{{{-3 * a + 0.5f, -a + 0.5f}}, {{-1, -1}}}, {{{a + 0.5f, 3 * a + 0.5f}}, {{-1, -1}}}}), 1e-5, 1e-5));
    // running_mean = 0.9 * 0 + 0.1 * mean;  running_var = 0.9 * 1 + 0.1 * var * m / (m - 1), m = 4
    CHECK_THAT(running_mean, tensor_near(nested({0.4f, 1.0f}), 1e-6, 1e-6));
    CHECK_THAT(running_var, tensor_near(nested({0.9f + 0.1f * 5 * 4 / 3, 0.9f}), 1e-6, 1e-6));
    CHECK(running_mean.version() == 1);  // written in place, once
    // momentum 1: the running statistics become this batch's (unbiased) ones
    tt::Tensor m1 = nested({7, 7}), v1 = nested({7, 7});
    tt::batch_norm(hand_input(), m1, v1, tt::Tensor(), tt::Tensor(), true, 1.0f);
    CHECK_THAT(m1, tensor_near(nested({4, 10}), 1e-6, 1e-6));
    CHECK_THAT(v1, tensor_near(nested({20.0f / 3, 0}), 1e-6, 1e-6));
}

TEST_CASE("spatial: batch_norm in evaluation uses the running statistics and leaves them alone", "[09][spatial][batchnorm]") {
    tt::Tensor running_mean = nested({1, 10}), running_var = nested({4, 0.25f});
    const tt::Tensor y =
        tt::batch_norm(hand_input(), running_mean, running_var, nested({2, 1}), nested({0.5f, -1}), false, 0.1f, 0.0f);
    // channel 0: (x - 1) / 2 * 2 + 0.5 = x - 0.5;  channel 1: (10 - 10) / 0.5 - 1 = -1
    CHECK_THAT(y, tensor_near(nested({{{{0.5f, 2.5f}}, {{-1, -1}}}, {{{4.5f, 6.5f}}, {{-1, -1}}}}), 1e-6, 1e-6));
    CHECK_THAT(running_mean, tensor_equal(nested({1, 10})));
    CHECK_THAT(running_var, tensor_equal(nested({4, 0.25f})));
    CHECK(running_mean.version() == 0);
    // One example alone gives the same output as inside the batch.
    const tt::Tensor alone = tt::batch_norm(hand_input().slice(0, 1, 2), running_mean, running_var, tt::Tensor(), tt::Tensor(), false);
    const tt::Tensor batch = tt::batch_norm(hand_input(), running_mean, running_var, tt::Tensor(), tt::Tensor(), false);
    CHECK_THAT(alone, tensor_near(raw_copy(batch.slice(0, 1, 2)), 1e-6, 1e-6));
}

TEST_CASE("spatial: batch_norm matches its definition for 4-D and 2-D inputs", "[09][spatial][batchnorm]") {
    for (const tt::Shape& shape : std::vector<tt::Shape>{{4, 3, 5, 2}, {2, 2, 3, 7}, {1, 3, 4, 4}, {8, 5}, {3, 1, 1, 2}}) {
        INFO("x " << shape_text(shape));
        const tt::Tensor x = reference_unary(random_values(shape, 1), [](float v) { return 3 * v + 1; });
        const int64_t C = shape[1];
        const tt::Tensor w = random_values({C}, 2), b = random_values({C}, 3);
        const ref::ChannelStats st = ref::channel_stats(x);
        CHECK_THAT(tt::batch_norm(x, tt::Tensor(), tt::Tensor(), w, b, true),
                   tensor_near(ref::normalise(x, st.mean, st.variance, 1e-5f, values_of(w), values_of(b)), 1e-5, 1e-5));
        CHECK_THAT(tt::batch_norm(padded(x), tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true),
                   tensor_near(ref::normalise(x, st.mean, st.variance, 1e-5f), 1e-5, 1e-5));
        // eps is added to the variance inside the square root: visible with a large eps
        CHECK_THAT(tt::batch_norm(x, tt::Tensor(), tt::Tensor(), w, b, true, 0.1f, 0.5f),
                   tensor_near(ref::normalise(x, st.mean, st.variance, 0.5f, values_of(w), values_of(b)), 1e-5, 1e-5));
    }
}

TEST_CASE("spatial: batch_norm against PyTorch (training, then evaluation)", "[09][spatial][batchnorm][pytorch]") {
    // x = wave((3,2,2,3), .41, .2, 2.); w = [1.5, -.5]; b = [.25, 1.]; rm = [.5, -.5]; rv = [2., .5]
    // y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=.1, eps=1e-5); y.backward(g = wave(y.shape, .33, .7))
    // then the same with training=False (rm, rv as the training call left them)
    tt::Tensor x = leaf(ref::wave({3, 2, 2, 3}, 0.41, 0.2, 2.0)), w = leaf(nested({1.5f, -0.5f})), b = leaf(nested({0.25f, 1.0f}));
    tt::Tensor rm = nested({0.5f, -0.5f}), rv = nested({2.0f, 0.5f});
    const tt::Tensor g = ref::wave({3, 2, 2, 3}, 0.33, 0.7);
    const tt::Tensor y = tt::batch_norm(x, rm, rv, w, b, true, 0.1f, 1e-5f);
    CHECK_THAT(y, tensor_near(raw({0.761202335f, 1.53034854f, 2.10431385f, 2.38795924f, 2.33426762f, 1.95213902f, 0.848757625f,
                                   1.14844608f, 1.45720708f, 1.7238611f, 1.90420783f, 1.96835339f, -1.53420234f, -1.05301178f,
                                   -0.33878839f, 0.490079373f, 1.29619968f, 1.94595146f, 0.466544867f, 0.445072114f, 0.549262166f,
                                   0.761844516f, 1.04758191f, 1.35911107f, -0.833435893f, -1.40421343f, -1.68374336f,
                                   -1.62569153f, -1.23968029f, -0.589694321f, 1.25392807f, 0.945387602f, 0.679578424f,
                                   0.500560582f, 0.438007861f, 0.502288818f},
                                  {3, 2, 2, 3}),
                              1e-5, 1e-5));
    CHECK_THAT(rm, tensor_near(nested({0.439992726f, -0.396893173f}), 1e-6, 1e-5));
    CHECK_THAT(rv, tensor_near(nested({2.02555346f, 0.630841911f}), 1e-6, 1e-5));
    y.backward(g);
    CHECK_THAT(x.grad(), tensor_near(raw({0.437187999f, 0.432649165f, 0.389752686f, 0.322776109f, 0.243715674f, 0.160200357f,
                                          -0.183578447f, -0.110011399f, -0.032438498f, 0.0435476378f, 0.112146728f, 0.167578876f,
                                          -0.584120095f, -0.686024368f, -0.748991072f, -0.754219115f, -0.687210798f, -0.541646183f,
                                          -0.0873512924f, -0.192966044f, -0.291952938f, -0.372692108f, -0.424557388f,
                                          -0.439380288f, 0.979198158f, 0.87423408f, 0.633927882f, 0.27951324f, -0.149787217f,
                                          -0.601156414f, 0.276820213f, 0.353547573f, 0.382428288f, 0.357953429f, 0.281153172f,
                                          0.159752473f},
                                         {3, 2, 2, 3}),
                                     1e-5, 1e-4));
    CHECK_THAT(w.grad(), tensor_near(nested({7.63500977f, 3.66000223f}), 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(nested({1.33680916f, -1.72735715f}), 1e-5, 1e-5));

    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    const tt::Tensor e = tt::batch_norm(x, rm, rv, w, b, false, 0.1f, 1e-5f);
    CHECK_THAT(e, tensor_near(raw({0.205044925f, 0.99381417f, 1.58242309f, 1.87330496f, 1.8182435f, 1.42636573f, 0.166977689f,
                                   0.660089314f, 1.16812921f, 1.60688543f, 1.90363061f, 2.00917673f, -2.14892197f, -1.65545499f,
                                   -0.923009753f, -0.0729951933f, 0.753691554f, 1.42002034f, -0.461920649f, -0.497252226f,
                                   -0.325816453f, 0.0239695851f, 0.494126081f, 1.00672066f, -1.43027711f, -2.01561666f,
                                   -2.30227828f, -2.2427454f, -1.84688592f, -1.18031704f, 0.833650947f, 0.325974047f,
                                   -0.111392207f, -0.405950695f, -0.508875906f, -0.403107047f},
                                  {3, 2, 2, 3}),
                              1e-5, 1e-5));
    e.backward(g);
    CHECK_THAT(x.grad(), tensor_near(raw({0.678970575f, 0.90354681f, 1.03061652f, 1.04646683f, 0.949387372f, 0.749854445f,
                                          -0.280370146f, -0.0826007053f, 0.12408261f, 0.317375511f, 0.476418734f, 0.584049106f,
                                          -1.05250001f, -1.01359344f, -0.865304589f, -0.623636246f, -0.31466794f, 0.0282578487f,
                                          -0.219884232f, -0.399161369f, -0.53536284f, -0.613790512f, -0.625980735f, -0.570618093f,
                                          0.759554267f, 0.481801897f, 0.152055651f, -0.194099724f, -0.519308805f, -0.788476467f,
                                          0.580901265f, 0.628162324f, 0.607635081f, 0.521534681f, 0.379152745f, 0.195854381f},
                                         {3, 2, 2, 3}),
                                     1e-5, 1e-5));
    CHECK_THAT(w.grad(), tensor_near(nested({7.32252502f, 4.0040946f}), 1e-5, 1e-5));
    CHECK_THAT(b.grad(), tensor_near(nested({1.33680916f, -1.72735715f}), 1e-5, 1e-5));
    CHECK_THAT(rm, tensor_near(nested({0.439992726f, -0.396893173f}), 1e-6, 1e-5));  // evaluation changed nothing
}

TEST_CASE("spatial: batch_norm gradients (training and evaluation) pass gradcheck", "[09][spatial][batchnorm][backward]") {
    for (const tt::Shape& shape : std::vector<tt::Shape>{{3, 2, 2, 3}, {4, 3}, {1, 2, 3, 2}}) {
        const tt::Tensor x = random_values(shape, 1), w = random_values({shape[1]}, 2, 0.5f, 1.5f), b = random_values({shape[1]}, 3);
        check_gradients("batch_norm train " + shape_text(shape),
                        [](const Inputs& in) { return tt::batch_norm(in[0], tt::Tensor(), tt::Tensor(), in[1], in[2], true); },
                        {leaf(x), leaf(w), leaf(b)});
        const tt::Tensor mean = random_values({shape[1]}, 4), var = random_values({shape[1]}, 5, 0.5f, 2.0f);
        check_gradients("batch_norm eval " + shape_text(shape),
                        [mean, var](const Inputs& in) { return tt::batch_norm(in[0], mean, var, in[1], in[2], false); },
                        {leaf(x), leaf(w), leaf(b)});
        check_gradients("batch_norm train without weight " + shape_text(shape),
                        [](const Inputs& in) { return tt::batch_norm(in[0], tt::Tensor(), tt::Tensor(), tt::Tensor(), tt::Tensor(), true); },
                        {leaf(x)});
    }
    // The closed form against the reference, with a gradient that is not all ones
    tt::Tensor x = leaf(random_values({4, 3, 2, 2}, 7)), w = leaf(random_values({3}, 8));
    const tt::Tensor g = random_values({4, 3, 2, 2}, 9);
    tt::batch_norm(x, tt::Tensor(), tt::Tensor(), w, tt::Tensor(), true).backward(g);
    const ref::BatchNormGrads expected = ref::batch_norm_train_grads(x, values_of(w), g, 1e-5f);
    CHECK_THAT(x.grad(), tensor_near(expected.dx, 1e-5, 1e-4));
    CHECK_THAT(w.grad(), tensor_near(expected.dw, 1e-5, 1e-5));
}

TEST_CASE("spatial: batch_norm errors", "[09][spatial][batchnorm][errors]") {
    const tt::Tensor x = random_values({2, 3, 4, 4}, 1);
    const tt::Tensor c3 = random_values({3}, 2);
    CHECK_THAT(error_message([&] { tt::batch_norm(random_values({3}, 1), c3, c3, c3, c3, true); }), Contains("batch_norm") && Contains("(3)"));
    CHECK_THAT(error_message([&] { tt::batch_norm(x, c3, c3, random_values({4}, 1), c3, true); }),
               Contains("batch_norm") && Contains("weight") && Contains("(4)"));
    CHECK_THAT(error_message([&] { tt::batch_norm(x, random_values({2}, 1), c3, c3, c3, true); }),
               Contains("batch_norm") && Contains("running_mean"));
    CHECK_THAT(error_message([&] { tt::batch_norm(x, tt::Tensor(), tt::Tensor(), c3, c3, false); }),
               Contains("batch_norm") && Contains("running"));
    CHECK_THAT(error_message([&] { tt::batch_norm(random_values({1, 3}, 1), c3, c3, c3, c3, true); }),
               Contains("batch_norm") && Contains("more than one value"));
    CHECK_NOTHROW(tt::batch_norm(random_values({1, 3, 2, 1}, 1), tt::Tensor(), tt::Tensor(), c3, c3, true));  // m = 2
}

TEST_CASE("spatial: BatchNorm2d parameters, buffers, modes and printing", "[09][spatial][batchnorm][layer]") {
    tt::BatchNorm2d bn(3);
    const auto params = bn.named_parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].first == "weight");
    CHECK(params[1].first == "bias");
    CHECK_THAT(bn.weight, tensor_equal(nested({1, 1, 1})));
    CHECK_THAT(bn.bias, tensor_equal(nested({0, 0, 0})));
    const auto buffers = bn.named_buffers();
    REQUIRE(buffers.size() == 2);
    CHECK(buffers[0].first == "running_mean");
    CHECK(buffers[1].first == "running_var");
    CHECK(buffers[0].second.is_same(bn.running_mean));
    CHECK_FALSE(bn.running_mean.requires_grad());
    CHECK(bn.to_string() == "BatchNorm2d(3, eps=1e-05, momentum=0.1)");
    CHECK(tt::BatchNorm2d(16, 1e-3f, 0.01f).extra_repr() == "16, eps=0.001, momentum=0.01");

    // train(): batch statistics, buffers updated in place (the tensors in named_buffers() too)
    const tt::Tensor x = reference_unary(random_values({4, 3, 3, 3}, 1), [](float v) { return 2 * v + 5; });
    const ref::ChannelStats st = ref::channel_stats(x);
    CHECK_THAT(bn(x), tensor_near(ref::normalise(x, st.mean, st.variance, 1e-5f), 1e-5, 1e-5));
    std::vector<float> expected_mean, expected_var;
    for (int c = 0; c < 3; ++c) {
        expected_mean.push_back(static_cast<float>(0.1 * st.mean[c]));
        expected_var.push_back(static_cast<float>(0.9 + 0.1 * st.variance[c] * 36 / 35));
    }
    CHECK_THAT(buffers[0].second, tensor_near(raw(expected_mean, {3}), 1e-6, 1e-5));
    CHECK_THAT(buffers[1].second, tensor_near(raw(expected_var, {3}), 1e-6, 1e-5));
    // eval(): running statistics, nothing updated
    bn.eval();
    std::vector<double> mean(expected_mean.begin(), expected_mean.end()), var(expected_var.begin(), expected_var.end());
    CHECK_THAT(bn(x), tensor_near(ref::normalise(x, mean, var, 1e-5f), 1e-5, 1e-5));
    CHECK_THAT(bn.running_mean, tensor_near(raw(expected_mean, {3}), 1e-6, 1e-5));
    // A Sequential reaches its BatchNorm's buffers, named by position
    tt::Sequential model{std::make_shared<tt::Conv2d>(tt::Conv2dOptions{.in_channels = 1, .out_channels = 3}),
                         std::make_shared<tt::BatchNorm2d>(3)};
    const auto nested_buffers = model.named_buffers();
    REQUIRE(nested_buffers.size() == 2);
    CHECK(nested_buffers[0].first == "1.running_mean");
    CHECK(model.parameters().size() == 4);

    CHECK_THAT(error_message([&] { bn(random_values({4, 2, 3, 3}, 1)); }), Contains("BatchNorm2d") && Contains("(4, 2, 3, 3)"));
    CHECK_THAT(error_message([&] { bn(random_values({4, 3}, 1)); }), Contains("BatchNorm2d") && Contains("(4, 3)"));
    CHECK_THAT(error_message([] { tt::BatchNorm2d(0); }), Contains("BatchNorm2d"));
}

TEST_CASE("spatial: batch_norm without a graph keeps no normalised copy", "[09][spatial][batchnorm]") {
    const tt::Tensor x = random_values({2, 2, 3, 3}, 1);
    tt::Tensor w = leaf(nested({1, 1}));
    const tt::Tensor y = tt::batch_norm(x, tt::Tensor(), tt::Tensor(), w, tt::Tensor(), true);
    auto* node = dynamic_cast<tt::BatchNormBackward*>(y.grad_fn().get());
    REQUIRE(node != nullptr);
    CHECK(node->x_hat.shape() == x.shape());
    CHECK(node->inverse_std.shape() == tt::Shape{2});
    CHECK(node->training);
    tt::NoGradGuard no_grad;
    CHECK_FALSE(tt::batch_norm(x, tt::Tensor(), tt::Tensor(), w, tt::Tensor(), true).requires_grad());
}
