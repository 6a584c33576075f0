// test_nodes_views.cpp - module 06 grader: the backward nodes of the views and copies of module 02
// (nodes_tensor.cpp): reshape, view, flatten, squeeze, unsqueeze, transpose, t, permute, slice
// (with a step), select, expand, contiguous and clone. A view moves elements without changing
// them, so its backward moves each gradient element back to where that element came from.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;

namespace {

using Inputs = std::vector<tt::Tensor>;

}  // namespace

TEST_CASE("reshape view and flatten keep the row-major order of the gradient", "[points=1]") {
    {
        tt::Tensor x = leaf(iota({2, 3}));
        x.reshape({3, 2}).backward(nested({{1, 2}, {3, 4}, {5, 6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 2, 3}, {4, 5, 6}})));
        CHECK(x.grad().shape() == tt::Shape{2, 3});
    }
    {
        tt::Tensor x = leaf(iota({2, 3}));
        x.view({-1}).backward(nested({1, 2, 3, 4, 5, 6}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 2, 3}, {4, 5, 6}})));
    }
    {
        tt::Tensor x = leaf(iota({2, 2, 2}));
        x.flatten(1).backward(nested({{1, 2, 3, 4}, {5, 6, 7, 8}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}})));
    }
    {  // reshape of a transposed tensor copies; the gradient still goes back to the right elements
        tt::Tensor x = leaf(iota({2, 3}));
        x.t().reshape({6}).backward(nested({1, 2, 3, 4, 5, 6}));  // x.t() read row-major: x00 x10 x01 x11 x02 x12
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 3, 5}, {2, 4, 6}})));
    }
}

TEST_CASE("squeeze and unsqueeze gradients", "[points=1]") {
    {
        tt::Tensor x = leaf(iota({2, 1, 3}));
        x.squeeze().backward(nested({{1, 2, 3}, {4, 5, 6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{1, 2, 3}}, {{4, 5, 6}}})));
    }
    {
        tt::Tensor x = leaf(iota({2, 1, 3}));
        x.squeeze(1).backward(nested({{1, 2, 3}, {4, 5, 6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{1, 2, 3}}, {{4, 5, 6}}})));
    }
    {
        tt::Tensor x = leaf(nested({1, 2, 3}));
        x.unsqueeze(-1).backward(nested({{4}, {5}, {6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({4, 5, 6})));
        CHECK(x.grad().shape() == tt::Shape{3});
    }
}

TEST_CASE("transpose and t send the gradient back transposed", "[points=1]") {
    {
        tt::Tensor x = leaf(iota({2, 3}));
        x.t().backward(nested({{1, 2}, {3, 4}, {5, 6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 3, 5}, {2, 4, 6}})));
    }
    {  // (2, 3, 2).transpose(0, 2) -> (2, 3, 2) again, with dims 0 and 2 swapped
        tt::Tensor x = leaf(iota({2, 3, 2}));
        x.transpose(0, -1).backward(iota({2, 3, 2}, 1));  // g[c, b, a] = 1 + 6c + 2b + a
        std::vector<float> expected;                       // dx[a, b, c] = g[c, b, a]
        for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 3; ++b)
                for (int c = 0; c < 2; ++c) expected.push_back(static_cast<float>(1 + 6 * c + 2 * b + a));
        CHECK_THAT(x.grad(), tensor_equal(raw(expected, {2, 3, 2})));
    }
}

TEST_CASE("permute sends the gradient back with the inverse permutation", "[points=2]") {
    // out = x.permute({2, 0, 1}): out[k, i, j] = x[i, j, k], shape (4, 2, 3) from (2, 3, 4).
    // A cyclic permutation is not its own inverse: permuting g by {2, 0, 1} again is wrong.
    tt::Tensor x = leaf(iota({2, 3, 4}));
    const tt::Tensor g = iota({4, 2, 3}, 100);  // g[k, i, j] = 100 + 6k + 3i + j
    x.permute({2, 0, 1}).backward(g);
    std::vector<float> expected;  // dx[i, j, k] = g[k, i, j]
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k) expected.push_back(static_cast<float>(100 + 6 * k + 3 * i + j));
    CHECK_THAT(x.grad(), tensor_equal(raw(expected, {2, 3, 4})));
    {  // negative dims in the permutation
        tt::Tensor y = leaf(iota({2, 3, 4}));
        y.permute({-1, 0, -2}).backward(g);
        CHECK_THAT(y.grad(), tensor_equal(raw(expected, {2, 3, 4})));
    }
}

