// Engine tests of the [given] parts of module 10 (engine/src/core/history.cpp, memory.cpp):
// History as JSON and as SVG (well-formed XML, checked by a small parser below), atomic saves, and
// peak_memory_bytes.
#include <catch2/catch.hpp>

#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_training_helpers.h"
#include "tinytorch/training.h"

using namespace tt::testing;
using Catch::Matchers::Contains;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

tt::History three_epochs(bool validation = true) {
    tt::History h;
    for (int64_t e = 1; e <= 3; ++e) {
        tt::EpochRecord r;
        r.epoch = e;
        r.train_loss = 1.0 / static_cast<double>(e);
        r.train_accuracy = 0.5 + 0.1 * static_cast<double>(e);
        r.val_loss = validation ? std::vector<double>{0.9, 0.7, 0.8}[static_cast<size_t>(e - 1)] : kNaN;
        r.val_accuracy = validation ? 0.6 + 0.05 * static_cast<double>(e) : kNaN;
        r.learning_rate = 0.1 / static_cast<double>(e);
        r.seconds = 2.5;
        r.examples_per_second = 1000.0 * static_cast<double>(e);
        r.peak_memory_bytes = 1000000 * e;
        h.epochs.push_back(r);
    }
    h.best_epoch = validation ? 2 : 0;
    h.stopped_early = validation;
    return h;
}

// A small XML well-formedness checker: one root element, every tag closed in order, attributes
// quoted and unique, text and attribute values free of raw '<' and of '&' outside the five
// predefined entities and character references, no control characters. Returns "" when well
// formed, else what is wrong. Also counts the elements by name.
struct XmlCheck {
    std::string problem;
    std::map<std::string, int> elements;
    std::string root;
};

XmlCheck check_xml(const std::string& text) {
    XmlCheck result;
    size_t i = 0;
    std::vector<std::string> open;
    bool root_closed = false;
    auto fail = [&](const std::string& what) {
        if (result.problem.empty()) result.problem = what + " at byte " + std::to_string(i);
    };
    auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.'; };
    auto check_chars = [&](const std::string& s) {
        for (size_t k = 0; k < s.size(); ++k) {
            const unsigned char c = static_cast<unsigned char>(s[k]);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return fail("control character");
            if (c == '<') return fail("raw '<' in text");
            if (c == '&') {
                const size_t end = s.find(';', k);
                if (end == std::string::npos) return fail("'&' without ';'");
                const std::string entity = s.substr(k + 1, end - k - 1);
                const bool known = entity == "amp" || entity == "lt" || entity == "gt" || entity == "quot" || entity == "apos" ||
                                   (entity.size() > 1 && entity[0] == '#');
                if (!known) return fail("unknown entity &" + entity + ";");
            }
        }
    };
    if (text.rfind("<?xml", 0) == 0) {
        i = text.find("?>");
        if (i == std::string::npos) return fail("unterminated XML declaration"), result;
        i += 2;
    }
    while (i < text.size() && result.problem.empty()) {
        const size_t lt = text.find('<', i);
        const std::string between = text.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
        check_chars(between);
        if (open.empty() && between.find_first_not_of(" \t\r\n") != std::string::npos) fail("text outside the root element");
        if (lt == std::string::npos) break;
        i = lt + 1;
        if (text.compare(i, 3, "!--") == 0) {
            const size_t end = text.find("-->", i);
            if (end == std::string::npos) return fail("unterminated comment"), result;
            i = end + 3;
            continue;
        }
        const bool closing = i < text.size() && text[i] == '/';
        if (closing) ++i;
        size_t start = i;
        while (i < text.size() && name_char(text[i])) ++i;
        const std::string name = text.substr(start, i - start);
        if (name.empty()) return fail("empty tag name"), result;
        if (closing) {
            while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
            if (i >= text.size() || text[i] != '>') return fail("bad closing tag"), result;
            ++i;
            if (open.empty() || open.back() != name) return fail("</" + name + "> does not close the open element"), result;
            open.pop_back();
            if (open.empty()) root_closed = true;
            continue;
        }
        if (root_closed || (open.empty() && !result.root.empty())) return fail("a second root element"), result;
        if (open.empty()) result.root = name;
        ++result.elements[name];
        std::vector<std::string> attributes;
        while (true) {
            while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
            if (i >= text.size()) return fail("unterminated tag <" + name), result;
            if (text[i] == '>') {
                ++i;
                open.push_back(name);
                break;
            }
            if (text.compare(i, 2, "/>") == 0) {
                i += 2;
                if (open.empty()) root_closed = true;
                break;
            }
            start = i;
            while (i < text.size() && name_char(text[i])) ++i;
            const std::string attribute = text.substr(start, i - start);
            if (attribute.empty()) return fail("bad attribute in <" + name), result;
            for (const std::string& a : attributes)
                if (a == attribute) return fail("attribute " + attribute + " twice in <" + name), result;
            attributes.push_back(attribute);
            if (i >= text.size() || text[i] != '=') return fail("attribute without '='"), result;
            ++i;
            if (i >= text.size() || (text[i] != '"' && text[i] != '\'')) return fail("unquoted attribute value"), result;
            const char quote = text[i++];
            const size_t end = text.find(quote, i);
            if (end == std::string::npos) return fail("unterminated attribute value"), result;
            check_chars(text.substr(i, end - i));
            i = end + 1;
        }
    }
    if (result.problem.empty() && !open.empty()) result.problem = "<" + open.back() + "> is never closed";
    if (result.problem.empty() && result.root.empty()) result.problem = "no root element";
    return result;
}

}  // namespace

