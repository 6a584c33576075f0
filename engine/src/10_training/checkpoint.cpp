// checkpoint.cpp - module 10: saving a model to a file and getting exactly it back.
//
// A checkpoint is what lets a run of hours survive a crash, a reboot or a full disk, and what you
// ship when training is done. It has to be exact (the same bits come back, so a resumed run is the
// run that was interrupted) and it has to be *safe to read*: the file comes from outside the
// program - a copy that stopped half way, a file from another version, a disk that flipped a bit.
// The layout (training.h) is built for both:
//
//     offset  bytes  what
//     0       8      magic "TTCKPT\r\n"        is this a checkpoint at all? (and was it copied as text?)
//     8       4      version (u32) = 1          can this program read it?
//     12      4      count (u32)                how many entries follow
//     16      ...    entries                    kind u8, name (u32 length + bytes), then the payload
//     end-8   8      FNV-1a of bytes [0, end-8) did every byte arrive as written?
//
// Every number is little-endian, written byte by byte: the file means the same on every machine,
// whatever the byte order of the one that wrote it (x86 and ARM are little-endian; the network and
// the MNIST files of 1998 are big-endian).
//
// Reading never trusts a number before checking it against the bytes that are actually there: a
// size read from a damaged file can be 2^63, and `std::vector<float>(size)` on it is a crash, not an
// error message. So every read first asks "are there that many bytes left?".
//
// Writing is atomic: the new checkpoint goes to a temporary file in the same folder, is flushed to
// the disk (fsync), and is then renamed over the old one. rename() replaces a directory entry in
// one step, so a run killed at any moment leaves either the old checkpoint or the new one - never a
// half-written file where the only good copy used to be.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "tinytorch/autograd.h"
#include "tinytorch/training.h"

namespace tt {

namespace {

constexpr char kMagic[8] = {'T', 'T', 'C', 'K', 'P', 'T', '\r', '\n'};
constexpr uint32_t kVersion = 1;
enum EntryKind : uint8_t { kTensor = 0, kNumber = 1, kText = 2 };

//! BEGIN SOLUTION
//! HINT: FNV-1a, 64-bit: h = 14695981039346656037 (0xcbf29ce484222325); for each byte b: h ^= b, then h *= 1099511628211 (0x100000001b3), in uint64_t (the overflow wraps, as it should).
//! HINT: a small writer that appends to a std::vector<uint8_t> saves you from repeating the byte order: put_u32(v) pushes v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 - least significant byte first (little-endian) on every machine.
//! HINT: a float goes through its bits: uint32_t bits; std::memcpy(&bits, &value, 4); then put_u32(bits). A double the same way with 8 bytes and put_u64.
//! HINT: the reader is the writer backwards, plus one rule: before reading n bytes, check that n bytes are left before the checksum, else throw tt::Error(path + ": truncated: ...").
uint64_t fnv1a(const uint8_t* data, size_t size) {
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; ++i) {
        hash ^= data[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

class Writer {
public:
    void put_u8(uint8_t v) { bytes.push_back(v); }
    void put_u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));  // least significant first
    }
    void put_u64(uint64_t v) {
        for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void put_f64(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        put_u64(bits);
    }
    void put_string(const std::string& text) {
        put_u32(static_cast<uint32_t>(text.size()));
        bytes.insert(bytes.end(), text.begin(), text.end());
    }
    // All of a tensor's floats, row-major, 4 bytes each.
    void put_floats(const float* values, int64_t count) {
        const size_t at = bytes.size();
        bytes.resize(at + 4 * static_cast<size_t>(count));
        uint8_t* out = bytes.data() + at;
        for (int64_t i = 0; i < count; ++i) {
            uint32_t bits;
            std::memcpy(&bits, &values[i], 4);
            for (int b = 0; b < 4; ++b) *out++ = static_cast<uint8_t>(bits >> (8 * b));
        }
    }
    std::vector<uint8_t> bytes;
};

// Reads bytes [0, end) of a file's contents; every read checks that the bytes are there first.
class Reader {
public:
    Reader(const std::vector<uint8_t>& bytes, size_t end, const std::string& path) : bytes_(bytes), end_(end), path_(path) {}

