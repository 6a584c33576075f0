// test_bpe_encode.cpp - module 11 grader: BpeTokenizer encode, encode_ordinary, decode,
// vocab_size, token_bytes (bpe.cpp).
//     encoding applies the merges to each piece by rank: the lowest merge number first - the
//     tokens training would have produced - never greedily by length or by frequency.
// The tokenizers here are built by hand (merges + vocab), so these tests do not depend on train().
// Expected values: by hand, or from tokenizer_reference.h (every merge applied in order).
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
using tokenizer_grading::with_merges;
using namespace std::string_literals;

TEST_CASE("encode applies merges by their rank and not greedily by the longest token", "[points=2]") {
    // 256 = (b,c) "bc", 257 = (a,b) "ab", 258 = (257,c) "abc".
    // "abc": (b,c) has the lowest rank -> [a bc]; no merge (a,bc) -> [97, 256]. A longest-match
    // encoder would give [258], and merging left to right would give [ab c] -> [258].
    const tt::BpeTokenizer bpe = with_merges({{98, 99}, {97, 98}, {257, 99}});
    CHECK(bpe.encode("abc") == Ids{97, 256});
    CHECK(bpe.encode("abab") == Ids{257, 257});
    CHECK(bpe.encode("ab abc") == Ids{257, 32, 97, 256});
}

TEST_CASE("encode applies merges by rank and not by the order pairs appear in the piece", "[points=2]") {
    // 256 = (c,d), 257 = (b,c), 258 = (a,b). "bcd": (c,d) has the lower rank -> [b cd]; merging the
    // leftmost known pair first would give [bc d] = [257, 100]. "abcd": [a b cd] -> [ab cd].
    const tt::BpeTokenizer bpe = with_merges({{99, 100}, {98, 99}, {97, 98}});
    CHECK(bpe.encode("abcd") == Ids{258, 256});
    CHECK(bpe.encode("bcd") == Ids{98, 256});
    CHECK(bpe.encode("bca") == Ids{257, 97});
}

TEST_CASE("encode replaces a pair left to right without overlapping", "[points=1]") {
    const tt::BpeTokenizer bpe = with_merges({{97, 97}});
    CHECK(bpe.encode("aaa") == Ids{256, 97});
    CHECK(bpe.encode("aaaa") == Ids{256, 256});
    CHECK(bpe.encode("aaaaa") == Ids{256, 256, 97});
    const tt::BpeTokenizer two = with_merges({{97, 97}, {256, 97}});
    CHECK(two.encode("aaa") == Ids{257});
    CHECK(two.encode("aaaaa") == Ids{256, 257});  // [aa aa a] -> (aa,a) at the end
}

TEST_CASE("encode never merges across pieces", "[points=1]") {
    // A merge (e, ' ') exists, but "the cat" is the pieces "the" and " cat".
    const tt::BpeTokenizer bpe = with_merges({{101, 32}, {32, 99}});
    CHECK(bpe.encode("the cat") == Ids{116, 104, 101, 257, 97, 116});
    CHECK(bpe.encode("e c") == Ids{101, 257});
    CHECK(bpe.encode("e\n") == Ids{101, 10});
    // Pairs that only meet across a boundary: "a  b" is "a" | " " | " b", "1a" is "1" | "a".
    const tt::BpeTokenizer boundary = with_merges({{32, 32}, {49, 97}});
    CHECK(boundary.encode("a  b") == Ids{97, 32, 32, 98});
    CHECK(boundary.encode("1a   x") == Ids{49, 97, 256, 32, 120});
}

TEST_CASE("encode equals applying every merge in order on random text", "[points=2]") {
    for (uint32_t seed = 1; seed <= 8; ++seed) {
        const Merges merges = ref::train(ref::random_text(seed, 800), 256 + 100);
        const tt::BpeTokenizer bpe = with_merges(merges);
        const std::string text = ref::random_text(seed + 50, 300) + ref::random_bytes(seed, 200);
        INFO("seed " << seed);
        REQUIRE(bpe.encode(text) == ref::encode(merges, text));
        REQUIRE(bpe.encode_ordinary(text) == ref::encode(merges, text));
    }
}

