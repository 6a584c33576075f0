// Engine tests of module 10's checkpoints (checkpoint.cpp): the exact bytes of the documented
// layout, exact round trips, every kind of malformed file (with a fuzz loop over truncations and
// flipped bytes), atomic writes, make_checkpoint and restore_checkpoint.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "test_training_helpers.h"
#include "tinytorch/optim.h"
#include "tinytorch/spatial.h"
#include "tinytorch/training.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

// The bit pattern of every value (NaN payloads and -0 included).
std::vector<uint32_t> bits_of(const tt::Tensor& t) {
    std::vector<uint32_t> out;
    for (float v : values_of(t)) {
        uint32_t b;
        std::memcpy(&b, &v, 4);
        out.push_back(b);
    }
    return out;
}

tt::Checkpoint sample_checkpoint() {
    tt::Checkpoint c;
    c.tensors["matrix"] = iota({2, 3}, -1.5f, 0.5f);
    c.tensors["scalar"] = raw_scalar(3.25f);
    c.tensors["empty"] = raw({}, {0, 4});
    c.numbers["lr"] = 0.001;
    c.texts["note"] = "hello";
    return c;
}

}  // namespace

TEST_CASE("checkpoint: the bytes of a small file are the documented layout", "[training][checkpoint]") {
    ScratchDir dir;
    tt::Checkpoint c;
    c.tensors["w"] = nested({1.0f, -2.0f});
    c.numbers["n"] = 0.5;
    c.texts["t"] = "ab";
    tt::save_checkpoint(dir.file("small.ttckpt"), c);
    // tensors, then numbers, then texts, each in name order (the writer's order; readers accept any).
    const std::vector<uint8_t> expected = CheckpointBytes()
                                              .header(3)
                                              .tensor("w", {2}, {1.0f, -2.0f})
                                              .number("n", 0.5)
                                              .text("t", "ab")
                                              .checksum()
                                              .bytes;
    const std::vector<uint8_t> got = file_bytes(dir.file("small.ttckpt"));
    REQUIRE(got.size() == expected.size());
    CHECK(got == expected);
    // Spot checks of the byte order: the version 1 is 01 00 00 00; 1.0f is 00 00 80 3f.
    CHECK(std::vector<uint8_t>(got.begin() + 8, got.begin() + 12) == std::vector<uint8_t>{1, 0, 0, 0});
    CHECK(std::vector<uint8_t>(got.begin() + 16 + 1 + 4 + 1 + 4 + 8, got.begin() + 16 + 1 + 4 + 1 + 4 + 12) ==
          std::vector<uint8_t>{0x00, 0x00, 0x80, 0x3f});
}

TEST_CASE("checkpoint: a round trip gives back every bit", "[training][checkpoint]") {
    ScratchDir dir;
    tt::Checkpoint c = sample_checkpoint();
    const float specials[] = {-0.0f, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                              std::numeric_limits<float>::max(), 1e-30f};
    c.tensors["specials"] = raw(std::vector<float>(std::begin(specials), std::end(specials)), {7});
    c.tensors["transposed"] = iota({3, 2}).t();  // not contiguous: saved row-major as (2, 3)
    c.tensors["4d"] = random_values({2, 1, 3, 2}, 7);
    c.numbers["nan"] = std::numeric_limits<double>::quiet_NaN();
    c.numbers["tiny"] = 1e-300;
    c.numbers["negative zero"] = -0.0;
    c.texts["empty"] = "";
    c.texts["binary"] = std::string("a\0b\r\n\xff", 6);
    c.texts["unicode name \xc3\xa9"] = "caf\xc3\xa9";
    const std::string path = dir.file("round.ttckpt");
    tt::save_checkpoint(path, c);
    const tt::Checkpoint back = tt::load_checkpoint(path);

    REQUIRE(back.tensors.size() == c.tensors.size());
    for (const auto& [name, tensor] : c.tensors) {
        INFO(name);
        REQUIRE(back.tensors.count(name));
        const tt::Tensor& t = back.tensors.at(name);
        CHECK(t.shape() == tensor.shape());
        CHECK(bits_of(t) == bits_of(tensor));
        CHECK_FALSE(t.requires_grad());
    }
    REQUIRE(back.numbers.size() == c.numbers.size());
    CHECK(std::isnan(back.numbers.at("nan")));
    CHECK(back.numbers.at("tiny") == 1e-300);
    CHECK(std::signbit(back.numbers.at("negative zero")));
    CHECK(back.numbers.at("lr") == 0.001);
    CHECK(back.texts == c.texts);
}

