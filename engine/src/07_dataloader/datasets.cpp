// datasets.cpp - module 07: data sets, and stacking examples into batches.
//
// A data set is anything with a size() and a get(i). Training never wants one example at a time,
// though: it wants B of them stacked into one tensor, so that a layer runs one matmul of
// (B, in) @ (in, out) instead of B small ones. get_batch(indices) is that stacking:
//
//     indices  [7, 2, 9]                     (from the DataLoader: one slice of a shuffled order)
//     inputs   (3, C, H, W)   row b = example indices[b]
//     targets  (3,)           class indices as floats
//
// Two data sets live here:
//   - TensorDataset: the examples are rows of two tensors already in memory (small problems, tests);
//   - ImageDataset: images kept as the bytes they were stored as, turned into floats one batch at a
//     time. MNIST as uint8 is 47 MB; as float32 it would be 188 MB, and CIFAR-10 614 MB. Converting
//     late costs one pass over the batch's bytes (B * C * H * W divisions, microseconds), which is
//     nothing next to the forward pass it feeds - and memory stays the size of the files.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/data.h"
#include "tinytorch/tensor.h"

namespace tt::data {

namespace {

//! BEGIN SOLUTION
//! HINT: every get() and get_batch() must refuse an index outside 0..size()-1 with a tt::Error naming the data set, the index and the size; a small helper saves writing it five times.
//! HINT: do not rely on Tensor::select to catch it: select(0, -1) is the last row (Python's rule), but a data set's index -1 is a bug in the caller.
// A tt::Error unless 0 <= index < size:
//     "ImageDataset: index 10 is out of range for a data set of 10 examples (valid: 0..9)"
void check_index(int64_t index, int64_t size, const char* dataset) {
    TT_CHECK(index >= 0 && index < size, dataset, ": index ", index, " is out of range for a data set of ", size,
             " examples", size > 0 ? " (valid: 0.." + std::to_string(size - 1) + ")" : std::string(" (it is empty)"));
}

// {B} followed by `shape`: the shape of B stacked examples of `shape`.
Shape stacked(int64_t count, const Shape& shape) {
    Shape out = {count};
    out.insert(out.end(), shape.begin(), shape.end());
    return out;
}
//! END SOLUTION

}  // namespace

// ---------------------------------------------------------------------------------------------
// Dataset: the default get_batch, one get() per example
// ---------------------------------------------------------------------------------------------

// Works for any data set, at the cost of one get() (and its small tensors) per example. The first
// example fixes the shapes; every other one must match them, or the batch could not be one tensor.
//     examples of input (2, 3) and target ()  ->  inputs (B, 2, 3), targets (B,)
// No indices: an empty Batch (undefined tensors, size() 0), since there is no example to take a
// shape from.
Batch Dataset::get_batch(const std::vector<int64_t>& indices) const {
    //! BEGIN SOLUTION
    //! HINT: get(indices[0]) gives the shapes: inputs are (B, *input.shape()), targets (B, *target.shape()); allocate both once with tt::empty.
    //! HINT: for each b, get(indices[b]) and copy its input into row b: a row is numel(input shape) floats starting at inputs.data() + b * row. An example may be a view (not contiguous): copy from example.input.contiguous().data().
    //! HINT: an example whose input or target shape differs from the first one's is a tt::Error naming both indices and both shapes.
    if (indices.empty()) return Batch();
    const auto count = static_cast<int64_t>(indices.size());
    const Example first = get(indices[0]);
    const Shape input_shape = first.input.shape(), target_shape = first.target.shape();
    const int64_t input_size = numel(input_shape), target_size = numel(target_shape);
    Batch batch{empty(stacked(count, input_shape)), empty(stacked(count, target_shape))};
    for (int64_t b = 0; b < count; ++b) {
        const Example example = b == 0 ? first : get(indices[b]);
        TT_CHECK(example.input.shape() == input_shape && example.target.shape() == target_shape,
                 "Dataset::get_batch: example ", indices[b], " has input ", shape_str(example.input.shape()), " and target ",
                 shape_str(example.target.shape()), " but example ", indices[0], " has input ", shape_str(input_shape),
                 " and target ", shape_str(target_shape), "; every example of a batch must have the same shapes");
        const Tensor input = example.input.contiguous(), target = example.target.contiguous();
        std::copy_n(input.data(), input_size, batch.inputs.data() + b * input_size);
        std::copy_n(target.data(), target_size, batch.targets.data() + b * target_size);
    }
    return batch;
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// TensorDataset: example i is row i of two tensors
// ---------------------------------------------------------------------------------------------

TensorDataset::TensorDataset(Tensor input_rows, Tensor target_rows)
    : inputs(std::move(input_rows)), targets(std::move(target_rows)) {
    //! BEGIN SOLUTION
    //! HINT: both tensors must be defined and have a first dimension (dim() >= 1), and the same size(0): that size is N, the number of examples.
    //! HINT: the message names both shapes: "TensorDataset: inputs (100, 2) and targets (99,) hold different numbers of examples (100 and 99)".
    TT_CHECK(inputs.defined() && targets.defined(), "TensorDataset: inputs and targets must be defined tensors");
    TT_CHECK(inputs.dim() >= 1 && targets.dim() >= 1, "TensorDataset: inputs ", shape_str(inputs.shape()), " and targets ",
             shape_str(targets.shape()), " need a first dimension that counts the examples: (N, ...)");
    TT_CHECK(inputs.size(0) == targets.size(0), "TensorDataset: inputs ", shape_str(inputs.shape()), " and targets ",
             shape_str(targets.shape()), " hold different numbers of examples (", inputs.size(0), " and ", targets.size(0),
             "); their first dimensions must agree");
    //! END SOLUTION
}

int64_t TensorDataset::size() const {
    //! BEGIN SOLUTION
    return inputs.size(0);
    //! END SOLUTION
}

// Row `index` of each tensor, as views: no copy. inputs (N, 2) -> input (2,); targets (N,) -> ().
Example TensorDataset::get(int64_t index) const {
    //! BEGIN SOLUTION
    //! HINT: check the index first, then select(0, index) on both tensors.
    check_index(index, size(), "TensorDataset");
    return {inputs.select(0, index), targets.select(0, index)};
    //! END SOLUTION
}

// Gathers rows: row b of the batch is row indices[b] of the data set, for inputs and targets alike.
//     inputs (N, D), indices [4, 0]  ->  (2, D) = [inputs[4], inputs[0]]
// One copy per row straight into the batch. The data set's tensors may be views with any layout
// (a column of a bigger table, a transposed matrix): select(0, i).contiguous() is a free view when
// the row is already a plain block, and a copy of that one row when it is not.
Batch TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
    //! BEGIN SOLUTION
    //! HINT: the batch shapes are the data set's with size(0) replaced by B = indices.size(); B = 0 gives (0, ...) tensors.
    //! HINT: a row is numel / N floats (for targets (N,) that is 1); copy row indices[b] of each tensor into row b of the batch, after checking the index.
    //! HINT: do not assume the tensors are contiguous: tests pass views (padded, transposed). Copy from select(0, i).contiguous().data().
    const auto count = static_cast<int64_t>(indices.size());
    auto gather = [&](const Tensor& source) {
        Shape shape = source.shape();
        shape[0] = count;
        Tensor out = empty(shape);
        const int64_t row = numel(shape) / std::max<int64_t>(count, 1);  // floats per example
        for (int64_t b = 0; b < count; ++b) {
            const Tensor source_row = source.select(0, indices[b]).contiguous();
            std::copy_n(source_row.data(), row, out.data() + b * row);
        }
        return out;
    };
    for (int64_t index : indices) check_index(index, size(), "TensorDataset");
    return {gather(inputs), gather(targets)};
    //! END SOLUTION
}

// ---------------------------------------------------------------------------------------------
// ImageDataset: uint8 pixels in memory, floats only for the batch being made
// ---------------------------------------------------------------------------------------------

namespace {

//! BEGIN SOLUTION
//! HINT: get() and get_batch() both turn one image's bytes into floats and run the transforms: write it once, as a helper that fills a float buffer you give it.
// One image: C * H * W bytes -> floats in [0, 1] written to `out`, then every transform in order,
// in place. `out` is the image's slot in the batch, so the floats are made exactly once.
void make_image(const uint8_t* bytes, float* out, int64_t channels, int64_t height, int64_t width,
                const std::vector<std::shared_ptr<Transform>>& transforms) {
    const int64_t count = channels * height * width;
    // A plain loop over contiguous memory: the compiler turns it into vector instructions that
    // convert 8 or 16 bytes at a time.
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(bytes[i]) / 255.0f;
    const ImageView image{out, channels, height, width};
    for (const std::shared_ptr<Transform>& transform : transforms) transform->apply(image);
}
//! END SOLUTION

}  // namespace

ImageDataset::ImageDataset(std::vector<uint8_t> pixels, std::vector<uint8_t> labels, int64_t channels, int64_t height,
                           int64_t width, std::vector<std::shared_ptr<Transform>> transforms)
    : transforms(std::move(transforms)),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)),
      channels_(channels),
      height_(height),
      width_(width) {
    //! BEGIN SOLUTION
    //! HINT: channels, height and width must be positive; pixels_ must hold exactly labels_.size() images of C * H * W bytes. Say both sizes and what was expected.
    //! HINT: a null transform would crash much later, in the middle of a batch: refuse it here, naming its position.
    TT_CHECK(channels_ > 0 && height_ > 0 && width_ > 0, "ImageDataset: images of (", channels_, ", ", height_, ", ", width_,
             ") make no sense; channels, height and width must be positive");
    const auto image_bytes = static_cast<size_t>(channels_ * height_ * width_);
    TT_CHECK(pixels_.size() == labels_.size() * image_bytes, "ImageDataset: ", pixels_.size(), " pixel bytes for ",
             labels_.size(), " labels; images of (", channels_, ", ", height_, ", ", width_, ") take ", image_bytes,
             " bytes each, so expected ", labels_.size() * image_bytes);
    for (size_t i = 0; i < this->transforms.size(); ++i)
        TT_CHECK(this->transforms[i] != nullptr, "ImageDataset: transform ", i, " is null");
    //! END SOLUTION
}

