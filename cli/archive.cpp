// archive.cpp - see archive.h. The tar layout (POSIX ustar, with the GNU and pax extensions that
// GNU tar writes): 512-byte header blocks, each followed by the member's data padded to 512 bytes;
// the archive ends with two blocks of zeros.
#include "archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "files.h"

namespace tito {

namespace {

constexpr size_t kBlock = 512;

z_stream* as_zstream(void* p) { return static_cast<z_stream*>(p); }

}  // namespace

DataStream::DataStream(const fs::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
        const int err = errno;
        throw UserError("cannot read " + path.string() + ": " + std::strerror(err), "check that the file exists and that you may read it");
    }
    input_.resize(1 << 16);
    // Peek at the first two bytes for the gzip magic.
    unsigned char magic[2] = {0, 0};
    const ssize_t n = ::pread(fd_, magic, 2, 0);
    gzipped_ = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (gzipped_) {
        auto* z = new z_stream{};
        if (inflateInit2(z, 15 + 16) != Z_OK) {  // 16: gzip wrapper only
            delete z;
            ::close(fd_);
            throw UserError("zlib could not start decompressing " + path.string(), "this looks like a bug in tito; report it");
        }
        zstream_ = z;
    }
}

DataStream::~DataStream() {
    if (zstream_) {
        inflateEnd(as_zstream(zstream_));
        delete as_zstream(zstream_);
    }
    if (fd_ >= 0) ::close(fd_);
}

bool DataStream::refill() {
    while (true) {
        const ssize_t n = ::read(fd_, input_.data(), input_.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            throw UserError("cannot read " + path_.string() + ": " + std::strerror(err), "check the disk (`dmesg` may say more)");
        }
        file_position_ += static_cast<uint64_t>(n);
        z_stream* z = as_zstream(zstream_);
        z->next_in = input_.data();
        z->avail_in = static_cast<uInt>(n);
        return n > 0;
    }
}

size_t DataStream::read(void* out, size_t size) {
    if (!gzipped_) {
        size_t done = 0;
        while (done < size) {
            const ssize_t n = ::read(fd_, static_cast<char*>(out) + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                const int err = errno;
                throw UserError("cannot read " + path_.string() + ": " + std::strerror(err), "check the disk (`dmesg` may say more)");
            }
            if (n == 0) break;
            done += static_cast<size_t>(n);
            file_position_ += static_cast<uint64_t>(n);
        }
        return done;
    }
    z_stream* z = as_zstream(zstream_);
    z->next_out = static_cast<Bytef*>(out);
    z->avail_out = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    const uInt wanted = z->avail_out;
    while (z->avail_out > 0) {
        if (z->avail_in == 0 && !refill()) {
            if (at_member_end_) break;  // the end of the last gzip member: the end of the data
            throw ArchiveError(path_.string() + " is truncated: the compressed data ends early",
                               "the file is incomplete: download or copy it again");
        }
        if (at_member_end_) {  // more bytes after a complete member: another member follows
            inflateReset(z);
            at_member_end_ = false;
        }
        const int rc = inflate(z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            at_member_end_ = true;
            continue;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            throw ArchiveError(path_.string() + " is not valid gzip data (" + (z->msg ? z->msg : "zlib error " + std::to_string(rc)) + ")",
                               "the file is damaged: download or copy it again");
        }
    }
    return wanted - z->avail_out;
}

std::string safe_member_path(const std::string& name) {
    if (name.empty()) throw ArchiveError("an archive member has an empty name", "the archive is damaged");
    if (name.find('\0') != std::string::npos) throw ArchiveError("archive member name contains a NUL byte", "the archive is damaged");
    if (name.front() == '/')
        throw ArchiveError("archive member '" + name + "' has an absolute path: refusing to write outside the destination folder",
                           "this is not the official archive; delete it and download it again");
    std::string out;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos) end = name.size();
        const std::string part = name.substr(start, end - start);
        if (part == "..")
            throw ArchiveError("archive member '" + name + "' contains '..': refusing to write outside the destination folder",
                               "this is not the official archive; delete it and download it again");
        if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
        start = end + 1;
    }
    if (out.empty()) throw ArchiveError("archive member '" + name + "' names no file", "the archive is damaged");
    return out;
}

