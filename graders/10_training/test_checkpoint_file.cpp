// test_checkpoint_file.cpp - module 10 grader: save_checkpoint and load_checkpoint (checkpoint.cpp).
//
// Files written by your code are read here by a parser written from training.h's layout; files
// read by your code are built here byte by byte. Every malformed file must be a tt::Error that
// names the file - never a crash, a huge allocation, or a checkpoint that loads.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <limits>

#include "training_grading.h"

using namespace tt::testing;
using namespace training_grading;
using Catch::Matchers::Contains;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// Parses a file written by the code under test; a file that does not follow the layout fails the
// test with the parser's reason.
Parsed parse_file(const Folder& folder, const std::string& name) {
    const Bytes bytes = folder.read(name);
    try {
        return parse(bytes);
    } catch (const std::exception& e) {
        FAIL("the file written by save_checkpoint does not follow the documented layout: " << e.what());
    }
    return {};
}

// A checkpoint of every kind, valid, as bytes built here.
Bytes sample_file() {
    return FileBytes()
        .header(5)
        .tensor("w", {2, 3}, {1, 2, 3, 4, 5, 6})
        .number("lr", 0.125)
        .text("model", "Linear(2 -> 3)")
        .tensor("long", {40}, std::vector<float>(40, 0.5f))
        .number("step", 7)
        .checksum()
        .bytes;
}

