// test_utf8.cpp - module 11 grader: utf8_char_length (characters.cpp).
//     1 byte 00..7f; 2 bytes c2..df + 80..bf; 3 bytes e0 a0..bf / e1..ec 80..bf / ed 80..9f /
//     ee..ef 80..bf, + 80..bf; 4 bytes f0 90..bf / f1..f3 80..bf / f4 80..8f, + 2 x 80..bf.
//     Anything else - a stray continuation byte, c0 c1 f5..ff, an overlong or truncated sequence,
//     a surrogate, a value above U+10FFFF - is 1: a character of its own.
// Expected values: by hand, and from tokenizer_reference.h (which decodes the code point instead).
#include <catch2/catch.hpp>

#include <string>

#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"
#include "tokenizer_reference.h"

namespace ref = tokenizer_reference;
using namespace std::string_literals;

TEST_CASE("utf8_char_length: ASCII bytes and NUL are one byte", "[points=1]") {
    CHECK(tt::utf8_char_length("A", 0) == 1);
    CHECK(tt::utf8_char_length("ab", 1) == 1);
    CHECK(tt::utf8_char_length("\x00\xc3\xa9"s, 0) == 1);
    CHECK(tt::utf8_char_length("\x7f\x80", 0) == 1);
    CHECK(tt::utf8_char_length("\n", 0) == 1);
}

TEST_CASE("utf8_char_length: valid characters of two to four bytes", "[points=3]") {
    CHECK(tt::utf8_char_length("\xc2\x80", 0) == 2);
    CHECK(tt::utf8_char_length("caf\xc3\xa9", 3) == 2);
    CHECK(tt::utf8_char_length("\xdf\xbf!", 0) == 2);
    CHECK(tt::utf8_char_length("\xd0\x96\xd0\x96", 2) == 2);  // Cyrillic, the second one
    CHECK(tt::utf8_char_length("\xe0\xa0\x80", 0) == 3);
    CHECK(tt::utf8_char_length("x\xe2\x82\xac", 1) == 3);
    CHECK(tt::utf8_char_length("\xe6\x97\xa5\xe6\x9c\xac", 3) == 3);
    CHECK(tt::utf8_char_length("\xed\x9f\xbf", 0) == 3);
    CHECK(tt::utf8_char_length("\xee\x80\x80", 0) == 3);
    CHECK(tt::utf8_char_length("\xef\xbf\xbf", 0) == 3);
    CHECK(tt::utf8_char_length("\xf0\x90\x80\x80", 0) == 4);
    CHECK(tt::utf8_char_length("hi \xf0\x9f\x98\x80", 3) == 4);
    CHECK(tt::utf8_char_length("\xf3\xbf\xbf\xbf", 0) == 4);
    CHECK(tt::utf8_char_length("\xf4\x8f\xbf\xbf", 0) == 4);
}

TEST_CASE("utf8_char_length: stray continuation bytes and bytes that never start a character are 1", "[points=1]") {
    CHECK(tt::utf8_char_length("a", 0) == 1);
    for (int b = 0x80; b <= 0xbf; ++b) CHECK(tt::utf8_char_length(std::string(1, static_cast<char>(b)) + "\x80\x80\x80", 0) == 1);
    for (int b : {0xc0, 0xc1, 0xf5, 0xf8, 0xfc, 0xfe, 0xff}) CHECK(tt::utf8_char_length(std::string(1, static_cast<char>(b)) + "\x80\x80\x80", 0) == 1);
}

TEST_CASE("utf8_char_length: overlong encodings are 1", "[points=1]") {
    CHECK(tt::utf8_char_length("\xe0\xa0\x80", 0) == 3);       // the smallest real 3-byte character
    CHECK(tt::utf8_char_length("\xc0\xaf", 0) == 1);           // '/' in 2 bytes
    CHECK(tt::utf8_char_length("\xc1\xbf", 0) == 1);
    CHECK(tt::utf8_char_length("\xe0\x80\xaf", 0) == 1);       // '/' in 3 bytes
    CHECK(tt::utf8_char_length("\xe0\x9f\xbf", 0) == 1);       // U+07FF in 3 bytes
    CHECK(tt::utf8_char_length("\xf0\x80\x80\xaf", 0) == 1);   // '/' in 4 bytes
    CHECK(tt::utf8_char_length("\xf0\x8f\xbf\xbf", 0) == 1);   // U+FFFF in 4 bytes
}

