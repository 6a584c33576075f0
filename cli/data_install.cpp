// data_install.cpp - see data_install.h.
#include "data_install.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "archive.h"
#include "checksum.h"
#include "errors.h"
#include "files.h"

namespace tito {

namespace {

// Holds <root>/.<name>.lock with flock() while a data set is being installed there; the kernel
// releases it if tito dies.
class InstallLock {
public:
    InstallLock(const fs::path& root, const std::string& name) {
        const fs::path file = root / ("." + name + ".lock");
        fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            const int err = errno;
            throw UserError("cannot create " + file.string() + ": " + std::strerror(err), os_error_hint(err, root.string()));
        }
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            throw UserError("another tito is installing " + name + " into " + root.string() + " right now",
                            "wait for it to finish, then run this again if you still need to");
        }
    }
    ~InstallLock() {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
    InstallLock(const InstallLock&) = delete;
    InstallLock& operator=(const InstallLock&) = delete;

private:
    int fd_ = -1;
};

// mkdtemp makes a folder only its owner may read; an installed data set is for every user.
void readable_by_all(const fs::path& folder) {
    fs::permissions(folder, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                                fs::perms::others_exec);
}

void fsync_path(const fs::path& path, bool folder) {
    const int fd = ::open(path.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

// Copies a file and flushes the copy to disk; `to` must not exist.
void copy_synced(const fs::path& from, const fs::path& to, const InstallFeedback& feedback) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        const int err = errno;
        throw UserError("cannot read " + from.string() + ": " + std::strerror(err), "check that you may read it");
    }
    const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        const int err = errno;
        ::close(in);
        throw UserError("cannot create " + to.string() + ": " + std::strerror(err), os_error_hint(err, to.parent_path().string()));
    }
    std::vector<char> buffer(1 << 20);
    uint64_t done = 0;
    std::error_code ec;
    const uint64_t total = static_cast<uint64_t>(fs::file_size(from, ec));
    try {
        while (true) {
            const ssize_t n = ::read(in, buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                const int err = errno;
                throw UserError("cannot read " + from.string() + ": " + std::strerror(err), "check the disk (`dmesg` may say more)");
            }
            if (n == 0) break;
            for (ssize_t at = 0; at < n;) {
                const ssize_t w = ::write(out, buffer.data() + at, static_cast<size_t>(n - at));
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) {
                    const int err = w < 0 ? errno : ENOSPC;
                    throw UserError("cannot write " + to.string() + ": " + std::strerror(err), os_error_hint(err, to.parent_path().string()));
                }
                at += w;
            }
            done += static_cast<uint64_t>(n);
            if (feedback.progress && total > 0)
                feedback.progress("copying " + from.filename().string() + "  " + std::to_string(done * 100 / total) + "%");
        }
        if (::fsync(out) != 0) {
            const int err = errno;
            throw UserError("cannot flush " + to.string() + ": " + std::strerror(err), os_error_hint(err, to.parent_path().string()));
        }
    } catch (...) {
        ::close(in);
        ::close(out);
        throw;
    }
    ::close(in);
    ::close(out);
}

// A file from the download folder into the new copy: a hard link when possible (same disk, no
// copying, and the download stays until the install succeeded), else a copy.
void place(const fs::path& from, const fs::path& to, const InstallFeedback& feedback) {
    fs::create_directories(to.parent_path());
    if (::link(from.c_str(), to.c_str()) == 0) return;
    copy_synced(from, to, feedback);
}

void require_space(const fs::path& root, uint64_t needed) {
    std::error_code ec;
    const fs::space_info space = fs::space(root, ec);
    if (ec || space.available >= needed) return;
    throw UserError("not enough disk space in " + root.string() + ": " + human_bytes(needed) + " needed, " + human_bytes(space.available) + " free",
                    "free some space, or put the data set on another disk with --dir DIR (and set TITO_DATA_DIR=DIR)");
}

std::string root_label(const fs::path& root) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(root, ec);
    for (const DataRoot& r : data_roots())
        if (fs::weakly_canonical(r.path, ec) == canonical) return r.label;
    return "--dir";
}

