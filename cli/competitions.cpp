// competitions.cpp - see competitions.h.
//
// The cifar run, as tito sees it (graders/competitions/cifar.cpp is the other side):
//
//   tito                                        the program (student code inside)
//   ----                                        -----------
//   train folder: data_batch_1..5.bin only
//   start the sandbox ------------------------> load the training set
//                      <------------------------ {"phase": "loaded", identity}      clock: t_loaded
//                      <------------------------ {"phase": "training", ...}          (shown live)
//                      <------------------------ {"phase": "trained", parameters}    clock: t_trained
//   write requests/test_images.bin (no labels)                                      clock: t_given
//                      <------------------------ {"predictions": [...], "offset"}    clock: t_answered
//                      <------------------------ {"phase": "done"}, exit 0
//   score = accuracy of the predictions against test_batch.bin's labels, read by tito alone.
//
// Everything is checked by tito from its own clock and its own data: training_seconds =
// t_trained - t_loaded against the budget, predict_seconds = t_answered - t_given, the count and
// range of the predictions, the exit status. A report the program makes up ("score", "metrics",
// a second "trained") changes nothing: only the messages above are read, each at its time.
#include "competitions.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "checksum.h"
#include "compiler.h"
#include "datasets.h"
#include "errors.h"
#include "files.h"

namespace tito {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", seconds);
    return text;
}

// "240", "2.5": a rule's number in a sentence.
std::string number_text(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

fs::path rules_folder(const Course& course) { return course.share() / "configs" / "competitions"; }

// A number from the effective rules; UserError naming the file when it is missing or not a number.
double rule(const CompetitionRules& rules, const std::string& key) {
    const auto it = rules.rules.find(key);
    if (it == rules.rules.end() || !it->is_number())
        throw UserError("configs/competitions/" + rules.name + ".json: '" + key + "' is missing or not a number", "reinstall tito");
    return it->get<double>();
}

// ---------------------------------------------------------------------------------------------
// CIFAR-10 files, read by tito (the labels never leave this process)
// ---------------------------------------------------------------------------------------------

constexpr size_t kCifarImageBytes = 3 * 32 * 32;
constexpr size_t kCifarRecordBytes = 1 + kCifarImageBytes;

// The folder the loaders read for data set `name` - found as `tito data path` and the engine's
// tt::data::find_dataset find it (datasets.h) - or a UserError saying how to get it.
fs::path installed_dataset(const std::string& name) {
    const Catalog catalog = Catalog::load_default();
    const DatasetSpec& spec = catalog.get(name);
    if (const std::optional<Location> at = locate(spec)) return at->data_dir;
    throw UserError(spec.title + " is not installed (tito looks in $TITO_DATA_DIR, ~/.cache/tinytorch/datasets and /usr/share/datasets)",
                    "`tito data fetch " + name + "` downloads it; `tito data list` shows where each data set is");
}

// The records of one batch file (label byte + 3,072 pixels each), at most `limit` of them.
std::string read_records(const fs::path& path, size_t limit) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UserError("cannot read " + path.string(), "`tito data verify cifar10` checks the data set; `tito data fetch cifar10` repairs it");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty() || bytes.size() % kCifarRecordBytes != 0)
        throw UserError(path.string() + " is not a CIFAR-10 batch (" + std::to_string(bytes.size()) + " bytes, not a whole number of " +
                            std::to_string(kCifarRecordBytes) + "-byte records)",
                        "`tito data fetch cifar10` repairs the data set; an instructor's --test-set needs test_batch.bin in the official format");
    if (bytes.size() / kCifarRecordBytes > limit) bytes.resize(limit * kCifarRecordBytes);
    return bytes;
}

struct TestSet {
    std::vector<uint8_t> labels;
    std::string pixels;  // labels.size() * 3,072 bytes
};

TestSet read_test_set(const fs::path& file, size_t limit) {
    const std::string records = read_records(file, limit);
    TestSet set;
    const size_t n = records.size() / kCifarRecordBytes;
    set.labels.reserve(n);
    set.pixels.reserve(n * kCifarImageBytes);
    for (size_t i = 0; i < n; ++i) {
        const auto label = static_cast<uint8_t>(records[i * kCifarRecordBytes]);
        if (label > 9)
            throw UserError(file.string() + ": image " + std::to_string(i) + " has the label " + std::to_string(label) + " (CIFAR-10's are 0-9)",
                            "`tito data fetch cifar10` repairs the data set");
        set.labels.push_back(label);
        set.pixels.append(records, i * kCifarRecordBytes + 1, kCifarImageBytes);
    }
    return set;
}

