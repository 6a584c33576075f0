// test_nodes_matmul.cpp - module 06 grader: the backward node of matmul (nodes_tensor.cpp):
//     out = a @ b      da = g @ b^T      db = a^T @ g
// for plain matrices, batches, broadcast batch dimensions (a weight shared by a whole batch gets
// the sum over the batch) and transposed or sliced operands.
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

// (M, K) @ (K, N) of 2-d tensors by plain loops over raw values; transposed_a / transposed_b use
// the transpose of that operand instead (so a^T @ g and g @ b^T need no library call).
tt::Tensor plain_matmul(const tt::Tensor& a, const tt::Tensor& b, bool transposed_a = false, bool transposed_b = false) {
    const std::vector<float> va = values_of(a), vb = values_of(b);
    const int64_t M = transposed_a ? a.shape()[1] : a.shape()[0], K = transposed_a ? a.shape()[0] : a.shape()[1];
    const int64_t N = transposed_b ? b.shape()[0] : b.shape()[1];
    std::vector<float> out(static_cast<size_t>(M * N), 0.0f);
    for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
            double total = 0.0;
            for (int64_t k = 0; k < K; ++k) {
                const float x = transposed_a ? va[static_cast<size_t>(k * M + i)] : va[static_cast<size_t>(i * K + k)];
                const float y = transposed_b ? vb[static_cast<size_t>(j * K + k)] : vb[static_cast<size_t>(k * N + j)];
                total += static_cast<double>(x) * y;
            }
            out[static_cast<size_t>(i * N + j)] = static_cast<float>(total);
        }
    return raw(out, {M, N});
}

}  // namespace

TEST_CASE("matmul of two matrices: da = g @ b^T and db = a^T @ g", "[points=2]") {
    tt::Tensor a = leaf(nested({{1, 2, 3}, {4, 5, 6}}));    // (2, 3)
    tt::Tensor b = leaf(nested({{1, 0}, {2, 1}, {0, 3}}));  // (3, 2)
    const tt::Tensor g = nested({{1, -1}, {2, 0.5f}});       // (2, 2)
    tt::matmul(a, b).backward(g);
    // da[i, k] = sum_j g[i, j] b[k, j]:  [[1, 1, -3], [2, 4.5, 1.5]]
    CHECK_THAT(a.grad(), tensor_near(nested({{1, 1, -3}, {2, 4.5f, 1.5f}})));
    // db[k, j] = sum_i a[i, k] g[i, j]:  [[9, 1], [12, 0.5], [15, 0]]
    CHECK_THAT(b.grad(), tensor_near(nested({{9, 1}, {12, 0.5f}, {15, 0}})));
    {  // only one operand requires grad
        const tt::Tensor constant = nested({{1, 2, 3}, {4, 5, 6}});
        tt::Tensor w = leaf(nested({{1, 0}, {2, 1}, {0, 3}}));
        tt::matmul(constant, w).backward(g);
        CHECK_FALSE(constant.grad().defined());
        CHECK_THAT(w.grad(), tensor_near(nested({{9, 1}, {12, 0.5f}, {15, 0}})));
    }
    {  // a (3, 4) @ (4, 2) product against plain loops
        tt::Tensor x = leaf(random_values({3, 4}, 1)), y = leaf(random_values({4, 2}, 2));
        const tt::Tensor gg = random_values({3, 2}, 3);
        tt::matmul(x, y).backward(gg);
        CHECK_THAT(x.grad(), tensor_near(plain_matmul(gg, y, false, true)));
        CHECK_THAT(y.grad(), tensor_near(plain_matmul(x, gg, true, false)));
    }
}

