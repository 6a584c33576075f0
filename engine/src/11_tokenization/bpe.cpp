// bpe.cpp - module 11: byte-level byte-pair encoding: training, encoding, decoding, special tokens.
//
// Training on "low lower lowest" (pieces "low" " lower" " lowest", each once), vocab_size 258:
//     pairs:  (l,o) 3  (o,w) 3  ( ,l) 2  (w,e) 2  (e,r) 1  (e,s) 1  (s,t) 1
//     merge 0 = (l,o) -> 256 "lo"   (3, tied with (o,w); ( l, o) < (o, w) as 108 < 111)
//     pieces: [lo w] [  lo w e r] [  lo w e s t];   (l,o) is gone, (o,w) became (lo,w) 3, ( ,l) became ( ,lo) 2
//     merge 1 = (256,w) -> 257 "low"
//
// The data structures (N: text bytes, P: distinct pieces, M: merges):
//     pieces        each distinct piece once, as token ids, with how often it occurs in the text
//     pair_counts   (left, right) -> how often the pair occurs, summed over pieces x their counts
//     where         (left, right) -> the pieces it may occur in (a list that is allowed to go stale)
//     queue         the pairs by count, largest first (ties: smallest pair), with stale entries
//                   skipped when they come out ("lazy deletion": cheaper than updating in place)
// A merge visits only the pieces in where[pair]: recounting them costs what the merge changed. The
// naive trainer recounts every pair of the whole text for every merge: O(M x N), 256 x 1.1 MB of
// tiny-shakespeare, about 30x slower here (bench/bench_tokenizer.cpp measures both).
//
// Encoding applies the merges to each piece in the order they were learned: repeatedly find the
// adjacent pair with the lowest merge number and merge all its occurrences. (A later merge can never
// create an earlier pair again: merge r makes a new token 256 + r, and every earlier pair is made of
// smaller ids.) Text repeats its words, so each distinct piece is encoded once per call and then
// looked up: tiny-shakespeare's 1.1 MB has 294,763 pieces but only 15,058 distinct ones.
#include <algorithm>
#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"

namespace tt {

namespace {

// [given] A pair of adjacent token ids as one 64-bit key: the left id in the high 32 bits. Ordering
// the keys orders the pairs by first id, then second id - the tie rule of training.
using PairKey = uint64_t;
[[maybe_unused]] PairKey pair_key(int64_t left, int64_t right) {
    return static_cast<uint64_t>(left) << 32 | static_cast<uint64_t>(right);
}
[[maybe_unused]] int64_t left_of(PairKey key) { return static_cast<int64_t>(key >> 32); }
[[maybe_unused]] int64_t right_of(PairKey key) { return static_cast<int64_t>(key & 0xffffffffu); }

//! BEGIN SOLUTION
//! HINT: merge_pair(tokens, left, right, merged): one pass with a read index and a write index: where tokens[read], tokens[read + 1] is the pair, write `merged` and step read by 2, else copy one token. Then shrink the vector. Left to right, never overlapping: [a a a] with (a, a) -> [aa a].
//! HINT: encode_ordinary and encode share the per-piece work: a small class holding the merge ranks (pair -> merge number) and the cache of pieces already encoded keeps both short.

// Replaces every (left, right) in `tokens` by `merged`, left to right, never overlapping.
// [a a a] with (a, a) -> [aa a]. Returns whether anything changed.
bool merge_pair(std::vector<int64_t>& tokens, int64_t left, int64_t right, int64_t merged) {
    size_t write = 0;
    const size_t n = tokens.size();
    for (size_t read = 0; read < n;) {
        if (read + 1 < n && tokens[read] == left && tokens[read + 1] == right) {
            tokens[write++] = merged;
            read += 2;
        } else {
            tokens[write++] = tokens[read++];
        }
    }
    const bool changed = write != n;
    tokens.resize(write);
    return changed;
}

// One distinct piece of the training text, as token ids, and how often it occurs.
struct Piece {
    std::vector<int64_t> tokens;
    int64_t count;
};

// A queue entry: a pair and its count when the entry was pushed.
struct Candidate {
    int64_t count;
    PairKey pair;
    // "Less urgent than": std::priority_queue pops the largest, i.e. the highest count, and among
    // equal counts the smallest pair.
    bool operator<(const Candidate& other) const { return count != other.count ? count < other.count : pair > other.pair; }
};

// Turns text into token ids piece by piece, applying the merges by rank (see the top of the file).
// Distinct pieces are encoded once and then looked up: the cache lives as long as the encoder.
class PieceEncoder {
public:
    explicit PieceEncoder(const std::vector<std::pair<int64_t, int64_t>>& merges) : merges_(merges) {
        rank_.reserve(merges.size());
        for (size_t i = 0; i < merges.size(); ++i) rank_.emplace(pair_key(merges[i].first, merges[i].second), static_cast<int64_t>(i));
    }