// A hard link when the file system allows one, else a copy. Never a symbolic link: its target
// would tell the program where the data set - and its test labels - lie.
void place_file(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_hard_link(from, to, ec);
    if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// The folder the program trains from: data_batch_1..5.bin and nothing else. With a `limit` (a
// --quick run) it gets the first `limit` training images, split over the five files.
int64_t prepare_train_folder(const fs::path& source, const fs::path& folder, size_t limit) {
    fs::create_directories(folder);
    int64_t images = 0;
    if (limit == SIZE_MAX) {
        for (int b = 1; b <= 5; ++b) {
            const fs::path file = source / ("data_batch_" + std::to_string(b) + ".bin");
            if (!fs::exists(file))
                throw UserError("CIFAR-10 is incomplete: " + file.string() + " is missing", "`tito data fetch cifar10` repairs it");
            place_file(file, folder / file.filename());
            images += static_cast<int64_t>(fs::file_size(file) / kCifarRecordBytes);
        }
        return images;
    }
    std::string records;
    for (int b = 1; b <= 5 && records.size() < limit * kCifarRecordBytes; ++b)
        records += read_records(source / ("data_batch_" + std::to_string(b) + ".bin"), limit - records.size() / kCifarRecordBytes);
    const size_t n = records.size() / kCifarRecordBytes, per_file = (n + 4) / 5;
    for (size_t b = 0; b < 5; ++b) {
        const size_t first = std::min(n, b * per_file), last = std::min(n, first + per_file);
        atomic_write_file(folder / ("data_batch_" + std::to_string(b + 1) + ".bin"),
                          records.substr(first * kCifarRecordBytes, (last - first) * kCifarRecordBytes));
    }
    return static_cast<int64_t>(n);
}

// Hands the program a request: written under a temporary name, then renamed into place, so the
// program never reads half a file. Returns the moment of the rename - when the program can see it,
// so when its clock starts. (Not atomic_write_file: its fsync can take milliseconds after the
// rename, time that must not be taken from the program. A request needs no durability.)
Clock::time_point publish_request(const fs::path& path, const std::string& bytes) {
    const fs::path temporary = path.string() + ".partial";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out.flush()) throw UserError("cannot write " + temporary.string(), os_error_hint(errno, path.parent_path().string()));
    }
    const Clock::time_point now = Clock::now();
    fs::rename(temporary, path);
    return now;
}

// test_images.bin for the program (format in graders/competitions/competition.h): "TTIMAGES",
// uint32 count, channels, height, width (little-endian), then the pixels.
std::string images_request(const TestSet& set) {
    const uint32_t header[4] = {static_cast<uint32_t>(set.labels.size()), 3, 32, 32};
    std::string bytes = "TTIMAGES";
    bytes.append(reinterpret_cast<const char*>(header), sizeof header);
    bytes += set.pixels;
    return bytes;
}

// ---------------------------------------------------------------------------------------------
// Building the program
// ---------------------------------------------------------------------------------------------

struct BuiltProgram {
    fs::path program;
    std::vector<std::string> student_modules;
};

BuiltProgram build_program(const Course& course, const fs::path& code_root, const fs::path& build_root,
                           const std::vector<std::string>& student_modules, const CompetitionRules& rules, bool reference) {
    BuiltProgram built;
    LinkRequest link;
    link.mode = CompileMode::release;
    link.sanitize = false;
    std::set<std::string> replaced;
    if (!reference) {
        for (const std::string& dir : student_modules) {
            const ModuleInfo* module = nullptr;
            for (const ModuleInfo& m : course.modules())
                if (m.dir_name() == dir) module = &m;
            if (!module) throw UserError("unknown module folder '" + dir + "'", "`tito module list` shows the modules");
            std::vector<fs::path> sources;
            for (const std::string& file : module->file_names()) {
                const fs::path source = fs::path(dir) / file;
                if (!fs::exists(code_root / source))
                    throw UserError("your file " + source.string() + " is missing",
                                    "`tito module start " + module->id + "` puts back missing files and keeps the others");
                sources.push_back(source);
            }
            const fs::path objects = build_root / dir / "release";
            BuildResult compiled = compile_sources(course, code_root, sources, objects, CompileMode::release, false);
            if (!compiled.ok)
                throw UserError("your " + dir + " does not compile:\n" + trim_diagnostics(compiled.diagnostics, 30, objects),
                                "fix it and check it with `tito test " + module->id + "`");
            link.objects.insert(link.objects.end(), compiled.outputs.begin(), compiled.outputs.end());
            replaced.insert(dir);
            built.student_modules.push_back(dir);
        }
    }
    link.libraries = {course.share() / "competitions" / rules.name / "libcompetition.a"};
    for (const fs::path& library : reference_libraries(course, replaced)) link.libraries.push_back(library);
    link.output = build_root / "competitions" / rules.name / (reference ? "reference" : "student") / "program";
    BuildResult linked = link_program(course, link);
    if (!linked.ok)
        throw UserError("the " + rules.name + " competition program does not link with your code:\n" +
                            trim_diagnostics(linked.diagnostics, 20, link.output),
                        "every function of module 20's templates must stay defined; `tito test` each module to check");
    built.program = link.output;
    return built;
}

