// test_tokenizer_bpe.cpp - module 11: byte-level BPE training, encoding, decoding, special tokens
// and the file format (engine/src/11_tokenization/bpe.cpp, bpe_file.cpp).
//
// Expected values: by hand (worked out in the comments), or from the naive trainer and encoder of
// graders/11_tokenization/tokenizer_reference.h (every pair recounted for every merge; every merge
// applied in order). The real-text test reads tiny-shakespeare from TITO_DATA_DIR and FAILS, saying
// how to get it, when it is missing.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "../../graders/11_tokenization/tokenizer_reference.h"
#include "tinytorch/data.h"
#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"

using Catch::Contains;
namespace ref = tokenizer_reference;
namespace fs = std::filesystem;
using Merges = std::vector<std::pair<int64_t, int64_t>>;

namespace {

// A scratch file in the current folder, removed at the end.
struct ScratchFile {
    explicit ScratchFile(const std::string& name) : path(name + "-" + std::to_string(::getpid()) + ".bpe") { fs::remove(path); }
    ~ScratchFile() {
        std::error_code ignored;
        fs::remove(path, ignored);
    }
    void write(const std::string& text) const {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
    }
    std::string read() const {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::string path;
};

std::string tiny_shakespeare() {
    const char* dir = std::getenv("TITO_DATA_DIR");
    if (!dir || !*dir)
        FAIL("TITO_DATA_DIR is not set. This test trains on the real tiny-shakespeare: set TITO_DATA_DIR to the folder that "
             "holds tinyshakespeare/input.txt (in this project: ../shared/datasets), or get it with `tito data fetch "
             "tinyshakespeare` and point TITO_DATA_DIR at ~/.cache/tinytorch/datasets");
    const fs::path file = fs::path(dir) / "tinyshakespeare" / "input.txt";
    if (!fs::exists(file))
        FAIL(file.string() << " does not exist: TITO_DATA_DIR=" << dir
                           << " has no tiny-shakespeare; get it with `tito data fetch tinyshakespeare --dir " << dir
                           << "` or fix TITO_DATA_DIR");
    return tt::data::read_text(file.string());
}

}  // namespace

TEST_CASE("BPE training on 'low lower lowest', worked out by hand", "[tokenizer][bpe]") {
    // Pieces "low", " lower", " lowest". Pairs: (l,o) 3, (o,w) 3, ( ,l) 2, (w,e) 2, others 1.
    // Merge 0: (l,o) = (108,111) wins the tie with (o,w) = (111,119). Then (lo,w) 3 -> merge 1.
    // Then ( ,low) 2 and (low,e) 2 tie: (32,257) < (257,101). Then ( low,e) = (258,101) 2 -> 259.
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("low lower lowest", 1000);
    CHECK(bpe.merges == Merges{{108, 111}, {256, 119}, {32, 257}, {258, 101}});
    CHECK(bpe.vocab_size() == 260);
    CHECK(bpe.token_bytes(256) == "lo");
    CHECK(bpe.token_bytes(259) == " lowe");
    CHECK(bpe.encode("low lower lowest") == std::vector<int64_t>{257, 259, 114, 259, 115, 116});
    // vocab_size caps the merges.
    CHECK(tt::BpeTokenizer::train("low lower lowest", 258).merges == Merges{{108, 111}, {256, 119}});
    CHECK(tt::BpeTokenizer::train("low lower lowest", 256).merges.empty());
}

TEST_CASE("BPE ties go to the smallest pair, not the first seen", "[tokenizer][bpe]") {
    // Pieces "cd" 1, " ab" 2, " cd" 1: (c,d) 2, ( ,a) 2, (a,b) 2, ( ,c) 1.
    // Smallest: ( ,a) = (32, 97). Then (c,d) = (99,100) and ( a,b) = (256,98) tie at 2: (99,100).
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("cd ab cd ab", 300);
    CHECK(bpe.merges == Merges{{32, 97}, {99, 100}, {256, 98}});
    CHECK(bpe.merges == ref::train("cd ab cd ab", 300));
}

TEST_CASE("BPE merges never overlap: 'aaa' with (a, a) is [aa, a]", "[tokenizer][bpe]") {
    // "aaa" " aaa": (a,a) 4, ( ,a) 1 -> (a,a); pieces [aa a], [  aa a]: (aa,a) 2 -> merge 1.
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("aaa aaa", 300);
    CHECK(bpe.merges == Merges{{97, 97}, {256, 97}});
    // "aaaa aaaa": (a,a) 6 -> [aa aa] twice: (aa,aa) 2 -> merge 1.
    CHECK(tt::BpeTokenizer::train("aaaa aaaa", 300).merges == Merges{{97, 97}, {256, 256}});
    // A single "aaa": (a,a) occurs twice (positions 0 and 1), merged once -> [aa a]; then nothing twice.
    const tt::BpeTokenizer single = tt::BpeTokenizer::train("aaa", 300);
    CHECK(single.merges == Merges{{97, 97}});
    CHECK(single.encode("aaa") == std::vector<int64_t>{256, 97});
    CHECK(single.encode("aaaaa") == std::vector<int64_t>{256, 256, 97});
}

TEST_CASE("BPE merges never cross pieces, and need a pair twice", "[tokenizer][bpe]") {
    // "e t" across pieces would be frequent, but ' ' starts the next piece: (e, ' ') never counts.
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("he the he the", 1000);
    for (const auto& [l, r] : bpe.merges) CHECK(!(l == 'e' && r == ' '));
    CHECK(bpe.merges == ref::train("he the he the", 1000));
    CHECK(tt::BpeTokenizer::train("abcdef", 1000).merges.empty());
    CHECK(tt::BpeTokenizer::train("", 1000).merges.empty());
    CHECK_THROWS_WITH(tt::BpeTokenizer::train("abc", 255), Contains("255") && Contains("256"));
}

TEST_CASE("BPE training equals the naive trainer on random text", "[tokenizer][bpe]") {
    for (uint32_t seed = 1; seed <= 25; ++seed) {
        const std::string text = ref::random_text(seed, 200 + 40 * static_cast<int>(seed));
        const int64_t vocab = 256 + 20 + 8 * seed;
        INFO("seed " << seed);
        const tt::BpeTokenizer bpe = tt::BpeTokenizer::train(text, vocab);
        const Merges expected = ref::train(text, vocab);
        REQUIRE(bpe.merges == expected);
        REQUIRE(bpe.vocab == ref::vocabulary(expected));
        REQUIRE(bpe.encode(text) == ref::encode(expected, text));
        const std::string other = ref::random_text(seed + 1000, 100);
        REQUIRE(bpe.encode(other) == ref::encode(expected, other));
    }
}

TEST_CASE("BPE training equals the naive trainer on random bytes", "[tokenizer][bpe]") {
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        const std::string text = ref::random_bytes(seed, 300 * seed);
        INFO("seed " << seed);
        const tt::BpeTokenizer bpe = tt::BpeTokenizer::train(text, 320);
        REQUIRE(bpe.merges == ref::train(text, 320));
        REQUIRE(bpe.decode(bpe.encode(text)) == text);
    }
}

