// test_bpe_train.cpp - module 11 grader: BpeTokenizer::train (bpe.cpp).
//     pieces counted once; pairs weighted by piece counts; the most frequent pair merges next
//     (ties: the smallest pair, first id then second id); occurrences replaced left to right
//     without overlapping; a pair must occur at least twice; vocab_size = 256 + merges.
// Expected values: worked out by hand in the comments, or from the naive trainer of
// tokenizer_reference.h, which recounts every pair for every merge.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"
#include "tokenizer_grading.h"
#include "tokenizer_reference.h"

namespace ref = tokenizer_reference;
using Catch::Matchers::Contains;
using tokenizer_grading::Ids;
using tokenizer_grading::Merges;

TEST_CASE("train on 'low lower lowest' worked out by hand with the bytes of every new token", "[points=3]") {
    // Pieces "low", " lower", " lowest". Pairs: (l,o) 3, (o,w) 3, ( ,l) 2, (w,e) 2, the rest 1.
    // 0: (l,o) = (108,111) beats (o,w) = (111,119) on the tie -> 256 "lo"
    // 1: (256,w) 3 -> 257 "low"
    // 2: ( ,257) 2 ties with (257,e) 2: 32 < 257 -> 258 " low"
    // 3: (258,e) 2 -> 259 " lowe"; then every pair occurs once: training stops at 4 merges.
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("low lower lowest", 1000);
    CHECK(bpe.merges == Merges{{108, 111}, {256, 119}, {32, 257}, {258, 101}});
    CHECK(bpe.vocab_size() == 260);
    REQUIRE(bpe.vocab.size() == 260);
    CHECK(bpe.vocab[97] == "a");
    CHECK(bpe.vocab[256] == "lo");
    CHECK(bpe.vocab[257] == "low");
    CHECK(bpe.vocab[258] == " low");
    CHECK(bpe.vocab[259] == " lowe");
    CHECK(bpe.token_bytes(259) == " lowe");
}

TEST_CASE("train stops at vocab_size and when no pair occurs twice", "[points=1]") {
    CHECK(tt::BpeTokenizer::train("low lower lowest", 258).merges == Merges{{108, 111}, {256, 119}});
    CHECK(tt::BpeTokenizer::train("low lower lowest", 257).vocab_size() == 257);
    CHECK(tt::BpeTokenizer::train("low lower lowest", 256).merges.empty());
    CHECK(tt::BpeTokenizer::train("abcdefg", 300).merges.empty());       // every pair once
    CHECK(tt::BpeTokenizer::train("", 300).merges.empty());
    CHECK(tt::BpeTokenizer::train("ab ab", 300).merges == Merges{{97, 98}});  // (a,b) 2; then ( ,ab) 1
    CHECK_THROWS_WITH(tt::BpeTokenizer::train("ab ab", 255), Contains("255"));
}

TEST_CASE("train breaks ties by the smallest pair and not the first one seen", "[points=2]") {
    // Pieces "cd" 1, " ab" 2, " cd" 1: (c,d) 2, ( ,a) 2, (a,b) 2, ( ,c) 1.
    // 0: ( ,a) = (32,97), the smallest of the three (though (c,d) comes first in the text)
    // 1: (c,d) = (99,100) 2 ties with ( a,b) = (256,98) 2: 99 < 256
    // 2: (256,98) -> " ab"
    CHECK(tt::BpeTokenizer::train("cd ab cd ab", 300).merges == Merges{{32, 97}, {99, 100}, {256, 98}});
}

TEST_CASE("train breaks ties on the second id when the first ids are equal", "[points=1]") {
    // Pieces "acab", " acab": (a,c) 2, (c,a) 2, (a,b) 2, ( ,a) 1. (a,b) = (97,98) < (a,c) = (97,99).
    // 1: [a c 256] [  a c 256]: (a,c) 2 and (c,256) 2 -> (97,99). 2: (257,256) 2.
    CHECK(tt::BpeTokenizer::train("acab acab", 300).merges == Merges{{97, 98}, {97, 99}, {257, 256}});
}

