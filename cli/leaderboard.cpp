// leaderboard.cpp - see leaderboard.h.
//
// The file: one SQLite database, WAL mode, with one table:
//     entries(id, competition, quick, reference, status, handle, score, recorded_at, entry_json, hash)
// entry_json is the entry's canonical JSON (LeaderboardEntry::to_json() without "hash", keys
// sorted, as nlohmann::json prints them) and is the truth: entries are read back from it, and the
// other columns only exist so that SQL can find and sort rows. hash = SHA-256(previous hash +
// entry_json), the previous hash of entry 1 being "".
//
// Why SQLite settings are what they are:
//   - journal_mode=WAL: readers (`tito leaderboard`) never block the writer and the other way
//     round, and a commit is one append to the -wal file, so a process killed mid-write leaves
//     the last committed state.
//   - synchronous=FULL: WAL with NORMAL already survives a killed process, but after a power cut
//     it may lose the last commits. A submit writes once after minutes of training, so the extra
//     fsync per commit costs nothing a person could notice, and "nothing recorded is lost" then
//     holds for power cuts too.
//   - busy_timeout 30 s: twenty submits finishing together take turns on the write lock; each
//     holds it for a few milliseconds.
//   - application_id and user_version mark the file as tito's, schema 1: they are read from the
//     header bytes before SQLite ever opens the file, so a file of another program is never
//     touched (not even to recover its journal).
#include "leaderboard.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <utility>

#include "checksum.h"
#include "errors.h"
#include "files.h"

namespace tito {

namespace {

constexpr uint32_t kApplicationId = 0x54544C42;  // "TTLB": tito's leaderboard
constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 30000;

const char* const kSchema = R"sql(
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    competition TEXT NOT NULL,
    quick INTEGER NOT NULL,
    reference INTEGER NOT NULL,
    status TEXT NOT NULL,
    handle TEXT NOT NULL,
    score REAL NOT NULL,
    recorded_at TEXT NOT NULL,
    entry_json TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX entries_ranking ON entries (competition, quick, status, score);
CREATE INDEX entries_handle ON entries (handle);
)sql";

const char* const kKeepHint = "tito never overwrites it; move it away or pass --leaderboard FILE";
const char* const kTamperedHint =
    "the file was edited outside tito; restore it from a backup, or record new entries in another file with --leaderboard FILE";

// A UserError for an SQLite failure on the leaderboard at `path`: what was being done, SQLite's
// own explanation, and what the person can do about it.
[[noreturn]] void throw_sqlite(sqlite3* db, int rc, const fs::path& path, const std::string& what) {
    const std::string reason = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int primary = rc & 0xff;
    const std::string message = "leaderboard " + path.string() + ": " + what + ": " + reason;
    switch (primary) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            throw UserError(message, "another program held the leaderboard for more than 30 s; try again, or check what keeps it open (`fuser " +
                                         path.string() + "`)");
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            throw UserError(message, kKeepHint);
        case SQLITE_FULL:
            throw UserError(message, os_error_hint(ENOSPC));
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR: {
            const int error_number = db ? sqlite3_system_errno(db) : 0;
            const std::string folder = path.parent_path().string();
            throw UserError(message, os_error_hint(error_number ? error_number : EACCES, folder));
        }
        default:
            throw UserError(message, kKeepHint);
    }
}

// A prepared statement, finalized on scope exit.
class Statement {
public:
    Statement(sqlite3* db, const fs::path& path, const char* sql) : db_(db), path_(path) {
        const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
        if (rc != SQLITE_OK) throw_sqlite(db, rc, path, "cannot read it");
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // true while there is a row.
    bool step(const std::string& what) {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw_sqlite(db_, rc, path_, what);
    }
    void bind(int index, const std::string& text) { sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT); }
    void bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
    void bind(int index, double value) { sqlite3_bind_double(stmt_, index, value); }
    int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    double real(int column) const { return sqlite3_column_double(stmt_, column); }
    std::string text(int column) const {
        const unsigned char* data = sqlite3_column_text(stmt_, column);
        return data ? std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : "";
    }

private:
    sqlite3* db_;
    const fs::path& path_;
    sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const fs::path& path, const char* sql, const std::string& what) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) throw_sqlite(db, rc, path, what);
}

