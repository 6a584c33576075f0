// grading.h - helpers shared by every module's grader and by the project's engine tests.
//
// The rule behind every helper here: an expected value must never come from the code under test.
// In module 02 the student's Tensor factories, at() and to_vector() are under test, so the helpers
// build tensors straight from tt::Storage with the [given] constructor and read elements straight
// from storage + strides + offset; they use nothing a student writes.
//
//     using namespace tt::testing;
//     tt::Tensor x = nested({{1, 2, 3}, {4, 5, 6}});           // (2, 3), contiguous, raw storage
//     tt::Tensor y = padded(x);                                 // same values, non-contiguous layout
//     CHECK_THAT(tt::add(x, y), tensor_near(nested({{2, 4, 6}, {8, 10, 12}})));
//     CHECK_THAT(tt::matmul(a, b), tensor_equal(expected));   // exact, element by element
//     CHECK(gradient_check([](const auto& in) { return tt::exp(in[0]); }, {x}));  // from module 06 on
//
// A failed tensor_near prints both tensors (shape and values), how many elements differ and the
// worst one; a failed gradient_check prints the worst element of each input. Both read memory
// only after checking that the tensor's layout stays inside its storage, so a broken stride or
// offset fails the test with an explanation instead of crashing it.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iomanip>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt::testing {

// ---------------------------------------------------------------------------------------------
// Layout arithmetic, computed here (not with the student's contiguous_strides / numel).
// ---------------------------------------------------------------------------------------------

// Product of the sizes (1 for a 0-d shape).
inline int64_t count_of(const Shape& shape) {
    int64_t n = 1;
    for (int64_t size : shape) n *= size;
    return n;
}

// Row-major strides: (2, 3, 4) -> (12, 4, 1).
inline Strides row_major_strides(const Shape& shape) {
    Strides strides(shape.size(), 1);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
        strides[d] = strides[d + 1] * std::max<int64_t>(shape[d + 1], 1);
    return strides;
}

// "(2, 3)"; does not use the library's shape_str so it also works on a garbage shape.
inline std::string shape_text(const std::vector<int64_t>& sizes) {
    std::ostringstream out;
    out << '(';
    for (size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
    out << ')';
    return out.str();
}

// Why the tensor's layout cannot be read safely (undefined, negative size, shape and strides of
// different lengths, null storage, an element outside the storage), or nullopt when it can.
inline std::optional<std::string> layout_problem(const Tensor& t) {
    if (!t.defined()) return "the tensor is undefined (a default-constructed tt::Tensor)";
    const TensorImpl& impl = t.impl();
    if (impl.shape.size() != impl.strides.size())
        return "shape " + shape_text(impl.shape) + " has " + std::to_string(impl.shape.size()) + " dimensions but strides " +
               shape_text(impl.strides) + " has " + std::to_string(impl.strides.size());
    for (int64_t size : impl.shape)
        if (size < 0) return "shape " + shape_text(impl.shape) + " has a negative size";
    if (!impl.storage) return "the tensor has no storage (null shared_ptr)";
    if (count_of(impl.shape) == 0) return std::nullopt;  // nothing is ever read
    int64_t low = impl.offset, high = impl.offset;
    for (size_t d = 0; d < impl.shape.size(); ++d) {
        const int64_t reach = (impl.shape[d] - 1) * impl.strides[d];
        (reach < 0 ? low : high) += reach;
    }
    const auto capacity = static_cast<int64_t>(impl.storage->data.size());
    if (low < 0 || high >= capacity) {
        std::ostringstream out;
        out << "shape " << shape_text(impl.shape) << ", strides " << shape_text(impl.strides) << " and offset "
            << impl.offset << " reach storage positions " << low << " to " << high << " but the storage holds "
            << capacity << " floats";
        return out.str();
    }
    return std::nullopt;
}

// The storage position of a logical index (all entries in range, no negative indices).
inline int64_t storage_index(const Tensor& t, const std::vector<int64_t>& index) {
    int64_t position = t.offset();
    for (size_t d = 0; d < index.size(); ++d) position += index[d] * t.strides()[d];
    return position;
}

// Steps a row-major multi-index: (0, 2) -> (1, 0) in shape (2, 3). False after the last one.
inline bool next_index(std::vector<int64_t>& index, const Shape& shape) {
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        if (++index[d] < shape[d]) return true;
        index[d] = 0;
    }
    return false;
}

