// data.h - module 07: getting examples into the model, fast and in a different order every epoch.
//
//     auto train = tt::data::load_mnist(tt::data::find_dataset("mnist"), tt::data::Split::train,
//                                       {std::make_shared<tt::data::Normalize>(std::vector<float>{0.1307f},
//                                                                           std::vector<float>{0.3081f})});
//     tt::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 1});
//     for (int epoch = 0; epoch < 3; ++epoch)
//         for (const tt::data::Batch& batch : loader) {   // a new order every epoch
//             // batch.inputs: (64, 1, 28, 28) float, batch.targets: (64,) class indices as floats
//         }
//
// Three ideas carry the module:
//
// 1. Keep the data small, convert late. MNIST's 60,000 images are 47 MB as bytes and 188 MB as
//    floats; CIFAR-10's 50,000 are 154 MB as bytes and 614 MB as floats. An ImageDataset keeps
//    the uint8 pixels it read from disk and makes floats only for the batch being used: memory
//    stays at the size of the files, and converting 64 images costs microseconds.
// 2. Shuffle every epoch, reproducibly. Stochastic gradient descent assumes each batch is a
//    random sample; the same order every epoch lets the model learn the order. The DataLoader
//    draws a fresh permutation at the start of each epoch from its own Generator, so the same seed
//    gives the same sequence of epochs on every machine (random.h).
// 3. Files are untrusted input. A reader checks the magic number, the header and the size before
//    it trusts a byte, and fails with the path and what is wrong - never a crash, never a silently
//    short data set.
//
// Shapes: images are (C, H, W) (channels first, as PyTorch); a batch of B images is (B, C, H, W).
// Labels are class indices 0..9 stored as floats (the engine has one dtype), as cross_entropy
// (losses.h) expects.
//
// Who writes what: everything here is module 07 except what is marked [given] (engine/src/core/).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace tt::data {

// ---------------------------------------------------------------------------------------------
// Examples, batches and data sets
// ---------------------------------------------------------------------------------------------

// One example: an input (an image (C, H, W), a feature vector, ...) and its target (a 0-d tensor
// holding a class index, or any tensor for regression).
struct Example {
    Tensor input;
    Tensor target;
};

// B examples stacked along a new first dimension: inputs (B, ...), targets (B, ...) - (B,) for
// class indices.
struct Batch {
    Tensor inputs;
    Tensor targets;
    int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
};

// Anything that can be indexed: size() examples, numbered 0..size()-1.
class Dataset {
public:
    virtual ~Dataset() = default;
    virtual int64_t size() const = 0;
    // Example `index` (0 <= index < size(), else tt::Error naming the index and the size).
    virtual Example get(int64_t index) const = 0;
    // The examples at `indices`, stacked. The default calls get() for each and copies the results
    // into one (B, ...) tensor; data sets that can do better (ImageDataset converts bytes straight
    // into the batch) override it. Every example must have the same shape.
    virtual Batch get_batch(const std::vector<int64_t>& indices) const;
};

// Examples are rows of two tensors: example i is (inputs[i], targets[i]).
//     TensorDataset d(tt::randn({100, 2}), tt::zeros({100}));   // d.get(3).input: (2,)
class TensorDataset : public Dataset {
public:
    // inputs (N, ...) and targets (N, ...) with the same N, else tt::Error naming both shapes.
    TensorDataset(Tensor inputs, Tensor targets);
    int64_t size() const override;
    Example get(int64_t index) const override;
    Batch get_batch(const std::vector<int64_t>& indices) const override;
    Tensor inputs, targets;
};

// ---------------------------------------------------------------------------------------------
// Transforms: applied to one image at a time, on its float pixels, as the batch is made.
// ---------------------------------------------------------------------------------------------

// An image (C, H, W) as a plain row-major float buffer: pixel (c, y, x) is data[(c * H + y) * W + x].
struct ImageView {
    float* data;
    int64_t channels, height, width;
    float& at(int64_t c, int64_t y, int64_t x) const { return data[(c * height + y) * width + x]; }
};

class Transform {
public:
    virtual ~Transform() = default;
    // Changes the image in place. Random transforms draw from their own Generator.
    virtual void apply(const ImageView& image) = 0;
    virtual std::string name() const = 0;
};

