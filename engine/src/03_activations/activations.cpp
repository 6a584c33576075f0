// activations.cpp - module 03: the nonlinearities, and how to compute them without overflowing.
//
// Every function here is a formula you could type into a calculator. The work is in making each
// one *finite for every input a network can produce*. A float holds numbers up to ~3.4e38, so
//
//     std::exp(88.0f)  = 1.65e38     fine
//     std::exp(89.0f)  = inf         overflow: one large logit and the result is inf, then NaN
//
// and inputs in the hundreds do happen: a learning rate too large, unnormalised features, the dot
// products of attention over long sequences. One NaN anywhere spreads through every later op
// (NaN + anything = NaN) and the whole network is lost.
// So each formula is rearranged so that it never computes e^(large):
//
//     sigmoid:  e^-|x| is always in (0, 1]; pick the form that uses it for the sign of x
//     softmax:  subtract the maximum first; e^(x - max) is in (0, 1] and the result is the same
//     tanh:     std::tanh already does the equivalent internally
//
// Shapes: every op maps x: any shape -> out: the same shape, a new contiguous tensor. The
// elementwise ops are one loop over memory; softmax/log_softmax normalise along one dimension.
//
// Each op ends with record<XBackward>(...) (autograd.h), outside the part you write: it connects
// the output to the graph once module 06 gives the nodes their backward(). What is saved there is
// what backward needs: sigmoid and tanh save their output (their derivatives are written in terms
// of it), relu/leaky_relu/gelu need only the input (kept in node->inputs anyway), and softmax and
// log_softmax save their output and the dimension.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

// [given] out[i] = f(x[i]) for every element, as module 02's unary_op: x: any shape and layout
// -> out: the same shape, contiguous. f is a lambda and map_elements a template, so the compiler
// inlines f into the loop: one pass over memory, no call per element.
// x.detach(): the contiguous copy (if x is a strided view) is an internal step, not a graph node.
template <class F>
Tensor map_elements(const Tensor& x, F f) {
    const Tensor in = x.detach().contiguous();  // a handle to x's own memory when already contiguous
    Tensor out = empty(x.shape());
    const float* src = in.data();
    float* dst = out.data();
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i) dst[i] = f(src[i]);
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Elementwise activations
// ---------------------------------------------------------------------------------------------

// relu(x) = max(x, 0). The cheapest nonlinearity there is (one compare) and the default in deep
// networks: its gradient is exactly 1 for every x > 0, so it does not shrink as it flows back
// through many layers, unlike sigmoid's (at most 0.25 per layer).
Tensor relu(const Tensor& x) {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: map_elements(x, lambda) does the looping; the lambda is one line of math on a float.
    //! HINT: write it so a NaN input stays NaN (NaN < 0 is false): a NaN silently turned into 0 hides a bug.
    out = map_elements(x, [](float v) { return v < 0.0f ? 0.0f : v; });
    //! END SOLUTION
    return record<ReluBackward>(out, {x});
}

// leaky_relu(x) = x for x > 0, negative_slope * x otherwise: a small slope instead of 0 keeps a
// gradient flowing to units whose input became negative for every example ("dead ReLUs").
Tensor leaky_relu(const Tensor& x, float negative_slope) {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: capture negative_slope in the lambda: [negative_slope](float v) { ... }.
    out = map_elements(x, [negative_slope](float v) { return v > 0.0f ? v : negative_slope * v; });
    //! END SOLUTION
    return record<LeakyReluBackward>(out, {x}, negative_slope);
}

