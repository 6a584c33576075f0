// grader_main.cpp - the main() of every grader executable (Catch2 v2 underneath).
//
// tito links: the student's objects + this runner + a module's grader tests + the reference
// libraries of every other module, then runs the result once per test case, each in its own child
// process. The child never decides its own grade in a way stray output could fake: it reports
// through a pipe whose descriptor and a random token tito passes in the environment, and tito
// treats a missing report (crash, hang, early exit) as a failure.
//
// Modes:
//   grader --tito-list-json FILE   write every test (name, points, visible; file and line of the
//                                  visible ones, relative to the course) as JSON;
//                                  run at build time to make the module's tests.json
//   grader --tito-probe            report "ready" once static initialisation is done, so tito can
//                                  tell a program that hangs before any test from a slow test
//   grader --tito-run NAME         run exactly one test case and report its result
//   grader [catch2 options]        an ordinary Catch2 runner, for contributors
//
// Points and visibility come from tags: [points=5], [visible] (the test is also in the lesson's
// visible tests). Every test must carry a points tag; names must not use Catch2's test-spec
// characters , [ ] * ~ " \ so that a name on the command line selects exactly that test.
#define CATCH_CONFIG_RUNNER
#define CATCH_CONFIG_NO_POSIX_SIGNALS  // let crashes be crashes: tito reads the signal or sanitizer report
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "channel.h"

namespace {

using nlohmann::json;

// What one test case did, gathered by the listener below.
struct CaseRecord {
    std::string name;
    int cases_started = 0;
    std::size_t passed = 0;
    std::size_t failed = 0;
    json failures = json::array();
};

CaseRecord g_record;

// Texts from the student's code (exception messages, expansions of their values) can be of any
// size; a report line must stay well below what tito accepts (1 MiB), so each is cut here.
constexpr std::size_t kMaxText = 16 * 1024;
constexpr std::size_t kMaxInfo = 10;

std::string capped(std::string text) {
    if (text.size() > kMaxText) {
        const std::size_t cut = text.size() - kMaxText;
        text.resize(kMaxText);
        text += "\n[... " + std::to_string(cut) + " more bytes cut by the grader]";
    }
    return text;
}

// A source path as the course names it - "graders/02_tensor/test_views.cpp",
// "modules/02_tensor/tests/test_tensor.cpp" - rather than where it was compiled on the machine
// that built tito ("/home/builder/tinytorch/graders/..." or "../../graders/...").
std::string course_relative(const std::string& file) {
    for (const char* root : {"graders/", "modules/"}) {
        for (std::size_t at = file.rfind(root); at != std::string::npos; at = at == 0 ? std::string::npos : file.rfind(root, at - 1)) {
            if (at == 0 || file[at - 1] == '/') return file.substr(at);
        }
    }
    const std::size_t slash = file.rfind('/');
    return slash == std::string::npos ? file : file.substr(slash + 1);
}

std::string result_type_name(Catch::ResultWas::OfType type) {
    switch (type) {
        case Catch::ResultWas::ExpressionFailed: return "assertion";
        case Catch::ResultWas::ThrewException: return "exception";
        case Catch::ResultWas::DidntThrowException: return "no exception";
        case Catch::ResultWas::ExplicitFailure: return "explicit failure";
        case Catch::ResultWas::FatalErrorCondition: return "fatal error";
        default: return "failure";
    }
}

struct TitoListener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;

    void testCaseStarting(Catch::TestCaseInfo const& info) override {
        ++g_record.cases_started;
        g_record.name = info.name;
    }

