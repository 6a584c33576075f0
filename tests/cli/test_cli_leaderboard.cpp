// Tests of cli/leaderboard.cpp (the SQLite leaderboard: chain of hashes, foreign and damaged
// files, concurrent writers, killed writers) and of the formats of `tito leaderboard`
// (commands/leaderboard_cmd.cpp: CSV, JSON; the HTML page, loaded in headless Chromium by the
// hidden [chromium] test that ctest runs as leaderboard_html_chromium).
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "checksum.h"
#include "cli_testing.h"
#include "commands/leaderboard_cmd.h"
#include "errors.h"
#include "leaderboard.h"

namespace fs = std::filesystem;
using cli_testing::scratch_dir;
using tito::Leaderboard;
using tito::LeaderboardEntry;

namespace {

LeaderboardEntry make_entry(const std::string& handle, double score, double training_seconds = 100.0,
                            const std::string& competition = "cifar") {
    LeaderboardEntry e;
    e.competition = competition;
    e.status = "scored";
    e.name = "Student " + handle;
    e.handle = handle;
    e.email = handle + "@example.org";
    e.score = score;
    e.metrics = {{"training_seconds", training_seconds}, {"peak_memory_mib", 512.0}};
    e.workspace = "/home/" + handle + "/tinytorch";
    e.commit = "0123456789abcdef0123456789abcdef01234567";
    e.student_modules = {"01_tensor", "02_tensor"};
    e.engine_version = "0.1.0";
    e.tito_version = "0.1.0";
    e.cpu_model = "Test CPU";
    e.cores = 2;
    e.rules_hash = "abc";
    return e;
}

std::string file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

// Runs SQL on the file directly, as a student with the sqlite3 tool would.
void tamper(const fs::path& path, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    INFO(sql << ": " << message);
    REQUIRE(rc == SQLITE_OK);
}

// The message of the UserError that `f` throws ("" when it throws none).
template <class F>
std::string user_error_of(F&& f) {
    try {
        f();
    } catch (const tito::UserError& e) {
        return e.what();
    }
    return "";
}

// A board at `path` with `n` entries by alice, bob, carol, ...
void fill(const fs::path& path, int n) {
    Leaderboard board = Leaderboard::open_or_create(path);
    const char* handles[] = {"alice", "bob", "carol", "dave"};
    for (int i = 0; i < n; ++i) board.append(make_entry(handles[i % 4], (50 + i) / 100.0));  // 0.5, 0.51, ...
}

// Waits for a child; true when it exited with status 0.
bool child_ok(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST_CASE("leaderboard: a new board is created, entries are appended, numbered, chained and read back") {
    const fs::path dir = scratch_dir("lb-basic");
    const fs::path path = dir / "class" / "board.db";  // the folder is created too
    LeaderboardEntry first, second;
    {
        Leaderboard board = Leaderboard::open_or_create(path);
        CHECK(board.entries().empty());
        CHECK(board.snapshot().count == 0);
        first = board.append(make_entry("alice", 0.71));
        second = board.append(make_entry("bob", 0.75));
        CHECK(first.id == 1);
        CHECK(second.id == 2);
        CHECK(first.hash.size() == 64);
        CHECK(first.hash != second.hash);
        CHECK(!first.recorded_at.empty());
        CHECK(board.verify().empty());
    }
    // Only the board is left in the folder: the temporary file it was built in is gone.
    for (const auto& item : fs::directory_iterator(path.parent_path())) {
        const std::string name = item.path().filename().string();
        CHECK((name == "board.db" || name == "board.db-wal" || name == "board.db-shm"));
    }
    Leaderboard board = Leaderboard::open(path);  // a second open finds the same board
    const std::vector<LeaderboardEntry> entries = board.entries();
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].to_json() == first.to_json());
    CHECK(entries[1].to_json() == second.to_json());
    CHECK(board.entry(2)->handle == "bob");
    CHECK(!board.entry(3));
    CHECK(board.entries("gpt").empty());
    const Leaderboard::Snapshot snapshot = board.snapshot();
    CHECK(snapshot.count == 2);
    CHECK(snapshot.last_hash == second.hash);