TEST_CASE("BPE on tiny-shakespeare: the naive trainer's merges, a lossless encoding, and fast", "[tokenizer][bpe][real]") {
    const std::string text = tiny_shakespeare();
    REQUIRE(text.size() == 1115394);
    const auto start = std::chrono::steady_clock::now();
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train(text, 512);
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(bpe.merges.size() == 256);
    const Merges expected = ref::train(text, 512);
    REQUIRE(bpe.merges == expected);
    const auto encode_start = std::chrono::steady_clock::now();
    const std::vector<int64_t> ids = bpe.encode(text);
    const double encode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - encode_start).count();
    CHECK(ids == ref::encode(expected, text));
    CHECK(bpe.decode(ids) == text);
    // 1.1 MB in about half as many tokens: that is what the 256 merges buy.
    CHECK(static_cast<double>(text.size()) / static_cast<double>(ids.size()) > 1.8);
    // Generous bounds (the goal on a 2-core machine is 2 s and 0.5 s; the sanitized build is slower).
    CHECK(train_seconds < 30.0);
    CHECK(encode_seconds < 10.0);
}

TEST_CASE("BPE encoding applies merges by rank, not greedily by length", "[tokenizer][bpe]") {
    // Merges in this order: (b,c) -> 256 "bc", (a,b) -> 257 "ab", (257,c) -> 258 "abc".
    // "abc" by rank: (b,c) first -> [a bc]; (a,bc) has no merge -> [97, 256].
    // A greedy longest-match would give [258]; applying merges left to right would give [257, 99] -> [258].
    tt::BpeTokenizer bpe;
    bpe.merges = {{98, 99}, {97, 98}, {257, 99}};
    bpe.vocab = ref::vocabulary(bpe.merges);
    CHECK(bpe.encode("abc") == std::vector<int64_t>{97, 256});
    CHECK(bpe.encode("abab") == std::vector<int64_t>{257, 257});
    CHECK(bpe.encode("abcab abc") == std::vector<int64_t>{97, 256, 257, 32, 97, 256});
    CHECK(bpe.encode("") == std::vector<int64_t>{});
}

