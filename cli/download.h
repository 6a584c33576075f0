// download.h - fetching one file over HTTP(S) with libcurl: resumable, retried, checksummed.
//
// The bytes go to "<destination>.part" and only a complete file whose checksum matches is renamed
// to <destination>, so a reader never sees half a file. A dropped connection is retried a few
// times, each retry resuming where the last one stopped (an HTTP Range request on the .part file);
// the .part file also survives an interrupted tito, and the next run resumes it. A file whose
// checksum does not match is moved aside to "<destination>.rejected" and reported.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "errors.h"

namespace tito {

namespace fs = std::filesystem;

// The download failed: every URL was tried (the message says what happened at the last one).
class DownloadError : public UserError {
public:
    using UserError::UserError;
};

struct DownloadProgress {
    std::string file;      // the destination's file name
    uint64_t bytes = 0;    // in the .part file so far (including what an earlier attempt got)
    uint64_t total = 0;    // expected size, 0 when unknown
    double rate = 0;       // bytes per second over this attempt
    bool checking = false; // the download is complete and its checksum is being computed
};

struct DownloadRequest {
    std::vector<std::string> urls;  // tried in order; the next only when one fails for good
    fs::path destination;
    uint64_t expected_size = 0;     // 0: unknown
    std::string algorithm;          // "md5" or "sha256"; empty: no checksum (only for tests)
    std::string checksum;           // lowercase hex
    int retries = 3;                // per URL, after a dropped connection or a server error 5xx
    double retry_delay = 1.0;       // seconds before the first retry, doubled for each one after
    std::function<void(const DownloadProgress&)> progress;  // called at most ~10 times a second
    std::function<void(const std::string&)> note;           // "connection dropped at 4.2 MB; retrying (1 of 3)"
};

struct DownloadResult {
    std::string url;        // the one that worked
    uint64_t bytes = 0;     // the file's size
    uint64_t resumed_from = 0;  // bytes that were already in the .part file when tito started
    int attempts = 0;       // HTTP requests made
    double seconds = 0;
};

// Downloads the file (see the top of this file). Throws DownloadError when every URL failed or
// the checksum does not match; UserError when the destination cannot be written.
DownloadResult download_file(const DownloadRequest& request);

// "9.9 MB", "28.9 kB", "512 B" (decimal units, as download sizes are usually given).
std::string human_bytes(uint64_t bytes);

}  // namespace tito