// sigmoid(x) = 1 / (1 + e^-x), squashing any real number into (0, 1).
//
// Neither textbook form is safe for every x: e^x / (1 + e^x) is inf / inf = NaN for x > 88, and
// 1 / (1 + e^-x) computes e^1000 = inf at x = -1000 (IEEE rounding happens to turn 1 / inf into the
// right 0, but code that relies on an overflow breaks under -ffast-math, which assumes no infinities).
// With z = e^-|x|, always in (0, 1], both halves are exact rearrangements that never overflow:
//     x >= 0:  1 / (1 + z)          (z = e^-x)
//     x <  0:  z / (1 + z)          (multiply 1 / (1 + e^-x) by e^x / e^x, with z = e^x)
// x = +-inf gives exactly 1 and 0, and sigmoid(-80) = 1.8e-35 keeps all its digits (1 - sigmoid(80)
// would be 0). Choosing only the numerator, (x >= 0 ? 1 : z) / (1 + z), compiles to a select
// instead of a branch: with random signs a mispredicted branch per element doubles the cost.
Tensor sigmoid(const Tensor& x) {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: compute z = std::exp(-std::fabs(v)) once; then 1 / (1 + z) or z / (1 + z) depending on the sign of v.
    //! HINT: test it with v = 1000 and v = -1000: both must give finite numbers (1 and 0).
    out = map_elements(x, [](float v) {
        const float z = std::exp(-std::fabs(v));  // in (0, 1]: cannot overflow
        return (v >= 0.0f ? 1.0f : z) / (1.0f + z);
    });
    //! END SOLUTION
    return record<SigmoidBackward>(out, {x}, out.detach());
}

// tanh(x) = (e^x - e^-x) / (e^x + e^-x), in (-1, 1). Written out, that formula is inf / inf = NaN
// for |x| > 88; std::tanh is accurate and finite everywhere (tanh(+-inf) = +-1), so use it.
// (Inside namespace tt, a bare tanh(...) means this function, the Tensor op: say std::tanh.)
Tensor tanh(const Tensor& x) {
    Tensor out;
    //! BEGIN SOLUTION
    out = map_elements(x, [](float v) { return std::tanh(v); });
    //! END SOLUTION
    return record<TanhBackward>(out, {x}, out.detach());
}

// gelu(x) = x * Phi(x), Phi the standard normal CDF: a smooth relu (BERT, GPT-2, ViT). Near 0 it
// lets a little negative signal through; far from 0 it is relu (x for x >> 0, 0 for x << 0).
//     exact:  x/2 * (1 + erf(x / sqrt(2)))
//     tanh:   x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))   the GELU paper's cheaper
//             approximation, used by GPT-2; kept because its pretrained weights expect it exactly.
// Both are finite for x = +-1000: erf and tanh saturate at +-1, so x << 0 gives x/2 * 0 = -0.
// (x = -inf gives -inf * 0 = NaN; no network produces an infinite activation.)
Tensor gelu(const Tensor& x, GeluApproximation approximate) {
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: two lambdas, one per formula; std::erf and std::tanh work on floats. 1/sqrt(2) = 0.70710678f, sqrt(2/pi) = 0.79788456f.
    //! HINT: x^3 as v * v * v: std::pow is a general routine tens of times slower than two multiplies.
    if (approximate == GeluApproximation::tanh) {
        constexpr float kSqrt2OverPi = 0.7978845608f;  // sqrt(2 / pi)
        out = map_elements(x, [](float v) {
            const float inner = kSqrt2OverPi * (v + 0.044715f * v * v * v);
            return 0.5f * v * (1.0f + std::tanh(inner));
        });
    } else {
        constexpr float kInvSqrt2 = 0.7071067812f;  // 1 / sqrt(2)
        out = map_elements(x, [](float v) { return 0.5f * v * (1.0f + std::erf(v * kInvSqrt2)); });
    }
    //! END SOLUTION
    return record<GeluBackward>(out, {x}, approximate);
}

