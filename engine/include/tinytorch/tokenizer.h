// tokenizer.h - module 11: from text to the integers a model reads, and back.
//
//     tt::CharTokenizer chars = tt::CharTokenizer::fit(text);     // one token per distinct character
//     std::vector<int64_t> ids = chars.encode("To be");           // e.g. [32, 53, 1, 40, 43]
//     chars.decode(ids) == "To be";
//
//     tt::BpeTokenizer bpe = tt::BpeTokenizer::train(text, 512); // 256 bytes + 256 learned merges
//     bpe.encode("To be, or not to be")                           // fewer, longer tokens
//
// A language model predicts the next token, so the tokenizer decides what "next" means. Characters
// give a tiny vocabulary (65 for tiny-shakespeare) but long sequences: a context of 64 tokens sees
// about 12 words. Byte-pair encoding (BPE, Sennrich et al. 2016; GPT-2's byte-level variant) starts
// from the 256 byte values - so ANY input, in any language or none, can be encoded, with no
// "unknown" token - and repeatedly merges the most frequent adjacent pair into a new token. With
// 512 tokens, the same context sees about twice as much text.
//
// Pieces. Before training or encoding, text is cut into pieces and merges never cross a piece
// boundary (so " the" can become one token, but "e t" never does). A piece is the longest run of
// one of these kinds, each optionally preceded by ONE space (0x20) that belongs to the piece:
//     letters      A-Z, a-z and every byte >= 0x80 (so UTF-8 text in any script stays together)
//     digits       0-9
//     others       any other byte except whitespace (punctuation, control characters)
// and whitespace (space, \t, \n, \r, \v, \f) forms its own pieces: a run of whitespace is one piece,
// except that when it ends in a space (0x20) followed by a letter, digit or other byte, that last
// space starts the next piece instead.
//     "Hi  there!\n\nYou 2" -> "Hi" | " " | " there" | "!" | "\n\n" | "You" | " 2"
// Concatenating the pieces gives the text back exactly: pieces lose nothing.
//
// Training (the algorithm the lesson explains). Count each distinct piece once (a word used 1,000
// times is one entry with count 1,000), as a sequence of token ids (its bytes to start with). Count
// every adjacent pair of tokens, weighted by the piece counts, ONCE. Then repeat until the
// vocabulary is full: take the most frequent pair (ties: the smallest pair (first id, then second
// id)), give it the next id, replace its occurrences - left to right, not overlapping: "aaa" with
// (a, a) becomes [aa, a] - in the pieces that contain it, and update the pair counts of only those
// pieces: subtract the pairs around each occurrence and add the new ones. Rescanning the whole text
// for every merge would cost O(merges x text); the incremental update costs what actually changes.
// A pair must occur at least twice to be merged; training stops early when none does.
//
// Encoding applies the merges in the order they were learned (lowest merge number first) to each
// piece - the same tokens training would have produced. A piece seen before can be looked up
// instead of encoded again.
//
// Special tokens ("<|endoftext|>") are strings with ids of their own after the merges. encode()
// cuts them out of the text first (the earliest occurrence wins; at one position, the longest token)
// and encodes the text between them; encode_ordinary() treats them as plain text.
//
// decode(encode(s)) == s for every byte string s - including empty input and invalid UTF-8 -
// because every token stands for a fixed byte string and encoding loses nothing.
//
// Who writes what: everything here is module 11 (engine/src/11_tokenization/), except what is
// marked [given].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tt {

// (11) The length of the UTF-8 character that starts at text[pos]: 2, 3 or 4 for a valid
// multi-byte sequence, else 1 (ASCII, and every invalid byte: a stray continuation byte, a
// truncated or overlong sequence, a surrogate U+D800..U+DFFF, or a value above U+10FFFF). Cutting
// text with it never loses or reorders a byte. pos < text.size() is required.
size_t utf8_char_length(std::string_view text, size_t pos);

