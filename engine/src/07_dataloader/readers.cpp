// readers.cpp - module 07: reading MNIST's idx files and CIFAR-10's binary records.
//
// Both formats are a few bytes of header (or none) followed by raw pixel bytes, which is why they
// are fast to read: the pixels go from the file into memory without being parsed at all.
//
//     idx images (MNIST)       offset  0: 00 00 08 03     magic: 0x08 = unsigned bytes, 3 dimensions
//                                      4: 00 00 ea 60     count = 60000   (big-endian)
//                                      8: 00 00 00 1c     rows  = 28
//                                     12: 00 00 00 1c     cols  = 28
//                                     16: count * rows * cols pixel bytes, image after image
//     idx labels                       0: 00 00 08 01     magic: unsigned bytes, 1 dimension
//                                      4: count, then count label bytes
//     CIFAR-10 record          1 label byte, then 3,072 pixel bytes: red 32x32, green, blue
//                              (already channels-first (C, H, W): copied as they are)
//
// Byte order: the idx format was written on big-endian machines, most significant byte first.
// Reading 00 00 ea 60 as a little-endian uint32 (memcpy on x86 or ARM) gives 1,625,948,160
// instead of 60,000. Assemble the integer from its bytes, and the code is right on every machine.
//
// Untrusted input: a file is whatever is on disk - half a download, a renamed label file, a file
// from another data set. So check everything before trusting a byte: the size against the header
// (never read past the end, never return a set shorter than the header claims), the magic number
// (is this the file we think it is?), the counts of the image file against the label file, the
// label range. Every problem is a tt::Error that names the path and says what is wrong.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/data.h"