int64_t pragma_integer(sqlite3* db, const fs::path& path, const char* sql) {
    Statement statement(db, path, sql);
    return statement.step("cannot read its settings") ? statement.integer(0) : 0;
}

// The canonical text of an entry, the input of its chain hash: every field but the hash itself.
std::string canonical_json(const LeaderboardEntry& entry) {
    nlohmann::json j = entry.to_json();
    j.erase("hash");
    return j.dump();
}

std::string chain_hash(const std::string& previous_hash, const std::string& entry_json) {
    return sha256_hex(previous_hash + entry_json);
}

// The file's device and inode: the same name holding another file means it was replaced.
struct FileId {
    dev_t device = 0;
    ino_t inode = 0;
    bool operator==(const FileId&) const = default;
};

std::optional<FileId> file_id(const fs::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return std::nullopt;
    return FileId{info.st_dev, info.st_ino};
}

uint32_t big_endian_u32(const unsigned char* bytes) {
    return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) | uint32_t(bytes[3]);
}

// Reads the 100-byte database header ourselves and refuses anything that is not a tito
// leaderboard of a schema this tito knows - before SQLite sees the file, so it is never changed.
void check_header(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int error_number = errno;
        throw UserError("cannot read the leaderboard " + path.string() + ": " + std::strerror(error_number),
                        os_error_hint(error_number, path.parent_path().string()));
    }
    unsigned char header[100] = {};
    in.read(reinterpret_cast<char*>(header), sizeof header);
    const auto got = in.gcount();
    static const char kMagic[] = "SQLite format 3";  // 16 bytes with its '\0'
    if (got < 100 || std::memcmp(header, kMagic, sizeof kMagic) != 0)
        throw UserError("the leaderboard " + path.string() + " is not an SQLite database (" +
                            (got == 0 ? std::string("the file is empty") : "it does not start with \"SQLite format 3\"") + ")",
                        kKeepHint);
    const uint32_t application_id = big_endian_u32(header + 68);
    if (application_id != kApplicationId) {
        char text[16];
        std::snprintf(text, sizeof text, "0x%08X", application_id);
        throw UserError("the leaderboard " + path.string() + " is an SQLite database of another program (application id " + text +
                            ", tito's is 0x54544C42)",
                        kKeepHint);
    }
    const uint32_t version = big_endian_u32(header + 60);
    if (version > static_cast<uint32_t>(kSchemaVersion))
        throw UserError("the leaderboard " + path.string() + " was made by a newer tito (schema " + std::to_string(version) +
                            ", this tito knows up to " + std::to_string(kSchemaVersion) + ")",
                        "update tito (`git pull` and `scripts/setup.sh` in the course folder), or pass --leaderboard FILE");
    if (version == 0)
        throw UserError("the leaderboard " + path.string() + " has tito's mark but no schema: it was never finished", kKeepHint);
}

// Opens a file already checked by check_header(): read-write, never created.
sqlite3* open_connection(const fs::path& path) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        try {
            throw_sqlite(db, rc, path, "cannot open it");
        } catch (...) {
            sqlite3_close(db);
            throw;
        }
    }
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    sqlite3_extended_result_codes(db, 1);
    return db;
}