// Sha-256 of the files that have no published checksum of their own, so that `verify` can later
// tell whether they are still what was installed.
void write_marker(const fs::path& folder, const DatasetSpec& spec, const std::string& source, const nlohmann::json& from, bool official,
                  const InstallFeedback& feedback) {
    nlohmann::json files = nlohmann::json::object();
    for (const FileSpec& f : spec.files) {
        for (const std::string& candidate : {f.path, f.alternative}) {
            std::error_code ec;
            if (candidate.empty() || !fs::is_regular_file(folder / candidate, ec)) continue;
            if (spec.published(candidate)) break;
            if (feedback.progress) feedback.progress("recording checksums: " + candidate);
            files[candidate] = {{"size", fs::file_size(folder / candidate)}, {"sha256", file_digest(folder / candidate, "sha256")}};
            break;
        }
    }
    const nlohmann::json marker = {{"name", spec.name}, {"source", source}, {"from", from}, {"installed", utc_timestamp()},
                                   {"official", official}, {"tito", TITO_VERSION}, {"files", files}};
    atomic_write_file(folder / kMarkerFile, marker.dump(2) + "\n");
}

// Steps 2 and 3 of data_install.h: verify the gathered copy, record its origin, move it into place.
InstallResult finish_install(const DatasetSpec& spec, TempFolder& staged, const fs::path& root, bool replace, const std::string& source,
                             const nlohmann::json& from, bool official, const InstallFeedback& feedback) {
    auto progress = [&](const std::string& file, uint64_t done, uint64_t total) {
        if (feedback.progress) feedback.progress("verifying " + spec.name + ": " + file + (total > 0 ? "  " + std::to_string(done * 100 / total) + "%" : ""));
    };
    const VerifyReport check = verify_dataset(spec, staged.path(), false, progress);
    if (!check.ok)
        throw UserError(spec.name + " is not complete or not correct, so it was not installed: " + check.structure,
                        source == "fetch" ? "the files passed their checksums, so the catalog may be wrong: report it"
                                          : "check that you gave the right files (`tito data verify` lists what each must hold)");
    write_marker(staged.path(), spec, source, from, official, feedback);
    fsync_path(staged.path(), true);

    const fs::path target = root / spec.name;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(target, ec))) {
        if (!replace) throw UserError(spec.name + " is already in " + root.string(), "add --force to replace it");
        // Swap the new copy and the old one in one step, then delete the old one.
        if (::renameat2(AT_FDCWD, staged.path().c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
            const int err = errno;
            throw UserError("cannot replace " + target.string() + ": " + std::strerror(err), os_error_hint(err, root.string()));
        }
    } else {
        fs::rename(staged.path(), target);
        staged.release();
    }
    fsync_path(root, true);

    InstallResult result;
    result.location = location_in(spec, DataRoot{root_label(root), root});
    result.official = official;
    // The record `tito data list` shows: verified now, checksums included.
    result.report = verify_dataset(spec, target, true, progress);
    record_verify(spec, result.report);
    return result;
}

// Where each file of the data set is in `source`: the data set's folder, the folder above it
// (a data root), or - for CIFAR-10 - the cifar-10-batches-bin folder itself. Pairs of (relative
// path in the data set, file found).
std::vector<std::pair<std::string, fs::path>> gather(const DatasetSpec& spec, const fs::path& source, std::vector<std::string>& missing) {
    std::vector<std::pair<std::string, fs::path>> found;
    const std::vector<fs::path> bases = {source, source / spec.name};
    for (const FileSpec& f : spec.files) {
        bool ok = false;
        for (const std::string& candidate : {f.path, f.alternative}) {
            if (candidate.empty() || ok) continue;
            for (const fs::path& base : bases) {
                for (const fs::path& at : {base / candidate, base / fs::path(candidate).filename()}) {
                    std::error_code ec;
                    if (!ok && fs::is_regular_file(at, ec)) {
                        found.emplace_back(candidate, at);
                        ok = true;
                    }
                }
            }
        }
        if (!ok) missing.push_back(f.path);
    }
    return found;
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Temporary folders a tito killed mid-install left behind (<root>/.NAME.new-XXXXXX,
// .NAME.unpack-XXXXXX); called with the lock held, so no other tito is using them. The download
// folder .NAME.download is kept: its files are resumed.
void remove_leftovers(const fs::path& root, const std::string& name) {
    std::error_code ec;
    std::vector<fs::path> old;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string file = it->path().filename().string();
        for (const std::string& stem : {"." + name + ".new-", "." + name + ".unpack-"})
            if (file.rfind(stem, 0) == 0 && file.size() == stem.size() + 6) old.push_back(it->path());
    }
    for (const fs::path& folder : old) fs::remove_all(folder, ec);
}

}  // namespace

std::string mirror_url(const std::string& mirror, const std::string& name, const std::string& file) {
    std::string base = mirror;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/" + name + "/" + file;
}