// Every element in row-major (logical) order, read from storage + strides + offset (independent
// of the student's to_vector). Throws std::logic_error when the layout is unreadable.
inline std::vector<float> values_of(const Tensor& t) {
    if (auto problem = layout_problem(t)) throw std::logic_error("cannot read the tensor: " + *problem);
    std::vector<float> out;
    const int64_t n = count_of(t.shape());
    if (n == 0) return out;
    out.reserve(static_cast<size_t>(n));
    const std::vector<float>& data = t.storage()->data;
    std::vector<int64_t> index(t.shape().size(), 0);
    do {
        out.push_back(data[static_cast<size_t>(storage_index(t, index))]);
    } while (next_index(index, t.shape()));
    return out;
}

// Writes `values` (row-major) into t's elements through storage + strides + offset: how a test sets
// a layer's weights without student code (a parameter refuses in-place ops in grad mode). The
// inverse of values_of. Throws std::logic_error for an unreadable layout or a wrong count.
inline void set_values(const Tensor& t, const std::vector<float>& values) {
    if (auto problem = layout_problem(t)) throw std::logic_error("set_values(): " + *problem);
    if (static_cast<int64_t>(values.size()) != count_of(t.shape()))
        throw std::logic_error("set_values(): " + std::to_string(values.size()) + " values for shape " + shape_text(t.shape()));
    if (values.empty()) return;
    std::vector<int64_t> index(t.shape().size(), 0);
    size_t i = 0;
    do {
        t.storage()->data[static_cast<size_t>(storage_index(t, index))] = values[i++];
    } while (next_index(index, t.shape()));
}

// True when no element is inf or NaN.
inline bool all_finite(const Tensor& t) {
    for (float v : values_of(t))
        if (!std::isfinite(v)) return false;
    return true;
}

// The same tensor (the same handle), marked requires_grad: the leaf of a gradient test.
inline Tensor leaf(const Tensor& values) {
    Tensor t = values;
    t.requires_grad_();
    return t;
}

// One element, read from storage (independent of the student's at()). Non-negative indices.
inline float element(const Tensor& t, const std::vector<int64_t>& index) {
    if (auto problem = layout_problem(t)) throw std::logic_error("cannot read the tensor: " + *problem);
    if (index.size() != t.shape().size())
        throw std::logic_error("element(): index of " + std::to_string(index.size()) + " entries for a " +
                               std::to_string(t.shape().size()) + "-d tensor");
    for (size_t d = 0; d < index.size(); ++d)
        if (index[d] < 0 || index[d] >= t.shape()[d]) throw std::logic_error("element(): index out of range");
    return t.storage()->data[static_cast<size_t>(storage_index(t, index))];
}

// Logical multi-index of the flat row-major position `flat` in `shape`.
inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
    std::vector<int64_t> index(shape.size(), 0);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        if (shape[d] > 0) {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
    }
    return index;
}

// ---------------------------------------------------------------------------------------------
// Building tensors without the student's factories
// ---------------------------------------------------------------------------------------------

// A tensor over exactly the storage and layout given (the [given] constructor): the way to make
// any layout at all, e.g. strided({0, 1, 2, 3, 4, 5}, {3, 2}, {1, 3}) is the transpose of a (2, 3).
inline Tensor strided(std::vector<float> storage, Shape shape, Strides strides, int64_t offset = 0) {
    auto memory = std::make_shared<Storage>();
    memory->data = std::move(storage);
    Tensor t(std::move(memory), std::move(shape), std::move(strides), offset);
    if (auto problem = layout_problem(t)) throw std::logic_error("strided(): " + *problem);
    return t;
}

// A new contiguous tensor holding `values` in row-major order.
inline Tensor raw(std::vector<float> values, const Shape& shape) {
    if (static_cast<int64_t>(values.size()) != count_of(shape))
        throw std::logic_error("raw(): " + std::to_string(values.size()) + " values for shape " + shape_text(shape));
    return strided(std::move(values), shape, row_major_strides(shape), 0);
}

// A 0-d tensor.
inline Tensor raw_scalar(float value) { return raw({value}, {}); }

// Nested braces for small literal tensors: nested({{1, 2}, {3, 4}}) is (2, 2), nested({1, 2, 3})
// is (3,), nested(5) is 0-d. Ragged lists are a bug in the test and throw std::logic_error.
class Nested {
public:
    Nested(float value) : leaf_(true), value_(value) {}  // NOLINT: implicit on purpose
    Nested(std::initializer_list<Nested> items) : items_(items) {}

