// test_activations.cpp - module 03: relu, leaky_relu, sigmoid, tanh, gelu, softmax, log_softmax
// (engine/src/03_activations/activations.cpp). Hand-computed values (the numbers in the comments
// come from the formulas, evaluated in double precision on a calculator), stability at +-1000 and
// +-inf, every layout, negative dims, 0-d and empty tensors, and what each op records for autograd.
// Gradients are tested in test_autograd_activations.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

const float inf = std::numeric_limits<float>::infinity();
const float not_a_number = std::numeric_limits<float>::quiet_NaN();

// softmax (or log_softmax) along `dim` computed independently: plain loops over element(), in
// double, over every slice. Only for finite inputs.
tt::Tensor reference_softmax(const tt::Tensor& x, int64_t dim, bool take_log) {
    const tt::Shape& shape = x.shape();
    const int64_t ndim = static_cast<int64_t>(shape.size());
    const int64_t d = dim < 0 ? dim + ndim : dim;
    std::vector<float> out(static_cast<size_t>(count_of(shape)));
    std::vector<int64_t> index(shape.size(), 0);
    if (out.empty()) return raw(out, shape);
    size_t flat = 0;
    do {
        double top = -1e300;
        std::vector<int64_t> other = index;
        for (int64_t k = 0; k < shape[d]; ++k) {
            other[d] = k;
            top = std::max(top, static_cast<double>(element(x, other)));
        }
        double total = 0.0;
        for (int64_t k = 0; k < shape[d]; ++k) {
            other[d] = k;
            total += std::exp(element(x, other) - top);
        }
        const double v = element(x, index) - top;
        out[flat++] = static_cast<float>(take_log ? v - std::log(total) : std::exp(v) / total);
    } while (next_index(index, shape));
    return raw(out, shape);
}

// Sums of the rows of a 2-D tensor, in double, read from storage: (R, C) -> (R,).
tt::Tensor row_sums(const tt::Tensor& t) {
    std::vector<float> sums;
    for (int64_t r = 0; r < t.shape()[0]; ++r) {
        double total = 0.0;
        for (int64_t c = 0; c < t.shape()[1]; ++c) total += element(t, {r, c});
        sums.push_back(static_cast<float>(total));
    }
    return raw(sums, {t.shape()[0]});
}

// The same values in several layouts (what every op must be indifferent to).
std::vector<std::pair<std::string, tt::Tensor>> layouts_of(const tt::Tensor& x) {
    std::vector<std::pair<std::string, tt::Tensor>> out = {{"contiguous", x}, {"padded", padded(x)}};
    if (x.dim() >= 2) out.push_back({"column-major", column_major(x)});
    return out;
}

struct ElementwiseCase {
    const char* name;
    std::function<tt::Tensor(const tt::Tensor&)> op;
    std::function<double(double)> reference;
};

double phi_cdf(double v) { return 0.5 * (1.0 + std::erf(v / std::sqrt(2.0))); }

const std::vector<ElementwiseCase>& elementwise_cases() {
    static const std::vector<ElementwiseCase> cases = {
        {"relu", [](const tt::Tensor& x) { return tt::relu(x); }, [](double v) { return v > 0 ? v : 0.0; }},
        {"leaky_relu", [](const tt::Tensor& x) { return tt::leaky_relu(x); }, [](double v) { return v > 0 ? v : 0.01 * v; }},
        {"leaky_relu 0.2", [](const tt::Tensor& x) { return tt::leaky_relu(x, 0.2f); }, [](double v) { return v > 0 ? v : 0.2 * v; }},
        {"sigmoid", [](const tt::Tensor& x) { return tt::sigmoid(x); }, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
        {"tanh", [](const tt::Tensor& x) { return tt::tanh(x); }, [](double v) { return std::tanh(v); }},
        {"gelu", [](const tt::Tensor& x) { return tt::gelu(x); }, [](double v) { return v * phi_cdf(v); }},
        {"gelu tanh", [](const tt::Tensor& x) { return tt::gelu(x, tt::GeluApproximation::tanh); },
         [](double v) { return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v))); }},
    };
    return cases;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hand-computed values
// ---------------------------------------------------------------------------------------------

