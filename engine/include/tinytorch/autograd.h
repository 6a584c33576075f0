// autograd.h - the computation graph and its backward nodes.
//
// Every differentiable op ends with one line that connects its output to the graph:
//
//     Tensor exp(const Tensor& x) {
//         Tensor out = ...;                                  // the forward computation
//         return record<ExpBackward>(out, {x}, out.detach());
//     }
//
// When grad mode is on and some input requires grad, record() creates the op's backward node,
// remembers the inputs in node->inputs, and sets out.grad_fn = node. Otherwise it costs one
// branch and the op runs exactly as it did before module 06. That is the "backward design" of the
// course: modules 02-05 write the forward ops with that last line already in place, and module 06
// writes what each node's backward() does, plus Tensor::backward() that walks the graph.
//
//     x (leaf, requires_grad) --exp--> y --sum--> loss
//     y.grad_fn   = ExpBackward{inputs = {x}, out = y (detached)}
//     loss.grad_fn = SumBackward{inputs = {y}, input_shape = y.shape()}
//
// loss.backward() visits the tensors in reverse topological order; for each one with a grad_fn it
// calls grad_fn->apply(that tensor's grad), which runs grad_fn->backward(grad): it *adds* the
// chain-rule gradient into the .grad of each input (accumulate_grad). A tensor used twice receives
// two contributions.
//
// Nodes never hold their own output as a normal handle (that would make a reference cycle
// out -> grad_fn -> out and leak the graph), only `out.detach()`: same memory, no grad_fn.
//
// Saved tensors are shared, not copied, so an in-place write between the forward and the backward
// would silently change the gradient:
//
//     Tensor y = x * w;       // MulBackward keeps w to compute dx = g * w
//     w.mul_(2);              // (under NoGradGuard) w changes in place...
//     y.sum().backward();     // ...so dx would be computed with the new w: wrong
//
// Every storage counts its in-place writes (Storage::version); record() writes down the version of
// everything the node's backward will read, and apply() refuses to run when one has changed, with
// an error naming the node, the tensor, its shape and both versions (PyTorch does the same).
// apply() also refuses to run a node that saved tensors twice, unless the first backward() was
// called with retain_graph = true.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/activations.h"
#include "tinytorch/losses.h"
#include "tinytorch/tensor.h"

namespace tt {

// ---------------------------------------------------------------------------------------------
// Grad mode [given]: a per-thread switch; record() does nothing while it is off.
// ---------------------------------------------------------------------------------------------

bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// Turns grad mode off for its scope (evaluation, optimizer updates, gradient checks):
//     { tt::NoGradGuard no_grad; y = model.forward(x); }   // y has no grad_fn
class NoGradGuard {
public:
    NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
    ~NoGradGuard() { set_grad_enabled(previous_); }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

// ---------------------------------------------------------------------------------------------
// The graph
// ---------------------------------------------------------------------------------------------

// Which inputs' *values* a node's backward reads (every node may look at requires_grad()). record()
// remembers the versions of exactly those, plus those of the tensors passed to the node's
// constructor (ExpBackward's `out`, MaxBackward's `indices`), so an in-place write into anything
// else (the input of an add, a view's base) is no error, as in PyTorch. When in doubt a node says
// `all`: the check may then refuse a write PyTorch would allow (div, pow), never miss one its
// backward depends on.
enum class SavedInputs {
    none,    // the formula needs only g: add, sub, neg, sum, mean, the views, clone
    all,     // every input: dx = g / x (log), g * (x > 0) (relu), ... The default for a new node.
    others,  // input i only when another input requires grad: mul, matmul (da needs b, db needs a)
};

// [given] One tensor a node's backward reads, and its storage's version when record() saw it.
struct SavedVersion {
    std::shared_ptr<Storage> storage;
    Shape shape;
    int64_t version = 0;
    int input = -1;  // its index in node->inputs, or -1 for a tensor passed to the node's constructor
};

class Node {
public:
    // [given] Frees the graph behind this node iteratively: a chain of thousands of ops would
    // otherwise be destroyed by recursion (node -> input -> its node -> ...) and overflow the stack.
    virtual ~Node();
    // "AddBackward", ... as PyTorch names them; shown when a tensor is printed.
    virtual const char* name() const = 0;
    // (06) grad_out = d(loss)/d(output), the output's shape. Adds d(loss)/d(input) into every
    // input that requires grad, through accumulate_grad(). Runs with grad mode off.
    virtual void backward(const Tensor& grad_out) = 0;
    // Which inputs backward() reads (see SavedInputs). Each node type below states its own.
    static constexpr SavedInputs saved_inputs = SavedInputs::all;

