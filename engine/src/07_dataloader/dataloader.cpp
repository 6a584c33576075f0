// dataloader.cpp - module 07: cutting a data set into batches, in a new random order every epoch.
//
//     N = 10 examples, batch_size B = 4, shuffle:
//       epoch 1 order  [3 7 0 9 | 5 1 8 2 | 6 4]     batches of 4, 4 and 2 (drop_last: 4 and 4)
//       epoch 2 order  [8 2 5 0 | 9 6 3 7 | 1 4]     a different permutation, drawn from the same Generator
//
// Why shuffle at all: stochastic gradient descent treats each batch as a random sample of the
// data. Read in file order, a batch may hold only one class (data files are often sorted by
// label), and its gradient points somewhere else entirely; in the same order every epoch, the
// network sees the same sequence of updates and can fit that sequence. A fresh permutation per
// epoch removes both. Why seed it: a training run should be repeatable bit for bit - to debug it,
// to compare two changes fairly, to grade it - so the permutations come from the loader's own
// Generator (random.h), never from the clock.
//
// What an epoch costs here: the order is N integers (480 KB for MNIST), made in O(N); the batches
// are made one at a time by the data set's get_batch, so memory holds one batch, not the epoch.
#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

#include "tinytorch/data.h"

namespace tt::data {

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options), gen_(options.seed) {
    //! BEGIN SOLUTION
    //! HINT: refuse a null data set and a batch_size below 1, each with a tt::Error that names DataLoader and the value.
    TT_CHECK(dataset_ != nullptr, "DataLoader: the data set is null; pass a std::shared_ptr to one (std::make_shared<...>)");
    TT_CHECK(options_.batch_size >= 1, "DataLoader: batch_size = ", options_.batch_size, "; it must be at least 1");
    //! END SOLUTION
}

// ceil(N / B) batches, the last one possibly short; floor(N / B) when drop_last throws that one away.
//     N = 10, B = 4: 3 batches (4, 4, 2), or 2 with drop_last;  N = 8, B = 4: 2 either way.
int64_t DataLoader::num_batches() const {
    //! BEGIN SOLUTION
    //! HINT: integer arithmetic only: (N + B - 1) / B rounds up without floating point.
    const int64_t n = dataset_->size(), b = options_.batch_size;
    return options_.drop_last ? n / b : (n + b - 1) / b;
    //! END SOLUTION
}

// 0..N-1 in order, or shuffled by Fisher-Yates from gen_: going down from the last position, swap
// each one with a uniformly chosen position at or before it. Every one of the N! permutations is
// equally likely, in N - 1 draws - unlike "sort by a random key" (N log N) or "swap each with any
// position" (biased: N^N outcomes cannot split evenly over N! permutations).
std::vector<int64_t> DataLoader::next_epoch_order() {
    //! BEGIN SOLUTION
    //! HINT: order = 0, 1, ..., N-1 (std::iota). With shuffle: for i = N-1 down to 1, swap(order[i], order[gen_.randint(i + 1)]) - exactly these draws, in this order, so a seed gives the same epochs on every machine.
    //! HINT: draw from gen_, the loader's own generator, and never re-seed it: it carries on from one epoch to the next, which is what makes every epoch different.
    //! HINT: this starts an epoch: count it in epochs_started_.
    const int64_t n = dataset_->size();
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
    if (options_.shuffle)
        for (int64_t i = n - 1; i >= 1; --i) {
            const auto j = static_cast<int64_t>(gen_.randint(static_cast<uint64_t>(i + 1)));  // 0 <= j <= i
            std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
        }
    ++epochs_started_;
    return order;
    //! END SOLUTION
}

// Batch k of the epoch `order`: the examples order[k*B], ..., order[k*B + B - 1] (fewer for the last
// batch), gathered by the data set's get_batch - ImageDataset's makes floats only for these.
Batch DataLoader::batch(const std::vector<int64_t>& order, int64_t k) const {
    //! BEGIN SOLUTION
    //! HINT: the number of batches comes from order.size() the same way num_batches() computes it from the data set's size; a k outside 0..count-1 is a tt::Error naming k and the count.
    //! HINT: the indices are order[k*B .. min(k*B + B, N)); hand them to dataset_->get_batch.
    const auto n = static_cast<int64_t>(order.size());
    const int64_t b = options_.batch_size;
    const int64_t count = options_.drop_last ? n / b : (n + b - 1) / b;
    TT_CHECK(k >= 0 && k < count, "DataLoader::batch: batch ", k, " does not exist; ", n, " examples in batches of ", b,
             options_.drop_last ? " (drop_last)" : "", " make ", count, " batches");
    const int64_t start = k * b, stop = std::min(start + b, n);
    const std::vector<int64_t> indices(order.begin() + start, order.begin() + stop);
    return dataset_->get_batch(indices);
    //! END SOLUTION
}

}  // namespace tt::data