TEST_CASE("BPE round trip on random bytes, NUL, invalid UTF-8 and empty input", "[tokenizer][bpe]") {
    using namespace std::string_literals;
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train(ref::random_text(7, 2000) + ref::random_bytes(7, 3000), 400);
    CHECK(bpe.decode(bpe.encode("")).empty());
    const std::string special = "\x00\xff\xc0\xaf\xed\xa0\x80 \x00\x00"s;
    CHECK(bpe.decode(bpe.encode(special)) == special);
    for (uint32_t seed = 100; seed < 140; ++seed) {
        const std::string text = ref::random_bytes(seed, seed % 50 * 11);
        REQUIRE(bpe.decode(bpe.encode(text)) == text);
        REQUIRE(bpe.encode(text) == ref::encode(bpe.merges, text));
    }
    // A tokenizer without merges is the bytes themselves.
    const tt::BpeTokenizer bytes;
    CHECK(bytes.encode("A\xff") == std::vector<int64_t>{65, 255});
    CHECK(bytes.vocab_size() == 256);
}

TEST_CASE("BPE decode and token_bytes refuse ids out of range", "[tokenizer][bpe]") {
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::train("aa aa aa", 300);  // 2 merges: 258 tokens
    REQUIRE(bpe.vocab_size() == 258);
    CHECK_THROWS_WITH(bpe.decode({97, 258}), Contains("258") && Contains("vocabulary of 258"));
    CHECK_THROWS_AS(bpe.decode({-1}), tt::Error);
    CHECK_THROWS_AS(bpe.token_bytes(258), tt::Error);
    CHECK_THROWS_AS(bpe.token_bytes(-1), tt::Error);
    CHECK(bpe.token_bytes(257) == " aa");
}