    void flatten_into(std::vector<float>& values, Shape& shape, size_t depth) const {
        if (leaf_) {
            if (depth != shape.size()) throw std::logic_error("nested(): ragged nesting");
            values.push_back(value_);
            return;
        }
        if (depth == shape.size()) {
            if (!values.empty()) throw std::logic_error("nested(): ragged nesting");
            shape.push_back(static_cast<int64_t>(items_.size()));
        } else if (depth > shape.size() || shape[depth] != static_cast<int64_t>(items_.size())) {
            throw std::logic_error("nested(): rows of different lengths");
        }
        for (const Nested& item : items_) item.flatten_into(values, shape, depth + 1);
    }

private:
    bool leaf_ = false;
    float value_ = 0.0f;
    std::vector<Nested> items_;
};

inline Tensor nested(const Nested& values) {
    std::vector<float> flat;
    Shape shape;
    values.flatten_into(flat, shape, 0);
    return raw(std::move(flat), shape);
}

// 0, 1, 2, ... (or start, start + step, ...) in a new contiguous tensor of `shape`.
inline Tensor iota(const Shape& shape, float start = 0.0f, float step = 1.0f) {
    std::vector<float> values(static_cast<size_t>(count_of(shape)));
    for (size_t i = 0; i < values.size(); ++i) values[i] = start + step * static_cast<float>(i);
    return raw(std::move(values), shape);
}

// Seeded values in [low, high): the same numbers on every machine (tt::Generator is [given]).
inline Tensor random_values(const Shape& shape, uint64_t seed, float low = -1.0f, float high = 1.0f) {
    Generator gen(seed);
    std::vector<float> values(static_cast<size_t>(count_of(shape)));
    for (float& v : values) v = gen.uniform(low, high);
    return raw(std::move(values), shape);
}

// The same logical values as `t` in a NON-contiguous layout: every dimension's stride is padded
// (a gap after each row), the storage starts with junk, and offset > 0. Junk cells hold 1e6 so a
// kernel that ignores strides or offset reads visibly wrong numbers.
inline Tensor padded(const Tensor& t) {
    const Shape& shape = t.shape();
    std::vector<float> values = values_of(t);
    Strides strides(shape.size(), 1);
    int64_t span = 1;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        strides[d] = span + (d + 1 == static_cast<int64_t>(shape.size()) ? 1 : 0);  // last dim: stride 2
        span = strides[d] * std::max<int64_t>(shape[d], 1) + 1;
    }
    const int64_t offset = 3;
    std::vector<float> storage(static_cast<size_t>(offset + span + 1), 1e6f);
    std::vector<int64_t> index(shape.size(), 0);
    if (!values.empty()) {
        size_t i = 0;
        do {
            int64_t position = offset;
            for (size_t d = 0; d < index.size(); ++d) position += index[d] * strides[d];
            storage[static_cast<size_t>(position)] = values[i++];
        } while (next_index(index, shape));
    }
    return strided(std::move(storage), shape, strides, offset);
}

// The same logical values as `t` stored column-major (strides increase from left to right), the
// layout of a transposed matrix. Non-contiguous whenever two dimensions have size > 1.
inline Tensor column_major(const Tensor& t) {
    const Shape& shape = t.shape();
    std::vector<float> values = values_of(t);
    Strides strides(shape.size(), 1);
    for (size_t d = 1; d < shape.size(); ++d) strides[d] = strides[d - 1] * std::max<int64_t>(shape[d - 1], 1);
    std::vector<float> storage(values.size(), 0.0f);
    std::vector<int64_t> index(shape.size(), 0);
    if (!values.empty()) {
        size_t i = 0;
        do {
            int64_t position = 0;
            for (size_t d = 0; d < index.size(); ++d) position += index[d] * strides[d];
            storage[static_cast<size_t>(position)] = values[i++];
        } while (next_index(index, shape));
    }
    return strided(std::move(storage), shape, strides, 0);
}

// A fresh contiguous copy read through raw storage (independent of the student's clone).
inline Tensor raw_copy(const Tensor& t) { return raw(values_of(t), t.shape()); }