InstallResult fetch_dataset(const DatasetSpec& spec, const FetchOptions& options, const InstallFeedback& feedback) {
    const fs::path root = options.root;
    fs::create_directories(root);
    require_writable_folder(root.string(), "the data folder");
    InstallLock lock(root, spec.name);
    remove_leftovers(root, spec.name);

    InstallResult result;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(root / spec.name, ec)) && !options.force) {
        result.already_there = true;
        result.location = location_in(spec, DataRoot{root_label(root), root});
        return result;
    }

    const fs::path staging = root / ("." + spec.name + ".download");
    fs::create_directories(staging);
    uint64_t needed = 0;
    for (const DownloadSpec& d : spec.downloads) {
        const uint64_t have = fs::exists(staging / d.file, ec) ? d.size : fs::exists(staging / (d.file + ".part"), ec) ? fs::file_size(staging / (d.file + ".part"), ec) : 0;
        needed += d.size - std::min(have, d.size);
        needed += d.unpack.empty() ? 0 : d.size + d.size / 8;  // unpacked: CIFAR-10's 170 MB archive holds 184 MB
    }
    require_space(root, needed);

    std::vector<std::string> urls_used;
    for (const DownloadSpec& d : spec.downloads) {
        const fs::path dest = staging / d.file;
        if (fs::exists(dest, ec)) {
            // Downloaded by an earlier run that stopped before installing: still good?
            if (feedback.progress) feedback.progress("checking " + d.file + " from an earlier download");
            if (file_digest(dest, d.algorithm) == d.checksum) {
                if (feedback.note) feedback.note(d.file + ": already downloaded (" + d.algorithm + " ok)");
                urls_used.push_back(d.urls.front());
                continue;
            }
            fs::remove(dest);
        }
        DownloadRequest request;
        request.urls = options.mirror.empty() ? d.urls : std::vector<std::string>{mirror_url(options.mirror, spec.name, d.file)};
        request.destination = dest;
        request.expected_size = d.size;
        request.algorithm = d.algorithm;
        request.checksum = d.checksum;
        request.retries = options.retries;
        request.retry_delay = options.retry_delay;
        request.progress = feedback.download;
        request.note = feedback.note;
        DownloadResult got;
        try {
            got = download_file(request);
        } catch (const DownloadError& e) {
            throw DownloadError(e.what(), e.hint() + "; or install files you already have: tito data import " + spec.name + " PATH");
        }
        result.downloaded += got.bytes - std::min(got.bytes, got.resumed_from);
        urls_used.push_back(got.url);
        if (feedback.note)
            feedback.note(d.file + ": " + human_bytes(got.bytes) + (got.resumed_from > 0 ? " (resumed at " + human_bytes(got.resumed_from) + ")" : "") + ", " +
                          d.algorithm + " ok");
    }

    TempFolder staged(root, "." + spec.name + ".new");
    readable_by_all(staged.path());
    for (const DownloadSpec& d : spec.downloads) {
        if (d.unpack == "tar.gz") {
            std::error_code size_ec;
            const uint64_t archive_size = static_cast<uint64_t>(fs::file_size(staging / d.file, size_ec));
            ExtractOptions extract;
            extract.max_bytes = std::max<uint64_t>(d.size * 4, uint64_t(1) << 30);
            extract.progress = [&](uint64_t read) {
                if (feedback.progress && archive_size > 0) feedback.progress("unpacking " + d.file + "  " + std::to_string(read * 100 / archive_size) + "%");
            };
            extract_tar(staging / d.file, staged.path(), extract);
        } else {
            place(staging / d.file, staged.path() / d.file, feedback);
        }
    }
    InstallResult installed = finish_install(spec, staged, root, options.force, "fetch", urls_used, true, feedback);
    installed.downloaded = result.downloaded;
    fs::remove_all(staging, ec);
    return installed;
}