TEST_CASE("activations: relu and leaky_relu, hand-computed", "[03][activations]") {
    const tt::Tensor x = nested({-2, -0.5f, 0, 0.5f, 3});
    CHECK_THAT(tt::relu(x), tensor_equal(nested({0, 0, 0, 0.5f, 3})));
    CHECK_THAT(tt::leaky_relu(x), tensor_near(nested({-0.02f, -0.005f, 0, 0.5f, 3})));  // default slope 0.01
    CHECK_THAT(tt::leaky_relu(x, 0.1f), tensor_near(nested({-0.2f, -0.05f, 0, 0.5f, 3})));
    CHECK_THAT(tt::leaky_relu(x, 0.0f), tensor_equal(nested({0, 0, 0, 0.5f, 3})));  // slope 0 is relu
    CHECK_THAT(tt::leaky_relu(x, 1.0f), tensor_equal(x));                           // slope 1 is the identity
}

TEST_CASE("activations: sigmoid and tanh, hand-computed", "[03][activations]") {
    // sigmoid(v) = 1 / (1 + e^-v):  0 -> 0.5,  1 -> 0.731058579,  -1 -> 0.268941421,  2 -> 0.880797078,  -3 -> 0.047425873
    CHECK_THAT(tt::sigmoid(nested({0, 1, -1, 2, -3})),
               tensor_near(nested({0.5f, 0.731058579f, 0.268941421f, 0.880797078f, 0.047425873f}), 1e-6, 1e-6));
    // tanh: 0 -> 0,  1 -> 0.761594156,  -2 -> -0.96402758,  0.5 -> 0.462117157
    CHECK_THAT(tt::tanh(nested({0, 1, -2, 0.5f})), tensor_near(nested({0, 0.761594156f, -0.96402758f, 0.462117157f}), 1e-6, 1e-6));
    // sigmoid(x) + sigmoid(-x) = 1 and tanh is odd, on a grid
    const tt::Tensor grid = iota({41}, -10.0f, 0.5f);
    const tt::Tensor mirrored = reference_unary(grid, [](float v) { return -v; });
    CHECK_THAT(tt::add(tt::sigmoid(grid), tt::sigmoid(mirrored)), tensor_near(raw(std::vector<float>(41, 1.0f), {41}), 1e-6, 0));
    CHECK_THAT(tt::tanh(mirrored), tensor_near(reference_unary(tt::tanh(grid), [](float v) { return -v; }), 1e-7, 0));
}

TEST_CASE("activations: gelu exact and tanh-approximated, hand-computed", "[03][activations]") {
    const tt::Tensor x = nested({0, 1, -1, 2, -0.5f});
    // exact: x Phi(x):  Phi(1) = 0.841344746, so 1 -> 0.841344746, -1 -> -0.158655254, 2 -> 1.954499736, -0.5 -> -0.154268769
    CHECK_THAT(tt::gelu(x), tensor_near(nested({0, 0.841344746f, -0.158655254f, 1.954499736f, -0.154268769f}), 1e-6, 1e-6));
    CHECK_THAT(tt::gelu(x, tt::GeluApproximation::none), tensor_near(tt::gelu(x), 0, 0));
    // tanh form: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))):
    //   1 -> 0.841191991, -1 -> -0.158808009, 2 -> 1.954597694, -0.5 -> -0.15428599
    CHECK_THAT(tt::gelu(x, tt::GeluApproximation::tanh),
               tensor_near(nested({0, 0.841191991f, -0.158808009f, 1.954597694f, -0.15428599f}), 1e-6, 1e-6));
}

