// text.cpp - see text.h.
#include "text.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace tito {

namespace {

const char* const kReplacement = "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

std::string hex_escape(const char* format, uint32_t value) {
    char buf[16];
    std::snprintf(buf, sizeof buf, format, static_cast<unsigned int>(value));
    return buf;
}

// How a character is shown, or empty to copy its bytes as they are.
std::string shown_as(uint32_t cp) {
    if (cp == '\t') return "";
    if (cp < 0x20 || cp == 0x7F) {
        if (cp == '\r') return "\\r";
        return hex_escape("\\x%02x", cp);
    }
    if (cp >= 0x80 && cp <= 0x9F) return hex_escape("\\u%04x", cp);  // C1 controls (CSI 0x9B ...)
    if (cp == 0xFFFE || cp == 0xFFFF) return kReplacement;          // not XML characters
    return "";
}

bool is_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// "02_tensor"
bool is_module_dir(std::string_view s) {
    return s.size() > 3 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == '_';
}

std::vector<std::string_view> split_components(std::string_view path) {
    std::vector<std::string_view> parts;
    size_t begin = 0;
    while (begin <= path.size()) {
        size_t end = path.find('/', begin);
        if (end == std::string_view::npos) end = path.size();
        parts.push_back(path.substr(begin, end - begin));
        begin = end + 1;
    }
    return parts;
}

std::string join_from(const std::vector<std::string_view>& parts, size_t first) {
    std::string out;
    for (size_t i = first; i < parts.size(); ++i) {
        if (i > first) out += '/';
        out += parts[i];
    }
    return out;
}

bool is_path_separator(char c) {
    switch (c) {
        case ' ': case '\t': case '\n': case '\r': case '"': case '\'': case '(': case ')': case '<': case '>':
        case ',': case '`': case '[': case ']': case '{': case '}': case '=': case ';':
            return true;
        default:
            return false;
    }
}

enum class PathKind { other, hidden, visible_test, engine_include, engine_source };

// What kind of course path `path` is, and from which component the shown part starts.
PathKind classify(std::string_view path, size_t& shown_from) {
    const auto parts = split_components(path);
    for (size_t i = parts.size(); i-- > 0;) {
        const std::string_view part = parts[i];
        if (i + 2 < parts.size() && part == "graders" &&
            (is_module_dir(parts[i + 1]) || parts[i + 1] == "common" || parts[i + 1] == "runner" || parts[i + 1] == "milestones"))
            return PathKind::hidden;
        if (i + 3 < parts.size() && part == "modules" && is_module_dir(parts[i + 1]) && parts[i + 2] == "tests") {
            shown_from = i + 1;
            return PathKind::visible_test;
        }
        if (i + 2 < parts.size() && part == "engine" && parts[i + 1] == "include") {
            shown_from = i + 2;
            return PathKind::engine_include;
        }
        if (i + 2 < parts.size() && part == "engine" && parts[i + 1] == "src") {
            shown_from = i;
            return PathKind::engine_source;
        }
    }
    return PathKind::other;
}

// One token that may be a path with a ":line[:column]" suffix and more after it.
std::string rewrite_token(std::string_view token, std::string_view workspace_root) {
    if (!workspace_root.empty() && token.size() > workspace_root.size() && token.substr(0, workspace_root.size()) == workspace_root &&
        token[workspace_root.size()] == '/')
        return std::string(token);
    const size_t last_slash = token.rfind('/');
    if (last_slash == std::string_view::npos) return std::string(token);
    const size_t colon = token.find(':', last_slash);
    std::string_view path = token.substr(0, colon);
    std::string_view rest = colon == std::string_view::npos ? std::string_view() : token.substr(colon);
    size_t shown_from = 0;
    const PathKind kind = classify(path, shown_from);
    switch (kind) {
        case PathKind::other:
            return std::string(token);
        case PathKind::hidden: {
            // Drop ":line" and ":line:column" with the path: which line of a hidden test failed
            // tells nothing the student can use.
            for (int numbers = 0; numbers < 2 && rest.size() > 1 && rest[0] == ':'; ++numbers) {
                size_t end = 1;
                while (end < rest.size() && rest[end] >= '0' && rest[end] <= '9') ++end;
                if (!is_digits(rest.substr(1, end - 1))) break;
                rest = rest.substr(end);
            }
            return "(hidden grader code)" + std::string(rest);
        }
        default:
            return join_from(split_components(path), shown_from) + std::string(rest);
    }
}

}  // namespace

