// text.h - text from outside tito, made safe once, where it enters.
//
// What a student's program prints, the exception messages and assertion expansions a grader
// reports, and what the compiler says about a student's file can hold any bytes: invalid UTF-8,
// NUL, terminal escape sequences, a megabyte on one line. tito passes all of it through
// clean_text() the moment it arrives (grading.cpp), so that every place it ends up - the
// terminal table, .tito/results/*.json, JSON, JUnit XML and Gradescope exports - gets text that
//   - is valid UTF-8: each byte that is not part of a valid sequence becomes U+FFFD;
//   - shows control characters instead of obeying them: ESC -> "\x1b", NUL -> "\x00" (tab and
//     newline stay; "\r\n" becomes "\n"); C1 controls -> "\u0085"; U+FFFE/U+FFFF -> U+FFFD,
//     so every character is one XML 1.0 allows;
//   - has no line longer than max_line bytes, nor more than max_total bytes in all; what is
//     cut is replaced by a note saying how much.
// Writers therefore never see bytes they cannot encode; the JUnit writer still checks each
// character against XML 1.0 (xml_char_allowed) as a last line of defence.
//
// course_paths() removes what failure details would otherwise tell about the machine tito was
// built on: source paths of the hidden graders and of the reference engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tito {

inline constexpr size_t kMaxLineBytes = 2000;
inline constexpr size_t kMaxTextBytes = 64 * 1024;

// See above. The result is always valid UTF-8 with only XML 1.0 characters.
std::string clean_text(std::string_view text, size_t max_line = kMaxLineBytes, size_t max_total = kMaxTextBytes);

// clean_text for a one-line field (a reason, a message): newlines and tabs become spaces, and it
// is cut (at a character boundary) to max_bytes with "...".
std::string clean_line(std::string_view text, size_t max_bytes = kMaxLineBytes);

// Valid UTF-8 with only printable characters, tab, newline: what clean_text returns.
bool is_clean_text(std::string_view text);

// True for code points XML 1.0 allows: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
bool xml_char_allowed(uint32_t code_point);

// Decodes one UTF-8 character at text[i]; returns its length (1-4) and sets `code_point`, or 0
// when the bytes there are not a valid sequence (overlong forms and surrogates are invalid).
size_t decode_utf8(std::string_view text, size_t i, uint32_t& code_point);

// Rewrites source paths of the course's own code in `text` (failure details, sanitizer reports,
// exception messages), wherever the course was built:
//   .../graders/02_tensor/test_views.cpp:42:7      -> "(hidden grader code)"   (hidden tests)
//   .../graders/common/grading.h:88                -> "(hidden grader code)"
//   .../modules/02_tensor/tests/test_visible.cpp:9 -> "02_tensor/tests/test_visible.cpp:9"
//   .../engine/include/tinytorch/tensor.h:120      -> "tinytorch/tensor.h:120"
//   .../engine/src/core/storage.cpp:12             -> "engine/src/core/storage.cpp:12"
// Paths inside `workspace_root` (the student's own files) are left alone.
std::string course_paths(std::string_view text, std::string_view workspace_root = "");

// True when `path` is a file of the hidden graders (graders/NN_name/..., graders/common/...).
bool is_hidden_grader_path(std::string_view path);

}  // namespace tito
