// pieces.cpp - module 11: cutting text into the pieces BPE works inside.
//
//     "Hi  there!\n\nYou 2" -> "Hi" | " " | " there" | "!" | "\n\n" | "You" | " 2"
//
// Why cut at all? Without pieces, BPE happily learns tokens like "e t" or ".\n\nThe": frequent,
// but each spends a vocabulary slot on an accident of which words happen to meet. With pieces,
// merges stay inside a word (with its leading space), a number or a run of punctuation, so the
// vocabulary fills with reusable parts: " the", "ing", " King". GPT-2 does the same with a regular
// expression; this is a simpler version of its rule that needs no regex library:
//
//     a piece = an optional ONE space + the longest run of one kind of byte:
//         letters   A-Z a-z and every byte >= 0x80 (UTF-8 text in any script stays together)
//         digits    0-9
//         others    any other byte that is not whitespace (punctuation, control characters)
//     whitespace (space \t \n \r \v \f) forms its own pieces: a run is one piece, except that a
//     space at its end that is followed by a non-whitespace byte starts the next piece instead
//     ("  there" -> " " | " there": the word keeps the space it usually has).
//
// Why the space goes with the NEXT word: " the" then means the same thing everywhere in a
// sentence, and the model predicts "a word follows" and "which word" as one token.
//
// Cost: one pass over the text, a few comparisons per byte, no copies (the pieces are views into
// the text). The counting that follows is what takes time.
#include <string_view>
#include <vector>

#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"

namespace tt {

namespace {

// [given] The kinds of byte the piece rule distinguishes.
enum class ByteKind { letter, digit, other, whitespace };

// [given] Which kind `c` is (see the top of the file).
[[maybe_unused]] ByteKind kind_of(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || byte >= 0x80) return ByteKind::letter;
    if (byte >= '0' && byte <= '9') return ByteKind::digit;
    if (byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' || byte == '\v' || byte == '\f') return ByteKind::whitespace;
    return ByteKind::other;
}

}  // namespace

std::vector<std::string_view> split_pieces(std::string_view text) {
    std::vector<std::string_view> pieces;
    //! BEGIN SOLUTION
    //! HINT: walk with an index `start`; each step finds where the piece starting there ends (`end`), emits text.substr(start, end - start) and continues from end.
    //! HINT: a space followed by a non-whitespace byte: the piece is the space plus the run of that byte's kind (" there", " 2", " !!").
    //! HINT: any other whitespace: the run of whitespace bytes; if it ends in a space and text goes on after it, stop one byte earlier (that space starts the next piece) - unless the run is that one space.
    //! HINT: a non-whitespace byte: the run of its kind.
    const size_t n = text.size();
    size_t start = 0;
    while (start < n) {
        size_t end = start;
        const ByteKind first = kind_of(text[start]);
        if (first != ByteKind::whitespace || (text[start] == ' ' && start + 1 < n && kind_of(text[start + 1]) != ByteKind::whitespace)) {
            // A word, number or run of punctuation, with at most one leading space.
            if (text[end] == ' ') ++end;
            const ByteKind kind = kind_of(text[end]);
            while (end < n && kind_of(text[end]) == kind) ++end;
        } else {
            // A run of whitespace; a space at its end goes to the word after it.
            while (end < n && kind_of(text[end]) == ByteKind::whitespace) ++end;
            if (end < n && text[end - 1] == ' ' && end - 1 > start) --end;
        }
        pieces.push_back(text.substr(start, end - start));
        start = end;
    }
    //! END SOLUTION
    return pieces;
}

}  // namespace tt
