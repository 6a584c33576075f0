// data_install.h - putting a data set into a data folder: `tito data fetch` (download the official
// files) and `tito data import` (take files the user already has).
//
// Both end the same way, so that a data set is either completely there or not there at all:
//   1. the files are gathered in <root>/.<name>.new-XXXXXX (downloads unpacked there),
//   2. their structure is verified, and .tito-dataset.json records where they came from,
//   3. the folder is renamed to <root>/<name> in one step (exchanged with the old copy on --force).
// Downloads wait in <root>/.<name>.download/ until then, so an interrupted fetch resumes where it
// stopped. A lock file (<root>/.<name>.lock) keeps two tito processes from installing the same
// data set at once.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "datasets.h"
#include "download.h"

namespace tito {

namespace fs = std::filesystem;

// What a long step reports: `progress` redraws one line (a progress bar), `note` prints a line.
struct InstallFeedback {
    std::function<void(const DownloadProgress&)> download;
    std::function<void(const std::string&)> progress;
    std::function<void(const std::string&)> note;
};

struct FetchOptions {
    fs::path root;            // the data folder: the data set goes to root/<name>
    std::string mirror;       // "": the catalog's URLs; else <mirror>/<name>/<file>
    bool force = false;       // replace a copy that is already in root
    int retries = 3;
    double retry_delay = 1.0;
};

struct InstallResult {
    bool already_there = false;  // root/<name> existed and force was not given: nothing was done
    Location location;
    VerifyReport report;         // of the installed copy
    bool official = false;       // the files are the official ones (checksums matched)
    uint64_t downloaded = 0;     // bytes fetched now
};

// `tito data fetch`: downloads, checks each file's published checksum, unpacks, verifies and
// installs (see the top of this file). Throws DownloadError (network, checksum) or UserError.
InstallResult fetch_dataset(const DatasetSpec& spec, const FetchOptions& options, const InstallFeedback& feedback = {});

// `tito data import`: `source` is a folder holding the data set's files (the data set's own folder
// or the one above it; MNIST's files gzipped or not), or an archive (.tar.gz, .tgz, .tar - the
// official one is recognised by its checksum), or for a one-file data set that file. The files
// must pass the structure check; they are copied, never moved.
InstallResult import_dataset(const DatasetSpec& spec, const fs::path& source, const fs::path& root, bool force,
                             const InstallFeedback& feedback = {});

// The URL of a download on a mirror: "<mirror>/<name>/<file>" (one slash between the parts).
std::string mirror_url(const std::string& mirror, const std::string& name, const std::string& file);

}  // namespace tito