// Builds an empty leaderboard in a temporary file next to `path` and links it into place unless
// a file appeared there meanwhile (another tito's first submit: then theirs is used).
void create_board(const fs::path& path) {
    const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec)
        throw UserError("cannot create the folder " + folder.string() + " for the leaderboard: " + ec.message(),
                        os_error_hint(ec.value(), folder.string()));
    std::random_device random;
    const fs::path temp = folder / ("." + path.filename().string() + ".new-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    auto remove_temp = [&] {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((temp.string() + suffix).c_str());
    };
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(temp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE, nullptr);
    try {
        if (rc != SQLITE_OK) throw_sqlite(db, rc, temp, "cannot create it");
        const std::string setup = "PRAGMA application_id = " + std::to_string(kApplicationId) + "; PRAGMA user_version = " +
                                  std::to_string(kSchemaVersion) + "; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";
        exec(db, temp, setup.c_str(), "cannot set it up");
        exec(db, temp, "BEGIN", "cannot set it up");
        exec(db, temp, kSchema, "cannot set it up");
        exec(db, temp, "COMMIT", "cannot set it up");
        rc = sqlite3_close(db);  // checkpoints the WAL into the file and removes it
        db = nullptr;
        if (rc != SQLITE_OK) throw_sqlite(nullptr, rc, temp, "cannot finish it");
    } catch (...) {
        sqlite3_close(db);
        remove_temp();
        throw;
    }
    // link() fails with EEXIST instead of replacing: of two first submits, one board wins and
    // both use it.
    if (::link(temp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
        const int error_number = errno;
        remove_temp();
        throw UserError("cannot create the leaderboard " + path.string() + ": " + std::strerror(error_number),
                        os_error_hint(error_number, folder.string()));
    }
    remove_temp();
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

// One stored row.
struct Row {
    int64_t id = 0;
    std::string competition, status, handle;
    int64_t quick = 0, reference = 0;
    double score = 0.0;
    std::string entry_json, hash;
};

std::vector<Row> read_rows(sqlite3* db, const fs::path& path) {
    Statement statement(db, path,
                        "SELECT id, competition, quick, reference, status, handle, score, entry_json, hash FROM entries ORDER BY id");
    std::vector<Row> rows;
    while (statement.step("cannot read its entries")) {
        Row row;
        row.id = statement.integer(0);
        row.competition = statement.text(1);
        row.quick = statement.integer(2);
        row.reference = statement.integer(3);
        row.status = statement.text(4);
        row.handle = statement.text(5);
        row.score = statement.real(6);
        row.entry_json = statement.text(7);
        row.hash = statement.text(8);
        rows.push_back(std::move(row));
    }
    return rows;
}

// "" when every row's hash continues the chain, ids run 1, 2, ... and the index columns agree
// with the entry; otherwise one line naming the first row that does not.
std::string verify_rows(const std::vector<Row>& rows) {
    std::string previous;
    int64_t expected_id = 1;
    for (const Row& row : rows) {
        if (row.id > expected_id)
            return row.id == expected_id + 1 ? "entry " + std::to_string(expected_id) + " was deleted"
                                             : "entries " + std::to_string(expected_id) + " to " + std::to_string(row.id - 1) + " were deleted";
        if (row.id < expected_id) return "entry " + std::to_string(row.id) + " is out of order: it was added outside tito";
        if (chain_hash(previous, row.entry_json) != row.hash)
            return "entry " + std::to_string(row.id) + " does not match its hash: it was changed or added outside tito";
        nlohmann::json j = nlohmann::json::parse(row.entry_json, nullptr, false);
        LeaderboardEntry entry;
        try {
            if (j.is_discarded()) throw std::runtime_error("not JSON");
            entry = LeaderboardEntry::from_json(j);
        } catch (const std::exception&) {
            return "entry " + std::to_string(row.id) + " is not a valid entry: it was changed outside tito";
        }
        if (entry.id != row.id || entry.competition != row.competition || entry.status != row.status || entry.handle != row.handle ||
            int64_t(entry.quick) != row.quick || int64_t(entry.reference) != row.reference || entry.score != row.score)
            return "entry " + std::to_string(row.id) + "'s columns do not match its record: they were changed outside tito";
        previous = row.hash;
        ++expected_id;
    }
    return "";
}

}  // namespace

// --- LeaderboardEntry ---------------------------------------------------------------------------