    // [given] What Tensor::backward calls for each node, instead of backward() directly:
    //   1. a node that saved tensors and already ran in a backward() without retain_graph refuses
    //      ("trying to backward through the graph a second time"); nodes that saved none may rerun;
    //   2. every saved tensor must still be at the version record() saw, else a tt::Error names
    //      the node, which tensor, its shape and both versions;
    //   3. runs backward(grad_out); without retain_graph the node is then marked as used.
    void apply(const Tensor& grad_out, bool retain_graph = false);
    // [given] True once apply() has run without retain_graph.
    bool released() const { return released_; }

    std::vector<Tensor> inputs;               // the op's tensor arguments, in order
    std::vector<SavedVersion> saved_versions;  // [given] filled by record()

private:
    bool released_ = false;
};

// (06) input.grad += sum_to_shape(grad, input.shape()) when input requires grad; does nothing
// otherwise. The first contribution allocates .grad.
void accumulate_grad(const Tensor& input, const Tensor& grad);

// (06) Undoes broadcasting for a gradient: sums `grad` over the dimensions that broadcasting
// added or stretched, so the result has `shape`.
//     grad (4, 2, 3), shape (2, 1)  -> sum over dim 0 (added) and dim 2 (stretched) -> (2, 1)
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);

namespace detail {
// [given] The version of `t` now, to be checked by Node::apply.
inline SavedVersion version_of(const Tensor& t, int input) { return {t.storage(), t.shape(), t.version(), input}; }
// [given] Adds the version of a constructor argument of a node when it is a (defined) Tensor.
template <class T>
void remember_if_tensor(std::vector<SavedVersion>& versions, const T& value) {
    if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) {
        if (value.defined()) versions.push_back(version_of(value, -1));
    }
}
}  // namespace detail

// [given] Connects `out` to the graph (see the top of this file). `saved` are passed to the
// node's constructor. The output must be a new tensor, not one of the inputs. Remembers the
// versions of what the node's backward reads: its inputs as NodeT::saved_inputs says, and every
// Tensor among `saved`.
template <class NodeT, class... Saved>
Tensor record(Tensor out, std::initializer_list<Tensor> inputs, Saved&&... saved) {
    if (!is_grad_enabled()) return out;
    bool needs_grad = false;
    for (const Tensor& input : inputs) {
        TT_ASSERT(!input.defined() || !input.is_same(out), "record: an op returned its input");
        needs_grad = needs_grad || (input.defined() && input.requires_grad());
    }
    if (!needs_grad) return out;
    std::vector<SavedVersion> versions;
    (detail::remember_if_tensor(versions, saved), ...);  // before the arguments are moved
    auto node = std::make_shared<NodeT>(std::forward<Saved>(saved)...);
    node->inputs.assign(inputs.begin(), inputs.end());
    const std::vector<Tensor>& in = node->inputs;
    for (size_t i = 0; i < in.size(); ++i) {
        bool reads = NodeT::saved_inputs == SavedInputs::all;
        for (size_t j = 0; j < in.size() && NodeT::saved_inputs == SavedInputs::others; ++j)
            reads = reads || (j != i && in[j].defined() && in[j].requires_grad());
        if (reads && in[i].defined()) versions.push_back(detail::version_of(in[i], static_cast<int>(i)));
    }
    node->saved_versions = std::move(versions);
    out.set_grad_fn(std::move(node));
    return out;
}

// ---------------------------------------------------------------------------------------------
// Backward nodes of the module 02 ops. Forward: engine/src/02_tensor/. Backward (the formula in
// each comment): engine/src/06_autograd/. g is grad_out; a, b, x are inputs[0], inputs[1].
// ---------------------------------------------------------------------------------------------

