// data_loader_iteration.cpp - the [given] range-for support of DataLoader (data.h):
//
//     for (const tt::data::Batch& batch : loader) { ... }   // one epoch
//
// is, by the rules of C++, the loop
//
//     for (auto it = loader.begin(), end = loader.end(); it != end; ++it) { const Batch& batch = *it; ... }
//
// begin() starts an epoch (draws its order); each batch is made only when the loop reaches it, so
// an epoch holds one batch in memory at a time, and a loop that stops early costs nothing more.
#include "tinytorch/data.h"

namespace tt::data {

const Batch& DataLoader::Iterator::operator*() {
    if (!current_.inputs.defined()) current_ = loader_->batch(loader_->order_, k_);
    return current_;
}

DataLoader::Iterator DataLoader::begin() {
    order_ = next_epoch_order();
    return Iterator(this, 0);
}

DataLoader::Iterator DataLoader::end() { return Iterator(this, num_batches()); }

}  // namespace tt::data
