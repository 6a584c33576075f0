// test_progress.cpp - module 10 grader: ProgressBar (progress.cpp).
//
// On a terminal the line is redrawn in place ('\r', erase, no newline until finish); in a log one
// plain line per 10% and the final line, so a log stays short. The ETA is the remaining steps at
// the average pace of all steps so far.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <regex>
#include <sstream>
#include <thread>

#include "training_grading.h"

using namespace tt::testing;
using namespace training_grading;
using Catch::Matchers::Contains;

TEST_CASE("ProgressBar eta is the remaining time at the average pace in M:SS", "[points=2]") {
    CHECK(tt::ProgressBar::eta(10.0, 1, 4) == "0:30");   // 10 s per step, 3 steps left
    CHECK(tt::ProgressBar::eta(10.0, 2, 4) == "0:10");
    CHECK(tt::ProgressBar::eta(125.0, 1, 2) == "2:05");
    CHECK(tt::ProgressBar::eta(30.0, 3, 10) == "1:10");
    CHECK(tt::ProgressBar::eta(59.6, 1, 2) == "1:00");   // rounded to whole seconds
    CHECK(tt::ProgressBar::eta(3599.4, 1, 2) == "59:59");
    CHECK(tt::ProgressBar::eta(5.0, 10, 10) == "0:00");  // done
}

TEST_CASE("ProgressBar eta from one hour on is H:MM:SS", "[points=1]") {
    CHECK(tt::ProgressBar::eta(3600.0, 1, 2) == "1:00:00");
    CHECK(tt::ProgressBar::eta(3723.0, 1, 2) == "1:02:03");
    CHECK(tt::ProgressBar::eta(45296.0, 1, 2) == "12:34:56");
    CHECK(tt::ProgressBar::eta(100.0, 1, 938) == "26:01:40");  // 937 steps of 100 s: hours grow past 24
}

TEST_CASE("ProgressBar eta is a question mark before the first step", "[points=1]") {
    CHECK(tt::ProgressBar::eta(0.0, 0, 10) == "?");
    CHECK(tt::ProgressBar::eta(3.0, 0, 10) == "?");
    CHECK(tt::ProgressBar::eta(std::numeric_limits<double>::quiet_NaN(), 3, 10) == "?");
}

TEST_CASE("ProgressBar in a log prints one plain line per 10 percent and the final line", "[points=2]") {
    std::ostringstream out;
    tt::ProgressBar bar(1000, "epoch 2/10", out, false);
    for (int64_t done = 1; done <= 1000; ++done) bar.update(done, done * 64, "loss 0.5");
    bar.finish("loss 0.25");
    const std::string text = out.str();
    INFO("without a terminal every redraw would become a line of its own: 1000 lines per epoch in a log");
    CHECK(text.find('\r') == std::string::npos);
    CHECK(text.find('\x1b') == std::string::npos);
    const std::vector<std::string> lines = lines_of(text);
    REQUIRE(lines.size() == 11);  // 0%, 10%, ..., 90%, and finish()
    CHECK_THAT(lines[0], Contains("epoch 2/10") && Contains("1/1000") && Contains("img/s") && Contains("ETA") && Contains("loss 0.5"));
    CHECK_THAT(lines[1], Contains("100/1000"));
    CHECK_THAT(lines[5], Contains("500/1000"));
    CHECK_THAT(lines[9], Contains("900/1000"));
    CHECK_THAT(lines[10], Contains("1000/1000") && Contains("loss 0.25"));
    CHECK(text.back() == '\n');
}

TEST_CASE("ProgressBar in a log with fewer than 10 steps prints each step once", "[points=1]") {
    std::ostringstream out;
    tt::ProgressBar bar(3, "epoch 1/1", out, false);
    for (int64_t done = 1; done <= 3; ++done) bar.update(done, done * 10);
    bar.finish();
    const std::vector<std::string> lines = lines_of(out.str());
    REQUIRE(lines.size() == 3);  // 1/3, 2/3, then finish's 3/3
    CHECK_THAT(lines[0], Contains("1/3"));
    CHECK_THAT(lines[1], Contains("2/3"));
    CHECK_THAT(lines[2], Contains("3/3"));
}

TEST_CASE("ProgressBar on a terminal redraws in place and ends the line only at finish", "[points=2]") {
    std::ostringstream out;
    tt::ProgressBar bar(4, "epoch 1/1", out, true);
    for (int64_t done = 1; done <= 4; ++done) bar.update(done, done * 32, "loss 1.0");
    const std::string drawn = out.str();
    CHECK(drawn.find('\n') == std::string::npos);
    CHECK(std::count(drawn.begin(), drawn.end(), '\r') == 4);
    CHECK_THAT(drawn, Contains("1/4") && Contains("2/4") && Contains("4/4") && Contains("loss 1.0"));
    bar.finish("done");
    const std::string finished = out.str();
    CHECK(finished.back() == '\n');
    CHECK(std::count(finished.begin(), finished.end(), '\n') == 1);
    CHECK_THAT(finished.substr(drawn.size()), Contains("4/4") && Contains("done"));
}

TEST_CASE("ProgressBar shows the rate in images per second with thousands separators", "[points=1]") {
    std::ostringstream out;
    tt::ProgressBar bar(4, "x", out, true);
    bar.update(1, 1000000000000LL);  // a trillion examples in a few milliseconds: a rate of 13 or more digits
    const std::string drawn = out.str();
    CHECK(std::regex_search(drawn, std::regex("[1-9][0-9]{0,2}(,[0-9]{3}){4,} img/s")));
}

TEST_CASE("ProgressBar finish always prints a last line - also in a log", "[points=1]") {
    std::ostringstream log;
    tt::ProgressBar bar(10, "epoch 3/3", log, false);
    bar.finish("accuracy 91.20%");
    CHECK_THAT(log.str(), Contains("epoch 3/3") && Contains("10/10") && Contains("accuracy 91.20%"));
    CHECK(lines_of(log.str()).size() == 1);
}

TEST_CASE("ProgressBar ETA follows the average pace of all steps - not the first step", "[points=2]") {
    std::ostringstream out;
    tt::ProgressBar bar(100, "x", out, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    bar.update(1, 1);    // 0.3 s for 1 step: 99 more take about 30 s
    bar.update(10, 10);  // 10 steps in 0.3 s: 90 more take about 2.7 s
    const std::vector<std::string> lines = lines_of(out.str());
    REQUIRE(lines.size() == 2);
    std::smatch first, second;
    REQUIRE(std::regex_search(lines[0], first, std::regex("ETA ([0-9]+):([0-9]{2})")));
    REQUIRE(std::regex_search(lines[1], second, std::regex("ETA ([0-9]+):([0-9]{2})")));
    const int eta1 = std::stoi(first[1]) * 60 + std::stoi(first[2]);
    const int eta2 = std::stoi(second[1]) * 60 + std::stoi(second[2]);
    INFO("ETAs " << eta1 << " s after step 1 and " << eta2 << " s after step 10");
    CHECK(eta1 >= 28);  // 99 steps at >= 0.3 s each
    // 10 steps in the time the first took: about 9 x elapsed, a tenth of the first ETA. An ETA from
    // the first step's time alone stays near 90 x 0.3 s. (Relative, so a slow machine cannot fail it.)
    CHECK(eta2 * 4 < eta1);
}
