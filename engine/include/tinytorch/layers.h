// layers.h - module 04: Module, the building block of every model, and the first layers.
//
// A Module owns parameters (tensors that require grad and that an optimizer updates) and child
// modules, and maps an input tensor to an output tensor:
//
//     auto model = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
//         std::make_shared<tt::Linear>(2, 4),    // x: (N, 2) -> (N, 4)
//         std::make_shared<tt::Tanh>(),
//         std::make_shared<tt::Linear>(4, 1)});  //    (N, 4) -> (N, 1)
//     tt::Tensor y = (*model)(x);
//     model->named_parameters();   // "0.weight" (4, 2), "0.bias" (4), "2.weight" (1, 4), "2.bias" (1)
//     std::cout << model->to_string();
//
// Modules are held by std::shared_ptr: a child is shared between its parent and whoever built it.
// Parameters are Tensor handles, so the layer's `weight` member and the entry in named_parameters()
// are the same tensor: an optimizer that updates one updates the other.
//
// Backward design: optimizers (module 08) only need parameters(); the Trainer (module 10) switches
// train()/eval(); milestones print to_string().
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/activations.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt {

class Module {
public:
    virtual ~Module() = default;

    // The computation: input -> output. Every layer overrides it.
    virtual Tensor forward(const Tensor& input) = 0;
    Tensor operator()(const Tensor& input) { return forward(input); }
    // "Linear", "Sequential", ... and the settings shown in to_string(): "in_features=2, ...".
    virtual std::string name() const = 0;
    virtual std::string extra_repr() const { return ""; }

    // (04) Own parameters first (in registration order), then each child's, prefixed with the
    // child's name and a dot: "weight", "bias", "0.weight", "block.1.bias". A tensor reachable
    // twice (a layer used twice, tied weights) is listed once, under its first name, so an
    // optimizer updates it once.
    std::vector<std::pair<std::string, Tensor>> named_parameters() const;
    std::vector<Tensor> parameters() const;
    // (04) Total number of scalars in all parameters: Linear(2, 4) has 2*4 + 4 = 12.
    int64_t parameter_count() const;
    // (04) Sets training mode on this module and every descendant (Dropout acts only in training).
    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }
    // (04) Clears the gradient of every parameter in the tree (module 06 accumulates into it):
    // each .grad becomes *undefined* (Tensor::zero_grad()), not a tensor of zeros, as PyTorch's
    // zero_grad(set_to_none=True). The next backward() allocates it on its first contribution.
    void zero_grad();
    // (04) PyTorch-style description, children indented by two spaces (no trailing newline):
    //     Sequential(
    //       (0): Linear(in_features=2, out_features=4, bias=true)
    //       (1): Tanh()
    //     )
    std::string to_string() const;

    // [given] Direct children, in registration order.
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const { return children_; }
    // [given] Buffers: tensors that belong to the model's state but are not trained (BatchNorm's
    // running statistics, module 09). Named like parameters ("1.running_mean"); own first, then
    // each child's. Checkpoints (module 10) save parameters and buffers.
    std::vector<std::pair<std::string, Tensor>> named_buffers() const;

protected:
    // [given] Adds a parameter (marking it requires_grad) and returns it.
    Tensor register_parameter(const std::string& name, Tensor value);
    // [given] Adds a buffer (requires_grad stays false) and returns it.
    Tensor register_buffer(const std::string& name, Tensor value);
    // [given] Adds a child module and returns it.
    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
        children_.emplace_back(name, module);
        return module;
    }

    std::vector<std::pair<std::string, Tensor>> parameters_;                 // own, in order
    std::vector<std::pair<std::string, Tensor>> buffers_;                    // own, in order
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;  // in order
    bool training_ = true;
};

// ---------------------------------------------------------------------------------------------
// Initialisers (04). For a weight of shape (out, in): fan_in = in, fan_out = out; for a
// convolution's (out, in, k...) weight: fan_in = in * prod(k), fan_out = out * prod(k).
// ---------------------------------------------------------------------------------------------
namespace init {
// U(-bound, bound) with bound = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)).
// a = sqrt(5) gives bound = 1/sqrt(fan_in): PyTorch's default for Linear.
void kaiming_uniform_(Tensor& weight, Generator* gen = nullptr, float a = 2.2360679775f);
// U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).
void xavier_uniform_(Tensor& weight, Generator* gen = nullptr, float gain = 1.0f);
// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_normal_(Tensor& weight, Generator* gen = nullptr, float gain = 1.0f);
void uniform_(Tensor& t, float low, float high, Generator* gen = nullptr);
void zeros_(Tensor& t);
}  // namespace init

