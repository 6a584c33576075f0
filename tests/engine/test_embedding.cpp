// test_embedding.cpp - module 12: embedding (lookup and scatter-add backward), sinusoidal
// positions, and the Embedding / positional layers (engine/src/12_embeddings/embedding.cpp).
//
// Expected values: by hand, or from PyTorch 1.13 (numbers written below, with the Python that
// produced them).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine_testing.h"
#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/embedding.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

// weight (4, 2): row v = [10 v, 10 v + 1]
tt::Tensor table_4x2() { return nested({{0, 1}, {10, 11}, {20, 21}, {30, 31}}); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// embedding forward
// ---------------------------------------------------------------------------------------------

TEST_CASE("embedding: rows of the table by hand, ids (T,) and (B, T)", "[12][embedding]") {
    const tt::Tensor w = table_4x2();
    CHECK_THAT(tt::embedding(nested({2, 0, 3}), w), tensor_equal(nested({{20, 21}, {0, 1}, {30, 31}})));
    // (B, T) = (2, 3) -> (2, 3, 2), repeated ids copy the same row
    CHECK_THAT(tt::embedding(nested({{1, 1, 3}, {0, 2, 1}}), w),
               tensor_equal(nested({{{10, 11}, {10, 11}, {30, 31}}, {{0, 1}, {20, 21}, {10, 11}}})));
    // a 0-d id gives one row (D,)
    CHECK_THAT(tt::embedding(raw_scalar(3), w), tensor_equal(nested({30, 31})));
    // no ids: (0,) -> (0, D)
    CHECK(tt::embedding(raw({}, {0}), w).shape() == tt::Shape{0, 2});
}

TEST_CASE("embedding: the output is a copy, not a view of the table", "[12][embedding]") {
    const tt::Tensor w = table_4x2();
    const tt::Tensor out = tt::embedding(nested({1}), w);
    CHECK_FALSE(shares_storage(out, w));
    CHECK(out.is_contiguous());
}

TEST_CASE("embedding: non-contiguous ids and table are read through their strides", "[12][embedding]") {
    const tt::Tensor w = table_4x2();
    // ids (3, 2) transposed -> (2, 3): [[0, 2, 1], [3, 1, 0]]
    const tt::Tensor ids = nested({{0, 3}, {2, 1}, {1, 0}}).t();
    CHECK_THAT(tt::embedding(ids, w),
               tensor_equal(nested({{{0, 1}, {20, 21}, {10, 11}}, {{30, 31}, {10, 11}, {0, 1}}})));
    CHECK_THAT(tt::embedding(nested({3, 0}), padded(w)), tensor_equal(nested({{30, 31}, {0, 1}})));
    // a sliced view with an offset and a step
    CHECK_THAT(tt::embedding(nested({9, 2, 9, 1, 9, 3}).slice(0, 1, 6, 2), w),
               tensor_equal(nested({{20, 21}, {10, 11}, {30, 31}})));
}

TEST_CASE("embedding: invalid ids and tables throw errors that name the id, its position and V",
          "[12][embedding][errors]") {
    const tt::Tensor w = table_4x2();
    CHECK_THAT(error_message([&] { tt::embedding(nested({0, 4}), w); }),
               Contains("embedding") && Contains("id 4") && Contains("[1]") && Contains("4)"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({{0, 1}, {-1, 2}}), w); }),
               Contains("embedding") && Contains("id -1") && Contains("[1, 0]"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({2.5f}), w); }), Contains("embedding") && Contains("2.5"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({2.9999f}), w); }), Contains("embedding"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({-0.5f}), w); }), Contains("embedding"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({std::nanf("")}), w); }), Contains("embedding") && Contains("nan"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({std::numeric_limits<float>::infinity()}), w); }),
               Contains("embedding"));
    CHECK_THAT(error_message([&] { tt::embedding(nested({0}), nested({1, 2, 3})); }),
               Contains("embedding") && Contains("(3)"));
}

// ---------------------------------------------------------------------------------------------
// embedding backward
// ---------------------------------------------------------------------------------------------

