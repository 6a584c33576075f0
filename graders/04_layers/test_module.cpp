// test_module.cpp - module 04 grader: the Module tree walks. named_parameters (names, order,
// nesting, shared handles), parameter_count, train/eval, zero_grad and to_string, on test modules
// built with the [given] register_parameter / register_module and on nested Sequentials.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "layer_helpers.h"
#include "tinytorch/layers.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using namespace layer_helpers;
using Catch::Matchers::Contains;

namespace {

using Names = std::vector<std::string>;

// Sequential{Linear(2, 3), ReLU, Sequential{Linear(3, 4), Tanh, Linear(4, 5, bias=false)}, Linear(5, 1)}
std::shared_ptr<tt::Sequential> nested_model() {
    auto inner = std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
        std::make_shared<tt::Linear>(3, 4), std::make_shared<tt::Tanh>(), std::make_shared<tt::Linear>(4, 5, false)});
    return std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
        std::make_shared<tt::Linear>(2, 3), std::make_shared<tt::ReLU>(), inner, std::make_shared<tt::Linear>(5, 1)});
}

}  // namespace

TEST_CASE("named_parameters lists a module's own parameters in registration order", "[points=1]") {
    Leaf leaf;
    const auto named = leaf.named_parameters();
    CHECK(names_of(named) == Names{"w", "b"});
    REQUIRE(named.size() == 2);
    CHECK(named[0].second.shape() == tt::Shape{3, 2});
    CHECK(named[1].second.shape() == tt::Shape{3});
    CHECK(Empty().named_parameters().empty());
}

TEST_CASE("named_parameters puts own parameters before children's and prefixes child names", "[points=2]") {
    // Block registers scale, then the child "inner" (a Leaf with w and b), then shift.
    Block block;
    const auto named = block.named_parameters();
    INFO("got " << named.size() << " entries");
    CHECK(names_of(named) == Names{"scale", "shift", "inner.w", "inner.b"});
    REQUIRE(named.size() == 4);
    CHECK(named[0].second.is_same(block.scale));
    CHECK(named[1].second.is_same(block.shift));
    CHECK(named[2].second.is_same(block.inner->w));
    CHECK(named[3].second.is_same(block.inner->b));
}

TEST_CASE("named_parameters of nested Sequentials uses dotted positions", "[points=2]") {
    auto model = nested_model();
    const auto named = model->named_parameters();
    CHECK(names_of(named) == Names{"0.weight", "0.bias", "2.0.weight", "2.0.bias", "2.2.weight", "3.weight", "3.bias"});
    REQUIRE(named.size() == 7);
    const std::vector<tt::Shape> shapes = {{3, 2}, {3}, {4, 3}, {4}, {5, 4}, {1, 5}, {1}};
    for (size_t i = 0; i < named.size(); ++i) {
        INFO(named[i].first);
        CHECK(named[i].second.shape() == shapes[i]);
        CHECK(named[i].second.requires_grad());
    }
    // A Sequential nested two levels deep under a custom module.
    struct Outer : tt::Module {
        Outer() { register_module("body", nested_model()); }
        tt::Tensor forward(const tt::Tensor& x) override { return x; }
        std::string name() const override { return "Outer"; }
    } outer;
    const Names outer_names = names_of(outer.named_parameters());
    REQUIRE(outer_names.size() == 7);
    CHECK(outer_names[0] == "body.0.weight");
    CHECK(outer_names[4] == "body.2.2.weight");
    CHECK(outer_names[6] == "body.3.bias");
}

TEST_CASE("parameters are the layer's own tensor handles and share their storage", "[points=2]") {
    auto model = nested_model();
    auto first = std::dynamic_pointer_cast<tt::Linear>(model->named_children()[0].second);
    auto deep = std::dynamic_pointer_cast<tt::Linear>(model->named_children()[2].second->named_children()[2].second);
    REQUIRE(first);
    REQUIRE(deep);
    const std::vector<tt::Tensor> params = model->parameters();
    REQUIRE(params.size() == 7);
    CHECK(params[0].is_same(first->weight));
    CHECK(params[1].is_same(first->bias));
    CHECK(params[4].is_same(deep->weight));
    // Writing through the entry an optimizer would see changes the layer's weight.
    params[0].storage()->data[params[0].offset()] = 123.0f;
    CHECK(element(first->weight, {0, 0}) == 123.0f);
    CHECK(shares_storage(model->named_parameters()[4].second, deep->weight));
}

TEST_CASE("a tensor registered twice is listed once under its first name", "[points=1]") {
    // Weight tying (module 14): the same handle in two places must not be updated twice.
    struct Tied : tt::Module {
        std::shared_ptr<Leaf> a, b;
        Tied() {
            a = register_module("a", std::make_shared<Leaf>(2));
            b = register_module("b", std::make_shared<Leaf>(2));
            register_parameter("alias", a->w);
        }
        tt::Tensor forward(const tt::Tensor& x) override { return x; }
        std::string name() const override { return "Tied"; }
    } tied;
    CHECK(names_of(tied.named_parameters()) == Names{"alias", "a.b", "b.w", "b.b"});
    CHECK(tied.parameters().size() == 4);
    CHECK(tied.parameter_count() == 4 + 2 + 4 + 2);
}

