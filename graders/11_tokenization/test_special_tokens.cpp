// test_special_tokens.cpp - module 11 grader: add_special_token, special_token_id, and special
// tokens in encode / encode_ordinary / decode (bpe.cpp).
//     ids after the merges, in the order added; encode() cuts them out first: the earliest
//     occurrence wins, at one position the longest; encode_ordinary() treats them as text.
// Expected values: by hand. The tokenizers are built by hand (no train()).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"
#include "tokenizer_grading.h"
#include "tokenizer_reference.h"

namespace ref = tokenizer_reference;
using Catch::Matchers::Contains;
using tokenizer_grading::Ids;
using tokenizer_grading::with_merges;

TEST_CASE("add_special_token gives ids after the merges in order", "[points=1]") {
    tt::BpeTokenizer bpe = with_merges({{97, 97}, {32, 256}});  // "aa" 256, " aa" 257
    CHECK(bpe.add_special_token("<|endoftext|>") == 258);
    CHECK(bpe.add_special_token("<|pad|>") == 259);
    CHECK(bpe.vocab_size() == 260);
    CHECK(bpe.special_tokens == std::vector<std::string>{"<|endoftext|>", "<|pad|>"});
    CHECK(bpe.special_token_id("<|pad|>") == 259);
    CHECK(bpe.special_token_id("<|endoftext|>") == 258);
    CHECK(bpe.token_bytes(259) == "<|pad|>");
    REQUIRE(bpe.vocab.size() == 260);
    CHECK(bpe.vocab[258] == "<|endoftext|>");
}

TEST_CASE("encode cuts special tokens out and encodes the text between them", "[points=2]") {
    tt::BpeTokenizer bpe = with_merges({{97, 97}, {32, 256}});
    bpe.add_special_token("<|endoftext|>");  // 258
    CHECK(bpe.encode("aa<|endoftext|> aa") == Ids{256, 258, 257});
    CHECK(bpe.encode("<|endoftext|>") == Ids{258});
    CHECK(bpe.encode("<|endoftext|><|endoftext|>a") == Ids{258, 258, 97});
    // The text before a special token is cut there: "a" + "a" do not merge across it.
    CHECK(bpe.encode("a<|endoftext|>a") == Ids{97, 258, 97});
    CHECK(bpe.encode("<|endoftext") == ref::encode(bpe.merges, "<|endoftext"));
    CHECK(bpe.encode("").empty());
    CHECK(bpe.encode("aa") == Ids{256});
}

TEST_CASE("encode: the earliest special token wins whatever order they were added in", "[points=2]") {
    tt::BpeTokenizer bpe;
    bpe.add_special_token("<B>");  // 256
    bpe.add_special_token("<A>");  // 257
    CHECK(bpe.encode("x<A>y<B>") == Ids{120, 257, 121, 256});
    CHECK(bpe.encode("<B><A><B>") == Ids{256, 257, 256});
    CHECK(bpe.encode("<A<B>>") == Ids{60, 65, 256, 62});
}

TEST_CASE("encode: at one position the longest special token wins", "[points=2]") {
    tt::BpeTokenizer bpe;
    bpe.add_special_token("<|");             // 256
    bpe.add_special_token("<|end|>");        // 257
    bpe.add_special_token("<|end|><|end|>"); // 258
    CHECK(bpe.encode("<|end|>") == Ids{257});
    CHECK(bpe.encode("<|end|><|end|>") == Ids{258});
    CHECK(bpe.encode("<|x") == Ids{256, 120});
    CHECK(bpe.encode("a<|end|>b<|") == Ids{97, 257, 98, 256});
    // "<|" at 1 comes before "<|end|>" at 3.
    CHECK(bpe.encode("<<|<|end|>") == Ids{60, 256, 257});
}

TEST_CASE("encode_ordinary treats special token strings as plain text", "[points=2]") {
    tt::BpeTokenizer bpe = with_merges({{60, 124}, {124, 62}});  // "<|" 256, "|>" 257
    bpe.add_special_token("<|e|>");                               // 258
    CHECK(bpe.encode("<|e|>") == Ids{258});
    CHECK(bpe.encode_ordinary("<|e|>") == Ids{256, 101, 257});
    CHECK(bpe.encode_ordinary("a <|e|>") == ref::encode(bpe.merges, "a <|e|>"));
}

TEST_CASE("decode turns a special token's id back into its string", "[points=1]") {
    tt::BpeTokenizer bpe = with_merges({{97, 97}});
    bpe.add_special_token("<|endoftext|>");  // 257
    CHECK(bpe.decode({256, 257, 97}) == "aa<|endoftext|>a");
    const std::string text = "x<|endoftext|>\n<|endoftext|>aa";
    CHECK(bpe.decode(bpe.encode(text)) == text);
    CHECK_THROWS_AS(bpe.decode({258}), tt::Error);
}

TEST_CASE("special tokens of any bytes next to ordinary text", "[points=1]") {
    tt::BpeTokenizer bpe = with_merges({{32, 116}, {256, 104}});  // " t", " th"
    bpe.add_special_token("\n\n");                                 // 258
    bpe.add_special_token(std::string("\x00", 1));                 // 259
    CHECK(bpe.encode("a th\n\n th") == Ids{97, 257, 258, 257});
    CHECK(bpe.encode(std::string("\x00 th\x00", 5)) == Ids{259, 257, 259});
    CHECK(bpe.encode("\n\n\n") == Ids{258, 10});
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        const std::string text = ref::random_bytes(seed, 60);
        REQUIRE(bpe.decode(bpe.encode(text)) == text);
    }
}

TEST_CASE("special token errors: empty or added twice or unknown", "[points=1]") {
    tt::BpeTokenizer bpe;
    CHECK(bpe.add_special_token("<s>") == 256);
    CHECK_THROWS_AS(bpe.add_special_token(""), tt::Error);
    CHECK_THROWS_WITH(bpe.add_special_token("<s>"), Contains("<s>"));
    CHECK_THROWS_WITH(bpe.special_token_id("</s>"), Contains("</s>"));
    CHECK(bpe.vocab_size() == 257);
    CHECK(bpe.special_tokens.size() == 1);
}
