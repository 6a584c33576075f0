// history.cpp - the [given] History of training.h: what fit() measured, as JSON for scripts and as
// an SVG plot for people.
//
// Both are written by hand, without a library: JSON and SVG are text formats with a few rules, and
// the rules that matter are the ones that make the file valid everywhere:
//   - JSON has no NaN: a number that is not finite (no validation: val_loss is NaN) becomes null;
//   - numbers are written in the "C" locale's form (1.5, never 1,5), shortest round-trip digits;
//   - SVG is XML: a title with '&' or '<' in it is escaped, every element is closed;
//   - a file is written atomically (a temporary file beside it, then rename), so a plot opened while
//     a run rewrites it is the old one or the new one, never half of each.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "tinytorch/errors.h"
#include "tinytorch/training.h"

namespace tt {

namespace {

// Shortest text that reads back as the same double ("0.1", "1e-05"); null for NaN and infinities.
std::string json_number(double value) {
    if (!std::isfinite(value)) return "null";
    std::array<char, 64> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return std::string(buffer.data(), result.ptr);
}

// Writes `text` to `path` atomically: a temporary file in the same folder (rename is atomic only
// within one file system), flushed to the disk with fsync, then renamed over the old file.
void write_atomically(const std::string& path, const std::string& text) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string temporary;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
        std::string name = ".";
        name += target.filename().string();
        name += ".tmp-";
        name += std::to_string(::getpid());
        name += '-';
        name += std::to_string(attempt);
        temporary = (folder / name).string();
        fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    TT_CHECK(fd >= 0, path, ": cannot write (creating a temporary file in ", folder.string(), " failed: ", std::strerror(errno), ")");
    size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int error = errno;
            ::close(fd);
            ::unlink(temporary.c_str());
            throw Error(path + ": cannot write: " + std::strerror(error));
        }
        written += static_cast<size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    const int sync_error = errno;
    ::close(fd);
    if (!synced || ::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = synced ? errno : sync_error;
        ::unlink(temporary.c_str());
        throw Error(path + ": cannot write: " + std::strerror(error));
    }
}

std::string xml_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // Control characters other than tab and newline are not allowed in XML 1.0 at all.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') out += ' ';
                else out += c;
        }
    }
    return out;
}

// A coordinate with two decimals, in the "C" locale.
std::string fixed(double value) {
    std::array<char, 64> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed, 2);
    return std::string(buffer.data(), result.ptr);
}

// A tick label: at most 4 significant digits, no trailing zeros ("0.25", "1e-05", "120").
std::string label(double value) {
    if (std::fabs(value) < 1e-12) value = 0.0;  // -0 and rounding dust from tick arithmetic
    std::array<char, 64> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::general, 4);
    return std::string(buffer.data(), result.ptr);
}

// A "nice" step for about `target` ticks over `range`: 1, 2 or 5 times a power of ten.
double nice_step(double range, int target) {
    const double raw = range / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / magnitude;
    return (fraction <= 1.0 ? 1.0 : fraction <= 2.0 ? 2.0 : fraction <= 5.0 ? 5.0 : 10.0) * magnitude;
}

struct Series {
    std::string name, colour;
    std::vector<double> values;  // one per epoch; NaN: not measured
    bool dashed = false;
};

// One plot: a frame at (left, top) of size (width, height), epochs on x, `series` on y.
struct Panel {
    double left, top, width, height;
    std::string y_title;
    bool percent;  // values in [0, 1] shown as 0% .. 100%
    std::vector<Series> series;
};