InstallResult import_dataset(const DatasetSpec& spec, const fs::path& source_path, const fs::path& root, bool force, const InstallFeedback& feedback) {
    std::error_code ec;
    if (!fs::exists(source_path, ec))
        throw UserError(source_path.string() + " does not exist", "give the folder that holds the " + spec.name + " files, or the official archive");
    const fs::path source = fs::absolute(source_path);
    fs::create_directories(root);
    require_writable_folder(root.string(), "the data folder");
    InstallLock lock(root, spec.name);
    remove_leftovers(root, spec.name);

    InstallResult result;
    const fs::path target = root / spec.name;
    const fs::path canonical_source = fs::weakly_canonical(source, ec), canonical_target = fs::weakly_canonical(target, ec);
    const std::string relative = fs::relative(canonical_source, canonical_target, ec).string();
    if (fs::exists(target, ec) && (canonical_source == canonical_target || (!relative.empty() && relative.rfind("..", 0) != 0)))
        throw UserError(source_path.string() + " is the installed copy of " + spec.name + " itself", "import from a folder outside " + target.string());
    if (fs::exists(fs::symlink_status(target, ec)) && !force) {
        result.already_there = true;
        result.location = location_in(spec, DataRoot{root_label(root), root});
        return result;
    }

    TempFolder staged(root, "." + spec.name + ".new");
    readable_by_all(staged.path());
    bool official = false;
    nlohmann::json from = source.string();
    const std::string file_name = source.filename().string();

    auto copy_gathered = [&](const fs::path& folder, bool link) {
        std::vector<std::string> missing;
        const auto found = gather(spec, folder, missing);
        if (!missing.empty()) {
            std::string list;
            for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
            throw UserError(source_path.string() + " does not hold all of " + spec.name + ": missing " + list,
                            "give the folder that holds the files (or the folder above it)" +
                                std::string(spec.downloads.size() == 1 && !spec.downloads.front().unpack.empty() ? ", or the official archive " + spec.downloads.front().file : ""));
        }
        uint64_t total = 0;
        for (const auto& [relative_path, file] : found) total += static_cast<uint64_t>(fs::file_size(file, ec));
        require_space(root, total);
        bool all_published = !found.empty();
        bool all_match = true;
        for (const auto& [relative_path, file] : found) {
            const fs::path to = staged.path() / relative_path;
            fs::create_directories(to.parent_path());
            if (link) {
                fs::rename(file, to);
            } else {
                copy_synced(file, to, feedback);
            }
            const DownloadSpec* published = spec.published(relative_path);
            if (!published) {
                all_published = false;
                continue;
            }
            if (feedback.progress) feedback.progress("checking " + relative_path + " (" + published->algorithm + ")");
            if (file_digest(to, published->algorithm) != published->checksum) all_match = false;
        }
        return all_published && all_match;
    };

    if (fs::is_directory(source, ec)) {
        official = copy_gathered(source, false);
    } else if (ends_with(file_name, ".tar.gz") || ends_with(file_name, ".tgz") || ends_with(file_name, ".tar")) {
        // An archive: the official one when its checksum says so; unpacked beside the new copy,
        // then its files are gathered as from a folder.
        bool archive_official = false;
        for (const DownloadSpec& d : spec.downloads) {
            if (d.unpack.empty()) continue;
            if (feedback.progress) feedback.progress("checking " + file_name + " (" + d.algorithm + ")");
            if (file_digest(source, d.algorithm) == d.checksum) archive_official = true;
        }
        const uint64_t archive_size = static_cast<uint64_t>(fs::file_size(source, ec));
        require_space(root, 2 * archive_size);
        ExtractOptions extract;
        extract.progress = [&](uint64_t read) {
            if (feedback.progress && archive_size > 0) feedback.progress("unpacking " + file_name + "  " + std::to_string(read * 100 / archive_size) + "%");
        };
        if (archive_official) {
            // The official archive: installed as fetch installs it, everything it holds in place.
            extract_tar(source, staged.path(), extract);
            official = true;
        } else {
            TempFolder unpacked(root, "." + spec.name + ".unpack");
            extract_tar(source, unpacked.path(), extract);
            official = copy_gathered(unpacked.path(), true);
        }
    } else if (spec.files.size() == 1 && fs::is_regular_file(source, ec)) {
        const FileSpec& f = spec.files.front();
        require_space(root, static_cast<uint64_t>(fs::file_size(source, ec)));
        fs::create_directories((staged.path() / f.path).parent_path());
        copy_synced(source, staged.path() / f.path, feedback);
        const DownloadSpec* published = spec.published(f.path);
        official = published && file_digest(staged.path() / f.path, published->algorithm) == published->checksum;
    } else {
        throw UserError(source_path.string() + " is a single file, but " + spec.name + " has " + std::to_string(spec.files.size()) + " files",
                        "give the folder that holds them" +
                            std::string(spec.downloads.size() == 1 && !spec.downloads.front().unpack.empty() ? ", or the official archive " + spec.downloads.front().file : ""));
    }
    return finish_install(spec, staged, root, force, "import", from, official, feedback);
}

}  // namespace tito