TEST_CASE("special tokens: ids after the merges, cut out first, earliest then longest", "[tokenizer][bpe][special]") {
    tt::BpeTokenizer bpe = tt::BpeTokenizer::train("aa aa aa", 300);  // merges (a,a) 256, ( ,aa) 257
    CHECK(bpe.add_special_token("<|end|>") == 258);
    CHECK(bpe.add_special_token("<|endoftext|>") == 259);
    CHECK(bpe.add_special_token("<|") == 260);
    CHECK(bpe.vocab_size() == 261);
    CHECK(bpe.special_token_id("<|endoftext|>") == 259);
    CHECK(bpe.token_bytes(259) == "<|endoftext|>");
    // At one position the longest wins: <|endoftext|> over <| and <|end|> (which does not match anyway).
    CHECK(bpe.encode("aa<|endoftext|>aa") == std::vector<int64_t>{256, 259, 256});
    // The earliest occurrence wins: "<|" at 2 before "<|end|>" at 5, where "<|end|>" beats "<|" (longer).
    CHECK(bpe.encode("a <|x<|end|>") == std::vector<int64_t>{97, 32, 260, 120, 258});
    CHECK(bpe.encode("<|end|><|end|>") == std::vector<int64_t>{258, 258});
    CHECK(bpe.encode_ordinary("<|end|>") == ref::encode(bpe.merges, "<|end|>"));
    CHECK(bpe.encode_ordinary("aa aa") == std::vector<int64_t>{256, 257});
    CHECK(bpe.decode({256, 259, 97}) == "aa<|endoftext|>a");
    const std::string text = "x<|endoftext|> aa<|<|end|>";
    CHECK(bpe.decode(bpe.encode(text)) == text);
    CHECK(bpe.decode(bpe.encode_ordinary(text)) == text);
    CHECK_THROWS_WITH(bpe.add_special_token("<|end|>"), Contains("<|end|>") && Contains("already"));
    CHECK_THROWS_AS(bpe.add_special_token(""), tt::Error);
    CHECK_THROWS_WITH(bpe.special_token_id("<|pad|>"), Contains("<|pad|>"));
    CHECK(bpe.vocab_size() == 261);
}

TEST_CASE("special tokens: many matches in a long text stay fast", "[tokenizer][bpe][special]") {
    tt::BpeTokenizer bpe;
    for (int j = 0; j < 20; ++j) bpe.add_special_token("<|s" + std::to_string(j) + "|>");
    std::string text;
    for (int i = 0; i < 20000; ++i) text += "word <|s3|>";
    const auto start = std::chrono::steady_clock::now();
    const std::vector<int64_t> ids = bpe.encode(text);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 5.0);
    CHECK(ids.size() == 20000 * 6);
    CHECK(bpe.decode(ids) == text);
}

TEST_CASE("save writes the documented format, load reads it back", "[tokenizer][bpe][file]") {
    tt::BpeTokenizer bpe = tt::BpeTokenizer::train("low lower lowest", 258);
    bpe.add_special_token("<|a b|>\n");
    bpe.add_special_token(std::string("\x00\xff", 2));
    ScratchFile file("save");
    bpe.save(file.path);
    CHECK(file.read() == "tinytorch-bpe 1\nmerges 2\n108 111\n256 119\nspecial 2\n258 3c7c6120627c3e0a\n259 00ff\n");
    const tt::BpeTokenizer back = tt::BpeTokenizer::load(file.path);
    CHECK(back.merges == bpe.merges);
    CHECK(back.special_tokens == bpe.special_tokens);
    CHECK(back.vocab == bpe.vocab);
    CHECK(back.vocab_size() == 260);
    // Saving again overwrites; no temporary file is left behind.
    tt::BpeTokenizer().save(file.path);
    CHECK(file.read() == "tinytorch-bpe 1\nmerges 0\nspecial 0\n");
    for (const auto& entry : fs::directory_iterator("."))
        CHECK(entry.path().filename().string().find(file.path + ".tmp") == std::string::npos);
    // A trained tokenizer round trips exactly and encodes the same.
    const std::string text = ref::random_text(3, 3000);
    tt::BpeTokenizer big = tt::BpeTokenizer::train(text, 400);
    big.add_special_token("<|endoftext|>");
    big.save(file.path);
    const tt::BpeTokenizer big_back = tt::BpeTokenizer::load(file.path);
    CHECK(big_back.merges == big.merges);
    CHECK(big_back.encode(text + "<|endoftext|>") == big.encode(text + "<|endoftext|>"));
    CHECK_THROWS_WITH(bpe.save("no-such-folder-xyz/tokenizer.bpe"), Contains("no-such-folder-xyz/tokenizer.bpe"));
}

