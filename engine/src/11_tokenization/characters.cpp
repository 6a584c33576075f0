// characters.cpp - module 11: UTF-8 characters, and the character tokenizer.
//
// Text in a file is bytes. UTF-8 writes each character (Unicode code point) as 1 to 4 bytes:
//
//     code points           bytes                                   example
//     U+0000  .. U+007F     0xxxxxxx                                'A'  = 41
//     U+0080  .. U+07FF     110xxxxx 10xxxxxx                       'é'  = c3 a9
//     U+0800  .. U+FFFF     1110xxxx 10xxxxxx 10xxxxxx              '€'  = e2 82 ac
//     U+10000 .. U+10FFFF   11110xxx 10xxxxxx 10xxxxxx 10xxxxxx     '😀' = f0 9f 98 80
//
// The first byte says how long the character is; every following byte is a continuation byte
// 10xxxxxx. Not every byte string is valid UTF-8, and a tokenizer reads whatever it is given, so
// utf8_char_length decides what a "character" is for ANY bytes: a valid sequence is one character,
// and every byte that does not start one is a character of its own. Invalid sequences:
//     a stray continuation byte            80 .. bf on its own
//     a truncated sequence                 e2 82 at the end of the text, or e2 82 41
//     an overlong encoding                 c0 af = '/' written in 2 bytes (a classic way to sneak
//                                          "../" past a filter); c0, c1, e0 80..9f, f0 80..8f
//     a surrogate                          ed a0..bf .. = U+D800..U+DFFF (UTF-16's halves)
//     above U+10FFFF                       f4 90.., and f5 .. ff never start anything
//
// CharTokenizer gives every distinct character of a text its own id, sorted by bytes. It is what
// nanoGPT's char-level Shakespeare uses: 65 tokens, one per character, so the model must learn to
// spell every word letter by letter.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"

namespace tt {

namespace {

// [given] A character as a reader can see it: printable ASCII as itself in quotes, anything else as
// its bytes in hex: 'a', "\n" -> 0x0a, "é" -> 0xc3 0xa9 (so an error message never prints raw
// control bytes or half a character into a terminal).
[[maybe_unused]] std::string describe_character(std::string_view character) {
    std::string out;
    if (character.size() == 1 && character[0] >= 0x20 && character[0] < 0x7f) {
        out.push_back('\'');
        out.push_back(character[0]);
        out.push_back('\'');
        return out;
    }
    for (unsigned char byte : character) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "%s0x%02x", out.empty() ? "" : " ", byte);
        out += hex;
    }
    return out;
}

}  // namespace

size_t utf8_char_length(std::string_view text, size_t pos) {
    TT_CHECK(pos < text.size(), "utf8_char_length: position ", pos, " is past the end of a text of ", text.size(), " bytes");
    //! BEGIN SOLUTION
    //! HINT: read the bytes as unsigned char: a plain char is signed on x86, so 0xc3 would compare as -61.
    //! HINT: the first byte decides the length: < 0x80 -> 1; c2..df -> 2; e0..ef -> 3; f0..f4 -> 4; anything else (80..bf, c0, c1, f5..ff) -> 1.
    //! HINT: a multi-byte character needs that many bytes left in the text, and each following byte in 80..bf - else return 1.
    //! HINT: the SECOND byte has a narrower range after four first bytes: e0 -> a0..bf (no overlong), ed -> 80..9f (no surrogates), f0 -> 90..bf (no overlong), f4 -> 80..8f (nothing above U+10FFFF).
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
    const unsigned char first = byte(0);
    size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
    if (first < 0x80) return 1;
    if (first >= 0xc2 && first <= 0xdf) {
        length = 2;
    } else if (first >= 0xe0 && first <= 0xef) {
        length = 3;
        if (first == 0xe0) low = 0xa0;   // e0 80..9f would be an overlong 2-byte character
        if (first == 0xed) high = 0x9f;  // ed a0..bf would be a surrogate U+D800..U+DFFF
    } else if (first >= 0xf0 && first <= 0xf4) {
        length = 4;
        if (first == 0xf0) low = 0x90;   // f0 80..8f would be an overlong 3-byte character
        if (first == 0xf4) high = 0x8f;  // f4 90.. would be above U+10FFFF
    } else {
        return 1;  // a continuation byte, or c0 c1 f5..ff that never start a valid character
    }
    if (text.size() - pos < length) return 1;  // truncated by the end of the text
    if (byte(1) < low || byte(1) > high) return 1;
    for (size_t i = 2; i < length; ++i)
        if (byte(i) < 0x80 || byte(i) > 0xbf) return 1;
    return length;
    //! END SOLUTION
}

CharTokenizer CharTokenizer::fit(std::string_view text) {
    CharTokenizer tokenizer;
    //! BEGIN SOLUTION
    //! HINT: walk the text character by character with utf8_char_length (never byte by byte: 'é' is one character of 2 bytes).
    //! HINT: collect the distinct characters, then sort them: std::string compares bytes as unsigned values, which is the order the header asks for. Do not number them in the order they first appear.
    std::vector<std::string> found;
    std::array<bool, 256> single_byte{};  // the 1-byte characters already found: most text is ASCII
    for (size_t pos = 0; pos < text.size();) {
        const size_t length = utf8_char_length(text, pos);
        const std::string_view character = text.substr(pos, length);
        if (length == 1) {
            const auto byte = static_cast<unsigned char>(character[0]);
            if (!single_byte[byte]) found.emplace_back(character);
            single_byte[byte] = true;
        } else {
            found.emplace_back(character);  // duplicates removed below
        }
        pos += length;
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    tokenizer.characters = std::move(found);
    //! END SOLUTION
    return tokenizer;
}

std::vector<int64_t> CharTokenizer::encode(std::string_view text) const {
    std::vector<int64_t> ids;
    //! BEGIN SOLUTION
    //! HINT: build a look-up from character to id once per call (an std::unordered_map<std::string_view, int64_t> over `characters`), then cut the text with utf8_char_length and look each character up.
    //! HINT: a character that is not in the vocabulary is a tt::Error: name it (describe_character(c) prints it safely), its byte offset and vocab_size().
    std::unordered_map<std::string_view, int64_t> id_of;
    id_of.reserve(characters.size());
    for (size_t id = 0; id < characters.size(); ++id) id_of.emplace(characters[id], static_cast<int64_t>(id));
    ids.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const size_t length = utf8_char_length(text, pos);
        const std::string_view character = text.substr(pos, length);
        const auto found = id_of.find(character);
        TT_CHECK(found != id_of.end(), "CharTokenizer::encode: character ", describe_character(character), " at byte ", pos,
                 " is not in the vocabulary of ", vocab_size(),
                 " characters; fit the tokenizer on text that contains every character you will encode");
        ids.push_back(found->second);
        pos += length;
    }
    //! END SOLUTION
    return ids;
}

std::string CharTokenizer::decode(const std::vector<int64_t>& ids) const {
    std::string text;
    //! BEGIN SOLUTION
    //! HINT: append characters[id] for each id; check 0 <= id < vocab_size() first (tt::Error naming the id, its position and the vocabulary size).
    for (size_t i = 0; i < ids.size(); ++i) {
        const int64_t id = ids[i];
        TT_CHECK(id >= 0 && id < vocab_size(), "CharTokenizer::decode: id ", id, " at position ", i,
                 " is outside the vocabulary of ", vocab_size(), " characters (ids 0 .. ", vocab_size() - 1, ")");
        text += characters[static_cast<size_t>(id)];
    }
    //! END SOLUTION
    return text;
}

}  // namespace tt