TEST_CASE("activations: softmax and log_softmax, hand-computed", "[03][activations][softmax]") {
    // softmax([1, 2, 3]) = e^(x - 3) / (e^-2 + e^-1 + 1) = [0.090030573, 0.244728471, 0.665240956]
    const tt::Tensor x = nested({1, 2, 3});
    CHECK_THAT(tt::softmax(x), tensor_near(nested({0.090030573f, 0.244728471f, 0.665240956f}), 1e-7, 1e-6));
    // log_softmax = x - 3 - log(e^-2 + e^-1 + 1) = [-2.407605964, -1.407605964, -0.407605964]
    CHECK_THAT(tt::log_softmax(x), tensor_near(nested({-2.407605964f, -1.407605964f, -0.407605964f}), 1e-6, 1e-6));

    // Along dim 0 of a (2, 2): columns [1, 3] and [2, 5].
    //   softmax([1, 3]) = [0.119202922, 0.880797078], softmax([2, 5]) = [0.047425873, 0.952574127]
    const tt::Tensor m = nested({{1, 2}, {3, 5}});
    const tt::Tensor by_column = nested({{0.119202922f, 0.047425873f}, {0.880797078f, 0.952574127f}});
    CHECK_THAT(tt::softmax(m, 0), tensor_near(by_column, 1e-7, 1e-6));
    CHECK_THAT(tt::softmax(m, -2), tensor_near(by_column, 1e-7, 1e-6));
    // ... and along dim 1: rows [1, 2] and [3, 5]
    CHECK_THAT(tt::softmax(m, 1), tensor_near(nested({{0.268941421f, 0.731058579f}, {0.119202922f, 0.880797078f}}), 1e-7, 1e-6));
    CHECK_THAT(tt::log_softmax(m, 0), tensor_near(reference_unary(by_column, [](float v) { return std::log(v); }), 1e-6, 1e-6));

    SECTION("a softmax slice sums to 1 and equal logits give a uniform distribution") {
        CHECK_THAT(tt::softmax(nested({{7, 7, 7, 7}})), tensor_near(nested({{0.25f, 0.25f, 0.25f, 0.25f}}), 1e-7, 0));
        const tt::Tensor p = tt::softmax(random_values({5, 7}, 11, -3.0f, 3.0f), 1);
        CHECK_THAT(row_sums(p), tensor_near(raw(std::vector<float>(5, 1.0f), {5}), 1e-6, 0));
    }
    SECTION("0-d and size-1 dims: a single entry has probability 1") {
        CHECK(tt::softmax(raw_scalar(42)).item() == 1.0f);
        CHECK(tt::log_softmax(raw_scalar(-42), 0).item() == 0.0f);
        CHECK(tt::softmax(raw_scalar(3), -1).dim() == 0);
        CHECK_THAT(tt::softmax(nested({{5}, {-3}}), 1), tensor_equal(nested({{1}, {1}})));
    }
    SECTION("empty tensors give empty results") {
        CHECK(tt::softmax(raw({}, {0, 3})).shape() == tt::Shape{0, 3});
        CHECK(tt::softmax(raw({}, {3, 0}), -1).shape() == tt::Shape{3, 0});
        CHECK(tt::log_softmax(raw({}, {3, 0}), 0).shape() == tt::Shape{3, 0});
    }
}

// ---------------------------------------------------------------------------------------------
// Against independent references, on every layout and dim
// ---------------------------------------------------------------------------------------------

TEST_CASE("activations: elementwise ops match a double-precision reference on every layout", "[03][activations]") {
    const tt::Tensor x = random_values({4, 6}, 7, -4.0f, 4.0f);
    for (const ElementwiseCase& c : elementwise_cases()) {
        const auto& reference = c.reference;
        const tt::Tensor expected = reference_unary(x, [&](float v) { return static_cast<float>(reference(v)); });
        for (const auto& [layout, input] : layouts_of(x)) {
            INFO(c.name << " on a " << layout << " input");
            const tt::Tensor out = c.op(input);
            CHECK(out.is_contiguous());
            CHECK_FALSE(shares_storage(out, input));
            CHECK_THAT(out, tensor_near(expected, 1e-6, 1e-5));
        }
        INFO(c.name << " on a transposed view, a slice with step 2 and an expanded view");
        CHECK_THAT(c.op(x.t()), tensor_near(reference_unary(x.t(), [&](float v) { return static_cast<float>(reference(v)); }), 1e-6, 1e-5));
        const tt::Tensor stepped = x.slice(1, 1, 6, 2);
        CHECK_THAT(c.op(stepped), tensor_near(reference_unary(stepped, [&](float v) { return static_cast<float>(reference(v)); }), 1e-6, 1e-5));
        const tt::Tensor expanded = nested({{-1.5f, 0.25f, 2}}).expand({3, 3});
        CHECK_THAT(c.op(expanded), tensor_near(reference_unary(expanded, [&](float v) { return static_cast<float>(reference(v)); }), 1e-6, 1e-5));
        CHECK(c.op(raw_scalar(0.5f)).dim() == 0);
        CHECK(c.op(raw({}, {0, 4})).shape() == tt::Shape{0, 4});
    }
}

