// test_bpe_file.cpp - module 11 grader: BpeTokenizer::save and BpeTokenizer::load (bpe_file.cpp).
//     tinytorch-bpe 1
//     merges <M>
//     <left id> <right id>          M lines; line i makes id 256 + i; both ids < 256 + i
//     special <S>
//     <id> <lowercase hex bytes>    S lines, ids 256 + M, 256 + M + 1, ...
// load() refuses a bad file with a tt::Error naming the file and the line ("<path>:<line>:").
// Expected values: the bytes of the format, written out by hand.
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
using tokenizer_grading::Merges;
using tokenizer_grading::ScratchFile;
using tokenizer_grading::with_merges;
using namespace std::string_literals;

namespace {

// load() of `text` must throw a tt::Error whose message holds "<path>:<line>:".
void check_refused(const std::string& text, int line) {
    ScratchFile file("bad");
    file.write(text);
    INFO("file:\n" << text);
    CHECK_THROWS_WITH(tt::BpeTokenizer::load(file.path), Contains(file.path + ":" + std::to_string(line) + ":"));
}

const char* kGood = "tinytorch-bpe 1\nmerges 2\n97 97\n256 97\nspecial 1\n258 3c2f733e\n";

}  // namespace

TEST_CASE("save writes the merges in the documented format", "[points=2]") {
    ScratchFile file("merges");
    with_merges({{108, 111}, {256, 119}, {32, 257}}).save(file.path);
    CHECK(file.read() == "tinytorch-bpe 1\nmerges 3\n108 111\n256 119\n32 257\nspecial 0\n");
    tt::BpeTokenizer().save(file.path);
    CHECK(file.read() == "tinytorch-bpe 1\nmerges 0\nspecial 0\n");
}

TEST_CASE("save writes special tokens as lowercase hex whatever bytes they hold", "[points=2]") {
    ScratchFile file("special");
    tt::BpeTokenizer bpe = with_merges({{97, 98}});
    bpe.add_special_token("<|end of text|>\n");
    bpe.add_special_token("\x00\xff\xab"s);
    bpe.save(file.path);
    CHECK(file.read() == "tinytorch-bpe 1\nmerges 1\n97 98\nspecial 2\n257 3c7c656e64206f6620746578747c3e0a\n258 00ffab\n");
}

TEST_CASE("load reads a file written by hand", "[points=2]") {
    ScratchFile file("good");
    file.write(kGood);
    const tt::BpeTokenizer bpe = tt::BpeTokenizer::load(file.path);
    CHECK(bpe.merges == Merges{{97, 97}, {256, 97}});
    CHECK(bpe.vocab_size() == 259);
    REQUIRE(bpe.vocab.size() == 259);
    CHECK(bpe.vocab[257] == "aaa");
    CHECK(bpe.token_bytes(258) == "</s>");
    CHECK(bpe.special_tokens == std::vector<std::string>{"</s>"});
    CHECK(bpe.special_token_id("</s>") == 258);
    CHECK(bpe.encode("aaaa</s>") == Ids{256, 256, 258});  // [aa aa]: no (aa, a) in it
    CHECK(bpe.encode("aaa") == Ids{257});
}

TEST_CASE("save then load gives back the same tokenizer", "[points=1]") {
    ScratchFile file("round");
    const Merges merges = ref::train(ref::random_text(4, 1500), 256 + 80);
    tt::BpeTokenizer bpe = with_merges(merges);
    bpe.add_special_token("<|endoftext|>");
    bpe.add_special_token(" \n\t");
    bpe.save(file.path);
    const tt::BpeTokenizer back = tt::BpeTokenizer::load(file.path);
    CHECK(back.merges == merges);
    CHECK(back.vocab == bpe.vocab);
    CHECK(back.special_tokens == bpe.special_tokens);
    const std::string text = ref::random_text(8, 100) + "<|endoftext|>" + " \n\t";
    CHECK(back.encode(text) == bpe.encode(text));
}

TEST_CASE("save replaces an existing file and leaves no temporary file", "[points=1]") {
    ScratchFile file("replace");
    file.write("old contents that are longer than the new file will be, to catch a missing truncate\n");
    tt::BpeTokenizer().save(file.path);
    CHECK(file.read() == "tinytorch-bpe 1\nmerges 0\nspecial 0\n");
    CHECK(file.files_starting_with_path() == std::vector<std::string>{file.path});
    CHECK_THROWS_WITH(tt::BpeTokenizer().save("no-such-folder/x.bpe"), Contains("no-such-folder/x.bpe"));
}