// One token per distinct character (a UTF-8 character; an invalid byte is a character of its own,
// by utf8_char_length). Ids follow the byte order of the characters: for ASCII text, the sorted
// character order nanoGPT uses ('\n' = 0, ' ' = 1, ... for tiny-shakespeare).
class CharTokenizer {
public:
    CharTokenizer() = default;
    // The tokenizer whose vocabulary is every distinct character of `text`, sorted by their bytes.
    static CharTokenizer fit(std::string_view text);
    // Text -> ids. tt::Error naming the character (shown escaped if unprintable), its byte offset
    // and the vocabulary size for a character the tokenizer has never seen.
    std::vector<int64_t> encode(std::string_view text) const;
    // Ids -> text. tt::Error naming the id and the vocabulary size for an id out of range.
    std::string decode(const std::vector<int64_t>& ids) const;
    int64_t vocab_size() const { return static_cast<int64_t>(characters.size()); }

    std::vector<std::string> characters;  // characters[id]: the bytes of that character, sorted
};

// Byte-level BPE. Ids 0..255 are the bytes; merge i makes id 256 + i; special tokens come after
// the merges.
class BpeTokenizer {
public:
    BpeTokenizer() = default;  // the 256 byte tokens, no merges, no special tokens

    // Learns merges from `text` until the vocabulary has vocab_size tokens (256 bytes + merges;
    // special tokens are added afterwards and not counted). vocab_size must be >= 256 (tt::Error
    // otherwise). Returns fewer merges when no pair occurs twice any more.
    static BpeTokenizer train(std::string_view text, int64_t vocab_size);

    // Text -> ids, with special tokens recognised.
    std::vector<int64_t> encode(std::string_view text) const;
    // Text -> ids, special token strings encoded as ordinary text.
    std::vector<int64_t> encode_ordinary(std::string_view text) const;
    // Ids -> bytes. tt::Error naming the id and the vocabulary size for an id out of range.
    std::string decode(const std::vector<int64_t>& ids) const;

    // Adds a special token and returns its id (the next free one). tt::Error for an empty string or
    // one already registered.
    int64_t add_special_token(const std::string& token);
    // The id of a registered special token; tt::Error naming it when there is none.
    int64_t special_token_id(const std::string& token) const;

    // 256 + merges + special tokens.
    int64_t vocab_size() const;
    // The bytes token `id` stands for (a special token: its string). tt::Error when out of range.
    const std::string& token_bytes(int64_t id) const;

    // The file format (text, one record per line, '\n' line ends):
    //     tinytorch-bpe 1
    //     merges <M>
    //     <left id> <right id>            M lines; line i is merge i and makes id 256 + i
    //     special <S>
    //     <id> <the token's bytes as lowercase hex, two digits per byte>      S lines, ids in order
    // Ids in a merge must already exist (< 256 + i). Written atomically (temporary file, rename).
    // load() refuses, with tt::Error naming the file and the line: a missing file, another header,
    // a bad count, a malformed line, an id out of range, a special token that is empty, repeated,
    // or whose id is not the next one, and text after the last record.
    void save(const std::string& path) const;
    static BpeTokenizer load(const std::string& path);

    std::vector<std::pair<int64_t, int64_t>> merges;  // merges[i]: the pair that became 256 + i
    // vocab[id]: the bytes of each token, 256 + merges + specials entries. Kept in step with
    // merges and special_tokens by train(), add_special_token() and load().
    std::vector<std::string> vocab = byte_vocabulary();
    std::vector<std::string> special_tokens;  // special_tokens[j] has id 256 + merges.size() + j

    // [given] The 256 single-byte strings, vocab's starting point.
    static std::vector<std::string> byte_vocabulary();
};

// (11) Cuts text into pieces as described at the top of this file. The views point into `text`.
std::vector<std::string_view> split_pieces(std::string_view text);

}  // namespace tt
