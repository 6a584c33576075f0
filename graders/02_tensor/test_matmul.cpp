// test_matmul.cpp - module 02 grader: kernels::gemm_naive and matmul (2-d, batched, broadcast
// batches, non-contiguous operands, errors). Expected products come from a plain triple loop in
// double over raw values.
#include <catch2/catch.hpp>

#include <tuple>

#include "grading.h"
#include "tinytorch/kernels.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

// a: (..., M, K) @ b: (..., K, N) by plain loops, with the batch dims broadcast by this file's own
// rule (aligned on the right, size 1 stretches).
tt::Tensor reference_matmul(const tt::Tensor& a, const tt::Tensor& b) {
    const tt::Shape& sa = a.shape();
    const tt::Shape& sb = b.shape();
    const int64_t M = sa[sa.size() - 2], K = sa.back(), N = sb.back();
    const tt::Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
    const size_t nb = std::max(ba.size(), bb.size());
    tt::Shape batch(nb, 1);
    for (size_t i = 0; i < nb; ++i) {
        const int64_t x = i < ba.size() ? ba[ba.size() - 1 - i] : 1;
        const int64_t y = i < bb.size() ? bb[bb.size() - 1 - i] : 1;
        batch[nb - 1 - i] = x == 1 ? y : x;
    }
    tt::Shape out_shape = batch;
    out_shape.push_back(M);
    out_shape.push_back(N);
    std::vector<float> out;
    std::vector<int64_t> index(nb, 0);
    for (int64_t n = 0; n < count_of(batch); ++n) {
        index = unravel(n, batch);
        std::vector<int64_t> ia(sa.size()), ib(sb.size());
        for (size_t d = 0; d < ba.size(); ++d) ia[d] = ba[d] == 1 ? 0 : index[nb - ba.size() + d];
        for (size_t d = 0; d < bb.size(); ++d) ib[d] = bb[d] == 1 ? 0 : index[nb - bb.size() + d];
        for (int64_t i = 0; i < M; ++i) {
            for (int64_t j = 0; j < N; ++j) {
                double total = 0.0;
                for (int64_t k = 0; k < K; ++k) {
                    ia[sa.size() - 2] = i;
                    ia[sa.size() - 1] = k;
                    ib[sb.size() - 2] = k;
                    ib[sb.size() - 1] = j;
                    total += static_cast<double>(element(a, ia)) * element(b, ib);
                }
                out.push_back(static_cast<float>(total));
            }
        }
    }
    return raw(out, out_shape);
}

}  // namespace

TEST_CASE("gemm_naive multiplies row-major matrices and overwrites C", "[points=1]") {
    {  // gemm_naive multiplies row-major matrices
        // A (2, 3), B (3, 4)
        const std::vector<float> A = {1, 2, 3, 4, 5, 6};
        const std::vector<float> B = {1, 0, -1, 2, 0, 1, 1, -2, 3, 1, 0, 1};
        std::vector<float> C(8, 0.0f);
        tt::kernels::gemm_naive(2, 4, 3, A.data(), B.data(), C.data());
        const std::vector<float> expected = {10, 5, 1, 1, 22, 11, 1, 4};
        CHECK(C == expected);
    }
    {  // gemm_naive overwrites C instead of adding to it
        const std::vector<float> A = {1, 2, 3, 4};  // (2, 2)
        const std::vector<float> B = {5, 6, 7, 8};  // (2, 2)
        std::vector<float> C = {100, 100, 100, 100};
        tt::kernels::gemm_naive(2, 2, 2, A.data(), B.data(), C.data());
        CHECK(C == std::vector<float>{19, 22, 43, 50});
    }
}

TEST_CASE("gemm_naive with M N or K equal to 1 and a larger random case", "[points=1]") {
    {  // outer product: (3, 1) @ (1, 2)
        const std::vector<float> A = {1, 2, 3}, B = {4, 5};
        std::vector<float> C(6, -1.0f);
        tt::kernels::gemm_naive(3, 2, 1, A.data(), B.data(), C.data());
        CHECK(C == std::vector<float>{4, 5, 8, 10, 12, 15});
    }
    {  // dot product: (1, 4) @ (4, 1)
        const std::vector<float> A = {1, 2, 3, 4}, B = {5, 6, 7, 8};
        std::vector<float> C(1, -1.0f);
        tt::kernels::gemm_naive(1, 1, 4, A.data(), B.data(), C.data());
        CHECK(C[0] == 70.0f);
    }
    {  // (7, 5) @ (5, 9), checked against the reference loop; C has a guard value after it
        const tt::Tensor a = random_values({7, 5}, 1), b = random_values({5, 9}, 2);
        const std::vector<float> A = values_of(a), B = values_of(b);
        std::vector<float> C(7 * 9 + 1, 42.0f);
        tt::kernels::gemm_naive(7, 9, 5, A.data(), B.data(), C.data());
        CHECK(C.back() == 42.0f);
        C.pop_back();
        CHECK_THAT(raw(C, {7, 9}), tensor_near(reference_matmul(a, b)));
    }
}

TEST_CASE("matmul of two small matrices by hand", "[points=1]") {
    const tt::Tensor a = nested({{1, 2}, {3, 4}, {5, 6}});  // (3, 2)
    const tt::Tensor b = nested({{1, 0, 2, -1}, {0, 1, 1, 3}});  // (2, 4)
    tt::Tensor c = tt::matmul(a, b);
    CHECK_THAT(c, tensor_equal(nested({{1, 2, 4, 5}, {3, 4, 10, 9}, {5, 6, 16, 13}})));
    CHECK(c.strides() == tt::Strides{4, 1});
    CHECK_FALSE(shares_storage(c, a));
}

