// datasets.cpp - see datasets.h.
#include "datasets.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "archive.h"
#include "checksum.h"
#include "course.h"
#include "errors.h"
#include "files.h"

namespace tito {

std::string with_commas(uint64_t value) {
    std::string digits = std::to_string(value), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

uint64_t DatasetSpec::download_bytes() const {
    uint64_t total = 0;
    for (const DownloadSpec& d : downloads) total += d.size;
    return total;
}

const DownloadSpec* DatasetSpec::published(const std::string& file) const {
    for (const DownloadSpec& d : downloads)
        if (d.file == file && d.unpack.empty() && !d.checksum.empty()) return &d;
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

namespace {

const std::set<std::string> kFormats = {"idx-images", "idx-labels", "cifar-records", "class-names", "text"};

bool is_hex(const std::string& text, size_t length) {
    return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f'); });
}

// A relative path that stays inside the data set's folder.
bool safe_relative(const std::string& path) {
    if (path.empty() || path.front() == '/') return false;
    for (const fs::path& part : fs::path(path))
        if (part == ".." || part == ".") return false;
    return true;
}

}  // namespace

Catalog Catalog::parse(const nlohmann::json& json, const std::string& origin) {
    const std::string hint = "the data-set catalog is damaged: reinstall tito, or fix " + origin;
    auto bad = [&](const std::string& what) { return UserError(origin + ": " + what, hint); };
    Catalog catalog;
    try {
        if (!json.is_object() || !json.contains("datasets") || !json.at("datasets").is_array()) throw bad("no \"datasets\" list");
        std::set<std::string> names;
        for (const nlohmann::json& d : json.at("datasets")) {
            DatasetSpec spec;
            spec.name = d.at("name").get<std::string>();
            if (spec.name.empty() || !safe_relative(spec.name) || spec.name.find('/') != std::string::npos) throw bad("bad data-set name '" + spec.name + "'");
            if (!names.insert(spec.name).second) throw bad("data set '" + spec.name + "' is listed twice");
            spec.title = d.value("title", "");
            spec.homepage = d.value("homepage", "");
            spec.checksums_from = d.value("checksums_from", "");
            spec.folder = d.value("folder", "");
            if (!spec.folder.empty() && !safe_relative(spec.folder)) throw bad(spec.name + ": bad folder '" + spec.folder + "'");
            for (const nlohmann::json& f : d.at("downloads")) {
                DownloadSpec download;
                download.file = f.at("file").get<std::string>();
                if (!safe_relative(download.file) || download.file.find('/') != std::string::npos) throw bad(spec.name + ": bad download file name '" + download.file + "'");
                download.size = f.value("size", uint64_t(0));
                if (f.contains("md5")) {
                    download.algorithm = "md5";
                    download.checksum = f.at("md5").get<std::string>();
                    if (!is_hex(download.checksum, 32)) throw bad(spec.name + "/" + download.file + ": md5 must be 32 lowercase hex digits");
                } else if (f.contains("sha256")) {
                    download.algorithm = "sha256";
                    download.checksum = f.at("sha256").get<std::string>();
                    if (!is_hex(download.checksum, 64)) throw bad(spec.name + "/" + download.file + ": sha256 must be 64 lowercase hex digits");
                } else {
                    throw bad(spec.name + "/" + download.file + ": no md5 or sha256 (a download is always checked)");
                }
                for (const nlohmann::json& url : f.at("urls")) download.urls.push_back(url.get<std::string>());
                if (download.urls.empty()) throw bad(spec.name + "/" + download.file + ": no urls");
                download.unpack = f.value("unpack", "");
                if (!download.unpack.empty() && download.unpack != "tar.gz") throw bad(spec.name + "/" + download.file + ": unpack must be \"tar.gz\"");
                spec.downloads.push_back(download);
            }
            for (const nlohmann::json& f : d.at("files")) {
                FileSpec file;
                file.path = f.at("path").get<std::string>();
                file.alternative = f.value("or", "");
                if (!safe_relative(file.path) || (!file.alternative.empty() && !safe_relative(file.alternative)))
                    throw bad(spec.name + ": bad file path '" + file.path + "'");
                file.format = f.at("format").get<std::string>();
                if (!kFormats.count(file.format)) throw bad(spec.name + "/" + file.path + ": unknown format '" + file.format + "'");
                file.count = f.value("count", int64_t(0));
                file.rows = f.value("rows", int64_t(0));
                file.cols = f.value("cols", int64_t(0));
                file.classes = f.value("classes", int64_t(0));
                file.size = f.value("size", uint64_t(0));
                if (file.count < 0 || file.rows < 0 || file.cols < 0 || file.classes < 0 || file.classes > 256) throw bad(spec.name + "/" + file.path + ": negative or impossible numbers");
                if ((file.format == "idx-images" && (file.count == 0 || file.rows == 0 || file.cols == 0)) ||
                    ((file.format == "idx-labels" || file.format == "cifar-records") && (file.count == 0 || file.classes == 0)) ||
                    (file.format == "class-names" && file.count == 0) || (file.format == "text" && file.size == 0))
                    throw bad(spec.name + "/" + file.path + ": the " + file.format + " format needs its counts");
                spec.files.push_back(file);
            }
            if (spec.files.empty()) throw bad(spec.name + ": no files");
            catalog.datasets_.push_back(spec);
        }
    } catch (const nlohmann::json::exception& e) {
        throw bad(std::string("unexpected content (") + e.what() + ")");
    }
    return catalog;
}

Catalog Catalog::load(const fs::path& file) {
    if (!fs::exists(file))
        throw UserError("the data-set catalog " + file.string() + " is missing", "rebuild (cmake --build build) or reinstall tito");
    return parse(load_json_file(file, "the data-set catalog is damaged: reinstall tito"), file.string());
}

Catalog Catalog::load_default() {
    if (const char* custom = std::getenv("TITO_DATA_CATALOG"); custom && *custom) {
        if (!fs::exists(custom)) throw UserError(std::string("TITO_DATA_CATALOG=") + custom + " does not exist", "unset TITO_DATA_CATALOG, or point it at a catalog file");
        return load(custom);
    }
    return load(find_share_dir() / "datasets" / "catalog.json");
}

const DatasetSpec& Catalog::get(const std::string& name) const {
    std::vector<std::string> names;
    for (const DatasetSpec& d : datasets_) {
        if (d.name == name) return d;
        names.push_back(d.name);
    }
    std::string all;
    for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
    const std::string suggestion = closest_word(name, names);
    throw UserError("unknown data set '" + name + "'", (suggestion.empty() ? "" : "did you mean '" + suggestion + "'? ") + "the data sets are " + all);
}

// ---------------------------------------------------------------------------------------------
// Look-up
// ---------------------------------------------------------------------------------------------

std::vector<DataRoot> data_roots() {
    std::vector<DataRoot> roots;
    if (const char* dir = std::getenv("TITO_DATA_DIR"); dir && *dir) roots.push_back({"TITO_DATA_DIR", dir});
    if (const char* home = std::getenv("HOME"); home && *home) roots.push_back({"user cache", fs::path(home) / ".cache" / "tinytorch" / "datasets"});
    roots.push_back({"system", "/usr/share/datasets"});
    return roots;
}

fs::path user_cache_root() {
    const char* home = std::getenv("HOME");
    if (!home || !*home) throw UserError("HOME is not set, so there is no user cache for data sets", "pass --dir DIR to choose where the data set goes");
    return fs::path(home) / ".cache" / "tinytorch" / "datasets";
}

Location location_in(const DatasetSpec& spec, const DataRoot& root) {
    Location at{root, root.path / spec.name, root.path / spec.name};
    if (!spec.folder.empty()) at.data_dir /= spec.folder;
    return at;
}

std::optional<Location> locate(const DatasetSpec& spec, const std::vector<DataRoot>& roots) {
    for (const DataRoot& root : roots) {
        Location at = location_in(spec, root);
        std::error_code ec;
        if (fs::is_directory(at.data_dir, ec)) return at;
    }
    return std::nullopt;
}

std::optional<Location> locate(const DatasetSpec& spec) { return locate(spec, data_roots()); }

// ---------------------------------------------------------------------------------------------
// Structure checks
// ---------------------------------------------------------------------------------------------

namespace {

uint32_t big_endian_32(const unsigned char* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]); }

std::string hex32(uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

uint64_t size_on_disk(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    return ec ? 0 : static_cast<uint64_t>(size);
}

// Reads the stream to its end in pieces, handing each to `piece`; returns the total.
uint64_t read_rest(DataStream& in, const std::function<void(const unsigned char*, size_t)>& piece, const std::string& name,
                   uint64_t disk_size, const VerifyProgress& progress) {
    std::vector<unsigned char> buffer(1 << 20);
    uint64_t total = 0;
    while (true) {
        const size_t n = in.read(buffer.data(), buffer.size());
        if (n == 0) break;
        if (piece) piece(buffer.data(), n);
        total += n;
        if (progress) progress(name, in.file_position(), disk_size);
    }
    return total;
}

void check_idx_images(const FileSpec& spec, DataStream& in, FileReport& report, const std::string& name, const VerifyProgress& progress) {
    unsigned char header[16];
    const size_t got = in.read(header, sizeof header);
    if (got < sizeof header) {
        report.problem = name + ": truncated: " + std::to_string(got) + " bytes, but an idx image header alone is 16";
        return;
    }
    const uint32_t magic = big_endian_32(header);
    if (magic != 0x00000803) {
        report.problem = name + ": wrong magic number " + hex32(magic) + " (idx image files start with 0x00000803" +
                         (magic == 0x00000801 ? "; this looks like a label file" : "") + ")";
        return;
    }
    const uint64_t count = big_endian_32(header + 4), rows = big_endian_32(header + 8), cols = big_endian_32(header + 12);
    if (static_cast<int64_t>(count) != spec.count) {
        report.problem = name + ": the header says " + with_commas(count) + " images, expected " + with_commas(static_cast<uint64_t>(spec.count));
        return;
    }
    if (static_cast<int64_t>(rows) != spec.rows || static_cast<int64_t>(cols) != spec.cols) {
        report.problem = name + ": images are " + std::to_string(rows) + "x" + std::to_string(cols) + ", expected " + std::to_string(spec.rows) + "x" + std::to_string(spec.cols);
        return;
    }
    const uint64_t expected = count * rows * cols;
    const uint64_t pixels = read_rest(in, nullptr, name, report.size, progress);
    if (pixels < expected) {
        report.problem = name + ": truncated: " + with_commas(pixels) + " of " + with_commas(expected) + " pixel bytes (" + with_commas(count) + " images of " +
                         std::to_string(rows) + "x" + std::to_string(cols) + ")";
    } else if (pixels > expected) {
        report.problem = name + ": " + with_commas(pixels - expected) + " bytes more than the header's " + with_commas(count) + " images";
    } else {
        report.ok = true;
    }
}

void check_idx_labels(const FileSpec& spec, DataStream& in, FileReport& report, const std::string& name, const VerifyProgress& progress) {
    unsigned char header[8];
    const size_t got = in.read(header, sizeof header);
    if (got < sizeof header) {
        report.problem = name + ": truncated: " + std::to_string(got) + " bytes, but an idx label header alone is 8";
        return;
    }
    const uint32_t magic = big_endian_32(header);
    if (magic != 0x00000801) {
        report.problem = name + ": wrong magic number " + hex32(magic) + " (idx label files start with 0x00000801" +
                         (magic == 0x00000803 ? "; this looks like an image file" : "") + ")";
        return;
    }
    const uint64_t count = big_endian_32(header + 4);
    if (static_cast<int64_t>(count) != spec.count) {
        report.problem = name + ": the header says " + with_commas(count) + " labels, expected " + with_commas(static_cast<uint64_t>(spec.count));
        return;
    }
    uint64_t index = 0;
    std::string bad_label;
    const uint64_t labels = read_rest(in, [&](const unsigned char* bytes, size_t n) {
        for (size_t i = 0; i < n; ++i, ++index)
            if (bad_label.empty() && bytes[i] >= spec.classes)
                bad_label = "label " + std::to_string(bytes[i]) + " at index " + with_commas(index) + " is outside 0-" + std::to_string(spec.classes - 1);
    }, name, report.size, progress);
    if (labels < count) {
        report.problem = name + ": truncated: " + with_commas(labels) + " of " + with_commas(count) + " labels";
    } else if (labels > count) {
        report.problem = name + ": " + with_commas(labels - count) + " bytes more than the header's " + with_commas(count) + " labels";
    } else if (!bad_label.empty()) {
        report.problem = name + ": " + bad_label;
    } else {
        report.ok = true;
    }
}

void check_cifar_records(const FileSpec& spec, DataStream& in, FileReport& report, const std::string& name, const VerifyProgress& progress) {
    constexpr uint64_t kRecord = 1 + 3 * 32 * 32;
    uint64_t position = 0;
    std::string bad_label;
    const uint64_t total = read_rest(in, [&](const unsigned char* bytes, size_t n) {
        for (size_t i = 0; i < n; ++i, ++position)
            if (position % kRecord == 0 && bad_label.empty() && bytes[i] >= spec.classes)
                bad_label = "record " + with_commas(position / kRecord) + " has label " + std::to_string(bytes[i]) + ", outside 0-" + std::to_string(spec.classes - 1);
    }, name, report.size, progress);
    const uint64_t expected = static_cast<uint64_t>(spec.count) * kRecord;
    if (total != expected) {
        report.problem = name + ": " + with_commas(total) + " bytes, expected " + with_commas(expected) + " (" + with_commas(static_cast<uint64_t>(spec.count)) +
                         " records of 3,073 bytes: 1 label + 3,072 pixels)" + (total < expected ? ": truncated" : "");
    } else if (!bad_label.empty()) {
        report.problem = name + ": " + bad_label;
    } else {
        report.ok = true;
    }
}

void check_class_names(const FileSpec& spec, DataStream& in, FileReport& report, const std::string& name) {
    std::string text;
    std::vector<unsigned char> buffer(1 << 16);
    while (size_t n = in.read(buffer.data(), buffer.size())) {
        text.append(reinterpret_cast<const char*>(buffer.data()), n);
        if (text.size() > (1u << 20)) {
            report.problem = name + ": more than 1 MB: not a list of class names";
            return;
        }
    }
    int64_t names = 0;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
        if (!line.empty()) ++names;
        start = end + 1;
    }
    if (names != spec.count) {
        report.problem = name + ": " + std::to_string(names) + " class names, expected " + std::to_string(spec.count);
    } else {
        report.ok = true;
    }
}

void check_text(const FileSpec& spec, DataStream& in, FileReport& report, const std::string& name, const VerifyProgress& progress) {
    bool nul = false;
    const uint64_t total = read_rest(in, [&](const unsigned char* bytes, size_t n) {
        if (!nul && std::memchr(bytes, 0, n)) nul = true;
    }, name, report.size, progress);
    if (total != spec.size) {
        report.problem = name + ": " + with_commas(total) + " bytes, expected " + with_commas(spec.size) + (total < spec.size ? ": truncated" : "");
    } else if (nul) {
        report.problem = name + ": contains NUL bytes: not a text file";
    } else {
        report.ok = true;
    }
}

}  // namespace

FileReport check_file(const FileSpec& spec, const fs::path& file, const VerifyProgress& progress) {
    FileReport report;
    report.path = file.filename().string();
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        report.problem = report.path + ": missing";
        return report;
    }
    report.present = true;
    report.size = size_on_disk(file);
    const std::string name = report.path;
    try {
        DataStream in(file);
        if (spec.format == "idx-images") {
            check_idx_images(spec, in, report, name, progress);
        } else if (spec.format == "idx-labels") {
            check_idx_labels(spec, in, report, name, progress);
        } else if (spec.format == "cifar-records") {
            check_cifar_records(spec, in, report, name, progress);
        } else if (spec.format == "class-names") {
            check_class_names(spec, in, report, name);
        } else {
            check_text(spec, in, report, name, progress);
        }
    } catch (const UserError& e) {  // unreadable, or damaged gzip data
        report.ok = false;
        report.problem = e.what();
    }
    return report;
}