TEST_CASE("checkpoint: an empty checkpoint is 24 bytes and loads", "[training][checkpoint]") {
    ScratchDir dir;
    tt::save_checkpoint(dir.file("empty.ttckpt"), tt::Checkpoint{});
    CHECK(file_bytes(dir.file("empty.ttckpt")) == CheckpointBytes().header(0).checksum().bytes);
    const tt::Checkpoint back = tt::load_checkpoint(dir.file("empty.ttckpt"));
    CHECK(back.tensors.empty());
    CHECK(back.numbers.empty());
    CHECK(back.texts.empty());
}

TEST_CASE("checkpoint: the reader accepts entries in any order", "[training][checkpoint]") {
    ScratchDir dir;
    write_bytes(dir.file("c.ttckpt"),
                CheckpointBytes().header(3).text("b", "x").number("a", 2.0).tensor("z", {1, 2}, {5, 6}).checksum().bytes);
    const tt::Checkpoint c = tt::load_checkpoint(dir.file("c.ttckpt"));
    CHECK_THAT(c.tensors.at("z"), tensor_equal(nested({{5, 6}})));
    CHECK(c.numbers.at("a") == 2.0);
    CHECK(c.texts.at("b") == "x");
}

TEST_CASE("checkpoint: every malformed file is a tt::Error naming the file and the problem", "[training][checkpoint]") {
    ScratchDir dir;
    const std::string good_path = dir.file("good.ttckpt");
    tt::save_checkpoint(good_path, sample_checkpoint());
    const std::vector<uint8_t> good = file_bytes(good_path);
    const std::string path = dir.file("bad.ttckpt");
    auto load_error = [&](const std::vector<uint8_t>& bytes) {
        write_bytes(path, bytes);
        return error_message([&] { tt::load_checkpoint(path); });
    };

    SECTION("missing") {
        CHECK_THAT(error_message([&] { tt::load_checkpoint(dir.file("nothing.ttckpt")); }),
                   Contains("nothing.ttckpt") && Contains("no such file"));
    }
    SECTION("a folder") { CHECK_THAT(error_message([&] { tt::load_checkpoint(dir.path().string()); }), Contains("folder")); }
    SECTION("not a checkpoint") {
        CHECK_THAT(load_error({0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 0, 0, 0, 0, 0, 0}),
                   Contains("bad.ttckpt") && Contains("not a TinyTorch checkpoint"));
        CHECK_THAT(load_error({'h', 'i'}), Contains("not a TinyTorch checkpoint"));
    }
    SECTION("line endings changed by a text-mode copy") {
        std::vector<uint8_t> mangled = good;
        mangled.erase(mangled.begin() + 6);  // "\r\n" -> "\n"
        CHECK_THAT(load_error(mangled), Contains("not a TinyTorch checkpoint") && Contains("line ending"));
    }
    SECTION("empty file") { CHECK_THAT(load_error({}), Contains("bad.ttckpt") && Contains("truncated")); }
    SECTION("a newer version") {
        CHECK_THAT(load_error(CheckpointBytes().header(0, 2).checksum().bytes),
                   Contains("bad.ttckpt") && Contains("version 2") && Contains("newer"));
        CHECK_THAT(load_error(CheckpointBytes().header(0, 0).checksum().bytes), Contains("version 0"));
    }
    SECTION("truncated") {
        CHECK_THAT(load_error(std::vector<uint8_t>(good.begin(), good.end() - 1)), Contains("bad.ttckpt") && Contains("truncated"));
        CHECK_THAT(load_error(std::vector<uint8_t>(good.begin(), good.begin() + 30)), Contains("truncated"));
        // The count promises 2 entries, the file holds 1 (with a valid checksum).
        CHECK_THAT(load_error(CheckpointBytes().header(2).number("a", 1.0).checksum().bytes), Contains("truncated"));
    }
    SECTION("trailing bytes") {
        std::vector<uint8_t> longer = good;
        longer.insert(longer.end(), {1, 2, 3});
        CHECK_THAT(load_error(longer), Contains("bad.ttckpt") && Contains("trailing bytes"));
        // A valid checksum over a file whose count says 1 but holds 2 entries.
        CHECK_THAT(load_error(CheckpointBytes().header(1).number("a", 1.0).number("b", 2.0).checksum().bytes),
                   Contains("trailing bytes"));
    }
    SECTION("damaged") {
        std::vector<uint8_t> flipped = good;
        flipped[good.size() - 20] ^= 0x10;  // inside the last text's bytes: the structure still parses
        CHECK_THAT(load_error(flipped), Contains("bad.ttckpt") && Contains("damaged"));
        std::vector<uint8_t> bad_sum = good;
        bad_sum.back() ^= 1;
        CHECK_THAT(load_error(bad_sum), Contains("damaged"));
    }
    SECTION("absurd sizes, each with a valid checksum") {
        // A dimension of 2^40 floats: 4 TB in a 60-byte file.
        CHECK_THAT(load_error(CheckpointBytes().header(1).u8(0).name("w").u32(1).u64(uint64_t{1} << 40).checksum().bytes),
                   Contains("bad.ttckpt") && Contains("absurd"));
        // Sizes whose product overflows int64: 2^33 * 2^33.
        CHECK_THAT(load_error(CheckpointBytes().header(1).u8(0).name("w").u32(2).u64(uint64_t{1} << 33).u64(uint64_t{1} << 33).checksum().bytes),
                   Contains("absurd"));
        // A negative size.
        CHECK_THAT(load_error(CheckpointBytes().header(1).u8(0).name("w").u32(1).u64(static_cast<uint64_t>(-4)).checksum().bytes),
                   Contains("absurd"));
        CHECK_THAT(load_error(CheckpointBytes().header(1).u8(0).name("w").u32(0xffffffffu).checksum().bytes), Contains("absurd"));
        // A count of 4 billion entries allocates nothing: the first entry finds the file ending.
        CHECK_THAT(load_error(CheckpointBytes().header(0xffffffffu).checksum().bytes), Contains("truncated"));
        CHECK_THAT(load_error(CheckpointBytes().header(1).u8(1).u32(0xfffffff0u).checksum().bytes), Contains("absurd"));
        CHECK_THAT(load_error(CheckpointBytes().header(1).u8(2).name("t").u32(0xfffffff0u).checksum().bytes), Contains("absurd"));
    }
    SECTION("unknown kind and duplicate names") {
        CHECK_THAT(load_error(CheckpointBytes().header(1).u8(7).name("x").f64(1).checksum().bytes), Contains("kind 7"));
        CHECK_THAT(load_error(CheckpointBytes().header(2).number("a", 1).number("a", 2).checksum().bytes),
                   Contains("'a'") && Contains("twice"));
    }
}

