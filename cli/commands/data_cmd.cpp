// data_cmd.cpp - `tito data list | path | verify | fetch | import`. The work is in datasets.h
// (catalog, look-up, verify) and data_install.h (fetch, import); this file shows it to a person
// (tables, a progress bar on a terminal) or to a script (--json).
#include "commands/data_cmd.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "data_install.h"
#include "datasets.h"
#include "download.h"
#include "errors.h"
#include "term.h"

namespace tito {

namespace {

struct FetchArgs {
    std::string name;
    std::string dir;
    std::string mirror;
    bool force = false;
};

struct ImportArgs {
    std::string name;
    std::string path;
    std::string dir;
    bool force = false;
};

std::string fetch_command(const std::string& name) { return "tito data fetch " + name; }

std::string type_name_with_choices() {
    std::string names;
    for (const std::string& n : kDatasetNames) names += (names.empty() ? "" : ",") + n;
    return "NAME:{" + names + "}";  // the help shows the choices, and completion offers them
}

// "ok 2026-12-02", "FAILED 2026-12-02", "changed since", "not yet"
std::string verified_text(const DatasetSpec& spec, const Location& at, nlohmann::json* json = nullptr) {
    const auto record = last_verify(spec.name, at.dataset_dir);
    if (!record) {
        if (json) *json = nullptr;
        return "not yet";
    }
    const bool changed = record->signature != files_signature(spec, at.dataset_dir);
    if (json) *json = {{"ok", record->ok}, {"when", record->when}, {"summary", record->summary}, {"changed_since", changed}};
    if (changed) return "changed since " + record->when.substr(0, 10);
    return (record->ok ? "ok " : "FAILED ") + record->when.substr(0, 10);
}

uint64_t installed_bytes(const DatasetSpec& spec, const fs::path& dataset_dir) {
    uint64_t total = 0;
    std::error_code ec;
    for (const FileSpec& f : spec.files)
        for (const std::string& candidate : {f.path, f.alternative}) {
            if (candidate.empty() || !fs::is_regular_file(dataset_dir / candidate, ec)) continue;
            total += static_cast<uint64_t>(fs::file_size(dataset_dir / candidate, ec));
            break;
        }
    return total;
}

std::string roots_text() {
    std::string text;
    for (const DataRoot& root : data_roots()) {
        std::error_code ec;
        text += (text.empty() ? "" : ", ") + root.path.string() + " (" + root.label + (fs::is_directory(root.path, ec) ? "" : ", not there") + ")";
    }
    return text;
}

int run_list() {
    const Catalog catalog = Catalog::load_default();
    if (console().json) {
        nlohmann::json out = nlohmann::json::array();
        for (const DatasetSpec& spec : catalog.datasets()) {
            nlohmann::json j = {{"name", spec.name}, {"title", spec.title}, {"download_bytes", spec.download_bytes()}};
            if (auto at = locate(spec)) {
                nlohmann::json verified;
                verified_text(spec, *at, &verified);
                j.update({{"found", true}, {"location", at->root.label}, {"root", at->root.path.string()}, {"path", at->data_dir.string()},
                          {"bytes", installed_bytes(spec, at->dataset_dir)}, {"verified", verified}});
            } else {
                j.update({{"found", false}, {"location", nullptr}, {"path", nullptr}, {"get", fetch_command(spec.name)}});
            }
            out.push_back(j);
        }
        std::cout << out.dump(2) << "\n";
        return kExitOk;
    }
    Table table;
    table.header = {"data set", "where", "size", "verified", "path"};
    table.right_aligned = {false, false, true, false, false};
    for (const DatasetSpec& spec : catalog.datasets()) {
        if (auto at = locate(spec)) {
            const std::string verified = verified_text(spec, *at);
            const Color color = verified.rfind("ok", 0) == 0 ? Color::green : verified.rfind("FAILED", 0) == 0 ? Color::red : Color::yellow;
            table.rows.push_back({spec.name, at->root.label, human_bytes(installed_bytes(spec, at->dataset_dir)), paint(verified, color), at->data_dir.string()});
        } else {
            table.rows.push_back({spec.name, paint("missing", Color::yellow), human_bytes(spec.download_bytes()) + " to get", "-",
                                  "get it: " + fetch_command(spec.name)});
        }
    }
    table.print(std::cout);
    if (console().verbosity >= 0) std::cout << "\nLooked in, in this order: " << roots_text() << "\n";
    return kExitOk;
}

int run_path(const std::string& name) {
    const Catalog catalog = Catalog::load_default();
    const DatasetSpec& spec = catalog.get(name);
    const auto at = locate(spec);
    if (console().json) {
        nlohmann::json j = {{"name", spec.name}, {"found", at.has_value()}};
        if (at) {
            std::error_code ec;
            j.update({{"path", fs::absolute(at->data_dir, ec).string()}, {"location", at->root.label}, {"root", at->root.path.string()}});
        } else {
            j["get"] = fetch_command(spec.name);
        }
        std::cout << j.dump(2) << "\n";
        return at ? kExitOk : kExitFailed;
    }
    if (!at) {
        std::string looked;
        for (const DataRoot& root : data_roots()) looked += (looked.empty() ? "" : ", ") + location_in(spec, root).data_dir.string();
        std::cerr << paint("error: ", Color::red) << spec.name << " is not installed: looked in " << looked << " (hint: " << fetch_command(spec.name)
                  << " downloads it, or set TITO_DATA_DIR to a folder holding " << spec.name << "/)\n";
        return kExitFailed;
    }
    std::error_code ec;
    const fs::path absolute = fs::absolute(at->data_dir, ec);  // TITO_DATA_DIR may be relative (to the current folder)
    std::cout << (ec ? at->data_dir : absolute).string() << "\n";
    return kExitOk;
}

// The progress line while a data set is read: "verifying mnist: train-images-idx3-ubyte.gz  45%".
VerifyProgress verify_progress(ProgressLine& line, const std::string& name) {
    return [&line, name](const std::string& file, uint64_t done, uint64_t total) {
        line.update("verifying " + name + ": " + file + (total > 0 ? "  " + std::to_string(std::min<uint64_t>(100, done * 100 / total)) + "%" : ""));
    };
}

nlohmann::json report_json(const VerifyReport& report, const Location& at) {
    nlohmann::json files = nlohmann::json::array();
    for (const FileReport& f : report.files)
        files.push_back({{"path", f.path}, {"present", f.present}, {"ok", f.ok}, {"bytes", f.size}, {"problem", f.problem}, {"checksum", f.checksum}});
    return {{"name", report.name}, {"found", true}, {"ok", report.ok}, {"location", at.root.label}, {"path", at.data_dir.string()},
            {"structure", report.structure}, {"checksums", report.checksums}, {"hint", report.hint}, {"files", files}};
}

int run_verify(const std::string& name) {
    const Catalog catalog = Catalog::load_default();
    std::vector<const DatasetSpec*> chosen;
    if (name.empty()) {
        for (const DatasetSpec& spec : catalog.datasets()) chosen.push_back(&spec);
    } else {
        chosen.push_back(&catalog.get(name));
    }
    size_t width = 0;
    for (const DatasetSpec* spec : chosen) width = std::max(width, spec->name.size());
    auto padded = [width](const std::string& name) { return name + std::string(width - name.size(), ' '); };
    bool all_ok = true, any_found = false;
    nlohmann::json out = nlohmann::json::array();
    for (const DatasetSpec* spec : chosen) {
        const auto at = locate(*spec);
        if (!at) {
            if (!name.empty()) all_ok = false;  // asked for by name: its absence is a failure
            if (console().json) {
                out.push_back({{"name", spec->name}, {"found", false}, {"ok", false}, {"get", fetch_command(spec->name)}});
            } else {
                std::cout << paint("missing ", Color::yellow) << " " << padded(spec->name) << "  (get it: " << fetch_command(spec->name) << ")\n";
            }
            continue;
        }
        any_found = true;
        ProgressLine line;
        const VerifyReport report = verify_dataset(*spec, at->dataset_dir, true, verify_progress(line, spec->name));
        line.clear();
        record_verify(*spec, report);
        all_ok = all_ok && report.ok;
        if (console().json) {
            out.push_back(report_json(report, *at));
            continue;
        }
        std::cout << (report.ok ? paint("ok      ", Color::green) : paint("FAILED  ", Color::red)) << " " << padded(spec->name) << "  " << at->data_dir.string() << " ("
                  << at->root.label << ")\n";
        std::cout << "          " << report.summary();
        if (!report.hint.empty()) std::cout << paint("  (hint: " + report.hint + ")", Color::dim);
        std::cout << "\n";
        if (console().verbosity > 0) {
            for (const FileReport& f : report.files)
                std::cout << "            " << (f.ok ? "ok      " : "FAILED  ") << f.path << "  " << human_bytes(f.size) << "  checksum: " << f.checksum
                          << (f.problem.empty() ? "" : "  " + f.problem) << "\n";
        }
    }
    if (console().json) {
        std::cout << (name.empty() ? out : out.front()).dump(2) << "\n";
    } else if (!any_found && name.empty()) {
        std::cout << "\nNo data set is installed. Looked in: " << roots_text() << "\n";
    }
    return all_ok ? kExitOk : kExitFailed;
}

// "train-images-idx3-ubyte.gz [#####.......]  41% 4.1 MB/9.9 MB 2.3 MB/s ETA 3 s": kept short, as
// the line is cut at the terminal's width (the most useful parts first).
std::string download_line(const DownloadProgress& p) {
    if (p.checking) return p.file + " checking the " + human_bytes(p.bytes) + " downloaded ...";
    std::string line = p.file + " ";
    if (p.total > 0) {
        const double fraction = std::min(1.0, static_cast<double>(p.bytes) / static_cast<double>(p.total));
        const int width = 12, filled = static_cast<int>(fraction * width);
        line += "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '.') + "] ";
        char percent[16];
        std::snprintf(percent, sizeof percent, "%3d%% ", static_cast<int>(fraction * 100));
        line += percent;
        line += human_bytes(p.bytes) + "/" + human_bytes(p.total);
    } else {
        line += human_bytes(p.bytes);
    }
    if (p.rate > 0) {
        line += " " + human_bytes(static_cast<uint64_t>(p.rate)) + "/s";
        if (p.total > p.bytes) {
            const double eta = static_cast<double>(p.total - p.bytes) / p.rate;
            char text[32];
            if (eta >= 3600) {
                std::snprintf(text, sizeof text, " ETA %d h %02d min", static_cast<int>(eta) / 3600, static_cast<int>(eta) % 3600 / 60);
            } else if (eta >= 60) {
                std::snprintf(text, sizeof text, " ETA %d:%02d", static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
            } else {
                std::snprintf(text, sizeof text, " ETA %d s", static_cast<int>(std::ceil(eta)));
            }
            line += text;
        }
    }
    return line;
}

InstallFeedback feedback_for(ProgressLine& line) {
    InstallFeedback feedback;
    feedback.download = [&line](const DownloadProgress& p) { line.update(download_line(p)); };
    feedback.progress = [&line](const std::string& text) { line.update(text); };
    feedback.note = [&line](const std::string& text) {
        line.clear();
        if (!console().json) note(text);
    };
    return feedback;
}

fs::path chosen_root(const std::string& dir) { return dir.empty() ? user_cache_root() : fs::path(dir); }

// After an install: where it went, and a word if tito would not find it there (or finds another
// copy first).
int report_install(const DatasetSpec& spec, const InstallResult& result, const std::string& verb) {
    const auto found = locate(spec);
    const bool visible = found && fs::weakly_canonical(found->dataset_dir) == fs::weakly_canonical(result.location.dataset_dir);
    if (console().json) {
        nlohmann::json j = {{"name", spec.name},
                            {"path", result.location.data_dir.string()},
                            {"already_there", result.already_there},
                            {"official", result.official},
                            {"downloaded_bytes", result.downloaded},
                            {"found_by_lookup", visible}};
        if (!result.already_there) j["verify"] = report_json(result.report, result.location);
        std::cout << j.dump(2) << "\n";
        return kExitOk;
    }
    if (result.already_there) {
        std::cout << spec.name << " is already in " << result.location.dataset_dir.string() << " (`tito data verify " << spec.name
                  << "` checks it; --force " << verb << "s it again)\n";
    } else {
        std::cout << paint(verb == "fetch" ? "fetched " : "imported ", Color::green) << spec.name << " into " << result.location.data_dir.string() << "\n";
        std::cout << "  " << result.report.summary() << "\n";
    }
    if (!visible) {
        if (found) {
            warn("tito finds " + spec.name + " in " + found->dataset_dir.string() + " (" + found->root.label + ") first; this copy is used only when that one is gone");
        } else {
            warn(result.location.root.path.string() + " is not where tito looks: set TITO_DATA_DIR=" + fs::absolute(result.location.root.path).string());
        }
    }
    return kExitOk;
}

int run_fetch(const FetchArgs& args) {
    const Catalog catalog = Catalog::load_default();
    const DatasetSpec& spec = catalog.get(args.name);
    if (!args.mirror.empty() && args.mirror.rfind("http://", 0) != 0 && args.mirror.rfind("https://", 0) != 0)
        throw UserError("--mirror must be an http:// or https:// address, not '" + args.mirror + "'",
                        "a mirror holds the files as URL/<name>/<file>, e.g. URL/mnist/train-images-idx3-ubyte.gz");
    FetchOptions options;
    options.root = chosen_root(args.dir);
    options.mirror = args.mirror;
    options.force = args.force;
    if (!console().json && console().verbosity >= 0)
        note("fetching " + spec.name + " (" + human_bytes(spec.download_bytes()) + ") into " + (options.root / spec.name).string() +
             (options.mirror.empty() ? "" : " from the mirror " + options.mirror));
    ProgressLine line;
    try {
        const InstallResult result = fetch_dataset(spec, options, feedback_for(line));
        line.clear();
        return report_install(spec, result, "fetch");
    } catch (const DownloadError& e) {
        line.clear();
        // Not a mistake in what was typed: the network or the server. Exit 1, as a failed check.
        std::cerr << paint("error: ", Color::red) << e.what() << " (hint: " << e.hint() << ")\n";
        return kExitFailed;
    }
}

int run_import(const ImportArgs& args) {
    const Catalog catalog = Catalog::load_default();
    const DatasetSpec& spec = catalog.get(args.name);
    ProgressLine line;
    const InstallResult result = import_dataset(spec, args.path, chosen_root(args.dir), args.force, feedback_for(line));
    line.clear();
    return report_install(spec, result, "import");
}

}  // namespace

void setup_data(CLI::App& app, CommandRunner& run) {
    CLI::App* data = app.add_subcommand("data", "Data sets: list, find, verify, download (fetch) or import them");
    data->require_subcommand(0, 1);  // none: its help is shown
    data->footer(
        "Data sets are looked up in $TITO_DATA_DIR/<name>, then ~/.cache/tinytorch/datasets/<name> (where fetch and import put "
        "them), then /usr/share/datasets/<name>.");

    CLI::App* list = data->add_subcommand("list", "Every data set: where it is, its size, and whether it verified last time");
    list->callback([&run] { run = run_list; });

    auto path_name = std::make_shared<std::string>();
    CLI::App* path = data->add_subcommand("path", "Print the folder of a data set (for scripts); exit 1 when it is missing");
    path->add_option("name", *path_name, "The data set")->required()->type_name(type_name_with_choices());
    path->callback([&run, path_name] { run = [path_name] { return run_path(*path_name); }; });

    auto verify_name = std::make_shared<std::string>();
    CLI::App* verify = data->add_subcommand("verify", "Check data sets: file structure (headers, counts, labels, sizes) and checksums");
    verify->add_option("name", *verify_name, "One data set (default: every one installed)")->type_name(type_name_with_choices());
    verify->callback([&run, verify_name] { run = [verify_name] { return run_verify(*verify_name); }; });

    auto fetch_args = std::make_shared<FetchArgs>();
    CLI::App* fetch = data->add_subcommand("fetch", "Download a data set's official files, check them and unpack them");
    fetch->add_option("name", fetch_args->name, "The data set")->required()->type_name(type_name_with_choices());
    fetch->add_option("--dir", fetch_args->dir, "Put it in DIR/<name> (default: ~/.cache/tinytorch/datasets)")->type_name("DIR");
    fetch->add_option("--mirror", fetch_args->mirror, "Download from URL/<name>/<file> instead of the official addresses")
        ->type_name("URL")
        ->envname("TITO_DATA_MIRROR");
    fetch->add_flag("--force", fetch_args->force, "Download it again even if it is already there");
    fetch->callback([&run, fetch_args] { run = [fetch_args] { return run_fetch(*fetch_args); }; });

    auto import_args = std::make_shared<ImportArgs>();
    CLI::App* import = data->add_subcommand("import", "Install a data set from files you have (a folder, or the official archive)");
    import->add_option("name", import_args->name, "The data set")->required()->type_name(type_name_with_choices());
    import->add_option("path", import_args->path, "A folder holding its files, or its archive (.tar.gz)")->required()->type_name("PATH");
    import->add_option("--dir", import_args->dir, "Put it in DIR/<name> (default: ~/.cache/tinytorch/datasets)")->type_name("DIR");
    import->add_flag("--force", import_args->force, "Replace a copy that is already there");
    import->callback([&run, import_args] { run = [import_args] { return run_import(*import_args); }; });
}

}  // namespace tito
