// datasets.h - the data sets the course uses: the catalog, where a copy lives, and whether a copy
// is complete and correct.
//
// Look-up order, the same in tito and in the engine (tt::data::find_dataset, engine/src/core/):
//   1. $TITO_DATA_DIR/<name>                  when TITO_DATA_DIR is set and not empty
//   2. $HOME/.cache/tinytorch/datasets/<name> when HOME is set (where `tito data fetch` puts them)
//   3. /usr/share/datasets/<name>             Debian's dataset-* packages (dataset-fashion-mnist)
// The first of these folders that exists is the data set; CIFAR-10's files are one level down, in
// <root>/cifar10/cifar-10-batches-bin, and that folder is the one that must exist. See
// datasets/README.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tito {

namespace fs = std::filesystem;

// The data sets tito knows, in the order `tito data list` shows them (the catalog must list
// exactly these; the command line offers them for completion).
inline const std::vector<std::string> kDatasetNames = {"mnist", "fashion-mnist", "cifar10", "tinyshakespeare"};

// One file as published: fetched from `urls`, checked against its size and checksum.
struct DownloadSpec {
    std::string file;                // "train-images-idx3-ubyte.gz"
    uint64_t size = 0;
    std::string algorithm, checksum; // "md5" / "sha256" and the published hex digest
    std::vector<std::string> urls;   // the official address first, then mirrors
    std::string unpack;              // "" (installed as is) or "tar.gz" (unpacked into the folder)
};

// One file of an installed data set and the structure it must have.
//   idx-images     idx header 0x00000803, `count` images of `rows` x `cols`, then the pixels
//   idx-labels     idx header 0x00000801, `count` labels, each below `classes`
//   cifar-records  `count` records of 1 label byte (below `classes`) and 3,072 pixel bytes
//   class-names    text, `count` non-empty lines
//   text           text of exactly `size` bytes
struct FileSpec {
    std::string path;         // relative to the data set's folder: "cifar-10-batches-bin/test_batch.bin"
    std::string alternative;  // also accepted: the same file uncompressed ("train-images-idx3-ubyte")
    std::string format;
    int64_t count = 0, rows = 0, cols = 0, classes = 0;
    uint64_t size = 0;
};

struct DatasetSpec {
    std::string name, title, homepage, checksums_from;
    std::string folder;  // where the loaders look, below <root>/<name>: "" or "cifar-10-batches-bin"
    std::vector<DownloadSpec> downloads;
    std::vector<FileSpec> files;

    uint64_t download_bytes() const;
    // The published file of that name that is installed as is (not unpacked), or nullptr.
    const DownloadSpec* published(const std::string& file) const;
};

class Catalog {
public:
    // The catalog tito uses: $TITO_DATA_CATALOG when set (a file of the same format: for an
    // instructor's own data sets and for tests), else <share>/datasets/catalog.json.
    static Catalog load_default();
    static Catalog load(const fs::path& file);                                 // UserError when missing or malformed
    static Catalog parse(const nlohmann::json& json, const std::string& origin);  // `origin` names it in errors

    const std::vector<DatasetSpec>& datasets() const { return datasets_; }
    // The data set called `name`; UserError with a suggestion otherwise.
    const DatasetSpec& get(const std::string& name) const;

private:
    std::vector<DatasetSpec> datasets_;
};

// ---- where data sets live ----

struct DataRoot {
    std::string label;  // "TITO_DATA_DIR", "user cache", "system"
    fs::path path;
};

// The roots in look-up order (see the top of this file).
std::vector<DataRoot> data_roots();
// ~/.cache/tinytorch/datasets, where fetch and import install; UserError when HOME is not set.
fs::path user_cache_root();

struct Location {
    DataRoot root;
    fs::path dataset_dir;  // <root>/<name>
    fs::path data_dir;     // what the loaders read: dataset_dir, or dataset_dir/<folder>
};

// Where a data set's folder is in `roots` (by default data_roots()), or nothing.
std::optional<Location> locate(const DatasetSpec& spec, const std::vector<DataRoot>& roots);
std::optional<Location> locate(const DatasetSpec& spec);
// The location a data set has (or would have) below one root.
Location location_in(const DatasetSpec& spec, const DataRoot& root);

// ---- verifying a copy ----

struct FileReport {
    std::string path;     // as found: the spec's path or its alternative
    bool present = false;
    bool ok = false;      // structure
    uint64_t size = 0;    // on disk
    std::string problem;  // what is wrong, naming the file ("" when ok)
    // "official" (matches the published checksum), "official-archive" (matches what tito unpacked
    // from the verified official archive), "differs", "changed" (differs from what tito unpacked),
    // "uncompressed" (an uncompressed copy of a published .gz), "none" (nothing published),
    // "skipped" (not computed)
    std::string checksum = "skipped";
};

struct VerifyReport {
    std::string name;
    fs::path dataset_dir;
    bool ok = false;              // every file present with the right structure
    std::string structure;        // "structure ok (60,000 train + 10,000 test images 28x28, labels 0-9)" or the first problem
    std::string checksums;        // "checksums match the official files", "not the official files (checksums differ), ..."
    std::vector<FileReport> files;
    std::string hint;             // how to repair a failed copy
    std::string summary() const;  // structure + "; " + checksums
};

// Progress of a long check: the file being read and how far (bytes of the file on disk).
using VerifyProgress = std::function<void(const std::string& file, uint64_t done, uint64_t total)>;

// Checks every file of the data set in `dataset_dir` (<root>/<name>): presence, headers, counts,
// label ranges, sizes; with `checksums`, also compares each file with its published checksum (or
// with what tito recorded when it unpacked the verified official archive, .tito-dataset.json).
VerifyReport verify_dataset(const DatasetSpec& spec, const fs::path& dataset_dir, bool checksums, const VerifyProgress& progress = {});
// One file's structure (used by verify_dataset; exposed for the tests).
FileReport check_file(const FileSpec& spec, const fs::path& file, const VerifyProgress& progress = {});

// ---- what the last verify found (for `tito data list` and `tito doctor`) ----

struct VerifyRecord {
    bool ok = false;
    std::string when;       // UTC timestamp
    std::string summary;
    std::string path;       // the dataset_dir that was checked
    std::string signature;  // of the files' names, sizes and modification times then
};

// ~/.cache/tinytorch/verified-datasets.json (nothing when HOME is not set).
std::optional<fs::path> verify_state_file();
// The record for `name` if it is about `dataset_dir` (else nothing).
std::optional<VerifyRecord> last_verify(const std::string& name, const fs::path& dataset_dir);
// Records a report (atomically; a state file that cannot be written only costs the record: false).
bool record_verify(const DatasetSpec& spec, const VerifyReport& report);
// Names, sizes and modification times of the data set's files, hashed: a changed file changes it.
std::string files_signature(const DatasetSpec& spec, const fs::path& dataset_dir);

// The marker tito writes into each data set it installs.
inline constexpr const char* kMarkerFile = ".tito-dataset.json";

// "60,000"
std::string with_commas(uint64_t value);

}  // namespace tito
