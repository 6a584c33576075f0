// test_embedding_backward.cpp - module 12 grader: EmbeddingBackward, the scatter-add (embedding.cpp).
//     d weight[ids[i]] += g[i] for every position i: repeated ids add up, absent ids get zero
// Expected values: by hand, from embedding_reference.h's scatter_add, finite differences
// (grading.h's gradient_check) or PyTorch 1.13 (numbers written below).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "embedding_reference.h"
#include "grading.h"
#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/embedding.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
namespace ref = embedding_reference;

namespace {

tt::Tensor table_4x2() { return nested({{0, 1}, {10, 11}, {20, 21}, {30, 31}}); }

}  // namespace

TEST_CASE("embedding backward by hand sends each row's gradient to its id's row", "[points=2]") {
    tt::Tensor w = leaf(table_4x2());
    const tt::Tensor out = tt::embedding(nested({3, 0, 2}), w);
    REQUIRE(out.grad_fn() != nullptr);
    CHECK(std::string(out.grad_fn()->name()) == "EmbeddingBackward");
    out.backward(nested({{1, 2}, {3, 4}, {5, 6}}));
    CHECK_THAT(w.grad(), tensor_equal(nested({{3, 4}, {0, 0}, {5, 6}, {1, 2}})));
}

TEST_CASE("embedding backward adds the gradients of a repeated id", "[points=3]") {
    // "to be or not to be": id 1 three times, id 3 once, ids 0 and 2 never
    tt::Tensor w = leaf(table_4x2());
    tt::embedding(nested({{1, 3}, {1, 1}}), w).backward(nested({{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}));
    CHECK_THAT(w.grad(), tensor_equal(nested({{0, 0}, {13, 16}, {0, 0}, {3, 4}})));
}

TEST_CASE("embedding backward sends the gradient to the id's row and not to the position's row", "[points=2]") {
    tt::Tensor w = leaf(random_values({6, 2}, 5));
    // position i holds id 5 - i: a gradient sent to row i instead of row ids[i] is visibly wrong
    const tt::Tensor ids = nested({5, 4, 3});
    const tt::Tensor g = nested({{1, -1}, {2, -2}, {3, -3}});
    tt::embedding(ids, w).backward(g);
    CHECK_THAT(w.grad(), tensor_equal(nested({{0, 0}, {0, 0}, {0, 0}, {3, -3}, {2, -2}, {1, -1}})));
}

TEST_CASE("embedding backward against a reference scatter-add with many repeated ids", "[points=3]") {
    struct Case {
        tt::Shape ids;
        int64_t V, D;
    };
    const std::vector<Case> cases = {{{40}, 3, 4}, {{12, 64}, 65, 8}, {{4, 16}, 100, 5}, {{2, 3, 5}, 7, 3}};
    uint64_t seed = 200;
    for (const Case& c : cases) {
        const tt::Tensor ids = ref::random_ids(c.ids, c.V, seed++);
        tt::Tensor w = leaf(random_values({c.V, c.D}, seed++));
        tt::Shape out_shape = c.ids;
        out_shape.push_back(c.D);
        const tt::Tensor g = random_values(out_shape, seed++);
        tt::embedding(ids, w).backward(g);
        INFO("ids " << shape_text(c.ids) << ", weight (" << c.V << ", " << c.D << ")");
        CHECK_THAT(w.grad(), tensor_near(ref::scatter_add(ids, g, c.V, c.D), 1e-4, 1e-5));
    }
}

TEST_CASE("embedding gradient check with 1-D ids holding repeated ids", "[points=2]") {
    const tt::Tensor ids = nested({4, 0, 4, 4, 2, 0});
    CHECK(gradient_check([&](const auto& in) { return tt::embedding(ids, in[0]); }, {random_values({5, 3}, 41)}));
}

TEST_CASE("embedding gradient check with (B T) ids", "[points=2]") {
    const tt::Tensor ids = nested({{1, 3, 1, 0}, {1, 0, 2, 2}});
    CHECK(gradient_check([&](const auto& in) { return tt::embedding(ids, in[0]); }, {random_values({4, 3}, 42)}));
}

TEST_CASE("embedding gradient check with transposed ids and a nonlinearity after the lookup", "[points=2]") {
    const tt::Tensor ids = nested({{1, 4}, {3, 3}, {0, 1}}).t();  // (2, 3): [[1, 3, 0], [4, 3, 1]]
    CHECK(gradient_check([&](const auto& in) { return tt::tanh(tt::embedding(ids, in[0])); }, {random_values({5, 2}, 43)}));
}

TEST_CASE("embedding backward reads a non-contiguous upstream gradient through its strides", "[points=2]") {
    // sum()'s backward hands over an expanded (stride 0) gradient; a transpose hands over a transposed one
    tt::Tensor w = leaf(table_4x2());
    tt::embedding(nested({{1, 2}, {1, 0}}), w).sum().backward();
    CHECK_THAT(w.grad(), tensor_equal(nested({{1, 1}, {2, 2}, {1, 1}, {0, 0}})));

    tt::Tensor w2 = leaf(random_values({4, 3}, 51));
    const tt::Tensor ids = nested({{0, 3}, {3, 1}});
    const tt::Tensor c = random_values({3, 2, 2}, 52);  // (D, T, B)
    (tt::embedding(ids, w2).transpose(0, 2) * c).sum().backward();
    // d out[b, t, d] = c[d, t, b]
    const tt::Tensor g = raw_copy(c.transpose(0, 2));
    CHECK_THAT(w2.grad(), tensor_near(ref::scatter_add(ids, g, 4, 3), 1e-6, 1e-6));

    // a non-contiguous gradient passed to backward() directly
    tt::Tensor w3 = leaf(random_values({4, 3}, 53));
    const tt::Tensor g3 = random_values({2, 2, 3}, 54);
    tt::embedding(ids, w3).backward(padded(g3));
    CHECK_THAT(w3.grad(), tensor_near(ref::scatter_add(ids, g3, 4, 3), 1e-6, 1e-6));
}

TEST_CASE("embedding backward accumulates when two lookups share one table", "[points=2]") {
    tt::Tensor w = leaf(table_4x2());
    const tt::Tensor a = tt::embedding(nested({2, 2}), w);
    const tt::Tensor b = tt::embedding(nested({0, 2}), w);
    (a.sum() + b.sum() * 2.0f).backward();
    CHECK_THAT(w.grad(), tensor_equal(nested({{2, 2}, {0, 0}, {4, 4}, {0, 0}})));
    // and a second backward adds to the first
    tt::embedding(nested({3}), w).sum().backward();
    CHECK_THAT(w.grad(), tensor_equal(nested({{2, 2}, {0, 0}, {4, 4}, {1, 1}})));
}

TEST_CASE("embedding backward gives the table a gradient of its own shape", "[points=1]") {
    tt::Tensor w = leaf(random_values({7, 3}, 61));
    tt::embedding(nested({{1}}), w).sum().backward();
    REQUIRE(w.grad().defined());
    CHECK(w.grad().shape() == tt::Shape{7, 3});
}

TEST_CASE("embedding backward never gives the ids a gradient", "[points=1]") {
    tt::Tensor w = leaf(table_4x2());
    tt::Tensor ids = leaf(nested({2, 1}));
    tt::embedding(ids, w).sum().backward();
    CHECK_FALSE(ids.grad().defined());
    CHECK(w.grad().defined());
}

TEST_CASE("embedding backward uses the ids of the forward pass even if the ids tensor is reused", "[points=1]") {
    // a data loader may write the next batch into the same buffer (writes through data() are not
    // versioned): the node keeps its own copy of the ids
    tt::Tensor w = leaf(table_4x2());
    tt::Tensor ids = nested({3, 1});
    const tt::Tensor out = tt::embedding(ids, w);
    ids.data()[0] = 0.0f;
    ids.data()[1] = 0.0f;
    out.backward(nested({{1, 1}, {2, 2}}));
    CHECK_THAT(w.grad(), tensor_equal(nested({{0, 0}, {2, 2}, {0, 0}, {1, 1}})));
}