namespace {

// An octal field ("0000644\0", "00000001750 "), or GNU's base-256 for sizes of 8 GiB and more.
bool parse_number(const unsigned char* field, size_t width, uint64_t& value) {
    value = 0;
    if (field[0] & 0x80) {  // base-256, big-endian, the first byte's top bit a flag
        if (field[0] != 0x80) return false;  // negative or absurd
        for (size_t i = 1; i < width; ++i) {
            if (value >> 56) return false;
            value = (value << 8) | field[i];
        }
        return true;
    }
    size_t i = 0;
    while (i < width && field[i] == ' ') ++i;
    for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
        if (value >> 60) return false;
        value = value * 8 + static_cast<uint64_t>(field[i] - '0');
    }
    for (; i < width; ++i)
        if (field[i] != ' ' && field[i] != '\0') return false;
    return true;  // an empty field (all spaces or NULs) reads as 0, as GNU tar reads it
}

std::string field_text(const unsigned char* field, size_t width) {
    const size_t length = static_cast<size_t>(std::find(field, field + width, '\0') - field);
    return std::string(reinterpret_cast<const char*>(field), length);
}

bool all_zero(const unsigned char* block) {
    return std::all_of(block, block + kBlock, [](unsigned char c) { return c == 0; });
}

// The header checksum: the sum of its bytes with the checksum field itself read as spaces.
// Historic tars summed signed chars; both are accepted, as GNU tar does.
bool checksum_ok(const unsigned char* header) {
    uint64_t stored = 0;
    if (!parse_number(header + 148, 8, stored)) return false;
    uint64_t unsigned_sum = 0;
    int64_t signed_sum = 0;
    for (size_t i = 0; i < kBlock; ++i) {
        const unsigned char c = (i >= 148 && i < 156) ? ' ' : header[i];
        unsigned_sum += c;
        signed_sum += static_cast<signed char>(c);
    }
    return stored == unsigned_sum || static_cast<int64_t>(stored) == signed_sum;
}

// "path" (and "size") from a pax extended header: records "LEN key=value\n".
void parse_pax(const std::string& data, const fs::path& archive, std::string& path, uint64_t& size, bool& has_size) {
    size_t at = 0;
    while (at < data.size()) {
        const size_t space = data.find(' ', at);
        if (space == std::string::npos) break;
        uint64_t length = 0;
        try {
            length = std::stoull(data.substr(at, space - at));
        } catch (const std::exception&) {
            throw ArchiveError(archive.string() + ": malformed pax header", "the archive is damaged: download it again");
        }
        if (length == 0 || at + length > data.size() || data[at + length - 1] != '\n')
            throw ArchiveError(archive.string() + ": malformed pax header", "the archive is damaged: download it again");
        const std::string record = data.substr(space + 1, at + length - space - 2);
        const size_t equals = record.find('=');
        if (equals != std::string::npos) {
            const std::string key = record.substr(0, equals), value = record.substr(equals + 1);
            if (key == "path") path = value;
            if (key == "size") {
                try {
                    size = std::stoull(value);
                    has_size = true;
                } catch (const std::exception&) {
                    throw ArchiveError(archive.string() + ": malformed pax size", "the archive is damaged: download it again");
                }
            }
        }
        at += length;
    }
}

// Creates the folders of `relative` below `root`, one by one, refusing to pass through anything
// that is not a real folder (a link planted earlier cannot redirect the writes).
void make_folders(const fs::path& root, const fs::path& relative) {
    fs::path at = root;
    for (const fs::path& part : relative) {
        at /= part;
        struct stat st{};
        if (::lstat(at.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode)) throw ArchiveError("archive member path " + relative.string() + " passes through " + at.string() + ", which is not a folder", "the archive is damaged");
            continue;
        }
        if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) {
            const int err = errno;
            throw UserError("cannot create " + at.string() + ": " + std::strerror(err), os_error_hint(err, root.string()));
        }
    }
}

}  // namespace

