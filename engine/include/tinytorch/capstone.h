// capstone.h - module 20: race your own engine.
//
// Two competitions, each run by `tito submit --competition NAME` against the student's engine, the
// rules in configs/competitions/NAME.json (threads, memory, time) and scored by tito itself:
//
//   cifar  cifar_train() gets the CIFAR-10 training set and a time budget and returns a model;
//          cifar_predict() then labels the 10,000 test images (which it only sees after training).
//          Score: test accuracy; training time, prediction time, peak memory and model size beside it.
//
//       tt::capstone::Budget budget(240.0);
//       std::shared_ptr<tt::Module> model = tt::capstone::cifar_train(train_set, budget);
//       std::vector<int64_t> labels = tt::capstone::cifar_predict(*model, images);   // (B, 3, 32, 32)
//
//   gpt    gpt_load() prepares a trained GPT checkpoint (the gpt milestone's) for inference; tito
//          then asks for greedy continuations of fixed prompts and times them. Score: tokens/s,
//          if the output is exactly the reference's and the validation perplexity (from logits())
//          is within the rules' tolerance of the reference's.
//
//       std::unique_ptr<tt::capstone::GptInference> gpt = tt::capstone::gpt_load("checkpoint.ttc");
//       std::vector<int64_t> next = gpt->generate_greedy(prompt_ids, 48);
//
// Everything here is module 20 (engine/src/20_capstone/), except [given]. Modules 15-19 make the
// engine faster underneath (kernels, a KV cache, INT8, pruning); the competitions stay the same.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/data.h"
#include "tinytorch/layers.h"
#include "tinytorch/tensor.h"

namespace tt::capstone {

// ---------------------------------------------------------------------------------------------
// [given] The training budget
// ---------------------------------------------------------------------------------------------

// What a training run tells tito as it goes (shown live beside the clock; never part of the score).
struct Progress {
    int64_t epoch = 0, epochs = 0;  // 1-based epoch of how many planned (0: not known)
    int64_t step = 0, steps = 0;    // step within the epoch
    double loss = 0.0;              // the latest training loss
    std::string note;               // anything else, one short line
};

// [given] The wall-clock time cifar_train may take, counted from the Budget's construction (just
// before cifar_train is called). tito measures the time itself and records a run that returns
// after the budget as a failed attempt, so plan your epochs with elapsed() / remaining().
class Budget {
public:
    explicit Budget(double seconds, std::function<void(const Progress&)> on_progress = {});
    double seconds() const { return seconds_; }
    double elapsed() const;      // seconds since the start
    double remaining() const;    // seconds() - elapsed(), never below 0
    bool exhausted() const { return remaining() <= 0.0; }
    // Tells tito how training goes (at most a few times per second is plenty; extra calls are dropped).
    void report(const Progress& progress) const;

private:
    double seconds_;
    std::chrono::steady_clock::time_point start_;
    std::function<void(const Progress&)> on_progress_;
    mutable std::chrono::steady_clock::time_point last_report_{};  // of the last report passed on
    mutable int64_t last_epoch_ = -1;                              // its epoch: a new one always passes
};

// [given] The engine's fastest matrix multiplication: OpenBLAS behind kernels::gemm (until module
// 15 lets you write and choose your own). Call it at the start of cifar_train / gpt_load.
void use_fastest_gemm();

// ---------------------------------------------------------------------------------------------
// The cifar track
// ---------------------------------------------------------------------------------------------

// (20) Trains a classifier on `train_set` - CIFAR-10's training images (3, 32, 32) with pixel
// values in [0, 1] and labels 0-9, no transforms yet: set train_set->transforms for augmentation
// and normalisation - and returns it, within `budget`.
std::shared_ptr<Module> cifar_train(std::shared_ptr<data::ImageDataset> train_set, Budget& budget);

// (20) The class (0-9) of each image of `images` (B, 3, 32, 32), pixel values in [0, 1] (the same
// scale as the training set before its transforms), with the model cifar_train returned. Called in
// batches of at most 500 images; must return exactly B labels and must not depend on which other
// images share the batch.
std::vector<int64_t> cifar_predict(Module& model, const Tensor& images);

// ---------------------------------------------------------------------------------------------
// The gpt track
// ---------------------------------------------------------------------------------------------

// A GPT prepared for fast inference. Token ids are the character ids of the checkpoint's training
// text (CharTokenizer, module 11); the caller encodes and decodes.
class GptInference {
public:
    virtual ~GptInference() = default;
    virtual int64_t vocab_size() const = 0;
    virtual int64_t context_length() const = 0;
    // (20) Greedy decoding: `new_tokens` times, append the id with the largest logit of the last
    // position (ties: the smallest id). prompt.size() + new_tokens <= context_length(); returns the
    // new ids only.
    virtual std::vector<int64_t> generate_greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) = 0;
    // (20) The logits of every position of `ids` (1 <= T <= context_length()): T * vocab_size()
    // floats, row after row - the same numbers the GPT's forward gives, for the perplexity gate.
    virtual std::vector<float> logits(const std::vector<int64_t>& ids) = 0;
};

// (20) Loads a checkpoint written by tt::save_gpt (the gpt milestone's checkpoint.ttc) and prepares
// it for inference. tt::Error naming the file when it cannot.
std::unique_ptr<GptInference> gpt_load(const std::string& checkpoint_path);

}  // namespace tt::capstone