// (x - mean[c]) / std[c] for each channel c; one value each for a 1-channel image. Pixels arrive
// in [0, 1] (the byte divided by 255), so mean and std are those of the [0, 1] values, as
// torchvision's: MNIST (0.1307) and (0.3081).
class Normalize : public Transform {
public:
    // Sizes must match the image's channels (checked in apply()); every std must be > 0.
    Normalize(std::vector<float> mean, std::vector<float> std);
    void apply(const ImageView& image) override;
    std::string name() const override { return "Normalize"; }
    std::vector<float> mean, std;
};

// With probability p, mirrors the image left to right: x -> W - 1 - x. One gen.uniform() per image
// (flip when it is < p), so a seeded run flips the same images.
class RandomHorizontalFlip : public Transform {
public:
    explicit RandomHorizontalFlip(float p = 0.5f, uint64_t seed = 0);
    void apply(const ImageView& image) override;
    std::string name() const override { return "RandomHorizontalFlip"; }
    float p;
    Generator gen;
};

// Pads the image with `padding` zeros on every side, then cuts a random (H, W) window back out:
// the image moves by up to `padding` pixels in each direction, the part that leaves is lost and
// the part that comes in is 0. Draws the top offset, then the left offset, each
// gen.randint(2 * padding + 1). The zeros are added after any Normalize listed before it
// (torchvision pads first, normalises later: list RandomCrop before Normalize for that).
class RandomCrop : public Transform {
public:
    explicit RandomCrop(int64_t padding, uint64_t seed = 0);
    void apply(const ImageView& image) override;
    std::string name() const override { return "RandomCrop"; }
    int64_t padding;
    Generator gen;
};

// ---------------------------------------------------------------------------------------------
// Images that stay uint8 until they are used
// ---------------------------------------------------------------------------------------------

// N images of (C, H, W) bytes and one label byte each. get() and get_batch() turn the bytes into
// floats in [0, 1] (byte / 255), apply the transforms in order to each image, and return the
// label as a float. The pixels are never copied into floats for the whole set.
class ImageDataset : public Dataset {
public:
    // pixels: N * C * H * W bytes, image after image, each (C, H, W) row-major; labels: N bytes.
    // tt::Error when the sizes disagree.
    ImageDataset(std::vector<uint8_t> pixels, std::vector<uint8_t> labels, int64_t channels, int64_t height,
                 int64_t width, std::vector<std::shared_ptr<Transform>> transforms = {});
    int64_t size() const override;
    Example get(int64_t index) const override;  // input (C, H, W), target ()
    Batch get_batch(const std::vector<int64_t>& indices) const override;  // (B, C, H, W), (B,)

    // The first `count` images (for quick runs and tests); shares no memory with this one.
    std::shared_ptr<ImageDataset> head(int64_t count) const;
    const std::vector<uint8_t>& pixels() const { return pixels_; }
    const std::vector<uint8_t>& labels() const { return labels_; }
    int64_t channels() const { return channels_; }
    int64_t height() const { return height_; }
    int64_t width() const { return width_; }
    std::vector<std::shared_ptr<Transform>> transforms;

private:
    std::vector<uint8_t> pixels_, labels_;
    int64_t channels_, height_, width_;
};

// ---------------------------------------------------------------------------------------------
// The DataLoader
// ---------------------------------------------------------------------------------------------

struct DataLoaderOptions {
    int64_t batch_size = 64;
    bool shuffle = false;
    bool drop_last = false;  // drop a last batch smaller than batch_size (else it is kept)
    uint64_t seed = 0;       // of the loader's Generator (shuffling)
};