    // Throws "truncated" unless `count` more bytes remain (`what` says what was being read).
    void need(uint64_t count, const std::string& what) const {
        if (count <= end_ - position_) return;
        throw Error(path_ + ": truncated: " + what + " needs " + std::to_string(count) + " bytes at byte " +
                    std::to_string(position_) + ", but the file ends " + std::to_string(end_ - position_) +
                    " bytes later (a copy or download that stopped early?)");
    }
    uint8_t u8(const std::string& what) {
        need(1, what);
        return bytes_[position_++];
    }
    uint32_t u32(const std::string& what) { return static_cast<uint32_t>(little_endian(4, what)); }
    uint64_t u64(const std::string& what) { return little_endian(8, what); }
    double f64(const std::string& what) {
        const uint64_t bits = u64(what);
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    std::string text(uint64_t length, const std::string& what) {
        need(length, what);
        std::string s(reinterpret_cast<const char*>(bytes_.data() + position_), static_cast<size_t>(length));
        position_ += static_cast<size_t>(length);
        return s;
    }
    void floats(float* out, int64_t count, const std::string& what) {
        need(4 * static_cast<uint64_t>(count), what);
        const uint8_t* in = bytes_.data() + position_;
        for (int64_t i = 0; i < count; ++i, in += 4) {
            const uint32_t bits = static_cast<uint32_t>(in[0]) | static_cast<uint32_t>(in[1]) << 8 |
                                  static_cast<uint32_t>(in[2]) << 16 | static_cast<uint32_t>(in[3]) << 24;
            std::memcpy(&out[i], &bits, 4);
        }
        position_ += 4 * static_cast<size_t>(count);
    }
    size_t position() const { return position_; }

private:
    uint64_t little_endian(int count, const std::string& what) {
        need(static_cast<uint64_t>(count), what);
        uint64_t v = 0;
        for (int i = 0; i < count; ++i) v |= static_cast<uint64_t>(bytes_[position_ + i]) << (8 * i);
        position_ += static_cast<size_t>(count);
        return v;
    }
    const std::vector<uint8_t>& bytes_;
    size_t end_;
    const std::string& path_;
    size_t position_ = 0;
};

// Writes `bytes` to `path` atomically: a new file beside it, fsync, rename over the old one.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    // Same folder: rename() is only atomic within one file system, and /tmp often is another one.
    std::string temporary;
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
        std::string name = ".";
        name += target.filename().string();
        name += ".tmp-";
        name += std::to_string(::getpid());
        name += '-';
        name += std::to_string(attempt);
        temporary = (folder / name).string();
        fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);  // EXCL: never someone else's file
        if (fd < 0 && errno != EEXIST) break;
    }
    TT_CHECK(fd >= 0, path, ": cannot save the checkpoint: creating a temporary file in ", folder.string(),
             " failed: ", std::strerror(errno), " (does the folder exist, and may you write to it?)");
    auto fail = [&](const char* step) {
        const int error = errno;
        ::close(fd);
        ::unlink(temporary.c_str());
        throw Error(path + ": cannot save the checkpoint: " + step + " failed: " + std::strerror(error) +
                    " (the previous checkpoint, if any, is unchanged)");
    };
    size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("writing");  // a full disk lands here
        written += static_cast<size_t>(n);
    }
    // Without fsync, rename can reach the disk before the data: after a power cut, the new name
    // would point at an empty file.
    if (::fsync(fd) != 0) fail("fsync");
    if (::close(fd) != 0) {
        fd = -1;
        ::unlink(temporary.c_str());
        throw Error(path + ": cannot save the checkpoint: close failed: " + std::strerror(errno));
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        throw Error(path + ": cannot save the checkpoint: rename failed: " + std::strerror(error));
    }
    // The rename itself lives in the folder: sync it too, so the new name survives a power cut.
    const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folder_fd >= 0) {
        ::fsync(folder_fd);
        ::close(folder_fd);
    }
}
//! END SOLUTION

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
    //! BEGIN SOLUTION
    //! HINT: header: the 8 magic bytes, put_u32(1), put_u32(number of entries: tensors + numbers + texts).
    //! HINT: each entry: put_u8(kind), the name (u32 length, bytes), then the payload: a tensor's ndim (u32), its sizes (i64 each, written as u64) and numel floats in row-major order - contiguous() gives you a plain block whatever the layout; a number as f64; a text as u32 length + bytes.
    //! HINT: finally put_u64(fnv1a(every byte so far)), and write the whole buffer with the atomic recipe: open a new temporary file in the *same folder* as path (O_CREAT | O_EXCL), write, fsync, close, rename(temporary, path). On any failure remove the temporary file and throw a tt::Error naming path.
    const size_t count = checkpoint.tensors.size() + checkpoint.numbers.size() + checkpoint.texts.size();
    TT_CHECK(count <= std::numeric_limits<uint32_t>::max(), path, ": cannot save ", count, " entries in one checkpoint");
    Writer out;
    for (char c : kMagic) out.put_u8(static_cast<uint8_t>(c));
    out.put_u32(kVersion);
    out.put_u32(static_cast<uint32_t>(count));
    for (const auto& [name, tensor] : checkpoint.tensors) {
        TT_CHECK(tensor.defined(), path, ": cannot save tensor '", name, "': it is undefined");
        out.put_u8(kTensor);
        out.put_string(name);
        out.put_u32(static_cast<uint32_t>(tensor.dim()));
        for (int64_t size : tensor.shape()) out.put_u64(static_cast<uint64_t>(size));
        const Tensor values = tensor.contiguous();  // row-major, whatever the layout (a view, a transpose)
        out.put_floats(values.data(), values.numel());
    }
    for (const auto& [name, value] : checkpoint.numbers) {
        out.put_u8(kNumber);
        out.put_string(name);
        out.put_f64(value);
    }
    for (const auto& [name, text] : checkpoint.texts) {
        out.put_u8(kText);
        out.put_string(name);
        out.put_string(text);
    }
    out.put_u64(fnv1a(out.bytes.data(), out.bytes.size()));
    write_file_atomically(path, out.bytes);
    //! END SOLUTION
}