// out = a + b        da += g,  db += g             (each reduced to its input's shape)
struct AddBackward : Node {
    const char* name() const override { return "AddBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
};

// out = a - b        da += g,  db += -g
struct SubBackward : Node {
    const char* name() const override { return "SubBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
};

// out = a * b        da += g * b,  db += g * a      (reads b only when a requires grad, and a only
//                                                  when b does)
struct MulBackward : Node {
    const char* name() const override { return "MulBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::others;
    void backward(const Tensor& grad_out) override;
};

// out = a / b        da += g / b,  db += -g * a / b^2
struct DivBackward : Node {
    const char* name() const override { return "DivBackward"; }
    void backward(const Tensor& grad_out) override;
};

// out = -x           dx += -g
struct NegBackward : Node {
    const char* name() const override { return "NegBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
};

// out = x^p (p a number)        dx += g * p * x^(p-1)
struct PowBackward : Node {
    explicit PowBackward(float exponent) : exponent(exponent) {}
    const char* name() const override { return "PowBackward"; }
    void backward(const Tensor& grad_out) override;
    float exponent;
};

// out = a^b (b a tensor)        da += g * b * a^(b-1),  db += g * out * ln(a)
//                               (da = 0 where b = 0, db = 0 where a = 0 and b >= 0, as PyTorch)
struct PowTensorBackward : Node {
    explicit PowTensorBackward(Tensor out) : out(std::move(out)) {}
    const char* name() const override { return "PowTensorBackward"; }
    void backward(const Tensor& grad_out) override;
    Tensor out;  // detached
};

// out = e^x          dx += g * out
struct ExpBackward : Node {
    explicit ExpBackward(Tensor out) : out(std::move(out)) {}
    const char* name() const override { return "ExpBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Tensor out;  // detached
};

// out = ln x         dx += g / x
struct LogBackward : Node {
    const char* name() const override { return "LogBackward"; }
    void backward(const Tensor& grad_out) override;
};

// out = sqrt(x)      dx += g / (2 * out)
struct SqrtBackward : Node {
    explicit SqrtBackward(Tensor out) : out(std::move(out)) {}
    const char* name() const override { return "SqrtBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Tensor out;  // detached
};

// out = sum(x) or sum(x, dim, keepdim)     dx += g, broadcast back over the summed elements
struct SumBackward : Node {
    SumBackward(Shape input_shape, std::optional<int64_t> dim, bool keepdim)
        : input_shape(std::move(input_shape)), dim(dim), keepdim(keepdim) {}
    const char* name() const override { return "SumBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
    std::optional<int64_t> dim;  // empty: summed over everything; else already wrapped (>= 0)
    bool keepdim;
};

// out = mean(x) or mean(x, dim, keepdim)   dx += g / n, broadcast back (n = elements averaged)
struct MeanBackward : Node {
    MeanBackward(Shape input_shape, std::optional<int64_t> dim, bool keepdim)
        : input_shape(std::move(input_shape)), dim(dim), keepdim(keepdim) {}
    const char* name() const override { return "MeanBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
    std::optional<int64_t> dim;
    bool keepdim;
};

// out = max(x, dim, keepdim)   dx += g at the position argmax(x, dim) only (the first maximum)
// out = max(x)                 dx += g / k at each of the k elements equal to the maximum (k = 1
//                              without ties; all the NaNs when the maximum is NaN), as in PyTorch
struct MaxBackward : Node {
    MaxBackward(Shape input_shape, std::optional<int64_t> dim, bool keepdim, Tensor indices, Tensor input)
        : input_shape(std::move(input_shape)), dim(dim), keepdim(keepdim), indices(std::move(indices)),
          input(std::move(input)) {}
    const char* name() const override { return "MaxBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
    std::optional<int64_t> dim;
    bool keepdim;
    Tensor indices;  // argmax(x) or argmax(x, dim, keepdim), as floats
    Tensor input;    // x.detach() for max(x), to find the ties; undefined for max(x, dim)
};

// out = a @ b        da += g @ b^T,  db += a^T @ g  (batch dimensions reduced to each input's)
struct MatmulBackward : Node {
    const char* name() const override { return "MatmulBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::others;
    void backward(const Tensor& grad_out) override;
};

// out = x.view / reshape / flatten / squeeze / unsqueeze      dx += g.reshape(input_shape)
struct ReshapeBackward : Node {
    explicit ReshapeBackward(Shape input_shape) : input_shape(std::move(input_shape)) {}
    const char* name() const override { return "ReshapeBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
};

// out = x.permute(dims) / transpose        dx += g.permute(inverse of dims)
struct PermuteBackward : Node {
    explicit PermuteBackward(std::vector<int64_t> dims) : dims(std::move(dims)) {}
    const char* name() const override { return "PermuteBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    std::vector<int64_t> dims;  // wrapped (>= 0)
};

// out = x.slice(dim, start, end, step)     dx[.., start:end:step, ..] += g, zero elsewhere
struct SliceBackward : Node {
    SliceBackward(Shape input_shape, int64_t dim, int64_t start, int64_t end, int64_t step)
        : input_shape(std::move(input_shape)), dim(dim), start(start), end(end), step(step) {}
    const char* name() const override { return "SliceBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
    int64_t dim, start, end, step;  // wrapped and clamped: 0 <= start <= end <= size
};

// out = x.select(dim, index)               dx[.., index, ..] += g, zero elsewhere
struct SelectBackward : Node {
    SelectBackward(Shape input_shape, int64_t dim, int64_t index)
        : input_shape(std::move(input_shape)), dim(dim), index(index) {}
    const char* name() const override { return "SelectBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
    int64_t dim, index;  // wrapped (>= 0)
};

// out = x.expand(shape)                    dx += sum_to_shape(g, input_shape)
struct ExpandBackward : Node {
    explicit ExpandBackward(Shape input_shape) : input_shape(std::move(input_shape)) {}
    const char* name() const override { return "ExpandBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Shape input_shape;
};

// out = x.clone() / x.contiguous() (when it copies)      dx += g
struct CloneBackward : Node {
    const char* name() const override { return "CloneBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
};

// ---------------------------------------------------------------------------------------------
// Backward nodes of the module 03 activations. Forward: engine/src/03_activations/.
// Backward: engine/src/06_autograd/nodes_activations.cpp. g is grad_out, x is inputs[0].
// ---------------------------------------------------------------------------------------------

// out = relu(x)                dx += g where x > 0, 0 where x <= 0 (PyTorch's mask is out <= 0, so a
//                              NaN input, whose output is NaN, passes g through)
struct ReluBackward : Node {
    const char* name() const override { return "ReluBackward"; }
    void backward(const Tensor& grad_out) override;
};

// out = leaky_relu(x, s)       dx += g * (x > 0 ? 1 : s)
struct LeakyReluBackward : Node {
    explicit LeakyReluBackward(float negative_slope) : negative_slope(negative_slope) {}
    const char* name() const override { return "LeakyReluBackward"; }
    void backward(const Tensor& grad_out) override;
    float negative_slope;
};

// out = sigmoid(x)             dx += g * out * (1 - out)
struct SigmoidBackward : Node {
    explicit SigmoidBackward(Tensor out) : out(std::move(out)) {}
    const char* name() const override { return "SigmoidBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Tensor out;  // detached
};

// out = tanh(x)                dx += g * (1 - out^2)
struct TanhBackward : Node {
    explicit TanhBackward(Tensor out) : out(std::move(out)) {}
    const char* name() const override { return "TanhBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Tensor out;  // detached
};

// out = gelu(x)                dx += g * gelu'(x)
//   exact: gelu'(x) = Phi(x) + x phi(x)  (Phi, phi: the standard normal's CDF and density)
//   tanh:  the derivative of the tanh approximation itself, so gradients match its forward
struct GeluBackward : Node {
    explicit GeluBackward(GeluApproximation approximate) : approximate(approximate) {}
    const char* name() const override { return "GeluBackward"; }
    void backward(const Tensor& grad_out) override;
    GeluApproximation approximate;
};

// out = softmax(x, dim)        dx += out * (g - sum(g * out, dim, keepdim))
struct SoftmaxBackward : Node {
    SoftmaxBackward(Tensor out, int64_t dim) : out(std::move(out)), dim(dim) {}
    const char* name() const override { return "SoftmaxBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Tensor out;   // detached
    int64_t dim;  // wrapped (>= 0)
};

// out = log_softmax(x, dim)    dx += g - exp(out) * sum(g, dim, keepdim)
struct LogSoftmaxBackward : Node {
    LogSoftmaxBackward(Tensor out, int64_t dim) : out(std::move(out)), dim(dim) {}
    const char* name() const override { return "LogSoftmaxBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Tensor out;   // detached
    int64_t dim;  // wrapped (>= 0)
};

// ---------------------------------------------------------------------------------------------
// Backward nodes of the module 05 losses (mse_loss is built from module-02 ops and needs none).
// Forward: engine/src/05_losses/. Backward: engine/src/06_autograd/nodes_losses.cpp.
// Targets are data: they never receive a gradient. g is () for mean/sum, per-example for none.
// ---------------------------------------------------------------------------------------------

// out = cross_entropy(logits (N, C), targets (N,))
//     dlogits += (probabilities - q) * g   (divided by N for mean), q the (smoothed) one-hot target
struct CrossEntropyBackward : Node {
    CrossEntropyBackward(Tensor probabilities, Tensor targets, Reduction reduction, float label_smoothing)
        : probabilities(std::move(probabilities)), targets(std::move(targets)), reduction(reduction),
          label_smoothing(label_smoothing) {}
    const char* name() const override { return "CrossEntropyBackward"; }
    static constexpr SavedInputs saved_inputs = SavedInputs::none;
    void backward(const Tensor& grad_out) override;
    Tensor probabilities;  // softmax(logits), (N, C), detached
    Tensor targets;        // (N,)
    Reduction reduction;
    float label_smoothing;
};

// out = binary_cross_entropy(p, y)          dp += g * (p - y) / max(p (1 - p), 1e-12)  (/ n for mean)
struct BCEBackward : Node {
    explicit BCEBackward(Reduction reduction) : reduction(reduction) {}
    const char* name() const override { return "BCEBackward"; }
    void backward(const Tensor& grad_out) override;
    Reduction reduction;
};

// out = binary_cross_entropy_with_logits(x, y)     dx += g * (sigmoid(x) - y)  (/ n for mean)
struct BCEWithLogitsBackward : Node {
    explicit BCEWithLogitsBackward(Reduction reduction) : reduction(reduction) {}
    const char* name() const override { return "BCEWithLogitsBackward"; }
    void backward(const Tensor& grad_out) override;
    Reduction reduction;
};

}  // namespace tt