// ---------------------------------------------------------------------------------------------
// Layers (04)
// ---------------------------------------------------------------------------------------------

enum class Init { kaiming_uniform, xavier_uniform, xavier_normal };

struct LinearOptions {
    int64_t in_features = 0;
    int64_t out_features = 0;
    bool bias = true;
    Init init = Init::kaiming_uniform;  // of the weight; the bias is U(-1/sqrt(in), 1/sqrt(in))
};

// y = x @ W^T + b.   x: (N, in) or (in,) or (..., in) -> (..., out);  W: (out, in);  b: (out,)
// W is stored (out, in) as in PyTorch, so a checkpoint's weights mean the same in both.
class Linear : public Module {
public:
    explicit Linear(const LinearOptions& options, Generator* gen = nullptr);
    Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator* gen = nullptr)
        : Linear(LinearOptions{in_features, out_features, bias, Init::kaiming_uniform}, gen) {}
    // Re-creates and initialises the parameters (from `gen`, else the default generator). The
    // tensors are replaced: an optimizer made before a reset() still holds the old ones.
    void reset(Generator* gen = nullptr);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "Linear"; }
    std::string extra_repr() const override;

    LinearOptions options;
    Tensor weight;  // (out_features, in_features)
    Tensor bias;    // (out_features,), undefined when options.bias is false
};

// Applies its children in order.
class Sequential : public Module {
public:
    Sequential() = default;
    Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
    // Appends a module, named by its position: "0", "1", ...
    void push_back(std::shared_ptr<Module> module);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "Sequential"; }
    size_t size() const { return children_.size(); }
    std::shared_ptr<Module> operator[](size_t index) const;
};

// Training: zeroes each element with probability p and scales the rest by 1 / (1 - p), so the
// expected value is unchanged. Evaluation: the identity. `gen` (null: the default generator) must
// outlive the layer.
class Dropout : public Module {
public:
    explicit Dropout(float p = 0.5f, Generator* gen = nullptr);
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "Dropout"; }
    std::string extra_repr() const override;
    float p;

private:
    Generator* gen_;
};

// (N, C, H, W) -> (N, C*H*W) with the defaults: flattens dims start_dim..end_dim into one.
class Flatten : public Module {
public:
    explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1) : start_dim(start_dim), end_dim(end_dim) {}
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "Flatten"; }
    std::string extra_repr() const override;
    int64_t start_dim, end_dim;
};

class Identity : public Module {
public:
    Tensor forward(const Tensor& x) override;
    std::string name() const override { return "Identity"; }
};

// [given] The activations of module 03 as modules, for Sequential.
class ReLU : public Module {
public:
    Tensor forward(const Tensor& x) override { return relu(x); }
    std::string name() const override { return "ReLU"; }
};
class LeakyReLU : public Module {
public:
    explicit LeakyReLU(float negative_slope = 0.01f) : negative_slope(negative_slope) {}
    Tensor forward(const Tensor& x) override { return leaky_relu(x, negative_slope); }
    std::string name() const override { return "LeakyReLU"; }
    std::string extra_repr() const override {
        std::ostringstream out;
        out << "negative_slope=" << negative_slope;  // 0.01, not std::to_string's 0.010000
        return out.str();
    }
    float negative_slope;
};
class Sigmoid : public Module {
public:
    Tensor forward(const Tensor& x) override { return sigmoid(x); }
    std::string name() const override { return "Sigmoid"; }
};
class Tanh : public Module {
public:
    Tensor forward(const Tensor& x) override { return tanh(x); }
    std::string name() const override { return "Tanh"; }
};
class GELU : public Module {
public:
    explicit GELU(GeluApproximation approximate = GeluApproximation::none) : approximate(approximate) {}
    Tensor forward(const Tensor& x) override { return gelu(x, approximate); }
    std::string name() const override { return "GELU"; }
    std::string extra_repr() const override { return approximate == GeluApproximation::tanh ? "approximate=tanh" : ""; }
    GeluApproximation approximate;
};
class Softmax : public Module {
public:
    explicit Softmax(int64_t dim = -1) : dim(dim) {}
    Tensor forward(const Tensor& x) override { return softmax(x, dim); }
    std::string name() const override { return "Softmax"; }
    std::string extra_repr() const override { return "dim=" + std::to_string(dim); }
    int64_t dim;
};
class LogSoftmax : public Module {
public:
    explicit LogSoftmax(int64_t dim = -1) : dim(dim) {}
    Tensor forward(const Tensor& x) override { return log_softmax(x, dim); }
    std::string name() const override { return "LogSoftmax"; }
    std::string extra_repr() const override { return "dim=" + std::to_string(dim); }
    int64_t dim;
};

}  // namespace tt