int64_t ImageDataset::size() const {
    //! BEGIN SOLUTION
    return static_cast<int64_t>(labels_.size());
    //! END SOLUTION
}

// input (C, H, W) floats, target () the label.
Example ImageDataset::get(int64_t index) const {
    //! BEGIN SOLUTION
    //! HINT: image `index` starts at byte index * C * H * W of pixels_; its label is labels_[index].
    //! HINT: allocate the (C, H, W) tensor with tt::empty and fill its data() directly: no per-pixel set().
    check_index(index, size(), "ImageDataset");
    const int64_t image_bytes = channels_ * height_ * width_;
    Tensor input = empty({channels_, height_, width_});
    make_image(pixels_.data() + index * image_bytes, input.data(), channels_, height_, width_, transforms);
    return {input, scalar(static_cast<float>(labels_[static_cast<size_t>(index)]))};
    //! END SOLUTION
}

// inputs (B, C, H, W), targets (B,). Each image is converted and transformed straight into its slot
// of the batch: one allocation per batch, one pass over each image's bytes.
Batch ImageDataset::get_batch(const std::vector<int64_t>& indices) const {
    //! BEGIN SOLUTION
    //! HINT: allocate inputs (B, C, H, W) and targets (B,) once; image b goes to inputs.data() + b * C * H * W.
    //! HINT: the transforms run once per image, in order, on that slot (an ImageView over it): the same as get() would do, so get_batch({i}) equals get(i) stacked.
    const auto count = static_cast<int64_t>(indices.size());
    const int64_t image_bytes = channels_ * height_ * width_;
    Batch batch{empty({count, channels_, height_, width_}), empty({count})};
    float* inputs = batch.inputs.data();
    float* targets = batch.targets.data();
    for (int64_t b = 0; b < count; ++b) {
        const int64_t index = indices[static_cast<size_t>(b)];
        check_index(index, size(), "ImageDataset");
        make_image(pixels_.data() + index * image_bytes, inputs + b * image_bytes, channels_, height_, width_, transforms);
        targets[b] = static_cast<float>(labels_[static_cast<size_t>(index)]);
    }
    return batch;
    //! END SOLUTION
}

std::shared_ptr<ImageDataset> ImageDataset::head(int64_t count) const {
    //! BEGIN SOLUTION
    //! HINT: 0 <= count <= size(), else a tt::Error; copy the first count images' bytes and labels into new vectors and build a new ImageDataset with the same image size and transforms.
    TT_CHECK(count >= 0 && count <= size(), "ImageDataset::head: count ", count, " is outside 0..", size(),
             " (the data set has ", size(), " images)");
    const auto image_bytes = static_cast<size_t>(channels_ * height_ * width_);
    const auto n = static_cast<size_t>(count);
    return std::make_shared<ImageDataset>(std::vector<uint8_t>(pixels_.begin(), pixels_.begin() + n * image_bytes),
                                          std::vector<uint8_t>(labels_.begin(), labels_.begin() + n), channels_, height_,
                                          width_, transforms);
    //! END SOLUTION
}

}  // namespace tt::data