Checkpoint load_checkpoint(const std::string& path) {
    Checkpoint checkpoint;
    //! BEGIN SOLUTION
    //! HINT: read the whole file into a std::vector<uint8_t> (std::ifstream in(path, std::ios::binary)); a file that cannot be opened is a tt::Error naming path.
    //! HINT: check in this order, each with its own message that starts with the path: the magic ("not a TinyTorch checkpoint"), the version (newer than 1: "written by a newer TinyTorch"), then the entries, then no bytes left over before the checksum ("trailing bytes"), then the checksum ("damaged").
    //! HINT: the entries end 8 bytes before the end of the file (the checksum); reading past that point is "truncated".
    //! HINT: a size read from the file is a claim, not a fact. Before allocating a tensor, check that its sizes are >= 0 and that numel * 4 fits in the file at all - else "absurd size" - and compute numel step by step so a product of huge sizes cannot overflow.
    //! HINT: kinds other than 0, 1, 2 and a name seen twice are errors too.
    std::error_code error;
    TT_CHECK(std::filesystem::exists(path, error), path, ": no such file (check the path, or train first to create the checkpoint)");
    TT_CHECK(!std::filesystem::is_directory(path, error), path, ": is a folder, not a checkpoint file");
    std::ifstream in(path, std::ios::binary);
    TT_CHECK(in, path, ": cannot open the checkpoint: ", std::strerror(errno));
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    TT_CHECK(!in.bad(), path, ": cannot read the checkpoint: ", std::strerror(errno));
    const uint64_t file_size = bytes.size();

    // The magic first: a file that is not a checkpoint should say so, not "truncated".
    const size_t magic_bytes = std::min<size_t>(bytes.size(), sizeof kMagic);
    TT_CHECK(magic_bytes == 0 || std::memcmp(bytes.data(), kMagic, magic_bytes) == 0, path,
             ": not a TinyTorch checkpoint (it does not start with \"TTCKPT\\r\\n\"",
             magic_bytes >= 6 && std::memcmp(bytes.data(), kMagic, 6) == 0
                 ? "; its line ending was changed, as a text-mode copy or a git checkout with autocrlf does)"
                 : ")");
    constexpr size_t kSmallest = 8 + 4 + 4 + 8;  // magic, version, count, checksum: a checkpoint with no entries
    TT_CHECK(bytes.size() >= kSmallest, path, ": truncated: ", bytes.size(), " bytes, but even an empty checkpoint has ",
             kSmallest);

    Reader reader(bytes, bytes.size() - 8, path);
    reader.text(sizeof kMagic, "the magic");
    const uint32_t version = reader.u32("the version");
    TT_CHECK(version != 0, path, ": damaged: version 0 does not exist (the first version is 1)");
    TT_CHECK(version <= kVersion, path, ": checkpoint version ", version, " was written by a newer TinyTorch; this one reads version ",
             kVersion, " (update TinyTorch to load it)");
    // No check of count against the file's size is needed: every entry reads at least 9 bytes or
    // throws "truncated", so even a count of 4 billion ends the loop when the bytes run out.
    const uint32_t count = reader.u32("the number of entries");

    for (uint32_t i = 0; i < count; ++i) {
        const std::string where = "entry " + std::to_string(i + 1) + " of " + std::to_string(count);
        const uint8_t kind = reader.u8(where);
        const uint32_t name_length = reader.u32(where + ": its name length");
        TT_CHECK(name_length <= file_size, path, ": absurd size: ", where, " has a name of ", name_length,
                 " bytes in a file of ", file_size, " bytes (damaged?)");
        const std::string name = reader.text(name_length, where + ": its name");
        const std::string what = where + " ('" + name + "')";
        if (kind == kTensor) {
            const uint32_t ndim = reader.u32(what + ": its number of dimensions");
            TT_CHECK(uint64_t{ndim} * 8 <= file_size, path, ": absurd size: ", what, " claims ", ndim,
                     " dimensions in a file of ", file_size, " bytes (damaged?)");
            Shape shape(ndim);
            uint64_t numel = 1;
            for (uint32_t d = 0; d < ndim; ++d) {
                const uint64_t size = reader.u64(what + ": its sizes");
                // Sizes are int64 on the way in: anything above the file's size in floats is a lie,
                // and checking each factor first keeps the running product from overflowing.
                TT_CHECK(size <= file_size / 4 && (numel == 0 || size <= file_size / 4 / numel), path, ": absurd size: ", what,
                         " claims a dimension of ", static_cast<int64_t>(size), " in a file of ", file_size, " bytes (damaged?)");
                shape[d] = static_cast<int64_t>(size);
                numel *= size;
            }
            TT_CHECK(!checkpoint.tensors.count(name), path, ": damaged: tensor '", name, "' appears twice");
            Tensor tensor = zeros(shape);
            reader.floats(tensor.data(), tensor.numel(), what + ": its " + std::to_string(numel) + " values");
            checkpoint.tensors.emplace(name, tensor);
        } else if (kind == kNumber) {
            const double value = reader.f64(what + ": its value");
            TT_CHECK(checkpoint.numbers.emplace(name, value).second, path, ": damaged: number '", name, "' appears twice");
        } else if (kind == kText) {
            const uint32_t length = reader.u32(what + ": its length");
            TT_CHECK(length <= file_size, path, ": absurd size: ", what, " claims a text of ", length, " bytes in a file of ",
                     file_size, " bytes (damaged?)");
            std::string text = reader.text(length, what + ": its text");
            TT_CHECK(checkpoint.texts.emplace(name, std::move(text)).second, path, ": damaged: text '", name, "' appears twice");
        } else {
            throw Error(path + ": damaged: " + what + " has kind " + std::to_string(kind) + " (0 tensor, 1 number, 2 text)");
        }
    }
    TT_CHECK(reader.position() == bytes.size() - 8, path, ": trailing bytes: the ", count, " entries end at byte ",
             reader.position(), " but the checksum is at byte ", bytes.size() - 8, " (something was appended, or the file is damaged)");

    uint64_t stored = 0;
    for (int i = 0; i < 8; ++i) stored |= static_cast<uint64_t>(bytes[bytes.size() - 8 + i]) << (8 * i);
    TT_CHECK(stored == fnv1a(bytes.data(), bytes.size() - 8), path,
             ": damaged: the checksum does not match the contents (some bytes changed after it was written)");
    //! END SOLUTION
    return checkpoint;
}

