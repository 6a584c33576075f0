// layers.cpp - module 04: Module (the tree every model is), initialisers, and the first layers.
//
// A model is a tree of modules. Each node owns a few parameters and a few children:
//
//     Sequential                      named_parameters():
//       (0): Linear(2 -> 4)   -->       "0.weight" (4, 2)   "0.bias" (4)
//       (1): Tanh                       (none)
//       (2): Linear(4 -> 1)             "2.weight" (1, 4)   "2.bias" (1)
//
// Almost everything in the Module half of this file is a walk over that tree: collect the
// parameters (for the optimizer, module 08), flip training mode (for Dropout now, BatchNorm in 09),
// clear gradients, print it. The layers themselves are short because they are built from module 02
// ops: Linear is one matmul and one broadcast add, Dropout one comparison and one multiply. Every
// op records its backward node, so no layer here needs a backward of its own: autograd (module 06)
// differentiates through them for free.
//
// Parameters are Tensor handles: `linear.weight`, the entry in named_parameters() and the tensor an
// optimizer updates are all the same memory. Writing to one writes to all.
#include <cmath>
#include <sstream>
#include <unordered_set>

#include "tinytorch/autograd.h"
#include "tinytorch/layers.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt {

// ---------------------------------------------------------------------------------------------
// Module: walks over the tree of modules
// ---------------------------------------------------------------------------------------------

// Own parameters first, in registration order, then each child's, with "child_name." in front:
//     Sequential{Linear, Sequential{Linear}} -> "0.weight", "0.bias", "1.0.weight", "1.0.bias"
// The names are the keys of a checkpoint, so they must be stable: same model, same names, same order.
std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
    std::vector<std::pair<std::string, Tensor>> all;
    //! BEGIN SOLUTION
    //! HINT: start with parameters_ (this module's own); then, for each (child_name, child) in children_, append the entries of child->named_parameters() with child_name + "." in front of each name.
    //! HINT: the recursion does the nesting for you: a grandchild's name already reads "0.weight" when its parent sees it, and becomes "1.0.weight".
    //! HINT: one tensor can be registered twice (weight tying, module 14: the same handle in two layers). List it once, under its first name, or the optimizer would update it twice: compare identity (t.is_same(other), or remember &t.impl()), not values.
    std::vector<std::pair<std::string, Tensor>> candidates = parameters_;
    for (const auto& [child_name, child] : children_)
        for (const auto& [name, tensor] : child->named_parameters()) candidates.emplace_back(child_name + "." + name, tensor);

    std::unordered_set<const TensorImpl*> seen;  // identity, not value: two zero tensors are different parameters
    for (auto& entry : candidates)
        if (seen.insert(&entry.second.impl()).second) all.push_back(std::move(entry));
    //! END SOLUTION
    return all;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> tensors;
    for (const auto& [name, tensor] : named_parameters()) tensors.push_back(tensor);
    return tensors;
}

// What a model costs in memory, before any activation is stored: every parameter is a float32
// (4 bytes); training keeps a gradient of the same size (4 more); Adam (module 08) adds two moment
// estimates (8 more). So 16 bytes per parameter to train with Adam:
//     GPT-2 small: 124M parameters -> 0.5 GB of weights, 2 GB of training state.
int64_t Module::parameter_count() const {
    int64_t count = 0;
    //! BEGIN SOLUTION
    //! HINT: sum numel() over parameters(); it already includes every descendant's (and the biases).
    for (const Tensor& tensor : parameters()) count += tensor.numel();
    //! END SOLUTION
    return count;
}

// model.eval() must reach the Dropout buried three levels down, or evaluation would silently drop
// activations: the flag is set on every descendant, not just on this module.
void Module::train(bool on) {
    //! BEGIN SOLUTION
    //! HINT: set training_ here, then call train(on) on every child; each child passes it on to its own children.
    training_ = on;
    for (const auto& [name, child] : children_) child->train(on);
    //! END SOLUTION
}