namespace tt::data {

namespace {

//! BEGIN SOLUTION
//! HINT: the 4 bytes at `at`, most significant first: (b0 << 24) | (b1 << 16) | (b2 << 8) | b3, each b converted to uint32_t before shifting.
// The big-endian uint32 at bytes[at .. at + 4).
uint32_t big_endian_u32(const std::vector<uint8_t>& bytes, size_t at) {
    return static_cast<uint32_t>(bytes[at]) << 24 | static_cast<uint32_t>(bytes[at + 1]) << 16 |
           static_cast<uint32_t>(bytes[at + 2]) << 8 | static_cast<uint32_t>(bytes[at + 3]);
}

// "0x00000803"
std::string hex(uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

// A tt::Error unless the file's magic number is `expected`, with a guess at what the file is.
void check_magic(const std::string& path, uint32_t magic, uint32_t expected, const char* what) {
    if (magic == expected) return;
    std::string guess = "; is it an idx file at all?";
    if (magic == 0x00000801) guess = "; that is an idx label file: did you swap the images and labels?";
    if (magic == 0x00000803) guess = "; that is an idx image file: did you swap the images and labels?";
    if (magic == __builtin_bswap32(expected)) guess = "; that is the magic read little-endian: idx integers are big-endian";
    throw Error(path + ": wrong magic number " + hex(magic) + " (expected " + hex(expected) + ", " + what + ")" + guess);
}
//! END SOLUTION

}  // namespace

IdxImages read_idx_images(const std::string& path) {
    IdxImages images;
    //! BEGIN SOLUTION
    //! HINT: read_bytes(path) gives the whole (decompressed) file. Never read a byte the file does not have: check the size before the magic (4 bytes) and before the rest of the header (16).
    //! HINT: magic, count, rows, cols are big-endian uint32 at offsets 0, 4, 8, 12; the magic must be 0x00000803.
    //! HINT: the pixels are the bytes after the 16-byte header, and there must be exactly count * rows * cols of them: fewer is a truncated file, more is not the file the header describes. Compute in 64 bits (60000 * 28 * 28 is fine in 32, a corrupt header's count is not).
    //! HINT: the result can reuse the file's buffer: erase the 16 header bytes and std::move it into images.pixels (no second 47 MB copy).
    std::vector<uint8_t> bytes = read_bytes(path);
    TT_CHECK(bytes.size() >= 4, path, ": truncated: ", bytes.size(), " bytes, shorter than the 16-byte header of an idx image file");
    check_magic(path, big_endian_u32(bytes, 0), 0x00000803, "idx images: unsigned bytes, 3 dimensions");
    TT_CHECK(bytes.size() >= 16, path, ": truncated: ", bytes.size(), " bytes, shorter than the 16-byte header of an idx image file");
    const uint64_t count = big_endian_u32(bytes, 4), rows = big_endian_u32(bytes, 8), cols = big_endian_u32(bytes, 12);
    TT_CHECK(rows > 0 && cols > 0, path, ": the header says images of ", rows, "x", cols, "; an image needs at least one pixel");
    const uint64_t pixels = bytes.size() - 16;
    const uint64_t image_bytes = rows * cols;  // < 2^64: both are 32-bit numbers
    TT_CHECK(pixels % image_bytes == 0 && pixels / image_bytes == count, path, ": the header says ", count, " images of ", rows,
             "x", cols, " but ", pixels, " pixel bytes follow it (", pixels / image_bytes, " images",
             pixels % image_bytes ? " and part of one" : "", "): ",
             pixels / image_bytes < count ? "the file is truncated; download it again" : "the file does not match its header");
    // Drop the header and keep the buffer: moving 47 MB down by 16 bytes is one memmove, where
    // copying them into a new vector would also allocate 47 MB more for a moment.
    bytes.erase(bytes.begin(), bytes.begin() + 16);
    images.pixels = std::move(bytes);
    images.count = static_cast<int64_t>(count);
    images.rows = static_cast<int64_t>(rows);
    images.cols = static_cast<int64_t>(cols);
    //! END SOLUTION
    return images;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
    //! BEGIN SOLUTION
    //! HINT: the same checks as the images with an 8-byte header: magic 0x00000801, then count, then exactly count label bytes.
    const std::vector<uint8_t> bytes = read_bytes(path);
    TT_CHECK(bytes.size() >= 4, path, ": truncated: ", bytes.size(), " bytes, shorter than the 8-byte header of an idx label file");
    check_magic(path, big_endian_u32(bytes, 0), 0x00000801, "idx labels: unsigned bytes, 1 dimension");
    TT_CHECK(bytes.size() >= 8, path, ": truncated: ", bytes.size(), " bytes, shorter than the 8-byte header of an idx label file");
    const uint64_t count = big_endian_u32(bytes, 4);
    const uint64_t labels = bytes.size() - 8;
    TT_CHECK(labels == count, path, ": the header says ", count, " labels but ", labels, " bytes follow it: ",
             labels < count ? "the file is truncated; download it again" : "the file does not match its header");
    return std::vector<uint8_t>(bytes.begin() + 8, bytes.end());
    //! END SOLUTION
}

namespace {

//! BEGIN SOLUTION
//! HINT: the official idx files come gzipped (name.gz), and people often unpack them (name): accept either, and when neither exists say which two names you looked for, in which folder, and how to get them.
// folder/name if it exists, else folder/name.gz, else a tt::Error naming both.
std::string idx_file(const std::string& folder, const std::string& name) {
    namespace fs = std::filesystem;
    for (const std::string& candidate : {name, name + ".gz"}) {
        const fs::path path = fs::path(folder) / candidate;
        std::error_code error;
        if (fs::is_regular_file(path, error)) return path.string();
    }
    throw Error("load_mnist: " + folder + " has neither " + name + " nor " + name +
                ".gz; get the data set with `tito data fetch mnist` (or fashion-mnist), or check the folder");
}
//! END SOLUTION

}  // namespace

std::shared_ptr<ImageDataset> load_mnist(const std::string& folder, Split split, std::vector<std::shared_ptr<Transform>> transforms) {
    //! BEGIN SOLUTION
    //! HINT: the files start with "train" or "t10k" (the test split): <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte, each possibly with .gz.
    //! HINT: the image count must equal the label count (a tt::Error naming both files and both counts); the images are (1, rows, cols).
    //! HINT: move the pixel and label vectors into the ImageDataset (std::move): 47 MB is worth not copying.
    const std::string prefix = split == Split::train ? "train" : "t10k";
    const std::string images_path = idx_file(folder, prefix + "-images-idx3-ubyte");
    const std::string labels_path = idx_file(folder, prefix + "-labels-idx1-ubyte");
    IdxImages images = read_idx_images(images_path);
    std::vector<uint8_t> labels = read_idx_labels(labels_path);
    TT_CHECK(images.count == static_cast<int64_t>(labels.size()), "load_mnist: ", images_path, " holds ", images.count,
             " images but ", labels_path, " holds ", labels.size(), " labels; the two files must belong together");
    return std::make_shared<ImageDataset>(std::move(images.pixels), std::move(labels), 1, images.rows, images.cols,
                                          std::move(transforms));
    //! END SOLUTION
}

std::shared_ptr<ImageDataset> load_cifar10(const std::string& folder, Split split, std::vector<std::shared_ptr<Transform>> transforms) {
    //! BEGIN SOLUTION
    //! HINT: train is data_batch_1.bin ... data_batch_5.bin in that order, test is test_batch.bin; check they all exist before reading any (a missing fifth file should not cost reading four).
    //! HINT: a file's size must be a non-zero multiple of 3,073; record r is bytes[r * 3073]: the label (0..9, else a tt::Error naming the path and the record), then 3,072 pixel bytes already in (C, H, W) order.
    //! HINT: append the pixels and labels of every file to two vectors; reserve() them from the file sizes so 150 MB is not copied while the vectors grow.
    namespace fs = std::filesystem;
    constexpr int64_t channels = 3, height = 32, width = 32;
    constexpr int64_t image_bytes = channels * height * width;  // 3,072
    constexpr int64_t record_bytes = 1 + image_bytes;           // 3,073: the label byte first
    std::vector<std::string> paths;
    if (split == Split::train)
        for (int i = 1; i <= 5; ++i) paths.push_back((fs::path(folder) / ("data_batch_" + std::to_string(i) + ".bin")).string());
    else
        paths.push_back((fs::path(folder) / "test_batch.bin").string());
    uint64_t total_bytes = 0;
    for (const std::string& path : paths) {
        std::error_code error;
        TT_CHECK(fs::is_regular_file(path, error), "load_cifar10: ", path,
                 " does not exist; get CIFAR-10 with `tito data fetch cifar10` (the binary version: cifar-10-batches-bin/)");
        total_bytes += fs::file_size(path, error);
    }

    std::vector<uint8_t> pixels, labels;
    pixels.reserve(static_cast<size_t>(total_bytes / record_bytes * image_bytes));
    labels.reserve(static_cast<size_t>(total_bytes / record_bytes));
    for (const std::string& path : paths) {
        const std::vector<uint8_t> bytes = read_bytes(path);
        const auto size = static_cast<int64_t>(bytes.size());
        TT_CHECK(size > 0 && size % record_bytes == 0, path, ": ", size, " bytes is not a whole number of ", record_bytes,
                 "-byte records (1 label byte + 3,072 pixel bytes): the file is truncated, or not CIFAR-10's binary version");
        for (int64_t offset = 0; offset < size; offset += record_bytes) {
            const uint8_t label = bytes[static_cast<size_t>(offset)];
            TT_CHECK(label <= 9, path, ": record ", offset / record_bytes, " has label ", static_cast<int>(label),
                     "; CIFAR-10's labels are 0-9 (is this CIFAR-100, or a damaged file?)");
            labels.push_back(label);
            pixels.insert(pixels.end(), bytes.begin() + offset + 1, bytes.begin() + offset + record_bytes);
        }
    }
    return std::make_shared<ImageDataset>(std::move(pixels), std::move(labels), channels, height, width, std::move(transforms));
    //! END SOLUTION
}

}  // namespace tt::data