TEST_CASE("the XML checker itself rejects what is not well formed", "[training][history]") {
    CHECK(check_xml("<a><b x=\"1\"/>t &amp; u</a>").problem.empty());
    CHECK_FALSE(check_xml("<a><b></a>").problem.empty());
    CHECK_FALSE(check_xml("<a x=1/>").problem.empty());
    CHECK_FALSE(check_xml("<a>x & y</a>").problem.empty());
    CHECK_FALSE(check_xml("<a></a><b/>").problem.empty());
    CHECK_FALSE(check_xml("<a x=\"1\" x=\"2\"/>").problem.empty());
    CHECK_FALSE(check_xml("<a>1 < 2</a>").problem.empty());
}

TEST_CASE("History::to_json: every field, NaN as null", "[training][history]") {
    const nlohmann::json j = nlohmann::json::parse(three_epochs().to_json());
    CHECK(j.at("best_epoch") == 2);
    CHECK(j.at("stopped_early") == true);
    REQUIRE(j.at("epochs").size() == 3);
    const nlohmann::json& e = j.at("epochs").at(1);
    CHECK(e.at("epoch") == 2);
    CHECK(e.at("train_loss").get<double>() == 0.5);
    CHECK(e.at("train_accuracy").get<double>() == 0.5 + 0.1 * 2);  // shortest round-trip digits: exact
    CHECK(e.at("val_loss").get<double>() == 0.7);
    CHECK(e.at("learning_rate").get<double>() == 0.05);
    CHECK(e.at("seconds").get<double>() == 2.5);
    CHECK(e.at("examples_per_second").get<double>() == 2000.0);
    CHECK(e.at("peak_memory_bytes") == 2000000);

    const nlohmann::json no_validation = nlohmann::json::parse(three_epochs(false).to_json());
    CHECK(no_validation.at("best_epoch") == 0);
    CHECK(no_validation.at("epochs").at(0).at("val_loss").is_null());
    CHECK(no_validation.at("epochs").at(0).at("val_accuracy").is_null());

    tt::History infinite = three_epochs();
    infinite.epochs[0].train_loss = std::numeric_limits<double>::infinity();
    CHECK(nlohmann::json::parse(infinite.to_json()).at("epochs").at(0).at("train_loss").is_null());
    CHECK(nlohmann::json::parse(tt::History{}.to_json()).at("epochs").empty());
}