TEST_CASE("a weight shared by a batch gets the sum of its gradients over the batch", "[points=2]") {
    // (3, 4, 2) @ (2, 1): the same (2, 1) weight multiplies each of the 3 matrices of the batch
    tt::Tensor batch = leaf(iota({3, 4, 2}));
    tt::Tensor w = leaf(nested({{1}, {-1}}));
    tt::matmul(batch, w).sum().backward();
    INFO("dw = sum over the batch of a_i^T @ g_i: the column sums of all 12 rows");
    CHECK_THAT(w.grad(), tensor_equal(nested({{132}, {144}})));  // 0 + 2 + ... + 22, 1 + 3 + ... + 23
    std::vector<float> rows;  // d(batch) = g @ w^T: every row is w^T = [1, -1]
    for (int i = 0; i < 12; ++i) rows.insert(rows.end(), {1, -1});
    CHECK_THAT(batch.grad(), tensor_equal(raw(rows, {3, 4, 2})));
    {  // (2, 3) @ (2, 3, 2): the matrix on the left is the one shared
        tt::Tensor left = leaf(nested({{1, 0, 0}, {0, 1, 0}}));
        tt::Tensor right = leaf(iota({2, 3, 2}));
        tt::matmul(left, right).backward(raw(std::vector<float>(8, 1.0f), {2, 2, 2}));
        // d(left)[i, k] = sum over batch and j of right[n, k, j]: k = 0: 0+1+6+7, k = 1: 2+3+8+9, k = 2: 4+5+10+11
        CHECK_THAT(left.grad(), tensor_equal(nested({{14, 22, 30}, {14, 22, 30}})));
        CHECK(right.grad().shape() == tt::Shape{2, 3, 2});
    }
}

TEST_CASE("batched matmul with broadcast batch dimensions matches finite differences", "[points=2]") {
    const std::vector<std::pair<tt::Shape, tt::Shape>> shapes = {
        {{2, 3, 4}, {2, 4, 2}},     // a batch of 2 products
        {{2, 3, 4}, {4, 5}},        // a weight shared by the batch
        {{3, 4}, {2, 4, 5}},        // a left matrix shared by the batch
        {{2, 1, 3, 4}, {2, 4, 2}},  // (B, 1, M, K) @ (H, K, N) -> (B, H, M, N)
        {{1, 3, 2}, {2, 2, 1}},     // a batch dimension of size 1 broadcast on the left
        {{1, 1}, {1, 1}},
    };
    uint64_t seed = 10;
    for (const auto& [sa, sb] : shapes) {
        INFO("matmul " << shape_text(sa) << " @ " << shape_text(sb) << " (input 0 and input 1)");
        const tt::Tensor a = random_values(sa, ++seed), b = random_values(sb, ++seed);
        CHECK(gradient_check([](const Inputs& in) { return tt::matmul(in[0], in[1]); }, {a, b}));
    }
}

TEST_CASE("matmul of transposed sliced and expanded operands matches finite differences", "[points=1]") {
    {
        INFO("a^T (3, 4) @ b^T (4, 2)");
        CHECK(gradient_check([](const Inputs& in) { return tt::matmul(in[0].t(), in[1].t()); },
                             {random_values({4, 3}, 31), random_values({2, 4}, 32)}));
    }
    {
        INFO("every other row of a (6, 4) @ (4, 2)");
        CHECK(gradient_check([](const Inputs& in) { return tt::matmul(in[0].slice(0, 0, 6, 2), in[1]); },
                             {random_values({6, 4}, 33), random_values({4, 2}, 34)}));
    }
    {
        INFO("(3, 4) expanded to a batch (2, 3, 4) @ (4, 2)");
        CHECK(gradient_check([](const Inputs& in) { return tt::matmul(in[0].expand({2, 3, 4}), in[1]); },
                             {random_values({3, 4}, 35), random_values({4, 2}, 36)}));
    }
    {
        INFO("a batch of transposed matrices (2, 3, 4) @ (2, 4, 2)");
        CHECK(gradient_check([](const Inputs& in) { return tt::matmul(in[0].transpose(1, 2), in[1]); },
                             {random_values({2, 4, 3}, 37), random_values({2, 4, 2}, 38)}));
    }
}

TEST_CASE("matmul of a matrix with itself and with its transpose", "[points=1]") {
    tt::Tensor x = leaf(nested({{1, 2}, {3, 4}}));
    tt::matmul(x, x).sum().backward();
    // d sum(x @ x)/dx = ones @ x^T + x^T @ ones = [[3, 7], [3, 7]] + [[4, 4], [6, 6]]
    CHECK_THAT(x.grad(), tensor_near(nested({{7, 11}, {9, 13}})));
    const tt::Tensor y = random_values({3, 2}, 50);
    CHECK(gradient_check([](const Inputs& in) { return tt::matmul(in[0], in[0].t()); }, {y}));
}