TEST_CASE("utf8_char_length: surrogates U+D800..U+DFFF are 1", "[points=1]") {
    CHECK(tt::utf8_char_length("\xed\x9f\xbf", 0) == 3);       // U+D7FF is fine
    CHECK(tt::utf8_char_length("\xed\xa0\x80", 0) == 1);
    CHECK(tt::utf8_char_length("\xed\xaf\xbf", 0) == 1);
    CHECK(tt::utf8_char_length("\xed\xb0\x80", 0) == 1);
    CHECK(tt::utf8_char_length("\xed\xbf\xbf", 0) == 1);
}

TEST_CASE("utf8_char_length: values above U+10FFFF are 1", "[points=1]") {
    CHECK(tt::utf8_char_length("\xf4\x8f\xbf\xbf", 0) == 4);
    CHECK(tt::utf8_char_length("\xf4\x90\x80\x80", 0) == 1);
    CHECK(tt::utf8_char_length("\xf4\xbf\xbf\xbf", 0) == 1);
    CHECK(tt::utf8_char_length("\xf7\xbf\xbf\xbf", 0) == 1);
}

TEST_CASE("utf8_char_length: a truncated sequence is 1 and never reaches past the text", "[points=2]") {
    CHECK(tt::utf8_char_length("\xc3\xa9", 0) == 2);
    CHECK(tt::utf8_char_length("\xc3", 0) == 1);
    CHECK(tt::utf8_char_length("ab\xe2\x82", 2) == 1);
    CHECK(tt::utf8_char_length("\xe2\x82", 1) == 1);
    CHECK(tt::utf8_char_length("\xf0\x9f\x98", 0) == 1);
    CHECK(tt::utf8_char_length("\xf0\x9f", 0) == 1);
    // Cut in the middle by a byte that is not a continuation byte.
    CHECK(tt::utf8_char_length("\xc3" "A", 0) == 1);
    CHECK(tt::utf8_char_length("\xe2\x82" "A", 0) == 1);
    CHECK(tt::utf8_char_length("\xe2" "A\xac", 0) == 1);
    CHECK(tt::utf8_char_length("\xf0\x9f\x98" "A", 0) == 1);
    CHECK(tt::utf8_char_length("\xf0\x9f" "A\x80", 0) == 1);
    CHECK(tt::utf8_char_length("\xc3\xc3\xa9", 0) == 1);
    // Only the bytes of the view count: the character continues in memory, not in the text.
    const std::string whole = "x\xe2\x82\xac";
    CHECK(tt::utf8_char_length(std::string_view(whole).substr(0, 3), 1) == 1);
    CHECK(tt::utf8_char_length("\xe2\x82\xac", 0) == 3);
    CHECK_THROWS_AS(tt::utf8_char_length("abc", 3), tt::Error);
    CHECK_THROWS_AS(tt::utf8_char_length("", 0), tt::Error);
}

TEST_CASE("utf8_char_length agrees with decoding on every first byte and boundary continuation", "[points=2]") {
    const unsigned char seconds[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
    const unsigned char tails[] = {0x80, 0xbf, 0x41, 0xc0};
    int differences = 0;
    for (int first = 0; first < 256; ++first)
        for (unsigned char second : seconds)
            for (unsigned char third : tails)
                for (unsigned char fourth : tails)
                    for (size_t length = 1; length <= 4; ++length) {
                        const unsigned char bytes[] = {static_cast<unsigned char>(first), second, third, fourth};
                        const std::string s(reinterpret_cast<const char*>(bytes), length);
                        const size_t got = tt::utf8_char_length(s, 0), expected = ref::utf8_length(s, 0);
                        if (got != expected && ++differences <= 5)
                            FAIL_CHECK("bytes " << std::hex << first << " " << int(second) << " " << int(third) << " " << int(fourth)
                                                << std::dec << " (text of " << length << " bytes): got " << got << ", expected " << expected);
                    }
    CHECK(differences == 0);
}