void draw_panel(std::ostringstream& svg, const Panel& panel, const std::vector<double>& epochs, int64_t best_epoch) {
    const double right = panel.left + panel.width, bottom = panel.top + panel.height;
    svg << "  <g>\n";
    svg << "    <rect x=\"" << fixed(panel.left) << "\" y=\"" << fixed(panel.top) << "\" width=\"" << fixed(panel.width)
        << "\" height=\"" << fixed(panel.height) << "\" fill=\"#ffffff\" stroke=\"#444444\"/>\n";

    // The y range: every finite value, widened to whole tick steps.
    double low = std::numeric_limits<double>::infinity(), high = -low;
    for (const Series& s : panel.series)
        for (double v : s.values)
            if (std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
    const bool any = std::isfinite(low);
    if (!any) {
        svg << "    <text x=\"" << fixed(panel.left + panel.width / 2) << "\" y=\"" << fixed(panel.top + panel.height / 2)
            << "\" text-anchor=\"middle\" fill=\"#777777\">no " << xml_escape(panel.y_title) << " measured</text>\n  </g>\n";
        return;
    }
    if (high - low < 1e-12) {  // a flat line: give it some room
        const double pad = std::max(std::fabs(low) * 0.1, 1e-3);
        low -= pad;
        high += pad;
    }
    const double y_step = nice_step(high - low, 5);
    low = std::floor(low / y_step) * y_step;
    high = std::ceil(high / y_step) * y_step;
    if (panel.percent) low = std::max(low, 0.0), high = std::min(high, 1.0);

    // The x range: epoch 1 .. last, or 0.5 .. 1.5 around a single epoch.
    const double first = epochs.empty() ? 1.0 : epochs.front(), last = epochs.empty() ? 1.0 : epochs.back();
    const double x_low = last > first ? first : first - 0.5, x_high = last > first ? last : first + 0.5;
    auto x_of = [&](double epoch) { return panel.left + (epoch - x_low) / (x_high - x_low) * panel.width; };
    auto y_of = [&](double v) { return bottom - (v - low) / (high - low) * panel.height; };

    // Grid lines and tick labels.
    for (double v = low; v <= high + y_step * 1e-6; v += y_step) {
        const double y = y_of(v);
        svg << "    <line x1=\"" << fixed(panel.left) << "\" y1=\"" << fixed(y) << "\" x2=\"" << fixed(right) << "\" y2=\""
            << fixed(y) << "\" stroke=\"#e4e4e4\"/>\n";
        svg << "    <text x=\"" << fixed(panel.left - 6) << "\" y=\"" << fixed(y + 4) << "\" text-anchor=\"end\">"
            << (panel.percent ? label(v * 100.0) + "%" : label(v)) << "</text>\n";
    }
    const double x_step = std::max(1.0, nice_step(std::max(x_high - x_low, 1.0), 8));
    for (double e = std::ceil(x_low / x_step) * x_step; e <= x_high + 1e-9; e += x_step) {
        if (e < 1.0) continue;
        const double x = x_of(e);
        svg << "    <line x1=\"" << fixed(x) << "\" y1=\"" << fixed(bottom) << "\" x2=\"" << fixed(x) << "\" y2=\""
            << fixed(bottom + 5) << "\" stroke=\"#444444\"/>\n";
        svg << "    <text x=\"" << fixed(x) << "\" y=\"" << fixed(bottom + 18) << "\" text-anchor=\"middle\">" << label(e)
            << "</text>\n";
    }
    svg << "    <text x=\"" << fixed(panel.left + panel.width / 2) << "\" y=\"" << fixed(bottom + 36)
        << "\" text-anchor=\"middle\">epoch</text>\n";
    svg << "    <text transform=\"translate(" << fixed(panel.left - 48) << " " << fixed(panel.top + panel.height / 2)
        << ") rotate(-90)\" text-anchor=\"middle\">" << xml_escape(panel.y_title) << "</text>\n";

    // The best epoch: a dashed vertical line.
    if (best_epoch >= 1 && static_cast<double>(best_epoch) >= x_low && static_cast<double>(best_epoch) <= x_high) {
        const double x = x_of(static_cast<double>(best_epoch));
        svg << "    <line class=\"best-epoch\" x1=\"" << fixed(x) << "\" y1=\"" << fixed(panel.top) << "\" x2=\"" << fixed(x)
            << "\" y2=\"" << fixed(bottom) << "\" stroke=\"#2ca02c\" stroke-dasharray=\"5 4\"/>\n";
        svg << "    <text x=\"" << fixed(x + 4) << "\" y=\"" << fixed(panel.top + 14) << "\" fill=\"#2ca02c\">best: epoch "
            << best_epoch << "</text>\n";
    }

    // The curves: a polyline per run of measured points (a NaN breaks the line), a dot per point.
    for (const Series& s : panel.series) {
        std::string points;
        auto flush = [&] {
            if (!points.empty())
                svg << "    <polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"2\""
                    << (s.dashed ? " stroke-dasharray=\"6 3\"" : "") << " points=\"" << points << "\"/>\n";
            points.clear();
        };
        for (size_t i = 0; i < s.values.size() && i < epochs.size(); ++i) {
            if (!std::isfinite(s.values[i])) {
                flush();
                continue;
            }
            const double x = x_of(epochs[i]), y = y_of(std::clamp(s.values[i], low, high));
            if (!points.empty()) points += ' ';
            points += fixed(x);
            points += ',';
            points += fixed(y);
            svg << "    <circle cx=\"" << fixed(x) << "\" cy=\"" << fixed(y) << "\" r=\"2.5\" fill=\"" << s.colour << "\"/>\n";
        }
        flush();
    }

    // The legend, top right inside the frame.
    double y = panel.top + 16;
    for (const Series& s : panel.series) {
        const bool measured = std::any_of(s.values.begin(), s.values.end(), [](double v) { return std::isfinite(v); });
        if (!measured) continue;
        svg << "    <line x1=\"" << fixed(right - 110) << "\" y1=\"" << fixed(y - 4) << "\" x2=\"" << fixed(right - 88) << "\" y2=\""
            << fixed(y - 4) << "\" stroke=\"" << s.colour << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"6 3\"" : "")
            << "/>\n";
        svg << "    <text x=\"" << fixed(right - 82) << "\" y=\"" << fixed(y) << "\">" << xml_escape(s.name) << "</text>\n";
        y += 16;
    }
    svg << "  </g>\n";
}

}  // namespace