TEST_CASE("encode gives the same tokens for a piece every time it occurs", "[points=1]") {
    const Merges merges = ref::train(ref::random_text(5, 600), 256 + 60);
    const tt::BpeTokenizer bpe = with_merges(merges);
    const std::string part = ref::random_text(77, 40);
    std::string text;
    for (int i = 0; i < 5; ++i) text += part + "\n";
    Ids expected;
    for (int i = 0; i < 5; ++i) {
        const Ids once = ref::encode(merges, part + "\n");
        expected.insert(expected.end(), once.begin(), once.end());
    }
    CHECK(bpe.encode(text) == expected);
}

TEST_CASE("decode(encode(s)) == s for any bytes including empty input and NUL and invalid UTF-8", "[points=2]") {
    const tt::BpeTokenizer bpe = with_merges(ref::train(ref::random_bytes(9, 4000) + ref::random_text(9, 500), 256 + 120));
    CHECK(bpe.decode(bpe.encode("")) == "");
    const std::string edge = "\x00\x00 \xff\xfe\xc0\xaf \xed\xa0\x80\xc3"s;
    CHECK(bpe.decode(bpe.encode(edge)) == edge);
    for (uint32_t seed = 200; seed < 230; ++seed) {
        const std::string text = ref::random_bytes(seed, (seed % 17) * 23);
        REQUIRE(bpe.decode(bpe.encode(text)) == text);
    }
}

TEST_CASE("decode maps each id to its bytes and refuses an id out of range", "[points=2]") {
    const tt::BpeTokenizer bpe = with_merges({{104, 101}, {256, 108}, {32, 119}});  // "he", "hel", " w"
    CHECK(bpe.decode({257, 108, 111, 258, 111}) == "hello wo");
    CHECK(bpe.decode({0, 255}) == "\x00\xff"s);
    CHECK(bpe.decode({}).empty());
    const tt::BpeTokenizer small = with_merges({{104, 101}});  // 257 tokens
    CHECK(small.decode({256}) == "he");
    CHECK_THROWS_WITH(small.decode({104, 257}), Contains("257"));
    CHECK_THROWS_AS(small.decode({-1}), tt::Error);
}

TEST_CASE("vocab_size and token_bytes and a tokenizer without merges encoding the bytes", "[points=1]") {
    CHECK(tt::BpeTokenizer().vocab_size() == 256);
    const tt::BpeTokenizer bpe = with_merges({{104, 101}, {256, 108}});
    CHECK(bpe.vocab_size() == 258);
    CHECK(bpe.token_bytes(257) == "hel");
    CHECK(bpe.token_bytes(65) == "A");
    CHECK(bpe.token_bytes(0) == "\x00"s);
    CHECK_THROWS_AS(bpe.token_bytes(258), tt::Error);
    CHECK_THROWS_AS(bpe.token_bytes(-1), tt::Error);
    const tt::BpeTokenizer bytes;
    CHECK(bytes.encode("Hi!") == Ids{72, 105, 33});
    CHECK(bytes.encode("\xc3\xa9\xff"s + '\0') == Ids{195, 169, 255, 0});
    CHECK(bytes.encode("").empty());
}

TEST_CASE("encode is fast: 256 merges cost far less than 256 passes over the text", "[points=1]") {
    // Applying all 256 merges one after the other to every piece costs 256 passes over the text;
    // by rank, with the piece cache, encoding costs a few.
    const Merges merges = ref::train(ref::random_text(11, 2000), 512);
    const tt::BpeTokenizer bpe = with_merges(merges);
    const std::string text = tokenizer_grading::text_of_size(150000);
    const double pass = tokenizer_grading::one_naive_pass_seconds(text);
    Ids ids;
    const double seconds = tokenizer_grading::seconds_of([&] { ids = bpe.encode(text); });
    INFO("encoding took " << seconds << " s = " << seconds / pass << " naive passes (one pass: " << pass << " s)");
    CHECK(seconds < 120 * pass);
    CHECK(ids == ref::encode(merges, text));
}
