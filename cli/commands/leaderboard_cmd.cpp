// leaderboard_cmd.cpp - `tito leaderboard [COMPETITION] | export --html FILE | verify ENTRY`. The
// database is leaderboard.h's; the competitions (rules, running one) are competitions.h's. This
// file shows the entries to a person (a table), a script (--json, --csv) or a browser (--html).
#include "commands/leaderboard_cmd.h"

#include <stdlib.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "competitions.h"
#include "course.h"
#include "errors.h"
#include "files.h"
#include "git_repo.h"
#include "term.h"

namespace tito {

namespace {

struct ListOptions {
    std::string competition;
    bool all = false;
    bool quick = false;
    bool csv = false;
    std::string board;
};

struct ExportOptions {
    std::string html;
    std::string competition = "cifar";
    bool all = false;
    bool quick = false;
    std::string board;
};

struct VerifyOptions {
    std::string id;
    std::string board;
    std::string workspace;
};

// How a competition shows its score: accuracy is stored 0-1 and shown in percent.
struct ScoreFormat {
    std::string label = "score";  // "test accuracy (%)", "tokens/s"
    bool percent = false;
    std::string text(double score) const {
        char out[48];
        if (percent) {
            std::snprintf(out, sizeof out, "%.2f%%", 100.0 * score);
        } else {
            std::snprintf(out, sizeof out, "%.4g", score);
        }
        return out;
    }
};

// The competition's own rules say how to show its score; a competition this course no longer has
// (an old board) shows the bare number.
ScoreFormat score_format(const Course& course, const std::string& competition, bool quick) {
    ScoreFormat format;
    try {
        const CompetitionRules rules = load_competition(course, competition, quick);
        format.percent = rules.score_unit == "%";
        format.label = rules.score_name.empty() ? "score" : rules.score_name;
        if (format.percent) {
            format.label += " (%)";
        } else if (!rules.score_unit.empty() && rules.score_unit != rules.score_name) {
            format.label += " (" + rules.score_unit + ")";
        }
    } catch (const UserError&) {
    }
    return format;
}

std::string metric_text(const LeaderboardEntry& e, const std::string& key, const char* format) {
    const auto it = e.metrics.find(key);
    if (it == e.metrics.end() || !it->is_number()) return "";
    char out[48];
    std::snprintf(out, sizeof out, format, it->get<double>());
    return out;
}

// The rows shown for one competition: the ranking (best per student, or every scored entry with
// --all), then with --all the failed attempts, unranked, in the order they were recorded.
std::vector<RankedRow> rows_for(const std::vector<LeaderboardEntry>& entries, const std::string& competition, bool all, bool quick) {
    std::vector<RankedRow> rows;
    int rank = 0;
    for (const LeaderboardEntry& e : ranking(entries, competition, !all, quick)) rows.push_back({++rank, e});
    if (all)
        for (const LeaderboardEntry& e : entries)
            if (e.competition == competition && e.quick == quick && e.status != "scored") rows.push_back({0, e});
    return rows;
}

// The competitions to list: the one asked for, or every one with entries (in name order).
std::vector<std::string> competitions_of(const std::vector<LeaderboardEntry>& entries, bool quick) {
    std::set<std::string> names;
    for (const LeaderboardEntry& e : entries)
        if (e.quick == quick) names.insert(e.competition);
    return {names.begin(), names.end()};
}

// Opens the board for reading; nullopt when there is none yet (an empty board, not an error).
std::optional<Leaderboard> open_for_reading(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec) && !fs::is_symlink(path, ec)) return std::nullopt;
    return Leaderboard::open(path);
}

// Reading is allowed on a board whose chain is broken (the entries are still worth seeing), with
// a warning saying so.
std::vector<LeaderboardEntry> read_entries(Leaderboard& board) {
    if (const std::string problem = board.verify(); !problem.empty())
        warn("the leaderboard " + board.path().string() + " was changed outside tito: " + problem + " (its entries may not be trustworthy)");
    return board.entries();
}