// The environment of a competition program: no way to the data sets (TITO_DATA_DIR empty, HOME
// its own run folder, so ~/.cache/tinytorch is not found either) and the rules' thread count.
std::map<std::string, std::string> child_environment(const CompetitionRules& rules, const fs::path& run_dir) {
    const std::string threads = std::to_string(rules.threads);
    return {{"TITO_CHILD", "1"},          {"TITO_DATA_DIR", ""},          {"HOME", run_dir.string()},
            {"XDG_CACHE_HOME", ""},       {"OPENBLAS_NUM_THREADS", threads}, {"OMP_NUM_THREADS", threads},
            {"MKL_NUM_THREADS", threads}};
}

// The identity the program reported (module 01's my_identity, checked by the program with
// identity_problems), as strings whatever the program sent.
nlohmann::json identity_of(const nlohmann::json& report) {
    const nlohmann::json id = report.value("identity", nlohmann::json::object());
    nlohmann::json out = nlohmann::json::object();
    for (const char* key : {"name", "handle", "email"}) out[key] = id.contains(key) && id.at(key).is_string() ? id.at(key).get<std::string>() : "";
    return out;
}

// ---------------------------------------------------------------------------------------------
// The cifar track
// ---------------------------------------------------------------------------------------------

CompetitionResult run_cifar(const Course& course, const fs::path& code_root, const fs::path& build_root,
                            const std::vector<std::string>& student_modules, const CompetitionRules& rules,
                            const CompetitionOptions& options) {
    CompetitionResult result;
    auto progress = [&](nlohmann::json fields) {
        if (options.on_progress) options.on_progress(fields);
    };
    const double budget = rule(rules, "budget_seconds"), grace = rule(rules, "grace_seconds");
    const double predict_limit = rule(rules, "predict_seconds");

    // The data first: a missing data set stops the submit before anything is built.
    const fs::path data = installed_dataset("cifar10");
    const fs::path test_file = options.test_set.empty() ? data / "test_batch.bin" : fs::path(options.test_set) / "test_batch.bin";
    if (!options.test_set.empty() && !fs::is_regular_file(test_file))
        throw UserError("--test-set " + options.test_set + " has no test_batch.bin", "point it at a folder holding CIFAR-10's test_batch.bin");
    // The first train_images / test_images images only, when the rules say so (--quick does).
    auto limit_of = [&](const char* key) {
        const double n = rules.rules.value(key, 0.0);
        return n > 0 ? static_cast<size_t>(n) : SIZE_MAX;
    };
    const size_t test_limit = limit_of("test_images"), train_limit = limit_of("train_images");
    const TestSet test = read_test_set(test_file, test_limit);

    progress({{"phase", "building"}});
    const auto build_start = Clock::now();
    const BuiltProgram built = build_program(course, code_root, build_root, student_modules, rules, options.reference);
    result.student_modules = built.student_modules;
    result.build_seconds = seconds_between(build_start, Clock::now());

    // The run folder, emptied first: nothing of an earlier run is taken for this one's.
    const fs::path run_dir = built.program.parent_path() / "run";
    fs::remove_all(run_dir);
    const fs::path train_dir = run_dir / "train", requests = run_dir / "requests";
    const int64_t train_images = prepare_train_folder(data, train_dir, train_limit);
    fs::create_directories(requests);

    RunRequest request;
    request.argv = {built.program.string(), "--train-folder", train_dir.string(), "--budget", std::to_string(budget), "--requests",
                    requests.string()};
    request.working_dir = run_dir;
    request.limits = rules.limits;
    request.extra_env = child_environment(rules, run_dir);

    // What tito saw, with its own clock. `problem` is the first rule broken as it happened.
    std::optional<Clock::time_point> loaded, trained, given, answered;
    bool done = false;
    std::string problem;
    std::vector<int64_t> predictions(test.labels.size(), -1);
    std::vector<bool> answered_image(test.labels.size(), false);
    size_t answers = 0;
    nlohmann::json identity = nlohmann::json::object();
    const auto start = Clock::now();
    auto elapsed_training = [&] { return loaded ? seconds_between(*loaded, Clock::now()) : 0.0; };
    auto fail = [&](const std::string& why) {
        if (problem.empty()) problem = why;
    };

    progress({{"phase", "loading"}, {"elapsed", 0.0}, {"budget", budget}});
    request.on_report = [&](const nlohmann::json& report) {
        const auto now = Clock::now();
        if (report.contains("error")) return;  // read after the run
        const std::string phase = report.value("phase", "");
        if (phase == "loaded" && !loaded) {
            loaded = now;
            identity = identity_of(report);
            progress({{"phase", "training"}, {"elapsed", 0.0}, {"budget", budget}, {"train_images", report.value("train_images", 0)}});
        } else if (phase == "training" && loaded && !trained) {
            nlohmann::json fields = {{"phase", "training"}, {"elapsed", elapsed_training()}, {"budget", budget}};
            for (const char* key : {"epoch", "epochs", "step", "steps", "loss", "note"})
                if (report.contains(key)) fields[key] = report.at(key);
            progress(fields);
        } else if (phase == "trained" && loaded && !trained) {
            trained = now;
            for (const char* key : {"parameters", "model_bytes"})
                if (report.contains(key) && report.at(key).is_number_integer()) result.metrics[key] = report.at(key);
            // Over the budget: the test images are still handed over (the run finishes and shows
            // its accuracy), but the attempt is failed below whatever it scores.
            given = publish_request(requests / "test_images.bin", images_request(test));
            progress({{"phase", "predicting"}, {"elapsed", seconds_between(*given, Clock::now())}, {"budget", predict_limit}});
        } else if (report.contains("predictions")) {
            if (!given) return fail("sent predictions before it was given the test images");
            const nlohmann::json& labels = report.at("predictions");
            const nlohmann::json offset_json = report.value("offset", nlohmann::json(0));
            if (!labels.is_array() || !offset_json.is_number_integer())
                return fail("sent predictions that are not a list of labels with an offset");
            const int64_t offset = offset_json.get<int64_t>();
            for (size_t i = 0; i < labels.size(); ++i) {
                const nlohmann::json& label = labels[i];
                const int64_t index = offset + static_cast<int64_t>(i);
                if (!label.is_number_integer())
                    return fail("sent a prediction that is not a whole number (" + label.dump().substr(0, 40) + "): labels are 0-9");
                const int64_t value = label.get<int64_t>();
                if (value < 0 || value > 9)
                    return fail("predicted the label " + std::to_string(value) + " for image " + std::to_string(index) +
                                ": CIFAR-10's labels are 0-9");
                if (index < 0 || index >= static_cast<int64_t>(predictions.size()))
                    return fail("sent a prediction for image " + std::to_string(index) + ", but there are " +
                                std::to_string(predictions.size()) + " test images");
                if (answered_image[static_cast<size_t>(index)])
                    return fail("sent two predictions for image " + std::to_string(index));
                answered_image[static_cast<size_t>(index)] = true;
                predictions[static_cast<size_t>(index)] = value;
                ++answers;
            }
            answered = now;
            progress({{"phase", "predicting"}, {"elapsed", seconds_between(*given, now)}, {"budget", predict_limit},
                      {"step", answers}, {"steps", predictions.size()}});
        } else if (phase == "done" && answered) {
            done = true;
        }
        // Anything else ("score", "metrics", a second "trained", ...) is not part of the protocol:
        // nothing the program says about its own results counts.
    };
    RunResult run = run_sandboxed(request);
    result.run_seconds = run.wall_seconds;
    result.output = run.output();
    result.identity = identity;
    // The copies of the data (up to 180 MB) are not kept in the workspace's build folder.
    std::error_code ignored;
    fs::remove_all(train_dir, ignored);
    fs::remove_all(requests, ignored);

    // What went wrong, most telling reason first.
    std::string error;
    for (const nlohmann::json& report : run.reports)
        if (report.contains("error") && error.empty()) error = report.at("error").is_string() ? report.at("error").get<std::string>() : report.at("error").dump();
    const double limit = budget + grace;
    const double training_seconds = loaded && trained ? seconds_between(*loaded, *trained) : loaded ? seconds_between(*loaded, Clock::now()) : 0.0;
    std::string failure;
    if (loaded && training_seconds > limit) {
        failure = "over the " + number_text(budget) + " s budget: cifar_train " +
                  (trained ? "returned after " + seconds_text(training_seconds) : "had not returned after " + seconds_text(training_seconds)) +
                  " (" + seconds_text(grace) + " of grace)";
    } else if (!error.empty()) {
        failure = "stopped with an error: " + error;
    } else if (!problem.empty()) {
        failure = "broke the protocol: it " + problem;
    } else if (run.outcome != Outcome::exited || run.exit_code != 0) {
        const std::string finding = sanitizer_finding(run.output());
        failure = (finding.empty() ? run.describe(rules.limits) : "crashed: " + finding);
        if (answered) failure += " after sending its predictions";
    } else if (!loaded) {
        failure = "ended without loading the training set";
    } else if (!trained) {
        failure = "ended before cifar_train returned";
    } else if (answers != predictions.size()) {
        failure = "returned " + std::to_string(answers) + " predictions for " + std::to_string(predictions.size()) + " test images";
    } else if (!done) {
        failure = "ended without saying it was done";
    }
    const double predict_seconds = given && answered ? seconds_between(*given, *answered) : 0.0;
    if (failure.empty() && predict_seconds > predict_limit)
        failure = "predicting took " + seconds_text(predict_seconds) + ", over the " + seconds_text(predict_limit) + " limit";
    // The program checks the identity with identity_problems before it reports it; an entry
    // without a name or handle would be nobody's.
    if (failure.empty() && !options.reference && (identity.value("name", "").empty() || identity.value("handle", "").empty()))
        failure = "reported no name or handle (module 01's my_identity)";

    size_t correct = 0;
    for (size_t i = 0; i < predictions.size(); ++i) correct += predictions[i] == test.labels[i] ? 1 : 0;
    const double accuracy = predictions.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(predictions.size());
    result.metrics["training_seconds"] = training_seconds;
    result.metrics["predict_seconds"] = predict_seconds;
    result.metrics["load_seconds"] = loaded ? seconds_between(start, *loaded) : 0.0;
    result.metrics["peak_memory_mib"] = static_cast<double>(run.peak_memory_kib) / 1024.0;
    result.metrics["train_images"] = train_images;
    result.metrics["test_images"] = predictions.size();
    result.metrics["images_per_second"] = predict_seconds > 0 ? static_cast<double>(answers) / predict_seconds : 0.0;
    if (answers == predictions.size()) result.metrics["test_accuracy"] = accuracy;
    result.scored = failure.empty();
    result.failure = failure;
    result.score = result.scored ? accuracy : 0.0;
    return result;
}


