// test_embedding_forward.cpp - module 12 grader: embedding(ids, weight), the lookup (embedding.cpp).
//     ids S (whole numbers in [0, V)), weight (V, D) -> S + (D): out[..., :] = weight[id]
// Expected values: by hand, or from the plain loops of embedding_reference.h.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "embedding_reference.h"
#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/embedding.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = embedding_reference;

namespace {

// weight (4, 2): row v = [10 v, 10 v + 1], so every output value says which row it came from
tt::Tensor table_4x2() { return nested({{0, 1}, {10, 11}, {20, 21}, {30, 31}}); }

}  // namespace

TEST_CASE("embedding of 1-D ids by hand", "[points=2]") {
    CHECK_THAT(tt::embedding(nested({2, 0, 3}), table_4x2()), tensor_equal(nested({{20, 21}, {0, 1}, {30, 31}})));
    CHECK_THAT(tt::embedding(nested({1}), table_4x2()), tensor_equal(nested({{10, 11}})));
}

TEST_CASE("embedding of (B T) ids gives (B T D) and not (B x T D)", "[points=2]") {
    const tt::Tensor out = tt::embedding(nested({{1, 1, 3}, {0, 2, 1}}), table_4x2());
    REQUIRE(out.shape() == tt::Shape{2, 3, 2});
    CHECK_THAT(out, tensor_equal(nested({{{10, 11}, {10, 11}, {30, 31}}, {{0, 1}, {20, 21}, {10, 11}}})));
}

TEST_CASE("embedding of 3-D ids keeps every dimension", "[points=1]") {
    const tt::Tensor ids = ref::random_ids({2, 3, 4}, 7, 11);
    const tt::Tensor w = random_values({7, 5}, 12);
    const tt::Tensor out = tt::embedding(ids, w);
    REQUIRE(out.shape() == tt::Shape{2, 3, 4, 5});
    CHECK_THAT(out, tensor_equal(ref::lookup(ids, w)));
}

TEST_CASE("embedding of a 0-d id gives one row of D values", "[points=1]") {
    const tt::Tensor out = tt::embedding(raw_scalar(3), table_4x2());
    CHECK_THAT(out, tensor_equal(nested({30, 31})));
}

TEST_CASE("embedding of no ids gives an empty output with D columns", "[points=1]") {
    CHECK(tt::embedding(raw({}, {0}), table_4x2()).shape() == tt::Shape{0, 2});
    CHECK(tt::embedding(raw({}, {2, 0}), table_4x2()).shape() == tt::Shape{2, 0, 2});
}

TEST_CASE("embedding with the first and the last row of the table", "[points=1]") {
    const tt::Tensor w = random_values({9, 3}, 3);
    const tt::Tensor ids = nested({8, 0, 8, 0});
    CHECK_THAT(tt::embedding(ids, w), tensor_equal(ref::lookup(ids, w)));
}

TEST_CASE("embedding against a reference lookup for random ids and tables", "[points=3]") {
    struct Case {
        tt::Shape ids;
        int64_t V, D;
    };
    const std::vector<Case> cases = {{{12}, 5, 4}, {{3, 8}, 65, 16}, {{4, 16}, 100, 7}, {{2, 2, 2}, 3, 1}, {{1, 1}, 1, 9}};
    uint64_t seed = 100;
    for (const Case& c : cases) {
        const tt::Tensor ids = ref::random_ids(c.ids, c.V, seed++);
        const tt::Tensor w = random_values({c.V, c.D}, seed++);
        INFO("ids " << shape_text(c.ids) << ", weight (" << c.V << ", " << c.D << ")");
        CHECK_THAT(tt::embedding(ids, w), tensor_equal(ref::lookup(ids, w)));
    }
}

TEST_CASE("embedding reads transposed ids through their strides", "[points=2]") {
    // ids (3, 2) transposed -> (2, 3): [[0, 2, 1], [3, 1, 0]]
    const tt::Tensor ids = nested({{0, 3}, {2, 1}, {1, 0}}).t();
    CHECK_THAT(tt::embedding(ids, table_4x2()),
               tensor_equal(nested({{{0, 1}, {20, 21}, {10, 11}}, {{30, 31}, {10, 11}, {0, 1}}})));
}

