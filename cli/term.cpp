// term.cpp - see term.h.
#include "term.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace tito {

Console& console() {
    static Console instance;
    return instance;
}

Console detect_console() {
    Console c;
    const char* term = std::getenv("TERM");
    const bool no_color = std::getenv("NO_COLOR") != nullptr && std::getenv("NO_COLOR")[0] != '\0';
    const bool dumb = term == nullptr || std::strcmp(term, "dumb") == 0;
    c.color = ::isatty(STDOUT_FILENO) && !no_color && !dumb;
    c.interactive = ::isatty(STDERR_FILENO) && !dumb;
    return c;
}

std::string paint(const std::string& text, Color color) {
    if (!console().color || color == Color::none) return text;
    const char* code = "";
    switch (color) {
        case Color::red: code = "31"; break;
        case Color::green: code = "32"; break;
        case Color::yellow: code = "33"; break;
        case Color::blue: code = "34"; break;
        case Color::dim: code = "2"; break;
        case Color::bold: code = "1"; break;
        case Color::none: break;
    }
    return std::string("\033[") + code + "m" + text + "\033[0m";
}

size_t display_width(const std::string& text) {
    size_t width = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == 0x1b) {  // skip "\033[...m"
            while (i < text.size() && text[i] != 'm') ++i;
            continue;
        }
        if ((c & 0xC0) != 0x80) ++width;  // count lead bytes only
    }
    return width;
}

void Table::print(std::ostream& out) const {
    const size_t columns = header.size();
    std::vector<size_t> widths(columns, 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < columns && i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
    };
    measure(header);
    for (const auto& row : rows) measure(row);

    auto print_row = [&](const std::vector<std::string>& row, bool is_header) {
        std::string line;
        for (size_t i = 0; i < columns; ++i) {
            std::string cell = i < row.size() ? row[i] : "";
            const bool last = i + 1 == columns;
            const size_t pad = widths[i] - display_width(cell);
            const bool right = i < right_aligned.size() && right_aligned[i];
            if (is_header) cell = paint(cell, Color::bold);
            if (right) {
                line += std::string(pad, ' ') + cell;
            } else {
                line += cell;
                if (!last) line += std::string(pad, ' ');
            }
            if (!last) line += "  ";
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out << line << '\n';
    };
    print_row(header, true);
    for (const auto& row : rows) print_row(row, false);
}

void ProgressLine::update(const std::string& text) {
    if (!console().interactive || console().verbosity < 0 || console().json) return;
    // One line, never wrapped: a wrapped line could not be redrawn in place.
    winsize size{};
    const size_t columns = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
    std::string line;
    size_t width = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x20) continue;
        if ((c & 0xC0) != 0x80 && ++width >= columns) break;
        line += text[i];
    }
    std::cerr << "\r\033[K" << line << std::flush;
    shown_ = true;
}

void ProgressLine::clear() {
    if (!shown_) return;
    std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
}

void warn(const std::string& message) {
    if (console().verbosity < 0) return;
    std::cerr << paint("warning: ", Color::yellow) << message << '\n';
}

void note(const std::string& message) {
    if (console().verbosity < 0) return;
    std::cerr << message << '\n';
}

}  // namespace tito