    // The file is marked as tito's in its header: application id 'TTLB', schema 1, WAL mode.
    const std::string header = file_bytes(path).substr(0, 100);
    CHECK(header.substr(68, 4) == "TTLB");
    CHECK(static_cast<unsigned char>(header[63]) == 1);
    CHECK(static_cast<unsigned char>(header[18]) == 2);  // 2 = WAL
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: opening a board that does not exist says how to make one, and creates nothing") {
    const fs::path dir = scratch_dir("lb-missing");
    const std::string message = user_error_of([&] { Leaderboard::open(dir / "none.db"); });
    CHECK(message.find("no leaderboard at") != std::string::npos);
    CHECK(!fs::exists(dir / "none.db"));
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: append refuses an entry without a competition or a known status") {
    const fs::path dir = scratch_dir("lb-bad-entry");
    Leaderboard board = Leaderboard::open_or_create(dir / "b.db");
    LeaderboardEntry e = make_entry("alice", 0.7);
    e.status = "great";
    CHECK_THROWS_AS(board.append(e), tito::UserError);
    e = make_entry("alice", 0.7, 100, "");
    CHECK_THROWS_AS(board.append(e), tito::UserError);
    CHECK(board.entries().empty());
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: ranking keeps each student's best, breaks ties by training time then date, leaves out failed and quick runs") {
    std::vector<LeaderboardEntry> entries;
    auto add = [&](LeaderboardEntry e) {
        e.id = static_cast<int64_t>(entries.size()) + 1;
        entries.push_back(e);
    };
    add(make_entry("alice", 0.70, 200));
    add(make_entry("alice", 0.78, 230));  // alice's best
    add(make_entry("bob", 0.78, 180));    // same score as alice's best, trained faster: ranked above
    add(make_entry("carol", 0.78, 180));  // same score and time as bob, recorded later: below bob
    LeaderboardEntry failed = make_entry("dave", 0.99, 10);
    failed.status = "failed";
    failed.failure = "over the budget";
    add(failed);
    LeaderboardEntry quick = make_entry("erin", 0.95, 5);
    quick.quick = true;
    add(quick);
    add(make_entry("frank", 0.99, 5, "gpt"));
    LeaderboardEntry reference = make_entry("reference", 0.80, 236);
    reference.reference = true;
    add(reference);

    std::vector<LeaderboardEntry> best = tito::ranking(entries, "cifar", true, false);
    std::vector<std::string> order;
    for (const auto& e : best) order.push_back(e.handle + ":" + std::to_string(e.id));
    CHECK(order == std::vector<std::string>{"reference:8", "bob:3", "carol:4", "alice:2"});

    std::vector<LeaderboardEntry> all = tito::ranking(entries, "cifar", false, false);
    order.clear();
    for (const auto& e : all) order.push_back(e.handle + ":" + std::to_string(e.id));
    CHECK(order == std::vector<std::string>{"reference:8", "bob:3", "carol:4", "alice:2", "alice:1"});

    std::vector<LeaderboardEntry> quick_only = tito::ranking(entries, "cifar", true, true);
    REQUIRE(quick_only.size() == 1);
    CHECK(quick_only[0].handle == "erin");
    CHECK(tito::ranking(entries, "gpt", true, false).size() == 1);
}