    // Appends the ids of `text` (no special tokens) to `ids`.
    void append(std::string_view text, std::vector<int64_t>& ids) {
        for (std::string_view piece : split_pieces(text)) {
            auto cached = cache_.find(piece);
            if (cached == cache_.end()) cached = cache_.emplace(piece, encode_piece(piece)).first;
            ids.insert(ids.end(), cached->second.begin(), cached->second.end());
        }
    }

private:
    std::vector<int64_t> encode_piece(std::string_view piece) const {
        std::vector<int64_t> tokens(piece.size());
        for (size_t i = 0; i < piece.size(); ++i) tokens[i] = static_cast<unsigned char>(piece[i]);
        while (tokens.size() >= 2) {
            // The pair present with the lowest merge number is the merge training applied first.
            int64_t best = -1;
            for (size_t i = 0; i + 1 < tokens.size(); ++i) {
                const auto found = rank_.find(pair_key(tokens[i], tokens[i + 1]));
                if (found != rank_.end() && (best < 0 || found->second < best)) best = found->second;
            }
            if (best < 0) break;
            const auto [left, right] = merges_[static_cast<size_t>(best)];
            merge_pair(tokens, left, right, 256 + best);
        }
        return tokens;
    }

    const std::vector<std::pair<int64_t, int64_t>>& merges_;
    std::unordered_map<PairKey, int64_t> rank_;  // pair -> merge number
    std::unordered_map<std::string_view, std::vector<int64_t>> cache_;  // views into the caller's text
};
//! END SOLUTION

}  // namespace

BpeTokenizer BpeTokenizer::train(std::string_view text, int64_t vocab_size) {
    TT_CHECK(vocab_size >= 256, "BpeTokenizer::train: vocab_size ", vocab_size,
             " is smaller than the 256 byte tokens every byte-level tokenizer starts with; ask for 256 + the number of merges you want");
    BpeTokenizer tokenizer;
    //! BEGIN SOLUTION
    //! HINT: count the distinct pieces (an unordered_map<std::string_view, int64_t> over split_pieces(text)), then turn each into its byte ids (bytes as unsigned char!) with its count.
    //! HINT: count every adjacent pair once, weighted by the piece's count: the same piece 1,000 times adds 1,000 to each of its pairs. Remember for each pair which pieces contain it.
    //! HINT: the queue: std::priority_queue of (count, pair) ordered by count, ties by the SMALLER pair first. Push a new entry whenever a pair's count changes; an entry whose count is not the pair's current count is stale: pop and ignore it.
    //! HINT: each merge: the best pair (stop when there is none or its count is below 2), new id 256 + merges.size(), vocab gets vocab[left] + vocab[right]. For each piece that contains the pair (visit each piece once): subtract its pairs x count, merge_pair, add its new pairs x count (and note the piece in where[] for each).
    // 1. Each distinct piece once, with its count.
    std::unordered_map<std::string_view, int64_t> piece_counts;
    for (std::string_view piece : split_pieces(text)) ++piece_counts[piece];
    std::vector<Piece> pieces;
    pieces.reserve(piece_counts.size());
    for (const auto& [piece, count] : piece_counts) {
        std::vector<int64_t> tokens(piece.size());
        for (size_t i = 0; i < piece.size(); ++i) tokens[i] = static_cast<unsigned char>(piece[i]);
        pieces.push_back({std::move(tokens), count});
    }

    // 2. Every adjacent pair, weighted by the piece counts, counted once.
    std::unordered_map<PairKey, int64_t> pair_counts;
    std::unordered_map<PairKey, std::vector<int32_t>> where;
    for (size_t p = 0; p < pieces.size(); ++p) {
        const std::vector<int64_t>& tokens = pieces[p].tokens;
        for (size_t i = 0; i + 1 < tokens.size(); ++i) {
            const PairKey key = pair_key(tokens[i], tokens[i + 1]);
            pair_counts[key] += pieces[p].count;
            where[key].push_back(static_cast<int32_t>(p));
        }
    }
    std::priority_queue<Candidate> queue;
    for (const auto& [key, count] : pair_counts) queue.push({count, key});

    // 3. Merge the most frequent pair, update the counts of the pieces it was in, repeat.
    std::vector<int64_t> visited(pieces.size(), -1);  // visited[p]: the last merge that updated piece p
    std::vector<PairKey> touched;                     // pairs whose count this merge changed
    while (tokenizer.vocab_size() < vocab_size) {
        while (!queue.empty() && queue.top().count != pair_counts[queue.top().pair]) queue.pop();  // stale
        if (queue.empty() || queue.top().count < 2) break;  // no pair occurs twice any more
        const PairKey best = queue.top().pair;
        queue.pop();
        const int64_t left = left_of(best), right = right_of(best);
        const auto merge_number = static_cast<int64_t>(tokenizer.merges.size());
        const int64_t merged = 256 + merge_number;
        tokenizer.merges.emplace_back(left, right);
        tokenizer.vocab.push_back(tokenizer.vocab[static_cast<size_t>(left)] + tokenizer.vocab[static_cast<size_t>(right)]);

        touched.clear();
        const std::vector<int32_t> containing = std::move(where[best]);  // where[best] is done with
        where.erase(best);
        for (int32_t p : containing) {
            if (visited[static_cast<size_t>(p)] == merge_number) continue;  // listed twice
            visited[static_cast<size_t>(p)] = merge_number;
            Piece& piece = pieces[static_cast<size_t>(p)];
            std::vector<int64_t> before = piece.tokens;
            if (!merge_pair(piece.tokens, left, right, merged)) continue;  // a stale entry
            // A piece is a word: recounting its pairs costs as much as finding the neighbours of
            // each occurrence, and gets "aaaa" -> [aa aa] right without special cases.
            for (size_t i = 0; i + 1 < before.size(); ++i) {
                const PairKey key = pair_key(before[i], before[i + 1]);
                pair_counts[key] -= piece.count;
                touched.push_back(key);
            }
            for (size_t i = 0; i + 1 < piece.tokens.size(); ++i) {
                const PairKey key = pair_key(piece.tokens[i], piece.tokens[i + 1]);
                pair_counts[key] += piece.count;
                touched.push_back(key);
                if (left_of(key) == merged || right_of(key) == merged) where[key].push_back(p);  // a new pair
            }
        }
        // One queue entry per changed pair, with its count after the whole merge.
        std::sort(touched.begin(), touched.end());
        touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
        for (PairKey key : touched)
            if (pair_counts[key] >= 2) queue.push({pair_counts[key], key});
    }
    //! END SOLUTION
    return tokenizer;
}

std::vector<int64_t> BpeTokenizer::encode_ordinary(std::string_view text) const {
    std::vector<int64_t> ids;
    //! BEGIN SOLUTION
    //! HINT: for each piece of split_pieces(text): start from its bytes, then repeatedly find the adjacent pair with the LOWEST merge number (a map pair -> merge number, built once per call) and merge all its occurrences, until no pair has a merge. Not left to right by longest token, not by frequency.
    //! HINT: a piece seen before in this call can be looked up instead of encoded again (an unordered_map<std::string_view, std::vector<int64_t>>): text repeats its words.
    PieceEncoder encoder(merges);
    ids.reserve(text.size() / 2);
    encoder.append(text, ids);
    //! END SOLUTION
    return ids;
}

std::vector<int64_t> BpeTokenizer::encode(std::string_view text) const {
    std::vector<int64_t> ids;
    //! BEGIN SOLUTION
    //! HINT: without special tokens this is encode_ordinary. With them: find the next special token from the current position - the earliest occurrence of any; at the same position the longest - encode the text before it as ordinary text, append its id, continue after it.
    //! HINT: remember for each special token where it occurs next (text.find) and search again only once the position has passed it: searching every token again after each match would make many matches quadratic.
    PieceEncoder encoder(merges);
    ids.reserve(text.size() / 2);
    const size_t specials = special_tokens.size();
    std::vector<size_t> next(specials, 0);  // next[j]: where special_tokens[j] occurs next, or npos
    for (size_t j = 0; j < specials; ++j) next[j] = text.find(special_tokens[j]);
    size_t pos = 0;
    while (true) {
        size_t best = specials;  // the special token that comes next, or `specials` for none
        for (size_t j = 0; j < specials; ++j) {
            if (next[j] != std::string_view::npos && next[j] < pos) next[j] = text.find(special_tokens[j], pos);
            if (next[j] == std::string_view::npos) continue;
            if (best == specials || next[j] < next[best] ||
                (next[j] == next[best] && special_tokens[j].size() > special_tokens[best].size()))
                best = j;
        }
        if (best == specials) break;
        encoder.append(text.substr(pos, next[best] - pos), ids);
        ids.push_back(256 + static_cast<int64_t>(merges.size() + best));
        pos = next[best] + special_tokens[best].size();
    }
    encoder.append(text.substr(pos), ids);
    //! END SOLUTION
    return ids;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids) const {
    std::string text;
    //! BEGIN SOLUTION
    //! HINT: every id stands for fixed bytes: append vocab[id] (special tokens included) after checking 0 <= id < vocab_size().
    for (size_t i = 0; i < ids.size(); ++i) {
        const int64_t id = ids[i];
        TT_CHECK(id >= 0 && id < vocab_size(), "BpeTokenizer::decode: id ", id, " at position ", i,
                 " is outside the vocabulary of ", vocab_size(), " tokens (ids 0 .. ", vocab_size() - 1,
                 "); was it made by a tokenizer with more merges or special tokens?");
        text += vocab[static_cast<size_t>(id)];
    }
    //! END SOLUTION
    return text;
}

int64_t BpeTokenizer::add_special_token(const std::string& token) {
    //! BEGIN SOLUTION
    //! HINT: refuse an empty token and one already in special_tokens (tt::Error naming it); then it gets id vocab_size(): append it to special_tokens AND to vocab.
    TT_CHECK(!token.empty(), "BpeTokenizer::add_special_token: a special token cannot be empty");
    TT_CHECK(std::find(special_tokens.begin(), special_tokens.end(), token) == special_tokens.end(),
             "BpeTokenizer::add_special_token: \"", token, "\" is already a special token (id ", special_token_id(token), ")");
    const int64_t id = vocab_size();
    special_tokens.push_back(token);
    vocab.push_back(token);
    return id;
    //! END SOLUTION
}

int64_t BpeTokenizer::special_token_id(const std::string& token) const {
    //! BEGIN SOLUTION
    //! HINT: special_tokens[j] has id 256 + merges.size() + j.
    for (size_t j = 0; j < special_tokens.size(); ++j)
        if (special_tokens[j] == token) return 256 + static_cast<int64_t>(merges.size() + j);
    throw Error("BpeTokenizer::special_token_id: \"" + token + "\" is not a special token of this tokenizer (it has " +
                std::to_string(special_tokens.size()) + "); add it with add_special_token");
    //! END SOLUTION
}

int64_t BpeTokenizer::vocab_size() const {
    //! BEGIN SOLUTION
    //! HINT: 256 + merges + special tokens - which is vocab.size(), as vocab is kept in step with both.
    return static_cast<int64_t>(vocab.size());
    //! END SOLUTION
}

const std::string& BpeTokenizer::token_bytes(int64_t id) const {
    //! BEGIN SOLUTION
    //! HINT: vocab[id], after checking the range (tt::Error naming the id and vocab_size()).
    TT_CHECK(id >= 0 && id < vocab_size(), "BpeTokenizer::token_bytes: id ", id, " is outside the vocabulary of ", vocab_size(),
             " tokens (ids 0 .. ", vocab_size() - 1, ")");
    return vocab[static_cast<size_t>(id)];
    //! END SOLUTION
}

}  // namespace tt