ExtractResult extract_tar(const fs::path& archive, const fs::path& destination, const ExtractOptions& options) {
    DataStream in(archive);
    ExtractResult result;
    std::set<std::string> seen;
    std::string next_path;  // from a GNU long-name ('L') or pax ('x') header, for the next member
    uint64_t next_size = 0;
    bool next_has_size = false;
    std::vector<char> buffer(1 << 20);
    unsigned char header[kBlock];
    uint64_t offset = 0;  // in the (decompressed) tar stream
    bool first = true;

    auto read_exact = [&](void* out, size_t size) { return in.read(out, size) == size; };
    auto truncated = [&](const std::string& what) {
        return ArchiveError(archive.string() + " is truncated: " + what, "the download is incomplete or damaged: delete it and download it again");
    };
    // Reads a member's data (plus padding) into `sink`, or skips it when sink is null.
    auto consume = [&](uint64_t size, const std::string& member, const std::function<void(const char*, size_t)>& sink) {
        const uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
        uint64_t left = padded, data_left = size;
        while (left > 0) {
            const size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
            if (!read_exact(buffer.data(), chunk))
                throw truncated("member '" + member + "' should have " + std::to_string(size) + " bytes");
            const size_t data = static_cast<size_t>(std::min<uint64_t>(data_left, chunk));
            if (sink && data > 0) sink(buffer.data(), data);
            data_left -= data;
            left -= chunk;
            if (options.progress) options.progress(in.file_position());
        }
        offset += padded;
    };

    while (true) {
        const size_t got = in.read(header, kBlock);
        if (got == 0 && !first) throw truncated("it ends without the end-of-archive marker");
        if (got != kBlock) {
            if (first) throw ArchiveError(archive.string() + " is not a tar archive (too short)", "check that you gave the right file");
            throw truncated("a header is cut off at byte " + std::to_string(offset));
        }
        if (all_zero(header)) {
            // The end: a second zero block should follow (some writers stop after one).
            unsigned char second[kBlock];
            const size_t more = in.read(second, kBlock);
            if (more != 0 && (more != kBlock || !all_zero(second)))
                throw ArchiveError(archive.string() + ": data after an end-of-archive block at byte " + std::to_string(offset), "the archive is damaged: download it again");
            break;
        }
        if (!checksum_ok(header)) {
            if (first) throw ArchiveError(archive.string() + " is not a tar archive (no valid tar header)", "check that you gave the right file");
            throw ArchiveError(archive.string() + ": damaged tar header at byte " + std::to_string(offset) + " (checksum mismatch)",
                               "the archive is damaged: delete it and download it again");
        }
        first = false;
        offset += kBlock;

        std::string name = field_text(header, 100);
        const bool ustar = std::memcmp(header + 257, "ustar", 5) == 0;
        if (ustar) {
            const std::string prefix = field_text(header + 345, 155);
            if (!prefix.empty() && header[156] != 'L' && header[156] != 'K') name = prefix + "/" + name;
        }
        uint64_t size = 0;
        if (!parse_number(header + 124, 12, size))
            throw ArchiveError(archive.string() + ": member '" + name + "' has an unreadable size", "the archive is damaged: download it again");
        const char type = static_cast<char>(header[156]);

        if (type == 'L' || type == 'x' || type == 'g' || type == 'K') {  // metadata for the next member
            if (size > (1u << 20)) throw ArchiveError(archive.string() + ": an extended header of " + std::to_string(size) + " bytes", "the archive is damaged");
            std::string data;
            consume(size, name, [&](const char* bytes, size_t n) { data.append(bytes, n); });
            if (type == 'L') next_path = data.substr(0, data.find('\0'));
            if (type == 'x') parse_pax(data, archive, next_path, next_size, next_has_size);
            continue;
        }
        if (!next_path.empty()) name = next_path;
        if (next_has_size) size = next_size;
        next_path.clear();
        next_has_size = false;

        const std::string relative = safe_member_path(name);
        if (type == '5') {
            make_folders(destination, relative);
            consume(size, name, nullptr);
            continue;
        }
        if (type != '0' && type != '\0' && type != '7') {
            const std::string kind = type == '1' ? "a hard link" : type == '2' ? "a symbolic link" : type == '3' || type == '4' ? "a device" : type == '6' ? "a FIFO" : std::string("of unknown type '") + type + "'";
            throw ArchiveError("archive member '" + name + "' is " + kind + ": only files and folders are unpacked",
                               "this is not the official archive; delete it and download it again");
        }
        if (!seen.insert(relative).second)
            throw ArchiveError(archive.string() + " lists '" + relative + "' twice", "this is not the official archive; delete it and download it again");
        if (result.bytes + size > options.max_bytes)
            throw ArchiveError(archive.string() + " unpacks to more than " + std::to_string(options.max_bytes) + " bytes",
                               "this is not the expected archive; check that you gave the right file");

        const fs::path parent = fs::path(relative).parent_path();
        if (!parent.empty()) make_folders(destination, parent);
        const fs::path target = destination / relative;
        const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            const int err = errno;
            if (err == EEXIST) throw ArchiveError(archive.string() + ": member '" + relative + "' collides with a folder or file already unpacked", "the archive is damaged");
            throw UserError("cannot create " + target.string() + ": " + std::strerror(err), os_error_hint(err, destination.string()));
        }
        try {
            consume(size, name, [&](const char* bytes, size_t n) { write_all(fd, bytes, n, target); });
            if (::fsync(fd) != 0) {
                const int err = errno;
                throw UserError("cannot flush " + target.string() + ": " + std::strerror(err), os_error_hint(err, destination.string()));
            }
        } catch (...) {
            ::close(fd);
            throw;
        }
        ::close(fd);
        result.files.push_back(relative);
        result.bytes += size;
    }
    return result;
}

}  // namespace tito
