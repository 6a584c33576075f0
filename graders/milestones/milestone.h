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

}  // namespace milestone
