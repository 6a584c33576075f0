// archive.h - reading data files that may be gzipped, and unpacking .tar.gz archives safely.
//
// A downloaded archive is untrusted input: a member named "../../.bashrc" or "/etc/passwd", a link
// pointing out of the folder, a header whose size runs past the end of the file. extract_tar()
// refuses all of these with an error naming the member, and writes only regular files and folders
// below the destination, never following a link.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "errors.h"

namespace tito {

namespace fs = std::filesystem;

// A damaged, truncated or hostile archive or compressed file. The message names the file.
class ArchiveError : public UserError {
public:
    using UserError::UserError;
};

// The bytes of a file, decompressed on the fly when it starts with the gzip magic (1f 8b); several
// gzip members one after another read as one stream, as gunzip does.
class DataStream {
public:
    explicit DataStream(const fs::path& path);  // UserError when the file cannot be opened
    ~DataStream();
    DataStream(const DataStream&) = delete;
    DataStream& operator=(const DataStream&) = delete;

    // Up to `size` bytes; fewer only at the end of the data (0 once it is reached). Throws
    // ArchiveError for corrupt or truncated gzip data.
    size_t read(void* out, size_t size);
    bool gzipped() const { return gzipped_; }
    // Bytes of the file itself read so far (compressed bytes for a gzip file): for progress.
    uint64_t file_position() const { return file_position_; }
    const fs::path& path() const { return path_; }

private:
    bool refill();
    fs::path path_;
    int fd_ = -1;
    bool gzipped_ = false;
    bool at_member_end_ = false;
    void* zstream_ = nullptr;  // z_stream, kept out of this header
    std::vector<unsigned char> input_;
    uint64_t file_position_ = 0;
};

// The relative path a tar member may be written to: "./a//b/" -> "a/b". Throws ArchiveError for an
// absolute path, a ".." component, an empty name or a NUL byte - anything that could land outside
// the destination folder.
std::string safe_member_path(const std::string& name);

struct ExtractOptions {
    uint64_t max_bytes = uint64_t(8) << 30;  // refuse archives that unpack to more than this
    std::function<void(uint64_t archive_bytes_read)> progress;
};

struct ExtractResult {
    std::vector<std::string> files;  // relative paths of the regular files written, in archive order
    uint64_t bytes = 0;              // their total size
};

// Unpacks a tar archive (ustar, GNU or pax; gzipped or not) into `destination`, an existing folder
// that should be empty. Regular files and folders only: links, devices and FIFOs are refused, as
// are unsafe paths (see safe_member_path) and a member listed twice. Throws ArchiveError naming the
// archive and the member; whatever was written so far stays in `destination` for the caller to
// remove (unpack into a temporary folder).
ExtractResult extract_tar(const fs::path& archive, const fs::path& destination, const ExtractOptions& options = {});

}  // namespace tito
