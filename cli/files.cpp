// files.cpp - see files.h.
#include "files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "errors.h"

namespace tito {

std::string read_text_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UserError("cannot read " + path.string() + ": " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_all(int fd, const char* data, size_t size, const fs::path& path) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : ENOSPC;
            throw UserError("cannot write " + path.string() + ": " + std::strerror(err), os_error_hint(err, path.parent_path().string()));
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
}

void atomic_write_file(const fs::path& path, const std::string& content) {
    const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    fs::create_directories(folder);
    std::string name = path.filename().string();
    name.insert(0, 1, '.');  // hidden while being written
    name += ".tmp-XXXXXX";
    std::string temp = (folder / name).string();
    int fd = ::mkstemp(temp.data());
    if (fd < 0) {
        const int err = errno;
        throw UserError("cannot create a temporary file in " + folder.string() + ": " + std::strerror(err), os_error_hint(err, folder.string()));
    }
    try {
        write_all(fd, content.data(), content.size(), path);
        if (::fsync(fd) != 0) {
            const int err = errno;
            throw UserError("cannot flush " + temp + ": " + std::strerror(err), os_error_hint(err, folder.string()));
        }
    } catch (...) {
        ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    ::fchmod(fd, 0644);
    ::close(fd);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        throw UserError("cannot replace " + path.string() + ": " + std::strerror(err), os_error_hint(err, folder.string()));
    }
    // Make the rename itself durable.
    int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

nlohmann::json load_json_file(const fs::path& path, const std::string& hint) {
    const std::string text = read_text_file(path);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // Turn the byte offset into line:column, which is what an editor shows.
        size_t line = 1, column = 1;
        for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        throw UserError(path.string() + " is not valid JSON (line " + std::to_string(line) + ", column " +
                            std::to_string(column) + ")",
                        hint);
    }
}

std::string content_hash(const std::string& data) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : data) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

std::string utc_timestamp() {
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

TempFolder::TempFolder(const fs::path& parent, const std::string& prefix) {
    std::string pattern = (parent / (prefix + "-XXXXXX")).string();
    if (!::mkdtemp(pattern.data())) {
        const int error_number = errno;
        throw UserError("cannot create a temporary folder in " + parent.string() + ": " + std::strerror(error_number),
                        os_error_hint(error_number, parent.string()));
    }
    path_ = pattern;
}

TempFolder::~TempFolder() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
}

}  // namespace tito
