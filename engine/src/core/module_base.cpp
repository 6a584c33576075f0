// module_base.cpp - the [given] parts of Module (layers.h): registering parameters and buffers.
#include "tinytorch/layers.h"

namespace tt {

Tensor Module::register_parameter(const std::string& name, Tensor value) {
    TT_CHECK(value.defined(), name, ": register_parameter needs a defined tensor");
    for (const auto& [existing, tensor] : parameters_) TT_CHECK(existing != name, "register_parameter: '", name, "' is already registered");
    value.requires_grad_(true);
    parameters_.emplace_back(name, value);
    return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
    TT_CHECK(value.defined(), name, ": register_buffer needs a defined tensor");
    for (const auto& [existing, tensor] : buffers_) TT_CHECK(existing != name, "register_buffer: '", name, "' is already registered");
    buffers_.emplace_back(name, value);
    return value;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
    std::vector<std::pair<std::string, Tensor>> all = buffers_;
    for (const auto& [child_name, child] : children_)
        for (const auto& [name, tensor] : child->named_buffers()) all.emplace_back(child_name + "." + name, tensor);
    return all;
}

}  // namespace tt