TEST_CASE("parameter_count sums the elements of every parameter in the tree", "[points=2]") {
    CHECK(tt::Linear(2, 4).parameter_count() == 2 * 4 + 4);
    CHECK(tt::Linear(7, 3, false).parameter_count() == 21);
    CHECK(Leaf(5).parameter_count() == 10 + 5);
    CHECK(Block().parameter_count() == 1 + 5 + 8 + 4);
    // (2*3 + 3) + (3*4 + 4) + (4*5) + (5*1 + 1)
    CHECK(nested_model()->parameter_count() == 9 + 16 + 20 + 6);
    CHECK(tt::Sequential().parameter_count() == 0);
    CHECK(Empty().parameter_count() == 0);
}

TEST_CASE("train and eval reach every descendant", "[points=2]") {
    auto model = nested_model();
    model->push_back(std::make_shared<tt::Dropout>(0.5f));
    const auto all = descendants(model);
    REQUIRE(all.size() == 9);
    for (const auto& m : all) CHECK(m->is_training());  // modules start in training mode
    model->eval();
    for (const auto& m : all) {
        INFO(m->name() << " after model->eval()");
        CHECK_FALSE(m->is_training());
    }
    model->train();
    for (const auto& m : all) {
        INFO(m->name() << " after model->train()");
        CHECK(m->is_training());
    }
    model->train(false);
    for (const auto& m : all) {
        INFO(m->name() << " after model->train(false)");
        CHECK_FALSE(m->is_training());
    }
    // Switching a child does not switch its parent.
    model->train(true);
    model->named_children()[2].second->eval();
    CHECK(model->is_training());
    CHECK_FALSE(model->named_children()[2].second->named_children()[0].second->is_training());
    CHECK(model->named_children()[0].second->is_training());
}

TEST_CASE("zero_grad makes the gradient of every parameter in the tree undefined", "[points=2]") {
    // The contract (layers.h, the lesson, module 06): cleared means undefined, as PyTorch's
    // zero_grad(set_to_none=True), not a tensor of zeros. No memory is held between steps, and
    // code that tests p.grad().defined() (an optimizer skipping parameters without a gradient)
    // sees "no gradient", not "a gradient of zeros".
    auto model = nested_model();
    Block block;
    for (tt::Module* m : {static_cast<tt::Module*>(model.get()), static_cast<tt::Module*>(&block)}) {
        for (auto& [name, p] : m->named_parameters()) p.set_grad(reference_unary(p, [](float) { return 3.0f; }));
        m->zero_grad();
        for (const auto& [name, p] : m->named_parameters()) {
            INFO(m->name() << " parameter " << name << ": grad after zero_grad is "
                           << (p.grad().defined() ? describe_tensor(p.grad()) : std::string("undefined"))
                           << " (expected undefined: Tensor::zero_grad(), not a zero-filled tensor)");
            CHECK_FALSE(p.grad().defined());
            CHECK(p.requires_grad());
        }
    }
    INFO("parameters that never had a gradient stay undefined, and zero_grad twice is fine");
    tt::Linear fresh(3, 2);
    fresh.zero_grad();
    fresh.zero_grad();
    CHECK_FALSE(fresh.weight.grad().defined());
    CHECK_FALSE(fresh.bias.grad().defined());
}

TEST_CASE("to_string of a module without children is its name and settings on one line", "[points=2]") {
    CHECK(tt::Linear(2, 4).to_string() == "Linear(in_features=2, out_features=4, bias=true)");
    CHECK(tt::Linear(10, 1, false).to_string() == "Linear(in_features=10, out_features=1, bias=false)");
    CHECK(tt::ReLU().to_string() == "ReLU()");
    CHECK(tt::Identity().to_string() == "Identity()");
    CHECK(tt::Dropout(0.25f).to_string() == "Dropout(p=0.25)");
    CHECK(tt::Flatten().to_string() == "Flatten(start_dim=1, end_dim=-1)");
    CHECK(tt::Flatten(0, 2).to_string() == "Flatten(start_dim=0, end_dim=2)");
    CHECK(tt::Sequential().to_string() == "Sequential()");
}

TEST_CASE("to_string of a Sequential lists its children indented by two spaces", "[points=2]") {
    tt::Sequential model{std::make_shared<tt::Linear>(2, 4), std::make_shared<tt::Tanh>()};
    CHECK(model.to_string() ==
          "Sequential(\n"
          "  (0): Linear(in_features=2, out_features=4, bias=true)\n"
          "  (1): Tanh()\n"
          ")");
}

TEST_CASE("to_string indents nested modules by two more spaces per level", "[points=2]") {
    const std::string expected =
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=true)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=4, bias=true)\n"
        "    (1): Tanh()\n"
        "    (2): Linear(in_features=4, out_features=5, bias=false)\n"
        "  )\n"
        "  (3): Linear(in_features=5, out_features=1, bias=true)\n"
        ")";
    CHECK(nested_model()->to_string() == expected);
}

TEST_CASE("to_string puts a module's own settings on the line before its children", "[points=1]") {
    CHECK(Block().to_string() ==
          "Block(\n"
          "  scale=2\n"
          "  (inner): Leaf()\n"
          ")");
}
