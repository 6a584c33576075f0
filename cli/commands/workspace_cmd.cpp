// workspace_cmd.cpp - `tito workspace repair`.
//
// tito commits .tito/ (all but the build cache) with every snapshot, so a deleted .tito/ folder or
// a damaged progress.json can be put back from the history - the student's own files are left
// exactly as they are.
#include "commands/workspace_cmd.h"

#include <ctime>
#include <iostream>

#include "errors.h"
#include "term.h"
#include "workspace.h"
#include "workspace_lock.h"

namespace tito {

namespace {

std::string commit_time(int64_t seconds) {
    std::time_t time = static_cast<std::time_t>(seconds);
    std::tm utc{};
    gmtime_r(&time, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
    return text;
}

int run_repair() {
    const fs::path root = workspace_to_repair(fs::current_path());
    fs::create_directories(root / ".tito");  // for the lock; says plainly when the folder is not writable
    WorkspaceLock lock = WorkspaceLock::acquire(root / ".tito");
    const RepairResult result = repair_workspace(root);

    // What the restored progress says, so the student sees their work is back.
    std::vector<std::string> passed, started;
    if (fs::exists(result.root / ".tito" / "workspace.json")) {
        const Workspace workspace = Workspace::open(result.root);
        for (const auto& [id, module] : workspace.progress().modules) (module.state == "passed" ? passed : started).push_back(id);
    }

    if (console().json) {
        nlohmann::json restored = nlohmann::json::array();
        for (const RestoredFile& r : result.restored)
            restored.push_back({{"file", r.file},
                                {"was", r.why},
                                {"commit", r.commit.short_id},
                                {"committed_at", commit_time(r.commit.time)},
                                {"message", r.commit.summary},
                                {"kept_as", r.kept_as}});
        std::cout << nlohmann::json{{"workspace", result.root.string()}, {"restored", restored}, {"intact", result.intact},
                                    {"unrestorable", result.unrestorable}, {"passed", passed}, {"started", started}}
                         .dump(2)
                  << "\n";
        return kExitOk;
    }
    for (const std::string& file : result.unrestorable)
        warn(file + " is damaged and no commit has a readable copy; left as it is (the next `tito test` of that module rewrites it)");
    if (console().verbosity < 0) return kExitOk;
    if (result.restored.empty()) {
        std::cout << "Nothing to repair in " << result.root.string() << ": all " << result.intact.size()
                  << " state files are intact.\n";
        return kExitOk;
    }
    std::cout << "Repaired the workspace " << result.root.string() << ":\n\n";
    Table table;
    table.header = {"restored", "was", "from commit", "committed", "message"};
    for (const RestoredFile& r : result.restored)
        table.rows.push_back({r.file, r.why, r.commit.short_id, commit_time(r.commit.time), r.commit.summary});
    table.print(std::cout);
    std::cout << "\n";
    for (const RestoredFile& r : result.restored)
        if (!r.kept_as.empty()) std::cout << "The damaged " << r.file << " is kept as " << r.kept_as << ".\n";
    std::cout << "Your own files were not touched. Progress: " << passed.size() << " module" << (passed.size() == 1 ? "" : "s")
              << " passed, " << started.size() << " started; `tito status` shows it all.\n";
    return kExitOk;
}

}  // namespace

void setup_workspace(CLI::App& app, CommandRunner& run) {
    CLI::App* workspace = app.add_subcommand("workspace", "Look after the workspace itself: restore lost or damaged state");
    workspace->require_subcommand(0, 1);  // none: its help is shown
    CLI::App* repair = workspace->add_subcommand(
        "repair", "Restore .tito/ (progress, results) from the last commit that has it; your files are not touched");
    repair->callback([&run] { run = run_repair; });
}

}  // namespace tito