// ---------------------------------------------------------------------------------------------
// softmax and log_softmax along one dimension
//
// Both normalise each slice along `dim`. A contiguous x: (A, B, C) with dim 1 is, in memory,
//
//     (outer, size, inner) = (A, B, C)      outer = product of sizes before dim, inner = after
//
// and each of the outer * inner "columns" x[o, :, i] is normalised on its own.
//
// Two loops, as in module 02's reductions:
//   - dim = -1, by far the most common case (classification, attention): inner = 1 and every slice
//     is one contiguous row. Its max and sum are plain local variables, i.e. registers.
//   - any other dim: loop o, then k (along dim), then i (innermost), so memory is read front to
//     back, with the running max and sum of all inner columns in small (inner,) arrays. The
//     "obvious" order - finish one column, then the next - jumps `inner` floats at every step.
// The general loop also works for inner = 1, but keeping the running values in memory costs a
// load and a store per element: about twice as slow as the row loop, and softmax is run a lot.
//
// Stability: softmax(x) = softmax(x - c) for any constant c (e^-c cancels between numerator and
// denominator). With c = the slice's max every exponent is <= 0, so e^(x - max) is in (0, 1]: no
// overflow, and the max itself contributes e^0 = 1, so the sum is >= 1: no division by ~0 either.
// log_softmax goes one step further and never takes log of a probability:
//     log_softmax(x) = (x - max) - log(sum_j e^(x_j - max))        (log-sum-exp)
// whereas log(softmax(x)) is log(0) = -inf as soon as a probability underflows (x_i - max < -104).
//
// Infinite entries: in a slice whose max is finite, -inf entries get probability 0 as they should.
// A slice of only -inf (every option masked out) has no finite max to subtract; x - max would be
// -inf - (-inf) = NaN. Such a slice is treated as the limit of a slice of equal values: uniform,
// 1/size each (log: -log(size)), the same result as masking with a large finite number such as
// -1e9. Entries equal to the max are given the shift 0 exactly, which makes that work (and likewise
// spreads a +inf max evenly over the entries that reach it). NaN inputs still give NaN.
// ---------------------------------------------------------------------------------------------

// x: (..., size, ...) -> same shape; each slice along dim is positive and sums to 1.
Tensor softmax(const Tensor& x, int64_t dim) {
    const int64_t d = wrap_dim(dim, x.dim(), "softmax");
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: work on x.detach().contiguous() and view it as (outer, size, inner) around d (a 0-d x is (1, 1, 1)).
    //! HINT: three passes over each slice: its max m; e^(x - m) into out, adding them up; multiply by 1 / the sum.
    //! HINT: start with dim = -1 (inner = 1: each slice is a row); then the general loop, with (inner,) arrays of running values.
    //! HINT: shift = (v == m) ? 0 : v - m keeps a slice of all -inf finite (uniform) instead of NaN.
    const Tensor in = x.detach().contiguous();
    out = empty(x.shape());
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < d; ++i) outer *= x.size(i);
    for (int64_t i = d + 1; i < x.dim(); ++i) inner *= x.size(i);
    const int64_t size = x.dim() == 0 ? 1 : x.size(d);
    const float lowest = -std::numeric_limits<float>::infinity();

    if (inner == 1) {  // dim = -1: one contiguous row per slice
        for (int64_t r = 0; r < outer; ++r) {
            const float* row = in.data() + r * size;  // (size,)
            float* out_row = out.data() + r * size;   // (size,)
            float m = lowest;                         // 1. the max
            for (int64_t k = 0; k < size; ++k) m = row[k] > m ? row[k] : m;
            double sum = 0.0;                         // 2. e^(x - m), each in [0, 1], and their sum (>= 1)
            for (int64_t k = 0; k < size; ++k) {
                const float shift = row[k] == m ? 0.0f : row[k] - m;
                out_row[k] = std::exp(shift);
                sum += out_row[k];
            }
            // 3. Normalise: one division per row, then multiplications (a divide costs ~4 multiplies).
            const float inverse = static_cast<float>(1.0 / sum);
            for (int64_t k = 0; k < size; ++k) out_row[k] *= inverse;
        }
    } else {  // any other dim: all inner columns of a block at once
        std::vector<float> column_max(inner);   // (inner,)  per column of the current outer block
        std::vector<double> column_sum(inner);  // (inner,)  in double: up to `size` terms in (0, 1]
        for (int64_t o = 0; o < outer; ++o) {
            const float* src = in.data() + o * size * inner;  // (size, inner)
            float* dst = out.data() + o * size * inner;       // (size, inner)
            // 1. m = max along dim, for every column at once.
            std::fill(column_max.begin(), column_max.end(), lowest);
            for (int64_t k = 0; k < size; ++k) {
                const float* row = src + k * inner;
                for (int64_t i = 0; i < inner; ++i) column_max[i] = row[i] > column_max[i] ? row[i] : column_max[i];
            }
            // 2. e^(x - m) and the column sums.
            std::fill(column_sum.begin(), column_sum.end(), 0.0);
            for (int64_t k = 0; k < size; ++k) {
                const float* row = src + k * inner;
                float* out_row = dst + k * inner;
                for (int64_t i = 0; i < inner; ++i) {
                    out_row[i] = std::exp(row[i] == column_max[i] ? 0.0f : row[i] - column_max[i]);
                    column_sum[i] += out_row[i];
                }
            }
            // 3. Normalise.
            for (int64_t i = 0; i < inner; ++i) column_sum[i] = 1.0 / column_sum[i];
            for (int64_t k = 0; k < size; ++k) {
                float* out_row = dst + k * inner;
                for (int64_t i = 0; i < inner; ++i) out_row[i] = static_cast<float>(out_row[i] * column_sum[i]);
            }
        }
    }
    //! END SOLUTION
    return record<SoftmaxBackward>(out, {x}, out.detach(), d);
}