// ---------------------------------------------------------------------------------------------
// The gpt track
// ---------------------------------------------------------------------------------------------


// The checkpoint to serve: --checkpoint, else the workspace's gpt milestone's own, else the
// reference run's it saved beside it (their --quick runs' for a --quick submit: trained on the
// same first characters of the text, so with the same alphabet).
fs::path find_checkpoint(const fs::path& code_root, const std::string& requested, bool quick) {
    if (!requested.empty()) {
        if (!fs::is_regular_file(requested)) throw UserError("no checkpoint at " + requested, "pass the checkpoint.ttc the gpt milestone wrote");
        return fs::absolute(requested);
    }
    const std::string prefix = quick ? "quick-" : "";
    for (const std::string& name : {prefix + "checkpoint.ttc", "reference-" + prefix + "checkpoint.ttc"}) {
        const fs::path file = code_root / "milestones" / "gpt" / name;
        if (!code_root.empty() && fs::is_regular_file(file)) return file;
    }
    if (quick)
        throw UserError("no quick GPT checkpoint: run `tito milestone gpt --quick` first, or pass --checkpoint FILE",
                        "a --quick submit serves the model of the gpt milestone's --quick run");
    throw UserError("no GPT checkpoint: run `tito milestone gpt` first (about 6 minutes), or pass --checkpoint FILE",
                    "the gpt competition serves the model the gpt milestone trained");
}

