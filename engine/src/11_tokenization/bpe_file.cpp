// bpe_file.cpp - module 11: saving a trained tokenizer and loading it back.
//
//     tinytorch-bpe 1
//     merges 2
//     108 111                 merge 0: (l, o) -> 256
//     256 119                 merge 1: (lo, w) -> 257
//     special 1
//     258 3c7c656e646f6674657874007c3e          <|endoftext|> in hex
//
// A tokenizer is part of a model: a model trained on one tokenizer's ids reads garbage through
// another's, so the file must bring back exactly the same merges. Only the merges are stored: the
// bytes of every token follow from them (vocab[256 + i] = vocab[left] + vocab[right]).
//
// Why hex for special tokens: a token may hold any bytes, also '\n' or ' ', which would break a
// line-based format if written raw. Hex is two printable characters per byte and nothing else.
//
// A file is untrusted input (a half-written download, someone else's format, a hand edit), so
// load() checks every line and refuses with the file name and the line number instead of building
// a tokenizer that decodes to nonsense or indexes past its vocabulary. save() writes a temporary
// file next to the target and renames it: a crash mid-save leaves the old file, never half a file.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"

namespace tt {

namespace {

//! BEGIN SOLUTION
//! HINT: a helper that parses a whole field as a non-negative decimal number (digits only, no sign, no spaces, no leading zeros but "0", at most 18 digits) and says false otherwise - std::stoll accepts " 12", "+12" and "12abc", which a strict format must not.
//! HINT: split the file into lines at '\n' (a file that does not end in '\n' is malformed: it was cut short), walk them with a line number, and throw tt::Error(path + ":" + line number + ": " + what is wrong) for every problem the header lists.

// `field` as a non-negative decimal number, or false: only digits, no sign or spaces, no leading zero.
bool parse_number(std::string_view field, int64_t& value) {
    if (field.empty() || field.size() > 18 || (field.size() > 1 && field[0] == '0')) return false;
    value = 0;
    for (char c : field) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

// The value of a lowercase hex digit, or -1.
int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Reads a tokenizer file line by line; every error names the file and the line.
class FileReader {
public:
    FileReader(const std::string& path, std::string text) : path_(path), text_(std::move(text)) {}

    // The next line without its '\n'; a tt::Error when the file ends before it.
    std::string_view line(std::string_view expected) {
        ++number_;
        TT_CHECK(position_ < text_.size(), path_, ":", number_, ": the file ends where ", expected,
                 " should be; the file is truncated (save it again)");
        const size_t end = text_.find('\n', position_);
        TT_CHECK(end != std::string::npos, path_, ":", number_, ": the last line has no line end; the file is truncated (save it again)");
        const std::string_view result = std::string_view(text_).substr(position_, end - position_);
        position_ = end + 1;
        return result;
    }

    // "<keyword> <count>" as the count.
    int64_t count(std::string_view keyword) {
        const std::string_view text = line(keyword);
        int64_t value = 0;
        const bool ok = text.size() > keyword.size() + 1 && text.substr(0, keyword.size()) == keyword && text[keyword.size()] == ' ' &&
                        parse_number(text.substr(keyword.size() + 1), value);
        if (!ok) fail("expected \"" + std::string(keyword) + " <count>\", found \"" + printable(text) + "\"");
        return value;
    }

    // Both numbers of "<a> <b>" (`b` may be hex, read by the caller): the line split at its one space.
    std::pair<std::string_view, std::string_view> two_fields(const char* expected) {
        const std::string_view text = line(expected);
        const size_t space = text.find(' ');
        if (space == std::string_view::npos || text.find(' ', space + 1) != std::string_view::npos)
            fail(std::string("expected ") + expected + ", found \"" + printable(text) + "\"");
        return {text.substr(0, space), text.substr(space + 1)};
    }

    void expect_end() {
        if (position_ != text_.size())
            throw Error(path_ + ":" + std::to_string(number_ + 1) + ": unexpected text after the last record (" +
                        std::to_string(text_.size() - position_) + " bytes); is this file from another program?");
    }

    [[noreturn]] void fail(const std::string& what) const { throw Error(path_ + ":" + std::to_string(number_) + ": " + what); }

    // At most 40 characters of `text`, with control bytes and non-ASCII shown as '?'.
    static std::string printable(std::string_view text) {
        std::string out;
        for (char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
        if (text.size() > 40) out += "...";
        return out;
    }

private:
    const std::string& path_;
    std::string text_;
    size_t position_ = 0;
    int64_t number_ = 0;
};
//! END SOLUTION

}  // namespace

void BpeTokenizer::save(const std::string& path) const {
    //! BEGIN SOLUTION
    //! HINT: build the whole text first: "tinytorch-bpe 1\n", "merges M\n", "left right\n" per merge, "special S\n", then per special token its id, a space, and its bytes as lowercase hex ("%02x" of each byte as unsigned char) - never the raw token.
    //! HINT: write it to a temporary file in the same folder (path + ".tmp-" + the process id), check the stream, then std::filesystem::rename it over path; remove the temporary file and throw a tt::Error naming path if anything fails.
    std::string text = "tinytorch-bpe 1\nmerges " + std::to_string(merges.size()) + "\n";
    for (const auto& [left, right] : merges) text += std::to_string(left) + " " + std::to_string(right) + "\n";
    text += "special " + std::to_string(special_tokens.size()) + "\n";
    for (size_t j = 0; j < special_tokens.size(); ++j) {
        text += std::to_string(256 + merges.size() + j) + " ";
        for (unsigned char byte : special_tokens[j]) {
            char hex[3];
            std::snprintf(hex, sizeof hex, "%02x", byte);
            text += hex;
        }
        text += "\n";
    }
    const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw Error(path + ": cannot save the tokenizer: writing " + temporary +
                        " failed (does the folder exist, and may you write to it?)");
        }
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
        std::filesystem::remove(temporary, error);
        throw Error(path + ": cannot save the tokenizer: renaming the temporary file over it failed (is it a folder?)");
    }
    //! END SOLUTION
}

BpeTokenizer BpeTokenizer::load(const std::string& path) {
    BpeTokenizer tokenizer;
    //! BEGIN SOLUTION
    //! HINT: line 1 is exactly "tinytorch-bpe 1"; then "merges M" and M lines "left right" where both ids are < 256 + i on line i (a merge can only join tokens that exist); set merges AND vocab (vocab[256 + i] = vocab[left] + vocab[right]).
    //! HINT: then "special S" and S lines "id hex": the id must be vocab_size() at that moment, the hex non-empty, even-length, lowercase; the token not empty and not already registered (add_special_token checks those two).
    //! HINT: after the last record the file must end.
    std::ifstream in(path, std::ios::binary);
    TT_CHECK(in && !std::filesystem::is_directory(path), path, ": cannot read the tokenizer file (does it exist? save one with BpeTokenizer::save)");
    FileReader file(path, std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));