// "model.<name>" for every parameter and buffer, "optimizer.<key>" for its state, and two texts.
// The tensors are copies: training on after make_checkpoint() must not change what it holds.
Checkpoint make_checkpoint(const Module& model, const optim::Optimizer* optimizer) {
    Checkpoint checkpoint;
    //! BEGIN SOLUTION
    //! HINT: model.named_parameters() and model.named_buffers(): store detach().clone() of each under "model." + name (clone: a copy, so the next step() does not change the checkpoint; detach: no graph in a file).
    //! HINT: with an optimizer: its state() (tensors and numbers) under "optimizer." + key; texts["model"] = model.to_string(), texts["optimizer"] = optimizer->name().
    for (const auto& [name, tensor] : model.named_parameters()) checkpoint.tensors["model." + name] = tensor.detach().clone();
    for (const auto& [name, tensor] : model.named_buffers()) checkpoint.tensors["model." + name] = tensor.detach().clone();
    checkpoint.texts["model"] = model.to_string();
    if (optimizer) {
        const optim::OptimizerState state = optimizer->state();  // copies already
        for (const auto& [key, tensor] : state.tensors) checkpoint.tensors["optimizer." + key] = tensor;
        for (const auto& [key, value] : state.numbers) checkpoint.numbers["optimizer." + key] = value;
        checkpoint.texts["optimizer"] = optimizer->name();
    }
    //! END SOLUTION
    return checkpoint;
}