int run_list(const ListOptions& options) {
    const Course course = Course::load(find_share_dir());
    const fs::path path = leaderboard_path(course, options.board);
    if (!options.competition.empty()) load_competition(course, options.competition, options.quick);  // an unknown name: did you mean
    std::optional<Leaderboard> board = open_for_reading(path);
    const std::vector<LeaderboardEntry> entries = board ? read_entries(*board) : std::vector<LeaderboardEntry>{};
    const std::vector<std::string> names = options.competition.empty() ? competitions_of(entries, options.quick)
                                                                       : std::vector<std::string>{options.competition};

    if (console().json) {
        nlohmann::json out = nlohmann::json::array();
        for (const std::string& name : names)
            for (const RankedRow& row : rows_for(entries, name, options.all, options.quick)) {
                nlohmann::json j = row.entry.to_json();
                j["rank"] = row.rank ? nlohmann::json(row.rank) : nlohmann::json(nullptr);
                out.push_back(j);
            }
        std::cout << out.dump(2) << "\n";
        return kExitOk;
    }
    if (options.csv) {
        std::vector<RankedRow> rows;
        for (const std::string& name : names)
            for (RankedRow& row : rows_for(entries, name, options.all, options.quick)) rows.push_back(std::move(row));
        std::cout << leaderboard_csv(rows);
        return kExitOk;
    }

    const std::string submit = "tito submit --competition " + (options.competition.empty() ? std::string("cifar") : options.competition) +
                               (options.quick ? " --quick" : "");
    bool shown = false;
    for (const std::string& name : names) {
        const std::vector<RankedRow> rows = rows_for(entries, name, options.all, options.quick);
        if (rows.empty()) continue;
        const ScoreFormat format = score_format(course, name, options.quick);
        if (shown) std::cout << "\n";
        shown = true;
        std::cout << paint(name + (options.quick ? " (quick runs)" : ""), Color::bold) << "\n";
        Table table;
        table.header = {"rank", "handle", format.label, "training", "peak memory", "date", "commit", "entry", "note"};
        table.right_aligned = {true, false, true, true, true, false, false, true, false};
        for (const RankedRow& row : rows) {
            const LeaderboardEntry& e = row.entry;
            const bool failed = row.rank == 0;
            std::string note = e.reference ? "reference" : "";
            if (failed) note = paint("failed: " + e.failure, Color::red);
            const std::string seconds = metric_text(e, "training_seconds", "%.1f s");
            const std::string memory = metric_text(e, "peak_memory_mib", "%.0f MiB");
            table.rows.push_back({failed ? "-" : std::to_string(row.rank), e.handle, failed ? "" : format.text(e.score), seconds, memory,
                                  e.recorded_at.substr(0, 10), e.commit.substr(0, 10), std::to_string(e.id), note});
        }
        table.print(std::cout);
    }
    if (!shown) {
        std::cout << "No " << (options.all ? "" : "scored ") << "entries" << (options.competition.empty() ? "" : " for " + options.competition)
                  << (options.quick ? " from quick runs" : "") << " yet in " << path.string() << ". Submit one with `" << submit << "`.\n";
    } else if (console().verbosity >= 0 && !options.all) {
        std::cout << "\nBest entry per student; `--all` lists every attempt. Leaderboard: " << path.string() << "\n";
    }
    return kExitOk;
}

int run_export(const ExportOptions& options) {
    const Course course = Course::load(find_share_dir());
    load_competition(course, options.competition, options.quick);  // an unknown name: did you mean
    const fs::path path = leaderboard_path(course, options.board);
    std::optional<Leaderboard> board = open_for_reading(path);
    const std::vector<LeaderboardEntry> entries = board ? read_entries(*board) : std::vector<LeaderboardEntry>{};
    const std::vector<LeaderboardEntry> ranked = ranking(entries, options.competition, !options.all, options.quick);
    const ScoreFormat format = score_format(course, options.competition, options.quick);
    atomic_write_file(options.html, leaderboard_html(ranked, options.competition, format.label));
    if (console().json) {
        std::cout << nlohmann::json{{"file", fs::absolute(options.html).string()}, {"competition", options.competition}, {"entries", ranked.size()}}
                         .dump(2)
                  << "\n";
    } else if (console().verbosity >= 0) {
        std::cout << "Wrote " << options.html << ": " << ranked.size() << " entr" << (ranked.size() == 1 ? "y" : "ies") << " of "
                  << options.competition << (options.quick ? " (quick runs)" : "") << ", ranked by " << format.label << ".\n";
    }
    return kExitOk;
}

