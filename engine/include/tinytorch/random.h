// random.h - a seeded, portable random number generator [given].
//
// Every random thing in TinyTorch (rand, randn, weight initialisation, dropout masks, shuffling)
// draws from a Generator, so one seed reproduces a whole training run bit for bit. We do not use
// std::normal_distribution: its output differs between standard libraries, and a course needs the
// same numbers on every student's machine.
#pragma once

#include <cstdint>

namespace tt {

class Generator {
public:
    explicit Generator(uint64_t seed = 0) { manual_seed(seed); }
    void manual_seed(uint64_t seed);
    uint64_t next_u64();        // xoshiro256** step
    float uniform();            // [0, 1), 24 random bits
    float uniform(float low, float high);
    float normal();             // mean 0, standard deviation 1 (Box-Muller)
    // An integer in [0, n), without modulo bias.
    uint64_t randint(uint64_t n);

private:
    uint64_t state_[4];
    bool has_spare_normal_ = false;
    float spare_normal_ = 0.0f;
};

// The generator used when none is passed; seeded with 0 at start-up.
Generator& default_generator();
// Re-seeds the default generator.
void manual_seed(uint64_t seed);

}  // namespace tt