nlohmann::json LeaderboardEntry::to_json() const {
    return {{"id", id},
            {"competition", competition},
            {"quick", quick},
            {"reference", reference},
            {"status", status},
            {"failure", failure},
            {"name", name},
            {"handle", handle},
            {"email", email},
            {"score", score},
            {"metrics", metrics},
            {"workspace", workspace},
            {"commit", commit},
            {"student_modules", student_modules},
            {"engine_version", engine_version},
            {"tito_version", tito_version},
            {"cpu_model", cpu_model},
            {"cores", cores},
            {"rules_hash", rules_hash},
            {"recorded_at", recorded_at},
            {"hash", hash}};
}

LeaderboardEntry LeaderboardEntry::from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw UserError("a leaderboard entry must be a JSON object, not " + std::string(j.type_name()));
    LeaderboardEntry e;
    try {
        e.id = j.value("id", int64_t{0});
        e.competition = j.value("competition", "");
        e.quick = j.value("quick", false);
        e.reference = j.value("reference", false);
        e.status = j.value("status", "");
        e.failure = j.value("failure", "");
        e.name = j.value("name", "");
        e.handle = j.value("handle", "");
        e.email = j.value("email", "");
        e.score = j.value("score", 0.0);
        e.metrics = j.value("metrics", nlohmann::json::object());
        e.workspace = j.value("workspace", "");
        e.commit = j.value("commit", "");
        e.student_modules = j.value("student_modules", std::vector<std::string>{});
        e.engine_version = j.value("engine_version", "");
        e.tito_version = j.value("tito_version", "");
        e.cpu_model = j.value("cpu_model", "");
        e.cores = j.value("cores", 0);
        e.rules_hash = j.value("rules_hash", "");
        e.recorded_at = j.value("recorded_at", "");
        e.hash = j.value("hash", "");
    } catch (const nlohmann::json::exception& error) {
        throw UserError(std::string("a leaderboard entry has a field of the wrong type: ") + error.what());
    }
    if (!e.metrics.is_object()) throw UserError("a leaderboard entry's metrics must be a JSON object");
    return e;
}

// --- where the board is -------------------------------------------------------------------------

namespace {

std::string home_dir() {
    const char* home = std::getenv("HOME");
    return home && *home ? home : "/";
}

// "~/x" -> "$HOME/x"; "$XDG_DATA_HOME/x" -> its value, or ~/.local/share when unset.
fs::path expand_path(std::string text) {
    const std::string xdg = "$XDG_DATA_HOME";
    if (text.rfind(xdg, 0) == 0) {
        const char* value = std::getenv("XDG_DATA_HOME");
        text = (value && *value ? std::string(value) : home_dir() + "/.local/share") + text.substr(xdg.size());
    }
    if (text == "~" || text.rfind("~/", 0) == 0) text = home_dir() + text.substr(1);
    return fs::absolute(text);
}

}  // namespace

fs::path leaderboard_path(const Course& course, const std::string& explicit_path) {
    if (!explicit_path.empty()) return expand_path(explicit_path);
    if (const char* env = std::getenv("TITO_LEADERBOARD"); env && *env) return expand_path(env);
    if (fs::exists(course.share() / "configs" / "leaderboard.json")) {
        const nlohmann::json config = course.config("leaderboard.json");
        if (config.contains("path")) {
            if (!config["path"].is_string() || config["path"].get<std::string>().empty())
                throw UserError("configs/leaderboard.json: \"path\" must be a file name", "rebuild or reinstall tito to restore it");
            return expand_path(config["path"].get<std::string>());
        }
    }
    return expand_path("~/.local/share/tinytorch/leaderboard.db");
}

// --- Leaderboard --------------------------------------------------------------------------------

Leaderboard::Leaderboard(sqlite3* db, fs::path path) : db_(db), path_(std::move(path)) {}
Leaderboard::Leaderboard(Leaderboard&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)), device_(other.device_), inode_(other.inode_) {}
Leaderboard& Leaderboard::operator=(Leaderboard&& other) noexcept {
    std::swap(db_, other.db_);
    std::swap(path_, other.path_);
    std::swap(device_, other.device_);
    std::swap(inode_, other.inode_);
    return *this;
}
Leaderboard::~Leaderboard() {
    if (!db_) return;
    sqlite3_close(db_);
}

