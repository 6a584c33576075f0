// backward.cpp - module 06: reverse-mode differentiation, the walk over the graph.
//
// Every op since module 02 has left a trail: out.grad_fn is the node that made `out`, and
// node->inputs are the tensors it was made from. loss.backward() follows that trail backwards:
//
//     1. order every tensor the loss depends on so that each comes *after* everything it was
//        computed from (a topological order), and walk it in reverse: the loss first, leaves last;
//     2. seed d(loss)/d(loss) = 1;
//     3. for each tensor in that order, hand its finished gradient to its grad_fn, which adds the
//        chain-rule contribution into each input's .grad (accumulate_grad). Always through
//        grad_fn->apply(grad, retain_graph), never grad_fn->backward(grad) directly: apply() first
//        checks that the tensors the node saved were not modified in place since the forward, and
//        that the node is not run a second time by mistake (see autograd.h).
//
// Reverse order is what makes this correct: a tensor used by three later ops receives all three
// contributions before its own node runs. It is also what makes it cheap: one backward pass costs
// about as much as two or three forward passes, whatever the number of parameters - which is why
// a network with a billion weights can be trained at all.
#include <memory>
#include <unordered_set>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

namespace tt {

namespace {

//! BEGIN SOLUTION
//! HINT: a depth-first search that appends a tensor only after all of its grad_fn's inputs (post-order) gives a topological order.
//! HINT: remember visited tensors by TensorImpl address (&t.impl()): a tensor reached twice (x * x, a residual connection) must appear once.
//! HINT: use an explicit stack rather than recursion: a recurrent net unrolled over a long sequence makes a graph tens of thousands of ops deep, more than the call stack holds.
// Every tensor `root` depends on that requires grad, each after all the tensors it was computed
// from: leaves early, root last. Post-order depth-first search with an explicit stack.
std::vector<Tensor> topological_order(const Tensor& root) {
    struct Frame {
        Tensor tensor;
        size_t next_input;  // how many of tensor.grad_fn()->inputs have been pushed already
    };
    std::vector<Tensor> order;
    std::unordered_set<const TensorImpl*> visited{&root.impl()};
    std::vector<Frame> stack{{root, 0}};
    while (!stack.empty()) {
        Frame& top = stack.back();
        const std::shared_ptr<Node>& node = top.tensor.grad_fn();
        if (node && top.next_input < node->inputs.size()) {
            Tensor input = node->inputs[top.next_input++];
            // Inputs that do not require grad get no gradient: the walk never enters them.
            if (input.defined() && input.requires_grad() && visited.insert(&input.impl()).second)
                stack.push_back({std::move(input), 0});  // (invalidates `top`; it is not used again)
        } else {
            order.push_back(top.tensor);  // every input is already in `order`
            stack.pop_back();
        }
    }
    return order;
}
//! END SOLUTION

}  // namespace

// loss: () -> every leaf w that requires grad gets w.grad += d(loss)/dw, shaped like w.
void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
    //! BEGIN SOLUTION
    //! HINT: check requires_grad() and the seed (1 for a one-element tensor, else `gradient`, same shape); then NoGradGuard: the gradient arithmetic must not build a graph of its own.
    //! HINT: seed with accumulate_grad(*this, seed); walk the topological order from the root backwards; for a non-leaf with a .grad, call grad_fn->apply(that grad, retain_graph): apply() checks the saved tensors' versions, then calls the node's backward().
    //! HINT: once a non-leaf's node has run, nothing needs its gradient again: reset it (unless retains_grad) to free the memory.
    TT_CHECK(requires_grad(), "backward: this tensor of shape ", shape_str(shape()),
             " does not require grad: no leaf it was computed from has requires_grad_(), or it was computed under NoGradGuard");
    Tensor seed;
    if (gradient.defined()) {
        TT_CHECK(gradient.shape() == shape(), "backward: gradient of shape ", shape_str(gradient.shape()), " for a tensor of shape ",
                 shape_str(shape()), "; they must match");
        seed = gradient.detach();
    } else {
        TT_CHECK(numel() == 1, "backward: a tensor of shape ", shape_str(shape()), " has ", numel(),
                 " elements, so the gradient to start from is ambiguous; reduce it first (t.sum().backward()) or pass "
                 "one: t.backward(tt::ones_like(t))");
        seed = ones(shape());  // d(loss)/d(loss) = 1
    }