TEST_CASE("embedding reads sliced and padded ids with offset and step and gaps", "[points=2]") {
    // every other element, from the second: [2, 1, 3]
    CHECK_THAT(tt::embedding(nested({9, 2, 9, 1, 9, 3}).slice(0, 1, 6, 2), table_4x2()),
               tensor_equal(nested({{20, 21}, {10, 11}, {30, 31}})));
    const tt::Tensor ids = ref::random_ids({3, 5}, 4, 21);
    CHECK_THAT(tt::embedding(padded(ids), table_4x2()), tensor_equal(ref::lookup(ids, table_4x2())));
}

TEST_CASE("embedding reads a non-contiguous table through its strides", "[points=2]") {
    const tt::Tensor w = random_values({6, 4}, 31);
    const tt::Tensor ids = nested({{5, 0, 2}, {2, 2, 4}});
    CHECK_THAT(tt::embedding(ids, padded(w)), tensor_equal(ref::lookup(ids, w)));
    // a transposed view: table (4, 6)^T
    const tt::Tensor wt = random_values({4, 6}, 32);
    CHECK_THAT(tt::embedding(ids, wt.t()), tensor_equal(ref::lookup(ids, raw_copy(wt.t()))));
}

TEST_CASE("embedding returns new memory: writing into the output leaves the table alone", "[points=1]") {
    const tt::Tensor w = table_4x2();
    tt::Tensor out = tt::embedding(nested({1, 1}), w);
    CHECK_FALSE(shares_storage(out, w));
    out.fill_(-5.0f);
    CHECK_THAT(w, tensor_equal(table_4x2()));
}

TEST_CASE("embedding rejects id == V (one past the last row)", "[points=2]") {
    CHECK_THAT(error_message([] { tt::embedding(nested({0, 4}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([] { tt::embedding(nested({100}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([] { tt::embedding(nested({1e9f}), table_4x2()); }), Contains("embedding"));
}

TEST_CASE("embedding rejects negative ids including -0.5", "[points=2]") {
    CHECK_THAT(error_message([] { tt::embedding(nested({-1}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([] { tt::embedding(nested({-0.5f}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([] { tt::embedding(nested({2, -3}), table_4x2()); }), Contains("embedding"));
}

TEST_CASE("embedding rejects ids that are not whole numbers instead of rounding or truncating them", "[points=2]") {
    CHECK_THAT(error_message([] { tt::embedding(nested({2.5f}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([] { tt::embedding(nested({2.9999f}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([] { tt::embedding(nested({0.0001f}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([] { tt::embedding(nested({3.5f}), table_4x2()); }), Contains("embedding"));
}

TEST_CASE("embedding rejects NaN and infinite ids", "[points=1]") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    CHECK_THAT(error_message([&] { tt::embedding(nested({1, nan}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({inf}), table_4x2()); }), Contains("embedding"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({-inf}), table_4x2()); }), Contains("embedding"));
}

TEST_CASE("embedding's error names the id and its position in ids and V", "[points=2]") {
    const std::string message = error_message([] { tt::embedding(nested({{0, 1, 2}, {3, 7, 0}}), table_4x2()); });
    CHECK_THAT(message, Contains("embedding") && Contains("7") && Contains("4"));
    // the position: [1, 1] (or the flat index 4)
    CHECK((message.find("[1, 1]") != std::string::npos || message.find("(1, 1)") != std::string::npos ||
           message.find("4") != std::string::npos));
    const std::string fraction = error_message([] { tt::embedding(nested({0, 1.5f}), table_4x2()); });
    CHECK_THAT(fraction, Contains("1.5"));
}

TEST_CASE("embedding rejects a table that is not 2-D", "[points=1]") {
    CHECK_THAT(error_message([] { tt::embedding(nested({0}), nested({1, 2, 3})); }), Contains("embedding"));
    CHECK_THAT(error_message([] { tt::embedding(nested({0}), raw(std::vector<float>(8, 0.0f), {2, 2, 2})); }),
               Contains("embedding"));
}

TEST_CASE("embedding records a graph only for the table and never for the ids", "[points=1]") {
    tt::Tensor w = leaf(table_4x2());
    CHECK(tt::embedding(nested({1}), w).requires_grad());
    // ids that require grad do not make the output differentiable: ids are not a differentiable input
    tt::Tensor ids = leaf(nested({1, 2}));
    CHECK_FALSE(tt::embedding(ids, table_4x2()).requires_grad());
    {
        tt::NoGradGuard no_grad;
        CHECK_FALSE(tt::embedding(nested({1}), w).requires_grad());
    }
}