TEST_CASE("leaderboard: rows changed, deleted or added with SQL outside tito break the chain, and append refuses to build on it") {
    const fs::path dir = scratch_dir("lb-chain");
    const fs::path path = dir / "b.db";

    struct Case {
        const char* what;
        const char* sql;
        const char* expected;
    };
    const Case cases[] = {
        {"a score edited in the JSON", "UPDATE entries SET entry_json = replace(entry_json, '\"score\":0.51', '\"score\":0.99') WHERE id = 2",
         "entry 2"},
        {"a score edited in its column", "UPDATE entries SET score = 0.99 WHERE id = 2", "entry 2"},
        {"a handle edited in its column", "UPDATE entries SET handle = 'mallory' WHERE id = 3", "entry 3"},
        {"an entry deleted", "DELETE FROM entries WHERE id = 2", "entry 2 was deleted"},
        {"an entry added",
         "INSERT INTO entries (id, competition, quick, reference, status, handle, score, recorded_at, entry_json, hash) "
         "SELECT 5, competition, quick, reference, status, 'mallory', 1.0, recorded_at, replace(entry_json, '\"id\":4', '\"id\":5'), hash "
         "FROM entries WHERE id = 4",
         "entry 5"},
        {"an entry's hash replaced", "UPDATE entries SET hash = 'x' WHERE id = 1", "entry 1"},
    };
    for (const Case& c : cases) {
        SECTION(c.what) {
            fs::remove(path);
            fill(path, 4);
            {
                Leaderboard board = Leaderboard::open(path);
                CHECK(board.verify().empty());
            }
            tamper(path, c.sql);
            Leaderboard board = Leaderboard::open(path);
            const std::string problem = board.verify();
            INFO(problem);
            CHECK(problem.find(c.expected) != std::string::npos);
            const size_t before = board.entries().size();
            const std::string message = user_error_of([&] { board.append(make_entry("zoe", 0.9)); });
            CHECK(message.find("changed outside tito") != std::string::npos);
            CHECK(board.entries().size() == before);  // nothing written
            CHECK_THROWS_AS(board.snapshot(), tito::UserError);
        }
    }
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: changed_since notices each change to the entries before it, but not other students' new entries") {
    const fs::path dir = scratch_dir("lb-changed");
    const fs::path path = dir / "b.db";
    fill(path, 3);
    Leaderboard board = Leaderboard::open(path);
    const Leaderboard::Snapshot before = board.snapshot();
    CHECK(board.changed_since(before).empty());

    SECTION("others appended meanwhile: fine") {
        {
            Leaderboard other = Leaderboard::open(path);  // another student's tito
            other.append(make_entry("zoe", 0.6));
            other.append(make_entry("yan", 0.6));
        }
        CHECK(board.changed_since(before).empty());
    }
    SECTION("an entry changed") {
        tamper(path, "UPDATE entries SET entry_json = replace(entry_json, 'alice', 'mallory') WHERE id = 1");
        CHECK(board.changed_since(before).find("entry 1") != std::string::npos);
    }
    SECTION("the last entry deleted (the chain alone cannot tell)") {
        tamper(path, "DELETE FROM entries WHERE id = 3");
        CHECK(board.verify().empty());
        CHECK(board.changed_since(before) == "entry 3 was deleted");
    }
    SECTION("an entry inserted") {
        tamper(path,
               "INSERT INTO entries SELECT 4, competition, quick, reference, status, handle, score, recorded_at, "
               "replace(entry_json, '\"id\":3', '\"id\":4'), hash FROM entries WHERE id = 3");
        CHECK(board.changed_since(before).find("entry 4") != std::string::npos);
    }
    SECTION("an entry changed and the whole chain recomputed") {
        // Rebuild the chain by hand, as a determined student would: verify() cannot tell, the
        // snapshot taken before the run can.
        tamper(path, "UPDATE entries SET entry_json = replace(entry_json, '\"score\":0.5,', '\"score\":0.95,'), score = 0.95 WHERE id = 1");
        std::vector<std::pair<int64_t, std::string>> rows;
        {
            sqlite3* db = nullptr;
            REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
            sqlite3_stmt* stmt = nullptr;
            sqlite3_prepare_v2(db, "SELECT id, entry_json FROM entries ORDER BY id", -1, &stmt, nullptr);
            while (sqlite3_step(stmt) == SQLITE_ROW)
                rows.emplace_back(sqlite3_column_int64(stmt, 0), reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
            sqlite3_finalize(stmt);
            sqlite3_close(db);
        }
        std::string previous, sql;
        for (const auto& [id, json] : rows) {
            previous = tito::sha256_hex(previous + json);
            sql += "UPDATE entries SET hash = '" + previous + "' WHERE id = " + std::to_string(id) + ";";
        }
        tamper(path, sql);
        CHECK(board.verify().empty());
        CHECK(board.changed_since(before).find("rewritten") != std::string::npos);
    }
    SECTION("the file replaced by another board") {
        const fs::path other = dir / "other.db";
        fill(other, 5);
        fs::rename(other, path);
        CHECK(board.changed_since(before) == "the file was replaced");
        CHECK(user_error_of([&] { board.append(make_entry("zoe", 0.9)); }).find("replaced") != std::string::npos);
    }
    SECTION("the file deleted") {
        fs::remove(path);
        CHECK(board.changed_since(before) == "the file was deleted");
    }
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: a file that is not a healthy tito board is reported in one line and left exactly as it was") {
    const fs::path dir = scratch_dir("lb-foreign");
    const fs::path path = dir / "b.db";
    std::string expected;

    SECTION("random bytes") {
        std::mt19937 random(7);
        std::string bytes(8192, '\0');
        for (char& c : bytes) c = static_cast<char>(random());
        write_bytes(path, bytes);
        expected = "not an SQLite database";
    }
    SECTION("an empty file") {
        write_bytes(path, "");
        expected = "not an SQLite database";
    }
    SECTION("a JSON file") {
        write_bytes(path, "{\"entries\": []}\n");
        expected = "not an SQLite database";
    }
    SECTION("an SQLite database of another program") {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine'); PRAGMA user_version = 1;", nullptr, nullptr,
                             nullptr) == SQLITE_OK);
        sqlite3_close(db);
        expected = "of another program";
    }
    SECTION("an SQLite database with another program's application id") {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db, "PRAGMA application_id = 1234; CREATE TABLE entries (id INTEGER PRIMARY KEY);", nullptr, nullptr, nullptr) ==
                SQLITE_OK);
        sqlite3_close(db);
        expected = "of another program";
    }
    SECTION("a board of a newer tito") {
        fill(path, 2);
        tamper(path, "PRAGMA user_version = 2");
        expected = "newer tito";
    }
    SECTION("a truncated copy of a real board") {
        fill(path, 60);  // several pages
        {
            Leaderboard board = Leaderboard::open(path);  // the last close checkpoints the WAL into the file
        }
        const std::string bytes = file_bytes(path);
        REQUIRE(bytes.size() >= 4 * 4096);
        fs::remove(path);
        fs::remove(path.string() + "-wal");
        fs::remove(path.string() + "-shm");
        write_bytes(path, bytes.substr(0, bytes.size() / 2));
        expected = "leaderboard " + path.string();
    }
    SECTION("a real board with a damaged page in the middle") {
        fill(path, 60);
        {
            Leaderboard board = Leaderboard::open(path);
        }
        std::string bytes = file_bytes(path);
        REQUIRE(bytes.size() >= 6 * 4096);
        for (size_t i = 3 * 4096; i < 3 * 4096 + 64; ++i) bytes[i] = '\xff';  // a page header: SQLite trusts it until checked
        write_bytes(path, bytes);
        expected = "is damaged";
    }
    const std::string before = file_bytes(path);
    for (int attempt = 0; attempt < 2; ++attempt) {
        const std::string message =
            user_error_of([&] { attempt == 0 ? (void)Leaderboard::open(path) : (void)Leaderboard::open_or_create(path); });
        INFO(message);
        CHECK(message.find(expected) != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
        CHECK(file_bytes(path) == before);
    }
    try {
        Leaderboard::open(path);
    } catch (const tito::UserError& e) {
        const std::string hint = e.hint();
        CHECK((hint.find("never overwrites") != std::string::npos || hint.find("update tito") != std::string::npos));
    }
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: twenty processes appending at once all get in, with unique numbers and an intact chain") {
    const fs::path dir = scratch_dir("lb-concurrent");
    const fs::path path = dir / "b.db";
    { Leaderboard::open_or_create(path); }
    constexpr int kWriters = 20, kEach = 3;
    int start[2];
    REQUIRE(::pipe(start) == 0);
    std::vector<pid_t> children;
    for (int i = 0; i < kWriters; ++i) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(start[1]);
            char go;
            (void)!::read(start[0], &go, 1);  // returns when the parent closes its end: all start together
            int code = 0;
            try {
                Leaderboard board = Leaderboard::open(path);
                for (int k = 0; k < kEach; ++k) board.append(make_entry("writer" + std::to_string(i), 0.1 * k));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "writer %d: %s\n", i, e.what());
                code = 1;
            }
            ::_exit(code);
        }
        children.push_back(pid);
    }
    ::close(start[0]);
    ::close(start[1]);
    int ok = 0;
    for (pid_t pid : children) ok += child_ok(pid);
    CHECK(ok == kWriters);

    Leaderboard board = Leaderboard::open(path);
    CHECK(board.verify().empty());
    const std::vector<LeaderboardEntry> entries = board.entries();
    REQUIRE(entries.size() == size_t(kWriters * kEach));
    std::map<std::string, int> per_writer;
    for (size_t i = 0; i < entries.size(); ++i) {
        CHECK(entries[i].id == int64_t(i) + 1);
        ++per_writer[entries[i].handle];
    }
    CHECK(per_writer.size() == size_t(kWriters));
    for (const auto& [handle, count] : per_writer) CHECK(count == kEach);
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: twenty processes creating the same new board at once make one board holding all their entries") {
    const fs::path dir = scratch_dir("lb-create-race");
    const fs::path path = dir / "new" / "b.db";
    constexpr int kWriters = 20;
    int start[2];
    REQUIRE(::pipe(start) == 0);
    std::vector<pid_t> children;
    for (int i = 0; i < kWriters; ++i) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(start[1]);
            char go;
            (void)!::read(start[0], &go, 1);
            int code = 0;
            try {
                Leaderboard board = Leaderboard::open_or_create(path);
                board.append(make_entry("first" + std::to_string(i), 0.5));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "creator %d: %s\n", i, e.what());
                code = 1;
            }
            ::_exit(code);
        }
        children.push_back(pid);
    }
    ::close(start[0]);
    ::close(start[1]);
    int ok = 0;
    for (pid_t pid : children) ok += child_ok(pid);
    CHECK(ok == kWriters);
    Leaderboard board = Leaderboard::open(path);
    CHECK(board.verify().empty());
    std::set<std::string> handles;
    for (const LeaderboardEntry& e : board.entries()) handles.insert(e.handle);
    CHECK(handles.size() == size_t(kWriters));
    for (const auto& item : fs::directory_iterator(path.parent_path()))  // no temporary boards left behind
        CHECK(item.path().filename().string().rfind("b.db", 0) == 0);
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: a writer killed with SIGKILL loses none of the entries it was told were recorded") {
    const fs::path dir = scratch_dir("lb-kill");
    const fs::path path = dir / "b.db";
    { Leaderboard::open_or_create(path); }
    int reports[2];
    REQUIRE(::pipe(reports) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(reports[0]);
        try {
            Leaderboard board = Leaderboard::open(path);
            for (int k = 0;; ++k) {
                const LeaderboardEntry stored = board.append(make_entry("looper", 0.001 * k));
                const int64_t id = stored.id;
                if (::write(reports[1], &id, sizeof id) != sizeof id) ::_exit(3);  // reported only once committed
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "looper: %s\n", e.what());
        }
        ::_exit(1);
    }
    ::close(reports[1]);
    std::set<int64_t> reported;
    int64_t id = 0;
    while (reported.size() < 25 && ::read(reports[0], &id, sizeof id) == sizeof id) reported.insert(id);
    ::kill(pid, SIGKILL);  // somewhere in the middle of the next append
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    while (::read(reports[0], &id, sizeof id) == sizeof id) reported.insert(id);  // reported before it died
    ::close(reports[0]);
    REQUIRE(reported.size() >= 25);

    Leaderboard board = Leaderboard::open(path);  // opens clean (SQLite recovers the WAL)
    CHECK(board.verify().empty());
    std::set<int64_t> stored;
    for (const LeaderboardEntry& e : board.entries()) stored.insert(e.id);
    for (int64_t reported_id : reported) CHECK(stored.count(reported_id) == 1);
    board.append(make_entry("after", 0.5));  // and takes new entries
    CHECK(board.verify().empty());
    fs::remove_all(dir);
}

