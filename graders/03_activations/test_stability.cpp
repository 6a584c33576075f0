// test_stability.cpp - module 03 grader: numerical stability. float overflows at e^88.7, so a
// formula that evaluates e^1000 gives inf, and inf / inf or inf - inf gives NaN. Every activation
// must return finite values (or the correct limit, for infinite inputs) at +-1000 and +-inf, and
// softmax/log_softmax must subtract the maximum (log-sum-exp) so huge logits behave like small ones.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "activation_reference.h"
#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
namespace ref = activation_reference;

namespace {
const float inf = std::numeric_limits<float>::infinity();
}  // namespace

TEST_CASE("relu and leaky_relu pass infinities and huge values through", "[points=1]") {
    const tt::Tensor x = nested({-inf, -1000, 1000, inf});
    CHECK_THAT(tt::relu(x), tensor_equal(nested({0, 0, 1000, inf})));
    CHECK_THAT(tt::leaky_relu(x), tensor_near(nested({-inf, -10, 1000, inf}), 1e-5, 1e-6));
    CHECK_THAT(tt::leaky_relu(x, 0.5f), tensor_near(nested({-inf, -500, 1000, inf}), 1e-5, 1e-6));
}

TEST_CASE("sigmoid at plus and minus 1000 and infinity is 1 and 0 without NaN", "[points=2]") {
    // The naive e^x / (1 + e^x) is inf / inf = NaN at x = 1000, and 1 / (1 + e^-x) computes e^1000 at x = -1000.
    const tt::Tensor x = nested({-inf, -1000, -100, 100, 1000, inf});
    const tt::Tensor out = tt::sigmoid(x);
    CHECK(ref::all_finite(out));
    CHECK_THAT(out, tensor_near(nested({0, 0, 0, 1, 1, 1}), 1e-30, 0.0));
    // The same inside a larger non-contiguous tensor.
    const tt::Tensor mixed = column_major(nested({{-1000, 0, 1000}, {inf, -inf, 1}}));
    CHECK_THAT(tt::sigmoid(mixed), tensor_near(nested({{0, 0.5f, 1}, {1, 0, 0.7310586f}}), 1e-6, 1e-5));
}

TEST_CASE("sigmoid of very negative inputs is tiny but keeps its relative precision", "[points=1]") {
    // sigmoid(-x) computed as 1 - sigmoid(x) cancels to exactly 0 once sigmoid(x) rounds to 1.
    const tt::Tensor x = nested({-20, -30, -60, -80});
    const tt::Tensor expected = nested({2.0611536e-09f, 9.3576230e-14f, 8.7565108e-27f, 1.8048514e-35f});
    CHECK_THAT(tt::sigmoid(x), tensor_near(expected, 0.0, 1e-4));
}

TEST_CASE("tanh at plus and minus 1000 and infinity is plus or minus 1", "[points=2]") {
    // (e^x - e^-x) / (e^x + e^-x) is inf / inf = NaN at x = +-1000.
    const tt::Tensor x = nested({-inf, -1000, -50, 50, 1000, inf});
    const tt::Tensor out = tt::tanh(x);
    CHECK(ref::all_finite(out));
    CHECK_THAT(out, tensor_near(nested({-1, -1, -1, 1, 1, 1}), 1e-7, 0.0));
}

TEST_CASE("gelu at plus and minus 1000 is x and 0 in both forms", "[points=1]") {
    // x^3 = 1e9 inside the tanh form is fine in float; the tanh saturates at +-1.
    const tt::Tensor x = nested({-1000, -40, 40, 1000, inf});
    for (tt::GeluApproximation form : {tt::GeluApproximation::none, tt::GeluApproximation::tanh}) {
        INFO((form == tt::GeluApproximation::none ? "exact gelu" : "tanh-approximated gelu"));
        const tt::Tensor out = tt::gelu(x, form);
        CHECK_THAT(out, tensor_near(nested({0, 0, 40, 1000, inf}), 1e-6, 1e-6));
    }
}

TEST_CASE("softmax of logits near plus and minus 1000 stays finite and matches small logits", "[points=3]") {
    // Without subtracting the maximum, e^1000 = inf and inf / inf = NaN.
    const tt::Tensor huge = nested({{1000, 999, 998}, {-1000, -999, -1001}, {1000, -1000, 0}});
    const tt::Tensor p = tt::softmax(huge);
    CHECK(ref::all_finite(p));
    const tt::Tensor small = nested({{2, 1, 0}, {0, 1, -1}, {1, 0, 0}});
    const std::vector<float> like_small = values_of(ref::softmax(small, -1));
    CHECK_THAT(p, tensor_near(raw({like_small[0], like_small[1], like_small[2], like_small[3], like_small[4], like_small[5], 1, 0, 0},
                                  {3, 3}),
                              1e-6, 1e-5));
    INFO("the same logits along dim 0 (each column holds one row above)");
    const tt::Tensor columns = column_major(nested({{1000, -1000, 1000}, {999, -999, -1000}, {998, -1001, 0}}));
    const tt::Tensor q = tt::softmax(columns, 0);
    CHECK(ref::all_finite(q));
    CHECK_THAT(q, tensor_near(ref::softmax(columns, 0), 1e-6, 1e-5));
}

