// template_gen.h - turns a reference source into the student's template.
//
// In engine/src/NN_name/*.cpp the reference code a student must write sits between markers:
//
//     Tensor relu(const Tensor& x) {
//         //! BEGIN SOLUTION
//         //! HINT: max(x, 0) elementwise; unary_op() does the looping.
//         ...reference code...
//         //! END SOLUTION
//     }
//
// The template keeps everything outside the markers and replaces each block with a TODO, its
// hints (as plain `// HINT:` comments) and, inside a function, `throw tt::NotImplemented("relu");`
// so the template compiles and every unfinished function fails its tests with a clear message.
// The function name comes from the enclosing function, or from `//! BEGIN SOLUTION name`.
#pragma once

#include <stdexcept>
#include <string>

namespace tito {

class TemplateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `source_name` appears in error messages ("tensor.cpp:42: END SOLUTION without BEGIN").
std::string make_template(const std::string& reference_source, const std::string& source_name);

// How many solution blocks a reference source has (0 means nothing for a student to write).
int count_solution_blocks(const std::string& reference_source);

}  // namespace tito