TEST_CASE("leaderboard: entries round-trip through JSON") {
    LeaderboardEntry e = make_entry("zoë, \"the\" <best>", 0.7512345678901234);
    e.id = 7;
    e.quick = true;
    e.reference = true;
    e.status = "failed";
    e.failure = "over the 240 s budget: returned after 251.3 s";
    e.metrics["curve"] = {0.1, 0.2};
    e.recorded_at = "2026-12-02T15:04:05Z";
    e.hash = std::string(64, 'a');
    const nlohmann::json j = nlohmann::json::parse(e.to_json().dump());
    const LeaderboardEntry back = LeaderboardEntry::from_json(j);
    CHECK(back.to_json() == e.to_json());
    CHECK(back.score == e.score);
    CHECK(back.handle == e.handle);
    CHECK(back.student_modules == e.student_modules);
    CHECK_THROWS_AS(LeaderboardEntry::from_json(nlohmann::json::array()), tito::UserError);
    CHECK_THROWS_AS(LeaderboardEntry::from_json({{"score", "high"}}), tito::UserError);
}

TEST_CASE("leaderboard: CSV quotes fields with commas, quotes and line breaks (RFC 4180)") {
    CHECK(tito::csv_field("plain") == "plain");
    CHECK(tito::csv_field("Doe, Jane") == "\"Doe, Jane\"");
    CHECK(tito::csv_field("the \"best\"") == "\"the \"\"best\"\"\"");
    CHECK(tito::csv_field("two\nlines") == "\"two\nlines\"");
    LeaderboardEntry e = make_entry("j,doe", 0.75, 123.5);
    e.id = 3;
    e.name = "Jane \"JD\" Doe";
    const std::string csv = tito::leaderboard_csv({{1, e}});
    const size_t first_end = csv.find("\r\n");
    REQUIRE(first_end != std::string::npos);
    CHECK(csv.substr(0, first_end).rfind("competition,rank,handle,name,score", 0) == 0);
    const std::string row = csv.substr(first_end + 2);
    CHECK(row.rfind("cifar,1,\"j,doe\",\"Jane \"\"JD\"\" Doe\",0.75", 0) == 0);
    CHECK(row.find(",123.5,") != std::string::npos);
    CHECK(row.size() >= 2);
    CHECK(row.substr(row.size() - 2) == "\r\n");
}

