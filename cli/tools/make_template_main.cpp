// make_template - build-time tool: writes the student template of one reference source.
//     make_template <reference.cpp> <template.cpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "template_gen.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: make_template <reference.cpp> <template.cpp>\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::cerr << "make_template: cannot read " << argv[1] << "\n";
        return 1;
    }
    std::ostringstream text;
    text << in.rdbuf();
    try {
        std::string result = tito::make_template(text.str(), argv[1]);
        if (tito::count_solution_blocks(text.str()) == 0) {
            std::cerr << argv[1] << ": no //! BEGIN SOLUTION block: a student file must have something to write\n";
            return 1;
        }
        std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
        out << result;
        if (!out) {
            std::cerr << "make_template: cannot write " << argv[2] << "\n";
            return 1;
        }
    } catch (const tito::TemplateError& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
