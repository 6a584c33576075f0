// leaderboard.h - the competitions' leaderboard: an SQLite database file (WAL mode, one transaction
// per entry) that a whole class can share.
//
// What it promises:
//   - Nothing recorded is ever lost: every entry is one transaction, so a process killed mid-write
//     leaves the entries before it intact; twenty processes appending at once all get in (they
//     take turns on SQLite's write lock, waiting up to busy_timeout).
//   - A file tito did not make is never overwritten: a file that is not SQLite, an SQLite database
//     of another program (its application_id is not tito's), or a newer schema is reported with a
//     one-line error and left exactly as it was. A new leaderboard is built in a temporary file
//     and linked into place only if nothing is there yet, so two first submits cannot clobber
//     each other.
//   - Changes made outside tito are detected: each entry stores hash = SHA-256(previous entry's
//     hash + its own canonical JSON), a chain from the first entry to the last. An edited,
//     deleted or inserted row breaks the chain; verify() names the first entry that does not
//     match. (A determined student who recomputes the chain is out of scope - DESIGN.md's threat
//     model; `tito leaderboard verify` re-runs an entry from its commit.)
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "course.h"

struct sqlite3;

namespace tito {

namespace fs = std::filesystem;

struct LeaderboardEntry {
    int64_t id = 0;            // 1, 2, ... in the order recorded (set by append)
    std::string competition;   // "cifar", "gpt"
    bool quick = false;        // a --quick run (tests, trying things out): listed only with --quick
    bool reference = false;    // tito submit --reference (the course's own solution)
    std::string status;        // "scored" or "failed"
    std::string failure;       // why a failed attempt failed, one line ("over the 240 s budget: returned after 251.3 s")
    std::string name, handle, email;  // the student (module 01's my_identity)
    double score = 0.0;        // the competition's score (accuracy 0-1, tokens/s); 0 for failed attempts
    nlohmann::json metrics = nlohmann::json::object();  // everything measured: training_seconds, peak_memory_mib, ...
    std::string workspace;     // absolute path of the workspace
    std::string commit;        // full id of the workspace commit that was run
    std::vector<std::string> student_modules;  // dir names of the modules whose student code ran
    std::string engine_version, tito_version;
    std::string cpu_model;     // "AMD EPYC 7B13"
    int cores = 0;
    std::string rules_hash;    // SHA-256 of the competition's effective rules (quick variant included)
    std::string recorded_at;   // "2026-12-02T15:04:05Z" (set by append when empty)
    std::string hash;          // the chain hash (set by append)

    nlohmann::json to_json() const;  // every field above
    static LeaderboardEntry from_json(const nlohmann::json& j);
};

// Where the leaderboard is: `explicit_path` (--leaderboard) if given, else $TITO_LEADERBOARD, else
// configs/leaderboard.json's "path" ("~/" and "$XDG_DATA_HOME" expanded), else
// ~/.local/share/tinytorch/leaderboard.db.
fs::path leaderboard_path(const Course& course, const std::string& explicit_path);

class Leaderboard {
public:
    // Opens an existing leaderboard. UserError (one line + hint, the file untouched) when it does
    // not exist, is not an SQLite file, belongs to another program, has a newer schema, or fails
    // SQLite's quick_check.
    static Leaderboard open(const fs::path& path);
    // Opens it, creating an empty one first when there is no file at `path` (parent folders too).
    static Leaderboard open_or_create(const fs::path& path);

    // How the chain stood at one moment: the number of entries and the last entry's hash.
    struct Snapshot {
        int64_t count = 0;
        std::string last_hash;  // "" when empty
    };
    // Verifies the whole chain first (throws like verify()).
    Snapshot snapshot();

    // Checks every entry's hash against the chain. Returns "" when all is well, otherwise one line:
    // "entry 7 does not match its hash: it was changed outside tito".
    std::string verify();
    // "" when the entries of `before` are all still there, unchanged, and the chain is intact;
    // otherwise one line saying what changed (e.g. "entry 3 was deleted", "entry 5 was changed",
    // "the file was replaced"). Entries appended since (other students' submits) are fine.
    std::string changed_since(const Snapshot& before);

    // Records `entry` in one transaction (BEGIN IMMEDIATE, so concurrent writers queue), after
    // checking the chain's last entry; sets id, recorded_at (when empty) and hash, and returns the
    // entry as stored. UserError when the chain is broken (nothing is written then).
    LeaderboardEntry append(LeaderboardEntry entry);

    // Entries in id order; competition "" for all.
    std::vector<LeaderboardEntry> entries(const std::string& competition = "");
    std::optional<LeaderboardEntry> entry(int64_t id);

    const fs::path& path() const { return path_; }

    Leaderboard(Leaderboard&&) noexcept;
    Leaderboard& operator=(Leaderboard&&) noexcept;
    ~Leaderboard();

private:
    Leaderboard(sqlite3* db, fs::path path);
    sqlite3* db_ = nullptr;
    fs::path path_;
    // The device and inode of the file this connection opened: the same name later holding
    // another file means it was replaced (0, 0: not known).
    uint64_t device_ = 0, inode_ = 0;
};

// The ranking: scored entries of one competition, best first (higher score; ties: lower
// metrics.training_seconds, then earlier). best_per_student keeps each handle's best entry only.
// Quick entries are left out unless `quick`, which ranks the quick entries alone (their rules
// differ, so quick and full runs never share a ranking); reference entries are kept (marked in
// the table).
std::vector<LeaderboardEntry> ranking(const std::vector<LeaderboardEntry>& entries, const std::string& competition,
                                      bool best_per_student, bool quick);

// One self-contained HTML page (no external resources, no scripts needed to read it): a title, the
// ranking table, and an inline SVG plot of score against training time (one point per entry,
// labelled with the handle). A `score_label` with a '%' in it ("test accuracy (%)") shows the
// scores x100: accuracy is stored 0-1.
std::string leaderboard_html(const std::vector<LeaderboardEntry>& ranked, const std::string& competition,
                             const std::string& score_label);

}  // namespace tito