// x: (..., size, ...) -> same shape; each slice along dim holds log-probabilities (all <= 0).
Tensor log_softmax(const Tensor& x, int64_t dim) {
    const int64_t d = wrap_dim(dim, x.dim(), "log_softmax");
    Tensor out;
    //! BEGIN SOLUTION
    //! HINT: the same layout and passes as softmax; only the last step differs: out = (x - m) - log(sum of e^(x - m)).
    //! HINT: never compute log(softmax(x)): a probability that underflows to 0 gives log(0) = -inf.
    const Tensor in = x.detach().contiguous();
    out = empty(x.shape());
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < d; ++i) outer *= x.size(i);
    for (int64_t i = d + 1; i < x.dim(); ++i) inner *= x.size(i);
    const int64_t size = x.dim() == 0 ? 1 : x.size(d);
    const float lowest = -std::numeric_limits<float>::infinity();

    if (inner == 1) {  // dim = -1: one contiguous row per slice
        for (int64_t r = 0; r < outer; ++r) {
            const float* row = in.data() + r * size;  // (size,)
            float* out_row = out.data() + r * size;   // (size,)
            float m = lowest;                         // 1. the max
            for (int64_t k = 0; k < size; ++k) m = row[k] > m ? row[k] : m;
            double sum = 0.0;                         // 2. out = x - m (half the answer), and sum of e^(x - m)
            for (int64_t k = 0; k < size; ++k) {
                out_row[k] = row[k] == m ? 0.0f : row[k] - m;
                sum += std::exp(out_row[k]);
            }
            // 3. Subtract log(sum), which is in [0, log(size)]: the sum is at least e^0 = 1.
            const float log_sum = static_cast<float>(std::log(sum));
            for (int64_t k = 0; k < size; ++k) out_row[k] -= log_sum;
        }
    } else {  // any other dim: all inner columns of a block at once
        std::vector<float> column_max(inner);   // (inner,)
        std::vector<double> column_sum(inner);  // (inner,)  sum of e^(x - m), then its log
        for (int64_t o = 0; o < outer; ++o) {
            const float* src = in.data() + o * size * inner;  // (size, inner)
            float* dst = out.data() + o * size * inner;       // (size, inner)
            // 1. m = max along dim.
            std::fill(column_max.begin(), column_max.end(), lowest);
            for (int64_t k = 0; k < size; ++k) {
                const float* row = src + k * inner;
                for (int64_t i = 0; i < inner; ++i) column_max[i] = row[i] > column_max[i] ? row[i] : column_max[i];
            }
            // 2. out = x - m, and the column sums of e^(x - m).
            std::fill(column_sum.begin(), column_sum.end(), 0.0);
            for (int64_t k = 0; k < size; ++k) {
                const float* row = src + k * inner;
                float* out_row = dst + k * inner;
                for (int64_t i = 0; i < inner; ++i) {
                    out_row[i] = row[i] == column_max[i] ? 0.0f : row[i] - column_max[i];
                    column_sum[i] += std::exp(out_row[i]);
                }
            }
            // 3. Subtract log(sum).
            for (int64_t i = 0; i < inner; ++i) column_sum[i] = std::log(column_sum[i]);
            for (int64_t k = 0; k < size; ++k) {
                float* out_row = dst + k * inner;
                for (int64_t i = 0; i < inner; ++i) out_row[i] = static_cast<float>(out_row[i] - column_sum[i]);
            }
        }
    }
    //! END SOLUTION
    return record<LogSoftmaxBackward>(out, {x}, out.detach(), d);
}

}  // namespace tt
