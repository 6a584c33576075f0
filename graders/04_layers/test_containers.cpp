// test_containers.cpp - module 04 grader: Sequential (order of application, naming by position,
// indexing and its errors), Flatten and Identity.
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

// Two test modules that do not commute: Double then AddOne is 2x + 1, AddOne then Double 2x + 2.
struct Double : tt::Module {
    tt::Tensor forward(const tt::Tensor& x) override { return tt::mul(x, raw_scalar(2.0f)); }
    std::string name() const override { return "Double"; }
};
struct AddOne : tt::Module {
    tt::Tensor forward(const tt::Tensor& x) override { return tt::add(x, raw_scalar(1.0f)); }
    std::string name() const override { return "AddOne"; }
};

}  // namespace

TEST_CASE("Sequential applies its modules in order", "[points=2]") {
    const tt::Tensor x = nested({{1, -2}, {0.5f, 3}});
    tt::Sequential double_then_add{std::make_shared<Double>(), std::make_shared<AddOne>()};
    tt::Sequential add_then_double{std::make_shared<AddOne>(), std::make_shared<Double>()};
    CHECK_THAT(double_then_add(x), tensor_equal(nested({{3, -3}, {2, 7}})));
    CHECK_THAT(add_then_double(x), tensor_equal(nested({{4, -2}, {3, 8}})));
    // Linear -> ReLU -> Linear, by hand: W1 = [[1, -1], [2, 0]], b1 = [0, -1]; W2 = [[1, 1]], b2 = [0.5]
    auto first = std::make_shared<tt::Linear>(2, 2);
    auto second = std::make_shared<tt::Linear>(2, 1);
    assign(first->weight, {1, -1, 2, 0});
    assign(first->bias, {0, -1});
    assign(second->weight, {1, 1});
    assign(second->bias, {0.5f});
    tt::Sequential mlp{first, std::make_shared<tt::ReLU>(), second};
    // [1, -2] -> [3, 1] -> relu [3, 1] -> 4.5;  [0.5, 3] -> [-2.5, 0] -> relu [0, 0] -> 0.5
    CHECK_THAT(mlp(x), tensor_near(nested({{4.5f}, {0.5f}}), 1e-6, 1e-6));
}

TEST_CASE("an empty Sequential returns its input", "[points=1]") {
    tt::Sequential empty;
    CHECK(empty.size() == 0);
    const tt::Tensor x = nested({1, 2, 3});
    CHECK_THAT(empty(x), tensor_equal(x));
    empty.push_back(std::make_shared<Double>());
    CHECK_THAT(empty(x), tensor_equal(nested({2, 4, 6})));
}

TEST_CASE("Sequential names children by position and indexing returns the same modules", "[points=1]") {
    auto a = std::make_shared<Double>();
    auto b = std::make_shared<tt::Tanh>();
    auto c = std::make_shared<AddOne>();
    tt::Sequential model{a, b};
    model.push_back(c);
    REQUIRE(model.size() == 3);
    const auto& children = model.named_children();
    REQUIRE(children.size() == 3);
    CHECK(children[0].first == "0");
    CHECK(children[1].first == "1");
    CHECK(children[2].first == "2");
    CHECK(model[0] == a);
    CHECK(model[1] == b);
    CHECK(model[2] == c);
    CHECK(children[2].second == c);
    // The same module object, shared: a change through one handle is seen through the other.
    auto layer = std::make_shared<tt::Linear>(2, 2);
    tt::Sequential holder{layer};
    assign(layer->weight, {1, 2, 3, 4});
    auto same = std::dynamic_pointer_cast<tt::Linear>(holder[0]);
    REQUIRE(same);
    CHECK(element(same->weight, {1, 0}) == 3.0f);
}

TEST_CASE("Sequential indexing past the end and adding a null module are errors", "[points=1]") {
    tt::Sequential model{std::make_shared<Double>(), std::make_shared<AddOne>(), std::make_shared<Double>()};
    CHECK_THAT(error_message([&] { model[3]; }), Contains("Sequential") && Contains("3"));
    CHECK_THAT(error_message([&] { model[100]; }), Contains("Sequential") && Contains("100"));
    tt::Sequential empty;
    CHECK_THAT(error_message([&] { empty[0]; }), Contains("Sequential") && Contains("0"));
    CHECK_THAT(error_message([&] { model.push_back(nullptr); }), Contains("Sequential"));
    CHECK(model.size() == 3);
    CHECK(model[2] != nullptr);
}

TEST_CASE("Flatten merges the dims from start_dim to end_dim", "[points=2]") {
    const tt::Tensor x = iota({2, 3, 4, 5});
    struct Case {
        int64_t start, end;
        tt::Shape shape;
    };
    for (const Case& c : std::vector<Case>{{1, -1, {2, 60}}, {0, -1, {120}}, {1, 2, {2, 12, 5}}, {-3, -2, {2, 12, 5}},
                                           {2, 3, {2, 3, 20}}, {0, 1, {6, 4, 5}}, {2, 2, {2, 3, 4, 5}}}) {
        INFO("Flatten(" << c.start << ", " << c.end << ") of (2, 3, 4, 5)");
        tt::Flatten flatten(c.start, c.end);
        CHECK_THAT(flatten(x), tensor_equal(iota(c.shape)));
    }
    tt::Flatten defaults;
    CHECK(defaults.start_dim == 1);
    CHECK(defaults.end_dim == -1);
    CHECK_THAT(defaults(iota({4, 2, 2})), tensor_equal(iota({4, 4})));
}

TEST_CASE("Flatten of a non-contiguous input keeps the logical order", "[points=1]") {
    const tt::Tensor x = column_major(iota({3, 4, 2}));
    CHECK_THAT(tt::Flatten()(x), tensor_equal(iota({3, 8})));
    const tt::Tensor y = padded(iota({2, 2, 3}));
    CHECK_THAT(tt::Flatten(0, -1)(y), tensor_equal(iota({12})));
}

TEST_CASE("Identity returns its input values for any shape and layout", "[points=1]") {
    tt::Identity identity;
    for (const tt::Tensor& x : {nested({{1, 2}, {3, 4}}), padded(iota({2, 3})), raw_scalar(5.0f)}) {
        INFO("x = " << describe_tensor(x));
        CHECK_THAT(identity(x), tensor_equal(raw_copy(x)));
    }
    CHECK(identity.parameter_count() == 0);
}