// Gradients accumulate (module 06 adds into .grad), so a training loop clears them before each
// backward(). Clearing means *undefined*, not zero-filled, as PyTorch does by default: no memory is
// held between steps, and the next backward() allocates each gradient on its first contribution.
void Module::zero_grad() {
    //! BEGIN SOLUTION
    //! HINT: every parameter, the descendants' included: parameters(). Tensor::zero_grad() makes .grad undefined.
    for (Tensor parameter : parameters()) parameter.zero_grad();  // a copy of the handle: same tensor
    //! END SOLUTION
}

// PyTorch's layout: a module without children on one line, "Linear(in_features=2, ...)"; a module
// with children opens a parenthesis, lists "(name): child" indented by two spaces, and closes it on
// a line of its own. A child's own lines get two more spaces, so nesting shows as indentation:
//     Sequential(
//       (0): Sequential(
//         (0): Linear(in_features=2, out_features=4, bias=true)
//       )
//       (1): Tanh()
//     )
// No newline after the final ")", so the text can be embedded like any other string.
std::string Module::to_string() const {
    //! BEGIN SOLUTION
    //! HINT: without children: name() + "(" + extra_repr() + ")".
    //! HINT: with children: name() + "(\n", then a line "  (" + child_name + "): " + child->to_string() for each (an extra_repr(), if any, on its own line first), then ")".
    //! HINT: the child's text may span several lines: put two spaces after every '\n' inside it.
    if (children_.empty()) return name() + "(" + extra_repr() + ")";
    auto indent = [](const std::string& text) {
        std::string out;
        for (char c : text) {
            out += c;
            if (c == '\n') out += "  ";
        }
        return out;
    };
    std::string text = name() + "(\n";
    if (!extra_repr().empty()) text += "  " + extra_repr() + "\n";
    for (const auto& [child_name, child] : children_) text += "  (" + child_name + "): " + indent(child->to_string()) + "\n";
    return text + ")";
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Initialisers
//
// Why initialisation matters: a layer computes y_j = sum_i W[j, i] x_i, a sum of fan_in terms. With
// independent zero-mean weights,
//
//     Var(y_j) = fan_in * Var(W) * E[x^2]
//
// so the scale of the signal is multiplied by fan_in * Var(W) at every layer. Ten layers with
// fan_in * Var(W) = 2 multiply it by 2^10 = 1024; with 0.5, divide it by 1024. Either way, deep
// networks stop learning (activations and gradients explode or vanish). The cure is to choose
// Var(W) = gain^2 / fan_in, which keeps the scale steady. A uniform U(-b, b) has variance b^2 / 3,
// hence Kaiming's bound b = gain * sqrt(3 / fan_in). The gain undoes what the nonlinearity removes:
// ReLU zeroes half of its inputs, halving E[x^2], so ReLU nets use gain = sqrt(2) (He et al., 2015).
// PyTorch's Linear default, a = sqrt(5), gives gain = sqrt(1/3) and b = 1/sqrt(fan_in): a smaller,
// historical choice that trains well in practice.
//
// Xavier (Glorot & Bengio, 2010) keeps the backward pass steady too: the gradient flowing back is a
// sum over fan_out terms, so it uses the compromise Var(W) = gain^2 * 2 / (fan_in + fan_out).
//
// All of them write into an existing parameter in place. A parameter requires grad, and in-place
// writes to such a tensor are refused while grad mode is on (the graph would not see them): so
// each initialiser runs under NoGradGuard, exactly like an optimizer step.
// ---------------------------------------------------------------------------------------------

namespace init {

//! BEGIN SOLUTION
//! HINT: a small helper that returns fan_in and fan_out of a weight saves writing it three times.
//! HINT: for a Linear weight (out, in): fan_in = size(1), fan_out = size(0). A Conv2d weight (module 09) is (out, in, kH, kW): each output sums in * kH * kW inputs, so multiply both by the product of the sizes after the first two.
//! HINT: a tensor with fewer than 2 dimensions has no fan_in/fan_out: throw a tt::Error naming the initialiser and the shape.
namespace {
struct Fans {
    int64_t in, out;
};

// Weight (out, in, k...) -> fan_in = in * prod(k), fan_out = out * prod(k).
Fans fans_of(const Tensor& weight, const char* op) {
    TT_CHECK(weight.dim() >= 2, op, ": a tensor of shape ", shape_str(weight.shape()),
             " has no fan_in/fan_out; it needs at least 2 dimensions (out_features, in_features, ...). "
             "Initialise a bias with uniform_ or zeros_");
    int64_t receptive_field = 1;  // kH * kW for a convolution, 1 for a Linear weight
    for (int64_t d = 2; d < weight.dim(); ++d) receptive_field *= weight.size(d);
    return {weight.size(1) * receptive_field, weight.size(0) * receptive_field};
}
}  // namespace
//! END SOLUTION

void uniform_(Tensor& t, float low, float high, Generator* gen) {
    //! BEGIN SOLUTION init::uniform_
    //! HINT: tt::rand(t.shape(), gen) is U(0, 1) drawn from gen (the default generator when gen is null); scale and shift it to [low, high).
    //! HINT: write the values with t.copy_(...) inside a tt::NoGradGuard scope: copy_ writes through any layout, and the guard allows writing into a parameter.
    TT_CHECK(low <= high, "uniform_: low ", low, " is greater than high ", high, "; pass them in order (low, high)");
    NoGradGuard no_grad;
    t.copy_(rand(t.shape(), gen) * (high - low) + low);
    //! END SOLUTION
}

void zeros_(Tensor& t) {
    //! BEGIN SOLUTION init::zeros_
    NoGradGuard no_grad;
    t.zero_();
    //! END SOLUTION
}

void kaiming_uniform_(Tensor& weight, Generator* gen, float a) {
    //! BEGIN SOLUTION init::kaiming_uniform_
    //! HINT: gain = sqrt(2 / (1 + a^2)), bound = gain * sqrt(3 / fan_in); then uniform_(weight, -bound, bound, gen).
    const Fans fans = fans_of(weight, "kaiming_uniform_");
    const float gain = std::sqrt(2.0f / (1.0f + a * a));
    const float bound = gain * std::sqrt(3.0f / static_cast<float>(fans.in));
    uniform_(weight, -bound, bound, gen);
    //! END SOLUTION
}

void xavier_uniform_(Tensor& weight, Generator* gen, float gain) {
    //! BEGIN SOLUTION init::xavier_uniform_
    const Fans fans = fans_of(weight, "xavier_uniform_");
    const float bound = gain * std::sqrt(6.0f / static_cast<float>(fans.in + fans.out));
    uniform_(weight, -bound, bound, gen);
    //! END SOLUTION
}

void xavier_normal_(Tensor& weight, Generator* gen, float gain) {
    //! BEGIN SOLUTION init::xavier_normal_
    //! HINT: tt::randn(shape, gen) is N(0, 1); multiplying by std gives N(0, std^2).
    const Fans fans = fans_of(weight, "xavier_normal_");
    const float standard_deviation = gain * std::sqrt(2.0f / static_cast<float>(fans.in + fans.out));
    NoGradGuard no_grad;
    weight.copy_(randn(weight.shape(), gen) * standard_deviation);
    //! END SOLUTION
}

}  // namespace init

// ---------------------------------------------------------------------------------------------
// Linear: y = x @ W^T + b
//
// Why W is (out, in) and not (in, out): row j of W holds every weight of output j, contiguous in
// memory, and y_j = W[j, :] . x is one dot product of two contiguous rows. PyTorch (and so every
// checkpoint you may want to load) uses this layout. The price is the transpose in the forward
// pass: weight.t() is a free view, and matmul makes it contiguous with one copy of W, cheap next to
// the 2 * N * in * out FLOPs of the product itself once the batch N is more than a few rows.
// ---------------------------------------------------------------------------------------------

Linear::Linear(const LinearOptions& options, Generator* gen) : options(options) { reset(gen); }

// Creates weight (out, in) and bias (out,) and draws their initial values, weight first, then bias,
// from one generator: a seed reproduces both. Called again, it replaces both tensors with new ones
// (after options changed, say); an optimizer built earlier still holds the old ones, so build it after.
void Linear::reset(Generator* gen) {
    //! BEGIN SOLUTION
    //! HINT: check in_features and out_features are positive with TT_CHECK (the message names Linear and both values).
    //! HINT: clear parameters_ first (reset may run twice, and register_parameter refuses a name it already has).
    //! HINT: weight = register_parameter("weight", w) for a new (out, in) tensor w, initialised as options.init says; the same for "bias" (out,) when options.bias, with bound 1/sqrt(in_features). Without a bias, leave `bias` undefined: Tensor().
    const int64_t in = options.in_features, out = options.out_features;
    TT_CHECK(in > 0 && out > 0, "Linear: in_features and out_features must be positive, got in_features=", in,
             ", out_features=", out);
    parameters_.clear();  // weight and bias are Linear's only parameters

    Tensor w = empty({out, in});
    switch (options.init) {
        case Init::kaiming_uniform: init::kaiming_uniform_(w, gen); break;
        case Init::xavier_uniform: init::xavier_uniform_(w, gen); break;
        case Init::xavier_normal: init::xavier_normal_(w, gen); break;
    }
    weight = register_parameter("weight", w);

    bias = Tensor();
    if (options.bias) {
        // PyTorch's choice: the bound of the default weight, whatever options.init says, so a fresh
        // layer's outputs start small and centred on zero.
        const float bound = 1.0f / std::sqrt(static_cast<float>(in));
        Tensor b = empty({out});
        init::uniform_(b, -bound, bound, gen);
        bias = register_parameter("bias", b);
    }
    //! END SOLUTION
}

// x: (in,) -> (out,);  (N, in) -> (N, out);  (..., in) -> (..., out), every leading dim kept.
Tensor Linear::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    //! HINT: first check the last dim of x is in_features; the error names the layer (name() + "(" + extra_repr() + ")"), the input's shape, its feature count and the expected one.
    //! HINT: matmul(x, weight.t()) handles (N, in) and (..., in), since matmul broadcasts batch dims; it needs x to have 2 dims, so a 1-D x goes in as x.unsqueeze(0) and comes out with squeeze(0).
    //! HINT: + bias broadcasts (out,) over every row. Build y from tensor ops only: they record the graph, so autograd reaches weight, bias and x.
    TT_CHECK(x.dim() >= 1, name(), "(", extra_repr(), "): input of shape ", shape_str(x.shape()),
             " has no feature dimension; pass (", options.in_features, ",) or (N, ", options.in_features, ")");
    TT_CHECK(x.size(-1) == options.in_features, name(), "(", extra_repr(), "): input of shape ", shape_str(x.shape()), " has ",
             x.size(-1), " features, expected ", options.in_features, " (the last dimension holds the features)");
    const bool single = x.dim() == 1;                  // one example: treat it as a batch of one
    const Tensor batch = single ? x.unsqueeze(0) : x;  // (..., in)
    Tensor y = matmul(batch, weight.t());              // (..., in) @ (in, out) -> (..., out)
    if (bias.defined()) y = y + bias;                  // (..., out) + (out,): the same bias for every row
    return single ? y.squeeze(0) : y;
    //! END SOLUTION
}

