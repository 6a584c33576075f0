// milestone.h - what every milestone program shares: reporting to tito, and a main() wrapper.
//
// A milestone program trains a historical model on the student's own engine and reports:
//     progress(...)   live numbers (epoch, loss, accuracy) that tito shows as they arrive
//     log(...)        a line of commentary
//     metrics(...)    the final numbers; tito, not this program, compares them with the thresholds
//                     in configs/milestones.json
// Run by hand (no tito), the same reports are printed to stdout.
#pragma once

#include <exception>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "channel.h"
#include "tinytorch/errors.h"

namespace milestone {

class Reporter {
public:
    Reporter() : channel_(tito_channel::take_channel()) {}

    void progress(const nlohmann::json& fields) { send({{"progress", fields}}); }
    void log(const std::string& text) { send({{"log", text}}); }
    void metrics(const nlohmann::json& values) { send({{"metrics", values}}); }
    // How long the whole run will take, in seconds, measured on its first steps.
    void estimate(double seconds) { send({{"estimate", {{"seconds", seconds}}}}); }
    void error(const std::string& text) { send({{"error", text}}); }

private:
    void send(const nlohmann::json& message) {
        if (channel_) {
            tito_channel::report(*channel_, message);
        } else {
            std::cout << message.dump() << std::endl;
        }
    }
    std::optional<tito_channel::Channel> channel_;
};

// Runs the milestone; an exception (an unfinished TODO, a shape error in the student's code)
// becomes an "error" report and exit status 1 rather than a crash.
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

// What tito passes on the command line: --quick (a small subset for tests: seconds, never recorded
// as a pass) and --dataset NAME (a variant of the milestone's data, e.g. fashion-mnist for lenet).
struct Options {
    bool quick = false;
    std::string dataset;
};

inline Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--quick") {
            options.quick = true;
        } else if (arg == "--dataset" && i + 1 < argc) {
            options.dataset = argv[++i];
        } else {
            throw tt::Error("unknown argument '" + arg + "' (the milestone programs take --quick and --dataset NAME)");
        }
    }
    return options;
}

}  // namespace milestone
