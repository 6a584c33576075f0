// test_tensor_matmul.cpp - module 02: matmul with batch broadcasting, and kernels::gemm_naive
// (engine/src/02_tensor/matmul.cpp). The reference product is a plain triple loop over grading.h's
// raw-storage element reader, in double.
#include <catch2/catch.hpp>

#include <tuple>

#include "grading.h"
#include "tinytorch/kernels.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Contains;

namespace {

// (.., M, K) @ (.., K, N) by definition, batch dims broadcast by grading.h's rule.
tt::Tensor reference_matmul(const tt::Tensor& a, const tt::Tensor& b) {
    const int64_t M = a.shape()[a.dim() - 2], K = a.shape()[a.dim() - 1], N = b.shape()[b.dim() - 1];
    const tt::Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
    // Reuse reference_binary on dummy tensors just to get the broadcast batch shape.
    const tt::Shape batch = reference_binary(raw(std::vector<float>(count_of(a_batch), 0), a_batch),
                                             raw(std::vector<float>(count_of(b_batch), 0), b_batch),
                                             [](float, float) { return 0.0f; })
                                .shape();
    tt::Shape out_shape = batch;
    out_shape.push_back(M);
    out_shape.push_back(N);
    std::vector<float> out;
    std::vector<int64_t> bi(batch.size(), 0);
    if (count_of(batch) == 0) return raw({}, out_shape);
    do {
        std::vector<int64_t> ai(a_batch.size()), bj(b_batch.size());
        for (size_t d = 0; d < a_batch.size(); ++d) ai[d] = a_batch[d] == 1 ? 0 : bi[batch.size() - a_batch.size() + d];
        for (size_t d = 0; d < b_batch.size(); ++d) bj[d] = b_batch[d] == 1 ? 0 : bi[batch.size() - b_batch.size() + d];
        for (int64_t i = 0; i < M; ++i) {
            for (int64_t j = 0; j < N; ++j) {
                double acc = 0;
                for (int64_t k = 0; k < K; ++k) {
                    std::vector<int64_t> ia = ai, ib = bj;
                    ia.push_back(i);
                    ia.push_back(k);
                    ib.push_back(k);
                    ib.push_back(j);
                    acc += static_cast<double>(element(a, ia)) * element(b, ib);
                }
                out.push_back(static_cast<float>(acc));
            }
        }
    } while (next_index(bi, batch));
    return raw(out, out_shape);
}

}  // namespace

TEST_CASE("tensor: matmul hand-computed", "[02][tensor][matmul]") {
    const tt::Tensor a = nested({{1, 2, 3}, {4, 5, 6}});   // (2, 3)
    const tt::Tensor b = nested({{7, 8}, {9, 10}, {11, 12}});  // (3, 2)
    CHECK_THAT(tt::matmul(a, b), tensor_equal(nested({{58, 64}, {139, 154}})));
    CHECK_THAT(tt::matmul(b, a), tensor_equal(nested({{39, 54, 69}, {49, 68, 87}, {59, 82, 105}})));
    CHECK_THAT(tt::matmul(a, a.t()), tensor_equal(nested({{14, 32}, {32, 77}})));  // a transposed input
    CHECK_THAT(tt::matmul(nested({{2}}), nested({{3}})), tensor_equal(nested({{6}})));
    CHECK(tt::matmul(a, b).is_contiguous());
}

TEST_CASE("tensor: matmul errors name both shapes", "[02][tensor][matmul]") {
    const tt::Tensor a = iota({2, 3}), b = iota({4, 5});
    CHECK_THAT(error_message([&] { tt::matmul(a, b); }),
               Contains("matmul") && Contains("(2, 3)") && Contains("(4, 5)") && Contains("3 and 4"));
    CHECK_THAT(error_message([&] { tt::matmul(iota({3}), iota({3, 2})); }), Contains("matmul") && Contains("(3)") && Contains("2 dimensions"));
    CHECK_THAT(error_message([&] { tt::matmul(iota({3, 2}), raw_scalar(1)); }), Contains("matmul") && Contains("()"));
    CHECK_THAT(error_message([&] { tt::matmul(iota({2, 2, 3}), iota({3, 3, 4})); }),
               Contains("matmul") && Contains("(2, 2, 3)") && Contains("(3, 3, 4)"));
}