TEST_CASE("activations: softmax and log_softmax along every dim of a 3-D tensor, any layout", "[03][activations][softmax]") {
    const tt::Tensor x = random_values({3, 4, 5}, 21, -5.0f, 5.0f);
    for (int64_t dim : {0, 1, 2, -1, -2, -3}) {
        const tt::Tensor expected = reference_softmax(x, dim, false);
        const tt::Tensor expected_log = reference_softmax(x, dim, true);
        for (const auto& [layout, input] : layouts_of(x)) {
            INFO("dim " << dim << ", " << layout << " input");
            CHECK_THAT(tt::softmax(input, dim), tensor_near(expected, 1e-7, 1e-5));
            CHECK_THAT(tt::log_softmax(input, dim), tensor_near(expected_log, 1e-5, 1e-5));
        }
        INFO("dim " << dim << " of a permuted view");
        const tt::Tensor permuted = x.permute({2, 0, 1});  // (5, 3, 4), non-contiguous
        CHECK_THAT(tt::softmax(permuted, dim), tensor_near(reference_softmax(permuted, dim, false), 1e-7, 1e-5));
        CHECK_THAT(tt::log_softmax(permuted, dim), tensor_near(reference_softmax(permuted, dim, true), 1e-5, 1e-5));
    }
    SECTION("an expanded (stride 0) input: every broadcast copy normalises the same way") {
        const tt::Tensor row = nested({{1, 2, 3}}).expand({4, 3});
        CHECK_THAT(tt::softmax(row, 1), tensor_near(reference_softmax(raw_copy(row), 1, false), 1e-7, 1e-6));
        CHECK_THAT(tt::softmax(row, 0), tensor_near(raw(std::vector<float>(12, 0.25f), {4, 3}), 1e-7, 1e-6));
    }
    SECTION("negative and positive dims agree exactly") {
        CHECK_THAT(tt::softmax(x, -1), tensor_equal(tt::softmax(x, 2)));
        CHECK_THAT(tt::log_softmax(x, -3), tensor_equal(tt::log_softmax(x, 0)));
        CHECK_THAT(tt::softmax(x), tensor_equal(tt::softmax(x, 2)));  // the default is the last dim
    }
}

// ---------------------------------------------------------------------------------------------
// Stability: huge and infinite inputs
// ---------------------------------------------------------------------------------------------

TEST_CASE("activations: elementwise ops are finite at +-1000 and correct at +-inf", "[03][activations][stability]") {
    const tt::Tensor x = nested({-inf, -1000, -100, 100, 1000, inf});
    CHECK_THAT(tt::relu(x), tensor_equal(nested({0, 0, 0, 100, 1000, inf})));
    CHECK_THAT(tt::leaky_relu(x, 0.5f), tensor_equal(nested({-inf, -500, -50, 100, 1000, inf})));
    // 1 / (1 + e^-100) rounds to 1 in float; e^-100 / (1 + e^-100) = 3.7e-44 is a tiny denormal, not 0
    CHECK_THAT(tt::sigmoid(x), tensor_near(nested({0, 0, 0, 1, 1, 1}), 1e-30, 0));
    CHECK(all_finite(tt::sigmoid(x)));
    CHECK_THAT(tt::tanh(x), tensor_equal(nested({-1, -1, -1, 1, 1, 1})));
    const tt::Tensor big = nested({-1000, -100, 100, 1000});
    CHECK_THAT(tt::gelu(big), tensor_near(nested({0, 0, 100, 1000}), 1e-6, 0));
    CHECK_THAT(tt::gelu(big, tt::GeluApproximation::tanh), tensor_near(nested({0, 0, 100, 1000}), 1e-6, 0));
    CHECK(tt::gelu(nested({inf})).item() == inf);

    SECTION("sigmoid keeps its relative precision for very negative inputs") {
        // e^-20 / (1 + e^-20) = 2.0611536e-09,  e^-80 / (1 + e^-80) = 1.8048514e-35 (1 - sigmoid(80) would be 0)
        CHECK_THAT(tt::sigmoid(nested({-20, -80})), tensor_near(nested({2.0611536e-09f, 1.8048514e-35f}), 0, 1e-5));
    }
    SECTION("NaN stays NaN: a NaN hidden as a number hides a bug") {
        const tt::Tensor n = nested({not_a_number});
        CHECK(std::isnan(tt::relu(n).item()));
        CHECK(std::isnan(tt::leaky_relu(n).item()));
        CHECK(std::isnan(tt::sigmoid(n).item()));
        CHECK(std::isnan(tt::tanh(n).item()));
        CHECK(std::isnan(tt::gelu(n).item()));
    }
    SECTION("a large batch of huge values: every element finite") {
        const tt::Tensor huge = random_values({256, 64}, 5, -1000.0f, 1000.0f);
        CHECK(all_finite(tt::sigmoid(huge)));
        CHECK(all_finite(tt::tanh(huge)));
        CHECK(all_finite(tt::gelu(huge)));
        CHECK(all_finite(tt::gelu(huge, tt::GeluApproximation::tanh)));
    }
}

