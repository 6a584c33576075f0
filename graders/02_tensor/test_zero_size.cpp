// test_zero_size.cpp - module 02 grader: tensors with a size of 0 (torch.zeros(2, 0) and friends).
// They have no elements but a shape, strides and an offset like any other tensor, and every op
// accepts them where PyTorch does: factories, in-place writes, views, elementwise ops, sums, matmul.
// Expected strides are PyTorch's (a size of 0 counts as 1), computed by grading.h's own
// row_major_strides.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "grading.h"
#include "tinytorch/tensor.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

TEST_CASE("factories of a size-0 shape have PyTorch's strides and are contiguous", "[points=1]") {
    INFO("a size of 0 counts as 1 in the strides (torch.zeros(2, 0).stride() == (1, 1)): a stride of 0 would mean "
         "'broadcast', and in-place writes into the tensor would then be refused");
    CHECK(tt::contiguous_strides({2, 0}) == tt::Strides{1, 1});
    CHECK(tt::contiguous_strides({2, 0, 3}) == tt::Strides{3, 3, 1});
    CHECK(tt::contiguous_strides({0, 4}) == tt::Strides{4, 1});
    CHECK(tt::zeros({2, 0}).strides() == tt::Strides{1, 1});
    CHECK(tt::ones({3, 0, 2}).strides() == tt::Strides{2, 2, 1});
    CHECK(tt::full({0, 2, 0}, 1.0f).strides() == tt::Strides{2, 1, 1});
    INFO("a tensor without elements is contiguous, whatever its strides (torch.zeros(2, 0).is_contiguous())");
    CHECK(tt::zeros({2, 0}).is_contiguous());
    CHECK(raw({}, {3, 0, 2}).is_contiguous());
    CHECK(strided({1}, {2, 0}, {5, 7}).is_contiguous());
}

TEST_CASE("in-place ops on a size-0 tensor write nothing and do not fail", "[points=1]") {
    tt::Tensor x = tt::zeros({2, 0});
    INFO("every in-place op must accept a (2, 0) tensor made by zeros(); only a source that does not broadcast is an "
         "error");
    CHECK_NOTHROW(x.fill_(1.0f));
    CHECK_NOTHROW(x.zero_());
    CHECK_NOTHROW(x.mul_(2.0f));
    CHECK_NOTHROW(x.copy_(tt::zeros({2, 0})));
    CHECK_NOTHROW(x.copy_(nested({5})));
    CHECK_NOTHROW(x.add_(tt::ones({1, 0}), 3.0f));
    CHECK_THAT(error_message([&] { x.copy_(iota({2, 3})); }), Contains("copy_"));
    tt::Tensor y = tt::ones({3, 0, 4});
    CHECK_NOTHROW(y.clone().add_(y));
    CHECK(y.clone().strides() == tt::Strides{4, 4, 1});
}

TEST_CASE("views of size-0 tensors", "[points=1]") {
    const tt::Tensor x = tt::zeros({2, 0, 3});
    CHECK(x.view({0, 5}).shape() == tt::Shape{0, 5});
    CHECK(x.view({0, 5}).strides() == tt::Strides{5, 1});
    CHECK(x.view({-1}).shape() == tt::Shape{0});
    CHECK(x.reshape({3, -1}).shape() == tt::Shape{3, 0});
    CHECK(x.reshape({3, 2, 0}).shape() == tt::Shape{3, 2, 0});
    INFO("a -1 next to a size of 0 could stand for any size: an error, as in PyTorch (not a division by zero)");
    CHECK_THAT(error_message([&] { x.view({-1, 0}); }), Contains("view"));
    CHECK_THAT(error_message([&] { x.reshape({0, -1}); }), Contains("reshape"));
    CHECK(x.flatten(1).shape() == tt::Shape{2, 0});
    CHECK(x.permute({2, 1, 0}).shape() == tt::Shape{3, 0, 2});
    CHECK(x.select(2, 1).shape() == tt::Shape{2, 0});
    CHECK(x.slice(1, 0, 7).shape() == tt::Shape{2, 0, 3});
    CHECK(x.unsqueeze(0).squeeze().shape() == tt::Shape{2, 0, 3});
    CHECK(tt::zeros({1}).expand({0}).shape() == tt::Shape{0});
    CHECK(tt::zeros({1, 0}).expand({4, 0}).shape() == tt::Shape{4, 0});
    CHECK(x.contiguous().shape() == tt::Shape{2, 0, 3});
    CHECK(x.to_vector().empty());
}

TEST_CASE("elementwise ops sums and matmul with a size-0 dimension", "[points=1]") {
    const tt::Tensor a = tt::zeros({2, 0});
    CHECK(tt::add(a, nested({7})).shape() == tt::Shape{2, 0});
    CHECK(tt::mul(raw({}, {1, 0}), iota({3, 1})).shape() == tt::Shape{3, 0});
    CHECK(tt::exp(a).shape() == tt::Shape{2, 0});
    CHECK_THAT(error_message([&] { tt::add(a, iota({2, 3})); }), Contains("add"));
    CHECK_THAT(tt::sum(a), tensor_equal(raw_scalar(0.0f)));
    CHECK_THAT(tt::sum(a, 1), tensor_equal(nested({0, 0})));
    CHECK(std::isnan(values_of(tt::mean(a))[0]));  // 0 / 0, as torch.mean
    CHECK(tt::max(a, 0).shape() == tt::Shape{0});
    CHECK_THAT(error_message([&] { tt::max(a, 1); }), Contains("max"));
    CHECK_THAT(tt::matmul(tt::zeros({2, 3, 0}), tt::zeros({0, 4})), tensor_equal(raw(std::vector<float>(24, 0.0f), {2, 3, 4})));
    CHECK(tt::matmul(tt::ones({2, 3, 4}), tt::zeros({4, 0})).shape() == tt::Shape{2, 3, 0});
    CHECK(tt::matmul(tt::zeros({0, 2, 3}), tt::ones({3, 4})).shape() == tt::Shape{0, 2, 4});
}