int run_verify(const VerifyOptions& options) {
    int64_t id = 0;
    if (options.id.empty() || options.id.size() > 15 || options.id.find_first_not_of("0123456789") != std::string::npos ||
        (id = std::stoll(options.id)) == 0)
        throw UserError("'" + options.id + "' is not an entry number", "entries are numbered 1, 2, ...: `tito leaderboard --all` shows them (column \"entry\")");
    const Course course = Course::load(find_share_dir());
    const fs::path path = leaderboard_path(course, options.board);
    Leaderboard board = Leaderboard::open(path);
    const std::string problem = board.verify();
    if (!problem.empty()) warn("the leaderboard " + path.string() + " was changed outside tito: " + problem);
    const std::optional<LeaderboardEntry> found = board.entry(id);
    if (!found)
        throw UserError("the leaderboard " + path.string() + " has no entry " + options.id,
                        "`tito leaderboard --all` lists the entries with their numbers (column \"entry\")");
    const LeaderboardEntry& e = *found;
    const bool show = !console().json && console().verbosity >= 0;

    const CompetitionRules rules = load_competition(course, e.competition, e.quick);
    const bool rules_changed = rules.hash != e.rules_hash;
    if (rules_changed && !console().json)
        warn("the " + e.competition + " rules changed since entry " + std::to_string(e.id) +
             " was recorded: it is re-run under today's rules, so its score may differ for that reason alone");

    // The code exactly as recorded: the entry's commit, written out of the workspace's history.
    TempFolder temp("tito-verify");
    const fs::path code = temp.path() / "code";
    fs::create_directories(code);
    if (!e.reference) {
        if (e.commit.empty()) throw UserError("entry " + std::to_string(e.id) + " records no commit, so it cannot be re-run");
        const fs::path workspace = options.workspace.empty() ? fs::path(e.workspace) : fs::absolute(options.workspace);
        std::optional<GitRepo> repo = GitRepo::open_existing(workspace);
        if (!repo)
            throw UserError("entry " + std::to_string(e.id) + "'s workspace " + workspace.string() + " has no git history (was it moved?)",
                            "pass --workspace DIR to say where it is now");
        repo->export_commit(e.commit, code);
    }
    if (show)
        std::cout << "Re-running entry " << e.id << " (" << e.competition << (e.quick ? ", quick" : "") << ", " << e.handle
                  << (e.commit.empty() ? "" : ", commit " + e.commit.substr(0, 10)) << ") ...\n";

    ProgressLine progress;
    CompetitionOptions run_options;
    run_options.reference = e.reference;
    if (show)
        run_options.on_progress = [&progress](const nlohmann::json& p) {
            std::string text = p.value("phase", std::string("running"));
            if (p.contains("elapsed") && p["elapsed"].is_number()) {
                char buffer[64];
                std::snprintf(buffer, sizeof buffer, "  %.0f s", p["elapsed"].get<double>());
                text += buffer;
                if (p.contains("budget") && p["budget"].is_number()) text += " of " + std::to_string(std::lround(p["budget"].get<double>())) + " s";
            }
            progress.update(text);
        };
    const CompetitionResult result = run_competition(course, code, temp.path() / "build", e.student_modules, rules, run_options);
    progress.clear();

    // Reproduces: a score within the rules' tolerance of the recorded one, or a failed attempt that
    // fails again.
    bool reproduces = false;
    double difference = 0.0;
    if (e.status == "scored" && result.scored) {
        difference = std::abs(result.score - e.score);
        const double allowed = rules.relative_tolerance ? rules.verify_tolerance * std::abs(e.score) : rules.verify_tolerance;
        reproduces = difference <= allowed + 1e-12;
    } else {
        reproduces = e.status != "scored" && !result.scored;
    }

    const ScoreFormat format = score_format(course, e.competition, e.quick);
    if (console().json) {
        nlohmann::json out = {{"entry", e.id},
                              {"competition", e.competition},
                              {"recorded", {{"status", e.status}, {"score", e.score}, {"failure", e.failure}}},
                              {"rerun", {{"status", result.scored ? "scored" : "failed"}, {"score", result.score}, {"failure", result.failure},
                                         {"metrics", result.metrics}}},
                              {"tolerance", rules.verify_tolerance},
                              {"relative_tolerance", rules.relative_tolerance},
                              {"rules_changed", rules_changed},
                              {"reproduces", reproduces}};
        std::cout << out.dump(2) << "\n";
        return reproduces ? kExitOk : kExitFailed;
    }
    auto describe = [&](bool scored, double score, const std::string& failure) {
        return scored ? format.text(score) : "failed (" + failure + ")";
    };
    char relative[48];
    std::snprintf(relative, sizeof relative, "%g%% of the recorded score", 100.0 * rules.verify_tolerance);
    const std::string tolerance = rules.relative_tolerance ? std::string(relative) : format.text(rules.verify_tolerance);
    std::cout << "recorded  " << describe(e.status == "scored", e.score, e.failure) << "\n";
    std::cout << "re-run    " << describe(result.scored, result.score, result.failure) << "\n";
    std::cout << "tolerance " << tolerance << (rules_changed ? "  (the rules changed since)" : "") << "\n";
    std::cout << "reproduces " << (reproduces ? paint("yes", Color::green) : paint("no", Color::red)) << "\n";
    return reproduces ? kExitOk : kExitFailed;
}

}  // namespace

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string leaderboard_csv(const std::vector<RankedRow>& rows) {
    // The shortest text that reads back as the same double ("0.76", not "0.76000000000000001").
    auto number = [](double value) { return nlohmann::json(value).dump(); };
    auto metric = [&](const LeaderboardEntry& e, const char* key) {
        const auto it = e.metrics.find(key);
        return it != e.metrics.end() && it->is_number() ? number(it->get<double>()) : std::string();
    };
    std::string out = "competition,rank,handle,name,score,training_seconds,peak_memory_mib,recorded_at,commit,status,failure,reference,quick,entry\r\n";
    for (const RankedRow& row : rows) {
        const LeaderboardEntry& e = row.entry;
        const std::vector<std::string> fields = {e.competition,       row.rank ? std::to_string(row.rank) : "",
                                                 e.handle,            e.name,
                                                 number(e.score),     metric(e, "training_seconds"),
                                                 metric(e, "peak_memory_mib"), e.recorded_at,
                                                 e.commit,            e.status,
                                                 e.failure,           e.reference ? "yes" : "no",
                                                 e.quick ? "yes" : "no", std::to_string(e.id)};
        for (size_t i = 0; i < fields.size(); ++i) {
            if (i > 0) out += ',';
            out += csv_field(fields[i]);
        }
        out += "\r\n";
    }
    return out;
}