Leaderboard Leaderboard::open(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw UserError("there is no leaderboard at " + path.string(), "`tito submit` creates it with the first entry; or pass --leaderboard FILE");
    if (fs::is_directory(path, ec)) throw UserError("the leaderboard " + path.string() + " is a folder, not a file", "pass --leaderboard FILE");
    const std::optional<FileId> before = file_id(path);
    check_header(path);
    Leaderboard board(open_connection(path), path);
    if (before) {
        board.device_ = static_cast<uint64_t>(before->device);
        board.inode_ = static_cast<uint64_t>(before->inode);
    }
    // The header said it is ours; SQLite confirms it (the header may have been copied onto junk).
    if (pragma_integer(board.db_, path, "PRAGMA application_id") != int64_t(kApplicationId) ||
        pragma_integer(board.db_, path, "PRAGMA user_version") > kSchemaVersion)
        throw UserError("the leaderboard " + path.string() + " is not tito's", kKeepHint);
    exec(board.db_, path, "PRAGMA synchronous = FULL", "cannot set it up");
    Statement check(board.db_, path, "PRAGMA quick_check");
    std::string problem;
    while (check.step("cannot check it")) {
        // A problem reads "*** in database main ***\nPage 4: btreeInitPage() returns error code 11":
        // one line of it is enough.
        std::string line = check.text(0);
        if (const size_t header = line.find("*** in database main ***\n"); header != std::string::npos) line.erase(header, 25);
        std::replace(line.begin(), line.end(), '\n', ' ');
        if (line != "ok" && problem.empty()) problem = line;
    }
    if (!problem.empty()) throw UserError("the leaderboard " + path.string() + " is damaged: " + problem, kKeepHint);
    Statement table(board.db_, path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'entries'");
    if (!table.step("cannot read it") || table.integer(0) != 1)
        throw UserError("the leaderboard " + path.string() + " has no entries table: it is damaged", kKeepHint);
    return board;
}

Leaderboard Leaderboard::open_or_create(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec) && !fs::is_symlink(path, ec)) create_board(path);
    return open(path);
}

std::string Leaderboard::verify() { return verify_rows(read_rows(db_, path_)); }

Leaderboard::Snapshot Leaderboard::snapshot() {
    const std::vector<Row> rows = read_rows(db_, path_);
    if (const std::string problem = verify_rows(rows); !problem.empty())
        throw UserError("the leaderboard " + path_.string() + " was changed outside tito: " + problem, kTamperedHint);
    Snapshot snapshot;
    snapshot.count = static_cast<int64_t>(rows.size());
    snapshot.last_hash = rows.empty() ? "" : rows.back().hash;
    return snapshot;
}

std::string Leaderboard::changed_since(const Snapshot& before) {
    // Another file under the same name: our connection still reads the old one.
    const std::optional<FileId> now = file_id(path_);
    if (!now) return "the file was deleted";
    if (inode_ != 0 && !(FileId{static_cast<dev_t>(device_), static_cast<ino_t>(inode_)} == *now)) return "the file was replaced";
    const std::vector<Row> rows = read_rows(db_, path_);
    if (const std::string problem = verify_rows(rows); !problem.empty()) return problem;
    const auto count = static_cast<int64_t>(rows.size());
    if (count < before.count)
        return count + 1 == before.count ? "entry " + std::to_string(before.count) + " was deleted"
                                         : "entries " + std::to_string(count + 1) + " to " + std::to_string(before.count) + " were deleted";
    if (before.count > 0 && rows[static_cast<size_t>(before.count - 1)].hash != before.last_hash)
        return "entries 1 to " + std::to_string(before.count) + " were rewritten (an entry was changed and the chain recomputed)";
    return "";
}

