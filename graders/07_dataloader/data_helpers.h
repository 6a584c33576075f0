// data_helpers.h - module 07 grader (also used by the engine's own tests): small synthetic data
// files written byte by byte, and reference versions of the shuffle and the transforms, built
// only from the [given] tt::Generator and plain loops - never from the code under test.
//
//     data_helpers::Folder folder;                                   // removed at the end of the test
//     folder.write("train-images-idx3-ubyte", idx_images(3, 2, 4, pixels));
//     folder.write("train-labels-idx1-ubyte.gz", gzip(idx_labels({1, 2, 3})));
#pragma once

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "grading.h"
#include "tinytorch/data.h"
#include "tinytorch/random.h"
#include "tinytorch/tensor.h"

namespace data_helpers {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A fresh folder below the current directory (a grader runs in a scratch folder of its own),
// removed with everything in it when the object goes.
class Folder {
public:
    Folder() {
        static std::atomic<int> counter{0};
        path_ = fs::absolute(fs::path("tt-data-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~Folder() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    Folder(const Folder&) = delete;
    Folder& operator=(const Folder&) = delete;

    const fs::path& path() const { return path_; }
    std::string str() const { return path_.string(); }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

    // Writes `bytes` to <folder>/<name> (creating sub-folders) and returns the path.
    std::string write(const std::string& name, const Bytes& bytes) const {
        const fs::path target = path_ / name;
        fs::create_directories(target.parent_path());
        std::ofstream out(target, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw std::runtime_error("data_helpers: cannot write " + target.string());
        return target.string();
    }

private:
    fs::path path_;
};

// Appends the 4 bytes of `value`, most significant first (the idx format's byte order).
inline void put_big_endian(Bytes& out, uint32_t value) {
    out.push_back(static_cast<uint8_t>(value >> 24));
    out.push_back(static_cast<uint8_t>(value >> 16));
    out.push_back(static_cast<uint8_t>(value >> 8));
    out.push_back(static_cast<uint8_t>(value));
}

// An idx image file: magic 0x00000803, count, rows, cols, then the pixel bytes as given (the header
// says what it is told to, so a test can write one that disagrees with its pixels).
inline Bytes idx_images(uint32_t count, uint32_t rows, uint32_t cols, const Bytes& pixels, uint32_t magic = 0x00000803) {
    Bytes out;
    put_big_endian(out, magic);
    put_big_endian(out, count);
    put_big_endian(out, rows);
    put_big_endian(out, cols);
    out.insert(out.end(), pixels.begin(), pixels.end());
    return out;
}

// An idx label file: magic 0x00000801, count, then the label bytes as given.
inline Bytes idx_labels(const Bytes& labels, uint32_t magic = 0x00000801) {
    Bytes out;
    put_big_endian(out, magic);
    put_big_endian(out, static_cast<uint32_t>(labels.size()));
    out.insert(out.end(), labels.begin(), labels.end());
    return out;
}

// The same header with an explicit count that may disagree with the bytes that follow.
inline Bytes idx_labels_with_count(uint32_t count, const Bytes& labels) {
    Bytes out;
    put_big_endian(out, 0x00000801);
    put_big_endian(out, count);
    out.insert(out.end(), labels.begin(), labels.end());
    return out;
}

// CIFAR-10 binary records: for each image, its label byte, then its 3,072 pixel bytes (C, H, W).
inline Bytes cifar_records(const Bytes& labels, const Bytes& pixels) {
    if (pixels.size() != labels.size() * 3072) throw std::logic_error("cifar_records: 3072 pixel bytes per label");
    Bytes out;
    for (size_t i = 0; i < labels.size(); ++i) {
        out.push_back(labels[i]);
        out.insert(out.end(), pixels.begin() + static_cast<std::ptrdiff_t>(i * 3072),
                   pixels.begin() + static_cast<std::ptrdiff_t>((i + 1) * 3072));
    }
    return out;
}

// `bytes` compressed as a gzip file (zlib's deflate with a gzip header).
inline Bytes gzip(const Bytes& bytes) {
    z_stream stream{};
    if (deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("gzip: deflateInit2 failed");
    Bytes out(deflateBound(&stream, static_cast<uLong>(bytes.size())) + 32);
    stream.next_in = const_cast<Bytef*>(bytes.data());
    stream.avail_in = static_cast<uInt>(bytes.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    const int status = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (status != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
    return out;
}

// Seeded bytes 0..255, the same on every machine.
inline Bytes random_bytes(size_t count, uint64_t seed) {
    tt::Generator gen(seed);
    Bytes out(count);
    for (uint8_t& b : out) b = static_cast<uint8_t>(gen.randint(256));
    return out;
}

// The header's Fisher-Yates: order = 0..n-1; for i = n-1 down to 1: swap(order[i], order[gen.randint(i + 1)]).
inline std::vector<int64_t> fisher_yates(int64_t n, tt::Generator& gen) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    for (int64_t i = n - 1; i >= 1; --i) {
        const auto j = static_cast<size_t>(gen.randint(static_cast<uint64_t>(i + 1)));
        std::swap(order[static_cast<size_t>(i)], order[j]);
    }
    return order;
}

// An image (C, H, W) as a flat row-major vector, and the reference transforms on it.
struct Image {
    int64_t channels, height, width;
    std::vector<float> pixels;
    float at(int64_t c, int64_t y, int64_t x) const { return pixels[static_cast<size_t>((c * height + y) * width + x)]; }
    tt::data::ImageView view() { return {pixels.data(), channels, height, width}; }
};

// Distinct values: pixel (c, y, x) = 100 c + 10 y + x + 1 + offset (never 0, so padding shows).
inline Image labelled_image(int64_t channels, int64_t height, int64_t width, float offset = 0.0f) {
    Image image{channels, height, width, {}};
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t y = 0; y < height; ++y)
            for (int64_t x = 0; x < width; ++x)
                image.pixels.push_back(static_cast<float>(100 * c + 10 * y + x + 1) + offset);
    return image;
}

// The image shifted as RandomCrop does for offsets (top, left): output (y, x) is original
// (y + top - padding, x + left - padding), or 0 outside the image.
inline Image reference_crop(const Image& in, int64_t padding, int64_t top, int64_t left) {
    Image out = in;
    for (int64_t c = 0; c < in.channels; ++c)
        for (int64_t y = 0; y < in.height; ++y)
            for (int64_t x = 0; x < in.width; ++x) {
                const int64_t sy = y + top - padding, sx = x + left - padding;
                const bool inside = sy >= 0 && sy < in.height && sx >= 0 && sx < in.width;
                out.pixels[static_cast<size_t>((c * in.height + y) * in.width + x)] = inside ? in.at(c, sy, sx) : 0.0f;
            }
    return out;
}

// The image mirrored left to right: x -> W - 1 - x.
inline Image reference_flip(const Image& in) {
    Image out = in;
    for (int64_t c = 0; c < in.channels; ++c)
        for (int64_t y = 0; y < in.height; ++y)
            for (int64_t x = 0; x < in.width; ++x)
                out.pixels[static_cast<size_t>((c * in.height + y) * in.width + x)] = in.at(c, y, in.width - 1 - x);
    return out;
}

// The image as a (C, H, W) tensor for tensor_near / tensor_equal.
inline tt::Tensor tensor_of(const Image& image) {
    return tt::testing::raw(image.pixels, {image.channels, image.height, image.width});
}

// Bytes (C, H, W) as the floats an ImageDataset must make: byte / 255.
inline std::vector<float> scaled(const uint8_t* bytes, size_t count) {
    std::vector<float> out(count);
    for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(bytes[i]) / 255.0f;
    return out;
}

}  // namespace data_helpers
