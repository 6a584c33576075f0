// training_grading.h - module 10 grader helpers. Nothing here calls the code under test (module
// 10): checkpoint files are built and parsed byte by byte from the layout documented in
// training.h, expected training results come from a loop written out here with modules 04-08
// (the reference of those modules is linked), and a probe model records the training and grad
// mode of every forward call.
//
//     training_grading::Folder folder;                        // a scratch folder, removed at the end
//     auto bytes = training_grading::FileBytes().header(1).number("lr", 0.1).checksum().bytes;
//     training_grading::Parsed p = training_grading::parse(folder.read("model.ttckpt"));
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "grading.h"
#include "tinytorch/autograd.h"
#include "tinytorch/data.h"
#include "tinytorch/layers.h"
#include "tinytorch/losses.h"
#include "tinytorch/optim.h"
#include "tinytorch/random.h"
#include "tinytorch/training.h"

namespace training_grading {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using tt::testing::raw;
using tt::testing::values_of;

// A fresh folder below the current directory (each grader test runs in a scratch folder of its
// own), removed with everything in it when the object goes.
class Folder {
public:
    Folder() {
        static std::atomic<int> counter{0};
        path_ = fs::absolute(fs::path("tt-training-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~Folder() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    Folder(const Folder&) = delete;
    Folder& operator=(const Folder&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }
    void write(const std::string& name, const Bytes& bytes) const {
        std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    Bytes read(const std::string& name) const {
        std::ifstream in(file(name), std::ios::binary);
        return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    // The names in the folder, sorted (to see that no temporary file was left behind).
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& entry : fs::directory_iterator(path_)) out.push_back(entry.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    fs::path path_;
};

// FNV-1a, 64-bit, as training.h documents it.
inline uint64_t fnv1a(const uint8_t* data, size_t size) {
    uint64_t hash = 14695981039346656037ULL;
    for (size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 1099511628211ULL;
    return hash;
}

// Builds checkpoint files byte by byte: right ones, and ones wrong in exactly one way.
class FileBytes {
public:
    FileBytes& magic() { return raw_text(std::string("TTCKPT\r\n", 8)); }
    FileBytes& u8(uint8_t v) {
        bytes.push_back(v);
        return *this;
    }
    FileBytes& u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));  // little-endian
        return *this;
    }
    FileBytes& u64(uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
        return *this;
    }
    FileBytes& f32(float v) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        return u32(bits);
    }
    FileBytes& f64(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, 8);
        return u64(bits);
    }
    FileBytes& raw_text(const std::string& text) {
        bytes.insert(bytes.end(), text.begin(), text.end());
        return *this;
    }
    FileBytes& name(const std::string& n) { return u32(static_cast<uint32_t>(n.size())).raw_text(n); }
    FileBytes& header(uint32_t count, uint32_t version = 1) { return magic().u32(version).u32(count); }
    FileBytes& tensor(const std::string& n, const std::vector<int64_t>& shape, const std::vector<float>& values) {
        u8(0).name(n).u32(static_cast<uint32_t>(shape.size()));
        for (int64_t s : shape) u64(static_cast<uint64_t>(s));
        for (float v : values) f32(v);
        return *this;
    }
    FileBytes& number(const std::string& n, double v) { return u8(1).name(n).f64(v); }
    FileBytes& text(const std::string& n, const std::string& t) { return u8(2).name(n).name(t); }
    FileBytes& checksum() { return u64(fnv1a(bytes.data(), bytes.size())); }
    Bytes bytes;
};

// A checkpoint file read by this file's own parser, written from the documented layout. Floats
// are kept as bit patterns so NaN payloads and -0 can be compared exactly.
struct ParsedTensor {
    std::vector<int64_t> shape;
    std::vector<uint32_t> bits;
};
struct Parsed {
    uint32_t version = 0;
    std::map<std::string, ParsedTensor> tensors;
    std::map<std::string, uint64_t> numbers;  // f64 bit patterns
    std::map<std::string, std::string> texts;
    std::vector<std::string> order;  // names in file order
};

// Parses `b`; throws std::runtime_error (a failed check, not a crash) on anything that does not
// follow the layout, including a wrong checksum.
inline Parsed parse(const Bytes& b) {
    size_t at = 0;
    auto need = [&](size_t n) {
        if (b.size() < 8 || at + n > b.size() - 8)
            throw std::runtime_error("the file does not follow the layout: it ends early at byte " + std::to_string(at));
    };
    auto u8 = [&] { need(1); return b[at++]; };
    auto le = [&](int n) {
        need(static_cast<size_t>(n));
        uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[at + static_cast<size_t>(i)]) << (8 * i);
        at += static_cast<size_t>(n);
        return v;
    };
    auto text = [&](uint64_t n) {
        need(static_cast<size_t>(n));
        std::string s(reinterpret_cast<const char*>(b.data() + at), static_cast<size_t>(n));
        at += static_cast<size_t>(n);
        return s;
    };
    Parsed p;
    if (text(8) != std::string("TTCKPT\r\n", 8)) throw std::runtime_error("the file does not start with TTCKPT\\r\\n");
    p.version = static_cast<uint32_t>(le(4));
    const uint64_t count = le(4);
    for (uint64_t i = 0; i < count; ++i) {
        const uint8_t kind = u8();
        const std::string n = text(le(4));
        p.order.push_back(n);
        if (kind == 0) {
            ParsedTensor t;
            const uint64_t ndim = le(4);
            if (ndim > 16) throw std::runtime_error("tensor '" + n + "' has " + std::to_string(ndim) + " dimensions");
            uint64_t numel = 1;
            for (uint64_t d = 0; d < ndim; ++d) {
                t.shape.push_back(static_cast<int64_t>(le(8)));
                if (t.shape.back() < 0 || t.shape.back() > (1 << 24)) throw std::runtime_error("tensor '" + n + "' has a bad size");
                numel *= static_cast<uint64_t>(t.shape.back());
            }
            for (uint64_t k = 0; k < numel; ++k) t.bits.push_back(static_cast<uint32_t>(le(4)));
            p.tensors[n] = t;
        } else if (kind == 1) {
            p.numbers[n] = le(8);
        } else if (kind == 2) {
            p.texts[n] = text(le(4));
        } else {
            throw std::runtime_error("entry '" + n + "' has kind " + std::to_string(kind));
        }
    }
    if (at != b.size() - 8) throw std::runtime_error("bytes left over after the entries, before the checksum");
    uint64_t stored = 0;
    for (int i = 0; i < 8; ++i) stored |= static_cast<uint64_t>(b[b.size() - 8 + static_cast<size_t>(i)]) << (8 * i);
    if (stored != fnv1a(b.data(), b.size() - 8)) throw std::runtime_error("the checksum is not the FNV-1a of the bytes before it");
    return p;
}

inline std::vector<uint32_t> float_bits(const std::vector<float>& values) {
    std::vector<uint32_t> out;
    for (float v : values) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        out.push_back(bits);
    }
    return out;
}