TEST_CASE("embedding backward by hand: repeated ids add up, absent ids get zero", "[12][embedding][backward]") {
    tt::Tensor w = leaf(table_4x2());
    // "to be or not to be": id 1 three times, id 3 once, ids 0 and 2 never
    const tt::Tensor out = tt::embedding(nested({{1, 3}, {1, 1}}), w);  // (2, 2, 2)
    out.backward(nested({{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}));
    CHECK_THAT(w.grad(), tensor_equal(nested({{0, 0}, {13, 16}, {0, 0}, {3, 4}})));
    CHECK(out.grad_fn() != nullptr);
    CHECK(std::string(out.grad_fn()->name()) == "EmbeddingBackward");
}

TEST_CASE("embedding backward accumulates into an existing gradient and never reaches the ids",
          "[12][embedding][backward]") {
    tt::Tensor w = leaf(table_4x2());
    tt::Tensor ids = leaf(nested({2, 2}));
    tt::embedding(ids, w).sum().backward();
    tt::embedding(nested({0}), w).sum().backward();
    CHECK_THAT(w.grad(), tensor_equal(nested({{1, 1}, {0, 0}, {2, 2}, {0, 0}})));
    CHECK_FALSE(ids.grad().defined());
}

TEST_CASE("embedding backward keeps its own copy of the ids", "[12][embedding][backward]") {
    tt::Tensor w = leaf(table_4x2());
    tt::Tensor ids = nested({3, 1});
    const tt::Tensor out = tt::embedding(ids, w);
    ids.data()[0] = 0.0f;  // a data loader reusing its buffer, say (not counted as a version)
    out.backward(nested({{1, 1}, {2, 2}}));
    CHECK_THAT(w.grad(), tensor_equal(nested({{0, 0}, {2, 2}, {0, 0}, {1, 1}})));
}

TEST_CASE("embedding gradcheck: repeated ids, (B, T) ids, transposed ids", "[12][embedding][gradcheck]") {
    const tt::Tensor w = leaf(random_values({5, 3}, 12));
    const tt::Tensor ids_1d = nested({4, 0, 4, 4, 2});
    check_gradients("ids (5,) with repeats",
                    [&](const Inputs& in) { return tt::embedding(ids_1d, in[0]); }, {w});
    const tt::Tensor ids_2d = nested({{1, 3, 1}, {1, 0, 2}});
    check_gradients("ids (2, 3)", [&](const Inputs& in) { return tt::embedding(ids_2d, in[0]); }, {w});
    const tt::Tensor ids_t = nested({{1, 4}, {3, 3}, {0, 1}}).t();
    check_gradients("ids transposed (2, 3)", [&](const Inputs& in) { return tt::embedding(ids_t, in[0]) * 2.0f; }, {w});
}

// ---------------------------------------------------------------------------------------------
// sinusoidal_positions
// ---------------------------------------------------------------------------------------------

// Python (PyTorch 1.13, float64 then float32):
//   pe[t, c] = sin(t * 10000 ** (-c / d)) for even c, cos(t * 10000 ** (-(c - 1) / d)) for odd c
TEST_CASE("sinusoidal_positions: values from the formula (PyTorch), even and odd dim", "[12][positions]") {
    CHECK_THAT(tt::sinusoidal_positions(4, 6),
               tensor_near(nested({{0, 1, 0, 1, 0, 1},
                                   {0.84147096f, 0.54030228f, 0.04639922f, 0.99892300f, 0.00215443f, 0.99999768f},
                                   {0.90929741f, -0.41614684f, 0.09269850f, 0.99569422f, 0.00430886f, 0.99999070f},
                                   {0.14112000f, -0.98999250f, 0.13879810f, 0.99032068f, 0.00646326f, 0.99997914f}}),
                           1e-6, 1e-6));
    // odd dim: the last column is a sin without its cos
    CHECK_THAT(tt::sinusoidal_positions(3, 5),
               tensor_near(nested({{0, 1, 0, 1, 0},
                                   {0.841470957f, 0.540302277f, 0.0251162220f, 0.999684513f, 6.30957307e-04f},
                                   {0.909297407f, -0.416146845f, 0.0502166003f, 0.998738348f, 1.26191438e-03f}}),
                           1e-6, 1e-6));
    // the GPT size: row 63, first 6 columns, and row 50, columns 60..63
    const tt::Tensor pe = tt::sinusoidal_positions(64, 128);
    REQUIRE(pe.shape() == tt::Shape{64, 128});
    CHECK_THAT(pe.slice(0, 63, 64).slice(1, 0, 6),
               tensor_near(nested({{0.16735570f, 0.98589659f, -0.91222280f, -0.40969443f, -0.11916156f, -0.99287486f}}),
                           1e-5, 1e-5));
    CHECK_THAT(pe.slice(0, 50, 51).slice(1, 60, 64),
               tensor_near(nested({{0.61844373f, 0.78582913f, 0.54583973f, 0.83788961f}}), 1e-5, 1e-5));
    CHECK(tt::sinusoidal_positions(0, 4).shape() == tt::Shape{0, 4});
    CHECK_THAT(tt::sinusoidal_positions(2, 1), tensor_near(nested({{0}, {0.84147096f}}), 1e-6, 1e-6));
    CHECK_FALSE(tt::sinusoidal_positions(2, 4).requires_grad());
}

TEST_CASE("sinusoidal_positions: bad sizes throw", "[12][positions][errors]") {
    CHECK_THAT(error_message([] { tt::sinusoidal_positions(-1, 4); }), Contains("sinusoidal_positions") && Contains("-1"));
    CHECK_THAT(error_message([] { tt::sinusoidal_positions(4, 0); }), Contains("sinusoidal_positions") && Contains("0"));
}

// ---------------------------------------------------------------------------------------------
// The layers
// ---------------------------------------------------------------------------------------------

TEST_CASE("Embedding: a (V, D) parameter drawn N(0, 1) from the generator", "[12][layer]") {
    tt::Generator gen(7);
    tt::Embedding emb(65, 128, &gen);
    REQUIRE(emb.weight.shape() == tt::Shape{65, 128});
    CHECK(emb.weight.requires_grad());
    const auto params = emb.named_parameters();
    REQUIRE(params.size() == 1);
    CHECK(params[0].first == "weight");
    CHECK(emb.named_buffers().empty());
    CHECK(emb.to_string() == "Embedding(65, 128)");
    // the same draws as randn from a generator with the same seed
    tt::Generator again(7);
    CHECK_THAT(emb.weight, tensor_equal(tt::randn({65, 128}, &again)));
    double sum = 0, squares = 0;
    for (float v : values_of(emb.weight)) {
        sum += v;
        squares += static_cast<double>(v) * v;
    }
    const double n = 65.0 * 128.0, mean = sum / n;
    CHECK(std::abs(mean) < 0.05);
    CHECK(std::abs(squares / n - mean * mean - 1.0) < 0.06);
    // forward is embedding(ids, weight)
    const tt::Tensor ids = nested({{46, 47, 1}});
    CHECK_THAT(emb(ids), tensor_equal(tt::embedding(ids, emb.weight.detach())));
    CHECK(emb(ids).shape() == tt::Shape{1, 3, 128});
    CHECK_THAT(error_message([] { tt::Embedding(0, 4); }), Contains("Embedding"));
}

TEST_CASE("SinusoidalPositionalEncoding: adds pe[t] to position t; pe is a buffer", "[12][layer][positions]") {
    tt::SinusoidalPositionalEncoding enc(8, 4);
    CHECK(enc.named_parameters().empty());
    const auto buffers = enc.named_buffers();
    REQUIRE(buffers.size() == 1);
    CHECK(buffers[0].first == "pe");
    CHECK_FALSE(enc.pe.requires_grad());
    CHECK(enc.to_string() == "SinusoidalPositionalEncoding(8, 4)");
    CHECK_THAT(enc.pe, tensor_equal(tt::sinusoidal_positions(8, 4)));

    const tt::Tensor pe3 = tt::sinusoidal_positions(3, 4);
    const tt::Tensor x = random_values({2, 3, 4}, 5);
    const std::vector<float> xs = values_of(x), ps = values_of(pe3);
    std::vector<float> expected(xs.size());
    for (size_t i = 0; i < xs.size(); ++i) expected[i] = xs[i] + ps[i % 12];
    CHECK_THAT(enc(x), tensor_near(raw(expected, {2, 3, 4})));
    // (T, dim) input
    CHECK_THAT(enc(x.slice(0, 1, 2).squeeze(0)), tensor_near(raw({expected.begin() + 12, expected.end()}, {3, 4})));
    // gradient reaches x (unchanged) and nothing else
    tt::Tensor xl = leaf(x);
    enc(xl).sum().backward();
    CHECK_THAT(xl.grad(), tensor_equal(tt::ones({2, 3, 4})));
    CHECK_FALSE(enc.pe.grad().defined());
}

TEST_CASE("LearnedPositionalEmbedding: adds weight rows 0..T-1; gradients summed over the batch",
          "[12][layer][positions]") {
    tt::Generator gen(3);
    tt::LearnedPositionalEmbedding pos(5, 2, &gen);
    REQUIRE(pos.weight.shape() == tt::Shape{5, 2});
    CHECK(pos.weight.requires_grad());
    REQUIRE(pos.named_parameters().size() == 1);
    CHECK(pos.named_parameters()[0].first == "weight");
    CHECK(pos.named_buffers().empty());
    CHECK(pos.to_string() == "LearnedPositionalEmbedding(5, 2)");
    tt::Generator again(3);
    CHECK_THAT(pos.weight, tensor_equal(tt::randn({5, 2}, &again)));
    {
        tt::NoGradGuard no_grad;
        pos.weight.copy_(nested({{0, 1}, {10, 11}, {20, 21}, {30, 31}, {40, 41}}));
    }
    // (B, T, D) = (2, 3, 2), T = 3 < max_length = 5: rows 0, 1, 2
    tt::Tensor x = leaf(nested({{{1, 1}, {2, 2}, {3, 3}}, {{4, 4}, {5, 5}, {6, 6}}}));
    const tt::Tensor y = pos(x);
    CHECK_THAT(y, tensor_equal(nested({{{1, 2}, {12, 13}, {23, 24}}, {{4, 5}, {15, 16}, {26, 27}}})));
    y.backward(nested({{{1, 2}, {3, 4}, {5, 6}}, {{10, 20}, {30, 40}, {50, 60}}}));
    CHECK_THAT(pos.weight.grad(), tensor_equal(nested({{11, 22}, {33, 44}, {55, 66}, {0, 0}, {0, 0}})));
    CHECK_THAT(x.grad(), tensor_equal(nested({{{1, 2}, {3, 4}, {5, 6}}, {{10, 20}, {30, 40}, {50, 60}}})));
    // (T, D) input
    CHECK_THAT(pos(nested({{1, 1}, {1, 1}})), tensor_equal(nested({{1, 2}, {11, 12}})));
}

TEST_CASE("positional layers: gradcheck through weight and x", "[12][layer][gradcheck]") {
    tt::LearnedPositionalEmbedding pos(6, 3);
    check_gradients("learned positions, x (2, 4, 3) and weight (6, 3)",
                    [&](const Inputs& in) {
                        pos.weight = in[1];  // the layer reads its weight handle
                        return pos(in[0]);
                    },
                    {leaf(random_values({2, 4, 3}, 1)), leaf(random_values({6, 3}, 2))});
    tt::SinusoidalPositionalEncoding enc(6, 3);
    check_gradients("sinusoidal, x (4, 3)", [&](const Inputs& in) { return enc(in[0]) * in[0]; },
                    {leaf(random_values({4, 3}, 3))});
}

TEST_CASE("positional layers: errors name T and max_length, or both widths", "[12][layer][errors]") {
    tt::SinusoidalPositionalEncoding enc(4, 8);
    tt::LearnedPositionalEmbedding pos(4, 8);
    for (tt::Module* layer : std::vector<tt::Module*>{&enc, &pos}) {
        INFO(layer->name());
        CHECK_THAT(error_message([&] { (*layer)(tt::zeros({2, 5, 8})); }),
                   Contains(layer->name()) && Contains("5") && Contains("max_length = 4"));
        CHECK_THAT(error_message([&] { (*layer)(tt::zeros({2, 3, 6})); }),
                   Contains(layer->name()) && Contains("6") && Contains("dim = 8"));
        CHECK_THAT(error_message([&] { (*layer)(tt::zeros({8})); }), Contains(layer->name()));
        CHECK((*layer)(tt::zeros({1, 4, 8})).shape() == tt::Shape{1, 4, 8});  // T == max_length is fine
    }
    CHECK_THAT(error_message([] { tt::LearnedPositionalEmbedding(0, 8); }), Contains("LearnedPositionalEmbedding"));
    CHECK_THAT(error_message([] { tt::SinusoidalPositionalEncoding(4, 0); }), Contains("SinusoidalPositionalEncoding"));
}

TEST_CASE("positional layers: non-contiguous x, empty batch, one fused node", "[12][layer][positions]") {
    tt::LearnedPositionalEmbedding pos(4, 3);
    {
        tt::NoGradGuard no_grad;
        pos.weight.copy_(iota({4, 3}));
    }
    // x (2, 3, 4) transposed -> (2, 4, 3): T == max_length
    const tt::Tensor x = random_values({2, 3, 4}, 9);
    const tt::Tensor xt = x.transpose(1, 2);
    std::vector<float> expected = values_of(xt);
    for (size_t i = 0; i < expected.size(); ++i) expected[i] += static_cast<float>(i % 12);
    CHECK_THAT(pos(xt), tensor_near(raw(expected, {2, 4, 3})));
    CHECK_THAT(pos(padded(raw_copy(xt))), tensor_near(raw(expected, {2, 4, 3})));
    // no sequences: (0, 2, 3) -> (0, 2, 3), and a zero gradient for the table
    tt::Tensor empty_x = leaf(raw({}, {0, 2, 3}));
    const tt::Tensor y = pos(empty_x);
    CHECK(y.shape() == tt::Shape{0, 2, 3});
    y.sum().backward();
    CHECK_THAT(pos.weight.grad(), tensor_equal(raw(std::vector<float>(12, 0.0f), {4, 3})));
    // one node, not a chain of add + slice: the backward of a GPT step runs it once
    tt::Tensor xl = leaf(random_values({2, 2, 3}, 10));
    const tt::Tensor out = pos(xl);
    REQUIRE(out.grad_fn() != nullptr);
    CHECK(std::string(out.grad_fn()->name()) == "AddPositionsBackward");
}

// PyTorch 1.13:
//   W = tensor([[0.5, -1.2, 0.3], [1.1, 0.4, -0.7], [-0.3, 0.8, 0.9], [0.2, -0.5, 1.5], [-1.4, 0.6, 0.1]])
//   P = tensor([[0.1, 0.2, -0.1], [-0.3, 0.0, 0.4], [0.25, -0.15, 0.05], [0.0, 0.3, -0.2], [0.7] * 3, [-0.9, 0.9, -0.9]])
//   x = F.embedding(ids, W) + P[:4]; loss = F.cross_entropy(x.reshape(8, 3), targets); loss.backward()
TEST_CASE("tokens + learned positions + cross_entropy against PyTorch", "[12][layer][pytorch]") {
    tt::Embedding tokens(5, 3);
    tt::LearnedPositionalEmbedding positions(6, 3);
    {
        tt::NoGradGuard no_grad;
        tokens.weight.copy_(nested({{0.5f, -1.2f, 0.3f}, {1.1f, 0.4f, -0.7f}, {-0.3f, 0.8f, 0.9f}, {0.2f, -0.5f, 1.5f},
                                    {-1.4f, 0.6f, 0.1f}}));
        positions.weight.copy_(nested({{0.1f, 0.2f, -0.1f}, {-0.3f, 0.0f, 0.4f}, {0.25f, -0.15f, 0.05f}, {0.0f, 0.3f, -0.2f},
                                       {0.7f, 0.7f, 0.7f}, {-0.9f, 0.9f, -0.9f}}));
    }
    const tt::Tensor ids = nested({{1, 4, 1, 0}, {3, 1, 4, 4}});
    const tt::Tensor loss = tt::cross_entropy(positions(tokens(ids)).reshape({8, 3}), nested({0, 2, 1, 1, 2, 0, 0, 1}));
    CHECK_THAT(loss, tensor_near(raw_scalar(1.076289415f), 1e-5, 1e-5));
    loss.backward();
    CHECK_THAT(tokens.weight.grad(), tensor_near(nested({{0.0652089f, -0.1089197f, 0.0437108f},
                                                         {-0.0282401f, -0.0140981f, 0.0423383f},
                                                         {0, 0, 0},
                                                         {0.0274546f, 0.0150674f, -0.0425219f},
                                                         {-0.0972229f, 0.0868259f, 0.0103970f}}),
                                                 1e-5, 1e-4));
    CHECK_THAT(positions.weight.grad(), tensor_near(nested({{-0.0233239f, 0.0558010f, -0.0324772f},
                                                            {-0.0563493f, 0.1041694f, -0.0478201f},
                                                            {-0.0268715f, -0.0323171f, 0.0591886f},
                                                            {0.0737451f, -0.1487778f, 0.0750328f},
                                                            {0, 0, 0},
                                                            {0, 0, 0}}),
                                                    1e-5, 1e-4));
}
