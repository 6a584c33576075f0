// data_fixtures.h - small synthetic data sets for the tests of `tito data`: idx files, CIFAR
// records, tar archives (well-formed or hostile), gzip, and a catalog describing them with their
// real checksums (computed with coreutils' md5sum/sha256sum, independently of tito's own code).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace e2e {

namespace fs = std::filesystem;

// idx files as MNIST has them (big-endian header). Labels are i % classes unless `bad_label_at`
// (>= 0) gets the label `classes` (out of range).
std::string idx_images(uint32_t count, uint32_t rows, uint32_t cols, uint32_t magic = 0x00000803);
std::string idx_labels(uint32_t count, uint32_t classes, uint32_t magic = 0x00000801, int64_t bad_label_at = -1);
// `count` CIFAR-10 records (1 label byte, 3,072 pixels); labels i % 10 unless `bad_label_at`.
std::string cifar_records(uint32_t count, int64_t bad_label_at = -1);

std::string gzip(const std::string& data);

struct TarMember {
    std::string name;
    std::string content;
    char type = '0';           // '0' file, '5' folder, '2' symbolic link, '1' hard link
    std::string link;          // for links
    std::string prefix;        // the ustar prefix field
};
// A tar archive (ustar headers with valid checksums) ending with two zero blocks.
std::string tar_archive(const std::vector<TarMember>& members);

// The digest of `data` by the coreutils tool ("md5sum" or "sha256sum").
std::string digest_with_tool(const std::string& tool, const std::string& data);

// Three small data sets in the catalog format - "mnist" (100 + 20 images 28x28, gzipped),
// "cifar10" (an archive cifar-10-binary.tar.gz of 2 batches of 10 records, a test batch and class
// names), "tinyshakespeare" (one text file) - served at <base_url>/official/<name>/<file>.
struct SyntheticSets {
    nlohmann::json catalog;
    std::map<std::string, std::string> files;  // server path ("/official/mnist/x.gz") -> bytes
    // The installed layout of each data set: relative path -> bytes (what verify must accept).
    std::map<std::string, std::map<std::string, std::string>> installed;
};
SyntheticSets synthetic_sets(const std::string& base_url);

// Writes the installed layout of one synthetic data set into root/<name>.
void write_installed(const SyntheticSets& sets, const std::string& name, const fs::path& root);

// The repository's catalog (datasets/catalog.json).
fs::path repository_catalog();

}  // namespace e2e