inline uint64_t double_bits(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return bits;
}

// Every parameter's values, in order (copies read from raw storage).
inline std::vector<std::vector<float>> weights_of(const tt::Module& model) {
    std::vector<std::vector<float>> out;
    for (const auto& [name, tensor] : model.named_parameters()) out.push_back(values_of(tensor));
    return out;
}

// Two Gaussian blobs (n, 2) with labels (n,) in {0, 1}, separable by a line through the origin.
inline std::shared_ptr<tt::data::TensorDataset> blobs(int64_t n, uint64_t seed) {
    tt::Generator gen(seed);
    std::vector<float> x(static_cast<size_t>(2 * n)), y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const int label = static_cast<int>(i % 2);
        const float centre = label ? 1.5f : -1.5f;
        x[static_cast<size_t>(2 * i)] = centre + 0.5f * gen.normal();
        x[static_cast<size_t>(2 * i + 1)] = centre + 0.5f * gen.normal();
        y[static_cast<size_t>(i)] = static_cast<float>(label);
    }
    return std::make_shared<tt::data::TensorDataset>(raw(x, {n, 2}), raw(y, {n}));
}

// Explicit inputs and targets, for data sets whose every value a test decides.
inline std::shared_ptr<tt::data::TensorDataset> dataset(const tt::Tensor& inputs, const tt::Tensor& targets) {
    return std::make_shared<tt::data::TensorDataset>(inputs, targets);
}