size_t decode_utf8(std::string_view text, size_t i, uint32_t& code_point) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
        code_point = b0;
        return 1;
    }
    size_t length;
    unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        length = 2;
        code_point = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3;
        code_point = b0 & 0x0F;
        if (b0 == 0xE0) low = 0xA0;   // overlong
        if (b0 == 0xED) high = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4;
        code_point = b0 & 0x07;
        if (b0 == 0xF0) low = 0x90;   // overlong
        if (b0 == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    if (byte(i + 1) < low || byte(i + 1) > high) return 0;
    for (size_t k = 1; k < length; ++k) {
        if (!is_continuation(byte(i + k))) return 0;
        code_point = (code_point << 6) | (byte(i + k) & 0x3F);
    }
    return length;
}

bool xml_char_allowed(uint32_t cp) {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

std::string clean_text(std::string_view text, size_t max_line, size_t max_total) {
    std::string out;
    out.reserve(std::min(text.size(), max_total) + 64);
    size_t line_bytes = 0;
    size_t i = 0;
    while (i < text.size()) {
        if (out.size() >= max_total) {
            if (!out.empty() && out.back() != '\n') out += '\n';
            out += "[... " + std::to_string(text.size() - i) + " more bytes not shown]\n";
            break;
        }
        uint32_t cp = 0;
        size_t n = decode_utf8(text, i, cp);
        std::string_view piece;
        std::string shown;
        if (n == 0) {
            piece = kReplacement;
            n = 1;
        } else if (cp == '\n') {
            out += '\n';
            line_bytes = 0;
            ++i;
            continue;
        } else if (cp == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            ++i;  // "\r\n" -> "\n"
            continue;
        } else if (!(shown = shown_as(cp)).empty()) {
            piece = shown;
        } else {
            piece = text.substr(i, n);
        }
        if (line_bytes + piece.size() > max_line) {
            size_t end = text.find('\n', i);
            if (end == std::string_view::npos) end = text.size();
            out += " [... line cut: " + std::to_string(end - i) + " more bytes]";
            i = end;
            continue;
        }
        out += piece;
        line_bytes += piece.size();
        i += n;
    }
    return out;
}

std::string clean_line(std::string_view text, size_t max_bytes) {
    // Only the start matters; cleaning a megabyte to keep a hundred bytes would be wasted work.
    const size_t window = 4 * max_bytes + 16;
    const bool cut_input = text.size() > window;
    std::string line = clean_text(text.substr(0, std::min(text.size(), window)), SIZE_MAX, SIZE_MAX);
    for (char& c : line)
        if (c == '\n' || c == '\t') c = ' ';
    if (line.size() <= max_bytes && !cut_input) return line;
    size_t cut = std::min(line.size(), max_bytes > 3 ? max_bytes - 3 : 0);
    while (cut > 0 && cut < line.size() && is_continuation(static_cast<unsigned char>(line[cut]))) --cut;
    return line.substr(0, cut) + "...";
}

bool is_clean_text(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        uint32_t cp = 0;
        size_t n = decode_utf8(text, i, cp);
        if (n == 0) return false;
        if (cp != '\n' && cp != '\t' && (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || !xml_char_allowed(cp)))
            return false;
        i += n;
    }
    return true;
}

bool is_hidden_grader_path(std::string_view path) {
    size_t shown_from = 0;
    return classify(path, shown_from) == PathKind::hidden;
}

std::string course_paths(std::string_view text, std::string_view workspace_root) {
    if (text.find("graders/") == std::string_view::npos && text.find("modules/") == std::string_view::npos &&
        text.find("engine/") == std::string_view::npos)
        return std::string(text);
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (is_path_separator(text[i])) {
            out += text[i++];
            continue;
        }
        size_t end = i;
        while (end < text.size() && !is_path_separator(text[end])) ++end;
        std::string_view token = text.substr(i, end - i);
        if (token.find('/') == std::string_view::npos) {
            out += token;
        } else {
            out += rewrite_token(token, workspace_root);
        }
        i = end;
    }
    return out;
}

}  // namespace tito