// Elementwise reference results computed with plain loops and this file's own broadcasting rule
// (sizes aligned on the right, equal or 1), for checking ops without trusting the code under test:
//     CHECK_THAT(tt::mul(a, b), tensor_near(reference_binary(a, b, [](float x, float y) { return x * y; })));
template <class F>
Tensor reference_binary(const Tensor& a, const Tensor& b, F f) {
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    const size_t n = std::max(sa.size(), sb.size());
    Shape shape(n, 1);
    for (size_t i = 0; i < n; ++i) {  // i counts from the right
        const int64_t x = i < sa.size() ? sa[sa.size() - 1 - i] : 1;
        const int64_t y = i < sb.size() ? sb[sb.size() - 1 - i] : 1;
        if (x != y && x != 1 && y != 1) throw std::logic_error("reference_binary: shapes do not broadcast");
        shape[n - 1 - i] = x == 1 ? y : x;
    }
    std::vector<float> out;
    if (count_of(shape) > 0) {
        std::vector<int64_t> index(n, 0), ia(sa.size()), ib(sb.size());
        do {
            for (size_t d = 0; d < sa.size(); ++d) ia[d] = sa[d] == 1 ? 0 : index[n - sa.size() + d];
            for (size_t d = 0; d < sb.size(); ++d) ib[d] = sb[d] == 1 ? 0 : index[n - sb.size() + d];
            out.push_back(f(element(a, ia), element(b, ib)));
        } while (next_index(index, shape));
    }
    return raw(std::move(out), shape);
}

template <class F>
Tensor reference_unary(const Tensor& x, F f) {
    std::vector<float> values = values_of(x);
    for (float& v : values) v = f(v);
    return raw(std::move(values), x.shape());
}