// What one run of the gpt program gave, before any comparison.
struct GptRun {
    std::string failure;  // the first thing that went wrong, "" when the program did its part
    nlohmann::json identity = nlohmann::json::object();
    std::vector<std::string> generated;
    std::vector<std::vector<int64_t>> targets;
    double perplexity = 0.0;
    double load_seconds = 0.0, generate_seconds = 0.0;
    int64_t new_tokens = 0, prompts = 0;
    double peak_memory_mib = 0.0, run_seconds = 0.0;
    std::string output;
};

// The prompts and windows: fixed, evenly spaced slices of the validation text (the last 10%, the
// gpt milestone's split).
std::vector<std::string> slices(const std::string& text, size_t count, size_t length, double phase) {
    const size_t split = text.size() * 9 / 10;
    const std::string validation = text.substr(split);
    std::vector<std::string> out;
    if (validation.size() <= length) return out;
    const size_t room = validation.size() - length;
    for (size_t i = 0; i < count; ++i)
        out.push_back(validation.substr(static_cast<size_t>((static_cast<double>(i) + phase) * static_cast<double>(room) / static_cast<double>(count)), length));
    return out;
}

GptRun run_gpt_program(const fs::path& program, const fs::path& checkpoint, const std::string& text, const CompetitionRules& rules,
                       const CompetitionOptions& options, const std::string& label) {
    GptRun out;
    auto progress = [&](nlohmann::json fields) {
        fields["program"] = label;
        if (options.on_progress) options.on_progress(fields);
    };
    const auto prompt_chars = static_cast<size_t>(rule(rules, "prompt_chars"));
    const std::vector<std::string> prompts = slices(text, static_cast<size_t>(rule(rules, "prompts")), prompt_chars, 0.0);
    const double generate_limit = rule(rules, "generate_seconds");

    const fs::path run_dir = program.parent_path() / "run";
    fs::remove_all(run_dir);
    const fs::path requests = run_dir / "requests";
    fs::create_directories(requests);
    atomic_write_file(run_dir / "input.txt", text);  // the alphabet of the checkpoint's text, not where the data set lies

    RunRequest request;
    request.argv = {program.string(), "--checkpoint", checkpoint.string(), "--text", (run_dir / "input.txt").string(), "--requests",
                    requests.string()};
    request.working_dir = run_dir;
    request.limits = rules.limits;
    request.extra_env = child_environment(rules, run_dir);

    std::optional<Clock::time_point> ready, asked, generated_at;
    std::string problem;
    std::vector<std::vector<float>> logits;
    std::vector<std::string> windows;
    int64_t vocab = 0;
    const auto start = Clock::now();
    auto fail = [&](const std::string& why) {
        if (problem.empty()) problem = why;
    };
    progress({{"phase", "loading"}});
    request.on_report = [&](const nlohmann::json& report) {
        const auto now = Clock::now();
        if (report.value("phase", "") == "ready" && !ready) {
            ready = now;
            out.identity = identity_of(report);
            vocab = report.value("vocab_size", int64_t{0});
            const int64_t context = report.value("context_length", int64_t{0});
            out.new_tokens = std::min<int64_t>(static_cast<int64_t>(rule(rules, "new_tokens")), context - static_cast<int64_t>(prompt_chars));
            if (vocab <= 0 || out.new_tokens <= 0)
                return fail("reported a vocabulary of " + std::to_string(vocab) + " and a context of " + std::to_string(context) +
                            " tokens: too small for prompts of " + std::to_string(prompt_chars) + " characters");
            const auto window_chars = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(rule(rules, "window_chars")), context));
            windows = slices(text, static_cast<size_t>(rule(rules, "eval_windows")), window_chars + 1, 0.5);
            logits.assign(windows.size(), {});
            out.prompts = static_cast<int64_t>(prompts.size());
            asked = publish_request(requests / "generate.json", nlohmann::json{{"prompts", prompts}, {"new_tokens", out.new_tokens}}.dump());
            progress({{"phase", "generating"}, {"elapsed", 0.0}, {"budget", generate_limit}});
        } else if (report.contains("generated") && asked && !generated_at) {
            generated_at = now;
            const nlohmann::json& list = report.at("generated");
            if (!list.is_array() || list.size() != prompts.size())
                return fail("answered " + std::to_string(list.is_array() ? list.size() : 0) + " continuations for " + std::to_string(prompts.size()) + " prompts");
            for (const nlohmann::json& g : list) {
                if (!g.is_string()) return fail("answered a continuation that is not text");
                out.generated.push_back(g.get<std::string>());
            }
            publish_request(requests / "evaluate.json", nlohmann::json{{"windows", windows}}.dump());
            progress({{"phase", "evaluating"}});
        } else if (report.contains("logits") && generated_at) {
            const nlohmann::json& values = report.at("logits");
            const int64_t window = report.value("window", int64_t{-1});
            if (window < 0 || window >= static_cast<int64_t>(logits.size()) || !values.is_array())
                return fail("sent logits for a window tito did not ask for");
            std::vector<float>& row = logits[static_cast<size_t>(window)];
            row.clear();
            for (const nlohmann::json& v : values) {
                if (!v.is_number()) return fail("sent a logit that is not a number");
                row.push_back(v.get<float>());
            }
        } else if (report.contains("targets") && generated_at) {
            try {
                out.targets = report.at("targets").get<std::vector<std::vector<int64_t>>>();
            } catch (const nlohmann::json::exception&) {
                fail("sent targets that are not lists of token ids");
            }
        }
    };
    RunResult run = run_sandboxed(request);
    out.output = run.output();
    out.run_seconds = run.wall_seconds;
    out.peak_memory_mib = static_cast<double>(run.peak_memory_kib) / 1024.0;
    out.load_seconds = ready ? seconds_between(start, *ready) : 0.0;
    out.generate_seconds = asked && generated_at ? seconds_between(*asked, *generated_at) : 0.0;

    std::string error;
    for (const nlohmann::json& report : run.reports)
        if (report.contains("error") && error.empty()) error = report.at("error").is_string() ? report.at("error").get<std::string>() : report.at("error").dump();
    if (!error.empty()) {
        out.failure = "stopped with an error: " + error;
    } else if (!problem.empty()) {
        out.failure = "broke the protocol: it " + problem;
    } else if (run.outcome != Outcome::exited || run.exit_code != 0) {
        out.failure = run.describe(rules.limits);
    } else if (!ready) {
        out.failure = "ended without loading the checkpoint";
    } else if (!generated_at) {
        out.failure = "ended without answering the prompts";
    } else if (out.generate_seconds > generate_limit) {
        out.failure = "generating took " + seconds_text(out.generate_seconds) + ", over the " + seconds_text(generate_limit) + " limit";
    } else if (out.targets.size() != windows.size()) {
        out.failure = "sent targets for " + std::to_string(out.targets.size()) + " of " + std::to_string(windows.size()) + " windows";
    }
    if (!out.failure.empty()) return out;

    // Perplexity = exp(mean cross-entropy), computed here from the logits (in double).
    double loss = 0.0;
    size_t positions = 0;
    for (size_t w = 0; w < windows.size(); ++w) {
        const std::vector<int64_t>& target = out.targets[w];
        const std::vector<float>& row = logits[w];
        if (row.size() != target.size() * static_cast<size_t>(vocab)) {
            out.failure = "sent " + std::to_string(row.size()) + " logits for window " + std::to_string(w) + ", expected " +
                          std::to_string(target.size() * static_cast<size_t>(vocab));
            return out;
        }
        for (size_t t = 0; t < target.size(); ++t) {
            if (target[t] < 0 || target[t] >= vocab) {
                out.failure = "sent a target id " + std::to_string(target[t]) + " outside the vocabulary";
                return out;
            }
            const float* z = row.data() + t * static_cast<size_t>(vocab);
            const double top = *std::max_element(z, z + vocab);
            double sum = 0.0;
            for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(z[v]) - top);
            loss += top + std::log(sum) - static_cast<double>(z[target[t]]);
            ++positions;
        }
    }
    out.perplexity = positions ? std::exp(loss / static_cast<double>(positions)) : 0.0;
    if (!std::isfinite(out.perplexity)) out.failure = "gave logits whose perplexity is not a finite number";
    return out;
}

