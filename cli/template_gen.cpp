// template_gen.cpp - see template_gen.h.
#include "template_gen.h"

#include <cctype>
#include <sstream>
#include <vector>

namespace tito {

namespace {

const std::string kBegin = "//! BEGIN SOLUTION";
const std::string kEnd = "//! END SOLUTION";
const std::string kHint = "//! HINT:";

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Tracks brace nesting through C++ text, skipping comments and string/char literals, and remembers
// the text before each `{` (its "header": `Tensor relu(const Tensor& x)`, `namespace tt`, `for (...)`).
class BraceTracker {
public:
    void feed_line(const std::string& line) {
        for (size_t i = 0; i < line.size(); ++i) {
            char c = line[i];
            char next = i + 1 < line.size() ? line[i + 1] : '\0';
            if (in_block_comment_) {
                if (c == '*' && next == '/') {
                    in_block_comment_ = false;
                    ++i;
                }
                continue;
            }
            if (in_string_ != '\0') {
                if (c == '\\') {
                    ++i;
                } else if (c == in_string_) {
                    in_string_ = '\0';
                }
                continue;
            }
            if (c == '/' && next == '/') break;  // rest of the line is a comment
            if (c == '/' && next == '*') {
                in_block_comment_ = true;
                ++i;
                continue;
            }
            if (c == '"' || c == '\'') {
                // A digit separator (1'000'000) is not a character literal.
                bool digit_separator = c == '\'' && i > 0 && std::isxdigit(static_cast<unsigned char>(line[i - 1])) &&
                                       std::isxdigit(static_cast<unsigned char>(next));
                if (!digit_separator) in_string_ = c;
                header_ += c;
                continue;
            }
            if (c == '{') {
                stack_.push_back(trim(header_));
                header_.clear();
            } else if (c == '}') {
                if (!stack_.empty()) stack_.pop_back();
                header_.clear();
            } else if (c == ';') {
                header_.clear();
            } else {
                header_ += c;
            }
        }
        header_ += ' ';
    }

    // The outermost enclosing block that looks like a function body, or "" at namespace/class scope.
    std::string enclosing_function() const {
        for (const std::string& header : stack_) {
            size_t paren = header.find('(');
            if (paren == std::string::npos) continue;
            if (starts_with(header, "namespace") || starts_with(header, "struct") || starts_with(header, "class") ||
                starts_with(header, "extern"))
                continue;
            // `template <class F> Tensor unary_op` -> unary_op;  `Tensor Tensor::view` -> Tensor::view
            std::string before = trim(header.substr(0, paren));
            size_t space = before.find_last_of(" \t*&>");
            std::string name = space == std::string::npos ? before : before.substr(space + 1);
            // `operator()` and `operator+`: keep the whole operator name.
            size_t op = before.rfind("operator");
            if (op != std::string::npos) name = before.substr(before.find_last_of(" \t", op) + 1);
            return name.empty() ? "this function" : name;
        }
        return "";
    }

private:
    std::vector<std::string> stack_;
    std::string header_;
    bool in_block_comment_ = false;
    char in_string_ = '\0';
};

}  // namespace

std::string make_template(const std::string& reference_source, const std::string& source_name) {
    std::istringstream in(reference_source);
    std::ostringstream out;
    BraceTracker braces;
    std::string line;
    int line_number = 0;
    bool in_solution = false;
    int begin_line = 0;
    std::string indent, block_name;
    std::vector<std::string> hints;

    auto fail = [&](int at, const std::string& what) {
        throw TemplateError(source_name + ":" + std::to_string(at) + ": " + what);
    };

    while (std::getline(in, line)) {
        ++line_number;
        const std::string stripped = trim(line);
        if (starts_with(stripped, kBegin)) {
            if (in_solution) fail(line_number, "BEGIN SOLUTION inside the solution block opened at line " + std::to_string(begin_line));
            in_solution = true;
            begin_line = line_number;
            indent = line.substr(0, line.find_first_not_of(" \t"));
            block_name = trim(stripped.substr(kBegin.size()));
            if (block_name.empty()) block_name = braces.enclosing_function();
            hints.clear();
            continue;
        }
        if (starts_with(stripped, kEnd)) {
            if (!in_solution) fail(line_number, "END SOLUTION without a BEGIN SOLUTION");
            in_solution = false;
            const bool in_function = !braces.enclosing_function().empty();
            out << indent << "// TODO: " << (in_function ? "implement " + block_name : block_name.empty() ? "write the helpers you need here" : block_name)
                << (in_function ? "." : "") << '\n';
            for (const std::string& hint : hints) out << indent << "// HINT:" << hint << '\n';
            if (in_function) out << indent << "throw tt::NotImplemented(\"" << block_name << "\");\n";
            continue;
        }
        if (in_solution) {
            if (starts_with(stripped, kHint)) hints.push_back(stripped.substr(kHint.size()));
            braces.feed_line(line);  // the reference's braces balance inside the block
            continue;
        }
        braces.feed_line(line);
        // Hints outside a block stay, as ordinary comments.
        size_t hint = line.find(kHint);
        if (hint != std::string::npos) line.replace(hint, 3, "//");
        out << line << '\n';
    }
    if (in_solution) fail(begin_line, "BEGIN SOLUTION is never closed with END SOLUTION");
    return out.str();
}

int count_solution_blocks(const std::string& reference_source) {
    std::istringstream in(reference_source);
    std::string line;
    int blocks = 0;
    while (std::getline(in, line))
        if (starts_with(trim(line), kBegin)) ++blocks;
    return blocks;
}

}  // namespace tito