TEST_CASE("leaderboard: the HTML page is self-contained, escapes what students type, and plots every timed entry") {
    std::vector<LeaderboardEntry> ranked = {make_entry("alice", 0.78, 230), make_entry("<script>alert(1)</script>", 0.75, 180)};
    ranked[0].id = 1;
    ranked[1].id = 2;
    const std::string html = tito::leaderboard_html(ranked, "cifar", "test accuracy (%)");
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("<script") == std::string::npos);  // escaped, and the page has no scripts of its own
    CHECK(html.find("&lt;script&gt;") != std::string::npos);
    CHECK(html.find("78.00") != std::string::npos);  // percent
    CHECK(html.find("<svg") != std::string::npos);
    size_t points = 0;
    for (size_t at = html.find("<circle"); at != std::string::npos; at = html.find("<circle", at + 1)) ++points;
    CHECK(points == 2);
    CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // no external resources
    CHECK(html.find("https://") == std::string::npos);
    const std::string empty = tito::leaderboard_html({}, "cifar", "test accuracy (%)");
    CHECK(empty.find("tito submit --competition cifar") != std::string::npos);
}

// --- headless Chromium (ctest: leaderboard_html_chromium) ----------------------------------------

namespace {

struct ChromiumRun {
    int status = -1;
    std::string console;  // the page's console messages, one per line
    uintmax_t png_bytes = 0;
    int png_width = 0, png_height = 0;
};

std::string find_chromium() {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
        const std::string command = std::string("command -v ") + name + " 2>/dev/null";
        FILE* pipe = ::popen(command.c_str(), "r");
        if (!pipe) continue;
        char buffer[512] = {};
        const bool found = std::fgets(buffer, sizeof buffer, pipe) != nullptr;
        ::pclose(pipe);
        if (found) {
            std::string path = buffer;
            while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
            return path;
        }
    }
    return "";
}