CompetitionResult run_gpt(const Course& course, const fs::path& code_root, const fs::path& build_root,
                          const std::vector<std::string>& student_modules, const CompetitionRules& rules,
                          const CompetitionOptions& options) {
    CompetitionResult result;
    // The text the checkpoint was trained on: all of tiny-shakespeare, or its first text_chars
    // characters (the gpt milestone's --quick), so that the tokenizer's alphabet is the model's.
    std::string text = read_text_file(installed_dataset("tinyshakespeare") / "input.txt");
    if (const double chars = rules.rules.value("text_chars", 0.0); chars > 0 && text.size() > static_cast<size_t>(chars))
        text.resize(static_cast<size_t>(chars));
    const fs::path checkpoint = find_checkpoint(code_root, options.checkpoint, rules.quick);
    const std::string checkpoint_sha = sha256_hex(read_text_file(checkpoint));

    if (options.on_progress) options.on_progress({{"phase", "building"}});
    const auto build_start = Clock::now();
    const BuiltProgram reference = build_program(course, code_root, build_root, {}, rules, true);
    std::optional<BuiltProgram> student;
    if (!options.reference) student = build_program(course, code_root, build_root, student_modules, rules, false);
    if (student) result.student_modules = student->student_modules;
    result.build_seconds = seconds_between(build_start, Clock::now());

    // The reference's answers on this checkpoint under these rules, computed once and kept.
    const fs::path cache = build_root / "competitions" / "gpt" / "reference-results.json";
    const std::string key = checkpoint_sha + ":" + rules.hash + ":" + sha256_hex(text);
    nlohmann::json cached = nlohmann::json::object();
    if (fs::exists(cache)) {
        try {
            cached = load_json_file(cache, "");
        } catch (const UserError&) {
            cached = nlohmann::json::object();  // a damaged cache is recomputed
        }
    }
    GptRun expected;
    if (cached.is_object() && cached.contains(key) && !options.reference) {
        const nlohmann::json& j = cached.at(key);
        expected.generated = j.at("generated").get<std::vector<std::string>>();
        expected.targets = j.at("targets").get<std::vector<std::vector<int64_t>>>();
        expected.perplexity = j.at("perplexity").get<double>();
    } else {
        expected = run_gpt_program(reference.program, checkpoint, text, rules, options, "reference");
        if (!expected.failure.empty())
            throw UserError("the reference gpt program failed on " + checkpoint.string() + ": " + expected.failure,
                            "is it a checkpoint of the gpt milestone (tt::save_gpt)? rebuild tito if it is");
        if (!cached.is_object()) cached = nlohmann::json::object();
        cached[key] = {{"generated", expected.generated}, {"targets", expected.targets}, {"perplexity", expected.perplexity}};
        atomic_write_file(cache, cached.dump());
    }

    const GptRun run = options.reference ? expected : run_gpt_program(student->program, checkpoint, text, rules, options, "yours");
    result.identity = run.identity;
    result.output = run.output;
    result.run_seconds = run.run_seconds;
    std::string failure = run.failure;
    if (failure.empty() && run.generated.size() != expected.generated.size())
        failure = "answered " + std::to_string(run.generated.size()) + " prompts, the reference " + std::to_string(expected.generated.size());
    if (failure.empty()) {
        for (size_t i = 0; i < expected.generated.size() && failure.empty(); ++i) {
            const std::string& mine = run.generated[i];
            const std::string& theirs = expected.generated[i];
            if (mine == theirs) continue;
            size_t at = 0;
            while (at < mine.size() && at < theirs.size() && mine[at] == theirs[at]) ++at;
            failure = "generated text that differs from the reference's: prompt " + std::to_string(i + 1) + ", from character " +
                      std::to_string(at + 1) + " (" + nlohmann::json(mine.substr(at, 12)).dump() + " instead of " +
                      nlohmann::json(theirs.substr(at, 12)).dump() + "); greedy decoding must pick the largest logit, ties to the smallest id";
        }
    }
    if (failure.empty() && run.targets != expected.targets)
        failure = "encoded the evaluation text differently from the reference (module 11's CharTokenizer?)";
    const double tolerance = rule(rules, "perplexity_tolerance");
    const double deviation = expected.perplexity > 0 ? std::abs(run.perplexity - expected.perplexity) / expected.perplexity : 0.0;
    if (failure.empty() && deviation > tolerance)
        failure = "perplexity " + number_text(run.perplexity) + " is " + number_text(100.0 * deviation) + "% from the reference's " +
                  number_text(expected.perplexity) + " (allowed: " + number_text(100.0 * tolerance) + "%): logits() must give the GPT's own numbers";

    const double tokens = static_cast<double>(run.prompts * run.new_tokens);
    const double speed = run.generate_seconds > 0 ? tokens / run.generate_seconds : 0.0;
    result.metrics = {{"tokens_per_second", speed},
                      {"generate_seconds", run.generate_seconds},
                      {"perplexity", run.perplexity},
                      {"reference_perplexity", expected.perplexity},
                      {"load_seconds", run.load_seconds},
                      {"peak_memory_mib", run.peak_memory_mib},
                      {"prompts", run.prompts},
                      {"new_tokens", run.new_tokens},
                      {"checkpoint_sha256", checkpoint_sha}};
    result.scored = failure.empty();
    result.failure = failure;
    result.score = result.scored ? speed : 0.0;
    return result;
}

}  // namespace

