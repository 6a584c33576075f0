// gradcheck.h - is a backward() right? Ask the forward (module 06).
//
// A derivative is a limit, so it can be estimated from two forward evaluations:
//
//     dL/dx[i]  ~=  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)        (central difference)
//
// gradcheck() compares that numeric estimate with the analytic gradient that backward() computes,
// for every element of every input that requires grad. A node with a wrong formula, a wrong sign,
// a forgotten sum_to_shape or a gradient sent to the wrong input fails loudly; it is the test every
// backward node in TinyTorch has, and the one to run on any new op you write:
//
//     tt::Tensor a = tt::randn({3, 4}).requires_grad_();
//     tt::Tensor b = tt::randn({4}).requires_grad_();
//     auto result = tt::gradcheck([](const std::vector<tt::Tensor>& in) { return in[0] * in[1]; }, {a, b});
//     if (!result.ok) std::cout << result.message;   // names the input, the element and both values
//
// f may return a tensor of any shape: gradcheck reduces it to the scalar L = sum(f(inputs) * W) with
// fixed random weights W, so every output element matters and errors cannot cancel out (with plain
// sum(), a gradient that is wrong by a permutation of its elements could pass).
//
// Cost: 2 forward passes per input element, so use small tensors (tens of elements).
// float32 limits the precision: eps ~ 1e-3 balances truncation error (~eps^2) against rounding
// error (~1e-7 / eps), hence tolerances around 1e-2 rather than 1e-6 as in float64 checkers.
// Both scale with the numbers: element x moves by h = eps * max(1, |x|) (near x = 1000 a fixed 1e-3
// is lost in float rounding), and the tolerance grows with the gradient (rtol * |numeric|), so
// correct gradients of size 1000 pass and a gradient 10% off fails at any scale.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinytorch/tensor.h"

namespace tt {

struct GradcheckOptions {
    float eps = 1e-3f;   // the finite-difference step, relative: element x moves by eps * max(1, |x|)
    float atol = 1e-2f;  // an element passes when |analytic - numeric| <= atol + rtol * |numeric|
    float rtol = 1e-2f;
    uint64_t seed = 0;   // for the random output weights W
};

struct GradcheckResult {
    bool ok = true;
    double max_error = 0.0;  // the largest |analytic - numeric| over every checked element
    // "gradcheck OK: ..." or, on failure, the worst element:
    // "gradcheck FAILED: input 1 of shape (3, 4), element [2, 0]: analytic 0.5 vs numeric 1.5 ..."
    std::string message;
    explicit operator bool() const { return ok; }
};

// Checks the gradients of f with respect to every input that requires grad (at least one must).
// Inputs are perturbed in place and restored exactly; their .grad is left as it was. Inputs must
// not be expanded views (stride 0): perturbing one float would move many elements at once. Build
// the expanded or transposed view *inside* f to check an op on non-contiguous data.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace tt
