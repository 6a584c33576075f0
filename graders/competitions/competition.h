// competition.h - what the competition programs share: reporting to tito, and waiting for tito's
// requests.
//
// A competition program (cifar.cpp, gpt.cpp) is linked with the student's code and run by
// `tito submit` inside the sandbox. It never decides anything: it reports what happened through
// the result channel (channel.h) and tito takes the time, checks the answers and computes the
// score. tito hands out the next piece of work (the test images, the prompts) as a file in the
// requests folder, written (temporary file + rename) only once the program has reported the step
// before - so no work can start before tito's clock does.
//
// Run by hand (no tito), the reports are printed to stdout as JSON lines.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "channel.h"
#include "tinytorch/errors.h"
#include "tinytorch/setup.h"

namespace competition {

class Reporter {
public:
    // Takes the channel before any of the student's code runs in main().
    Reporter() : channel_(tito_channel::take_channel()) {}

    void send(const nlohmann::json& message) {
        if (channel_) {
            tito_channel::report(*channel_, message);
        } else {
            std::cout << message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
        }
    }
    void error(const std::string& text) { send({{"error", text}}); }

private:
    std::optional<tito_channel::Channel> channel_;
};

// Runs the program; an exception (an unfinished TODO, a shape error in the student's code) becomes
// an "error" report and exit status 1 rather than a crash.
inline int run(const std::function<void(Reporter&)>& body) {
    Reporter reporter;
    try {
        body(reporter);
        return 0;
    } catch (const std::exception& e) {
        reporter.error(e.what());
        return 1;
    }
}

// The student's identity (module 01) for the leaderboard entry; tt::Error when it is not valid
// yet, so an entry never carries a placeholder name.
inline nlohmann::json identity() {
    const tt::StudentIdentity me = tt::my_identity();
    const std::vector<std::string> problems = tt::identity_problems(me);
    if (!problems.empty())
        throw tt::Error("your identity (module 01, my_identity) is not ready for the leaderboard: " + problems.front());
    return {{"name", me.name}, {"handle", me.handle}, {"email", me.email}};
}

// Waits for tito to put `name` into `folder` (checking every millisecond: the wait is part of the
// time tito measures, so it must be short) and returns its path. tito kills the program at the
// run's wall-clock limit, so there is no time-out here.
inline std::filesystem::path wait_for_request(const std::filesystem::path& folder, const std::string& name) {
    const std::filesystem::path path = folder / name;
    std::error_code ec;
    while (!std::filesystem::exists(path, ec)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return path;
}

// The images file tito writes for the cifar track (test_images.bin), little-endian:
//     bytes 0-7    "TTIMAGES"
//     bytes 8-23   uint32 count, channels, height, width
//     then         count * channels * height * width uint8 pixels, image after image, each one
//                  channel plane after the other (CIFAR-10's own order: red, green, blue)
// No labels: only tito reads those.
struct ImagesFile {
    uint32_t count = 0, channels = 0, height = 0, width = 0;
    std::vector<uint8_t> pixels;
};

inline constexpr char kImagesMagic[8] = {'T', 'T', 'I', 'M', 'A', 'G', 'E', 'S'};
inline constexpr size_t kImagesHeaderBytes = 24;

inline ImagesFile parse_images(const std::vector<uint8_t>& bytes) {
    if (bytes.size() < kImagesHeaderBytes || std::memcmp(bytes.data(), kImagesMagic, 8) != 0)
        throw tt::Error("the test images file is not in tito's format (TTIMAGES header): reinstall tito");
    ImagesFile images;
    uint32_t header[4];
    std::memcpy(header, bytes.data() + 8, sizeof header);
    images.count = header[0];
    images.channels = header[1];
    images.height = header[2];
    images.width = header[3];
    const uint64_t expected = uint64_t{images.count} * images.channels * images.height * images.width;
    if (bytes.size() - kImagesHeaderBytes != expected)
        throw tt::Error("the test images file has " + std::to_string(bytes.size() - kImagesHeaderBytes) + " pixel bytes, its header says " +
                        std::to_string(expected));
    images.pixels.assign(bytes.begin() + kImagesHeaderBytes, bytes.end());
    return images;
}

}  // namespace competition
