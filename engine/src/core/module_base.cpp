// module_base.cpp - the [given] parts of Module (layers.h): registering parameters.
#include "tinytorch/layers.h"

namespace tt {

Tensor Module::register_parameter(const std::string& name, Tensor value) {
    TT_CHECK(value.defined(), name, ": register_parameter needs a defined tensor");
    for (const auto& [existing, tensor] : parameters_) TT_CHECK(existing != name, "register_parameter: '", name, "' is already registered");
    value.requires_grad_(true);
    parameters_.emplace_back(name, value);
    return value;
}

}  // namespace tt
