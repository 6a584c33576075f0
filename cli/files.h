// files.h - reading and (atomically) writing the files tito owns.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace tito {

namespace fs = std::filesystem;

// The whole file; throws UserError naming the file when it cannot be read.
std::string read_text_file(const fs::path& path);

// Writes all `size` bytes to the open descriptor fd (retrying short writes and EINTR); a failure
// is a UserError naming `path` and the reason (no space, read-only, ...).
void write_all(int fd, const char* data, size_t size, const fs::path& path);

// Writes `content` so that readers only ever see the old file or the new one, never a mix, even if
// tito is killed or the machine loses power: write a temporary file in the same folder, fsync it,
// rename it over the target, fsync the folder.
void atomic_write_file(const fs::path& path, const std::string& content);

// Parses a JSON file; a syntax error becomes a UserError naming the file, line and column, with
// `hint` (e.g. how to restore the file). The file is never modified.
nlohmann::json load_json_file(const fs::path& path, const std::string& hint);

// A short, stable content hash (64-bit FNV-1a, 16 hex digits) for cache keys and rule hashes.
std::string content_hash(const std::string& data);

// "2026-11-30T07:06:53Z"
std::string utc_timestamp();

// A new, empty folder <parent>/<prefix>-XXXXXX (by default in the system's temporary folder),
// removed with everything in it when the object goes - unless release()d, e.g. after it was
// renamed into place. UserError (with the OS's reason) when it cannot be made.
class TempFolder {
public:
    explicit TempFolder(const std::string& prefix) : TempFolder(fs::temp_directory_path(), prefix) {}
    TempFolder(const fs::path& parent, const std::string& prefix);
    ~TempFolder();
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;
    const fs::path& path() const { return path_; }
    void release() { path_.clear(); }

private:
    fs::path path_;
};

}  // namespace tito
