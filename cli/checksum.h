// checksum.h - MD5 and SHA-256, for comparing downloaded and installed data files with the
// checksums their publishers give (torchvision lists md5 sums, TensorFlow Datasets sha256).
//
// MD5 is broken as a defence against a forger; here it detects a truncated or damaged download or
// a file that is not the official one, which it still does perfectly well.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace tito {

// Feed bytes with update() in any pieces, then hex() once: the digest in lowercase hex.
class Md5 {
public:
    Md5();
    void update(const void* data, size_t size);
    std::string hex();

private:
    void block(const uint8_t* chunk);
    std::array<uint32_t, 4> state_;
    std::array<uint8_t, 64> buffer_{};
    uint64_t length_ = 0;  // bytes so far
};

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t size);
    std::string hex();

private:
    void block(const uint8_t* chunk);
    std::array<uint32_t, 8> state_;
    std::array<uint8_t, 64> buffer_{};
    uint64_t length_ = 0;
};

std::string md5_hex(std::string_view data);
std::string sha256_hex(std::string_view data);

// The digest of a whole file, read in 1 MiB pieces; `progress(bytes so far)` is called after each.
// Throws UserError naming the file when it cannot be read. `algorithm` is "md5" or "sha256".
std::string file_digest(const std::filesystem::path& path, const std::string& algorithm,
                        const std::function<void(uint64_t)>& progress = {});

}  // namespace tito
