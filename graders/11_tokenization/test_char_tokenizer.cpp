// test_char_tokenizer.cpp - module 11 grader: CharTokenizer (characters.cpp).
//     ids follow the byte order of the characters (not the order they first appear); a character
//     is a UTF-8 character, or a single invalid byte (by utf8_char_length).
// Expected values: by hand.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"
#include "tokenizer_reference.h"

namespace ref = tokenizer_reference;
using Catch::Matchers::Contains;
using namespace std::string_literals;
using Ids = std::vector<int64_t>;
using V = std::vector<std::string>;

TEST_CASE("CharTokenizer::fit numbers the characters in byte order and not in order of appearance", "[points=2]") {
    const tt::CharTokenizer chars = tt::CharTokenizer::fit("First Citizen:\nBefore we proceed");
    CHECK(chars.characters == V{"\n", " ", ":", "B", "C", "F", "c", "d", "e", "f", "i", "n", "o", "p", "r", "s", "t", "w", "z"});
    CHECK(chars.vocab_size() == 19);
    CHECK(tt::CharTokenizer::fit("cba").characters == V{"a", "b", "c"});
    CHECK(tt::CharTokenizer::fit("").vocab_size() == 0);
}

TEST_CASE("CharTokenizer::fit keeps UTF-8 characters whole and sorts bytes as unsigned", "[points=2]") {
    // é (c3 a9) sorts after every ASCII character; a lone a9 is a character of its own.
    const tt::CharTokenizer chars = tt::CharTokenizer::fit("\xc3\xa9t\xc3\xa9 \xe2\x82\xac\xa9");
    CHECK(chars.characters == V{" ", "t", "\xa9", "\xc3\xa9", "\xe2\x82\xac"});
    // A NUL is a character too, the smallest one.
    CHECK(tt::CharTokenizer::fit("b\x00"s "a").characters == V{"\x00"s, "a", "b"});
}

TEST_CASE("CharTokenizer encode and decode worked by hand", "[points=2]") {
    const tt::CharTokenizer chars = tt::CharTokenizer::fit("hello world\n");
    // '\n' 0, ' ' 1, d 2, e 3, h 4, l 5, o 6, r 7, w 8
    CHECK(chars.encode("hello") == Ids{4, 3, 5, 5, 6});
    CHECK(chars.encode("\nold ") == Ids{0, 6, 5, 2, 1});
    CHECK(chars.decode({8, 6, 7, 5, 2, 0}) == "world\n");
    CHECK(chars.encode("").empty());
    CHECK(chars.decode({}).empty());
    const tt::CharTokenizer utf8 = tt::CharTokenizer::fit("\xc3\xa9t\xc3\xa9");  // ids: t 0, é 1
    CHECK(utf8.encode("\xc3\xa9t\xc3\xa9t") == Ids{1, 0, 1, 0});
    CHECK(utf8.decode({1, 1, 0}) == "\xc3\xa9\xc3\xa9t");
}

TEST_CASE("CharTokenizer round trip on any bytes: NUL and invalid UTF-8 and truncated characters", "[points=1]") {
    const std::string edge = "\x00\xc3\xa9\xc3\xe2\x82\xed\xa0\x80\xf0\x9f\x98\x80\xf0\x9f\xff"s;
    const tt::CharTokenizer chars = tt::CharTokenizer::fit(edge);
    CHECK(chars.decode(chars.encode(edge)) == edge);
    // \0, é, c3, e2, 82, ed, a0, 80, 😀, f0, 9f, ff: 12 characters, all different.
    CHECK(chars.encode(edge).size() == 12);
    CHECK(chars.vocab_size() == 12);
    for (uint32_t seed = 1; seed <= 30; ++seed) {
        const std::string text = ref::random_bytes(seed, 40 * seed);
        const tt::CharTokenizer fitted = tt::CharTokenizer::fit(text);
        REQUIRE(fitted.decode(fitted.encode(text)) == text);
    }
}

TEST_CASE("CharTokenizer::encode of an unseen character names it and the vocabulary size", "[points=1]") {
    const tt::CharTokenizer chars = tt::CharTokenizer::fit("abc");
    CHECK(chars.encode("cab") == Ids{2, 0, 1});
    CHECK_THROWS_WITH(chars.encode("abcd"), Contains("'d'") && Contains("3"));
    CHECK_THROWS_AS(chars.encode("a\xc3\xa9"), tt::Error);
    CHECK_THROWS_AS(chars.encode("\xc3"), tt::Error);
}

TEST_CASE("CharTokenizer::decode refuses an id out of range", "[points=1]") {
    const tt::CharTokenizer chars = tt::CharTokenizer::fit("abc");
    CHECK(chars.decode({2, 1, 0}) == "cba");
    CHECK_THROWS_WITH(chars.decode({0, 3}), Contains("3"));
    CHECK_THROWS_AS(chars.decode({-1}), tt::Error);
}