TEST_CASE("checkpoint: no truncation and no flipped byte crashes or loads", "[training][checkpoint]") {
    ScratchDir dir;
    tt::Checkpoint c = sample_checkpoint();
    c.tensors["long"] = random_values({40}, 3);
    const std::string good_path = dir.file("good.ttckpt");
    tt::save_checkpoint(good_path, c);
    const std::vector<uint8_t> good = file_bytes(good_path);
    const std::string path = dir.file("fuzz.ttckpt");
    int refused = 0, cases = 0;
    auto expect_refusal = [&](const std::vector<uint8_t>& bytes, const std::string& what) {
        write_bytes(path, bytes);
        ++cases;
        try {
            tt::load_checkpoint(path);
            FAIL_CHECK(what << ": loaded without an error");
        } catch (const tt::Error& e) {
            if (std::string(e.what()).find("fuzz.ttckpt") != std::string::npos) ++refused;
            else FAIL_CHECK(what << ": the message does not name the file: " << e.what());
        }
    };
    for (size_t size = 0; size < good.size(); ++size)
        expect_refusal(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)),
                       "truncated to " + std::to_string(size) + " bytes");
    // Every byte, each of its bits: FNV-1a sees any single-byte change, so every one is refused.
    for (size_t i = 0; i < good.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            std::vector<uint8_t> flipped = good;
            flipped[i] ^= static_cast<uint8_t>(1 << bit);
            expect_refusal(flipped, "byte " + std::to_string(i) + " bit " + std::to_string(bit) + " flipped");
        }
    // Random garbage after a valid header.
    tt::Generator gen(5);
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<uint8_t> junk = CheckpointBytes().header(static_cast<uint32_t>(gen.randint(5))).bytes;
        for (uint64_t k = gen.randint(64); k > 0; --k) junk.push_back(static_cast<uint8_t>(gen.randint(256)));
        write_bytes(path, junk);
        CHECK_THROWS_AS(tt::load_checkpoint(path), tt::Error);
    }
    CHECK(refused == cases);
}