    NoGradGuard no_grad;  // the backward computations are not themselves differentiated
    const std::vector<Tensor> order = topological_order(*this);

    // A non-leaf that retains its grad may still hold one from an earlier backward(): set it aside,
    // or it would be propagated a second time. It is added back once the new one is complete.
    std::vector<std::shared_ptr<TensorImpl>> earlier(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
        if (!order[i].is_leaf()) earlier[i] = std::move(order[i].impl().grad);
    }

    accumulate_grad(*this, seed);
    for (size_t i = order.size(); i-- > 0;) {  // root first, leaves last
        const Tensor& t = order[i];
        if (t.is_leaf()) continue;  // a leaf's .grad is the result: keep it
        TensorImpl& impl = t.impl();
        // By now every tensor computed from t has passed its contribution: t's gradient is final.
        if (impl.grad) t.grad_fn()->apply(Tensor(impl.grad), retain_graph);
        // The memory insight: an intermediate gradient is dead once its node has consumed it.
        // Dropping it now keeps only the "frontier" of the backward pass alive instead of a
        // gradient for every activation of the network - for a deep model, roughly the memory of
        // one layer's activations rather than all of them.
        if (impl.retains_grad) {
            if (earlier[i] && impl.grad) Tensor(earlier[i]).add_(Tensor(impl.grad));
            if (earlier[i]) impl.grad = earlier[i];
        } else {
            impl.grad.reset();
        }
    }
    //! END SOLUTION
}

void Tensor::zero_grad() {
    //! BEGIN SOLUTION
    set_grad(Tensor());  // undefined, not zeros: the next backward allocates on first contribution
    //! END SOLUTION
}

// input.grad += sum_to_shape(grad, input.shape()), allocating .grad on the first contribution.
void accumulate_grad(const Tensor& input, const Tensor& grad) {
    //! BEGIN SOLUTION
    //! HINT: skip inputs that are undefined or do not require grad; reduce the contribution with sum_to_shape.
    //! HINT: the first contribution must be a *copy*: AddBackward hands the same tensor to both inputs, and later contributions are added in place.
    if (!input.defined() || !input.requires_grad()) return;
    const Tensor g = sum_to_shape(grad, input.shape());
    TensorImpl& impl = input.impl();
    if (impl.grad) {
        Tensor(impl.grad).add_(g);  // += in place: no new allocation for the 2nd, 3rd... contribution
    } else {
        Tensor handle = input;        // set_grad is non-const; the handle shares input's TensorImpl
        handle.set_grad(g.detach().clone());
    }
    //! END SOLUTION
}

// grad (4, 2, 3) -> shape (2, 1): sum over dim 0 (added by broadcasting) and dim 2 (stretched from 1).
Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
    //! BEGIN SOLUTION
    //! HINT: first sum away the leading dims that `shape` does not have; then, with keepdim, every dim where shape has 1 and grad does not.
    //! HINT: why sum? In a + b with b: (3,) broadcast to (4, 3), each b[j] was used 4 times; each use contributes to its gradient.
    if (grad.shape() == shape) return grad;
    TT_CHECK(broadcast_shapes(shape, grad.shape(), "sum_to_shape") == grad.shape(), "sum_to_shape: cannot reduce a gradient of shape ",
             shape_str(grad.shape()), " to shape ", shape_str(shape), ", which does not broadcast to it");
    if (grad.numel() == 0) return zeros(shape);  // summing nothing gives 0
    Tensor g = grad;
    const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
    if (lead > 0) {
        // Fold all leading dims into one and sum it in a single pass: (B, T, C) -> (B*T, C) -> (C,).
        Shape folded{-1};
        folded.insert(folded.end(), grad.shape().begin() + lead, grad.shape().end());
        g = g.reshape(folded).sum(0);
    }
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
        if (shape[d] == 1 && g.shape()[d] != 1) g = g.sum(d, /*keepdim=*/true);
    }
    return g;
    //! END SOLUTION
}

}  // namespace tt
