// test_tokenization_visible.cpp - visible tests of module 11 (tokenization).
//
// `tito test 11` runs these and the hidden tests; hidden tests look like these, with more cases:
// every boundary of UTF-8 (overlong, surrogates, truncated), each rule of the pieces, characters
// sorted by bytes, training compared merge by merge with a slow trainer on random text and bytes,
// the tie rule on both ids, merges without overlap, encoding by merge rank (not by length), special
// tokens (earliest, longest, encode_ordinary), the file's exact bytes and every kind of bad file,
// and training / encoding that cost far less than one pass over the text per merge.
//
// Expected values never come from your code: they are worked out by hand in the comments.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grading.h"
#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"

// Merges print as {108, 111} in a failed check (Catch2 prints a std::pair as {?} by default).
namespace Catch {
template <>
struct StringMaker<std::pair<int64_t, int64_t>> {
    static std::string convert(const std::pair<int64_t, int64_t>& pair) {
        return "{" + std::to_string(pair.first) + ", " + std::to_string(pair.second) + "}";
    }
};
}  // namespace Catch

using Catch::Matchers::Contains;
using Ids = std::vector<int64_t>;
using Merges = std::vector<std::pair<int64_t, int64_t>>;

TEST_CASE("utf8_char_length: 1 to 4 bytes and 1 for an invalid byte", "[visible][points=1]") {
    CHECK(tt::utf8_char_length("A", 0) == 1);
    CHECK(tt::utf8_char_length("caf\xc3\xa9", 3) == 2);        // é = c3 a9
    CHECK(tt::utf8_char_length("\xe2\x82\xac", 0) == 3);       // € = e2 82 ac
    CHECK(tt::utf8_char_length("\xf0\x9f\x98\x80", 0) == 4);   // an emoji
    CHECK(tt::utf8_char_length("\xa9", 0) == 1);               // a continuation byte on its own
    CHECK(tt::utf8_char_length("\xc0\xaf", 0) == 1);           // overlong '/'
    CHECK(tt::utf8_char_length("\xe2\x82", 0) == 1);           // truncated
}

TEST_CASE("split_pieces cuts the header's example into its pieces", "[visible][points=1]") {
    std::vector<std::string> pieces;
    for (std::string_view p : tt::split_pieces("Hi  there!\n\nYou 2")) pieces.emplace_back(p);
    CHECK(pieces == std::vector<std::string>{"Hi", " ", " there", "!", "\n\n", "You", " 2"});
}

TEST_CASE("CharTokenizer: ids in byte order and back", "[visible][points=1]") {
    const tt::CharTokenizer chars = tt::CharTokenizer::fit("hello world\n");
    // Sorted: '\n' 0, ' ' 1, d 2, e 3, h 4, l 5, o 6, r 7, w 8
    CHECK(chars.vocab_size() == 9);
    CHECK(chars.encode("hello") == Ids{4, 3, 5, 5, 6});
    CHECK(chars.decode({8, 6, 7, 5, 2}) == "world");
    CHECK_THROWS_WITH(chars.encode("hex"), Contains("'x'"));
}

TEST_CASE("BPE training and encoding and decoding on 'low lower lowest'", "[visible][points=1]") {
    // Pieces "low", " lower", " lowest". Pairs: (l,o) 3, (o,w) 3, ( ,l) 2, (w,e) 2, the rest 1.
    // 0: (l,o) = (108,111) wins the tie with (o,w) = (111,119): the smaller pair -> 256 "lo"
    // 1: (256,w) 3 -> 257 "low"
    // 2: ( ,257) 2 ties with (257,e) 2: 32 < 257 -> 258 " low"
    // 3: (258,e) 2 -> 259 " lowe"; then no pair occurs twice.
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("low lower lowest", 1000);
    CHECK(bpe.merges == Merges{{108, 111}, {256, 119}, {32, 257}, {258, 101}});
    CHECK(bpe.vocab_size() == 260);
    CHECK(bpe.token_bytes(259) == " lowe");
    CHECK(bpe.encode("lowest low") == Ids{257, 101, 115, 116, 258});
    CHECK(bpe.decode({258, 259, 114}) == " low lower");
}

TEST_CASE("BPE training and encoding of 'aaa aaa': no overlapping merges", "[visible][points=1]") {
    // "aaa" " aaa": (a,a) 4 -> [aa a] [  aa a]: (aa,a) 2 -> 257.
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("aaa aaa", 300);
    CHECK(bpe.merges == Merges{{97, 97}, {256, 97}});
    CHECK(bpe.encode("aaaaa") == Ids{256, 257});
}

TEST_CASE("special tokens: cut out by encode and plain text for encode_ordinary", "[visible][points=1]") {
    tt::BpeTokenizer bpe;  // the 256 bytes, no merges
    CHECK(bpe.add_special_token("<|end|>") == 256);
    CHECK(bpe.encode("hi<|end|>") == Ids{104, 105, 256});
    CHECK(bpe.encode_ordinary("<|e") == Ids{60, 124, 101});
    CHECK(bpe.decode({256, 33}) == "<|end|>!");
}

TEST_CASE("save writes the documented format", "[visible][points=1]") {
    const std::string path = "visible-tokenizer.bpe";
    tt::BpeTokenizer bpe = tt::BpeTokenizer::train("aaa aaa", 300);
    bpe.add_special_token("<|end|>\n");
    bpe.save(path);
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(path);
    CHECK(text == "tinytorch-bpe 1\nmerges 2\n97 97\n256 97\nspecial 1\n258 3c7c656e647c3e0a\n");
}