namespace {

std::string split_summary(const DatasetSpec& spec) {
    // "60,000 train + 10,000 test images 28x28, labels 0-9"; "1,115,394 bytes of text".
    uint64_t train = 0, test = 0;
    std::string shape, labels, text;
    for (const FileSpec& f : spec.files) {
        const bool is_train = f.path.find("train") != std::string::npos || f.path.find("data_batch") != std::string::npos;
        if (f.format == "idx-images" || f.format == "cifar-records") {
            (is_train ? train : test) += static_cast<uint64_t>(f.count);
            shape = f.format == "idx-images" ? std::to_string(f.rows) + "x" + std::to_string(f.cols) : "32x32x3";
        }
        if (f.format == "idx-labels" || f.format == "cifar-records") labels = "labels 0-" + std::to_string(f.classes - 1);
        if (f.format == "text") text = with_commas(f.size) + " bytes of text";
    }
    std::string out;
    if (train + test > 0) out = (train ? with_commas(train) + " train" : "") + (train && test ? " + " : "") + (test ? with_commas(test) + " test" : "") + " images " + shape;
    if (!labels.empty()) out += (out.empty() ? "" : ", ") + labels;
    if (!text.empty()) out += (out.empty() ? "" : ", ") + text;
    return out;
}

nlohmann::json read_marker(const fs::path& dataset_dir) {
    const fs::path file = dataset_dir / kMarkerFile;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return nullptr;
    try {
        return nlohmann::json::parse(read_text_file(file));
    } catch (const std::exception&) {
        return nullptr;  // a damaged marker only loses the extra checksum information
    }
}

}  // namespace