TEST_CASE("slice scatters the gradient into zeros at start start+step ...", "[points=2]") {
    {
        tt::Tensor x = leaf(iota({2, 5}));
        x.slice(1, 1, 5, 2).backward(nested({{1, 2}, {3, 4}}));  // columns 1 and 3
        INFO("a slice with step 2 starting at 1 took columns 1 and 3; every other element gets 0");
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 1, 0, 2, 0}, {0, 3, 0, 4, 0}})));
    }
    {
        tt::Tensor x = leaf(iota({2, 5}));
        x.slice(1, -4, -1, 2).backward(nested({{1, 2}, {3, 4}}));  // negative bounds: columns 1 and 3 again
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 1, 0, 2, 0}, {0, 3, 0, 4, 0}})));
    }
    {
        tt::Tensor x = leaf(iota({4, 2}));
        x.slice(0, 1, 100, 3).backward(nested({{5, 6}}));  // end clamped to 4: only row 1
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 0}, {5, 6}, {0, 0}, {0, 0}})));
    }
    {
        tt::Tensor x = leaf(iota({3, 2}));
        x.slice(0, 1, 3).backward(nested({{1, 2}, {3, 4}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 0}, {1, 2}, {3, 4}})));
    }
}

TEST_CASE("select scatters the gradient into the selected index", "[points=1]") {
    {
        tt::Tensor x = leaf(iota({2, 3}));
        x.select(1, -1).backward(nested({5, 6}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{0, 0, 5}, {0, 0, 6}})));
    }
    {
        tt::Tensor x = leaf(iota({3, 2, 2}));
        x.select(0, 1).backward(nested({{1, 2}, {3, 4}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{0, 0}, {0, 0}}, {{1, 2}, {3, 4}}, {{0, 0}, {0, 0}}})));
    }
    {
        tt::Tensor x = leaf(iota({2, 3, 2}));
        x.select(2, 0).backward(nested({{1, 2, 3}, {4, 5, 6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{{1, 0}, {2, 0}, {3, 0}}, {{4, 0}, {5, 0}, {6, 0}}})));
    }
}

TEST_CASE("expand sums the gradient over the repeated positions", "[points=1]") {
    {
        tt::Tensor c = leaf(nested({{1}, {2}}));  // (2, 1) -> (3, 2, 4)
        c.expand({3, 2, 4}).backward(iota({3, 2, 4}));
        INFO("c[i, 0] was read at every [n, i, j]: its gradient is the sum of g[n, i, j] over n and j");
        // g[n, i, j] = 8n + 4i + j: i = 0: 8 * 12 ... = 96 + 18 = 114; i = 1: 114 + 48 = 162
        CHECK_THAT(c.grad(), tensor_equal(nested({{114}, {162}})));
    }
    {
        tt::Tensor r = leaf(nested({1, 2, 3}));
        r.expand({2, 3}).backward(nested({{1, 2, 3}, {10, 20, 30}}));
        CHECK_THAT(r.grad(), tensor_equal(nested({11, 22, 33})));
    }
    {
        tt::Tensor s = leaf(raw_scalar(5));
        s.expand({2, 2}).backward(nested({{1, 2}, {3, 4}}));
        CHECK_THAT(s.grad(), tensor_equal(raw_scalar(10)));
    }
}

TEST_CASE("contiguous and clone pass the gradient through unchanged", "[points=1]") {
    {
        tt::Tensor x = leaf(iota({2, 3}));
        x.t().contiguous().backward(nested({{1, 2}, {3, 4}, {5, 6}}));  // a copy of the transpose
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 3, 5}, {2, 4, 6}})));
    }
    {
        tt::Tensor x = leaf(iota({2, 3}));
        x.clone().backward(nested({{1, 2, 3}, {4, 5, 6}}));
        CHECK_THAT(x.grad(), tensor_equal(nested({{1, 2, 3}, {4, 5, 6}})));
        tt::Tensor y = leaf(iota({2, 3}));  // contiguous of a contiguous tensor records nothing new
        tt::mul(y.contiguous(), nested({{1, 2, 3}, {4, 5, 6}})).sum().backward();
        CHECK_THAT(y.grad(), tensor_equal(nested({{1, 2, 3}, {4, 5, 6}})));
    }
}