std::string Linear::extra_repr() const {
    //! BEGIN SOLUTION
    return "in_features=" + std::to_string(options.in_features) + ", out_features=" + std::to_string(options.out_features) +
           ", bias=" + (options.bias ? "true" : "false");
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Sequential: out = m_k(...m_1(m_0(x)))
// ---------------------------------------------------------------------------------------------

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
    for (const std::shared_ptr<Module>& module : modules) push_back(module);
}

// The name is the position ("0", "1", ...), which is what makes "2.weight" in named_parameters()
// and "(2): Linear(...)" in to_string() point at the same layer.
void Sequential::push_back(std::shared_ptr<Module> module) {
    //! BEGIN SOLUTION
    //! HINT: refuse a null pointer with a clear error; register_module(std::to_string(size()), module) does the rest.
    TT_CHECK(module != nullptr, "Sequential: cannot add a null module at position ", size(),
             "; create it first, e.g. std::make_shared<tt::Linear>(2, 4)");
    register_module(std::to_string(size()), std::move(module));
    //! END SOLUTION
}

Tensor Sequential::forward(const Tensor& x) {
    Tensor out = x;
    //! BEGIN SOLUTION
    //! HINT: each child's output is the next child's input; an empty Sequential returns x unchanged.
    for (const auto& [name, child] : children_) out = child->forward(out);
    //! END SOLUTION
    return out;
}