TEST_CASE("activations: softmax and log_softmax at +-1000 (log-sum-exp)", "[03][activations][softmax][stability]") {
    SECTION("huge logits behave like small ones") {
        // softmax is shift-invariant: [1000, 1000] is [0, 0]; [1000, 0] is [1, e^-1000 = 0]
        CHECK_THAT(tt::softmax(nested({1000, 1000})), tensor_equal(nested({0.5f, 0.5f})));
        CHECK_THAT(tt::softmax(nested({1000, 0})), tensor_equal(nested({1, 0})));
        CHECK_THAT(tt::softmax(nested({-1000, -1000, -1000})), tensor_near(nested({1 / 3.0f, 1 / 3.0f, 1 / 3.0f}), 1e-7, 0));
        CHECK_THAT(tt::softmax(nested({1001, 1002, 1003})), tensor_near(nested({0.090030573f, 0.244728471f, 0.665240956f}), 1e-6, 1e-5));
        CHECK_THAT(tt::softmax(nested({-1001, -1002, -1003})), tensor_near(nested({0.665240956f, 0.244728471f, 0.090030573f}), 1e-6, 1e-5));
    }
    SECTION("log_softmax stays finite where softmax underflows to 0") {
        // log_softmax([1000, 0]) = [0, -1000]: log(softmax) would give log(0) = -inf for the second entry
        CHECK_THAT(tt::log_softmax(nested({1000, 0})), tensor_equal(nested({0, -1000})));
        CHECK_THAT(tt::log_softmax(nested({-1000, 0, 1000})), tensor_equal(nested({-2000, -1000, 0})));
        CHECK_THAT(tt::log_softmax(nested({0, -200})), tensor_near(nested({0, -200}), 1e-6, 0));
        CHECK_THAT(tt::log_softmax(nested({1000, 1000})), tensor_near(nested({-0.693147181f, -0.693147181f}), 1e-6, 0));
    }
    SECTION("along a non-last dim of a non-contiguous tensor") {
        const tt::Tensor x = column_major(nested({{1000, -1000, 3}, {0, -999, 1000}}));
        CHECK_THAT(tt::softmax(x, 0), tensor_near(nested({{1, 0.268941421f, 0}, {0, 0.731058579f, 1}}), 1e-7, 1e-6));
        CHECK_THAT(tt::log_softmax(x, 0), tensor_near(nested({{0, -1.313261687f, -997}, {-1000, -0.313261687f, 0}}), 1e-4, 1e-6));
    }
    SECTION("a large batch of huge logits: finite, rows sum to 1") {
        const tt::Tensor logits = random_values({4096, 10}, 17, -1000.0f, 1000.0f);
        const tt::Tensor p = tt::softmax(logits, -1);
        CHECK(all_finite(p));
        CHECK_THAT(row_sums(p), tensor_near(raw(std::vector<float>(4096, 1.0f), {4096}), 1e-5, 0));
        const tt::Tensor lp = tt::log_softmax(logits, -1);
        CHECK(all_finite(lp));
        CHECK_THAT(lp, tensor_near(reference_softmax(logits, -1, true), 1e-3, 1e-6));
        CHECK(all_finite(tt::softmax(logits, 0)));
    }
}

