// Tests of cli/text.cpp: any bytes become safe text once, and no build-machine path survives.
#include <catch2/catch.hpp>
#include <string>

#include "text.h"

using tito::clean_line;
using tito::clean_text;
using tito::course_paths;
using tito::is_clean_text;

namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values) s += static_cast<char>(v);
    return s;
}

}  // namespace

TEST_CASE("text: valid UTF-8 and printable text pass unchanged") {
    const std::string text = "tensor (2, 3) [[1, 2, 3]]\n\tgrüße, 数据, 🙂\n";
    CHECK(clean_text(text) == text);
    CHECK(is_clean_text(text));
}

TEST_CASE("text: invalid UTF-8 becomes U+FFFD, one per bad byte") {
    CHECK(clean_text("a\xff" "b") == "a" + kReplacement + "b");
    CHECK(clean_text(bytes({0xC3})) == kReplacement);                         // cut sequence
    CHECK(clean_text(bytes({0xC0, 0xAF})) == kReplacement + kReplacement);    // overlong '/'
    CHECK(clean_text(bytes({0xE0, 0x80, 0xAF})) == kReplacement + kReplacement + kReplacement);
    CHECK(clean_text(bytes({0xED, 0xA0, 0x80})) == kReplacement + kReplacement + kReplacement);  // a surrogate
    CHECK(clean_text(bytes({0xF4, 0x90, 0x80, 0x80})).find(kReplacement) == 0);                // above U+10FFFF
    CHECK(is_clean_text(clean_text(bytes({0xff, 0xfe, 0xfd, 0x80, 0xbf}))));
    CHECK_FALSE(is_clean_text("\xff"));
}

TEST_CASE("text: control characters are shown, not obeyed") {
    CHECK(clean_text(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(clean_text("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
    CHECK(clean_text("bell\x07") == "bell\\x07");
    CHECK(clean_text("del\x7f") == "del\\x7f");
    CHECK(clean_text("line\r\nnext") == "line\nnext");
    CHECK(clean_text("50%\r60%") == "50%\\r60%");
    CHECK(clean_text("\xC2\x9B" "2J") == "\\u009b2J");  // C1 CSI
    CHECK(clean_text("\xEF\xBF\xBE") == kReplacement);   // U+FFFE is no XML character
    CHECK(clean_text("a\tb\n") == "a\tb\n");
    CHECK_FALSE(is_clean_text(std::string("\0", 1)));
    CHECK_FALSE(is_clean_text("\x1b"));
}

TEST_CASE("text: a megabyte on one line is cut with a note, and so is too much text") {
    const std::string line(1 << 20, 'y');
    const std::string cleaned = clean_text("start\n" + line + "\nend\n");
    CHECK(cleaned.size() < 3000);
    CHECK_THAT(cleaned, Catch::StartsWith("start\nyyyy") && Catch::Contains("[... line cut: ") &&
                            Catch::Contains(" more bytes]\nend\n"));
    std::string many;
    for (int i = 0; i < 100000; ++i) many += "line " + std::to_string(i) + "\n";
    const std::string cut = clean_text(many);
    CHECK(cut.size() < tito::kMaxTextBytes + 100);
    CHECK_THAT(cut, Catch::EndsWith("more bytes not shown]\n"));
    // A cut never splits a character.
    std::string wide;
    for (int i = 0; i < 5000; ++i) wide += "é";
    CHECK(is_clean_text(clean_text(wide)));
}

TEST_CASE("text: clean_line is one line, cut at a character boundary") {
    CHECK(clean_line("two\nlines\tand a tab") == "two lines and a tab");
    std::string wide;
    for (int i = 0; i < 100; ++i) wide += "é";
    const std::string cut = clean_line(wide, 51);
    CHECK(cut.size() <= 51);
    CHECK_THAT(cut, Catch::EndsWith("..."));
    CHECK(is_clean_text(cut));
    CHECK(clean_line(std::string(1 << 20, 'x'), 100).size() == 100);
}

TEST_CASE("text: xml_char_allowed follows XML 1.0") {
    CHECK(tito::xml_char_allowed('\t'));
    CHECK(tito::xml_char_allowed('\n'));
    CHECK_FALSE(tito::xml_char_allowed(0));
    CHECK_FALSE(tito::xml_char_allowed(0x1b));
    CHECK_FALSE(tito::xml_char_allowed(0xFFFE));
    CHECK_FALSE(tito::xml_char_allowed(0xD800));
    CHECK(tito::xml_char_allowed(0x1F642));
}

TEST_CASE("text: course_paths hides the graders and shortens the course's other paths") {
    // Where some other machine built tito: made up, like every path below.
    const std::string build = "/build-host/tinytorch";
    // Hidden graders: the path, line and column go; the rest of the line stays.
    CHECK(course_paths(build + "/graders/02_tensor/test_views.cpp:42:7: FAILED:") == "(hidden grader code): FAILED:");
    CHECK(course_paths("    #3 0x55d4 in run_test " + build + "/graders/02_tensor/test_views.cpp:42") ==
          "    #3 0x55d4 in run_test (hidden grader code)");
    CHECK(course_paths("at ../../graders/common/grading.h:88") == "at (hidden grader code)");
    CHECK(course_paths("/b/build/graders/../../graders/06_autograd/test_backward.cpp:9") == "(hidden grader code)");
    // Visible tests: where the student has them, in their module folder.
    CHECK(course_paths(build + "/modules/02_tensor/tests/test_tensor_visible.cpp:12: here") ==
          "02_tensor/tests/test_tensor_visible.cpp:12: here");
    // The engine: relative to the course (headers as students include them).
    CHECK(course_paths("failed at " + build + "/engine/src/core/storage.cpp:12: x") == "failed at engine/src/core/storage.cpp:12: x");
    CHECK(course_paths("(" + build + "/engine/include/tinytorch/tensor.h:120)") == "(tinytorch/tensor.h:120)");
    // The student's own files and anything else stay as they are.
    const std::string workspace = "/students/ana/graders/ws";  // a workspace inside a folder named graders
    CHECK(course_paths(workspace + "/02_tensor/tensor.cpp:3", workspace) == workspace + "/02_tensor/tensor.cpp:3");
    CHECK(course_paths("02_tensor/tensor.cpp:42:5: error: x") == "02_tensor/tensor.cpp:42:5: error: x");
    CHECK(course_paths("the graders/ folder and modules/ are words here") == "the graders/ folder and modules/ are words here");
    CHECK(tito::is_hidden_grader_path("/x/graders/01_setup/test_setup.cpp"));
    CHECK_FALSE(tito::is_hidden_grader_path("/x/modules/01_setup/tests/test_setup_visible.cpp"));
}