// Loads `page` in headless Chromium, takes a screenshot, and collects the console messages
// Chromium logs for it ("INFO:CONSOLE(3)] "message", source: file://...").
ChromiumRun load_in_chromium(const std::string& chromium, const fs::path& page, const fs::path& work) {
    const fs::path png = work / (page.stem().string() + ".png");
    const fs::path log = work / (page.stem().string() + ".log");
    const std::string command = "timeout 120 '" + chromium + "' --headless --no-sandbox --disable-gpu --user-data-dir='" +
                                (work / "profile").string() + "' --screenshot='" + png.string() +
                                "' --window-size=1200,900 --enable-logging=stderr --v=0 'file://" + page.string() + "' > /dev/null 2> '" +
                                log.string() + "'";
    ChromiumRun run;
    run.status = std::system(command.c_str());
    std::istringstream lines(file_bytes(log));
    for (std::string line; std::getline(lines, line);)
        if (line.find(":CONSOLE") != std::string::npos) run.console += line + "\n";
    std::error_code ec;
    if (fs::exists(png, ec)) {
        run.png_bytes = fs::file_size(png, ec);
        const std::string bytes = file_bytes(png);
        if (bytes.size() > 24 && bytes.compare(1, 3, "PNG") == 0) {  // IHDR: width and height, big-endian
            auto u32 = [&](size_t at) {
                return (int(uint8_t(bytes[at])) << 24) | (int(uint8_t(bytes[at + 1])) << 16) | (int(uint8_t(bytes[at + 2])) << 8) |
                       int(uint8_t(bytes[at + 3]));
            };
            run.png_width = u32(16);
            run.png_height = u32(20);
        }
    }
    return run;
}

}  // namespace

