// test_spatial_pooling.cpp - module 09: max_pool2d, avg_pool2d, their backward, and the pooling
// layers (engine/src/09_spatial/pooling.cpp).
//
// Expected values: by hand, from the window-by-window loops of graders/09_spatial/spatial_reference.h,
// or from PyTorch 1.13 (numbers written below, with the Python that produced them).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
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

const float kNan = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

struct PoolCase {
    tt::Shape x;
    int64_t k, s, p;
};

// Overlapping windows (s < k), gaps (s > k), padding, non-square planes, several planes.
const std::vector<PoolCase>& pool_cases() {
    static const std::vector<PoolCase> cases = {
        {{2, 3, 8, 8}, 2, 2, 0}, {{1, 2, 7, 5}, 3, 2, 1}, {{2, 1, 6, 9}, 3, 1, 1}, {{1, 2, 9, 7}, 2, 3, 0},
        {{1, 1, 5, 5}, 5, 1, 2}, {{3, 2, 4, 6}, 1, 1, 0}, {{1, 3, 6, 4}, 4, 2, 2},
    };
    return cases;
}

std::string describe(const PoolCase& c) {
    return "x " + shape_text(c.x) + ", k " + std::to_string(c.k) + ", s " + std::to_string(c.s) + ", p " + std::to_string(c.p);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// max_pool2d
// ---------------------------------------------------------------------------------------------

TEST_CASE("spatial: max_pool2d by hand, stride defaults to the kernel size", "[09][spatial][pool]") {
    const tt::Tensor x = nested({{{{1, 3, 2, 0}, {4, 2, 1, 1}, {0, 8, 9, 5}, {6, 7, 3, 4}}}});
    CHECK_THAT(tt::max_pool2d(x, 2), tensor_equal(nested({{{{4, 2}, {8, 9}}}})));
    // k 2, s 1: nine overlapping windows
    CHECK_THAT(tt::max_pool2d(x, 2, 1), tensor_equal(nested({{{{4, 3, 2}, {8, 9, 9}, {8, 9, 9}}}})));
    // padding counts as -infinity: an all-negative image keeps negative maxima at its border
    const tt::Tensor negative = nested({{{{-1, -2}, {-3, -4}}}});
    CHECK_THAT(tt::max_pool2d(negative, 2, 1, 1), tensor_equal(nested({{{{-1, -1, -2}, {-1, -1, -2}, {-3, -3, -4}}}})));
}

TEST_CASE("spatial: max_pool2d matches window-by-window loops", "[09][spatial][pool]") {
    uint64_t seed = 10;
    for (const PoolCase& c : pool_cases()) {
        INFO(describe(c));
        const tt::Tensor x = random_values(c.x, ++seed);
        CHECK_THAT(tt::max_pool2d(x, c.k, c.s, c.p), tensor_equal(ref::max_pool2d(x, c.k, c.s, c.p).out));
        CHECK_THAT(tt::max_pool2d(padded(x), c.k, c.s, c.p), tensor_equal(ref::max_pool2d(x, c.k, c.s, c.p).out));
    }
}

TEST_CASE("spatial: max_pool2d ties, NaN and infinities", "[09][spatial][pool]") {
    // Ties: the gradient goes to the first maximum of the window only.
    tt::Tensor ties = leaf(nested({{{{5, 5}, {5, 1}}}}));
    tt::max_pool2d(ties, 2).sum().backward();
    CHECK_THAT(ties.grad(), tensor_equal(nested({{{{1, 0}, {0, 0}}}})));
    // A NaN is the maximum of its window (PyTorch), and receives the gradient.
    tt::Tensor with_nan = leaf(nested({{{{1, kNan, 3, 4}, {2, 0, 1, 1}}}}));
    const tt::Tensor y = tt::max_pool2d(with_nan, 2);
    CHECK_THAT(y, tensor_equal(nested({{{{kNan, 4}}}})));
    y.sum().backward();
    CHECK_THAT(with_nan.grad(), tensor_equal(nested({{{{0, 1, 0, 1}, {0, 0, 0, 0}}}})));
    // Windows of -infinity: the maximum is -inf, and the gradient goes to a real pixel.
    tt::Tensor minus_inf = leaf(raw({-kInf, -kInf, -kInf, -kInf}, {1, 1, 2, 2}));
    const tt::Tensor z = tt::max_pool2d(minus_inf, 2, 1, 1);
    CHECK_THAT(z, tensor_equal(raw(std::vector<float>(9, -kInf), {1, 1, 3, 3})));
    z.sum().backward();
    CHECK(all_finite(minus_inf.grad()));
    CHECK(count_of(minus_inf.grad().shape()) == 4);
}

TEST_CASE("spatial: max_pool2d backward sends each gradient to its window's winner", "[09][spatial][pool][backward]") {
    uint64_t seed = 20;
    for (const PoolCase& c : pool_cases()) {
        INFO(describe(c));
        tt::Tensor x = leaf(ref::distinct_values(c.x, ++seed));
        const tt::Tensor y = tt::max_pool2d(x, c.k, c.s, c.p);
        const tt::Tensor g = random_values(y.shape(), ++seed);
        y.backward(g);
        CHECK_THAT(x.grad(), tensor_near(ref::max_pool2d_grad(x, g, c.k, c.s, c.p), 1e-6, 1e-6));
        check_gradients("max_pool2d " + describe(c), [c](const Inputs& in) { return tt::max_pool2d(in[0], c.k, c.s, c.p); },
                        {leaf(ref::distinct_values(c.x, seed))});
    }
    // The node keeps, per output, the flat index y * W + x of the winner within its own plane.
    const tt::Tensor x = leaf(nested({{{{1, 3, 2, 0}, {4, 2, 1, 1}, {0, 8, 9, 5}, {6, 7, 3, 4}}},
                                      {{{9, 0, 0, 0}, {0, 0, 0, 7}, {0, 0, 0, 0}, {0, 6, 5, 0}}}}));
    const tt::Tensor y = tt::max_pool2d(x, 2);
    auto* node = dynamic_cast<tt::MaxPool2dBackward*>(y.grad_fn().get());
    REQUIRE(node != nullptr);
    CHECK_THAT(node->argmax, tensor_equal(nested({{{{4, 2}, {9, 10}}}, {{{0, 7}, {13, 14}}}})));
}

TEST_CASE("spatial: max_pool2d against PyTorch (k 3, s 2, p 1, two channels)", "[09][spatial][pool][pytorch]") {
    // x = wave((1,2,5,5), .61, 0); y = F.max_pool2d(x, 3, 2, 1); y.backward(wave(y.shape, .23, .5))
    tt::Tensor x = leaf(ref::wave({1, 2, 5, 5}, 0.61, 0.0));
    const tt::Tensor y = tt::max_pool2d(x, 3, 2, 1);
    CHECK_THAT(y, tensor_near(raw({0.572867453f, 0.966594398f, 0.966594398f, 0.413973361f, 0.997111976f, 0.997111976f,
                                   0.271333247f, 0.994263113f, 0.994263113f, 0.442122161f, 0.958143115f, 0.958143115f,
                                   0.598116338f, 0.958143115f, 0.990703464f, 0.734095633f, 0.889960587f, 0.990703464f},
                                  {1, 2, 3, 3}),
                              1e-6, 1e-6));
    y.backward(ref::wave({1, 2, 3, 3}, 0.23, 0.5));
    CHECK_THAT(x.grad(), tensor_near(raw({0, 0.47942555f, 0, 1.48606122f, 0, 0, 0, 0, 0, 0, 0, 0.928368986f, 0, 1.98551679f, 0,
                                          0.95257622f, 0, 0, 0, 0, 0, 0, 0, 1.57658267f, 0, 0.540972233f, 0, 0, 0, 0, 0, 0, 0,
                                          0.104948044f, 0, -0.118130855f, 0, 0, 0, 0, 0, 0, 0, -0.861596882f, -1.50131881f,
                                          -0.723188102f, 0, 0, 0, 0},
                                         {1, 2, 5, 5}),
                                     1e-6, 1e-6));
}

// ---------------------------------------------------------------------------------------------
// avg_pool2d
// ---------------------------------------------------------------------------------------------

TEST_CASE("spatial: avg_pool2d by hand, padding counts as zeros in the divisor", "[09][spatial][pool]") {
    const tt::Tensor x = nested({{{{1, 3, 2, 0}, {4, 2, 1, 1}, {0, 8, 9, 5}, {6, 7, 3, 4}}}});
    CHECK_THAT(tt::avg_pool2d(x, 2), tensor_equal(nested({{{{2.5f, 1}, {5.25f, 5.25f}}}})));
    // count_include_pad: a corner window of ones with padding 1 holds 1 real pixel of 4 -> 0.25
    const tt::Tensor ones = raw(std::vector<float>(9, 1.0f), {1, 1, 3, 3});
    CHECK_THAT(tt::avg_pool2d(ones, 2, 1, 1), tensor_equal(nested({{{{0.25f, 0.5f, 0.5f, 0.25f},
                                                                        {0.5f, 1, 1, 0.5f},
                                                                        {0.5f, 1, 1, 0.5f},
                                                                        {0.25f, 0.5f, 0.5f, 0.25f}}}})));
}

TEST_CASE("spatial: avg_pool2d forward and backward match window-by-window loops", "[09][spatial][pool]") {
    uint64_t seed = 30;
    for (const PoolCase& c : pool_cases()) {
        INFO(describe(c));
        tt::Tensor x = leaf(random_values(c.x, ++seed));
        const tt::Tensor y = tt::avg_pool2d(x, c.k, c.s, c.p);
        CHECK_THAT(y, tensor_near(ref::avg_pool2d(x, c.k, c.s, c.p), 1e-6, 1e-5));
        const tt::Tensor g = random_values(y.shape(), ++seed);
        y.backward(g);
        CHECK_THAT(x.grad(), tensor_near(ref::avg_pool2d_grad(x, g, c.k, c.s, c.p), 1e-6, 1e-5));
        check_gradients("avg_pool2d " + describe(c), [c](const Inputs& in) { return tt::avg_pool2d(in[0], c.k, c.s, c.p); },
                        {leaf(random_values(c.x, seed))});
    }
}

TEST_CASE("spatial: avg_pool2d against PyTorch (k 3, s 2, p 1, two channels)", "[09][spatial][pool][pytorch]") {
    // x = wave((1,2,5,5), .61, 0); y = F.avg_pool2d(x, 3, 2, 1); y.backward(wave(y.shape, .23, .5))
    tt::Tensor x = leaf(ref::wave({1, 2, 5, 5}, 0.61, 0.0));
    const tt::Tensor y = tt::avg_pool2d(x, 3, 2, 1);
    CHECK_THAT(y, tensor_near(raw({0.0187594127f, 0.0103718042f, -0.00961649418f, -0.0255408324f, -0.250314116f, -0.195115596f,
                                   -0.0194053873f, -0.0167026985f, 0.00468167337f, -0.0190256462f, -0.020252876f,
                                   0.00117238367f, -0.0693316162f, 0.159084052f, 0.2095671f, 0.0172721259f, 0.0242763888f,
                                   0.00412796624f},
                                  {1, 2, 3, 3}),
                              1e-6, 1e-5));
    y.backward(ref::wave({1, 2, 3, 3}, 0.23, 0.5));
    CHECK_THAT(x.grad(),
               tensor_near(raw({0.0532695055f, 0.127366126f, 0.0740966275f, 0.165117919f, 0.0910212845f, 0.156421617f, 0.34036845f,
                                0.183946818f, 0.385730892f, 0.201784074f, 0.103152111f, 0.213002309f, 0.109850198f, 0.220612973f,
                                0.110762782f, 0.208993912f, 0.414190531f, 0.205196619f, 0.395788819f, 0.1905922f, 0.105841801f,
                                0.201188222f, 0.095346421f, 0.175175846f, 0.0798294246f, 0.0601080246f, 0.0973289311f,
                                0.0372209065f, 0.0495943725f, 0.012373466f, 0.046982374f, 0.0462698042f, -0.000712569803f,
                                -0.0490825549f, -0.0483699851f, -0.0131256506f, -0.0510591269f, -0.0379334763f, -0.0986769274f,
                                -0.0607434511f, -0.0934798867f, -0.227146357f, -0.133666456f, -0.30047965f, -0.166813195f,
                                -0.0803542361f, -0.17608723f, -0.0957329869f, -0.201802731f, -0.106069751f},
                               {1, 2, 5, 5}),
                           1e-6, 1e-5));
}

// ---------------------------------------------------------------------------------------------
// Errors and layers
// ---------------------------------------------------------------------------------------------

TEST_CASE("spatial: pooling errors name the op and the problem", "[09][spatial][pool][errors]") {
    const tt::Tensor x = random_values({1, 2, 4, 4}, 1);
    for (const char* op : {"max_pool2d", "avg_pool2d"}) {
        const bool is_max = std::string(op) == "max_pool2d";
        auto pool = [is_max](const tt::Tensor& t, int64_t k, int64_t s, int64_t p) {
            return is_max ? tt::max_pool2d(t, k, s, p) : tt::avg_pool2d(t, k, s, p);
        };
        INFO(op);
        CHECK_THAT(error_message([&] { pool(random_values({2, 4, 4}, 1), 2, 0, 0); }), Contains(op) && Contains("(2, 4, 4)"));
        CHECK_THAT(error_message([&] { pool(x, 0, 0, 0); }), Contains(op) && Contains("kernel_size"));
        CHECK_THAT(error_message([&] { pool(x, 2, -1, 0); }), Contains(op) && Contains("stride"));
        CHECK_THAT(error_message([&] { pool(x, 2, 2, 2); }), Contains(op) && Contains("padding"));  // more than k / 2
        CHECK_THAT(error_message([&] { pool(x, 5, 1, 0); }), Contains(op) && Contains("(1, 2, 4, 4)"));
    }
}

TEST_CASE("spatial: MaxPool2d and AvgPool2d layers", "[09][spatial][pool][layer]") {
    tt::MaxPool2d max2(2);
    CHECK(max2.stride == 2);
    CHECK(max2.to_string() == "MaxPool2d(kernel_size=2, stride=2, padding=0)");
    tt::AvgPool2d avg(3, 1, 1);
    CHECK(avg.to_string() == "AvgPool2d(kernel_size=3, stride=1, padding=1)");
    CHECK(max2.parameter_count() == 0);
    const tt::Tensor x = random_values({2, 3, 6, 6}, 1);
    CHECK_THAT(max2(x), tensor_equal(ref::max_pool2d(x, 2, 2, 0).out));
    CHECK_THAT(avg(x), tensor_near(ref::avg_pool2d(x, 3, 1, 1), 1e-6, 1e-5));
}