TEST_CASE("load refuses a missing file and another header or version", "[points=1]") {
    ScratchFile good("good");
    good.write(kGood);
    CHECK(tt::BpeTokenizer::load(good.path).merges.size() == 2);
    check_refused("", 1);
    check_refused("tinytorch-bpe 2\nmerges 0\nspecial 0\n", 1);
    check_refused("tinytorch-bpe\nmerges 0\nspecial 0\n", 1);
    check_refused("{\"merges\": []}\n", 1);
    ScratchFile missing("missing");
    CHECK_THROWS_WITH(tt::BpeTokenizer::load(missing.path), Contains(missing.path));
}

TEST_CASE("load refuses a bad count", "[points=1]") {
    ScratchFile good("good");
    good.write(kGood);
    CHECK(tt::BpeTokenizer::load(good.path).merges.size() == 2);
    check_refused("tinytorch-bpe 1\nmerges x\nspecial 0\n", 2);
    check_refused("tinytorch-bpe 1\nmerges -1\nspecial 0\n", 2);
    check_refused("tinytorch-bpe 1\nmerges\nspecial 0\n", 2);
    check_refused("tinytorch-bpe 1\nmerge 0\nspecial 0\n", 2);
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial two\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 0\nspecials 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 3\n97 97\n97 97\nspecial 0\n", 5);  // fewer lines than the count
}

TEST_CASE("load refuses a malformed merge line", "[points=1]") {
    ScratchFile good("good");
    good.write(kGood);
    CHECK(tt::BpeTokenizer::load(good.path).merges.size() == 2);
    check_refused("tinytorch-bpe 1\nmerges 1\n97\nspecial 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 1\n97 98 99\nspecial 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 1\n97 b\nspecial 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 1\n97,98\nspecial 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 1\n-3 98\nspecial 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 1\n\nspecial 0\n", 3);
}

TEST_CASE("load refuses a merge of an id that does not exist yet", "[points=2]") {
    ScratchFile good("good");
    good.write("tinytorch-bpe 1\nmerges 2\n255 255\n256 256\nspecial 0\n");
    CHECK(tt::BpeTokenizer::load(good.path).token_bytes(257) == "\xff\xff\xff\xff");
    check_refused("tinytorch-bpe 1\nmerges 1\n256 97\nspecial 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 1\n97 256\nspecial 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 2\n97 97\n257 97\nspecial 0\n", 4);
    check_refused("tinytorch-bpe 1\nmerges 1\n99999999999 97\nspecial 0\n", 3);
}

TEST_CASE("load refuses a bad special token line", "[points=2]") {
    ScratchFile good("good");
    good.write(kGood);
    CHECK(tt::BpeTokenizer::load(good.path).special_tokens.size() == 1);
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 1\n256 \n", 4);             // empty token
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 1\n256\n", 4);              // no token at all
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 2\n256 41\n257 41\n", 5);   // repeated
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 1\n257 41\n", 4);           // not the next id
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 2\n256 41\n256 42\n", 5);
    check_refused("tinytorch-bpe 1\nmerges 1\n97 97\nspecial 1\n256 41\n", 5);    // 256 is a merge
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 1\n256 414\n", 4);          // odd number of digits
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 1\n256 4g\n", 4);           // not hex
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 1\n256 4A\n", 4);           // not lowercase
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 1\n256 <s>\n", 4);          // raw, not hex
}

TEST_CASE("load refuses text after the last record and a truncated file", "[points=1]") {
    ScratchFile good("good");
    good.write(kGood);
    CHECK(tt::BpeTokenizer::load(good.path).merges.size() == 2);
    check_refused(std::string(kGood) + "259 41\n", 7);
    check_refused(std::string(kGood) + "\n", 7);
    check_refused("tinytorch-bpe 1\nmerges 2\n97 97\n", 4);
    check_refused("tinytorch-bpe 1\nmerges 0\n", 3);
    check_refused("tinytorch-bpe 1\nmerges 0\nspecial 1\n", 4);
}