TEST_CASE("leaderboard: the HTML export renders in headless Chromium without console errors", "[.][chromium]") {
    const std::string chromium = find_chromium();
    if (chromium.empty()) FAIL("headless Chromium is needed for this test: `apt-get install chromium` (scripts/packages.sh lists it)");
    const fs::path work = scratch_dir("lb-chromium");

    std::vector<LeaderboardEntry> entries;
    const char* handles[] = {"alice", "bob", "carol", "dave", "erin"};
    for (int i = 0; i < 5; ++i) {
        LeaderboardEntry e = make_entry(handles[i], 0.70 + 0.02 * i, 150.0 + 20 * i);
        e.id = i + 1;
        e.recorded_at = "2026-12-02T15:0" + std::to_string(i) + ":00Z";
        entries.push_back(e);
    }
    entries[2].reference = true;
    write_bytes(work / "board.html", tito::leaderboard_html(tito::ranking(entries, "cifar", true, false), "cifar", "test accuracy (%)"));
    write_bytes(work / "blank.html", "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>blank</title></head><body></body></html>\n");
    // Two pages that misbehave, to prove the console check can see what it looks for.
    write_bytes(work / "logs_error.html", "<!DOCTYPE html><html><body><p>x</p><script>console.error('planted-error');</script></body></html>\n");
    write_bytes(work / "throws.html", "<!DOCTYPE html><html><body><p>x</p><script>notDefinedAnywhere();</script></body></html>\n");

    const ChromiumRun board = load_in_chromium(chromium, work / "board.html", work);
    const ChromiumRun blank = load_in_chromium(chromium, work / "blank.html", work);
    const ChromiumRun logs_error = load_in_chromium(chromium, work / "logs_error.html", work);
    const ChromiumRun throws = load_in_chromium(chromium, work / "throws.html", work);

    INFO("board console:\n" << board.console);
    CHECK(board.status == 0);
    CHECK(board.console.empty());
    CHECK(board.png_width == 1200);
    CHECK(board.png_height == 900);
    // A page with a table and a plot compresses far worse than a white one.
    INFO("screenshot bytes: board " << board.png_bytes << ", blank " << blank.png_bytes);
    CHECK(blank.png_bytes > 0);
    CHECK(board.png_bytes > 4 * blank.png_bytes);

    CHECK(logs_error.console.find("planted-error") != std::string::npos);
    CHECK(throws.console.find("notDefinedAnywhere") != std::string::npos);
    fs::remove_all(work);
}
