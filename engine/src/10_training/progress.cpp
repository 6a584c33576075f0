// progress.cpp - module 10: a progress bar that is useful on a terminal and harmless in a log.
//
//     epoch 2/10  [########............]  412/938  1,930 img/s  ETA 0:27  loss 0.3121
//
// On a terminal the line is redrawn in place: '\r' moves the cursor back to the start of the line
// and "\x1b[K" erases what the previous, possibly longer, line left behind. In a log file (CI, a
// cluster job, `tito milestone` capturing the output) there is no cursor to move: every redraw
// would become a line of its own, 938 lines per epoch and 100,000 per run. So without a terminal
// the bar prints one plain line each time the work crosses another 10%, and the log stays short.
//
// The ETA is the remaining steps at the average pace so far: elapsed / done * (total - done). The
// average over all steps, not the pace of the first step, which also paid for warming the caches
// and allocating buffers, and not the last step alone, which jitters.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <utility>

#include "tinytorch/training.h"

namespace tt {

namespace {

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

//! BEGIN SOLUTION
//! HINT: two helpers make update() short: "1,930" (a rate rounded to a whole number, a comma every three digits) and the bar "[########............]" for done of total in a fixed width (20 characters is plenty).
// 1930.4 -> "1,930"
std::string with_commas(double value) {
    const std::string digits = std::to_string(std::llround(std::clamp(value, 0.0, 1e15)));
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string bar(int64_t done, int64_t total, int64_t width = 20) {
    const int64_t filled = total > 0 ? std::clamp<int64_t>(done * width / total, 0, width) : width;
    std::string out(static_cast<size_t>(width + 2), '.');
    out.front() = '[';
    out.back() = ']';
    for (int64_t i = 1; i <= filled; ++i) out[static_cast<size_t>(i)] = '#';
    return out;
}
//! END SOLUTION

}  // namespace

ProgressBar::ProgressBar(int64_t total, std::string label, std::ostream& out, bool interactive)
    : total_(total), label_(std::move(label)), out_(out), interactive_(interactive), start_(now_seconds()) {}

std::string ProgressBar::eta(double elapsed, int64_t done, int64_t total) {
    //! BEGIN SOLUTION
    //! HINT: "?" when nothing is done yet (done <= 0) or elapsed is not a finite number >= 0: there is no pace to go by.
    //! HINT: remaining = elapsed / done * (total - done) seconds (0 when done >= total), rounded to whole seconds; then "M:SS" under an hour and "H:MM:SS" from one hour on (std::snprintf with %d:%02d).
    if (done <= 0 || !std::isfinite(elapsed) || elapsed < 0) return "?";
    const double remaining = done >= total ? 0.0 : elapsed / static_cast<double>(done) * static_cast<double>(total - done);
    if (!std::isfinite(remaining) || remaining > 3.6e8) return "?";  // more than ten years: not an estimate
    const long long seconds = std::llround(remaining);
    char text[32];
    if (seconds < 3600)
        std::snprintf(text, sizeof text, "%lld:%02lld", seconds / 60, seconds % 60);
    else
        std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", seconds / 3600, seconds / 60 % 60, seconds % 60);
    return text;
    //! END SOLUTION
}

void ProgressBar::update(int64_t done, int64_t examples, const std::string& status) {
    //! BEGIN SOLUTION
    //! HINT: elapsed = now - start_ (the clock the constructor read: now_seconds()); the line is label_, the bar, "done/total", the rate "1,930 img/s" (examples / elapsed), "ETA " + eta(elapsed, done, total_), and the status when there is one, separated by two spaces.
    //! HINT: interactive_: out_ << '\r' << line << "\x1b[K" and flush - no newline, the next update draws over it.
    //! HINT: otherwise only when done crosses into a new tenth of total (done * 10 / total > last_decile_) and done < total (finish() prints the last line): the line and '\n'. Remember the tenth in last_decile_.
    const double elapsed = now_seconds() - start_;
    const double rate = elapsed > 0 ? static_cast<double>(examples) / elapsed : 0.0;
    std::string line = label_ + "  " + bar(done, total_) + "  " + std::to_string(done) + "/" + std::to_string(total_) + "  " +
                       with_commas(rate) + " img/s  ETA " + eta(elapsed, done, total_);
    if (!status.empty()) line += "  " + status;
    if (interactive_) {
        out_ << '\r' << line << "\x1b[K" << std::flush;
        return;
    }
    const int64_t decile = total_ > 0 ? done * 10 / total_ : 10;
    if (decile > last_decile_ && done < total_) {
        last_decile_ = decile;
        out_ << line << '\n' << std::flush;
    }
    //! END SOLUTION
}

void ProgressBar::finish(const std::string& status) {
    //! BEGIN SOLUTION
    //! HINT: one last line, always (on a terminal and in a log): label_, a full bar, "total/total", the time it took (elapsed in the same M:SS form as the ETA), the status; '\r' first and "\x1b[K" before the '\n' on a terminal.
    const double elapsed = now_seconds() - start_;
    std::string line = label_ + "  " + bar(total_, total_) + "  " + std::to_string(total_) + "/" + std::to_string(total_) + "  " +
                       eta(elapsed, 1, 2) + " elapsed";  // eta(t, 1, 2) is t itself, in the same M:SS form
    if (!status.empty()) line += "  " + status;
    if (interactive_)
        out_ << '\r' << line << "\x1b[K\n" << std::flush;
    else
        out_ << line << '\n' << std::flush;
    //! END SOLUTION
}

}  // namespace tt