TEST_CASE("checkpoint: writes are atomic and leave no temporary file", "[training][checkpoint]") {
    ScratchDir dir;
    const std::string path = dir.file("model.ttckpt");
    tt::Checkpoint first;
    first.numbers["version"] = 1;
    tt::save_checkpoint(path, first);
    // A second name for the first file's inode: writing in place would change what it shows.
    const std::string old_link = dir.file("old.ttckpt");
    REQUIRE(::link(path.c_str(), old_link.c_str()) == 0);
    struct stat before {};
    REQUIRE(::stat(path.c_str(), &before) == 0);

    tt::Checkpoint second;
    second.numbers["version"] = 2;
    second.tensors["w"] = random_values({100}, 1);
    tt::save_checkpoint(path, second);
    struct stat after {};
    REQUIRE(::stat(path.c_str(), &after) == 0);
    CHECK(after.st_ino != before.st_ino);  // a new file renamed into place
    CHECK(tt::load_checkpoint(old_link).numbers.at("version") == 1);
    CHECK(tt::load_checkpoint(path).numbers.at("version") == 2);
    CHECK(dir.names() == std::vector<std::string>{"model.ttckpt", "old.ttckpt"});

    // A folder that does not exist: an error naming the path, and nothing created.
    CHECK_THAT(error_message([&] { tt::save_checkpoint(dir.file("missing/model.ttckpt"), first); }),
               Contains("missing/model.ttckpt"));
    CHECK(dir.names() == std::vector<std::string>{"model.ttckpt", "old.ttckpt"});
    // An undefined tensor is refused before anything is written; the old file stays.
    tt::Checkpoint undefined;
    undefined.tensors["x"] = tt::Tensor();
    CHECK_THAT(error_message([&] { tt::save_checkpoint(path, undefined); }), Contains("'x'"));
    CHECK(tt::load_checkpoint(path).numbers.at("version") == 2);
    CHECK(dir.names() == std::vector<std::string>{"model.ttckpt", "old.ttckpt"});
}

namespace {

// A module with a parameter and a buffer of its own, and a child.
class WithBuffer : public tt::Module {
public:
    explicit WithBuffer(uint64_t seed, int64_t width = 3) {
        tt::Generator gen(seed);
        scale = register_parameter("scale", random_values({width}, seed));
        running = register_buffer("running", random_values({width}, seed + 1));
        child = register_module("child", std::make_shared<tt::Linear>(width, 2, true, &gen));
    }
    tt::Tensor forward(const tt::Tensor& x) override { return (*child)(x * scale); }
    std::string name() const override { return "WithBuffer"; }
    tt::Tensor scale, running;
    std::shared_ptr<tt::Linear> child;
};

}  // namespace

TEST_CASE("make_checkpoint: parameters, buffers, optimizer state and texts, as copies", "[training][checkpoint]") {
    WithBuffer model(1);
    tt::optim::SGD optimizer(model.parameters(), {.lr = 0.1f, .momentum = 0.9f});
    const tt::Tensor x = random_values({4, 3}, 2);
    (model(x)).sum().backward();
    optimizer.step();

    const tt::Checkpoint c = tt::make_checkpoint(model, &optimizer);
    std::vector<std::string> names;
    for (const auto& [name, t] : c.tensors) names.push_back(name);
    CHECK(names == std::vector<std::string>{"model.child.bias", "model.child.weight", "model.running", "model.scale",
                                            "optimizer.0.momentum_buffer", "optimizer.1.momentum_buffer",
                                            "optimizer.2.momentum_buffer"});
    CHECK(c.numbers.at("optimizer.lr") == Approx(0.1));
    CHECK(c.texts.at("model") == model.to_string());
    CHECK(c.texts.at("optimizer") == "SGD");
    CHECK_THAT(c.tensors.at("model.scale"), tensor_equal(model.scale));
    CHECK_THAT(c.tensors.at("model.running"), tensor_equal(model.running));
    CHECK_FALSE(shares_storage(c.tensors.at("model.scale"), model.scale));
    CHECK_FALSE(c.tensors.at("model.scale").requires_grad());

    const std::vector<float> saved = values_of(c.tensors.at("model.child.weight"));
    (model(x)).sum().backward();
    optimizer.step();  // training on must not change the checkpoint
    CHECK(values_of(c.tensors.at("model.child.weight")) == saved);

    const tt::Checkpoint model_only = tt::make_checkpoint(model);
    CHECK(model_only.tensors.size() == 4);
    CHECK(model_only.numbers.empty());
    CHECK(model_only.texts.count("optimizer") == 0);
}

