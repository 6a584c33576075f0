// test_training_helpers.h - what the engine tests of module 10 (test_training_*.cpp) share: a
// scratch folder, raw file bytes, a checkpoint builder written from the documented layout (not from
// the engine's code), and small models and data sets.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/data.h"
#include "tinytorch/layers.h"
#include "tinytorch/training.h"

namespace tt::testing {

namespace fs = std::filesystem;

// A fresh folder under the system's temporary folder, removed with everything in it at the end.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (fs::temp_directory_path() / "tt-training-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }
    // The names in the folder (to see that no temporary file was left behind).
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& entry : fs::directory_iterator(path_)) out.push_back(entry.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    fs::path path_;
};

inline std::vector<uint8_t> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// FNV-1a, 64-bit, as documented in training.h.
inline uint64_t fnv1a_reference(const uint8_t* data, size_t size) {
    uint64_t hash = 14695981039346656037ULL;
    for (size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 1099511628211ULL;
    return hash;
}

// Builds checkpoint files byte by byte from training.h's layout, to feed the reader files that are
// right, or wrong in exactly one way.
class CheckpointBytes {
public:
    CheckpointBytes& magic(const std::string& m = std::string("TTCKPT\r\n", 8)) { return raw(m); }
    CheckpointBytes& u8(uint8_t v) {
        bytes.push_back(v);
        return *this;
    }
    CheckpointBytes& u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
        return *this;
    }
    CheckpointBytes& u64(uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
        return *this;
    }
    CheckpointBytes& f32(float v) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        return u32(bits);
    }
    CheckpointBytes& f64(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, 8);
        return u64(bits);
    }
    CheckpointBytes& raw(const std::string& text) {
        bytes.insert(bytes.end(), text.begin(), text.end());
        return *this;
    }
    CheckpointBytes& name(const std::string& n) { return u32(static_cast<uint32_t>(n.size())).raw(n); }
    // magic, version, count
    CheckpointBytes& header(uint32_t count, uint32_t version = 1) { return magic().u32(version).u32(count); }
    CheckpointBytes& tensor(const std::string& n, const std::vector<int64_t>& shape, const std::vector<float>& values) {
        u8(0).name(n).u32(static_cast<uint32_t>(shape.size()));
        for (int64_t s : shape) u64(static_cast<uint64_t>(s));
        for (float v : values) f32(v);
        return *this;
    }
    CheckpointBytes& number(const std::string& n, double v) { return u8(1).name(n).f64(v); }
    CheckpointBytes& text(const std::string& n, const std::string& t) { return u8(2).name(n).name(t); }
    // Appends the FNV-1a of everything so far.
    CheckpointBytes& checksum() { return u64(fnv1a_reference(bytes.data(), bytes.size())); }
    std::vector<uint8_t> bytes;
};

// A Linear layer with a buffer that records, for every forward, the training mode and grad mode.
class ProbeModel : public Module {
public:
    ProbeModel(int64_t in, int64_t out, uint64_t seed) {
        Generator gen(seed);
        linear = register_module("linear", std::make_shared<Linear>(in, out, true, &gen));
        calls = register_buffer("calls", zeros({1}));
    }
    Tensor forward(const Tensor& x) override {
        training_modes.push_back(is_training());
        grad_modes.push_back(is_grad_enabled());
        calls.data()[0] += 1.0f;
        return (*linear)(x);
    }
    std::string name() const override { return "ProbeModel"; }
    std::shared_ptr<Linear> linear;
    Tensor calls;
    std::vector<bool> training_modes, grad_modes;
};

// Two Gaussian blobs per class around the corners of a square: n points (n, 2), labels (n,) in
// {0, 1}; separable by a line through the origin.
inline std::shared_ptr<data::TensorDataset> blobs(int64_t n, uint64_t seed) {
    Generator gen(seed);
    std::vector<float> x(static_cast<size_t>(2 * n)), y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const int label = static_cast<int>(i % 2);
        const float centre = label ? 1.5f : -1.5f;
        x[static_cast<size_t>(2 * i)] = centre + 0.5f * gen.normal();
        x[static_cast<size_t>(2 * i + 1)] = centre + 0.5f * gen.normal();
        y[static_cast<size_t>(i)] = static_cast<float>(label);
    }
    return std::make_shared<data::TensorDataset>(raw(x, {n, 2}), raw(y, {n}));
}

// A small classifier: Linear(2, 8), Tanh, Linear(8, 2), from a seed.
inline std::shared_ptr<Sequential> small_mlp(uint64_t seed) {
    Generator gen(seed);
    return std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
        std::make_shared<Linear>(2, 8, true, &gen), std::make_shared<Tanh>(), std::make_shared<Linear>(8, 2, true, &gen)});
}

// Every parameter's values, in order (copies).
inline std::vector<std::vector<float>> weights_of(const Module& model) {
    std::vector<std::vector<float>> out;
    for (const auto& [name, tensor] : model.named_parameters()) out.push_back(values_of(tensor));
    return out;
}

}  // namespace tt::testing