TEST_CASE("activations: relative precision of tiny inputs and of logits near 1e8", "[03][activations][precision]") {
    // Near 0 each elementwise op keeps every digit: tanh(1e-8) is 1e-8, not the 0 that
    // 1 - 2 / (e^2x + 1) gives; gelu(x) is x / 2.
    const tt::Tensor tiny = nested({1e-8f, -1e-8f, 3e-6f, -2.5e-4f, 1e-30f, 1e-37f});
    for (const ElementwiseCase& c : elementwise_cases()) {
        INFO(c.name);
        CHECK_THAT(c.op(tiny), tensor_near(reference_unary(tiny, [&](float v) { return static_cast<float>(c.reference(v)); }), 0.0, 1e-5));
    }
    // Around 1e8 floats are 8 apart: (x - max) - log(sum) is exact, x - (max + log(sum)) is not.
    const tt::Tensor big = nested({{1e8f, 1e8f}, {1e8f, 1e8f + 8}, {-1e8f, -1e8f - 8}});
    const float l2 = 0.693147181f, e8 = 3.35406373e-4f;  // log 2 and log(1 + e^-8)
    CHECK_THAT(tt::log_softmax(big, 1), tensor_near(nested({{-l2, -l2}, {-8 - e8, -e8}, {-e8, -8 - e8}}), 1e-7, 1e-6));
    CHECK_THAT(tt::softmax(big, 1), tensor_near(nested({{0.5f, 0.5f}, {3.35350130e-4f, 0.999664650f}, {0.999664650f, 3.35350130e-4f}}), 1e-7, 1e-6));
    CHECK_THAT(tt::log_softmax(column_major(big), 0), tensor_near(reference_softmax(column_major(big), 0, true), 1e-7, 1e-6));
    // Tiny probabilities keep their relative precision: e^-80 = 1.8e-35.
    const tt::Tensor spread = nested({{0, -80, -30}});
    CHECK_THAT(tt::softmax(spread, 1), tensor_near(reference_softmax(spread, 1, false), 0.0, 1e-6));
}

TEST_CASE("activations: softmax with infinite entries (masks)", "[03][activations][softmax][stability]") {
    SECTION("-inf entries get probability exactly 0 (log: -inf)") {
        const tt::Tensor x = nested({{0, -inf, std::log(3.0f)}, {-inf, -inf, 5}});
        CHECK_THAT(tt::softmax(x), tensor_near(nested({{0.25f, 0, 0.75f}, {0, 0, 1}}), 1e-7, 1e-6));
        CHECK_THAT(tt::log_softmax(x), tensor_near(nested({{std::log(0.25f), -inf, std::log(0.75f)}, {-inf, -inf, 0}}), 1e-6, 1e-6));
    }
    SECTION("a slice of only -inf is uniform, not NaN (the limit of equal logits)") {
        const tt::Tensor x = nested({{-inf, -inf, -inf, -inf}, {1, 2, 3, 4}});
        const tt::Tensor p = tt::softmax(x);
        CHECK(all_finite(p));
        CHECK_THAT(p.select(0, 0), tensor_equal(nested({0.25f, 0.25f, 0.25f, 0.25f})));
        CHECK_THAT(p.select(0, 1), tensor_near(reference_softmax(nested({{1, 2, 3, 4}}), 1, false).select(0, 0), 1e-7, 1e-6));
        const float log_quarter = -1.386294361f;  // -log 4
        CHECK_THAT(tt::log_softmax(x).select(0, 0), tensor_near(nested({log_quarter, log_quarter, log_quarter, log_quarter}), 1e-6, 0));
        CHECK_THAT(tt::softmax(column_major(x), 0).select(1, 0), tensor_near(nested({0, 1}), 0, 0));  // dim 0: a finite entry in each column
    }
    SECTION("+inf entries share the probability, finite ones get 0") {
        CHECK_THAT(tt::softmax(nested({inf, 1, inf})), tensor_equal(nested({0.5f, 0, 0.5f})));
        CHECK_THAT(tt::log_softmax(nested({inf, 1})), tensor_equal(nested({0, -inf})));
    }
    SECTION("NaN spreads through its own slice only") {
        const tt::Tensor p = tt::softmax(nested({{1, not_a_number}, {1, 1}}));
        CHECK(std::isnan(p.at({0, 0})));
        CHECK(std::isnan(p.at({0, 1})));
        CHECK_THAT(p.select(0, 1), tensor_equal(nested({0.5f, 0.5f})));
        CHECK(std::isnan(tt::log_softmax(nested({not_a_number, 1})).at({1})));
    }
}

