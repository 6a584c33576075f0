// data_fixtures.cpp - see data_fixtures.h.
#include "data_fixtures.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace e2e {

namespace {

void put_be32(std::string& out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
}

void write_bytes(const fs::path& file, const std::string& data) {
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << data;
}

}  // namespace

std::string idx_images(uint32_t count, uint32_t rows, uint32_t cols, uint32_t magic) {
    std::string out;
    put_be32(out, magic);
    put_be32(out, count);
    put_be32(out, rows);
    put_be32(out, cols);
    for (uint64_t i = 0; i < uint64_t(count) * rows * cols; ++i) out += static_cast<char>((i * 7) % 256);
    return out;
}

std::string idx_labels(uint32_t count, uint32_t classes, uint32_t magic, int64_t bad_label_at) {
    std::string out;
    put_be32(out, magic);
    put_be32(out, count);
    for (uint32_t i = 0; i < count; ++i) out += static_cast<char>(static_cast<int64_t>(i) == bad_label_at ? classes : i % classes);
    return out;
}

std::string cifar_records(uint32_t count, int64_t bad_label_at) {
    std::string out;
    for (uint32_t i = 0; i < count; ++i) {
        out += static_cast<char>(static_cast<int64_t>(i) == bad_label_at ? 10 : i % 10);
        for (int p = 0; p < 3072; ++p) out += static_cast<char>((i + static_cast<uint32_t>(p)) % 256);
    }
    return out;
}