std::string VerifyReport::summary() const { return checksums.empty() ? structure : structure + "; " + checksums; }

VerifyReport verify_dataset(const DatasetSpec& spec, const fs::path& dataset_dir, bool checksums, const VerifyProgress& progress) {
    VerifyReport report;
    report.name = spec.name;
    report.dataset_dir = dataset_dir;
    const nlohmann::json marker = checksums ? read_marker(dataset_dir) : nlohmann::json(nullptr);
    const bool official_install = marker.is_object() && marker.value("official", false) && marker.contains("files") && marker.at("files").is_object();

    std::string first_problem;
    for (const FileSpec& f : spec.files) {
        fs::path file = dataset_dir / f.path;
        bool alternative = false;
        std::error_code ec;
        if (!fs::exists(file, ec) && !f.alternative.empty() && fs::exists(dataset_dir / f.alternative, ec)) {
            file = dataset_dir / f.alternative;
            alternative = true;
        }
        FileReport r = check_file(f, file, progress);
        r.path = fs::relative(file, dataset_dir).string();
        if (r.present && !r.ok && r.problem.rfind(file.filename().string() + ":", 0) == 0)
            r.problem = r.path + r.problem.substr(file.filename().string().size());
        if (!r.present) r.problem = r.path + ": missing";
        if (checksums && r.present) {
            const DownloadSpec* published = alternative ? nullptr : spec.published(f.path);
            if (alternative) {
                r.checksum = "uncompressed";
            } else if (published) {
                if (progress) progress(r.path + " (" + published->algorithm + ")", 0, r.size);
                const std::string digest = file_digest(file, published->algorithm, [&](uint64_t done) {
                    if (progress) progress(r.path + " (" + published->algorithm + ")", done, r.size);
                });
                r.checksum = digest == published->checksum ? "official" : "differs";
            } else if (official_install && marker.at("files").contains(r.path)) {
                const nlohmann::json& recorded = marker.at("files").at(r.path);
                if (progress) progress(r.path + " (sha256)", 0, r.size);
                const std::string digest = file_digest(file, "sha256", [&](uint64_t done) {
                    if (progress) progress(r.path + " (sha256)", done, r.size);
                });
                r.checksum = recorded.is_object() && recorded.value("sha256", "") == digest ? "official-archive" : "changed";
            } else {
                r.checksum = "none";
            }
        }
        if (!r.ok && first_problem.empty()) first_problem = r.problem;
        report.files.push_back(r);
    }
    report.ok = first_problem.empty();
    const auto missing = std::count_if(report.files.begin(), report.files.end(), [](const FileReport& r) { return !r.present; });
    if (report.ok) {
        report.structure = "structure ok (" + split_summary(spec) + ")";
    } else if (missing == static_cast<long>(report.files.size())) {
        report.structure = "no files of the data set in " + dataset_dir.string();
    } else {
        report.structure = first_problem;
        const auto failed = std::count_if(report.files.begin(), report.files.end(), [](const FileReport& r) { return !r.ok; });
        if (failed > 1) report.structure += " (and " + std::to_string(failed - 1) + " more problem" + (failed > 2 ? "s" : "") + ")";
    }
    if (!report.ok) report.hint = "get a fresh copy: tito data fetch " + spec.name + " --force (or tito data import " + spec.name + " PATH)";

    if (checksums) {
        size_t official = 0, archive = 0, differs = 0, changed = 0, uncompressed = 0, none = 0, checked = 0;
        for (const FileReport& r : report.files) {
            if (!r.present) continue;
            ++checked;
            official += r.checksum == "official";
            archive += r.checksum == "official-archive";
            differs += r.checksum == "differs";
            changed += r.checksum == "changed";
            uncompressed += r.checksum == "uncompressed";
            none += r.checksum == "none";
        }
        std::vector<std::string> notes;
        if (checked > 0 && official + archive == checked) {
            report.checksums = archive == 0 ? "checksums match the official files"
                                            : "checksums match the files tito unpacked from the official archive (its " +
                                                  (spec.downloads.empty() ? std::string("checksum") : spec.downloads.front().algorithm) + " was checked)";
        } else if (checked > 0) {
            if (differs > 0)
                notes.push_back(differs == checked ? "not the official files (checksums differ)"
                                                   : std::to_string(differs) + " of " + std::to_string(checked) + " files are not the official ones (checksums differ)");
            if (changed > 0) notes.push_back(std::to_string(changed) + " file" + (changed > 1 ? "s" : "") + " changed since tito installed them");
            if (uncompressed > 0) notes.push_back("uncompressed copies (the published checksums are of the .gz files)");
            if (none > 0) {
                const auto archive_spec = std::find_if(spec.downloads.begin(), spec.downloads.end(), [](const DownloadSpec& d) { return !d.unpack.empty(); });
                if (archive_spec != spec.downloads.end()) {
                    notes.push_back("the published checksum is of the archive " + archive_spec->file + ", not of the unpacked files");
                } else {
                    notes.push_back(none == checked ? "no published checksum for these files" : "no published checksum for " + std::to_string(none) + " of the files");
                }
            }
            std::string text;
            for (const std::string& n : notes) text += (text.empty() ? "" : "; ") + n;
            report.checksums = text + (report.ok ? ", content verified by structure" : "");
        }
    }
    return report;
}