TEST_CASE("History::to_svg: a well-formed, self-contained plot with two panels, a legend and the best epoch", "[training][history]") {
    const std::string svg = three_epochs().to_svg("LeNet <MNIST> & friends");
    const XmlCheck xml = check_xml(svg);
    INFO(svg.substr(0, 2000));
    REQUIRE(xml.problem == "");
    CHECK(xml.root == "svg");
    CHECK_THAT(svg, Contains("xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK_THAT(svg, Contains("LeNet &lt;MNIST&gt; &amp; friends"));
    // Self-contained: no scripts, no links to other files.
    CHECK(svg.find("<script") == std::string::npos);
    CHECK(svg.find("href") == std::string::npos);
    CHECK(svg.find("url(") == std::string::npos);
    // Two panels (loss, accuracy), each a train and a validation curve; axes titles; legend.
    CHECK(xml.elements.at("polyline") == 4);
    CHECK(xml.elements.at("circle") == 12);  // a dot per epoch per curve
    CHECK_THAT(svg, Contains(">loss<") && Contains(">accuracy<") && Contains(">epoch<"));
    CHECK_THAT(svg, Contains(">train<") && Contains(">validation<"));
    CHECK_THAT(svg, Contains("%<"));  // accuracy ticks in percent
    CHECK_THAT(svg, Contains("best-epoch") && Contains("best: epoch 2"));
    CHECK(xml.elements.at("text") >= 20);  // ticks, titles, legend
}

TEST_CASE("History::to_svg: no validation, one epoch, no epochs, NaN losses - always well formed", "[training][history]") {
    const tt::History no_validation = three_epochs(false);
    const std::string svg = no_validation.to_svg();
    REQUIRE(check_xml(svg).problem == "");
    CHECK(check_xml(svg).elements.at("polyline") == 2);
    CHECK(svg.find("best-epoch") == std::string::npos);
    CHECK(svg.find(">validation<") == std::string::npos);

    tt::History one = three_epochs();
    one.epochs.resize(1);
    one.best_epoch = 1;
    REQUIRE(check_xml(one.to_svg("one")).problem == "");

    CHECK(check_xml(tt::History{}.to_svg()).problem == "");
    CHECK_THAT(tt::History{}.to_svg(), Contains("no epochs"));

    tt::History broken = three_epochs();
    broken.epochs[1].train_loss = kNaN;  // a diverged epoch: the curve breaks, the file stays valid
    broken.epochs[2].train_loss = std::numeric_limits<double>::infinity();
    for (auto& e : broken.epochs) e.train_accuracy = e.val_accuracy = kNaN;  // a regression model
    const XmlCheck xml = check_xml(broken.to_svg());
    REQUIRE(xml.problem == "");
    CHECK_THAT(broken.to_svg(), Contains("no accuracy measured"));

    tt::History flat = three_epochs();
    for (auto& e : flat.epochs) e.train_loss = e.val_loss = 0.25;  // a constant curve needs a y range too
    CHECK(check_xml(flat.to_svg()).problem == "");
    CHECK(flat.to_svg().find("nan") == std::string::npos);
    CHECK(flat.to_svg().find("inf") == std::string::npos);
}

TEST_CASE("History::save writes both files atomically, skips empty paths and names a bad path", "[training][history]") {
    ScratchDir dir;
    const tt::History h = three_epochs();
    h.save(dir.file("h.json"), dir.file("h.svg"), "title");
    CHECK(file_text(dir.file("h.json")) == h.to_json());
    CHECK(file_text(dir.file("h.svg")) == h.to_svg("title"));
    CHECK(dir.names() == std::vector<std::string>{"h.json", "h.svg"});
    h.save("", dir.file("only.svg"));
    CHECK(dir.names() == std::vector<std::string>{"h.json", "h.svg", "only.svg"});
    CHECK_THAT(error_message([&] { h.save(dir.file("no/such/folder.json"), ""); }), Contains("no/such/folder.json"));
}

namespace {
// A field of /proc/self/status in bytes ("VmRSS", "VmHWM"), read here independently.
int64_t status_bytes(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
    return -1;
}
}  // namespace

TEST_CASE("peak_memory_bytes: the high-water mark of resident memory (VmHWM), at least the current size", "[training][history]") {
    REQUIRE(status_bytes("VmHWM") > 0);
    CHECK(tt::peak_memory_bytes() > 1000000);  // any process holds more than a megabyte
    std::vector<char> big(200u << 20, 1);      // 200 MB, written so that every page is resident
    const int64_t resident = status_bytes("VmRSS");
    const int64_t peak = tt::peak_memory_bytes();
    CHECK(resident > (200 << 20));
    // A peak is never below the current size. (The kernel batches each thread's page counts, so two
    // reads of /proc a moment apart may disagree by a few hundred KiB: allow 4 MiB.)
    CHECK(peak >= resident - (4 << 20));
    CHECK(std::llabs(peak - status_bytes("VmHWM")) < (8 << 20));
    big.clear();
    big.shrink_to_fit();
    CHECK(tt::peak_memory_bytes() >= resident - (4 << 20));  // and it never shrinks
}