TEST_CASE("train replaces occurrences left to right and never overlapping", "[points=2]") {
    // "aaa" " aaa": (a,a) 4 -> [aa a] [  aa a]: (aa,a) 2 -> 257. Right to left would give (a,aa).
    CHECK(tt::BpeTokenizer::train("aaa aaa", 300).merges == Merges{{97, 97}, {256, 97}});
    // "aaaa" " aaaa": (a,a) 6 -> [aa aa] twice: (aa,aa) 2.
    CHECK(tt::BpeTokenizer::train("aaaa aaaa", 300).merges == Merges{{97, 97}, {256, 256}});
    // "aaa" alone: (a,a) is counted twice (positions 0 and 1) and merged once: [aa a], then stop.
    CHECK(tt::BpeTokenizer::train("aaa", 300).merges == Merges{{97, 97}});
    // "aaaaa" " aaaaa": (a,a) 8 -> [aa aa a] twice: (aa,a) = (256,97) and (aa,aa) = (256,256) tie at 2:
    // (256,97) first; then [aa aaa] twice: (256,257).
    CHECK(tt::BpeTokenizer::train("aaaaa aaaaa", 300).merges == Merges{{97, 97}, {256, 97}, {256, 257}});
}

TEST_CASE("train never merges across pieces", "[points=1]") {
    // "e t" and "e," are frequent across pieces, but ' ' and ',' start pieces of their own.
    const std::string text = "the cat, the hat, the mat, he sat, the end";
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train(text, 400);
    for (const auto& [left, right] : bpe.merges) {
        INFO("merge (" << left << ", " << right << ")");
        CHECK(!(right == ' ' || right == ','));
    }
    CHECK(bpe.merges == ref::train(text, 400));
}

TEST_CASE("train weights each pair by how often its piece occurs", "[points=2]") {
    // " xy" occurs 3 times: ( ,x) 3, (x,y) 3. "zwzw" once: (z,w) 2, (w,z) 1.
    // Weighted, ( ,x) = (32,120) goes first; counting each distinct piece once would pick (z,w).
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("zwzw xy xy xy", 300);
    REQUIRE(!bpe.merges.empty());
    CHECK(bpe.merges[0] == std::pair<int64_t, int64_t>{32, 120});
    CHECK(bpe.merges == Merges{{32, 120}, {256, 121}, {122, 119}});
}

TEST_CASE("train updates the pair counts correctly: small random texts against the naive trainer", "[points=2]") {
    for (uint32_t seed = 1; seed <= 12; ++seed) {
        const std::string text = ref::random_text(seed, 60 + 10 * static_cast<int>(seed));
        const int64_t vocab = 256 + 40;
        INFO("seed " << seed << ", text: " << text);
        REQUIRE(tt::BpeTokenizer::train(text, vocab).merges == ref::train(text, vocab));
    }
}

TEST_CASE("train updates the pair counts correctly: long runs of merges on larger texts", "[points=2]") {
    for (uint32_t seed = 21; seed <= 26; ++seed) {
        const std::string text = ref::random_text(seed, 1500);
        const int64_t vocab = 256 + 150;
        INFO("seed " << seed);
        const tt::BpeTokenizer bpe = tt::BpeTokenizer::train(text, vocab);
        const Merges expected = ref::train(text, vocab);
        REQUIRE(bpe.merges == expected);
        REQUIRE(bpe.vocab == ref::vocabulary(expected));
    }
}

TEST_CASE("train on repeated letters and words with repeats inside them", "[points=2]") {
    // Overlaps and neighbours of the merged pair in the same piece: the counts around them change.
    for (const std::string& text : {std::string("aaaaaaa aaa aaaa baaab aab"), std::string("abababa ababab baba aba"),
                                    std::string("mississippi missis sip sissi"), std::string("aabaabaab aab baa aabaab")}) {
        INFO("text: " << text);
        CHECK(tt::BpeTokenizer::train(text, 320).merges == ref::train(text, 320));
    }
}

TEST_CASE("train on arbitrary bytes: NUL and invalid UTF-8 and bytes >= 0x80", "[points=1]") {
    for (uint32_t seed = 1; seed <= 6; ++seed) {
        const std::string text = ref::random_bytes(seed, 500 * seed);
        INFO("seed " << seed);
        REQUIRE(tt::BpeTokenizer::train(text, 300).merges == ref::train(text, 300));
    }
}

TEST_CASE("train is incremental: 256 merges cost far less than 256 recounts of the text", "[points=1]") {
    // 150 KB of text. The naive trainer recounts every pair of the text for each of the 256 merges:
    // 256 passes. The incremental one counts distinct pieces once and then touches only what a
    // merge changes: a few passes (more with your code's sanitizers: the limit allows for them).
    const std::string text = tokenizer_grading::text_of_size(150000);
    const double pass = tokenizer_grading::one_naive_pass_seconds(text);
    tt::BpeTokenizer bpe;
    const double seconds = tokenizer_grading::seconds_of([&] { bpe = tt::BpeTokenizer::train(text, 512); });
    CHECK(bpe.merges.size() == 256);
    INFO("training took " << seconds << " s = " << seconds / pass << " naive passes (one pass: " << pass << " s)");
    CHECK(seconds < 120 * pass);
}