    const std::string_view header = file.line("the header \"tinytorch-bpe 1\"");
    if (header != "tinytorch-bpe 1")
        file.fail("expected the header \"tinytorch-bpe 1\", found \"" + FileReader::printable(header) +
                  "\"; this is not a tinytorch BPE file (or one of a newer version)");

    const int64_t merge_count = file.count("merges");
    for (int64_t i = 0; i < merge_count; ++i) {
        const auto [left_text, right_text] = file.two_fields("\"<left id> <right id>\"");
        int64_t left = 0, right = 0;
        if (!parse_number(left_text, left) || !parse_number(right_text, right))
            file.fail("expected two ids \"<left id> <right id>\" for merge " + std::to_string(i) + ", found \"" +
                      FileReader::printable(left_text) + " " + FileReader::printable(right_text) + "\"");
        if (left >= 256 + i || right >= 256 + i)
            file.fail("merge " + std::to_string(i) + " joins ids " + std::to_string(left) + " and " + std::to_string(right) +
                      ", but only ids 0 .. " + std::to_string(255 + i) + " exist before it");
        tokenizer.merges.emplace_back(left, right);
        tokenizer.vocab.push_back(tokenizer.vocab[static_cast<size_t>(left)] + tokenizer.vocab[static_cast<size_t>(right)]);
    }

    const int64_t special_count = file.count("special");
    for (int64_t j = 0; j < special_count; ++j) {
        const auto [id_text, hex] = file.two_fields("\"<id> <hex bytes>\"");
        int64_t id = 0;
        if (!parse_number(id_text, id) || id != tokenizer.vocab_size())
            file.fail("special token " + std::to_string(j) + " has id \"" + FileReader::printable(id_text) + "\", expected " +
                      std::to_string(tokenizer.vocab_size()) + " (special ids follow the merges, in order)");
        if (hex.empty()) file.fail("special token " + std::to_string(id) + " is empty");
        std::string token;
        for (size_t k = 0; k + 1 < hex.size(); k += 2) {
            const int high = hex_digit(hex[k]), low = hex_digit(hex[k + 1]);
            if (high < 0 || low < 0) break;
            token += static_cast<char>(high * 16 + low);
        }
        if (hex.size() % 2 != 0 || token.size() * 2 != hex.size())
            file.fail("special token " + std::to_string(id) + ": \"" + FileReader::printable(hex) +
                      "\" is not lowercase hex, two digits per byte");
        for (const std::string& existing : tokenizer.special_tokens)
            if (existing == token) file.fail("special token " + std::to_string(id) + " repeats an earlier special token");
        tokenizer.add_special_token(token);
    }
    file.expect_end();
    //! END SOLUTION
    return tokenizer;
}

}  // namespace tt