// True when both tensors read and write the same memory (a view and its base).
inline bool shares_storage(const Tensor& a, const Tensor& b) {
    return a.defined() && b.defined() && a.storage() != nullptr && a.storage() == b.storage();
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

// Runs `f` and returns the message of the tt::Error it throws, for Catch::Contains checks:
//     CHECK_THAT(error_message([&] { tt::matmul(a, b); }), Contains("matmul") && Contains("(2, 3)"));
// Anything else gives a text that contains no op name, so such a check fails: no exception, a
// tt::NotImplemented (an unfinished TODO must not pass an error test), or another exception type
// (an internal assert, std::out_of_range, ...), whose what() is shown as an INFO message.
template <class F>
std::string error_message(F&& f) {
    try {
        f();
    } catch (const NotImplemented& e) {
        UNSCOPED_INFO(e.what());
        return "<tt::NotImplemented: the function is still a TODO>";
    } catch (const Error& e) {
        return e.what();
    } catch (const std::exception& e) {
        UNSCOPED_INFO("what(): " << e.what());
        return "<an exception that is not a tt::Error; user mistakes must throw tt::Error (TT_CHECK)>";
    }
    return "<no exception was thrown>";
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

// Compact text of a tensor: "(2, 3) [[1, 2, 3], [4, 5, 6]]". Non-contiguous tensors also show
// their strides and offset; more than `max_per_dim` entries in a dimension are summarised "...".
inline std::string describe_tensor(const Tensor& t, int64_t max_per_dim = 8) {
    if (auto problem = layout_problem(t)) return "<unreadable tensor: " + *problem + ">";
    std::ostringstream out;
    out << std::setprecision(7);
    out << shape_text(t.shape()) << ' ';
    const std::vector<float>& data = t.storage()->data;
    std::function<void(size_t, int64_t)> print = [&](size_t dim, int64_t position) {
        if (dim == t.shape().size()) {
            out << data[static_cast<size_t>(position)];
            return;
        }
        out << '[';
        const int64_t size = t.shape()[dim];
        for (int64_t i = 0; i < size; ++i) {
            if (size > max_per_dim && i == max_per_dim / 2) {
                out << "..., ";
                i = size - max_per_dim / 2;
            }
            print(dim + 1, position + i * t.strides()[dim]);
            if (i + 1 < size) out << ", ";
        }
        out << ']';
    };
    print(0, t.offset());
    if (t.strides() != row_major_strides(t.shape()) || t.offset() != 0)
        out << " (strides " << shape_text(t.strides()) << ", offset " << t.offset() << ")";
    return out.str();
}

// ---------------------------------------------------------------------------------------------
// The tensor matcher
// ---------------------------------------------------------------------------------------------

// Matches a tensor with the same shape as `expected` whose every element satisfies
// |actual - expected| <= atol + rtol * |expected| (NaN matches NaN; an infinity matches the same
// infinity). Values are read from raw storage, so any layout of `actual` is fine.
class TensorNear : public Catch::MatcherBase<Tensor> {
public:
    TensorNear(Tensor expected, double atol, double rtol) : expected_(std::move(expected)), atol_(atol), rtol_(rtol) {}

    bool match(const Tensor& actual) const override {
        verdict_.clear();
        if (auto problem = layout_problem(actual)) {
            verdict_ = "but the result is not a readable tensor: " + *problem;
            return false;
        }
        if (actual.shape() != expected_.shape()) {
            verdict_ = "but the shape is " + shape_text(actual.shape()) + ", expected " + shape_text(expected_.shape());
            return false;
        }
        const std::vector<float> got = values_of(actual);
        const std::vector<float> want = values_of(expected_);
        int64_t wrong = 0, worst = -1;
        double worst_excess = -1.0;
        for (size_t i = 0; i < want.size(); ++i) {
            const double a = got[i], e = want[i];
            bool ok;
            double excess = 0.0;
            if (std::isnan(e) || std::isnan(a)) {
                ok = std::isnan(e) && std::isnan(a);
                excess = std::numeric_limits<double>::infinity();
            } else if (std::isinf(e) || std::isinf(a)) {
                ok = a == e;
                excess = std::numeric_limits<double>::infinity();
            } else {
                excess = std::fabs(a - e) - (atol_ + rtol_ * std::fabs(e));
                ok = excess <= 0.0;
            }
            if (!ok) {
                ++wrong;
                if (excess > worst_excess || worst < 0) {
                    worst_excess = excess;
                    worst = static_cast<int64_t>(i);
                }
            }
        }
        if (wrong == 0) return true;
        std::ostringstream out;
        out << std::setprecision(7) << "but " << wrong << " of " << want.size() << " elements differ; worst at "
            << shape_text(unravel(worst, expected_.shape())) << ": got " << got[static_cast<size_t>(worst)]
            << ", expected " << want[static_cast<size_t>(worst)];
        verdict_ = out.str();
        return false;
    }

    std::string describe() const override {
        std::ostringstream out;
        out << "\n  is close to (atol " << atol_ << ", rtol " << rtol_ << ")\n  " << describe_tensor(expected_);
        if (!verdict_.empty()) out << "\n  " << verdict_;
        return out.str();
    }

private:
    Tensor expected_;
    double atol_, rtol_;
    mutable std::string verdict_;
};

// CHECK_THAT(actual, tensor_near(expected)) with float-friendly default tolerances.
inline TensorNear tensor_near(const Tensor& expected, double atol = 1e-5, double rtol = 1e-5) {
    return TensorNear(expected, atol, rtol);
}
// Exact equality of shape and every value (for copies, views and integer-valued results).
inline TensorNear tensor_equal(const Tensor& expected) { return TensorNear(expected, 0.0, 0.0); }

// ---------------------------------------------------------------------------------------------
// Finite-difference gradient check (for graders of module 03 on, once backward() exists)
// ---------------------------------------------------------------------------------------------

struct GradientCheckOptions {
    double step = 1e-3;   // central difference (f(x + h) - f(x - h)) / 2h
    double atol = 1e-2;   // |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)
    double rtol = 1e-2;
    uint64_t seed = 1234;  // for the random weights w of the scalar loss L = sum(w * f(inputs))
    // Which inputs to check (indices into `inputs`); empty means all of them.
    std::vector<size_t> wrt = {};
};

struct GradientCheckResult {
    bool passed = false;
    std::string report;  // one line per checked input, worst element first
    explicit operator bool() const { return passed; }
};

inline std::ostream& operator<<(std::ostream& out, const GradientCheckResult& result) {
    return out << (result.passed ? "gradient check passed" : "gradient check FAILED") << '\n' << result.report;
}

// Compares the gradients that backward() computes for f with central finite differences.
//
// Each input is copied into a fresh contiguous leaf with requires_grad. The loss is
// L = sum(w * f(inputs)) for fixed random weights w (so every output element matters and
// symmetric mistakes do not cancel); the analytic gradient comes from f(inputs).backward(w) and
// the numeric one from evaluating f under NoGradGuard with one element nudged by +-step, summing
// w * f in double with a plain loop. Nothing but f and backward() is under test.
inline GradientCheckResult gradient_check(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                          const std::vector<Tensor>& inputs, GradientCheckOptions options = {}) {
    GradientCheckResult result;
    std::ostringstream report;
    report << std::setprecision(6);
    std::vector<size_t> wrt = options.wrt;
    if (wrt.empty())
        for (size_t i = 0; i < inputs.size(); ++i) wrt.push_back(i);

    std::vector<Tensor> leaves;
    for (size_t i = 0; i < inputs.size(); ++i) {
        leaves.push_back(raw_copy(inputs[i]));
        if (std::find(wrt.begin(), wrt.end(), i) != wrt.end()) leaves.back().requires_grad_(true);
    }

    Tensor out = f(leaves);
    if (auto problem = layout_problem(out)) {
        result.report = "f(inputs) is not a readable tensor: " + *problem;
        return result;
    }
    const Tensor weights = random_values(out.shape(), options.seed, -1.0f, 1.0f);
    const std::vector<float> w = values_of(weights);
    auto loss_of = [&]() {
        NoGradGuard no_grad;
        const std::vector<float> y = values_of(f(leaves));
        if (y.size() != w.size()) throw std::logic_error("gradient_check: f changed its output size");
        double total = 0.0;
        for (size_t i = 0; i < y.size(); ++i) total += static_cast<double>(w[i]) * y[i];
        return total;
    };

    if (!out.requires_grad()) {
        result.report = "f(inputs) does not require grad (no grad_fn was recorded), so backward() cannot reach the inputs";
        return result;
    }
    out.backward(weights);

    bool all_ok = true;
    for (size_t i : wrt) {
        Tensor& x = leaves[i];
        const Tensor grad = x.grad();
        report << "input " << i << " " << shape_text(x.shape()) << ": ";
        if (!grad.defined()) {
            report << "received no gradient (grad() is undefined after backward)\n";
            all_ok = false;
            continue;
        }
        if (auto problem = layout_problem(grad)) {
            report << "its gradient is not a readable tensor: " << *problem << '\n';
            all_ok = false;
            continue;
        }
        if (grad.shape() != x.shape()) {
            report << "gradient has shape " << shape_text(grad.shape()) << '\n';
            all_ok = false;
            continue;
        }
        const std::vector<float> analytic = values_of(grad);
        std::vector<float>& data = x.storage()->data;  // contiguous, offset 0: flat index = position
        int64_t wrong = 0, worst = -1;
        double worst_excess = 0.0, worst_numeric = 0.0;
        for (size_t j = 0; j < data.size(); ++j) {
            const float original = data[j];
            const float up = static_cast<float>(original + options.step);
            const float down = static_cast<float>(original - options.step);
            data[j] = up;
            const double plus = loss_of();
            data[j] = down;
            const double minus = loss_of();
            data[j] = original;
            // Divide by the step float rounding actually made, not the nominal 2 * step.
            const double numeric = (plus - minus) / (static_cast<double>(up) - static_cast<double>(down));
            const double a = analytic[j];
            const double excess = std::fabs(a - numeric) - (options.atol + options.rtol * std::max(std::fabs(a), std::fabs(numeric)));
            const bool ok = !std::isnan(a) && !std::isnan(numeric) && excess <= 0.0;
            if (!ok) ++wrong;
            if (worst < 0 || excess > worst_excess || (!ok && std::isnan(a))) {
                worst = static_cast<int64_t>(j);
                worst_excess = excess;
                worst_numeric = numeric;
            }
        }
        if (worst < 0) {
            report << "no elements\n";
            continue;
        }
        report << (wrong ? std::to_string(wrong) + " of " + std::to_string(data.size()) + " gradient elements wrong; worst"
                         : std::string("ok; closest call"))
               << " at " << shape_text(unravel(worst, x.shape())) << ": backward gives " << analytic[static_cast<size_t>(worst)]
               << ", finite differences give " << worst_numeric << '\n';
        all_ok = all_ok && wrong == 0;
    }
    result.passed = all_ok;
    result.report = report.str();
    return result;
}

}  // namespace tt::testing

// Catch prints a tt::Tensor in assertions through this (shape, values, layout; never reads
// outside the storage). Include grading.h in every test file that compares tensors.
namespace Catch {
template <>
struct StringMaker<tt::Tensor> {
    static std::string convert(const tt::Tensor& t) { return "tensor " + tt::testing::describe_tensor(t); }
};
template <>
struct StringMaker<tt::testing::GradientCheckResult> {
    static std::string convert(const tt::testing::GradientCheckResult& r) {
        std::ostringstream out;
        out << r;
        return out.str();
    }
};
}  // namespace Catch