// Everything is checked before anything is written: a checkpoint that does not fit leaves the model
// (and the optimizer) exactly as they were, instead of half old and half new.
void restore_checkpoint(const Checkpoint& checkpoint, Module& model, optim::Optimizer* optimizer) {
    //! BEGIN SOLUTION
    //! HINT: collect the model's tensors (named_parameters() then named_buffers()) as "model." + name. Every one must be in the checkpoint with the same shape, and every "model.*" tensor of the checkpoint must belong to the model; otherwise throw a tt::Error naming the entry (and both shapes).
    //! HINT: with an optimizer: the checkpoint's texts["optimizer"] must be its name(); pass the "optimizer.*" tensors and numbers (prefix removed) to optimizer->load_state().
    //! HINT: only then copy the values in, under tt::NoGradGuard (parameters require grad): target.copy_(source).
    std::vector<std::pair<std::string, Tensor>> targets;
    for (const auto& [name, tensor] : model.named_parameters()) targets.emplace_back("model." + name, tensor);
    for (const auto& [name, tensor] : model.named_buffers()) targets.emplace_back("model." + name, tensor);

    for (const auto& [key, target] : targets) {
        const auto it = checkpoint.tensors.find(key);
        TT_CHECK(it != checkpoint.tensors.end(), "restore_checkpoint: the model has '", key,
                 "' but the checkpoint does not: it was saved from another model");
        TT_CHECK(it->second.shape() == target.shape(), "restore_checkpoint: '", key, "' has shape ",
                 shape_str(it->second.shape()), " in the checkpoint but ", shape_str(target.shape()),
                 " in the model: it was saved from a model of another size");
    }
    for (const auto& [key, tensor] : checkpoint.tensors) {
        if (key.rfind("model.", 0) != 0) continue;
        bool known = false;
        for (const auto& target : targets) known = known || target.first == key;
        TT_CHECK(known, "restore_checkpoint: the checkpoint has '", key,
                 "' but the model does not: it was saved from another model");
    }

    if (optimizer) {
        const auto name = checkpoint.texts.find("optimizer");
        TT_CHECK(name != checkpoint.texts.end(), "restore_checkpoint: the checkpoint holds no optimizer state (it was made "
                 "without one); pass no optimizer to restore only the model");
        TT_CHECK(name->second == optimizer->name(), "restore_checkpoint: the checkpoint holds the state of ", name->second,
                 ", not of ", optimizer->name());
        optim::OptimizerState state;
        const std::string prefix = "optimizer.";
        for (const auto& [key, tensor] : checkpoint.tensors)
            if (key.rfind(prefix, 0) == 0) state.tensors[key.substr(prefix.size())] = tensor;
        for (const auto& [key, value] : checkpoint.numbers)
            if (key.rfind(prefix, 0) == 0) state.numbers[key.substr(prefix.size())] = value;
        optimizer->load_state(state);  // checks its own entries before it changes anything
    }

    NoGradGuard no_grad;  // writing into parameters that require grad
    for (auto& [key, target] : targets) target.copy_(checkpoint.tensors.at(key));
    //! END SOLUTION
}

}  // namespace tt