    bool assertionEnded(Catch::AssertionStats const& stats) override {
        const Catch::AssertionResult& result = stats.assertionResult;
        if (result.isOk()) {
            ++g_record.passed;
            return true;
        }
        ++g_record.failed;
        if (g_record.failures.size() < 5) {
            json failure = {{"kind", result_type_name(result.getResultType())},
                            {"file", course_relative(result.getSourceInfo().file)},
                            {"line", result.getSourceInfo().line},
                            {"message", capped(result.getMessage())}};
            if (result.hasExpression()) {
                failure["expression"] = capped(result.getExpressionInMacro());  // CHECK( a == b )
                failure["condition"] = capped(result.getExpression());          // a == b
                failure["expansion"] = capped(result.getExpandedExpression());
            }
            json info = json::array();
            for (const Catch::MessageInfo& message : stats.infoMessages)
                if (info.size() < kMaxInfo) info.push_back(capped(message.message));
            failure["info"] = info;
            g_record.failures.push_back(failure);
        }
        return true;
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(TitoListener)

namespace {

using tito_channel::Channel;
using tito_channel::report;
using tito_channel::take_channel;

std::optional<int> points_of(const std::vector<std::string>& tags) {
    for (const std::string& tag : tags)
        if (tag.rfind("points=", 0) == 0) return std::atoi(tag.c_str() + 7);
    return std::nullopt;
}

int list_tests(Catch::Session& session, const std::string& path) {
    json tests = json::array();
    std::set<std::string> names;
    int problems = 0;
    for (const Catch::TestCase& test : Catch::getAllTestCasesSorted(session.config())) {
        const Catch::TestCaseInfo& info = test.getTestCaseInfo();
        std::optional<int> points = points_of(info.tags);
        if (!points || *points <= 0) {
            std::cerr << info.lineInfo.file << ":" << info.lineInfo.line << ": test \"" << info.name
                      << "\" needs a [points=N] tag with N > 0\n";
            ++problems;
        }
        if (info.name.find_first_of(",[]*~\"\\") != std::string::npos) {
            std::cerr << info.lineInfo.file << ":" << info.lineInfo.line << ": test \"" << info.name
                      << "\": names must not contain , [ ] * ~ \" or \\\n";
            ++problems;
        }
        if (!names.insert(info.name).second) {
            std::cerr << info.lineInfo.file << ":" << info.lineInfo.line << ": duplicate test name \"" << info.name << "\"\n";
            ++problems;
        }
        bool visible = std::find(info.tags.begin(), info.tags.end(), "visible") != info.tags.end();
        json entry = {{"name", info.name}, {"points", points.value_or(0)}, {"visible", visible}, {"tags", info.tags}};
        // tests.json is installed where students can read it: where a hidden test lives is not
        // theirs to know, and no path of the machine that built tito belongs there.
        if (visible) {
            entry["file"] = course_relative(info.lineInfo.file);
            entry["line"] = info.lineInfo.line;
        }
        tests.push_back(entry);
    }
    if (problems > 0) return 1;
    std::ofstream out(path, std::ios::trunc);
    out << tests.dump(2) << "\n";
    return out ? 0 : 1;
}

int run_one(Catch::Session& session, const Channel& channel, const char* program, const std::string& name) {
    // Catch2's own report goes nowhere: the listener above sends tito everything it needs, and the
    // console report would mix source paths of the graders into what the student's code printed.
    // The compact reporter because the console reporter wraps long messages in quadratic time (a
    // megabyte in an exception message took 8 s).
    std::vector<const char*> args = {program, "--use-colour", "no", "--reporter", "compact", "--out", "/dev/null", name.c_str()};
    int rc = session.applyCommandLine(static_cast<int>(args.size()), args.data());
    if (rc != 0) return rc;
    session.run();
    std::cout.flush();
    std::cerr.flush();
    bool exactly_this_test = g_record.cases_started == 1 && g_record.name == name;
    report(channel, {{"test", g_record.name},
                     {"matched", exactly_this_test},
                     {"passed", exactly_this_test && g_record.failed == 0 && g_record.passed > 0},
                     {"assertions_passed", g_record.passed},
                     {"assertions_failed", g_record.failed},
                     {"failures", g_record.failures}});
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Catch::Session session;
    if (argc == 3 && std::strcmp(argv[1], "--tito-list-json") == 0) return list_tests(session, argv[2]);

    const bool probe = argc == 2 && std::strcmp(argv[1], "--tito-probe") == 0;
    const bool run = argc == 3 && std::strcmp(argv[1], "--tito-run") == 0;
    if (probe || run) {
        std::optional<Channel> channel = take_channel();
        if (!channel) {
            std::cerr << argv[0] << ": --tito-probe and --tito-run are for tito; run without options for a plain Catch2 run\n";
            return 2;
        }
        if (probe) {
            report(*channel, {{"probe", "ready"}});
            return 0;
        }
        return run_one(session, *channel, argv[0], argv[2]);
    }
    return session.run(argc, argv);
}
