// Tests of cli/template_gen.cpp: how a reference source becomes a student's template.
#include <catch2/catch.hpp>

#include "template_gen.h"

using tito::make_template;

TEST_CASE("template: a solution block becomes a TODO, its hints and a NotImplemented throw") {
    const std::string reference =
        "#include \"tinytorch/tensor.h\"\n"
        "namespace tt {\n"
        "Tensor relu(const Tensor& x) {\n"
        "    //! BEGIN SOLUTION\n"
        "    //! HINT: max(x, 0) elementwise.\n"
        "    return maximum(x, 0);\n"
        "    //! END SOLUTION\n"
        "}\n"
        "}  // namespace tt\n";
    const std::string expected =
        "#include \"tinytorch/tensor.h\"\n"
        "namespace tt {\n"
        "Tensor relu(const Tensor& x) {\n"
        "    // TODO: implement relu.\n"
        "    // HINT: max(x, 0) elementwise.\n"
        "    throw tt::NotImplemented(\"relu\");\n"
        "}\n"
        "}  // namespace tt\n";
    CHECK(make_template(reference, "a.cpp") == expected);
}

TEST_CASE("template: names come from qualified members, templates and operators") {
    auto name_of = [](const std::string& header) {
        std::string out = make_template(header + " {\n  //! BEGIN SOLUTION\n  x();\n  //! END SOLUTION\n}\n", "a.cpp");
        auto start = out.find("NotImplemented(\"") + 16;
        return out.substr(start, out.find('"', start) - start);
    };
    CHECK(name_of("Tensor Tensor::view(const Shape& shape) const") == "Tensor::view");
    CHECK(name_of("template <class F>\nTensor unary_op(const Tensor& x, F f)") == "unary_op");
    CHECK(name_of("Tensor operator+(const Tensor& a, const Tensor& b)") == "operator+");
    CHECK(name_of("float* Tensor::data_ptr()") == "Tensor::data_ptr");
}

TEST_CASE("template: a block inside loops and lambdas is named after the enclosing function") {
    const std::string reference =
        "void outer(int n) {\n"
        "    for (int i = 0; i < n; ++i) {\n"
        "        auto f = [&](int j) {\n"
        "            //! BEGIN SOLUTION\n"
        "            g(j);\n"
        "            //! END SOLUTION\n"
        "        };\n"
        "    }\n"
        "}\n";
    CHECK_THAT(make_template(reference, "a.cpp"), Catch::Contains("throw tt::NotImplemented(\"outer\");"));
}

TEST_CASE("template: braces in strings, characters and comments do not confuse the tracker") {
    const std::string reference =
        "const char* s = \"{ not a block\";  // } nor this\n"
        "char c = '{';\n"
        "/* { */\n"
        "int f(int x) {\n"
        "    //! BEGIN SOLUTION\n"
        "    return x;\n"
        "    //! END SOLUTION\n"
        "}\n";
    CHECK_THAT(make_template(reference, "a.cpp"), Catch::Contains("throw tt::NotImplemented(\"f\");"));
}

TEST_CASE("template: an explicit name overrides the enclosing function's") {
    const std::string reference = "int f() {\n  //! BEGIN SOLUTION broadcasting loop\n  return 1;\n  //! END SOLUTION\n}\n";
    CHECK_THAT(make_template(reference, "a.cpp"), Catch::Contains("NotImplemented(\"broadcasting loop\")"));
}

TEST_CASE("template: a block at file scope becomes a TODO comment without a throw") {
    const std::string reference =
        "namespace tt {\n"
        "//! BEGIN SOLUTION\n"
        "//! HINT: helpers shared by the ops below\n"
        "static int helper() { return 1; }\n"
        "//! END SOLUTION\n"
        "}\n";
    const std::string out = make_template(reference, "a.cpp");
    CHECK_THAT(out, Catch::Contains("// TODO: write the helpers you need here"));
    CHECK_THAT(out, Catch::Contains("// HINT: helpers shared by the ops below"));
    CHECK_THAT(out, !Catch::Contains("throw"));
    CHECK_THAT(out, !Catch::Contains("helper()"));
}

TEST_CASE("template: hints outside blocks and unrelated code are kept") {
    const std::string reference = "//! HINT: read the lesson first\nint keep_me() { return 42; }\n";
    CHECK(make_template(reference, "a.cpp") == "// HINT: read the lesson first\nint keep_me() { return 42; }\n");
}

TEST_CASE("template: unbalanced markers are errors naming file and line") {
    CHECK_THROWS_WITH(make_template("int f() {\n//! END SOLUTION\n}\n", "x.cpp"),
                      Catch::Contains("x.cpp:2") && Catch::Contains("without a BEGIN"));
    CHECK_THROWS_WITH(make_template("int f() {\n//! BEGIN SOLUTION\nreturn 1;\n}\n", "x.cpp"),
                      Catch::Contains("x.cpp:2") && Catch::Contains("never closed"));
    CHECK_THROWS_WITH(make_template("//! BEGIN SOLUTION\n//! BEGIN SOLUTION\n", "x.cpp"), Catch::Contains("x.cpp:2"));
}

TEST_CASE("template: counting solution blocks") {
    CHECK(tito::count_solution_blocks("a\n  //! BEGIN SOLUTION\nb\n//! END SOLUTION\n//! BEGIN SOLUTION x\n//! END SOLUTION\n") == 2);
    CHECK(tito::count_solution_blocks("int main() {}\n") == 0);
}
