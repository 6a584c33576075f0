// test_tokenizer.cpp - module 11: UTF-8 characters, pieces and the character tokenizer
// (engine/src/11_tokenization/characters.cpp, pieces.cpp).
//
// Expected values: by hand (in the comments), or from the differently written versions in
// graders/11_tokenization/tokenizer_reference.h.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../graders/11_tokenization/tokenizer_reference.h"
#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"

using Catch::Contains;
namespace ref = tokenizer_reference;

namespace {

std::vector<std::string> pieces_of(std::string_view text) {
    std::vector<std::string> out;
    for (std::string_view p : tt::split_pieces(text)) out.emplace_back(p);
    return out;
}

}  // namespace

TEST_CASE("utf8_char_length of valid characters of every length", "[tokenizer][utf8]") {
    using namespace std::string_literals;
    CHECK(tt::utf8_char_length("A", 0) == 1);
    CHECK(tt::utf8_char_length("\x00"s, 0) == 1);
    CHECK(tt::utf8_char_length("\x7f", 0) == 1);
    CHECK(tt::utf8_char_length("\xc2\x80", 0) == 2);           // U+0080, the smallest 2-byte
    CHECK(tt::utf8_char_length("x\xc3\xa9y", 1) == 2);         // é in the middle
    CHECK(tt::utf8_char_length("\xdf\xbf", 0) == 2);           // U+07FF
    CHECK(tt::utf8_char_length("\xe0\xa0\x80", 0) == 3);       // U+0800, the smallest 3-byte
    CHECK(tt::utf8_char_length("\xe2\x82\xac", 0) == 3);       // €
    CHECK(tt::utf8_char_length("\xed\x9f\xbf", 0) == 3);       // U+D7FF, just below the surrogates
    CHECK(tt::utf8_char_length("\xee\x80\x80", 0) == 3);       // U+E000, just above them
    CHECK(tt::utf8_char_length("\xef\xbf\xbf", 0) == 3);       // U+FFFF
    CHECK(tt::utf8_char_length("\xf0\x90\x80\x80", 0) == 4);   // U+10000, the smallest 4-byte
    CHECK(tt::utf8_char_length("\xf0\x9f\x98\x80", 0) == 4);   // an emoji
    CHECK(tt::utf8_char_length("\xf4\x8f\xbf\xbf", 0) == 4);   // U+10FFFF, the largest
}

TEST_CASE("utf8_char_length is 1 for every invalid byte", "[tokenizer][utf8]") {
    CHECK(tt::utf8_char_length("\x80", 0) == 1);               // stray continuation byte
    CHECK(tt::utf8_char_length("\xbf\xbf", 0) == 1);
    CHECK(tt::utf8_char_length("\xc0\xaf", 0) == 1);           // overlong '/'
    CHECK(tt::utf8_char_length("\xc1\xbf", 0) == 1);           // overlong
    CHECK(tt::utf8_char_length("\xe0\x9f\xbf", 0) == 1);       // overlong 3-byte
    CHECK(tt::utf8_char_length("\xf0\x8f\xbf\xbf", 0) == 1);   // overlong 4-byte
    CHECK(tt::utf8_char_length("\xed\xa0\x80", 0) == 1);       // surrogate U+D800
    CHECK(tt::utf8_char_length("\xed\xbf\xbf", 0) == 1);       // surrogate U+DFFF
    CHECK(tt::utf8_char_length("\xf4\x90\x80\x80", 0) == 1);   // U+110000
    CHECK(tt::utf8_char_length("\xf5\x80\x80\x80", 0) == 1);
    CHECK(tt::utf8_char_length("\xff", 0) == 1);
    CHECK(tt::utf8_char_length("\xc3", 0) == 1);               // truncated by the end
    CHECK(tt::utf8_char_length("\xe2\x82", 0) == 1);
    CHECK(tt::utf8_char_length("\xf0\x9f\x98", 0) == 1);
    CHECK(tt::utf8_char_length("ab\xe2\x82", 2) == 1);         // truncated, not at position 0
    CHECK(tt::utf8_char_length("\xe2\x41\xac", 0) == 1);       // a non-continuation in the middle
    CHECK(tt::utf8_char_length("\xe2\x82\x41", 0) == 1);
    CHECK(tt::utf8_char_length("\xf0\x9f\x98\x41", 0) == 1);
}