TEST_CASE("restore_checkpoint: a saved model and optimizer come back exactly, in place", "[training][checkpoint]") {
    ScratchDir dir;
    WithBuffer trained(1);
    tt::optim::Adam adam(trained.parameters(), {.lr = 0.01f});
    for (int step = 0; step < 3; ++step) {
        trained.zero_grad();
        trained(random_values({4, 3}, 10 + step)).sum().backward();
        adam.step();
    }
    tt::save_checkpoint(dir.file("c.ttckpt"), tt::make_checkpoint(trained, &adam));

    WithBuffer fresh(99);
    tt::optim::Adam fresh_adam(fresh.parameters(), {.lr = 0.5f});
    const tt::Tensor weight_handle = fresh.child->weight;
    tt::restore_checkpoint(tt::load_checkpoint(dir.file("c.ttckpt")), fresh, &fresh_adam);
    CHECK(weights_of(fresh) == weights_of(trained));
    CHECK_THAT(fresh.running, tensor_equal(trained.running));
    CHECK(fresh.child->weight.is_same(weight_handle));  // in place: the optimizer still holds the same tensors
    CHECK(fresh.child->weight.requires_grad());
    CHECK(fresh_adam.lr == adam.lr);

    // One more identical step on both: the optimizer state came back too.
    for (auto* pair : {&trained, &fresh}) {
        pair->zero_grad();
        (*pair)(random_values({4, 3}, 50)).sum().backward();
    }
    adam.step();
    fresh_adam.step();
    CHECK(weights_of(fresh) == weights_of(trained));
}

TEST_CASE("restore_checkpoint: another model's checkpoint is refused and changes nothing", "[training][checkpoint]") {
    WithBuffer model(1);
    const auto before = weights_of(model);
    const std::vector<float> running_before = values_of(model.running);

    SECTION("a different shape") {
        WithBuffer wider(2, 4);
        CHECK_THAT(error_message([&] { tt::restore_checkpoint(tt::make_checkpoint(wider), model); }),
                   Contains("model.") && Contains("(4)") && Contains("(3)"));
    }
    SECTION("a missing entry") {
        tt::Checkpoint c = tt::make_checkpoint(model);
        c.tensors.erase("model.running");
        c.tensors.at("model.scale") = raw({9, 9, 9}, {3});
        CHECK_THAT(error_message([&] { tt::restore_checkpoint(c, model); }), Contains("model.running"));
    }
    SECTION("an unexpected entry") {
        tt::Checkpoint c = tt::make_checkpoint(model);
        c.tensors["model.extra.weight"] = raw({1}, {1});
        CHECK_THAT(error_message([&] { tt::restore_checkpoint(c, model); }), Contains("model.extra.weight"));
    }
    SECTION("the state of another optimizer, or none") {
        tt::optim::SGD sgd(model.parameters(), {.lr = 0.1f});
        tt::optim::Adam adam(model.parameters());
        CHECK_THAT(error_message([&] { tt::restore_checkpoint(tt::make_checkpoint(model, &sgd), model, &adam); }),
                   Contains("SGD") && Contains("Adam"));
        CHECK_THAT(error_message([&] { tt::restore_checkpoint(tt::make_checkpoint(model), model, &adam); }),
                   Contains("optimizer"));
    }
    CHECK(weights_of(model) == before);
    CHECK(values_of(model.running) == running_before);
}

TEST_CASE("restore_checkpoint: BatchNorm's running statistics are restored", "[training][checkpoint]") {
    tt::BatchNorm2d trained(3);
    trained.train();
    trained(random_values({4, 3, 2, 2}, 3, 0.0f, 5.0f));  // moves the running statistics
    tt::BatchNorm2d fresh(3);
    tt::restore_checkpoint(tt::make_checkpoint(trained), fresh);
    CHECK_THAT(fresh.running_mean, tensor_equal(trained.running_mean));
    CHECK_THAT(fresh.running_var, tensor_equal(trained.running_var));
}