std::string gzip(const std::string& data) {
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string tar_archive(const std::vector<TarMember>& members) {
    std::string out;
    for (const TarMember& m : members) {
        char header[512];
        std::memset(header, 0, sizeof header);
        std::strncpy(header, m.name.c_str(), 100);
        std::snprintf(header + 100, 8, "%07o", m.type == '5' ? 0755 : 0644);
        std::snprintf(header + 108, 8, "%07o", 0);
        std::snprintf(header + 116, 8, "%07o", 0);
        std::snprintf(header + 124, 12, "%011llo", static_cast<unsigned long long>(m.type == '0' ? m.content.size() : 0));
        std::snprintf(header + 136, 12, "%011o", 0);
        header[156] = m.type;
        std::strncpy(header + 157, m.link.c_str(), 100);
        std::memcpy(header + 257, "ustar", 6);
        std::memcpy(header + 263, "00", 2);
        std::strncpy(header + 345, m.prefix.c_str(), 155);
        std::memset(header + 148, ' ', 8);
        unsigned sum = 0;
        for (unsigned char c : std::string(header, 512)) sum += c;
        std::snprintf(header + 148, 8, "%06o", sum);
        header[155] = ' ';
        out.append(header, 512);
        if (m.type == '0') {
            out += m.content;
            out.append((512 - m.content.size() % 512) % 512, '\0');
        }
    }
    out.append(1024, '\0');
    return out;
}

std::string digest_with_tool(const std::string& tool, const std::string& data) {
    char name[] = "/tmp/tito-digest-XXXXXX";
    const int fd = ::mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp");
    ::close(fd);
    write_bytes(name, data);
    const std::string command = tool + " " + name;
    FILE* pipe = ::popen(command.c_str(), "r");
    char line[256] = "";
    if (!pipe || !std::fgets(line, sizeof line, pipe)) throw std::runtime_error("cannot run " + tool);
    ::pclose(pipe);
    ::unlink(name);
    std::string text = line;
    return text.substr(0, text.find(' '));
}

SyntheticSets synthetic_sets(const std::string& base_url) {
    SyntheticSets sets;
    nlohmann::json datasets = nlohmann::json::array();

    // mnist: four gzipped idx files, installed as downloaded.
    {
        const std::map<std::string, std::string> files = {
            {"train-images-idx3-ubyte.gz", gzip(idx_images(100, 28, 28))},
            {"train-labels-idx1-ubyte.gz", gzip(idx_labels(100, 10))},
            {"t10k-images-idx3-ubyte.gz", gzip(idx_images(20, 28, 28))},
            {"t10k-labels-idx1-ubyte.gz", gzip(idx_labels(20, 10))},
        };
        nlohmann::json downloads = nlohmann::json::array();
        for (const auto& [file, bytes] : files) {
            sets.files["/official/mnist/" + file] = bytes;
            sets.installed["mnist"][file] = bytes;
            downloads.push_back({{"file", file}, {"size", bytes.size()}, {"md5", digest_with_tool("md5sum", bytes)},
                                 {"urls", {base_url + "/official/mnist/" + file}}});
        }
        datasets.push_back({{"name", "mnist"},
                            {"title", "synthetic MNIST"},
                            {"downloads", downloads},
                            {"files",
                             {{{"path", "train-images-idx3-ubyte.gz"}, {"or", "train-images-idx3-ubyte"}, {"format", "idx-images"}, {"count", 100}, {"rows", 28}, {"cols", 28}},
                              {{"path", "train-labels-idx1-ubyte.gz"}, {"or", "train-labels-idx1-ubyte"}, {"format", "idx-labels"}, {"count", 100}, {"classes", 10}},
                              {{"path", "t10k-images-idx3-ubyte.gz"}, {"or", "t10k-images-idx3-ubyte"}, {"format", "idx-images"}, {"count", 20}, {"rows", 28}, {"cols", 28}},
                              {{"path", "t10k-labels-idx1-ubyte.gz"}, {"or", "t10k-labels-idx1-ubyte"}, {"format", "idx-labels"}, {"count", 20}, {"classes", 10}}}}});
    }
    // cifar10: one archive, unpacked into cifar-10-batches-bin/.
    {
        const std::string names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
        const std::vector<std::pair<std::string, std::string>> members = {
            {"cifar-10-batches-bin/data_batch_1.bin", cifar_records(10)},
            {"cifar-10-batches-bin/data_batch_2.bin", cifar_records(10)},
            {"cifar-10-batches-bin/test_batch.bin", cifar_records(10)},
            {"cifar-10-batches-bin/batches.meta.txt", names},
            {"cifar-10-batches-bin/readme.html", "<p>synthetic</p>\n"},
        };
        std::vector<TarMember> tar = {{"cifar-10-batches-bin/", "", '5', "", ""}};
        for (const auto& [path, bytes] : members) {
            tar.push_back({path, bytes, '0', "", ""});
            sets.installed["cifar10"][path] = bytes;
        }
        const std::string archive = gzip(tar_archive(tar));
        sets.files["/official/cifar10/cifar-10-binary.tar.gz"] = archive;
        nlohmann::json files = nlohmann::json::array();
        for (const std::string batch : {"data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"})
            files.push_back({{"path", "cifar-10-batches-bin/" + batch}, {"format", "cifar-records"}, {"count", 10}, {"classes", 10}});
        files.push_back({{"path", "cifar-10-batches-bin/batches.meta.txt"}, {"format", "class-names"}, {"count", 10}});
        datasets.push_back({{"name", "cifar10"},
                            {"title", "synthetic CIFAR-10"},
                            {"folder", "cifar-10-batches-bin"},
                            {"downloads",
                             {{{"file", "cifar-10-binary.tar.gz"}, {"size", archive.size()}, {"md5", digest_with_tool("md5sum", archive)}, {"unpack", "tar.gz"},
                               {"urls", {base_url + "/official/cifar10/cifar-10-binary.tar.gz"}}}}},
                            {"files", files}});
    }
    // tinyshakespeare: one text file with a sha256.
    {
        std::string text;
        for (int i = 0; text.size() < 5000; ++i) text += "First Citizen:\nBefore we proceed any further, hear me speak " + std::to_string(i) + ".\n\n";
        sets.files["/official/tinyshakespeare/input.txt"] = text;
        sets.installed["tinyshakespeare"]["input.txt"] = text;
        datasets.push_back({{"name", "tinyshakespeare"},
                            {"title", "synthetic tiny-shakespeare"},
                            {"downloads",
                             {{{"file", "input.txt"}, {"size", text.size()}, {"sha256", digest_with_tool("sha256sum", text)},
                               {"urls", {base_url + "/official/tinyshakespeare/input.txt"}}}}},
                            {"files", {{{"path", "input.txt"}, {"format", "text"}, {"size", text.size()}}}}});
    }
    sets.catalog = {{"format", 1}, {"datasets", datasets}};
    return sets;
}

void write_installed(const SyntheticSets& sets, const std::string& name, const fs::path& root) {
    for (const auto& [path, bytes] : sets.installed.at(name)) write_bytes(root / name / path, bytes);
}

fs::path repository_catalog() { return TT_DATASETS_CATALOG; }

}  // namespace e2e