TEST_CASE("chains of views on non-contiguous inputs match finite differences", "[points=2]") {
    using View = std::function<tt::Tensor(const tt::Tensor&)>;
    // Each chain starts from a (4, 3) leaf. Several make the gradient arrive at a node in a
    // non-contiguous layout (a transposed or expanded g), which view() cannot always reshape.
    const std::vector<std::pair<const char*, View>> chains = {
        {"t then reshape", [](const tt::Tensor& t) { return t.t().reshape({2, 6}); }},
        {"reshape then t", [](const tt::Tensor& t) { return t.reshape({3, 4}).t(); }},
        {"t then flatten", [](const tt::Tensor& t) { return t.t().flatten(); }},
        {"permute of unsqueeze", [](const tt::Tensor& t) { return t.unsqueeze(1).permute({2, 0, 1}); }},
        {"slice of transpose", [](const tt::Tensor& t) { return t.t().slice(1, 1, 4, 2); }},
        {"select of permute", [](const tt::Tensor& t) { return t.reshape({2, 2, 3}).permute({2, 1, 0}).select(1, 1); }},
        {"expand of slice", [](const tt::Tensor& t) { return t.slice(1, 0, 1).unsqueeze(0).expand({2, 4, 3}); }},
        {"squeeze of select", [](const tt::Tensor& t) { return t.unsqueeze(0).select(2, 2).squeeze(); }},
        {"contiguous of transpose", [](const tt::Tensor& t) { return t.t().contiguous(); }},
        {"clone of slice", [](const tt::Tensor& t) { return t.slice(0, -3, 4, 2).clone(); }},
        {"the same elements twice", [](const tt::Tensor& t) { return t.t().reshape({12}) * t.reshape({12}); }},
    };
    uint64_t seed = 70;
    for (const auto& [name, chain] : chains) {
        INFO("view chain: " << name);
        CHECK(gradient_check([&](const Inputs& in) { return chain(in[0]); }, {random_values({4, 3}, ++seed)}));
    }
}

TEST_CASE("nodes of module 02 read an incoming gradient through its strides and offset", "[points=2]") {
    // A node's grad_out can be any layout: an expanded 0-d seed (stride 0), a transposed gradient
    // from a PermuteBackward, a slice. Each node here is called directly with g laid out with gaps
    // and an offset (padded) and with stride 0, and must give the same result as for contiguous g.
    struct NodeCase {
        const char* name;
        tt::Shape input_shape;
        std::function<tt::Tensor(const tt::Tensor&)> op;
    };
    const std::vector<NodeCase> cases = {
        {"sum(x, 1)", {2, 3}, [](const tt::Tensor& x) { return tt::sum(x, 1); }},
        {"mean(x, 0)", {2, 3}, [](const tt::Tensor& x) { return tt::mean(x, 0); }},
        {"max(x, 1)", {2, 3}, [](const tt::Tensor& x) { return tt::max(x, 1); }},
        {"max(x)", {2, 3}, [](const tt::Tensor& x) { return tt::max(x); }},
        {"sum(x)", {2, 3}, [](const tt::Tensor& x) { return tt::sum(x); }},
        {"x * x", {2, 3}, [](const tt::Tensor& x) { return x * x; }},
        {"exp(x)", {2, 3}, [](const tt::Tensor& x) { return tt::exp(x); }},
        {"matmul(x, x^T)", {2, 3}, [](const tt::Tensor& x) { return tt::matmul(x, x.detach().t()); }},
        {"reshape", {2, 3}, [](const tt::Tensor& x) { return x.reshape({3, 2}); }},
        {"transpose", {2, 3}, [](const tt::Tensor& x) { return x.t(); }},
        {"slice", {2, 3}, [](const tt::Tensor& x) { return x.slice(1, 0, 3, 2); }},
        {"select", {2, 3}, [](const tt::Tensor& x) { return x.select(0, 1); }},
        {"expand", {2, 1}, [](const tt::Tensor& x) { return x.expand({2, 2}); }},
        {"clone", {2, 3}, [](const tt::Tensor& x) { return x.clone(); }},
    };
    uint64_t seed = 90;
    for (const NodeCase& c : cases) {
        tt::Tensor x = leaf(random_values(c.input_shape, ++seed, 0.5f, 2.0f));
        const tt::Tensor out = c.op(x);
        REQUIRE(out.grad_fn() != nullptr);
        tt::NoGradGuard no_grad;  // as inside backward()
        const tt::Tensor g = random_values(out.shape(), ++seed);
        out.grad_fn()->backward(g);
        const tt::Tensor expected = raw_copy(x.grad());
        x.zero_grad();
        out.grad_fn()->backward(padded(g));
        INFO(c.name << ": backward with a padded gradient (gaps and an offset) " << describe_tensor(padded(g)));
        CHECK_THAT(x.grad(), tensor_near(expected, 1e-6, 1e-6));
        x.zero_grad();
        const tt::Tensor same = raw_scalar(0.75f);  // one value read through stride 0 everywhere
        const tt::Tensor expanded = same.expand(out.shape());
        out.grad_fn()->backward(expanded);
        const tt::Tensor expected_expanded = raw_copy(x.grad());
        x.zero_grad();
        out.grad_fn()->backward(raw(std::vector<float>(static_cast<size_t>(count_of(out.shape())), 0.75f), out.shape()));
        INFO(c.name << ": backward with a stride-0 gradient (every element 0.75)");
        CHECK_THAT(expected_expanded, tensor_near(raw_copy(x.grad()), 1e-6, 1e-6));
    }
}
