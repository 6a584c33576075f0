// shape.cpp - small shape helpers every module uses [given].
#include <sstream>

#include "tinytorch/tensor.h"

namespace tt {

int64_t numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t size : shape) n *= size;
    return n;
}

std::string shape_str(const Shape& shape) {
    std::ostringstream out;
    out << '(';
    for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << ')';
    return out.str();
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
    // A 0-d tensor still accepts dim 0 and -1 (as PyTorch does): it behaves like shape (1,).
    int64_t range = ndim == 0 ? 1 : ndim;
    TT_CHECK(dim >= -range && dim < range, op, ": dimension ", dim, " is out of range for a ", ndim,
             "-d tensor (valid: ", -range, " to ", range - 1, ")");
    return dim < 0 ? dim + range : dim;
}

}  // namespace tt