// Linear(2, 8), Tanh, Linear(8, 2), from a seed.
inline std::shared_ptr<tt::Sequential> small_mlp(uint64_t seed) {
    tt::Generator gen(seed);
    return std::make_shared<tt::Sequential>(std::initializer_list<std::shared_ptr<tt::Module>>{
        std::make_shared<tt::Linear>(2, 8, true, &gen), std::make_shared<tt::Tanh>(), std::make_shared<tt::Linear>(8, 2, true, &gen)});
}

// A Linear layer with a buffer; records the training mode and grad mode of every forward call.
class ProbeModel : public tt::Module {
public:
    ProbeModel(int64_t in, int64_t out, uint64_t seed) {
        tt::Generator gen(seed);
        linear = register_module("linear", std::make_shared<tt::Linear>(in, out, true, &gen));
        calls = register_buffer("calls", tt::testing::raw({0.0f}, {1}));
    }
    tt::Tensor forward(const tt::Tensor& x) override {
        training_modes.push_back(is_training());
        grad_modes.push_back(tt::is_grad_enabled());
        calls.storage()->data[0] += 1.0f;
        return (*linear)(x);
    }
    std::string name() const override { return "ProbeModel"; }
    std::shared_ptr<tt::Linear> linear;
    tt::Tensor calls;
    std::vector<bool> training_modes, grad_modes;
};

// Cross-entropy while training (grad mode on); in evaluation (grad mode off) the next value of a
// script, so a test decides the validation loss of every epoch. The training loss stays real:
// early stopping on the training loss does not follow the script.
struct ScriptedLoss {
    std::shared_ptr<std::vector<double>> script = std::make_shared<std::vector<double>>();
    std::shared_ptr<size_t> next = std::make_shared<size_t>(0);
    tt::Tensor operator()(const tt::Tensor& out, const tt::Tensor& target) const {
        if (tt::is_grad_enabled()) return tt::cross_entropy(out, target);
        const double value = (*script)[std::min(*next, script->size() - 1)];
        ++*next;
        return tt::testing::raw_scalar(static_cast<float>(value));
    }
};

// The training loop written out, in the order training.h documents, with modules 04-08 only:
// what Trainer::fit must reproduce bit for bit. Returns each epoch's mean loss over examples.
struct HandLoop {
    float clip = 0.0f;
    tt::optim::LRScheduler* scheduler = nullptr;
    std::vector<double> run(tt::Module& model, tt::optim::Optimizer& optimizer, tt::data::DataLoader& loader, int epochs) const {
        std::vector<double> losses;
        for (int epoch = 0; epoch < epochs; ++epoch) {
            model.train();
            double sum = 0;
            int64_t n = 0;
            for (const tt::data::Batch& batch : loader) {
                optimizer.zero_grad();
                tt::Tensor loss = tt::cross_entropy(model(batch.inputs), batch.targets);
                loss.backward();
                if (clip > 0) tt::optim::clip_grad_norm_(model.parameters(), clip);
                optimizer.step();
                if (scheduler) scheduler->step();
                sum += static_cast<double>(loss.item()) * static_cast<double>(batch.size());
                n += batch.size();
            }
            losses.push_back(sum / static_cast<double>(n));
        }
        return losses;
    }
};

// Sends std::cerr into a string for the lifetime of the object.
class CaptureStderr {
public:
    CaptureStderr() : previous_(std::cerr.rdbuf(buffer_.rdbuf())) {}
    ~CaptureStderr() { std::cerr.rdbuf(previous_); }
    CaptureStderr(const CaptureStderr&) = delete;
    CaptureStderr& operator=(const CaptureStderr&) = delete;
    std::string text() const { return buffer_.str(); }

private:
    std::ostringstream buffer_;
    std::streambuf* previous_;
};

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

}  // namespace training_grading
