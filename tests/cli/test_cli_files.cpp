// Tests of cli/files.cpp: atomic writes, JSON errors, hashes.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "cli_testing.h"
#include "errors.h"
#include "files.h"

namespace fs = std::filesystem;
using cli_testing::scratch_dir;

TEST_CASE("files: atomic_write_file replaces content and leaves no temporary files") {
    fs::path dir = scratch_dir("atomic");
    fs::path file = dir / "state.json";
    tito::atomic_write_file(file, "first");
    tito::atomic_write_file(file, "second, longer");
    CHECK(tito::read_text_file(file) == "second, longer");
    int entries = 0;
    for (auto& e : fs::directory_iterator(dir)) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);
    fs::remove_all(dir);
}

TEST_CASE("files: atomic_write_file creates missing folders") {
    fs::path dir = scratch_dir("folders");
    tito::atomic_write_file(dir / "a" / "b" / "c.txt", "x");
    CHECK(tito::read_text_file(dir / "a" / "b" / "c.txt") == "x");
    fs::remove_all(dir);
}

TEST_CASE("files: corrupt JSON is a UserError naming file, line and column, and the file is untouched") {
    fs::path dir = scratch_dir("json");
    fs::path file = dir / "progress.json";
    const std::string corrupt = "{\n  \"modules\": {\n    \"01\": oops\n  }\n}\n";
    tito::atomic_write_file(file, corrupt);
    try {
        tito::load_json_file(file, "restore it");
        FAIL("no error");
    } catch (const tito::UserError& e) {
        CHECK_THAT(e.what(), Catch::Contains("progress.json") && Catch::Contains("line 3"));
        CHECK(e.hint() == "restore it");
    }
    CHECK(tito::read_text_file(file) == corrupt);
    fs::remove_all(dir);
}

TEST_CASE("files: missing files are UserErrors, not crashes") {
    CHECK_THROWS_AS(tito::read_text_file("/nonexistent/tito/file"), tito::UserError);
}

TEST_CASE("files: content_hash is stable and sensitive") {
    CHECK(tito::content_hash("abc") == tito::content_hash("abc"));
    CHECK(tito::content_hash("abc") != tito::content_hash("abd"));
    CHECK(tito::content_hash("").size() == 16);
    CHECK(tito::content_hash("") == "cbf29ce484222325");  // FNV-1a offset basis
}
