// grad_mode.cpp - the per-thread switch that record() consults, and the graph's destructor [given].
#include <utility>
#include <vector>

#include "tinytorch/autograd.h"

namespace tt {

namespace {
thread_local bool grad_enabled = true;
}

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }

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