TEST_CASE("softmax is unchanged by adding 500 to every logit of a row", "[points=1]") {
    const tt::Tensor x = random_values({3, 4}, 321, -2.0f, 2.0f);
    const tt::Tensor shifted = reference_unary(x, [](float v) { return v + 500.0f; });
    const tt::Tensor p = tt::softmax(shifted, 1);
    CHECK(ref::all_finite(p));
    CHECK_THAT(p, tensor_near(ref::softmax(x, 1), 1e-4, 1e-3));  // v + 500 rounds v to about 3e-5
}

TEST_CASE("softmax gives exactly zero probability to minus infinity entries used as masks", "[points=2]") {
    // Attention (module 13) masks future positions with -inf: they must get probability 0, not NaN.
    const tt::Tensor x = nested({{0, -inf, std::log(3.0f)}, {-inf, 2, 2}, {-inf, -inf, 5}});
    const tt::Tensor p = tt::softmax(x, -1);
    CHECK(ref::all_finite(p));
    CHECK_THAT(p, tensor_near(nested({{0.25f, 0, 0.75f}, {0, 0.5f, 0.5f}, {0, 0, 1}}), 1e-6, 1e-5));
    const tt::Tensor lp = tt::log_softmax(x, -1);
    CHECK_THAT(lp, tensor_near(nested({{std::log(0.25f), -inf, std::log(0.75f)}, {-inf, std::log(0.5f), std::log(0.5f)}, {-inf, -inf, 0}}),
                               1e-5, 1e-5));
}

TEST_CASE("log_softmax stays finite where softmax underflows to zero", "[points=3]") {
    // softmax(0, -200) = (1, e^-200) and e^-200 underflows float, so log(softmax) would be -inf;
    // log-sum-exp gives (x - max) - log(sum e^(x - max)) = (0, -200) exactly.
    const tt::Tensor x = nested({{1000, 0, -1000}, {0, -200, -150}, {-1000, -1000, -1000}});
    const tt::Tensor out = tt::log_softmax(x, 1);
    CHECK(ref::all_finite(out));
    CHECK_THAT(out, tensor_near(nested({{0, -1000, -2000}, {0, -200, -150}, {-1.0986123f, -1.0986123f, -1.0986123f}}), 1e-5, 1e-6));
}

TEST_CASE("log_softmax of huge logits along a non-last dim of a non-contiguous tensor", "[points=2]") {
    const tt::Tensor x = padded(nested({{{1000, -5}, {0, 800}}, {{-1000, 1}, {10, -800}}}));  // (2, 2, 2)
    for (int64_t dim : {0, 1, -1}) {
        INFO("log_softmax along dim " << dim << " of " << describe_tensor(x));
        const tt::Tensor out = tt::log_softmax(x, dim);
        CHECK(ref::all_finite(out));
        CHECK_THAT(out, tensor_near(ref::log_softmax(x, dim), 1e-4, 1e-6));
        const tt::Tensor p = tt::softmax(x, dim);
        CHECK(ref::all_finite(p));
        CHECK_THAT(p, tensor_near(ref::softmax(x, dim), 1e-6, 1e-5));
    }
}

TEST_CASE("softmax of a slice that is entirely minus infinity is uniform instead of NaN", "[points=1]") {
    // Every option masked: no finite maximum to subtract, and -inf - (-inf) is NaN. As the comment
    // above softmax says, such a slice is the limit of equal logits: 1/size each, log: -log(size).
    const tt::Tensor x = nested({{-inf, -inf, -inf, -inf}, {0, -inf, 0, -inf}});
    CHECK_THAT(tt::softmax(x, 1), tensor_near(nested({{0.25f, 0.25f, 0.25f, 0.25f}, {0.5f, 0, 0.5f, 0}}), 1e-6, 1e-5));
    const float l4 = std::log(4.0f), l2 = std::log(2.0f);
    CHECK_THAT(tt::log_softmax(x, 1), tensor_near(nested({{-l4, -l4, -l4, -l4}, {-l2, -inf, -l2, -inf}}), 1e-6, 1e-5));
    INFO("along dim 0 of the transpose");
    const tt::Tensor t = column_major(nested({{-inf, 1}, {-inf, 1}, {-inf, 1}}));
    CHECK_THAT(tt::softmax(t, 0), tensor_near(nested({{1.0f / 3, 1.0f / 3}, {1.0f / 3, 1.0f / 3}, {1.0f / 3, 1.0f / 3}}), 1e-6, 1e-5));
}

TEST_CASE("activations keep a NaN input NaN instead of hiding it", "[points=1]") {
    // A NaN means a bug upstream; an activation that turns it into 0 or 1 hides where it came from.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const tt::Tensor x = nested({nan, -1, 2});
    CHECK_THAT(tt::relu(x), tensor_near(nested({nan, 0, 2}), 1e-6, 1e-6));
    CHECK_THAT(tt::leaky_relu(x, 0.5f), tensor_near(nested({nan, -0.5f, 2}), 1e-6, 1e-6));
    CHECK_THAT(tt::sigmoid(x), tensor_near(nested({nan, 0.2689414f, 0.8807971f}), 1e-6, 1e-5));
    CHECK_THAT(tt::tanh(x), tensor_near(nested({nan, -0.7615942f, 0.9640276f}), 1e-6, 1e-5));
    CHECK_THAT(tt::gelu(x), tensor_near(nested({nan, -0.1586553f, 1.9545f}), 2e-6, 1e-5));
}
