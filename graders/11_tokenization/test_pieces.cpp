// test_pieces.cpp - module 11 grader: split_pieces (pieces.cpp).
//     a piece = an optional ONE space + the longest run of letters (A-Z a-z, bytes >= 0x80), of
//     digits, or of other non-whitespace bytes; whitespace runs are pieces of their own, except
//     that a final space followed by a non-whitespace byte starts the next piece.
// Expected values: by hand, and from tokenizer_reference.h (which cuts runs first, then moves spaces).
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "tinytorch/tokenizer.h"
#include "tokenizer_grading.h"
#include "tokenizer_reference.h"

namespace ref = tokenizer_reference;
using tokenizer_grading::pieces_of;
using V = std::vector<std::string>;

TEST_CASE("split_pieces: the example of the header", "[points=2]") {
    CHECK(pieces_of("Hi  there!\n\nYou 2") == V{"Hi", " ", " there", "!", "\n\n", "You", " 2"});
}

TEST_CASE("split_pieces: a word keeps the one space before it", "[points=1]") {
    CHECK(pieces_of("to be or not") == V{"to", " be", " or", " not"});
    CHECK(pieces_of(" the") == V{" the"});
    CHECK(pieces_of("a  b") == V{"a", " ", " b"});
    CHECK(pieces_of("a   b") == V{"a", "  ", " b"});
    CHECK(pieces_of("x 7 !") == V{"x", " 7", " !"});
}

TEST_CASE("split_pieces: whitespace runs and the space that goes to the next word", "[points=2]") {
    CHECK(pieces_of("a\n\nb") == V{"a", "\n\n", "b"});
    CHECK(pieces_of("a\n b") == V{"a", "\n", " b"});
    CHECK(pieces_of("a \nb") == V{"a", " \n", "b"});
    CHECK(pieces_of("a\t \t b") == V{"a", "\t \t", " b"});
    CHECK(pieces_of("end.  ") == V{"end", ".", "  "});
    CHECK(pieces_of("end \n") == V{"end", " \n"});
    CHECK(pieces_of("  lead") == V{" ", " lead"});
    CHECK(pieces_of("\r\n\v\f x") == V{"\r\n\v\f", " x"});
}

TEST_CASE("split_pieces: letters (with every byte >= 0x80) and digits and other bytes are separate runs", "[points=2]") {
    CHECK(pieces_of("abc123def") == V{"abc", "123", "def"});
    CHECK(pieces_of("Hello, world!!") == V{"Hello", ",", " world", "!!"});
    CHECK(pieces_of("don't") == V{"don", "'", "t"});
    CHECK(pieces_of("(1+2)*3") == V{"(", "1", "+", "2", ")*", "3"});
    CHECK(pieces_of(" ...x") == V{" ...", "x"});
    CHECK(pieces_of("ROMEO:") == V{"ROMEO", ":"});
    CHECK(pieces_of("caf\xc3\xa9 na\xc3\xafve") == V{"caf\xc3\xa9", " na\xc3\xafve"});
    CHECK(pieces_of("\xe6\x97\xa5\xe6\x9c\xac 2") == V{"\xe6\x97\xa5\xe6\x9c\xac", " 2"});
    CHECK(pieces_of("\xff\x80z") == V{"\xff\x80z"});
    CHECK(pieces_of(std::string("a\x00\x01 b", 5)) == V{"a", std::string("\x00\x01", 2), " b"});
    CHECK(pieces_of("x\x7f") == V{"x", "\x7f"});
}

TEST_CASE("split_pieces: empty text and lone spaces and views into the text", "[points=1]") {
    CHECK(pieces_of(" ") == V{" "});
    CHECK(pieces_of("   ") == V{"   "});
    CHECK(pieces_of("").empty());
    const std::string text = "one two";
    const std::vector<std::string_view> pieces = tt::split_pieces(text);
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[0].data() == text.data());
    CHECK(pieces[1].data() == text.data() + 3);
}

TEST_CASE("split_pieces on random text and bytes against the reference and losing nothing", "[points=2]") {
    for (uint32_t seed = 1; seed <= 60; ++seed) {
        const std::string text = ref::random_text(seed, 30) + ref::random_bytes(seed, seed * 5) + ref::random_text(seed + 99, 10);
        std::string joined;
        for (std::string_view p : tt::split_pieces(text)) {
            REQUIRE(!p.empty());
            joined += p;
        }
        INFO("seed " << seed);
        REQUIRE(joined == text);
        REQUIRE(pieces_of(text) == ref::pieces(text));
    }
}