TEST_CASE("load refuses every kind of bad file with its name and line", "[tokenizer][bpe][file]") {
    ScratchFile file("load");
    CHECK_THROWS_WITH(tt::BpeTokenizer::load(file.path), Contains(file.path));  // missing
    CHECK_THROWS_AS(tt::BpeTokenizer::load("."), tt::Error);                     // a folder
    struct Case {
        const char* text;
        const char* line;
    };
    const Case cases[] = {
        {"", ":1:"},                                                   // empty file
        {"tinytorch-bpe 2\nmerges 0\nspecial 0\n", ":1:"},             // another version
        {"gpt2-bpe 1\nmerges 0\nspecial 0\n", ":1:"},                  // another header
        {"tinytorch-bpe 1\nmerges x\nspecial 0\n", ":2:"},             // bad count
        {"tinytorch-bpe 1\nmerges -1\nspecial 0\n", ":2:"},
        {"tinytorch-bpe 1\nmerges  1\n97 97\nspecial 0\n", ":2:"},
        {"tinytorch-bpe 1\nmerge 0\nspecial 0\n", ":2:"},
        {"tinytorch-bpe 1\nmerges 2\n97 97\nspecial 0\n", ":4:"},      // count larger than the lines
        {"tinytorch-bpe 1\nmerges 1\n97\nspecial 0\n", ":3:"},         // malformed merge lines
        {"tinytorch-bpe 1\nmerges 1\n97 97 97\nspecial 0\n", ":3:"},
        {"tinytorch-bpe 1\nmerges 1\n97 +97\nspecial 0\n", ":3:"},
        {"tinytorch-bpe 1\nmerges 1\n97  97\nspecial 0\n", ":3:"},
        {"tinytorch-bpe 1\nmerges 1\n-1 97\nspecial 0\n", ":3:"},
        {"tinytorch-bpe 1\nmerges 1\n256 97\nspecial 0\n", ":3:"},     // id not yet made
        {"tinytorch-bpe 1\nmerges 2\n97 97\n97 257\nspecial 0\n", ":4:"},
        {"tinytorch-bpe 1\nmerges 0\nspecial 1\n256 \n", ":4:"},       // empty special token
        {"tinytorch-bpe 1\nmerges 0\nspecial 1\n256\n", ":4:"},
        {"tinytorch-bpe 1\nmerges 0\nspecial 1\n257 41\n", ":4:"},     // id not the next one
        {"tinytorch-bpe 1\nmerges 0\nspecial 2\n256 41\n256 42\n", ":5:"},
        {"tinytorch-bpe 1\nmerges 0\nspecial 2\n256 41\n257 41\n", ":5:"},  // repeated
        {"tinytorch-bpe 1\nmerges 0\nspecial 1\n256 4\n", ":4:"},      // odd hex
        {"tinytorch-bpe 1\nmerges 0\nspecial 1\n256 4G\n", ":4:"},     // not hex
        {"tinytorch-bpe 1\nmerges 0\nspecial 1\n256 4A\n", ":4:"},     // not lowercase
        {"tinytorch-bpe 1\nmerges 0\nspecial 0\nextra\n", ":4:"},      // text after the last record
        {"tinytorch-bpe 1\nmerges 0\nspecial 0\n\n", ":4:"},
        {"tinytorch-bpe 1\nmerges 0\nspecial 0", ":3:"},               // cut short: no line end
        {"tinytorch-bpe 1\nmerges 1\n97 97\n", ":4:"},                 // truncated before "special"
    };
    for (const Case& c : cases) {
        INFO("file:\n" << c.text);
        file.write(c.text);
        CHECK_THROWS_WITH(tt::BpeTokenizer::load(file.path), Contains(file.path + c.line));
    }
    // And the good version of the same file loads.
    file.write("tinytorch-bpe 1\nmerges 2\n97 97\n97 256\nspecial 1\n258 41\n");
    const tt::BpeTokenizer ok = tt::BpeTokenizer::load(file.path);
    CHECK(ok.token_bytes(257) == "aaa");
    CHECK(ok.special_token_id("A") == 258);
}
