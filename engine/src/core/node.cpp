// node.cpp - what every backward node does besides its formula [given]: checking, before it runs,
// that the tensors it saved are unchanged and that it has not already run; and freeing a deep graph
// without recursion.
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/autograd.h"

namespace tt {

namespace {

// "input 1 of shape (3)" or "the tensor of shape (3) it saved for backward".
std::string describe(const SavedVersion& saved) {
    if (saved.input >= 0) return "input " + std::to_string(saved.input) + " of shape " + shape_str(saved.shape);
    return "the tensor of shape " + shape_str(saved.shape) + " it saved for backward";
}

}  // namespace

void Node::apply(const Tensor& grad_out, bool retain_graph) {
    TT_CHECK(!(released_ && !saved_versions.empty()), name(),
             ": trying to backward through the graph a second time: this node already ran in an earlier backward() "
             "called without retain_graph. Pass retain_graph = true to the first call "
             "(loss.backward(tt::Tensor(), true)) if you need to backward through the same graph again, or compute "
             "the forward pass again (the usual case: one forward, one backward per step)");
    for (const SavedVersion& saved : saved_versions) {
        TT_CHECK(saved.storage->version == saved.version, name(),
                 ": one of the variables needed for gradient computation has been modified by an inplace operation: ",
                 describe(saved), " is at version ", saved.storage->version, "; expected version ", saved.version,
                 " (its version when the forward pass saved it). An in-place write (fill_, zero_, copy_, add_, mul_, "
                 "set) changed values this backward still needs. Do the update after backward() (under "
                 "tt::NoGradGuard for a parameter), or clone() the tensor and modify the copy");
    }
    backward(grad_out);
    if (!retain_graph) released_ = true;
}

Node::~Node() {
    // Take over the nodes that only this graph keeps alive, and destroy them one at a time with
    // their inputs already detached, so no destructor runs inside another.
    std::vector<std::shared_ptr<Node>> pending;
    auto release_inputs = [&pending](std::vector<Tensor>& tensors) {
        for (Tensor& t : tensors) {
            if (!t.defined() || t.use_count() != 1) continue;  // someone else still holds it
            std::shared_ptr<Node>& producer = t.impl().grad_fn;
            if (producer && producer.use_count() == 1) pending.push_back(std::move(producer));
        }
        tensors.clear();
    };
    release_inputs(inputs);
    while (!pending.empty()) {
        std::shared_ptr<Node> node = std::move(pending.back());
        pending.pop_back();
        release_inputs(node->inputs);
    }  // `node` dies here with no inputs left, so its destructor does not recurse
}

}  // namespace tt
