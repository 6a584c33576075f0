// term.h - output for people: colour only on a terminal (never with NO_COLOR), aligned tables,
// a progress line that redraws itself on a terminal and stays silent in logs.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tito {

struct Console {
    bool color = false;        // stdout is a terminal, NO_COLOR unset, TERM not "dumb"
    bool interactive = false;  // stderr is a terminal: progress lines may redraw
    int verbosity = 0;         // -1 quiet, 0 normal, 1 verbose
    bool json = false;         // --json: data on stdout, nothing else
};

// The process-wide console settings; main() fills them from flags and the environment.
Console& console();
// Detects colour/interactivity from the environment (isatty, NO_COLOR, TERM).
Console detect_console();

enum class Color { none, red, green, yellow, blue, dim, bold };
std::string paint(const std::string& text, Color color);

// Width on screen: UTF-8 code points, ANSI colour sequences not counted.
size_t display_width(const std::string& text);

// A table with a header row; columns are padded to the widest cell. `right_aligned[i]` right-
// aligns column i (numbers). The last column is never padded (it may be long free text).
struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> right_aligned;
    void print(std::ostream& out) const;
};

// "running  12/40  views: transpose ..." redrawn in place on a terminal; nothing otherwise.
class ProgressLine {
public:
    void update(const std::string& text);
    void clear();
    ~ProgressLine() { clear(); }

private:
    bool shown_ = false;
};

// Printed to stderr unless --quiet: "warning: ..." in yellow, "note: ..." plain.
void warn(const std::string& message);
void note(const std::string& message);

}  // namespace tito
