// gpt.cpp - the gpt competition: serve a trained GPT as fast as possible, exactly. Linked with the
// student's code (module 20's gpt_load and GptInference on their engine) and run by
// `tito submit --competition gpt` (cli/competitions.cpp), which times the generation, compares
// the text with the reference program's and computes the perplexity itself.
//
//     gpt --checkpoint FILE --text FILE --requests DIR
//
//   1. fits the character tokenizer on --text (tiny-shakespeare, as the gpt milestone does, so
//      the ids are the checkpoint's), loads the checkpoint with gpt_load and reports
//      {"phase": "ready", "identity": {...}, "vocab_size": V, "context_length": C};
//   2. waits for tito's generate.json {"prompts": [text...], "new_tokens": n} and answers
//      {"generated": [text...]}: each prompt's greedy continuation, decoded (tito's clock runs
//      from writing the file to this answer);
//   3. waits for evaluate.json {"windows": [text of T + 1 characters...]} and answers, per
//      window, {"logits": [T * V floats], "window": i} for its first T characters, then
//      {"targets": [[T ids]...]} (the ids of characters 1..T) and {"phase": "done"}.
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "competition.h"
#include "tinytorch/capstone.h"
#include "tinytorch/tinytorch.h"

namespace {

struct Arguments {
    std::string checkpoint, text, requests;
};

Arguments parse_arguments(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--checkpoint") {
            args.checkpoint = value;
        } else if (flag == "--text") {
            args.text = value;
        } else if (flag == "--requests") {
            args.requests = value;
        } else {
            throw tt::Error("unknown argument '" + flag + "' (the gpt program takes --checkpoint FILE --text FILE --requests DIR)");
        }
    }
    if (args.checkpoint.empty() || args.text.empty() || args.requests.empty())
        throw tt::Error("the gpt program needs --checkpoint FILE --text FILE --requests DIR (tito passes them)");
    return args;
}

nlohmann::json read_request(const std::filesystem::path& path) {
    std::ifstream in(path);
    nlohmann::json request = nlohmann::json::parse(in, nullptr, false);
    if (request.is_discarded()) throw tt::Error(path.string() + " is not valid JSON: reinstall tito");
    return request;
}

}  // namespace

int main(int argc, char** argv) {
    return competition::run([&](competition::Reporter& reporter) {
        const Arguments args = parse_arguments(argc, argv);
        const nlohmann::json identity = competition::identity();

        // 1. The tokenizer of the checkpoint's text, and the model.
        const tt::CharTokenizer tokenizer = tt::CharTokenizer::fit(tt::data::read_text(args.text));
        std::unique_ptr<tt::capstone::GptInference> gpt = tt::capstone::gpt_load(args.checkpoint);
        if (!gpt) throw tt::Error("gpt_load returned no model (a null pointer)");
        if (gpt->vocab_size() != tokenizer.vocab_size())
            throw tt::Error("the model's vocabulary has " + std::to_string(gpt->vocab_size()) + " tokens, the text's " +
                            std::to_string(tokenizer.vocab_size()) + " characters: is this the gpt milestone's checkpoint?");
        reporter.send({{"phase", "ready"}, {"identity", identity}, {"vocab_size", gpt->vocab_size()},
                       {"context_length", gpt->context_length()}});

        // 2. Greedy continuations of tito's prompts.
        const nlohmann::json generate = read_request(competition::wait_for_request(args.requests, "generate.json"));
        const auto new_tokens = generate.at("new_tokens").get<int64_t>();
        std::vector<std::string> generated;
        for (const auto& prompt : generate.at("prompts")) {
            const std::vector<int64_t> ids = gpt->generate_greedy(tokenizer.encode(prompt.get<std::string>()), new_tokens);
            if (static_cast<int64_t>(ids.size()) != new_tokens)
                throw tt::Error("generate_greedy returned " + std::to_string(ids.size()) + " ids for new_tokens = " + std::to_string(new_tokens) +
                                ": it must return exactly the new ones");
            generated.push_back(tokenizer.decode(ids));
        }
        reporter.send({{"generated", generated}});

        // 3. Logits over tito's validation windows, for the perplexity tito computes.
        const nlohmann::json evaluate = read_request(competition::wait_for_request(args.requests, "evaluate.json"));
        nlohmann::json targets = nlohmann::json::array();
        int64_t index = 0;
        for (const auto& window : evaluate.at("windows")) {
            const std::vector<int64_t> ids = tokenizer.encode(window.get<std::string>());
            if (ids.size() < 2) throw tt::Error("an evaluation window is shorter than 2 characters: reinstall tito");
            const std::vector<int64_t> inputs(ids.begin(), ids.end() - 1);
            const std::vector<float> logits = gpt->logits(inputs);
            const auto expected = static_cast<int64_t>(inputs.size()) * gpt->vocab_size();
            if (static_cast<int64_t>(logits.size()) != expected)
                throw tt::Error("logits returned " + std::to_string(logits.size()) + " floats for " + std::to_string(inputs.size()) +
                                " positions of " + std::to_string(gpt->vocab_size()) + " tokens: expected " + std::to_string(expected));
            reporter.send({{"logits", logits}, {"window", index++}});
            targets.push_back(std::vector<int64_t>(ids.begin() + 1, ids.end()));
        }
        reporter.send({{"targets", targets}});
        reporter.send({{"phase", "done"}});
    });
}
