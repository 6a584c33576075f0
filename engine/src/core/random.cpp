// random.cpp - xoshiro256** seeded through splitmix64, and Box-Muller normals [given].
#include "tinytorch/random.h"

#include <cmath>

namespace tt {

namespace {
uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Generator::manual_seed(uint64_t seed) {
    for (uint64_t& word : state_) word = splitmix64(seed);
    has_spare_normal_ = false;
}

uint64_t Generator::next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
}

float Generator::uniform() {
    // The top 24 bits fill a float's mantissa exactly: values k / 2^24, never 1.0.
    return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f);
}

float Generator::uniform(float low, float high) { return low + (high - low) * uniform(); }

float Generator::normal() {
    if (has_spare_normal_) {
        has_spare_normal_ = false;
        return spare_normal_;
    }
    // Box-Muller: two uniforms give two independent normals. u1 is in (0, 1] so log(u1) is finite.
    double u1 = 1.0 - static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
    double u2 = static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
    double radius = std::sqrt(-2.0 * std::log(u1));
    double angle = 2.0 * 3.14159265358979323846 * u2;
    spare_normal_ = static_cast<float>(radius * std::sin(angle));
    has_spare_normal_ = true;
    return static_cast<float>(radius * std::cos(angle));
}

uint64_t Generator::randint(uint64_t n) {
    if (n == 0) return 0;
    // Rejection sampling: drop the top partial bucket so every value is equally likely.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = next_u64();
    } while (x >= limit);
    return x % n;
}

Generator& default_generator() {
    static Generator generator(0);
    return generator;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace tt