// ---------------------------------------------------------------------------------------------
// Errors and the graph
// ---------------------------------------------------------------------------------------------

TEST_CASE("activations: bad dims name the op and the valid range", "[03][activations][errors]") {
    const tt::Tensor x = iota({2, 3});
    CHECK_THAT(error_message([&] { tt::softmax(x, 2); }), Contains("softmax") && Contains("dimension 2") && Contains("-2 to 1"));
    CHECK_THAT(error_message([&] { tt::log_softmax(x, -3); }), Contains("log_softmax") && Contains("dimension -3"));
    CHECK_THAT(error_message([&] { tt::softmax(raw_scalar(1), 1); }), Contains("softmax") && Contains("0-d"));
    CHECK_THAT(error_message([&] { tt::relu(tt::Tensor()); }), Contains("undefined"));
}

TEST_CASE("activations: each op records its node and saves what backward needs", "[03][activations][autograd]") {
    tt::Tensor x = random_values({2, 3}, 3);
    x.requires_grad_();
    CHECK(std::string(tt::relu(x).grad_fn()->name()) == "ReluBackward");
    CHECK(std::string(tt::gelu(x).grad_fn()->name()) == "GeluBackward");
    CHECK(std::string(tt::tanh(x).grad_fn()->name()) == "TanhBackward");
    CHECK(std::string(tt::log_softmax(x).grad_fn()->name()) == "LogSoftmaxBackward");

    const tt::Tensor leaky = tt::leaky_relu(x, 0.3f);
    auto* leaky_node = dynamic_cast<tt::LeakyReluBackward*>(leaky.grad_fn().get());
    REQUIRE(leaky_node != nullptr);
    CHECK(leaky_node->negative_slope == 0.3f);
    CHECK(leaky_node->inputs.size() == 1);
    CHECK(leaky_node->inputs[0].is_same(x));

    const tt::Tensor s = tt::sigmoid(x);
    auto* sigmoid_node = dynamic_cast<tt::SigmoidBackward*>(s.grad_fn().get());
    REQUIRE(sigmoid_node != nullptr);
    CHECK(shares_storage(sigmoid_node->out, s));  // the output itself, saved ...
    CHECK(sigmoid_node->out.grad_fn() == nullptr);  // ... detached: no cycle out -> node -> out
    CHECK_FALSE(sigmoid_node->out.requires_grad());

    const tt::Tensor g = tt::gelu(x, tt::GeluApproximation::tanh);  // keeps its node alive
    auto* gelu_node = dynamic_cast<tt::GeluBackward*>(g.grad_fn().get());
    REQUIRE(gelu_node != nullptr);
    CHECK(gelu_node->approximate == tt::GeluApproximation::tanh);

    const tt::Tensor p = tt::softmax(x, -1);
    auto* softmax_node = dynamic_cast<tt::SoftmaxBackward*>(p.grad_fn().get());
    REQUIRE(softmax_node != nullptr);
    CHECK(softmax_node->dim == 1);  // wrapped
    CHECK(shares_storage(softmax_node->out, p));
    CHECK(softmax_node->out.grad_fn() == nullptr);
    const tt::Tensor lp = tt::log_softmax(x, -2);
    auto* log_node = dynamic_cast<tt::LogSoftmaxBackward*>(lp.grad_fn().get());
    REQUIRE(log_node != nullptr);
    CHECK(log_node->dim == 0);

    SECTION("no graph without requires_grad or under NoGradGuard") {
        CHECK(tt::softmax(random_values({2, 3}, 4)).grad_fn() == nullptr);
        tt::NoGradGuard no_grad;
        CHECK(tt::relu(x).grad_fn() == nullptr);
        CHECK_FALSE(tt::sigmoid(x).requires_grad());
    }
    SECTION("a non-contiguous input that requires grad: one node, connected to the view") {
        const tt::Tensor xt = x.t();
        const tt::Tensor out = tt::softmax(xt, 0);
        REQUIRE(out.grad_fn() != nullptr);
        CHECK(out.grad_fn()->inputs[0].is_same(xt));  // no hidden CloneBackward in between
    }
}