LeaderboardEntry Leaderboard::append(LeaderboardEntry entry) {
    if (entry.competition.empty() || (entry.status != "scored" && entry.status != "failed"))
        throw UserError("a leaderboard entry needs a competition and a status of \"scored\" or \"failed\"");
    if (inode_ != 0 && file_id(path_) != std::optional<FileId>(FileId{static_cast<dev_t>(device_), static_cast<ino_t>(inode_)}))
        throw UserError("the leaderboard " + path_.string() + " was replaced while tito had it open; nothing was recorded", kTamperedHint);
    // BEGIN IMMEDIATE takes the write lock now (waiting up to busy_timeout), so the chain read
    // below is still the last one when the entry is inserted.
    exec(db_, path_, "BEGIN IMMEDIATE", "cannot start writing");
    try {
        const std::vector<Row> rows = read_rows(db_, path_);
        if (const std::string problem = verify_rows(rows); !problem.empty())
            throw UserError("the leaderboard " + path_.string() + " was changed outside tito (" + problem + "); nothing was recorded", kTamperedHint);
        entry.id = rows.empty() ? 1 : rows.back().id + 1;
        if (entry.recorded_at.empty()) entry.recorded_at = utc_timestamp();
        if (!entry.metrics.is_object()) entry.metrics = nlohmann::json::object();
        if (!std::isfinite(entry.score)) throw UserError("a leaderboard score must be a finite number");
        entry.hash.clear();
        const std::string text = canonical_json(entry);
        entry.hash = chain_hash(rows.empty() ? "" : rows.back().hash, text);
        Statement insert(db_, path_,
                         "INSERT INTO entries (id, competition, quick, reference, status, handle, score, recorded_at, entry_json, hash) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        insert.bind(1, entry.id);
        insert.bind(2, entry.competition);
        insert.bind(3, int64_t(entry.quick));
        insert.bind(4, int64_t(entry.reference));
        insert.bind(5, entry.status);
        insert.bind(6, entry.handle);
        insert.bind(7, entry.score);
        insert.bind(8, entry.recorded_at);
        insert.bind(9, text);
        insert.bind(10, entry.hash);
        insert.step("cannot record the entry");
        exec(db_, path_, "COMMIT", "cannot record the entry");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    return entry;
}

std::vector<LeaderboardEntry> Leaderboard::entries(const std::string& competition) {
    std::vector<LeaderboardEntry> out;
    for (const Row& row : read_rows(db_, path_)) {
        if (!competition.empty() && row.competition != competition) continue;
        nlohmann::json j = nlohmann::json::parse(row.entry_json, nullptr, false);
        if (j.is_discarded())
            throw UserError("the leaderboard " + path_.string() + ": entry " + std::to_string(row.id) + " is not valid JSON", kTamperedHint);
        LeaderboardEntry entry = LeaderboardEntry::from_json(j);
        entry.id = row.id;
        entry.hash = row.hash;
        out.push_back(std::move(entry));
    }
    return out;
}

std::optional<LeaderboardEntry> Leaderboard::entry(int64_t id) {
    for (LeaderboardEntry& e : entries())
        if (e.id == id) return std::move(e);
    return std::nullopt;
}

// --- ranking and HTML ---------------------------------------------------------------------------

namespace {

double training_seconds(const LeaderboardEntry& e) {
    const auto it = e.metrics.find("training_seconds");
    return it != e.metrics.end() && it->is_number() ? it->get<double>() : std::numeric_limits<double>::infinity();
}

}  // namespace

std::vector<LeaderboardEntry> ranking(const std::vector<LeaderboardEntry>& entries, const std::string& competition,
                                      bool best_per_student, bool quick) {
    std::vector<LeaderboardEntry> ranked;
    for (const LeaderboardEntry& e : entries)
        if (e.competition == competition && e.status == "scored" && e.quick == quick) ranked.push_back(e);
    std::stable_sort(ranked.begin(), ranked.end(), [](const LeaderboardEntry& a, const LeaderboardEntry& b) {
        if (a.score != b.score) return a.score > b.score;
        const double ta = training_seconds(a), tb = training_seconds(b);
        if (ta != tb) return ta < tb;
        return a.id < b.id;
    });
    if (best_per_student) {
        std::set<std::string> seen;
        std::erase_if(ranked, [&](const LeaderboardEntry& e) { return !seen.insert(e.handle).second; });
    }
    return ranked;
}

namespace {

std::string html_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string number(double value, const char* format) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

// A "nice" step (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `span`.
double nice_step(double span, int ticks) {
    const double raw = span / ticks;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0})
        if (raw <= m * power) return m * power;
    return 10.0 * power;
}

}  // namespace

