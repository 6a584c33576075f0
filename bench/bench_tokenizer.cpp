// bench_tokenizer.cpp - module 11: how fast BPE trains and encodes on tiny-shakespeare, and what
// the incremental pair counts buy over the naive trainer.
//
//     build-x/bin/bench_tokenizer [path/to/input.txt] [vocab_size]
//
// Without a path it reads $TITO_DATA_DIR/tinyshakespeare/input.txt. Prints the training time of
// tt::BpeTokenizer::train for vocab 512, the encoding time, tokens and compression, then the time of
// the NAIVE trainer below - which counts every pair of the whole text again for every merge - and
// checks that both learned the same merges. Not a test: it never fails on speed.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinytorch/data.h"
#include "tinytorch/tokenizer.h"

namespace {

double now_seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// The median of `repeats` timed runs (no warm-up: the first run is what a user waits for too).
template <class Work>
double median_seconds(Work work, int repeats) {
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
        const double start = now_seconds();
        work();
        times.push_back(now_seconds() - start);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

using Merges = std::vector<std::pair<int64_t, int64_t>>;

// THE NAIVE TRAINER, for comparison only. Same pieces, same tie rule, same merges - but for every
// merge it recounts every adjacent pair of every piece of the whole text (all ~300,000 of them,
// repeats included) and rewrites every piece: O(merges x text bytes).
Merges naive_train(std::string_view text, int64_t vocab_size) {
    std::vector<std::vector<int64_t>> pieces;
    for (std::string_view piece : tt::split_pieces(text)) {
        std::vector<int64_t> tokens;
        for (char c : piece) tokens.push_back(static_cast<unsigned char>(c));
        pieces.push_back(std::move(tokens));
    }
    Merges merges;
    std::unordered_map<uint64_t, int64_t> counts;
    while (256 + static_cast<int64_t>(merges.size()) < vocab_size) {
        counts.clear();
        for (const auto& tokens : pieces)  // every pair of the whole text, again
            for (size_t i = 0; i + 1 < tokens.size(); ++i)
                ++counts[static_cast<uint64_t>(tokens[i]) << 32 | static_cast<uint64_t>(tokens[i + 1])];
        uint64_t best = 0;
        int64_t best_count = 0;
        for (const auto& [pair, count] : counts)
            if (count > best_count || (count == best_count && pair < best)) best = pair, best_count = count;
        if (best_count < 2) break;
        const int64_t left = static_cast<int64_t>(best >> 32), right = static_cast<int64_t>(best & 0xffffffffu);
        const int64_t merged = 256 + static_cast<int64_t>(merges.size());
        merges.emplace_back(left, right);
        for (auto& tokens : pieces) {  // every piece, again
            size_t write = 0;
            for (size_t read = 0; read < tokens.size();) {
                if (read + 1 < tokens.size() && tokens[read] == left && tokens[read + 1] == right) {
                    tokens[write++] = merged;
                    read += 2;
                } else {
                    tokens[write++] = tokens[read++];
                }
            }
            tokens.resize(write);
        }
    }
    return merges;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::string path;
        if (argc > 1) {
            path = argv[1];
        } else {
            const char* dir = std::getenv("TITO_DATA_DIR");
            if (!dir || !*dir) {
                std::fprintf(stderr,
                             "bench_tokenizer: no text to read. Pass the path of tiny-shakespeare's input.txt, or set TITO_DATA_DIR "
                             "to the folder holding tinyshakespeare/input.txt (get it with `tito data fetch tinyshakespeare`).\n");
                return 2;
            }
            path = (std::filesystem::path(dir) / "tinyshakespeare" / "input.txt").string();
        }
        if (!std::filesystem::is_regular_file(path)) {
            std::fprintf(stderr, "bench_tokenizer: %s does not exist (get it with `tito data fetch tinyshakespeare`)\n", path.c_str());
            return 2;
        }
        const int64_t vocab_size = argc > 2 ? std::atoll(argv[2]) : 512;
        const std::string text = tt::data::read_text(path);
        std::printf("text: %s, %zu bytes, %zu pieces\n", path.c_str(), text.size(), tt::split_pieces(text).size());

        tt::BpeTokenizer bpe;
        const double train = median_seconds([&] { bpe = tt::BpeTokenizer::train(text, vocab_size); }, 3);
        std::vector<int64_t> ids;
        const double encode = median_seconds([&] { ids = bpe.encode(text); }, 3);
        const bool lossless = bpe.decode(ids) == text;
        std::printf("train   vocab %lld (%zu merges): %8.3f s   (incremental pair counts)\n", static_cast<long long>(vocab_size),
                    bpe.merges.size(), train);
        std::printf("encode  %zu bytes -> %zu tokens: %8.3f s   (%.2f bytes per token, %.1f MB/s), decode(encode) %s\n",
                    text.size(), ids.size(), encode, static_cast<double>(text.size()) / static_cast<double>(ids.size()),
                    static_cast<double>(text.size()) / encode / 1e6, lossless ? "== text" : "DIFFERS");
        // What the merges learned: the first ones, and the last ones (longer, rarer pieces of words).
        auto show = [&](size_t from, size_t to) {
            for (size_t i = from; i < to && i < bpe.merges.size(); ++i) {
                std::string token;
                for (char c : bpe.token_bytes(256 + static_cast<int64_t>(i))) token += c == '\n' ? std::string("\\n") : std::string(1, c);
                std::printf(" '%s'", token.c_str());
            }
        };
        std::printf("first merges:");
        show(0, 12);
        std::printf("\nlast merges: ");
        show(bpe.merges.size() >= 12 ? bpe.merges.size() - 12 : 0, bpe.merges.size());
        std::printf("\n");
        const tt::CharTokenizer chars = tt::CharTokenizer::fit(text);
        std::printf("chars   %lld tokens -> %zu tokens (1 per character): a 64-token context sees %.0f bytes with characters, "
                    "%.0f with BPE\n",
                    static_cast<long long>(chars.vocab_size()), chars.encode(text).size(), 64.0,
                    64.0 * static_cast<double>(text.size()) / static_cast<double>(ids.size()));

        const double start = now_seconds();
        const Merges naive = naive_train(text, vocab_size);
        const double naive_seconds = now_seconds() - start;
        const bool same = naive == bpe.merges;
        std::printf("naive   vocab %lld (%zu merges): %8.3f s   (every pair recounted for every merge) = %.0fx the incremental "
                    "trainer; merges %s\n",
                    static_cast<long long>(vocab_size), naive.size(), naive_seconds, naive_seconds / train,
                    same ? "identical" : "DIFFER");
        return same && lossless ? 0 : 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_tokenizer: %s\n", error.what());
        return 1;
    }
}
