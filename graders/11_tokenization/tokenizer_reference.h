// tokenizer_reference.h - module 11 grader (also used by the engine's own tests and the benchmark):
// slow, obviously-correct versions of everything in tokenizer.h, written differently from the
// engine so that a shared mistake is unlikely. Nothing here calls the code under test.
//
//     tokenizer_reference::utf8_length(text, pos)            decodes the code point and checks its range
//     tokenizer_reference::pieces(text)                      classifies every byte, then cuts between classes
//     tokenizer_reference::train(text, vocab_size)           recounts every pair of every piece for every merge
//     tokenizer_reference::encode(merges, text)              applies merge 0, then merge 1, ... to every piece
//     tokenizer_reference::random_text(seed, words)          word-like text from a small alphabet (ties and repeats)
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tokenizer_reference {

using Merges = std::vector<std::pair<int64_t, int64_t>>;

// The length of the UTF-8 character at text[pos] (1 for any invalid byte), by decoding it.
inline size_t utf8_length(std::string_view text, size_t pos) {
    const auto at = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(text[i])); };
    const uint32_t b0 = at(pos);
    size_t length;
    uint32_t value;
    if ((b0 & 0xe0) == 0xc0) {
        length = 2, value = b0 & 0x1f;
    } else if ((b0 & 0xf0) == 0xe0) {
        length = 3, value = b0 & 0x0f;
    } else if ((b0 & 0xf8) == 0xf0) {
        length = 4, value = b0 & 0x07;
    } else {
        return 1;  // ASCII, a continuation byte, or f8..ff
    }
    if (pos + length > text.size()) return 1;
    for (size_t i = 1; i < length; ++i) {
        if ((at(pos + i) & 0xc0) != 0x80) return 1;
        value = value << 6 | (at(pos + i) & 0x3f);
    }
    const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < smallest[length]) return 1;                 // overlong
    if (value >= 0xd800 && value <= 0xdfff) return 1;       // surrogate
    if (value > 0x10ffff) return 1;                         // beyond Unicode
    return length;
}

// Byte classes of the piece rule: 0 letter, 1 digit, 2 other, 3 whitespace.
inline int byte_class(char c) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x80 || std::isalpha(b)) return 0;
    if (std::isdigit(b)) return 1;
    if (b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f') return 3;
    return 2;
}

// The pieces of tokenizer.h, as strings: first runs of one class, then a space that ends a
// whitespace run and is followed by a non-whitespace run moves to that run.
inline std::vector<std::string> pieces(std::string_view text) {
    std::vector<std::string> runs;
    std::vector<int> classes;
    for (char c : text) {
        const int k = byte_class(c);
        if (runs.empty() || classes.back() != k) {
            runs.emplace_back();
            classes.push_back(k);
        }
        runs.back() += c;
    }
    std::vector<std::string> out;
    for (size_t r = 0; r < runs.size(); ++r) {
        if (classes[r] == 3 && r + 1 < runs.size() && runs[r].back() == ' ') {
            std::string head = runs[r].substr(0, runs[r].size() - 1);
            if (!head.empty()) out.push_back(head);
            out.push_back(" " + runs[r + 1]);
            ++r;
        } else {
            out.push_back(runs[r]);
        }
    }
    return out;
}

// [a a a] with (a, a) -> [aa a]: left to right, not overlapping.
inline void apply_merge(std::vector<int64_t>& tokens, int64_t left, int64_t right, int64_t merged) {
    bool found = false;
    for (size_t i = 0; i + 1 < tokens.size() && !found; ++i) found = tokens[i] == left && tokens[i + 1] == right;
    if (!found) return;
    std::vector<int64_t> out;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (i + 1 < tokens.size() && tokens[i] == left && tokens[i + 1] == right) {
            out.push_back(merged);
            ++i;
        } else {
            out.push_back(tokens[i]);
        }
    }
    tokens = std::move(out);
}

inline std::vector<int64_t> bytes_of(std::string_view s) {
    std::vector<int64_t> out;
    for (char c : s) out.push_back(static_cast<unsigned char>(c));
    return out;
}