TEST_CASE("matmul of non-square random matrices", "[points=1]") {
    for (auto [M, K, N] : {std::tuple<int64_t, int64_t, int64_t>{5, 7, 3}, {1, 8, 6}, {6, 1, 4}, {4, 9, 1}, {17, 13, 11}}) {
        INFO("(" << M << " x " << K << ") @ (" << K << " x " << N << ")");
        const tt::Tensor a = random_values({M, K}, 10 + M), b = random_values({K, N}, 20 + N);
        CHECK_THAT(tt::matmul(a, b), tensor_near(reference_matmul(a, b)));
    }
}

TEST_CASE("matmul of a batch of matrices", "[points=1]") {
    const tt::Tensor a = random_values({3, 2, 4}, 31), b = random_values({3, 4, 5}, 32);
    tt::Tensor c = tt::matmul(a, b);
    CHECK(c.shape() == tt::Shape{3, 2, 5});
    CHECK_THAT(c, tensor_near(reference_matmul(a, b)));
    const tt::Tensor a4 = random_values({2, 3, 2, 2}, 33), b4 = random_values({2, 3, 2, 3}, 34);
    CHECK_THAT(tt::matmul(a4, b4), tensor_near(reference_matmul(a4, b4)));
}

TEST_CASE("matmul of a batch with a single matrix on either side", "[points=1]") {
    const tt::Tensor a = random_values({4, 3, 5}, 41), w = random_values({5, 2}, 42);
    CHECK_THAT(tt::matmul(a, w), tensor_near(reference_matmul(a, w)));
    CHECK(tt::matmul(a, w).shape() == tt::Shape{4, 3, 2});
    const tt::Tensor m = random_values({2, 3}, 43);
    CHECK_THAT(tt::matmul(m, a), tensor_near(reference_matmul(m, a)));
    CHECK(tt::matmul(m, a).shape() == tt::Shape{4, 2, 5});
}

TEST_CASE("matmul broadcasts batch dimensions of size 1 and missing ones", "[points=2]") {
    const tt::Tensor a = random_values({2, 1, 3, 4}, 51), b = random_values({3, 4, 2}, 52);
    tt::Tensor c = tt::matmul(a, b);
    CHECK(c.shape() == tt::Shape{2, 3, 3, 2});
    CHECK_THAT(c, tensor_near(reference_matmul(a, b)));
    const tt::Tensor p = random_values({1, 4, 2, 3}, 53), q = random_values({5, 1, 3, 2}, 54);
    tt::Tensor r = tt::matmul(p, q);
    CHECK(r.shape() == tt::Shape{5, 4, 2, 2});
    CHECK_THAT(r, tensor_near(reference_matmul(p, q)));
}

TEST_CASE("matmul of transposed padded and expanded operands", "[points=2]") {
    const tt::Tensor a = column_major(random_values({4, 6}, 61));  // like x.t() of a (6, 4)
    const tt::Tensor b = padded(random_values({6, 3}, 62));
    CHECK_THAT(tt::matmul(a, b), tensor_near(reference_matmul(a, b)));
    const tt::Tensor c = column_major(random_values({3, 4}, 63));
    CHECK_THAT(tt::matmul(c, a), tensor_near(reference_matmul(c, a)));  // both operands column-major
    // a batch of 3 that is one matrix expanded (stride 0), times a padded batch
    const tt::Tensor one = random_values({2, 4}, 64);
    const tt::Tensor expanded = strided(values_of(one), {3, 2, 4}, {0, 4, 1});
    const tt::Tensor batch = padded(random_values({3, 4, 2}, 65));
    CHECK_THAT(tt::matmul(expanded, batch), tensor_near(reference_matmul(expanded, batch)));
    // a view that starts at an offset
    const tt::Tensor base = random_values({5, 3}, 66);
    const tt::Tensor rows(base.storage(), {2, 3}, {3, 1}, 6);
    const tt::Tensor w = random_values({3, 2}, 67);
    CHECK_THAT(tt::matmul(rows, w), tensor_near(reference_matmul(rows, w)));
}

TEST_CASE("matmul with a size-0 dimension", "[points=1]") {
    CHECK(tt::matmul(raw({}, {0, 3}), random_values({3, 2}, 71)).shape() == tt::Shape{0, 2});
    CHECK_THAT(tt::matmul(raw({}, {2, 0}), raw({}, {0, 3})), tensor_equal(nested({{0, 0, 0}, {0, 0, 0}})));
}

TEST_CASE("matmul errors name matmul and both shapes for inner 1-d and batch mismatches", "[points=1]") {
    {  // matmul rejects mismatched inner dimensions naming matmul and both shapes
        CHECK_THAT(error_message([] { tt::matmul(iota({2, 3}), iota({4, 5})); }),
                   Contains("matmul") && Contains("(2, 3)") && Contains("(4, 5)"));
        CHECK_THAT(error_message([] { tt::matmul(iota({2, 2, 3}), iota({2, 2, 3})); }), Contains("matmul") && Contains("(2, 2, 3)"));
    }
    {  // matmul rejects 1-d inputs and batch shapes that do not broadcast
        CHECK_THAT(error_message([] { tt::matmul(iota({3}), iota({3, 2})); }), Contains("matmul") && Contains("(3)"));
        CHECK_THAT(error_message([] { tt::matmul(iota({2, 3}), iota({3})); }), Contains("matmul"));
        CHECK_THAT(error_message([] { tt::matmul(iota({2, 2, 3}), iota({3, 3, 4})); }),
                   Contains("matmul") && Contains("(2, 2, 3)") && Contains("(3, 3, 4)"));
    }
}