std::string History::to_json() const {
    std::ostringstream out;
    out << "{\"best_epoch\": " << best_epoch << ", \"stopped_early\": " << (stopped_early ? "true" : "false")
        << ", \"epochs\": [";
    for (size_t i = 0; i < epochs.size(); ++i) {
        const EpochRecord& e = epochs[i];
        out << (i ? ",\n  " : "\n  ") << "{\"epoch\": " << e.epoch << ", \"train_loss\": " << json_number(e.train_loss)
            << ", \"train_accuracy\": " << json_number(e.train_accuracy) << ", \"val_loss\": " << json_number(e.val_loss)
            << ", \"val_accuracy\": " << json_number(e.val_accuracy) << ", \"learning_rate\": " << json_number(e.learning_rate)
            << ", \"seconds\": " << json_number(e.seconds) << ", \"examples_per_second\": " << json_number(e.examples_per_second)
            << ", \"peak_memory_bytes\": " << e.peak_memory_bytes << "}";
    }
    out << (epochs.empty() ? "]}\n" : "\n]}\n");
    return out.str();
}

std::string History::to_svg(const std::string& title) const {
    const double width = 960, top = title.empty() ? 30 : 56, panel_height = 300;
    const double height = top + panel_height + 60;
    std::vector<double> epoch_numbers;
    Series train_loss{"train", "#1f77b4", {}}, val_loss{"validation", "#ff7f0e", {}, true};
    Series train_accuracy{"train", "#1f77b4", {}}, val_accuracy{"validation", "#ff7f0e", {}, true};
    for (const EpochRecord& e : epochs) {
        epoch_numbers.push_back(static_cast<double>(e.epoch));
        train_loss.values.push_back(e.train_loss);
        val_loss.values.push_back(e.val_loss);
        train_accuracy.values.push_back(e.train_accuracy);
        val_accuracy.values.push_back(e.val_accuracy);
    }

    std::ostringstream svg;
    svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label(width) << "\" height=\"" << label(height)
        << "\" viewBox=\"0 0 " << label(width) << " " << label(height)
        << "\" font-family=\"sans-serif\" font-size=\"12\" fill=\"#222222\">\n";
    svg << "  <title>" << xml_escape(title.empty() ? "training history" : title) << "</title>\n";
    svg << "  <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    if (!title.empty())
        svg << "  <text x=\"" << fixed(width / 2) << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" << xml_escape(title)
            << "</text>\n";
    if (epochs.empty()) {
        svg << "  <text x=\"" << fixed(width / 2) << "\" y=\"" << fixed(top + panel_height / 2)
            << "\" text-anchor=\"middle\" fill=\"#777777\">no epochs recorded</text>\n</svg>\n";
        return svg.str();
    }
    draw_panel(svg, Panel{80, top, 360, panel_height, "loss", false, {train_loss, val_loss}}, epoch_numbers, best_epoch);
    draw_panel(svg, Panel{560, top, 360, panel_height, "accuracy", true, {train_accuracy, val_accuracy}}, epoch_numbers,
               best_epoch);
    svg << "</svg>\n";
    return svg.str();
}

void History::save(const std::string& json_path, const std::string& svg_path, const std::string& title) const {
    if (!json_path.empty()) write_atomically(json_path, to_json());
    if (!svg_path.empty()) write_atomically(svg_path, to_svg(title));
}

}  // namespace tt
