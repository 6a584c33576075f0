// milestones.cpp - see milestones.h.
#include "milestones.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <tuple>
#include <set>
#include <sstream>

#include "compiler.h"
#include "errors.h"
#include "files.h"

namespace tito {

namespace {

std::string number_text(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

std::vector<MilestoneCondition> conditions_of(const nlohmann::json& list) {
    std::vector<MilestoneCondition> conditions;
    for (const nlohmann::json& c : list) {
        MilestoneCondition condition;
        condition.metric = c.at("metric").get<std::string>();
        condition.label = c.value("label", condition.metric);
        if (c.contains("at_least")) condition.at_least = c.at("at_least").get<double>();
        if (c.contains("at_most")) condition.at_most = c.at("at_most").get<double>();
        conditions.push_back(condition);
    }
    return conditions;
}

}  // namespace

std::string MilestoneInfo::dataset_of(const std::string& requested) const {
    if (requested.empty()) return datasets.empty() ? "" : datasets.front();
    if (std::find(datasets.begin(), datasets.end(), requested) != datasets.end()) return requested;
    std::string known;
    for (const std::string& d : datasets) known += (known.empty() ? "" : ", ") + d;
    throw UserError("milestone " + name + " does not train on '" + requested + "'",
                    datasets.empty() ? "it takes no --dataset" : "it trains on: " + known);
}

const std::vector<MilestoneCondition>& MilestoneInfo::conditions(bool quick_run, const std::string& dataset) const {
    if (quick_run) {
        if (quick.empty()) throw UserError("milestone " + name + " has no --quick mode", "it is quick already: run it without --quick");
        return quick;
    }
    const std::string used = dataset_of(dataset);
    if (!datasets.empty() && used != datasets.front()) {
        auto it = dataset_pass.find(used);
        if (it != dataset_pass.end()) return it->second;
    }
    return pass;
}

std::string MilestoneCondition::requirement() const {
    if (at_least && at_most) return "between " + number_text(*at_least) + " and " + number_text(*at_most);
    if (at_least) return ">= " + number_text(*at_least);
    if (at_most) return "<= " + number_text(*at_most);
    return "reported";
}

bool MilestoneCondition::holds(double value) const {
    // A tolerance for floating-point round-off: 0.75 reported as 0.7500000001 still holds.
    constexpr double slack = 1e-6;
    if (at_least && value < *at_least - slack) return false;
    if (at_most && value > *at_most + slack) return false;
    return true;
}

std::vector<MilestoneInfo> load_milestones(const Course& course) {
    const nlohmann::json config = course.config("milestones.json");
    std::vector<MilestoneInfo> milestones;
    for (const auto& [name, j] : config.items()) {
        if (name.rfind('_', 0) == 0) continue;  // "_comment"
        if (std::find(kMilestoneCommands.begin(), kMilestoneCommands.end(), name) != kMilestoneCommands.end())
            throw UserError("configs/milestones.json: a milestone may not be called '" + name +
                                "': `tito milestone " + name + "` is a command",
                            "rename the milestone, or reinstall tito");
        MilestoneInfo m;
        m.name = name;
        m.available = fs::exists(course.share() / "milestones" / name / "libmilestone.a");
        try {
            m.year = j.at("year").get<int>();
            m.title = j.at("title").get<std::string>();
            m.note = j.value("note", "");
            m.after = j.value("after", "");
            m.required = j.at("requires").get<std::vector<std::string>>();
            const nlohmann::json limits = j.value("limits", nlohmann::json::object());
            m.limits.wall_seconds = limits.value("wall_seconds", 120.0);
            m.limits.cpu_seconds = limits.value("cpu_seconds", 2 * m.limits.wall_seconds);
            m.limits.memory_mib = limits.value("memory_mib", int64_t{2048});
            // A milestone still to come (no program installed) may not have its conditions yet.
            m.pass = conditions_of(m.available ? j.at("pass") : j.value("pass", nlohmann::json::array()));
            m.quick = conditions_of(j.value("quick", nlohmann::json::array()));
            m.datasets = j.value("datasets", std::vector<std::string>{});
            for (const auto& [dataset, list] : j.value("dataset_pass", nlohmann::json::object()).items())
                m.dataset_pass[dataset] = conditions_of(list);
            m.expected = j.value("expected", "");
        } catch (const nlohmann::json::exception& e) {
            throw UserError("configs/milestones.json: milestone '" + name + "': " + e.what(), "fix the file or reinstall tito");
        }
        milestones.push_back(std::move(m));
    }
    std::sort(milestones.begin(), milestones.end(), [](const MilestoneInfo& a, const MilestoneInfo& b) {
        return std::tie(a.year, a.name) < std::tie(b.year, b.name);
    });
    return milestones;
}

const MilestoneInfo& resolve_milestone(const std::vector<MilestoneInfo>& milestones, const std::string& name) {
    std::string names;
    std::vector<std::string> all;
    for (const MilestoneInfo& m : milestones) {
        if (m.name == name) return m;
        names += (names.empty() ? "" : ", ") + m.name;
        all.push_back(m.name);
    }
    const std::string suggestion = closest_word(name, all);
    throw UserError("unknown milestone '" + name + "'", (suggestion.empty() ? "" : "did you mean '" + suggestion + "'? ") +
                                                            "the milestones are: " + names + " (`tito milestone list`)");
}

void require_available(const Course& course, const std::vector<MilestoneInfo>& milestones, const MilestoneInfo& m) {
    if (m.available) return;
    std::string ready;
    for (const MilestoneInfo& other : milestones)
        if (other.available) ready += (ready.empty() ? "" : ", ") + other.name;
    const ModuleInfo* after = course.find(m.after);
    const std::string module = after ? "module " + after->dir_name() : "a later module";
    const bool module_missing = !after || !after->has_content;
    throw UserError("milestone " + m.name + " (" + std::to_string(m.year) + ") comes with " + module +
                        (module_missing ? ", which is not in this release yet" : ", but its program is not installed"),
                    module_missing ? "the milestones you can run now: " + ready + " (`tito milestone list`)"
                                   : "rebuild or reinstall tito");
}

std::vector<std::string> milestone_missing(const Course& course, const Workspace& workspace, const MilestoneInfo& m) {
    std::vector<std::string> missing;
    for (const std::string& id : m.required) {
        auto it = workspace.progress().modules.find(id);
        if (it == workspace.progress().modules.end() || it->second.state != "passed") {
            const ModuleInfo* module = course.find(id);
            missing.push_back(module ? module->dir_name() : id);
        }
    }
    return missing;
}

std::string milestone_state(const Course& course, const Workspace& workspace, const MilestoneInfo& m) {
    auto it = workspace.progress().milestones.find(m.name);
    if (it != workspace.progress().milestones.end() && it->second.passed) return "passed";
    if (!m.available) return "coming";
    if (!milestone_missing(course, workspace, m).empty()) return "locked";
    if (it != workspace.progress().milestones.end() && it->second.attempts > 0) return "not passed";
    return "ready";
}

MilestoneOutcome run_milestone(const Course& course, const Workspace* workspace, const MilestoneInfo& m,
                               const MilestoneOptions& options) {
    MilestoneOutcome outcome;
    if (!m.available) throw UserError("milestone " + m.name + " is not installed", "rebuild or reinstall tito");
    // Checked before anything is built: an unknown data set or a missing quick mode is a usage error.
    const std::vector<MilestoneCondition>& conditions = m.conditions(options.quick, options.dataset);
    const std::string dataset = m.dataset_of(options.dataset);
    const auto build_start = std::chrono::steady_clock::now();

    // Which modules run the student's code: every passed module (with its files present).
    std::vector<const ModuleInfo*> student;
    if (!options.reference) {
        if (workspace == nullptr)
            throw UserError("not inside a tito workspace", "run milestones from your workspace, or add --reference to run the reference engine");
        for (const ModuleInfo& module : course.modules()) {
            auto it = workspace->progress().modules.find(module.id);
            if (it == workspace->progress().modules.end() || it->second.state != "passed" || !module.has_content) continue;
            student.push_back(&module);
            outcome.student_modules.push_back(module.dir_name());
        }
    }

    // Scratch space: the workspace's build folder, or a temporary one for --reference outside one.
    std::optional<TempFolder> temporary;
    if (!workspace) temporary.emplace("tito-milestone");
    const fs::path build_root = workspace ? workspace->build_dir() : temporary->path();

    LinkRequest link;
    link.mode = CompileMode::release;
    link.sanitize = false;
    std::set<std::string> replaced;
    for (const ModuleInfo* module : student) {
        std::vector<fs::path> sources;
        for (const std::string& file : module->file_names()) {
            fs::path source = fs::path(module->dir_name()) / file;
            if (!fs::exists(workspace->root() / source))
                throw UserError("your file " + source.string() + " is missing",
                                "`tito module start " + module->id + "` puts back missing files and keeps the others");
            sources.push_back(source);
        }
        BuildResult built = compile_sources(course, workspace->root(), sources, build_root / module->dir_name() / "release",
                                            CompileMode::release, false);
        if (!built.ok)
            throw UserError("your " + module->dir_name() + " does not compile:\n" + trim_diagnostics(built.diagnostics, 30, build_root / module->dir_name() / "release"),
                            "fix it and check it with `tito test " + module->id + "`");
        link.objects.insert(link.objects.end(), built.outputs.begin(), built.outputs.end());
        replaced.insert(module->dir_name());
    }
    link.libraries = {course.share() / "milestones" / m.name / "libmilestone.a"};
    for (const fs::path& library : reference_libraries(course, replaced)) link.libraries.push_back(library);
    link.output = build_root / "milestones" / m.name / (options.reference ? "reference" : "student") / "program";
    BuildResult linked = link_program(course, link);
    if (!linked.ok)
        throw UserError("the milestone program does not link with your code:\n" + trim_diagnostics(linked.diagnostics, 20, link.output),
                        "every function of the templates must stay defined; `tito test` each module to check");
    outcome.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count();

    RunRequest request;
    request.argv = {link.output.string()};
    if (options.quick) request.argv.push_back("--quick");
    if (!options.dataset.empty()) request.argv.insert(request.argv.end(), {"--dataset", dataset});
    // The program writes its history and curves into its own folder, emptied first so a file left
    // by an earlier run is never taken for this run's.
    const fs::path run_dir = link.output.parent_path() / "run";
    fs::remove_all(run_dir);
    fs::create_directories(run_dir);
    request.working_dir = run_dir;
    request.limits = m.limits;
    request.extra_env = {{"TITO_CHILD", "1"}};
    request.on_report = [&](const nlohmann::json& report) {
        if (report.contains("estimate") && report.at("estimate").is_object() && report.at("estimate").value("seconds", -1.0) >= 0)
            outcome.estimate_seconds = report.at("estimate").at("seconds").get<double>();
        if (options.on_report) options.on_report(report);
    };
    RunResult run = run_sandboxed(request);
    outcome.run_seconds = run.wall_seconds;
    outcome.output = run.output();

    for (const nlohmann::json& report : run.reports) {
        if (report.contains("metrics") && report.at("metrics").is_object()) outcome.metrics = report.at("metrics");
        if (report.contains("error")) outcome.failure = "stopped with an error: " + report.at("error").get<std::string>();
    }
    const bool finished = run.outcome == Outcome::exited && run.exit_code == 0 && !outcome.metrics.empty();
    if (!finished && outcome.failure.empty()) {
        const std::string finding = sanitizer_finding(run.output());
        outcome.failure = finding.empty() ? run.describe(m.limits) : "crashed: " + finding;
        if (run.outcome == Outcome::exited && run.exit_code == 0) outcome.failure = "ended without reporting its results";
    }
    // Keep what the run produced: history.json and curves.svg, and a language model's sample.txt
    // and checkpoint.ttc (tt::load_gpt reads it: a few MB), in the workspace's milestones/<name>/
    // (a reference run's beside them, prefixed), so they can be opened after the run.
    if (workspace) {
        const fs::path folder = workspace->root() / "milestones" / m.name;
        const std::string prefix = std::string(options.reference ? "reference-" : "") + (options.quick ? "quick-" : "") +
                                   (options.dataset.empty() || dataset == m.dataset_of("") ? "" : dataset + "-");
        for (const char* file : {"history.json", "curves.svg", "sample.txt", "checkpoint.ttc"}) {
            const fs::path produced = run_dir / file;
            if (!fs::is_regular_file(produced) || fs::file_size(produced) > 16 * 1024 * 1024) continue;
            const fs::path target = folder / (prefix + file);
            atomic_write_file(target, read_text_file(produced));
            outcome.saved_files.push_back(fs::relative(target, workspace->root()).string());
        }
    }
    outcome.passed = finished;
    for (const MilestoneCondition& condition : conditions) {
        ConditionResult result{condition, std::nullopt, false};
        auto it = outcome.metrics.find(condition.metric);
        if (it != outcome.metrics.end() && it->is_number()) {
            result.value = it->get<double>();
            result.ok = condition.holds(*result.value);
        }
        outcome.passed = outcome.passed && result.ok;
        outcome.conditions.push_back(result);
    }
    return outcome;
}

}  // namespace tito