// Training without any cleverness: every merge recounts every pair of every distinct piece (x its
// count) and takes the largest count, the smallest pair on ties.
inline Merges train(std::string_view text, int64_t vocab_size) {
    std::map<std::string, int64_t> counted;
    for (const std::string& p : pieces(text)) ++counted[p];
    std::vector<std::pair<std::vector<int64_t>, int64_t>> words;
    for (const auto& [p, n] : counted) words.push_back({bytes_of(p), n});
    Merges merges;
    std::unordered_map<uint64_t, int64_t> pairs;  // (left << 32 | right) -> count
    while (256 + static_cast<int64_t>(merges.size()) < vocab_size) {
        pairs.clear();
        for (const auto& [tokens, n] : words)
            for (size_t i = 0; i + 1 < tokens.size(); ++i)
                pairs[static_cast<uint64_t>(tokens[i]) << 32 | static_cast<uint64_t>(tokens[i + 1])] += n;
        uint64_t best = 0;
        int64_t best_count = 1;  // a pair must occur at least twice
        for (const auto& [pair, n] : pairs)
            if (n > best_count || (n == best_count && best_count > 1 && pair < best)) best = pair, best_count = n;
        if (best_count < 2) break;
        const int64_t left = static_cast<int64_t>(best >> 32), right = static_cast<int64_t>(best & 0xffffffffu);
        const int64_t merged = 256 + static_cast<int64_t>(merges.size());
        merges.emplace_back(left, right);
        for (auto& word : words) apply_merge(word.first, left, right, merged);
    }
    return merges;
}

// Encoding by applying every merge in order to every piece.
// (Each distinct piece is worked out once: the same piece always gives the same tokens.)
inline std::vector<int64_t> encode(const Merges& merges, std::string_view text) {
    std::vector<int64_t> out;
    std::map<std::string, std::vector<int64_t>> done;
    for (const std::string& p : pieces(text)) {
        auto found = done.find(p);
        if (found == done.end()) {
            std::vector<int64_t> tokens = bytes_of(p);
            for (size_t i = 0; i < merges.size() && tokens.size() > 1; ++i)
                apply_merge(tokens, merges[i].first, merges[i].second, 256 + static_cast<int64_t>(i));
            found = done.emplace(p, std::move(tokens)).first;
        }
        out.insert(out.end(), found->second.begin(), found->second.end());
    }
    return out;
}

// The bytes of every token of a tokenizer with these merges (256 + merges entries).
inline std::vector<std::string> vocabulary(const Merges& merges) {
    std::vector<std::string> vocab;
    for (int b = 0; b < 256; ++b) vocab.emplace_back(1, static_cast<char>(b));
    for (const auto& [l, r] : merges) vocab.push_back(vocab[static_cast<size_t>(l)] + vocab[static_cast<size_t>(r)]);
    return vocab;
}

// Word-like text: `words` words of 1-7 letters from a skewed 6-letter alphabet, with spaces,
// newlines, digits and punctuation between them - many repeated pairs and many ties.
inline std::string random_text(uint32_t seed, int words) {
    std::mt19937 gen(seed);
    const std::string letters = "aabbbcdeee";
    const char* separators[] = {" ", " ", " ", " ", "  ", "\n", ", ", ". ", "!\n\n", " 12 ", "\t"};
    std::string text;
    for (int w = 0; w < words; ++w) {
        const int length = 1 + static_cast<int>(gen() % 7);
        for (int i = 0; i < length; ++i) text += letters[gen() % letters.size()];
        text += separators[gen() % (sizeof separators / sizeof separators[0])];
    }
    return text;
}

// Any bytes at all: NUL, invalid UTF-8, whitespace runs.
inline std::string random_bytes(uint32_t seed, size_t length) {
    std::mt19937 gen(seed);
    std::string s;
    for (size_t i = 0; i < length; ++i) {
        const uint32_t kind = gen() % 4;
        if (kind == 0) s += static_cast<char>(gen() % 256);
        else if (kind == 1) s += " \n\t"[gen() % 3];
        else s += "ab\xc3\xa9"[gen() % 4];
    }
    return s;
}

}  // namespace tokenizer_reference