TEST_CASE("utf8_char_length agrees with decoding on every 1-4 byte prefix pattern", "[tokenizer][utf8]") {
    // Every first byte, with second bytes across the boundaries and valid or invalid tails.
    const unsigned char seconds[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
    const unsigned char tails[] = {0x80, 0xbf, 0x41, 0xc0};
    for (int first = 0; first < 256; ++first)
        for (unsigned char second : seconds)
            for (unsigned char third : tails)
                for (unsigned char fourth : tails)
                    for (size_t length = 1; length <= 4; ++length) {
                        std::string s;
                        const unsigned char bytes[] = {static_cast<unsigned char>(first), second, third, fourth};
                        for (size_t i = 0; i < length; ++i) s += static_cast<char>(bytes[i]);
                        INFO("bytes " << first << " " << int(second) << " " << int(third) << " " << int(fourth) << " length " << length);
                        REQUIRE(tt::utf8_char_length(s, 0) == ref::utf8_length(s, 0));
                    }
}

TEST_CASE("utf8_char_length refuses a position past the end", "[tokenizer][utf8]") {
    CHECK_THROWS_AS(tt::utf8_char_length("abc", 3), tt::Error);
    CHECK_THROWS_AS(tt::utf8_char_length("", 0), tt::Error);
}

TEST_CASE("split_pieces: the header's example and each rule", "[tokenizer][pieces]") {
    using V = std::vector<std::string>;
    CHECK(pieces_of("Hi  there!\n\nYou 2") == V{"Hi", " ", " there", "!", "\n\n", "You", " 2"});
    CHECK(pieces_of("").empty());
    CHECK(pieces_of(" ") == V{" "});
    CHECK(pieces_of("   ") == V{"   "});
    CHECK(pieces_of("a b") == V{"a", " b"});
    CHECK(pieces_of("a  b") == V{"a", " ", " b"});
    CHECK(pieces_of("a\n b") == V{"a", "\n", " b"});      // the space goes to the word
    CHECK(pieces_of("a \nb") == V{"a", " \n", "b"});      // a run not ending in a space stays whole
    CHECK(pieces_of("a \n") == V{"a", " \n"});
    CHECK(pieces_of("end  ") == V{"end", "  "});          // trailing whitespace: one piece
    CHECK(pieces_of("x1y") == V{"x", "1", "y"});
    CHECK(pieces_of("2024 ok") == V{"2024", " ok"});
    CHECK(pieces_of("Hello, world!!") == V{"Hello", ",", " world", "!!"});
    CHECK(pieces_of(" ...x") == V{" ...", "x"});
    CHECK(pieces_of("don't") == V{"don", "'", "t"});
    CHECK(pieces_of("caf\xc3\xa9 ok") == V{"caf\xc3\xa9", " ok"});   // bytes >= 0x80 are letters
    CHECK(pieces_of("\t\tx") == V{"\t\t", "x"});
    CHECK(pieces_of("\r\n\r\nA") == V{"\r\n\r\n", "A"});
    CHECK(pieces_of("a\x01\x02 b") == V{"a", "\x01\x02", " b"});       // control bytes are "others"
    CHECK(pieces_of("\v\f ") == V{"\v\f "});
}

TEST_CASE("split_pieces returns views into the text that concatenate to it", "[tokenizer][pieces]") {
    for (uint32_t seed = 1; seed <= 50; ++seed) {
        const std::string text = ref::random_bytes(seed, seed * 7) + ref::random_text(seed, 20);
        const std::vector<std::string_view> pieces = tt::split_pieces(text);
        std::string joined;
        const char* expected_start = text.data();
        for (std::string_view p : pieces) {
            REQUIRE(!p.empty());
            REQUIRE(p.data() == expected_start);  // a view into the text, in order
            expected_start += p.size();
            joined += p;
        }
        REQUIRE(joined == text);
        REQUIRE(pieces_of(text) == ref::pieces(text));
    }
}

TEST_CASE("CharTokenizer ids follow the byte order of the characters", "[tokenizer][char]") {
    const tt::CharTokenizer chars = tt::CharTokenizer::fit("hello world\n");
    // Sorted: '\n' ' ' d e h l o r w
    CHECK(chars.characters == std::vector<std::string>{"\n", " ", "d", "e", "h", "l", "o", "r", "w"});
    CHECK(chars.vocab_size() == 9);
    CHECK(chars.encode("hello") == std::vector<int64_t>{4, 3, 5, 5, 6});
    CHECK(chars.decode({8, 6, 7, 5, 2}) == "world");
    CHECK(chars.encode("").empty());
    CHECK(chars.decode({}).empty());
}

TEST_CASE("CharTokenizer keeps multi-byte characters whole and invalid bytes apart", "[tokenizer][char]") {
    using namespace std::string_literals;
    // é (c3 a9), € (e2 82 ac), a stray a9, a truncated e2 82 at the end, a NUL.
    const std::string text = "\xc3\xa9\xe2\x82\xac\xa9z\x00\xe2\x82"s;
    const tt::CharTokenizer chars = tt::CharTokenizer::fit(text);
    CHECK(chars.characters == std::vector<std::string>{"\x00"s, "z", "\x82", "\xa9", "\xc3\xa9", "\xe2", "\xe2\x82\xac"});
    CHECK(chars.encode(text) == std::vector<int64_t>{4, 6, 3, 1, 0, 5, 2});
    CHECK(chars.decode(chars.encode(text)) == text);
}

TEST_CASE("CharTokenizer round trip on random bytes", "[tokenizer][char]") {
    for (uint32_t seed = 1; seed <= 40; ++seed) {
        const std::string text = ref::random_bytes(seed, seed * 13);
        const tt::CharTokenizer chars = tt::CharTokenizer::fit(text);
        REQUIRE(chars.decode(chars.encode(text)) == text);
        // As many ids as the reference cuts characters.
        size_t count = 0;
        for (size_t pos = 0; pos < text.size(); pos += ref::utf8_length(text, pos)) ++count;
        REQUIRE(chars.encode(text).size() == count);
    }
}

TEST_CASE("CharTokenizer errors name the character, its offset and the vocabulary size", "[tokenizer][char]") {
    const tt::CharTokenizer chars = tt::CharTokenizer::fit("abc");
    CHECK_THROWS_WITH(chars.encode("abz"), Contains("'z'") && Contains("byte 2") && Contains("3"));
    CHECK_THROWS_WITH(chars.encode("a\n"), Contains("0x0a") && Contains("byte 1"));
    CHECK_THROWS_WITH(chars.encode("a\xc3\xa9"), Contains("0xc3 0xa9"));
    CHECK_THROWS_WITH(chars.decode({0, 3}), Contains("id 3") && Contains("3 characters"));
    CHECK_THROWS_AS(chars.decode({-1}), tt::Error);
    CHECK_THROWS_AS(tt::CharTokenizer().decode({0}), tt::Error);
}