std::string leaderboard_html(const std::vector<LeaderboardEntry>& ranked, const std::string& competition,
                             const std::string& score_label) {
    // Accuracy is stored 0-1 and shown in percent when the label says so.
    const bool percent = score_label.find('%') != std::string::npos;
    const double scale = percent ? 100.0 : 1.0;
    auto score_text = [&](double score) { return number(score * scale, percent ? "%.2f" : "%.4g"); };

    std::string html;
    html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    html += "<title>TinyTorch leaderboard: " + html_escape(competition) + "</title>\n";
    html += "<style>\n"
            "body { font-family: sans-serif; margin: 2em; color: #222; }\n"
            "table { border-collapse: collapse; margin: 1em 0; }\n"
            "th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; white-space: nowrap; }\n"
            "td.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
            "tr.reference td { color: #666; font-style: italic; }\n"
            "svg text { font-size: 12px; font-family: sans-serif; }\n"
            "</style>\n</head>\n<body>\n";
    html += "<h1>TinyTorch leaderboard: " + html_escape(competition) + "</h1>\n";
    if (ranked.empty()) {
        html += "<p>No scored entries yet. Submit one with <code>tito submit --competition " + html_escape(competition) + "</code>.</p>\n";
        return html + "</body>\n</html>\n";
    }

    html += "<table>\n<thead><tr><th>rank</th><th>handle</th><th>name</th><th>" + html_escape(score_label) +
            "</th><th>training time (s)</th><th>peak memory (MiB)</th><th>date</th><th>commit</th></tr></thead>\n<tbody>\n";
    for (size_t i = 0; i < ranked.size(); ++i) {
        const LeaderboardEntry& e = ranked[i];
        const double seconds = training_seconds(e);
        const auto memory = e.metrics.find("peak_memory_mib");
        html += std::string("<tr") + (e.reference ? " class=\"reference\"" : "") + "><td class=\"num\">" + std::to_string(i + 1) +
                "</td><td>" + html_escape(e.handle) + (e.reference ? " (reference)" : "") + "</td><td>" + html_escape(e.name) +
                "</td><td class=\"num\">" + score_text(e.score) + "</td><td class=\"num\">" +
                (std::isfinite(seconds) ? number(seconds, "%.1f") : "") + "</td><td class=\"num\">" +
                (memory != e.metrics.end() && memory->is_number() ? number(memory->get<double>(), "%.0f") : "") + "</td><td>" +
                html_escape(e.recorded_at.substr(0, 10)) + "</td><td><code>" + html_escape(e.commit.substr(0, 10)) + "</code></td></tr>\n";
    }
    html += "</tbody>\n</table>\n";

    // The plot: score against training time, one labelled point per entry.
    std::vector<const LeaderboardEntry*> plotted;
    for (const LeaderboardEntry& e : ranked)
        if (std::isfinite(training_seconds(e))) plotted.push_back(&e);
    if (plotted.empty()) {
        html += "<p>(No training times recorded: nothing to plot.)</p>\n";
        return html + "</body>\n</html>\n";
    }
    double x_max = 0, y_min = std::numeric_limits<double>::infinity(), y_max = -y_min;
    for (const LeaderboardEntry* e : plotted) {
        x_max = std::max(x_max, training_seconds(*e));
        y_min = std::min(y_min, e->score * scale);
        y_max = std::max(y_max, e->score * scale);
    }
    const double x_step = nice_step(std::max(x_max, 1e-9), 5);
    x_max = x_step * std::ceil(x_max / x_step + 1e-9);
    if (x_max <= 0) x_max = x_step;
    if (y_max - y_min < 1e-9) {  // one score (or all equal): a band around it
        y_min -= std::max(1.0, std::abs(y_min) * 0.05);
        y_max += std::max(1.0, std::abs(y_max) * 0.05);
    }
    const double margin = 0.08 * (y_max - y_min);  // no point sits on the frame
    y_min -= margin;
    y_max += margin;
    const double y_step = nice_step(y_max - y_min, 5);
    y_min = y_step * std::floor(y_min / y_step);
    y_max = y_step * std::ceil(y_max / y_step);
    if (percent) y_min = std::max(0.0, y_min), y_max = std::min(100.0, std::max(y_max, y_min + y_step));

    const double width = 720, height = 420, left = 70, right = 30, top = 20, bottom = 50;
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    auto px = [&](double x) { return left + plot_w * x / x_max; };
    auto py = [&](double y) { return top + plot_h * (1.0 - (y - y_min) / (y_max - y_min)); };

    html += "<h2>" + html_escape(score_label) + " against training time</h2>\n";
    html += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width, "%.0f") + "\" height=\"" + number(height, "%.0f") +
            "\" style=\"overflow: visible\" role=\"img\" aria-label=\"" + html_escape(score_label) + " against training time\">\n";
    html += "<rect x=\"" + number(left, "%.0f") + "\" y=\"" + number(top, "%.0f") + "\" width=\"" + number(plot_w, "%.0f") +
            "\" height=\"" + number(plot_h, "%.0f") + "\" fill=\"#fafafa\" stroke=\"#999\"/>\n";
    for (double x = 0; x <= x_max + 1e-9; x += x_step) {
        html += "<line x1=\"" + number(px(x), "%.1f") + "\" y1=\"" + number(top, "%.0f") + "\" x2=\"" + number(px(x), "%.1f") + "\" y2=\"" +
                number(top + plot_h, "%.0f") + "\" stroke=\"#e4e4e4\"/>\n";
        html += "<text x=\"" + number(px(x), "%.1f") + "\" y=\"" + number(top + plot_h + 18, "%.0f") + "\" text-anchor=\"middle\">" +
                number(x, "%g") + "</text>\n";
    }
    for (double y = y_min; y <= y_max + 1e-9 * std::max(1.0, std::abs(y_max)); y += y_step) {
        html += "<line x1=\"" + number(left, "%.0f") + "\" y1=\"" + number(py(y), "%.1f") + "\" x2=\"" + number(left + plot_w, "%.0f") +
                "\" y2=\"" + number(py(y), "%.1f") + "\" stroke=\"#e4e4e4\"/>\n";
        html += "<text x=\"" + number(left - 8, "%.0f") + "\" y=\"" + number(py(y) + 4, "%.1f") + "\" text-anchor=\"end\">" +
                number(y, "%g") + "</text>\n";
    }
    html += "<text x=\"" + number(left + plot_w / 2, "%.0f") + "\" y=\"" + number(height - 10, "%.0f") +
            "\" text-anchor=\"middle\">training time (s)</text>\n";
    html += "<text transform=\"translate(16 " + number(top + plot_h / 2, "%.0f") + ") rotate(-90)\" text-anchor=\"middle\">" +
            html_escape(score_label) + "</text>\n";
    for (const LeaderboardEntry* e : plotted) {
        const double x = px(training_seconds(*e)), y = py(e->score * scale);
        const std::string label = html_escape(e->handle) + (e->reference ? " (reference)" : "");
        html += "<circle cx=\"" + number(x, "%.1f") + "\" cy=\"" + number(y, "%.1f") + "\" r=\"5\" fill=\"" +
                (e->reference ? "#888" : "#1f77b4") + "\"><title>" + label + ": " + score_text(e->score) + " in " +
                number(training_seconds(*e), "%.1f") + " s</title></circle>\n";
        html += "<text x=\"" + number(x + 8, "%.1f") + "\" y=\"" + number(y - 6, "%.1f") + "\">" + label + "</text>\n";
    }
    html += "</svg>\n</body>\n</html>\n";
    return html;
}

}  // namespace tito