// ---------------------------------------------------------------------------------------------
// What the last verify found
// ---------------------------------------------------------------------------------------------

std::optional<fs::path> verify_state_file() {
    const char* home = std::getenv("HOME");
    if (!home || !*home) return std::nullopt;
    return fs::path(home) / ".cache" / "tinytorch" / "verified-datasets.json";
}

std::string files_signature(const DatasetSpec& spec, const fs::path& dataset_dir) {
    std::string text;
    for (const FileSpec& f : spec.files) {
        for (const std::string& candidate : {f.path, f.alternative}) {
            if (candidate.empty()) continue;
            struct stat st{};
            if (::stat((dataset_dir / candidate).c_str(), &st) != 0) continue;
            text += candidate + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "\n";
        }
    }
    return content_hash(text);
}

namespace {

nlohmann::json load_state(const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return nlohmann::json::object();
    try {
        nlohmann::json state = nlohmann::json::parse(read_text_file(file));
        return state.is_object() ? state : nlohmann::json::object();
    } catch (const std::exception&) {
        return nlohmann::json::object();  // a damaged record is only a forgotten one: rewritten on the next verify
    }
}

}  // namespace

std::optional<VerifyRecord> last_verify(const std::string& name, const fs::path& dataset_dir) {
    const auto file = verify_state_file();
    if (!file) return std::nullopt;
    const nlohmann::json state = load_state(*file);
    if (!state.contains(name) || !state.at(name).is_object()) return std::nullopt;
    const nlohmann::json& r = state.at(name);
    VerifyRecord record;
    record.ok = r.value("ok", false);
    record.when = r.value("when", "");
    record.summary = r.value("summary", "");
    record.path = r.value("path", "");
    record.signature = r.value("signature", "");
    std::error_code ec;
    if (fs::weakly_canonical(record.path, ec) != fs::weakly_canonical(dataset_dir, ec)) return std::nullopt;
    return record;
}

bool record_verify(const DatasetSpec& spec, const VerifyReport& report) {
    const auto file = verify_state_file();
    if (!file) return false;
    try {
        nlohmann::json state = load_state(*file);
        std::error_code ec;
        state[spec.name] = {{"ok", report.ok},
                            {"when", utc_timestamp()},
                            {"summary", report.summary()},
                            {"path", fs::weakly_canonical(report.dataset_dir, ec).string()},
                            {"signature", files_signature(spec, report.dataset_dir)}};
        atomic_write_file(*file, state.dump(2) + "\n");
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace tito
