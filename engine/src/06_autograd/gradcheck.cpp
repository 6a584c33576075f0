// gradcheck.cpp - module 06: checking backward() against the forward's finite differences.
//
// The idea fits in one line - (L(x + h) - L(x - h)) / (2 h) ~= dL/dx - and everything else here is
// care: a step relative to the element (h = eps * max(1, |x|)), so a float near 1000 moves by more
// than rounding noise; the loss summed in double so rounding does not swamp the difference; the
// division by the step actually taken (x + h is rounded to a float); a tolerance relative to the
// gradient's size; each perturbed float restored exactly; the caller's .grad fields left as they
// were. See gradcheck.h for how to use it.
#include "tinytorch/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "tinytorch/autograd.h"
#include "tinytorch/random.h"

namespace tt {

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
    GradcheckResult result;
    //! BEGIN SOLUTION
    //! HINT: L = sum(f(inputs) * W) for fixed random weights W. Analytic: one backward() of L. Numeric: for each element, evaluate L at x + eps and x - eps under NoGradGuard.
    //! HINT: perturb the float in storage (offset + index . strides) by h = eps * max(1, |x|) and put the original value back afterwards; compute L in double.
    //! HINT: why relative: near x = 1000 a float has only ~6e-5 of resolution and f(x) ~ 1e6 only ~0.06, so a fixed h = 1e-3 drowns the difference in rounding noise.
    //! HINT: an element passes when |analytic - numeric| <= atol + rtol * |numeric|; report the worst one with its input, index and both values.

    // 1. Which inputs are checked, and can each be perturbed one element at a time?
    std::vector<size_t> checked;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& x = inputs[i];
        if (!x.defined() || !x.requires_grad()) continue;
        TT_CHECK(x.is_leaf(), "gradcheck: input ", i, " is not a leaf (it was made by ", x.grad_fn()->name(),
                 "); pass leaf tensors and compute the rest inside f");
        for (int64_t d = 0; d < x.dim(); ++d) {
            TT_CHECK(!(x.shape()[d] > 1 && x.strides()[d] == 0), "gradcheck: input ", i, " of shape ", shape_str(x.shape()),
                     " is an expanded view (stride 0 in dimension ", d, "); pass a tensor with its own memory and expand inside f");
        }
        checked.push_back(i);
    }
    TT_CHECK(!checked.empty(), "gradcheck: no input requires grad; call requires_grad_() on the inputs to check");

    // The analytic pass needs grad mode even when the caller has turned it off.
    struct GradModeOn {
        bool previous = is_grad_enabled();
        GradModeOn() { set_grad_enabled(true); }
        ~GradModeOn() { set_grad_enabled(previous); }
    } grad_mode_on;

    // 2. L = sum(f(inputs) * W), W uniform in [-1, 1): fixed, so both sides see the same L.
    Tensor weights;
    {
        NoGradGuard no_grad;
        const Tensor out = f(inputs);
        TT_CHECK(out.defined(), "gradcheck: f returned an undefined tensor");
        Generator generator(options.seed);
        weights = rand(out.shape(), &generator) * 2.0f - 1.0f;
    }
    const std::vector<float> w = weights.to_vector();
    auto loss = [&]() {
        NoGradGuard no_grad;
        const Tensor out = f(inputs);
        TT_CHECK(out.shape() == weights.shape(), "gradcheck: f returned shape ", shape_str(out.shape()), " after ",
                 shape_str(weights.shape()), "; f must give the same shape every time");
        const std::vector<float> values = out.to_vector();
        double total = 0.0;
        for (size_t j = 0; j < values.size(); ++j) total += static_cast<double>(values[j]) * w[j];
        return total;
    };

    // 3. Analytic gradients: one backward pass, with the caller's .grad fields set aside.
    std::vector<Tensor> previous_grads, analytic;
    for (size_t i : checked) {
        Tensor handle = inputs[i];
        previous_grads.push_back(handle.grad());
        handle.zero_grad();
    }
    auto restore_grads = [&]() {
        for (size_t k = 0; k < checked.size(); ++k) {
            Tensor handle = inputs[checked[k]];
            handle.set_grad(previous_grads[k]);
        }
    };
    try {
        const Tensor out = f(inputs);
        if (out.requires_grad()) (out * weights).sum().backward();  // else f ignores its inputs: all 0
    } catch (...) {
        restore_grads();
        throw;
    }
    for (size_t i : checked) analytic.push_back(inputs[i].grad());
    restore_grads();

    // 4. Numeric gradients, element by element, compared as we go.
    int64_t n_elements = 0, n_bad = 0;
    double worst_ratio = -1.0;
    std::ostringstream worst;
    for (size_t k = 0; k < checked.size(); ++k) {
        const Tensor& x = inputs[checked[k]];
        const bool has_grad = analytic[k].defined();
        const std::vector<float> grad = has_grad ? analytic[k].to_vector() : std::vector<float>(x.numel(), 0.0f);
        float* base = x.storage()->data.data();
        std::vector<int64_t> index(x.dim(), 0);
        for (int64_t n = 0; n < x.numel(); ++n) {
            int64_t rest = n, position = x.offset();  // storage position of row-major element n
            for (int64_t d = x.dim() - 1; d >= 0; --d) {
                index[d] = rest % x.shape()[d];
                rest /= x.shape()[d];
                position += index[d] * x.strides()[d];
            }
            const float original = base[position];
            const float step = options.eps * std::max(1.0f, std::fabs(original));  // relative to |x|
            const float up = original + step, down = original - step;
            double loss_up = 0.0, loss_down = 0.0;
            try {
                base[position] = up;
                loss_up = loss();
                base[position] = down;
                loss_down = loss();
            } catch (...) {
                base[position] = original;
                throw;
            }
            base[position] = original;
            const double numeric = (loss_up - loss_down) / (static_cast<double>(up) - static_cast<double>(down));
            const double error = std::fabs(static_cast<double>(grad[n]) - numeric);
            const double tolerance = options.atol + options.rtol * std::fabs(numeric);
            if (std::isnan(error) || error > result.max_error) result.max_error = error;  // nan sticks
            ++n_elements;
            if (error <= tolerance) continue;
            ++n_bad;
            const double ratio = std::isnan(error) ? std::numeric_limits<double>::infinity() : error / tolerance;
            if (ratio <= worst_ratio) continue;
            worst_ratio = ratio;
            worst.str("");
            worst << "input " << checked[k] << " of shape " << shape_str(x.shape()) << ", element [";
            for (int64_t d = 0; d < x.dim(); ++d) worst << (d ? ", " : "") << index[d];
            worst << "]: analytic " << grad[n] << " vs numeric " << numeric << " (|diff| " << error << " > tolerance " << tolerance
                  << ")" << (has_grad ? "" : "; backward() gave this input no gradient at all");
        }
    }

    std::ostringstream message;
    message.precision(4);
    result.ok = n_bad == 0;
    if (result.ok) {
        message << "gradcheck OK: " << checked.size() << " input(s), " << n_elements << " elements, max |analytic - numeric| = "
                << result.max_error;
    } else {
        message << "gradcheck FAILED: " << worst.str() << "; " << n_bad << " of " << n_elements
                << " elements out of tolerance, max |analytic - numeric| = " << result.max_error;
    }
    result.message = message.str();
    //! END SOLUTION
    return result;
}

}  // namespace tt