// Cuts a data set into batches, in order or shuffled anew every epoch.
//
// Each call of begin() starts an epoch. With shuffle, the epoch's order is a permutation of
// 0..N-1 made by Fisher-Yates from the loader's Generator:
//     order = 0, 1, ..., N-1;  for i = N-1 down to 1: swap(order[i], order[gen.randint(i + 1)])
// so two loaders with the same seed produce the same sequence of epochs, and every epoch differs.
// Batch k holds order[k*B .. k*B + B) (B = batch_size); the last one is shorter unless drop_last.
class DataLoader {
public:
    // batch_size >= 1, else tt::Error.
    DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});

    // Batches per epoch: ceil(N / B), or floor(N / B) with drop_last.
    int64_t num_batches() const;
    int64_t epochs_started() const { return epochs_started_; }
    const Dataset& dataset() const { return *dataset_; }
    const DataLoaderOptions& options() const { return options_; }

    // The order of the next epoch (and draws it from the Generator, as begin() does).
    std::vector<int64_t> next_epoch_order();
    // Batch `k` of an epoch with this order.
    Batch batch(const std::vector<int64_t>& order, int64_t k) const;

    // [given] Range-for support: `for (const Batch& b : loader)` runs one epoch.
    class Iterator {
    public:
        Iterator(DataLoader* loader, int64_t k) : loader_(loader), k_(k) {}
        const Batch& operator*();
        Iterator& operator++() {
            ++k_;
            current_ = Batch();
            return *this;
        }
        bool operator!=(const Iterator& other) const { return k_ != other.k_; }

    private:
        DataLoader* loader_;
        int64_t k_;
        Batch current_;
    };
    Iterator begin();  // [given] next_epoch_order(), then batch 0
    Iterator end();    // [given]

private:
    std::shared_ptr<const Dataset> dataset_;
    DataLoaderOptions options_;
    Generator gen_;
    int64_t epochs_started_ = 0;
    std::vector<int64_t> order_;  // of the epoch begin() started
    friend class Iterator;
};

// ---------------------------------------------------------------------------------------------
// Readers. Every reader throws tt::Error("<path>: <what is wrong>") for a missing file, a
// truncated one, a wrong magic number or a size that disagrees with the header.
// ---------------------------------------------------------------------------------------------

// [given] The whole file as bytes; a gzip file (magic 1f 8b, any name) is decompressed (zlib).
std::vector<uint8_t> read_bytes(const std::string& path);
// [given] The whole file as text (no decompression); for tiny-shakespeare and other corpora.
std::string read_text(const std::string& path);

// The idx format of MNIST and Fashion-MNIST (big-endian, as the format was written on big-endian
// machines in 1998):
//     images: magic 0x00000803, count, rows, cols (4 bytes each), then count * rows * cols bytes
//     labels: magic 0x00000801, count, then count bytes
struct IdxImages {
    std::vector<uint8_t> pixels;  // count * rows * cols
    int64_t count = 0, rows = 0, cols = 0;
};
IdxImages read_idx_images(const std::string& path);
std::vector<uint8_t> read_idx_labels(const std::string& path);

enum class Split { train, test };

// MNIST or Fashion-MNIST (same layout) from `folder`, holding the four idx files under their
// official names, gzipped or not: train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz),
// t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz). Images (1, rows, cols) as the idx
// header says: (1, 28, 28) for both; the image and label counts must agree.
std::shared_ptr<ImageDataset> load_mnist(const std::string& folder, Split split,
                                         std::vector<std::shared_ptr<Transform>> transforms = {});

// CIFAR-10's binary version from `folder` (cifar-10-batches-bin/): data_batch_1.bin ...
// data_batch_5.bin (train) or test_batch.bin (test), each 10,000 records of 1 label byte and
// 3,072 pixel bytes (the red 32x32 plane, then green, then blue). Images (3, 32, 32); a file whose
// size is not a whole number of records, or a label above 9, is an error.
std::shared_ptr<ImageDataset> load_cifar10(const std::string& folder, Split split,
                                           std::vector<std::shared_ptr<Transform>> transforms = {});

// [given] Where a data set lives, by the course's look-up order: $TITO_DATA_DIR/<name>,
// ~/.cache/tinytorch/datasets/<name>, /usr/share/datasets/<name> (Debian's dataset-fashion-mnist).
// CIFAR-10's folder is <root>/cifar10/cifar-10-batches-bin. Throws tt::Error saying where it
// looked and how to get the data (`tito data fetch <name>`) when it is in none of them.
//     names: "mnist", "fashion-mnist", "cifar10", "tinyshakespeare"
std::string find_dataset(const std::string& name);

}  // namespace tt::data
