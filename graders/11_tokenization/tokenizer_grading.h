// tokenizer_grading.h - module 11 grader: what the test files share (a scratch file, the pieces as
// strings, token lists printed readably when a check fails). Expected values come from
// tokenizer_reference.h or from hand-worked examples, never from the code under test.
#pragma once

#include <atomic>
#include <chrono>
#include <unordered_map>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "tinytorch/tokenizer.h"
#include "tokenizer_reference.h"

// Merges print as {108, 111} in a failed check (Catch2 prints a std::pair as {?} by default).
namespace Catch {
template <>
struct StringMaker<std::pair<int64_t, int64_t>> {
    static std::string convert(const std::pair<int64_t, int64_t>& pair) {
        return "{" + std::to_string(pair.first) + ", " + std::to_string(pair.second) + "}";
    }
};
}  // namespace Catch

namespace tokenizer_grading {

namespace fs = std::filesystem;
using Ids = std::vector<int64_t>;
using Merges = std::vector<std::pair<int64_t, int64_t>>;

// A file name in the test's working folder (a grader runs in a scratch folder of its own), removed
// at the end together with anything that starts with it (a temporary file a save left behind).
class ScratchFile {
public:
    explicit ScratchFile(const std::string& stem) {
        static std::atomic<int> counter{0};
        path = "tt-" + stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".bpe";
        fs::remove(path);
    }
    ~ScratchFile() {
        std::error_code ignored;
        for (const std::string& name : files_starting_with_path()) fs::remove_all(name, ignored);
    }
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;

    void write(const std::string& text) const {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    std::string read() const {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    // Every entry of the working folder whose name starts with this file's name (itself included).
    std::vector<std::string> files_starting_with_path() const {
        std::vector<std::string> out;
        for (const auto& entry : fs::directory_iterator("."))
            if (entry.path().filename().string().rfind(path, 0) == 0) out.push_back(entry.path().filename().string());
        return out;
    }

    std::string path;
};

// The pieces as strings (comparable and printable).
inline std::vector<std::string> pieces_of(std::string_view text) {
    std::vector<std::string> out;
    for (std::string_view p : tt::split_pieces(text)) out.emplace_back(p);
    return out;
}

// A tokenizer with the given merges built by hand (not by the code under test): merges and vocab.
inline tt::BpeTokenizer with_merges(const Merges& merges) {
    tt::BpeTokenizer bpe;
    bpe.merges = merges;
    bpe.vocab = tokenizer_reference::vocabulary(merges);
    return bpe;
}

// Seconds `work` takes.
template <class Work>
double seconds_of(Work&& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The time of ONE pass of the naive trainer over `text`: count every adjacent pair of every piece
// (repeats included) in a hash map. A speed test measures the student's code in units of this
// pass, on the same machine at the same moment, so a loaded machine slows both alike. The naive
// trainer makes one such pass per merge; the incremental one costs a few passes in all.
inline double one_naive_pass_seconds(const std::string& text) {
    std::vector<std::vector<int64_t>> pieces;
    for (const std::string& p : tokenizer_reference::pieces(text)) pieces.push_back(tokenizer_reference::bytes_of(p));
    double best = 1e9;
    for (int repeat = 0; repeat < 3; ++repeat) {  // the fastest of 3: the least disturbed
        best = std::min(best, seconds_of([&] {
            std::unordered_map<uint64_t, int64_t> counts;
            for (const auto& tokens : pieces)
                for (size_t i = 0; i + 1 < tokens.size(); ++i)
                    ++counts[static_cast<uint64_t>(tokens[i]) << 32 | static_cast<uint64_t>(tokens[i + 1])];
        }));
    }
    return best;
}

// Word-like text of at least `bytes` bytes.
inline std::string text_of_size(size_t bytes) {
    std::string text;
    for (uint32_t seed = 1; text.size() < bytes; ++seed) text += tokenizer_reference::random_text(seed, 500);
    return text;
}

}  // namespace tokenizer_grading