std::vector<std::string> competition_names(const Course& course) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(rules_folder(course), ec))
        if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

CompetitionRules load_competition(const Course& course, const std::string& name, bool quick) {
    const std::vector<std::string> names = competition_names(course);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
        const std::string suggestion = closest_word(name, names);
        throw UserError("unknown competition '" + name + "'",
                        (suggestion.empty() ? "" : "did you mean '" + suggestion + "'? ") +
                            (names.empty() ? std::string("this installation has none: reinstall tito") : "the competitions are: " + join(names)));
    }
    const nlohmann::json file = load_json_file(rules_folder(course) / (name + ".json"), "reinstall tito to restore it");
    CompetitionRules rules;
    rules.name = name;
    rules.quick = quick;
    // The effective rules: the file without comments, the quick variant merged in for --quick.
    nlohmann::json effective = nlohmann::json::object();
    for (const auto& [key, value] : file.items())
        if (key.rfind('_', 0) != 0 && key != "quick") effective[key] = value;
    if (quick) {
        if (!file.contains("quick") || !file.at("quick").is_object())
            throw UserError("competition " + name + " has no --quick variant", "run it without --quick");
        for (const auto& [key, value] : file.at("quick").items()) effective[key] = value;
        effective["quick"] = true;
    }
    rules.rules = effective;
    rules.hash = sha256_hex(effective.dump());
    try {
        rules.title = effective.at("title").get<std::string>();
        rules.score_name = effective.value("score_name", effective.value("score", std::string("score")));
        rules.score_unit = effective.value("score_unit", std::string(""));
        rules.threads = effective.value("threads", 2);
        rules.verify_tolerance = effective.value("verify_tolerance", 0.0);
        rules.relative_tolerance = effective.value("relative_tolerance", false);
        rules.limits.memory_mib = effective.value("memory_mib", int64_t{2048});
        double wall = 10.0;  // start-up and shut-down
        for (const char* key : {"load_seconds", "budget_seconds", "grace_seconds", "predict_seconds", "generate_seconds", "evaluate_seconds"})
            wall += effective.value(key, 0.0);
        rules.limits.wall_seconds = wall;
        rules.limits.cpu_seconds = wall * std::max(1, rules.threads) + 10.0;
        rules.limits.max_processes = 64;
        rules.limits.cpus = rules.threads;  // more threads than the rules allow only share these
    } catch (const nlohmann::json::exception& e) {
        throw UserError("configs/competitions/" + name + ".json: " + e.what(), "reinstall tito");
    }
    rules.available = fs::exists(course.share() / "competitions" / name / "libcompetition.a");
    return rules;
}

CompetitionResult run_competition(const Course& course, const fs::path& code_root, const fs::path& build_root,
                                  const std::vector<std::string>& student_modules, const CompetitionRules& rules,
                                  const CompetitionOptions& options) {
    if (!rules.available)
        throw UserError("the " + rules.name + " competition's program is not installed", "rebuild or reinstall tito");
    CompetitionResult result;
    if (rules.name == "cifar") {
        result = run_cifar(course, code_root, build_root, student_modules, rules, options);
    } else if (rules.name == "gpt") {
        result = run_gpt(course, code_root, build_root, student_modules, rules, options);
    } else {
        throw UserError("competition " + rules.name + " cannot be run by this tito", "reinstall tito");
    }
    if (options.reference) result.identity = {{"name", "Reference solution"}, {"handle", "reference"}, {"email", ""}};
    return result;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) != 0) continue;
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string model = line.substr(colon + 1);
        model.erase(0, model.find_first_not_of(" \t"));
        return model;
    }
    return "unknown";
}

int cpu_cores() {
    const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? static_cast<int>(cores) : 1;
}

}  // namespace tito
