// grad_mode.cpp - the per-thread switch that record() consults [given]. (Node's own given methods
// are in node.cpp.)
#include "tinytorch/autograd.h"

namespace tt {

namespace {
thread_local bool grad_enabled = true;
}

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }

}  // namespace tt