void setup_leaderboard(CLI::App& app, CommandRunner& run) {
    CLI::App* leaderboard = app.add_subcommand("leaderboard", "The competitions' rankings; export them as a web page, or re-run an entry");
    leaderboard->require_subcommand(0, 1);  // none: the ranking

    auto list = std::make_shared<ListOptions>();
    leaderboard->add_option("competition", list->competition, "Only this competition (cifar, gpt; default: every one with entries)")
        ->type_name("COMPETITION");
    leaderboard->add_flag("--all", list->all, "Every attempt, failed ones too (default: each student's best entry)");
    leaderboard->add_flag("--quick", list->quick, "The entries of --quick submits instead (trial runs, ranked apart)");
    leaderboard->add_flag("--csv", list->csv, "Print CSV for a spreadsheet");
    leaderboard->add_option("--leaderboard", list->board, "The leaderboard file (default: $TITO_LEADERBOARD, else configs/leaderboard.json's path)")
        ->type_name("FILE");

    auto export_options = std::make_shared<ExportOptions>();
    CLI::App* export_cmd = leaderboard->add_subcommand("export", "Write the ranking as one self-contained web page with a plot");
    export_cmd->add_option("--html", export_options->html, "The page to write")->required()->type_name("FILE");
    export_cmd->add_option("competition", export_options->competition, "The competition (default: cifar)")->type_name("COMPETITION");
    export_cmd->add_flag("--all", export_options->all, "Every scored entry (default: each student's best)");
    export_cmd->add_flag("--quick", export_options->quick, "The entries of --quick submits instead");
    export_cmd->add_option("--leaderboard", export_options->board, "The leaderboard file")->type_name("FILE");
    export_cmd->callback([&run, export_options] { run = [export_options] { return run_export(*export_options); }; });

    auto verify = std::make_shared<VerifyOptions>();
    CLI::App* verify_cmd =
        leaderboard->add_subcommand("verify", "Re-run an entry from its recorded commit; exit 0 when its score reproduces, 1 when not");
    verify_cmd->add_option("entry", verify->id, "The entry's number (column \"entry\" of `tito leaderboard --all`)")
        ->required()
        ->type_name("ENTRY");
    verify_cmd->add_option("--leaderboard", verify->board, "The leaderboard file")->type_name("FILE");
    verify_cmd->add_option("--workspace", verify->workspace, "Where the entry's workspace is now, if it moved")->type_name("DIR");
    verify_cmd->callback([&run, verify] { run = [verify] { return run_verify(*verify); }; });

    leaderboard->callback([&run, leaderboard, list] {
        const std::vector<CLI::App*> chosen = leaderboard->get_subcommands();
        if (chosen.empty()) {
            run = [list] { return run_list(*list); };
            return;
        }
        // A word before or after a subcommand that is none of its arguments lands here.
        if (!list->competition.empty()) {
            const std::string word = list->competition, path = "tito leaderboard " + chosen.front()->get_name();
            run = [word, path]() -> int {
                throw UserError("unexpected argument '" + word + "' for `" + path + "`", "`tito help " + path.substr(5) + "` explains it");
            };
        }
    });
}

}  // namespace tito
