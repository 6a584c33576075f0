// make_tiny_gpt.cpp - writes a small untrained GPT checkpoint for the gpt competition's tests:
//     make_tiny_gpt TEXT_FILE CHECKPOINT
// Its vocabulary is TEXT_FILE's characters (CharTokenizer::fit, as the gpt milestone's), so the
// competition program's tokenizer matches it; seeded weights, so every run writes the same file.
#include <cstdio>

#include "tinytorch/tinytorch.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: make_tiny_gpt TEXT_FILE CHECKPOINT\n");
        return 2;
    }
    const tt::CharTokenizer tokenizer = tt::CharTokenizer::fit(tt::data::read_text(argv[1]));
    tt::Generator gen(2026);
    tt::GPTConfig config;
    config.vocab_size = tokenizer.vocab_size();
    config.context_length = 32;
    config.num_layers = 1;
    config.num_heads = 2;
    config.embed_dim = 16;
    tt::GPT model(config, &gen);
    // Weights 4x their initial scale, so the logits are far from uniform: a perplexity a planted
    // bug can move (at initialisation every token is about equally likely).
    for (tt::Tensor& p : model.parameters())
        for (int64_t i = 0; i < p.numel(); ++i) p.data()[i] *= 4.0f;
    tt::save_gpt(argv[2], model);
    return 0;
}