TEST_CASE("tensor: matmul batches broadcast", "[02][tensor][matmul][broadcast]") {
    struct Case {
        tt::Shape a, b, out;
    };
    const std::vector<Case> cases = {
        {{3, 4}, {4, 5}, {3, 5}},
        {{2, 3, 4}, {4, 5}, {2, 3, 5}},           // a weight shared by a batch
        {{3, 4}, {2, 4, 5}, {2, 3, 5}},           // a matrix shared by a batch of b
        {{2, 3, 4}, {2, 4, 5}, {2, 3, 5}},        // batch to batch
        {{2, 1, 3, 4}, {5, 4, 2}, {2, 5, 3, 2}},  // (B, 1, M, K) @ (H, K, N)
        {{1, 3, 4}, {2, 4, 1}, {2, 3, 1}},        // size-1 batch dim, N = 1
        {{2, 2, 1, 4}, {2, 1, 4, 3}, {2, 2, 1, 3}},
    };
    uint64_t seed = 50;
    for (const Case& c : cases) {
        const tt::Tensor a = random_values(c.a, ++seed), b = random_values(c.b, ++seed);
        INFO(shape_text(c.a) << " @ " << shape_text(c.b));
        const tt::Tensor expected = reference_matmul(a, b);
        REQUIRE(expected.shape() == c.out);
        CHECK_THAT(tt::matmul(a, b), tensor_near(expected));
        CHECK_THAT(tt::matmul(padded(a), column_major(b)), tensor_near(expected));  // non-contiguous inputs
        CHECK_THAT(tt::matmul(column_major(a), padded(b)), tensor_near(expected));
    }
}

TEST_CASE("tensor: matmul on views and empty shapes", "[02][tensor][matmul]") {
    // An expanded batch (stride 0), a transposed batch of matrices, a slice with a step.
    const tt::Tensor w = random_values({4, 3}, 60);
    const tt::Tensor x = random_values({3, 5}, 61);
    CHECK_THAT(tt::matmul(w.expand({2, 4, 3}), x), tensor_near(reference_matmul(w.expand({2, 4, 3}), x)));
    const tt::Tensor batch = random_values({2, 5, 4}, 62);
    CHECK_THAT(tt::matmul(batch.transpose(1, 2), batch), tensor_near(reference_matmul(batch.transpose(1, 2), batch)));
    const tt::Tensor big = random_values({8, 3}, 63);
    CHECK_THAT(tt::matmul(big.slice(0, 0, 8, 2), x), tensor_near(reference_matmul(big.slice(0, 0, 8, 2), x)));

    CHECK_THAT(tt::matmul(raw({}, {2, 0}), raw({}, {0, 3})), tensor_equal(raw(std::vector<float>(6, 0.0f), {2, 3})));  // K = 0
    CHECK(tt::matmul(raw({}, {0, 3}), iota({3, 2})).shape() == tt::Shape{0, 2});
    CHECK(tt::matmul(raw({}, {0, 2, 3}), iota({3, 2})).shape() == tt::Shape{0, 2, 2});
}

TEST_CASE("tensor: gemm_naive overwrites C with A @ B", "[02][tensor][matmul][kernels]") {
    for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 5, 4}, {17, 33, 9}, {64, 1, 70}, {2, 3, 0}}) {
        const tt::Tensor a = random_values({M, K}, 70 + M), b = random_values({K, N}, 80 + N);
        std::vector<float> c(static_cast<size_t>(M * N), 123.0f);  // garbage that must be overwritten
        const std::vector<float> av = values_of(a), bv = values_of(b);
        tt::kernels::gemm_naive(M, N, K, av.data(), bv.data(), c.data());
        INFO("M " << M << " N " << N << " K " << K);
        CHECK_THAT(raw(c, {M, N}), tensor_near(reference_matmul(a, b)));
    }
}
