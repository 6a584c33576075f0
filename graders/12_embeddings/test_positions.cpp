// test_positions.cpp - module 12 grader: sinusoidal_positions, the layers Embedding,
// SinusoidalPositionalEncoding and LearnedPositionalEmbedding, and a GPT's input layer put
// together (embedding.cpp).
//     pe[t, 2i] = sin(t / 10000^(2i / dim)), pe[t, 2i + 1] = cos(t / 10000^(2i / dim))
//     positional layers: (B, T, dim) or (T, dim) -> same shape, x[..., t, :] + table[t, :]
// Expected values: by hand, from embedding_reference.h, or from PyTorch 1.13 (numbers below).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "embedding_reference.h"
#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/embedding.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;
namespace ref = embedding_reference;

namespace {

// Mean and (biased) variance of a tensor's values, in double.
std::pair<double, double> moments(const tt::Tensor& t) {
    const std::vector<float> v = values_of(t);
    double sum = 0, squares = 0;
    for (float x : v) {
        sum += x;
        squares += static_cast<double>(x) * x;
    }
    const double n = static_cast<double>(v.size()), mean = sum / n;
    return {mean, squares / n - mean * mean};
}

void set_values(tt::Tensor& parameter, const tt::Tensor& values) {
    tt::NoGradGuard no_grad;
    parameter.copy_(values);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// sinusoidal_positions
// ---------------------------------------------------------------------------------------------

// PyTorch 1.13 / Python: pe[t, c] = sin(t * 10000 ** (-c / d)) (c even), cos(t * 10000 ** (-(c - 1) / d)) (c odd)
TEST_CASE("sinusoidal_positions of 4 positions and 6 columns against PyTorch", "[points=3]") {
    CHECK_THAT(tt::sinusoidal_positions(4, 6),
               tensor_near(nested({{0, 1, 0, 1, 0, 1},
                                   {0.84147096f, 0.54030228f, 0.04639922f, 0.99892300f, 0.00215443f, 0.99999768f},
                                   {0.90929741f, -0.41614684f, 0.09269850f, 0.99569422f, 0.00430886f, 0.99999070f},
                                   {0.14112000f, -0.98999250f, 0.13879810f, 0.99032068f, 0.00646326f, 0.99997914f}}),
                           1e-6, 1e-6));
}

TEST_CASE("sinusoidal_positions with an odd dim ends with a sin column", "[points=2]") {
    CHECK_THAT(tt::sinusoidal_positions(3, 5),
               tensor_near(nested({{0, 1, 0, 1, 0},
                                   {0.841470957f, 0.540302277f, 0.0251162220f, 0.999684513f, 6.30957307e-04f},
                                   {0.909297407f, -0.416146845f, 0.0502166003f, 0.998738348f, 1.26191438e-03f}}),
                           1e-6, 1e-6));
    CHECK_THAT(tt::sinusoidal_positions(3, 1), tensor_near(nested({{0}, {0.841470957f}, {0.909297407f}}), 1e-6, 1e-6));
}

TEST_CASE("sinusoidal_positions at the GPT's size 64 x 128 against the formula", "[points=2]") {
    const tt::Tensor pe = tt::sinusoidal_positions(64, 128);
    REQUIRE(pe.shape() == tt::Shape{64, 128});
    CHECK_THAT(pe, tensor_near(ref::sinusoidal(64, 128), 1e-5, 1e-5));
    // PyTorch: row 63, columns 0..5
    CHECK_THAT(pe.slice(0, 63, 64).slice(1, 0, 6),
               tensor_near(nested({{0.16735570f, 0.98589659f, -0.91222280f, -0.40969443f, -0.11916156f, -0.99287486f}}),
                           1e-5, 1e-5));
}

TEST_CASE("sinusoidal_positions stays accurate for long sequences (angles in double)", "[points=1]") {
    // t = 3000: a float angle has steps of 2.4e-4 radians there
    const tt::Tensor pe = tt::sinusoidal_positions(3001, 6);
    CHECK_THAT(pe.slice(0, 2990, 3001), tensor_near(ref::sinusoidal(3001, 6).slice(0, 2990, 3001), 2e-6, 1e-6));
}

TEST_CASE("sinusoidal_positions of length 0 and errors for bad sizes", "[points=1]") {
    CHECK(tt::sinusoidal_positions(0, 4).shape() == tt::Shape{0, 4});
    CHECK_FALSE(tt::sinusoidal_positions(3, 4).requires_grad());
    CHECK_THAT(error_message([] { tt::sinusoidal_positions(-1, 4); }), Contains("sinusoidal_positions"));
    CHECK_THAT(error_message([] { tt::sinusoidal_positions(4, 0); }), Contains("sinusoidal_positions"));
}

// ---------------------------------------------------------------------------------------------
// Embedding
// ---------------------------------------------------------------------------------------------

TEST_CASE("Embedding has one parameter named weight of shape num_embeddings x dim and no buffer", "[points=1]") {
    tt::Embedding emb(65, 16);
    REQUIRE(emb.weight.shape() == tt::Shape{65, 16});
    CHECK(emb.weight.requires_grad());
    const auto params = emb.named_parameters();
    REQUIRE(params.size() == 1);
    CHECK(params[0].first == "weight");
    CHECK(params[0].second.is_same(emb.weight));
    CHECK(emb.named_buffers().empty());
    CHECK(emb.num_embeddings == 65);
    CHECK(emb.dim == 16);
}

TEST_CASE("Embedding's weight is standard normal as in PyTorch's nn.Embedding", "[points=2]") {
    tt::Generator gen(5);
    tt::Embedding emb(200, 64, &gen);
    const auto [mean, variance] = moments(emb.weight);
    INFO("mean " << mean << ", variance " << variance);
    CHECK(std::abs(mean) < 0.03);
    CHECK(std::abs(variance - 1.0) < 0.04);
}

TEST_CASE("Embedding draws its weight from the generator it is given as tt::randn does", "[points=1]") {
    tt::Generator gen(9), again(9);
    tt::Embedding emb(7, 3, &gen);
    CHECK_THAT(emb.weight, tensor_equal(tt::randn({7, 3}, &again)));
    tt::Generator other(10);
    tt::Embedding different(7, 3, &other);
    CHECK_FALSE(values_of(different.weight) == values_of(emb.weight));
}

TEST_CASE("Embedding forward looks up its weight and trains it", "[points=2]") {
    tt::Embedding emb(4, 2);
    set_values(emb.weight, nested({{0, 1}, {10, 11}, {20, 21}, {30, 31}}));
    const tt::Tensor out = emb(nested({{3, 1, 3}}));
    CHECK_THAT(out, tensor_equal(nested({{{30, 31}, {10, 11}, {30, 31}}})));
    out.backward(nested({{{1, 1}, {2, 2}, {3, 3}}}));
    CHECK_THAT(emb.weight.grad(), tensor_equal(nested({{0, 0}, {2, 2}, {0, 0}, {4, 4}})));
}

TEST_CASE("Embedding prints its sizes and checks them", "[points=1]") {
    CHECK(tt::Embedding(65, 128).to_string() == "Embedding(65, 128)");
    CHECK_THAT(error_message([] { tt::Embedding(0, 4); }), Contains("Embedding"));
    CHECK_THAT(error_message([] { tt::Embedding(4, 0); }), Contains("Embedding"));
}

// ---------------------------------------------------------------------------------------------
// SinusoidalPositionalEncoding
// ---------------------------------------------------------------------------------------------

TEST_CASE("SinusoidalPositionalEncoding keeps pe as a buffer and never as a parameter", "[points=3]") {
    tt::SinusoidalPositionalEncoding enc(16, 6);
    CHECK(enc.named_parameters().empty());
    const auto buffers = enc.named_buffers();
    REQUIRE(buffers.size() == 1);
    CHECK(buffers[0].first == "pe");
    CHECK(buffers[0].second.is_same(enc.pe));
    CHECK_FALSE(enc.pe.requires_grad());
    CHECK_THAT(enc.pe, tensor_near(ref::sinusoidal(16, 6), 1e-6, 1e-6));
    CHECK(enc.to_string() == "SinusoidalPositionalEncoding(16, 6)");
}

TEST_CASE("SinusoidalPositionalEncoding adds row t of pe to position t of every sequence", "[points=2]") {
    tt::SinusoidalPositionalEncoding enc(10, 4);
    const tt::Tensor x = random_values({3, 5, 4}, 71);  // T = 5 < max_length = 10
    CHECK_THAT(enc(x), tensor_near(ref::add_rows(x, ref::sinusoidal(10, 4)), 1e-6, 1e-6));
}

TEST_CASE("SinusoidalPositionalEncoding of a 2-D x and of T == max_length and of a non-contiguous x", "[points=2]") {
    tt::SinusoidalPositionalEncoding enc(4, 3);
    const tt::Tensor x = random_values({4, 3}, 72);
    CHECK_THAT(enc(x), tensor_near(ref::add_rows(x, ref::sinusoidal(4, 3)), 1e-6, 1e-6));
    const tt::Tensor xb = random_values({2, 3, 4}, 73);  // transposed -> (2, 4, 3)
    CHECK_THAT(enc(xb.transpose(1, 2)), tensor_near(ref::add_rows(raw_copy(xb.transpose(1, 2)), ref::sinusoidal(4, 3)), 1e-6, 1e-6));
    CHECK_THAT(enc(padded(x)), tensor_near(ref::add_rows(x, ref::sinusoidal(4, 3)), 1e-6, 1e-6));
}

TEST_CASE("SinusoidalPositionalEncoding passes the gradient to x unchanged and trains nothing", "[points=2]") {
    tt::SinusoidalPositionalEncoding enc(8, 3);
    tt::Tensor x = leaf(random_values({2, 5, 3}, 74));
    const tt::Tensor g = random_values({2, 5, 3}, 75);
    enc(x).backward(g);
    CHECK_THAT(x.grad(), tensor_equal(g));
    CHECK_FALSE(enc.pe.grad().defined());
    CHECK(gradient_check([&](const auto& in) { return enc(in[0]) * in[0]; }, {random_values({3, 3}, 76)}));
}

TEST_CASE("SinusoidalPositionalEncoding rejects T > max_length and a wrong width and names the sizes", "[points=2]") {
    tt::SinusoidalPositionalEncoding enc(4, 8);
    CHECK_THAT(error_message([&] { enc(tt::zeros({2, 5, 8})); }),
               Contains("SinusoidalPositionalEncoding") && Contains("5") && Contains("4"));
    CHECK_THAT(error_message([&] { enc(tt::zeros({2, 3, 6})); }),
               Contains("SinusoidalPositionalEncoding") && Contains("6") && Contains("8"));
    CHECK_THAT(error_message([&] { enc(tt::zeros({8})); }), Contains("SinusoidalPositionalEncoding"));
    CHECK_THAT(error_message([] { tt::SinusoidalPositionalEncoding(0, 8); }), Contains("SinusoidalPositionalEncoding"));
}

// ---------------------------------------------------------------------------------------------
// LearnedPositionalEmbedding
// ---------------------------------------------------------------------------------------------

TEST_CASE("LearnedPositionalEmbedding has one standard normal parameter named weight of shape max_length x dim", "[points=3]") {
    tt::Generator gen(13), again(13);
    tt::LearnedPositionalEmbedding pos(64, 32, &gen);
    REQUIRE(pos.weight.shape() == tt::Shape{64, 32});
    CHECK(pos.weight.requires_grad());
    const auto params = pos.named_parameters();
    REQUIRE(params.size() == 1);
    CHECK(params[0].first == "weight");
    CHECK(params[0].second.is_same(pos.weight));
    CHECK(pos.named_buffers().empty());
    CHECK_THAT(pos.weight, tensor_equal(tt::randn({64, 32}, &again)));
    const auto [mean, variance] = moments(pos.weight);
    CHECK(std::abs(mean) < 0.05);
    CHECK(std::abs(variance - 1.0) < 0.06);
    CHECK(pos.to_string() == "LearnedPositionalEmbedding(64, 32)");
}

TEST_CASE("LearnedPositionalEmbedding adds rows 0..T-1 when T < max_length", "[points=2]") {
    tt::LearnedPositionalEmbedding pos(5, 2);
    set_values(pos.weight, nested({{0, 1}, {10, 11}, {20, 21}, {30, 31}, {40, 41}}));
    const tt::Tensor x = nested({{{1, 1}, {2, 2}, {3, 3}}, {{4, 4}, {5, 5}, {6, 6}}});
    CHECK_THAT(pos(x), tensor_equal(nested({{{1, 2}, {12, 13}, {23, 24}}, {{4, 5}, {15, 16}, {26, 27}}})));
    // (T, dim) input, T = 1
    CHECK_THAT(pos(nested({{7, 7}})), tensor_equal(nested({{7, 8}})));
}

TEST_CASE("LearnedPositionalEmbedding against a reference with T == max_length and a non-contiguous x", "[points=2]") {
    tt::LearnedPositionalEmbedding pos(6, 4);
    const tt::Tensor w = random_values({6, 4}, 81);
    set_values(pos.weight, w);
    const tt::Tensor x = random_values({3, 6, 4}, 82);
    CHECK_THAT(pos(x), tensor_near(ref::add_rows(x, w), 1e-6, 1e-6));
    CHECK_THAT(pos(padded(x)), tensor_near(ref::add_rows(x, w), 1e-6, 1e-6));
    const tt::Tensor xt = random_values({2, 4, 6}, 83);  // transposed -> (2, 6, 4)
    CHECK_THAT(pos(xt.transpose(1, 2)), tensor_near(ref::add_rows(raw_copy(xt.transpose(1, 2)), w), 1e-6, 1e-6));
}

TEST_CASE("LearnedPositionalEmbedding's weight gradient sums over the batch and rows from T on get zero", "[points=3]") {
    tt::LearnedPositionalEmbedding pos(5, 2);
    tt::Tensor x = leaf(random_values({2, 3, 2}, 84));
    pos(x).backward(nested({{{1, 2}, {3, 4}, {5, 6}}, {{10, 20}, {30, 40}, {50, 60}}}));
    CHECK_THAT(pos.weight.grad(), tensor_equal(nested({{11, 22}, {33, 44}, {55, 66}, {0, 0}, {0, 0}})));
    CHECK_THAT(x.grad(), tensor_equal(nested({{{1, 2}, {3, 4}, {5, 6}}, {{10, 20}, {30, 40}, {50, 60}}})));
}

TEST_CASE("LearnedPositionalEmbedding gradients against a reference for a batch of 12", "[points=2]") {
    tt::LearnedPositionalEmbedding pos(16, 8);
    tt::Tensor x = leaf(random_values({12, 10, 8}, 85));
    const tt::Tensor g = random_values({12, 10, 8}, 86);
    pos(x).backward(g);
    CHECK_THAT(pos.weight.grad(), tensor_near(ref::position_grad(g, 16), 1e-5, 1e-5));
    CHECK_THAT(x.grad(), tensor_equal(g));
}

TEST_CASE("LearnedPositionalEmbedding gradient check through x and weight", "[points=2]") {
    tt::LearnedPositionalEmbedding pos(6, 3);
    CHECK(gradient_check(
        [&](const auto& in) {
            pos.weight = in[1];
            return tt::tanh(pos(in[0]));
        },
        {random_values({2, 4, 3}, 87), random_values({6, 3}, 88)}));
}

TEST_CASE("LearnedPositionalEmbedding rejects T > max_length and a wrong width and names the sizes", "[points=2]") {
    tt::LearnedPositionalEmbedding pos(4, 8);
    CHECK_THAT(error_message([&] { pos(tt::zeros({2, 5, 8})); }),
               Contains("LearnedPositionalEmbedding") && Contains("5") && Contains("4"));
    CHECK_THAT(error_message([&] { pos(tt::zeros({5, 8})); }), Contains("LearnedPositionalEmbedding"));
    CHECK_THAT(error_message([&] { pos(tt::zeros({2, 3, 6})); }),
               Contains("LearnedPositionalEmbedding") && Contains("6") && Contains("8"));
    CHECK_THAT(error_message([] { tt::LearnedPositionalEmbedding(4, 0); }), Contains("LearnedPositionalEmbedding"));
}

// ---------------------------------------------------------------------------------------------
// A GPT's input layer: tokens + positions
// ---------------------------------------------------------------------------------------------

// PyTorch 1.13:
//   x = F.embedding(ids, W) + P[:4]; loss = F.cross_entropy(x.reshape(8, 3), targets); loss.backward()
TEST_CASE("token embedding + learned positions + cross_entropy against PyTorch", "[points=3]") {
    tt::Embedding tokens(5, 3);
    tt::LearnedPositionalEmbedding positions(6, 3);
    set_values(tokens.weight, nested({{0.5f, -1.2f, 0.3f}, {1.1f, 0.4f, -0.7f}, {-0.3f, 0.8f, 0.9f}, {0.2f, -0.5f, 1.5f},
                                      {-1.4f, 0.6f, 0.1f}}));
    set_values(positions.weight, nested({{0.1f, 0.2f, -0.1f}, {-0.3f, 0.0f, 0.4f}, {0.25f, -0.15f, 0.05f},
                                         {0.0f, 0.3f, -0.2f}, {0.7f, 0.7f, 0.7f}, {-0.9f, 0.9f, -0.9f}}));
    const tt::Tensor ids = nested({{1, 4, 1, 0}, {3, 1, 4, 4}});
    const tt::Tensor targets = nested({0, 2, 1, 1, 2, 0, 0, 1});
    const tt::Tensor x = positions(tokens(ids));  // (2, 4, 3)
    const tt::Tensor loss = tt::cross_entropy(x.reshape({8, 3}), targets);
    CHECK_THAT(loss, tensor_near(raw_scalar(1.076289415f), 1e-5, 1e-5));
    loss.backward();
    CHECK_THAT(tokens.weight.grad(),
               tensor_near(nested({{0.0652089f, -0.1089197f, 0.0437108f},
                                   {-0.0282401f, -0.0140981f, 0.0423383f},
                                   {0, 0, 0},
                                   {0.0274546f, 0.0150674f, -0.0425219f},
                                   {-0.0972229f, 0.0868259f, 0.0103970f}}),
                           1e-5, 1e-4));
    CHECK_THAT(positions.weight.grad(),
               tensor_near(nested({{-0.0233239f, 0.0558010f, -0.0324772f},
                                   {-0.0563493f, 0.1041694f, -0.0478201f},
                                   {-0.0268715f, -0.0323171f, 0.0591886f},
                                   {0.0737451f, -0.1487778f, 0.0750328f},
                                   {0, 0, 0},
                                   {0, 0, 0}}),
                           1e-5, 1e-4));
}

TEST_CASE("token and position embeddings learn as a few SGD steps lower the loss", "[points=2]") {
    // predict the next token of a repeating sequence from the token and its position only
    tt::Generator gen(3);
    tt::Embedding tokens(6, 6, &gen);
    tt::LearnedPositionalEmbedding positions(8, 6, &gen);
    const tt::Tensor ids = nested({{0, 1, 2, 3, 4, 5, 0, 1}, {2, 3, 4, 5, 0, 1, 2, 3}});
    const tt::Tensor targets = nested({1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4});
    auto loss_now = [&] { return tt::cross_entropy(positions(tokens(ids)).reshape({16, 6}), targets); };
    const float first = values_of(loss_now())[0];
    for (int step = 0; step < 40; ++step) {
        tokens.zero_grad();
        positions.zero_grad();
        loss_now().backward();
        tt::NoGradGuard no_grad;
        tokens.weight.add_(tokens.weight.grad(), -1.0f);
        positions.weight.add_(positions.weight.grad(), -1.0f);
    }
    const float last = values_of(loss_now())[0];
    INFO("loss " << first << " -> " << last);
    CHECK(last < 0.5f * first);
}