// The message of the tt::Error load_checkpoint throws for `bytes` written to bad.ttckpt.
std::string load_error(const Folder& folder, const Bytes& bytes) {
    folder.write("bad.ttckpt", bytes);
    return error_message([&] { tt::load_checkpoint(folder.file("bad.ttckpt")); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

TEST_CASE("save_checkpoint writes a tensor in the documented bytes", "[points=2]") {
    Folder folder;
    tt::Checkpoint c;
    c.tensors["w"] = nested({{1.5f, -2}, {0.25f, 8}});
    tt::save_checkpoint(folder.file("one.ttckpt"), c);
    const Bytes expected = FileBytes().header(1).tensor("w", {2, 2}, {1.5f, -2, 0.25f, 8}).checksum().bytes;
    INFO("magic TTCKPT\\r\\n, u32 version 1, u32 count, then kind 0, name, ndim, i64 sizes, f32 values, u64 FNV-1a - all little-endian");
    CHECK(folder.read("one.ttckpt") == expected);
}

TEST_CASE("save_checkpoint writes a number and a text in the documented bytes", "[points=2]") {
    Folder folder;
    tt::Checkpoint numbers;
    numbers.numbers["lr"] = 0.1;  // an f64: 0.1 exactly as a double, not rounded through a float
    tt::save_checkpoint(folder.file("n.ttckpt"), numbers);
    CHECK(folder.read("n.ttckpt") == FileBytes().header(1).number("lr", 0.1).checksum().bytes);
    tt::Checkpoint texts;
    texts.texts["model"] = "Sequential(Linear, ReLU)";
    tt::save_checkpoint(folder.file("t.ttckpt"), texts);
    CHECK(folder.read("t.ttckpt") == FileBytes().header(1).text("model", "Sequential(Linear, ReLU)").checksum().bytes);
    tt::Checkpoint empty;
    tt::save_checkpoint(folder.file("e.ttckpt"), empty);
    CHECK(folder.read("e.ttckpt") == FileBytes().header(0).checksum().bytes);  // 24 bytes
}

TEST_CASE("save_checkpoint writes every entry of a mixed checkpoint", "[points=2]") {
    Folder folder;
    tt::Checkpoint c;
    c.tensors["model.0.weight"] = nested({{1, 2, 3}, {4, 5, 6}});
    c.tensors["model.0.bias"] = nested({-1, 1});
    c.tensors["scalar"] = raw_scalar(3.5f);
    c.numbers["optimizer.lr"] = 0.001;
    c.numbers["epoch"] = 3;
    c.texts["model"] = "m";
    c.texts["optimizer"] = "Adam";
    tt::save_checkpoint(folder.file("c.ttckpt"), c);
    const Parsed p = parse_file(folder, "c.ttckpt");
    CHECK(p.version == 1);
    CHECK(p.order.size() == 7);
    REQUIRE(p.tensors.size() == 3);
    CHECK(p.tensors.at("model.0.weight").shape == std::vector<int64_t>{2, 3});
    CHECK(p.tensors.at("model.0.weight").bits == float_bits({1, 2, 3, 4, 5, 6}));
    CHECK(p.tensors.at("model.0.bias").bits == float_bits({-1, 1}));
    CHECK(p.tensors.at("scalar").shape.empty());  // 0-d: ndim 0, one value
    CHECK(p.tensors.at("scalar").bits == float_bits({3.5f}));
    CHECK(p.numbers.at("optimizer.lr") == double_bits(0.001));
    CHECK(p.numbers.at("epoch") == double_bits(3.0));
    CHECK(p.texts.at("optimizer") == "Adam");
}

TEST_CASE("save_checkpoint writes a non-contiguous tensor in row-major order", "[points=2]") {
    Folder folder;
    tt::Checkpoint c;
    c.tensors["t"] = nested({{1, 2, 3}, {4, 5, 6}}).transpose(0, 1);  // (3, 2): [[1, 4], [2, 5], [3, 6]]
    c.tensors["p"] = padded(nested({{7, 8}, {9, 10}}));
    tt::save_checkpoint(folder.file("v.ttckpt"), c);
    const Parsed p = parse_file(folder, "v.ttckpt");
    CHECK(p.tensors.at("t").shape == std::vector<int64_t>{3, 2});
    CHECK(p.tensors.at("t").bits == float_bits({1, 4, 2, 5, 3, 6}));
    CHECK(p.tensors.at("p").bits == float_bits({7, 8, 9, 10}));
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

TEST_CASE("load_checkpoint reads a file built byte by byte with its entries in any order", "[points=2]") {
    Folder folder;
    folder.write("in.ttckpt", FileBytes()
                                  .header(5)
                                  .text("optimizer", "SGD")
                                  .number("epoch", 12)
                                  .tensor("b", {3}, {0.5f, -0.25f, 1e-3f})
                                  .number("lr", 0.1)
                                  .tensor("a", {2, 1, 2}, {1, 2, 3, 4})
                                  .checksum()
                                  .bytes);
    const tt::Checkpoint c = tt::load_checkpoint(folder.file("in.ttckpt"));
    REQUIRE(c.tensors.size() == 2);
    CHECK_THAT(c.tensors.at("a"), tensor_equal(nested({{{1, 2}}, {{3, 4}}})));
    CHECK_THAT(c.tensors.at("b"), tensor_equal(nested({0.5f, -0.25f, 1e-3f})));
    CHECK(c.numbers.size() == 2);
    CHECK(c.numbers.at("epoch") == 12.0);
    CHECK(c.numbers.at("lr") == 0.1);
    CHECK(c.texts.size() == 1);
    CHECK(c.texts.at("optimizer") == "SGD");
}

TEST_CASE("a round trip gives back every bit of NaN and infinities and -0 and denormals and 0-d and empty tensors", "[points=2]") {
    Folder folder;
    tt::Checkpoint c;
    const std::vector<float> odd = {kNaN, kInf, -kInf, -0.0f, 1e-45f, 3.4e38f, -1.17549435e-38f, 0.1f};
    c.tensors["odd"] = raw(odd, {2, 4});
    c.tensors["scalar"] = raw_scalar(-7.25f);
    c.tensors["empty"] = raw({}, {0, 3});
    c.numbers["nan"] = std::numeric_limits<double>::quiet_NaN();
    c.numbers["tiny"] = 5e-324;
    c.numbers[""] = -1.0;  // an empty name is a name
    c.texts["bytes"] = std::string("a\0b\r\n\xff\xc3\xa9", 8);
    tt::save_checkpoint(folder.file("r.ttckpt"), c);
    const tt::Checkpoint back = tt::load_checkpoint(folder.file("r.ttckpt"));
    CHECK(float_bits(values_of(back.tensors.at("odd"))) == float_bits(odd));
    CHECK(back.tensors.at("odd").shape() == tt::Shape{2, 4});
    CHECK(back.tensors.at("scalar").shape().empty());
    CHECK(values_of(back.tensors.at("scalar")) == std::vector<float>{-7.25f});
    CHECK(back.tensors.at("empty").shape() == tt::Shape{0, 3});
    CHECK(std::isnan(back.numbers.at("nan")));
    CHECK(back.numbers.at("tiny") == 5e-324);
    CHECK(back.numbers.at("") == -1.0);
    CHECK(back.texts.at("bytes") == std::string("a\0b\r\n\xff\xc3\xa9", 8));
}

TEST_CASE("load_checkpoint of a missing file or a folder is a tt::Error naming it", "[points=1]") {
    Folder folder;
    CHECK_THAT(error_message([&] { tt::load_checkpoint(folder.file("nothing.ttckpt")); }), Contains("nothing.ttckpt"));
    CHECK_THAT(error_message([&] { tt::load_checkpoint(folder.path().string()); }), Contains(folder.path().string()));
}

TEST_CASE("load_checkpoint refuses a file that is not a checkpoint", "[points=1]") {
    Folder folder;
    CHECK_THAT(load_error(folder, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 0, 0, 0, 0, 0, 0}),
               Contains("bad.ttckpt") && Contains("not a TinyTorch checkpoint"));
    CHECK_THAT(load_error(folder, {'h', 'i'}), Contains("bad.ttckpt") && Contains("not a TinyTorch checkpoint"));
    // A text-mode copy turned "\r\n" into "\n": the magic no longer matches.
    Bytes mangled = sample_file();
    mangled.erase(mangled.begin() + 6);
    CHECK_THAT(load_error(folder, mangled), Contains("bad.ttckpt") && Contains("not a TinyTorch checkpoint"));
}

TEST_CASE("load_checkpoint refuses a version newer than 1", "[points=1]") {
    Folder folder;
    CHECK_THAT(load_error(folder, FileBytes().header(0, 2).checksum().bytes), Contains("bad.ttckpt") && Contains("version 2"));
    CHECK_THAT(load_error(folder, FileBytes().header(1, 7).number("a", 1).checksum().bytes), Contains("version 7"));
}

TEST_CASE("load_checkpoint refuses a truncated file", "[points=2]") {
    Folder folder;
    const Bytes good = sample_file();
    CHECK_THAT(load_error(folder, Bytes(good.begin(), good.end() - 1)), Contains("bad.ttckpt") && Contains("truncated"));
    CHECK_THAT(load_error(folder, Bytes(good.begin(), good.begin() + 40)), Contains("bad.ttckpt") && Contains("truncated"));
    CHECK_THAT(load_error(folder, {}), Contains("bad.ttckpt") && Contains("truncated"));
    // The count promises 2 entries, the file holds 1 - with a valid checksum over what is there.
    CHECK_THAT(load_error(folder, FileBytes().header(2).number("a", 1.0).checksum().bytes), Contains("truncated"));
    // A tensor whose values stop early (valid checksum).
    CHECK_THAT(load_error(folder, FileBytes().header(1).tensor("w", {4}, {1, 2, 3}).checksum().bytes), Contains("truncated"));
}

TEST_CASE("load_checkpoint refuses trailing bytes", "[points=1]") {
    Folder folder;
    Bytes longer = sample_file();
    longer.insert(longer.end(), {1, 2, 3});
    CHECK_THAT(load_error(folder, longer), Contains("bad.ttckpt") && Contains("trailing bytes"));
    // The count says 1 but the file holds 2 entries, with a valid checksum.
    CHECK_THAT(load_error(folder, FileBytes().header(1).number("a", 1.0).number("b", 2.0).checksum().bytes),
               Contains("bad.ttckpt") && Contains("trailing bytes"));
}

TEST_CASE("load_checkpoint refuses a file whose checksum does not match", "[points=2]") {
    Folder folder;
    const Bytes good = sample_file();
    Bytes flipped = good;
    flipped[good.size() - 30] ^= 0x04;  // inside the tensor "long"'s values: the structure still parses
    CHECK_THAT(load_error(folder, flipped), Contains("bad.ttckpt") && Contains("damaged"));
    Bytes bad_sum = good;
    bad_sum.back() ^= 0x80;  // the checksum's most significant byte (little-endian: the last)
    CHECK_THAT(load_error(folder, bad_sum), Contains("bad.ttckpt") && Contains("damaged"));
}

TEST_CASE("load_checkpoint refuses absurd sizes without allocating them", "[points=2]") {
    Folder folder;
    INFO("a size read from a file is a claim: 2^40 floats is 4 TB in a 60-byte file. Check it against the file's size first");
    CHECK_THAT(load_error(folder, FileBytes().header(1).u8(0).name("w").u32(1).u64(uint64_t{1} << 40).checksum().bytes),
               Contains("bad.ttckpt") && Contains("absurd"));
    // Sizes whose product overflows 64 bits: 2^33 * 2^33 (a product computed first wraps to 0).
    CHECK_THAT(load_error(folder, FileBytes().header(1).u8(0).name("w").u32(2).u64(uint64_t{1} << 33).u64(uint64_t{1} << 33).checksum().bytes),
               Contains("bad.ttckpt") && Contains("absurd"));
    CHECK_THAT(load_error(folder, FileBytes().header(1).u8(0).name("w").u32(3).u64(uint64_t{1} << 32).u64(uint64_t{1} << 32).u64(0).checksum().bytes),
               Contains("bad.ttckpt") && Contains("absurd"));
    // A negative size.
    CHECK_THAT(load_error(folder, FileBytes().header(1).u8(0).name("w").u32(1).u64(static_cast<uint64_t>(-4)).checksum().bytes),
               Contains("bad.ttckpt") && Contains("absurd"));
    // 4 billion dimensions.
    CHECK_THAT(load_error(folder, FileBytes().header(1).u8(0).name("w").u32(0xffffffffu).checksum().bytes), Contains("bad.ttckpt"));
}

TEST_CASE("load_checkpoint refuses absurd name and text lengths", "[points=1]") {
    Folder folder;
    CHECK_THAT(load_error(folder, FileBytes().header(1).u8(1).u32(0xfffffff0u).checksum().bytes), Contains("bad.ttckpt"));
    CHECK_THAT(load_error(folder, FileBytes().header(1).u8(2).name("t").u32(0xfffffff0u).checksum().bytes), Contains("bad.ttckpt"));
}

TEST_CASE("load_checkpoint refuses an unknown kind and a name that appears twice", "[points=1]") {
    Folder folder;
    CHECK_THAT(load_error(folder, FileBytes().header(1).u8(7).name("x").f64(1).checksum().bytes), Contains("bad.ttckpt"));
    CHECK_THAT(load_error(folder, FileBytes().header(2).number("a", 1).number("a", 2).checksum().bytes),
               Contains("bad.ttckpt") && Contains("'a'"));
    CHECK_THAT(load_error(folder, FileBytes().header(2).tensor("w", {1}, {1}).tensor("w", {1}, {2}).checksum().bytes),
               Contains("bad.ttckpt") && Contains("'w'"));
}

TEST_CASE("no truncation and no flipped bit of a checkpoint crashes or loads", "[points=2]") {
    Folder folder;
    const Bytes good = sample_file();
    const std::string path = folder.file("fuzz.ttckpt");
    int cases = 0, refused = 0;
    std::string first_problem;
    auto expect_refusal = [&](const Bytes& bytes, const std::string& what) {
        folder.write("fuzz.ttckpt", bytes);
        ++cases;
        try {
            tt::load_checkpoint(path);
            if (first_problem.empty()) first_problem = what + ": loaded without an error";
        } catch (const tt::Error& e) {
            if (std::string(e.what()).find("fuzz.ttckpt") != std::string::npos) ++refused;
            else if (first_problem.empty()) first_problem = what + ": the message does not name the file: " + e.what();
        } catch (const std::exception& e) {
            if (first_problem.empty()) first_problem = what + ": not a tt::Error: " + e.what();
        }
    };
    for (size_t size = 0; size < good.size(); ++size)
        expect_refusal(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)),
                       "truncated to " + std::to_string(size) + " bytes");
    for (size_t i = 0; i < good.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            Bytes flipped = good;
            flipped[i] ^= static_cast<uint8_t>(1 << bit);
            expect_refusal(flipped, "byte " + std::to_string(i) + " bit " + std::to_string(bit) + " flipped");
        }
    INFO(first_problem);
    CHECK(refused == cases);
}

// ---------------------------------------------------------------------------------------------
// Atomic writes
// ---------------------------------------------------------------------------------------------

TEST_CASE("save_checkpoint replaces a file by rename - never writes into the old one", "[points=2]") {
    Folder folder;
    const std::string path = folder.file("model.ttckpt");
    tt::Checkpoint first;
    first.numbers["epoch"] = 1;
    tt::save_checkpoint(path, first);
    const Bytes first_bytes = folder.read("model.ttckpt");
    // A second name for the same file (a hard link): writing in place would change both names'
    // contents; a new file renamed over the first name leaves the link with the old bytes.
    REQUIRE(::link(path.c_str(), folder.file("backup.ttckpt").c_str()) == 0);
    tt::Checkpoint second;
    second.numbers["epoch"] = 2;
    second.tensors["w"] = nested({1, 2, 3});
    tt::save_checkpoint(path, second);
    INFO("write a temporary file in the same folder, fsync it, then rename() it over the old name");
    CHECK(folder.read("backup.ttckpt") == first_bytes);
    CHECK(tt::load_checkpoint(path).numbers.at("epoch") == 2);
    CHECK(folder.names() == std::vector<std::string>{"backup.ttckpt", "model.ttckpt"});  // no temporary file left
}

TEST_CASE("save_checkpoint puts its temporary file in the checkpoint's folder", "[points=1]") {
    Folder folder;
    INFO("rename() is only atomic within one file system: the temporary file belongs next to the checkpoint, not in /tmp");
    ::setenv("TMPDIR", (folder.path() / "no-such-folder").c_str(), 1);
    tt::Checkpoint c;
    c.numbers["x"] = 1;
    tt::save_checkpoint(folder.file("here.ttckpt"), c);
    CHECK(tt::load_checkpoint(folder.file("here.ttckpt")).numbers.at("x") == 1);
    CHECK(folder.names() == std::vector<std::string>{"here.ttckpt"});
}

TEST_CASE("save_checkpoint into a missing folder is a tt::Error naming the path", "[points=1]") {
    Folder folder;
    const std::string path = folder.file("missing/model.ttckpt");
    tt::Checkpoint c;
    c.numbers["x"] = 1;
    CHECK_THAT(error_message([&] { tt::save_checkpoint(path, c); }), Contains("model.ttckpt"));
}
