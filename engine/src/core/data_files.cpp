// data_files.cpp - the [given] file handling of module 07 (data.h): whole files as bytes or text,
// gzip decompression, and where the course's data sets live.
//
// Every failure is a tt::Error that starts with the path and says what is wrong, because data
// files come from outside the program (a download that stopped half way, a file renamed from
// something else): a reader must never crash on them, and never hand back a silently short set.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tinytorch/data.h"
#include "tinytorch/errors.h"

namespace tt::data {

namespace {

namespace fs = std::filesystem;

// The raw bytes of a file, or a tt::Error naming the path and the reason.
std::vector<uint8_t> read_raw(const std::string& path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    TT_CHECK(fs::exists(status), path, ": no such file");
    TT_CHECK(!fs::is_directory(status), path, ": is a folder, not a file");
    std::ifstream in(path, std::ios::binary);
    TT_CHECK(in, path, ": cannot open: ", std::strerror(errno));
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    TT_CHECK(size >= 0, path, ": cannot tell its size (not a regular file?)");
    in.seekg(0, std::ios::beg);
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    in.read(reinterpret_cast<char*>(bytes.data()), size);
    TT_CHECK(in.gcount() == size, path, ": read only ", in.gcount(), " of ", size, " bytes");
    return bytes;
}

// Inflates every gzip member of `compressed` (gzip files may hold several, one after the other).
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& compressed, const std::string& path) {
    TT_CHECK(compressed.size() <= UINT_MAX, path, ": a gzip file of ", compressed.size(), " bytes is too large to read");
    // The last 4 bytes of a gzip file hold its uncompressed size (mod 2^32, little-endian): a good
    // first guess of the output size, so the buffer rarely grows. Never trusted beyond a guess.
    size_t guess = 0;
    if (compressed.size() >= 18) {
        const uint8_t* tail = compressed.data() + compressed.size() - 4;
        guess = static_cast<size_t>(tail[0]) | static_cast<size_t>(tail[1]) << 8 | static_cast<size_t>(tail[2]) << 16 |
                static_cast<size_t>(tail[3]) << 24;
    }
    std::vector<uint8_t> out(std::max<size_t>(guess, 4 * compressed.size()) + 1);

    z_stream stream{};
    TT_CHECK(inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK, path, ": zlib could not start decompressing");  // 16: gzip header
    struct End {
        z_stream* stream;
        ~End() { inflateEnd(stream); }
    } end{&stream};

    stream.next_in = const_cast<Bytef*>(compressed.data());
    stream.avail_in = static_cast<uInt>(compressed.size());
    size_t produced = 0;
    for (;;) {
        if (produced == out.size()) out.resize(out.size() * 2);
        const size_t room = std::min<size_t>(out.size() - produced, UINT_MAX);
        stream.next_out = out.data() + produced;
        stream.avail_out = static_cast<uInt>(room);
        const int status = inflate(&stream, Z_NO_FLUSH);
        produced += room - stream.avail_out;
        if (status == Z_STREAM_END) {
            if (stream.avail_in == 0) break;
            // Another member follows, or garbage does.
            TT_CHECK(stream.avail_in >= 2 && stream.next_in[0] == 0x1f && stream.next_in[1] == 0x8b, path, ": ",
                     stream.avail_in, " unexpected bytes after the end of the gzip data; the file is damaged: download it again");
            TT_CHECK(inflateReset(&stream) == Z_OK, path, ": zlib could not restart on the next gzip member");
            continue;
        }
        if (status == Z_OK || status == Z_BUF_ERROR) {
            // Z_BUF_ERROR with input left means the output was full: the loop makes room.
            TT_CHECK(stream.avail_in > 0 || stream.avail_out == 0, path,
                     ": truncated gzip file: the compressed data ends before the end of the stream (after ", produced,
                     " uncompressed bytes); download it again");
            continue;
        }
        throw Error(detail::concat(path, ": corrupt gzip data (zlib: ", stream.msg ? stream.msg : "error " + std::to_string(status),
                                   "); download the file again"));
    }
    // No shrink_to_fit: with the size from the trailer the buffer is one byte too large, and
    // shrinking would copy all of it (47 MB for MNIST) to give that byte back.
    out.resize(produced);
    return out;
}

// The roots a data set may be in, in look-up order, each with a note for the error message.
struct Place {
    fs::path root;
    std::string label;
};

std::vector<Place> data_roots() {
    std::vector<Place> places;
    if (const char* dir = std::getenv("TITO_DATA_DIR"); dir && *dir) places.push_back({dir, "$TITO_DATA_DIR"});
    if (const char* home = std::getenv("HOME"); home && *home)
        places.push_back({fs::path(home) / ".cache" / "tinytorch" / "datasets", "the user cache"});
    places.push_back({"/usr/share/datasets", "the system folder"});
    return places;
}

}  // namespace

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::vector<uint8_t> bytes = read_raw(path);
    // gzip is recognised by its magic number, not by the name: a file called .gz that is not
    // compressed (some browsers unpack on download) is read as it is.
    if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return gunzip(bytes, path);
    return bytes;
}

std::string read_text(const std::string& path) {
    const std::vector<uint8_t> bytes = read_raw(path);
    return std::string(bytes.begin(), bytes.end());
}

std::string find_dataset(const std::string& name) {
    static const std::vector<std::string> known = {"mnist", "fashion-mnist", "cifar10", "tinyshakespeare"};
    if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        throw Error("find_dataset: unknown data set '" + name + "'; the course has: " + list);
    }
    // CIFAR-10's archive unpacks into cifar-10-batches-bin/, and its readers want that folder.
    const fs::path inside = name == "cifar10" ? fs::path(name) / "cifar-10-batches-bin" : fs::path(name);

    std::string looked;
    if (const char* dir = std::getenv("TITO_DATA_DIR"); !dir || !*dir) looked += "  $TITO_DATA_DIR is not set\n";
    for (const Place& place : data_roots()) {
        const fs::path folder = place.root / inside;
        std::error_code error;
        if (fs::is_directory(folder, error)) return folder.string();
        looked += "  " + folder.string() + " (" + place.label + "): not there\n";
    }
    throw Error("find_dataset: data set '" + name + "' not found. Looked in:\n" + looked + "Get it with `tito data fetch " +
                name + "`, or set TITO_DATA_DIR to a folder that holds " + inside.string() + "/");
}

}  // namespace tt::data