std::shared_ptr<Module> Sequential::operator[](size_t index) const {
    //! BEGIN SOLUTION
    //! HINT: an index past the end is a user mistake: a tt::Error that says the index and the valid range, not a crash.
    TT_CHECK(index < size(), "Sequential: index ", index, " is out of range for a Sequential of ", size(), " modules",
             size() == 0 ? " (it is empty)" : " (valid: 0 to " + std::to_string(size() - 1) + ")");
    return children_[index].second;
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Dropout
//
// In training each element is kept with probability 1 - p and scaled by 1 / (1 - p), zeroed
// otherwise, so E[output] = (1 - p) * x / (1 - p) = x. This is "inverted" dropout: the scaling
// happens during training, so at evaluation the layer is the plain identity - nothing to rescale,
// and a model exported for inference needs no dropout code at all. (The original 2012 formulation
// scaled by (1 - p) at test time instead, which every inference path then had to remember.)
// Why it helps: no unit can rely on one particular other unit being present, which discourages
// co-adapted features; it behaves like training an ensemble of thinned networks.
// ---------------------------------------------------------------------------------------------

Dropout::Dropout(float p, Generator* gen) : p(p), gen_(gen) {
    //! BEGIN SOLUTION
    //! HINT: p is a probability: anything outside [0, 1] (NaN too) is a tt::Error naming Dropout and the value. Write the check so NaN fails it.
    TT_CHECK(p >= 0.0f && p <= 1.0f, "Dropout: p = ", p, " is not a probability; pass the fraction of elements to zero, in [0, 1]");
    //! END SOLUTION
}

// x: any shape -> same shape.
Tensor Dropout::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    //! HINT: in eval mode (!is_training()) return x itself.
    //! HINT: in training, keep = (rand(x.shape(), gen_) >= p) is 1 with probability 1 - p; rand and the comparison ge(a, b) are module 02 ops (scalar(p) makes p a tensor).
    //! HINT: return x * (keep / (1 - p)): a multiply records MulBackward, so the gradient is masked and scaled the same way. p = 1 would divide by 0: every element is dropped, return x * 0.
    if (!is_training()) return x;  // inverted dropout: nothing to do at evaluation
    if (p == 1.0f) return x * 0.0f;  // drop everything (and 1 / (1 - p) would be infinite)
    const Tensor keep = ge(rand(x.shape(), gen_), scalar(p));  // 1 with probability 1 - p, else 0; no gradient
    const Tensor mask = keep * (1.0f / (1.0f - p));             // 0 or 1 / (1 - p)
    return x * mask;
    //! END SOLUTION
}

std::string Dropout::extra_repr() const {
    //! BEGIN SOLUTION
    std::ostringstream out;
    out << "p=" << p;  // shortest form: "p=0.5", not std::to_string's "p=0.500000"
    return out.str();
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// Flatten and Identity
// ---------------------------------------------------------------------------------------------

// (N, C, H, W) -> (N, C*H*W) with the defaults: the bridge from convolutions (09) to Linear layers.
// A view when the layout allows it (a contiguous input always does), so usually no copy at all.
Tensor Flatten::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    return x.flatten(start_dim, end_dim);
    //! END SOLUTION
}

std::string Flatten::extra_repr() const {
    //! BEGIN SOLUTION
    return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
    //! END SOLUTION
}

// A placeholder: a slot in a model where a layer can be switched off without changing the
// structure (or the parameter names) around it. Returning the input itself is fine here: only an
// op that records a graph node must produce a new tensor.
Tensor Identity::forward(const Tensor& x) {
    //! BEGIN SOLUTION
    return x;
    //! END SOLUTION
}

}  // namespace tt
