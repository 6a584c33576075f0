// Tests of tito's data-set code: cli/checksum.cpp, cli/archive.cpp (gzip stream, tar reader),
// cli/datasets.cpp (catalog, look-up, verify), cli/download.cpp (against a local HTTP server) and
// cli/data_install.cpp (fetch, import).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "archive.h"
#include "checksum.h"
#include "cli_testing.h"
#include "data_fixtures.h"
#include "data_install.h"
#include "datasets.h"
#include "download.h"
#include "errors.h"
#include "local_http_server.h"

namespace fs = std::filesystem;
using cli_testing::scratch_dir;

namespace {

// Sets environment variables for one test and restores them after it.
class EnvGuard {
public:
    void set(const std::string& name, const std::optional<std::string>& value) {
        if (!saved_.count(name)) {
            const char* old = std::getenv(name.c_str());
            saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
        }
        if (value) {
            ::setenv(name.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name.c_str());
        }
    }
    ~EnvGuard() {
        for (const auto& [name, value] : saved_) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }

private:
    std::map<std::string, std::optional<std::string>> saved_;
};

void write(const fs::path& file, const std::string& bytes) {
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bytes;
}

std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

tito::Catalog synthetic_catalog(const e2e::SyntheticSets& sets) { return tito::Catalog::parse(sets.catalog, "synthetic catalog"); }

const tito::FileReport& file_report(const tito::VerifyReport& report, const std::string& path) {
    for (const auto& f : report.files)
        if (f.path == path) return f;
    FAIL("no report for " << path);
    throw std::logic_error("unreachable");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Checksums
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: md5 and sha256 match the published test vectors") {
    CHECK(tito::md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(tito::md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(tito::md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
    CHECK(tito::md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") == "57edf4a22be3c955ac49da2e2107b67a");
    CHECK(tito::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(tito::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(tito::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const std::string million(1000000, 'a');
    CHECK(tito::md5_hex(million) == "7707d6ae4e027c70eea2a935c2296f21");
    CHECK(tito::sha256_hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("data: checksums agree with coreutils at every block boundary, fed in any pieces") {
    for (size_t length : {1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000}) {
        std::string data;
        for (size_t i = 0; i < length; ++i) data += static_cast<char>((i * 31 + length) % 256);
        INFO("length " << length);
        CHECK(tito::md5_hex(data) == e2e::digest_with_tool("md5sum", data));
        CHECK(tito::sha256_hex(data) == e2e::digest_with_tool("sha256sum", data));
        tito::Md5 md5;
        tito::Sha256 sha;
        for (size_t at = 0; at < data.size(); at += 7) {
            md5.update(data.data() + at, std::min<size_t>(7, data.size() - at));
            sha.update(data.data() + at, std::min<size_t>(7, data.size() - at));
        }
        CHECK(md5.hex() == tito::md5_hex(data));
        CHECK(sha.hex() == tito::sha256_hex(data));
    }
}

TEST_CASE("data: file_digest reads a file; a missing one is a UserError naming it") {
    const fs::path dir = scratch_dir("digest");
    write(dir / "f", "abc");
    CHECK(tito::file_digest(dir / "f", "md5") == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(tito::file_digest(dir / "f", "sha256") == tito::sha256_hex("abc"));
    CHECK_THAT(message_of([&] { tito::file_digest(dir / "missing", "md5"); }), Catch::Contains("missing"));
    CHECK_THROWS_AS(tito::file_digest(dir / "f", "crc32"), tito::UserError);
    fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: the repository's catalog lists the four data sets with their published checksums") {
    const tito::Catalog catalog = tito::Catalog::load(e2e::repository_catalog());
    std::vector<std::string> names;
    for (const auto& d : catalog.datasets()) names.push_back(d.name);
    CHECK(names == tito::kDatasetNames);

    // torchvision/datasets/mnist.py, MNIST.resources and FashionMNIST.resources.
    const tito::DatasetSpec& mnist = catalog.get("mnist");
    REQUIRE(mnist.downloads.size() == 4);
    CHECK(mnist.published("train-images-idx3-ubyte.gz")->checksum == "f68b3c2dcbeaaa9fbdd348bbdeb94873");
    CHECK(mnist.published("train-labels-idx1-ubyte.gz")->checksum == "d53e105ee54ea40749a09fcbcd1e9432");
    CHECK(mnist.published("t10k-images-idx3-ubyte.gz")->checksum == "9fb629c4189551a2d022fa330f9573f3");
    CHECK(mnist.published("t10k-labels-idx1-ubyte.gz")->checksum == "ec29112dd5afa0611ce80d1b7f02629c");
    CHECK(mnist.published("train-images-idx3-ubyte.gz")->size == 9912422);
    const tito::DatasetSpec& fashion = catalog.get("fashion-mnist");
    CHECK(fashion.published("train-images-idx3-ubyte.gz")->checksum == "8d4fb7e6c68d591d4c3dfef9ec88bf0d");
    CHECK(fashion.published("train-labels-idx1-ubyte.gz")->checksum == "25c81989df183df01b3e8a0aad5dffbe");
    CHECK(fashion.published("t10k-images-idx3-ubyte.gz")->checksum == "bef4ecab320f06d8554ea6380940ec79");
    CHECK(fashion.published("t10k-labels-idx1-ubyte.gz")->checksum == "bb300cfdad3c16e7a12a480ee83cd310");
    // The CIFAR-10 page's md5 of the binary version; the files are unpacked from it.
    const tito::DatasetSpec& cifar = catalog.get("cifar10");
    REQUIRE(cifar.downloads.size() == 1);
    CHECK(cifar.downloads[0].file == "cifar-10-binary.tar.gz");
    CHECK(cifar.downloads[0].checksum == "c32a1d4ab5d03f1284b67883e8d87530");
    CHECK(cifar.downloads[0].unpack == "tar.gz");
    CHECK(cifar.folder == "cifar-10-batches-bin");
    int64_t train_records = 0, test_records = 0;
    for (const auto& f : cifar.files) {
        if (f.format != "cifar-records") continue;
        (f.path.find("data_batch") != std::string::npos ? train_records : test_records) += f.count;
        CHECK(f.classes == 10);
        CHECK(f.path.rfind("cifar-10-batches-bin/", 0) == 0);
    }
    CHECK(train_records == 50000);
    CHECK(test_records == 10000);
    // TensorFlow Datasets' checksums.tsv for tiny_shakespeare.
    const tito::DatasetSpec& shakespeare = catalog.get("tinyshakespeare");
    CHECK(shakespeare.published("input.txt")->algorithm == "sha256");
    CHECK(shakespeare.published("input.txt")->checksum == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed");
    CHECK(shakespeare.files.at(0).size == 1115394);
    for (const auto& d : catalog.datasets())
        for (const auto& download : d.downloads)
            for (const auto& url : download.urls) CHECK_THAT(url, Catch::StartsWith("http://") || Catch::StartsWith("https://"));
    for (const std::string name : {"mnist", "fashion-mnist"}) {
        int64_t images = 0;
        for (const auto& f : catalog.get(name).files)
            if (f.format == "idx-images") images += f.count;
        CHECK(images == 70000);
    }
}

TEST_CASE("data: a damaged catalog is a UserError that says what is wrong") {
    auto error_of = [](const std::string& text) { return message_of([&] { tito::Catalog::parse(nlohmann::json::parse(text), "cat.json"); }); };
    const std::string download = R"({"file": "a.gz", "size": 3, "md5": "900150983cd24fb0d6963f7d28e17f72", "urls": ["http://x/a.gz"]})";
    const std::string file = R"({"path": "a.gz", "format": "idx-labels", "count": 3, "classes": 10})";
    auto dataset = [&](const std::string& name, const std::string& d, const std::string& f) {
        return R"({"datasets": [{"name": ")" + name + R"(", "downloads": [)" + d + R"(], "files": [)" + f + "]}]}";
    };
    CHECK(error_of(dataset("ok", download, file)).empty());
    CHECK_THAT(error_of("{}"), Catch::Contains("cat.json") && Catch::Contains("datasets"));
    CHECK_THAT(error_of(dataset("../x", download, file)), Catch::Contains("bad data-set name"));
    CHECK_THAT(error_of(dataset("x", R"({"file": "a.gz", "md5": "123", "urls": ["http://x"]})", file)), Catch::Contains("md5 must be 32"));
    CHECK_THAT(error_of(dataset("x", R"({"file": "a.gz", "urls": ["http://x"]})", file)), Catch::Contains("no md5 or sha256"));
    CHECK_THAT(error_of(dataset("x", download, R"({"path": "../../etc/passwd", "format": "text", "size": 1})")), Catch::Contains("bad file path"));
    CHECK_THAT(error_of(dataset("x", download, R"({"path": "a", "format": "jpeg"})")), Catch::Contains("unknown format"));
    CHECK_THAT(error_of(dataset("x", download, R"({"path": "a", "format": "idx-images", "count": 3})")), Catch::Contains("needs its counts"));
    CHECK_THAT(error_of(R"({"datasets": [{"name": "x"}]})"), Catch::Contains("unexpected content"));
    nlohmann::json twice = nlohmann::json::parse(dataset("x", download, file));
    twice["datasets"].push_back(twice["datasets"][0]);
    CHECK_THAT(message_of([&] { tito::Catalog::parse(twice, "cat.json"); }), Catch::Contains("listed twice"));
}

TEST_CASE("data: an unknown data-set name suggests the closest one") {
    const tito::Catalog catalog = tito::Catalog::load(e2e::repository_catalog());
    try {
        catalog.get("mnsit");
        FAIL("no error");
    } catch (const tito::UserError& e) {
        CHECK_THAT(e.what(), Catch::Contains("unknown data set 'mnsit'"));
        CHECK_THAT(e.hint(), Catch::Contains("did you mean 'mnist'") && Catch::Contains("tinyshakespeare"));
    }
}

TEST_CASE("data: TITO_DATA_CATALOG replaces the catalog, and a missing one says so") {
    EnvGuard env;
    env.set("TITO_DATA_CATALOG", e2e::repository_catalog().string());
    CHECK(tito::Catalog::load_default().datasets().size() == 4);
    env.set("TITO_DATA_CATALOG", "/nonexistent/catalog.json");
    CHECK_THAT(message_of([] { tito::Catalog::load_default(); }), Catch::Contains("TITO_DATA_CATALOG=/nonexistent/catalog.json"));
}

// ---------------------------------------------------------------------------------------------
// Look-up
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: the look-up order is TITO_DATA_DIR, the user cache, /usr/share/datasets") {
    EnvGuard env;
    env.set("TITO_DATA_DIR", "/data/sets");
    env.set("HOME", "/home/student");
    auto roots = tito::data_roots();
    REQUIRE(roots.size() == 3);
    CHECK(roots[0].label == "TITO_DATA_DIR");
    CHECK(roots[0].path == "/data/sets");
    CHECK(roots[1].label == "user cache");
    CHECK(roots[1].path == "/home/student/.cache/tinytorch/datasets");
    CHECK(roots[2].label == "system");
    CHECK(roots[2].path == "/usr/share/datasets");

    env.set("TITO_DATA_DIR", "");  // set but empty: skipped
    env.set("HOME", std::nullopt);
    roots = tito::data_roots();
    REQUIRE(roots.size() == 1);
    CHECK(roots[0].label == "system");
    CHECK_THROWS_AS(tito::user_cache_root(), tito::UserError);
}

TEST_CASE("data: locate takes the first root holding the data set's folder") {
    const fs::path dir = scratch_dir("locate");
    const tito::Catalog catalog = tito::Catalog::load(e2e::repository_catalog());
    const std::vector<tito::DataRoot> roots = {{"TITO_DATA_DIR", dir / "a"}, {"user cache", dir / "b"}, {"system", dir / "c"}};
    const tito::DatasetSpec& mnist = catalog.get("mnist");
    CHECK_FALSE(tito::locate(mnist, roots).has_value());
    fs::create_directories(dir / "c" / "mnist");
    CHECK(tito::locate(mnist, roots)->root.label == "system");
    fs::create_directories(dir / "b" / "mnist");
    CHECK(tito::locate(mnist, roots)->root.label == "user cache");
    fs::create_directories(dir / "a" / "mnist");
    CHECK(tito::locate(mnist, roots)->data_dir == dir / "a" / "mnist");

    // CIFAR-10: the folder that counts is <root>/cifar10/cifar-10-batches-bin.
    const tito::DatasetSpec& cifar = catalog.get("cifar10");
    fs::create_directories(dir / "a" / "cifar10");  // without the batches folder: passed over
    fs::create_directories(dir / "b" / "cifar10" / "cifar-10-batches-bin");
    const auto at = tito::locate(cifar, roots);
    REQUIRE(at.has_value());
    CHECK(at->root.label == "user cache");
    CHECK(at->dataset_dir == dir / "b" / "cifar10");
    CHECK(at->data_dir == dir / "b" / "cifar10" / "cifar-10-batches-bin");
    fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Verify
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: verify accepts good files and says whether they are the official ones") {
    const fs::path dir = scratch_dir("verify-good");
    const e2e::SyntheticSets sets = e2e::synthetic_sets("http://127.0.0.1:1");
    const tito::Catalog catalog = synthetic_catalog(sets);
    for (const std::string name : {"mnist", "cifar10", "tinyshakespeare"}) e2e::write_installed(sets, name, dir);

    const tito::VerifyReport mnist = tito::verify_dataset(catalog.get("mnist"), dir / "mnist", true);
    INFO(mnist.summary());
    CHECK(mnist.ok);
    CHECK(mnist.structure == "structure ok (100 train + 20 test images 28x28, labels 0-9)");
    CHECK(mnist.checksums == "checksums match the official files");
    CHECK(tito::verify_dataset(catalog.get("tinyshakespeare"), dir / "tinyshakespeare", true).checksums == "checksums match the official files");
    const tito::VerifyReport cifar = tito::verify_dataset(catalog.get("cifar10"), dir / "cifar10", true);
    CHECK(cifar.ok);
    CHECK(cifar.structure == "structure ok (20 train + 10 test images 32x32x3, labels 0-9)");
    CHECK_THAT(cifar.checksums, Catch::Contains("published checksum is of the archive cifar-10-binary.tar.gz") && Catch::EndsWith("content verified by structure"));

    // The same content compressed differently (as the copies in shared/datasets are): not the
    // official files, but correct.
    std::string recompressed = read(dir / "mnist" / "train-images-idx3-ubyte.gz");
    recompressed[4] = 1;  // the gzip header's time stamp: other bytes, the same data
    write(dir / "mnist" / "train-images-idx3-ubyte.gz", recompressed);
    for (const char* file : {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
        std::string bytes = read(dir / "mnist" / file);
        bytes[4] = 1;
        write(dir / "mnist" / file, bytes);
    }
    const tito::VerifyReport copy = tito::verify_dataset(catalog.get("mnist"), dir / "mnist", true);
    CHECK(copy.ok);
    CHECK(copy.summary() == "structure ok (100 train + 20 test images 28x28, labels 0-9); not the official files (checksums differ), content verified by structure");
    CHECK(file_report(copy, "train-images-idx3-ubyte.gz").checksum == "differs");

    // Uncompressed copies are accepted under their own names.
    fs::remove(dir / "mnist" / "t10k-labels-idx1-ubyte.gz");
    write(dir / "mnist" / "t10k-labels-idx1-ubyte", e2e::idx_labels(20, 10));
    const tito::VerifyReport plain = tito::verify_dataset(catalog.get("mnist"), dir / "mnist", true);
    CHECK(plain.ok);
    CHECK(file_report(plain, "t10k-labels-idx1-ubyte").checksum == "uncompressed");
    CHECK_THAT(plain.checksums, Catch::Contains("uncompressed copies"));
    fs::remove_all(dir);
}

TEST_CASE("data: verify finds truncated files, wrong magic numbers, wrong counts and labels out of range") {
    const fs::path dir = scratch_dir("verify-bad");
    const e2e::SyntheticSets sets = e2e::synthetic_sets("http://127.0.0.1:1");
    const tito::Catalog catalog = synthetic_catalog(sets);
    const tito::DatasetSpec& mnist = catalog.get("mnist");
    const tito::FileSpec& images = mnist.files.at(0);  // train images: 100 of 28x28
    const tito::FileSpec& labels = mnist.files.at(1);  // train labels: 100, classes 10
    auto check = [&](const tito::FileSpec& spec, const std::string& bytes, const std::string& name = "f") {
        write(dir / name, bytes);
        const tito::FileReport r = tito::check_file(spec, dir / name);
        return r.ok ? std::string("ok") : r.problem;
    };
    CHECK(check(images, e2e::idx_images(100, 28, 28)) == "ok");
    CHECK(check(images, e2e::gzip(e2e::idx_images(100, 28, 28)), "f.gz") == "ok");
    const std::string full = e2e::idx_images(100, 28, 28);
    CHECK(check(images, full.substr(0, full.size() - 100)) == "f: truncated: 78,300 of 78,400 pixel bytes (100 images of 28x28)");
    CHECK(check(images, full + "xx") == "f: 2 bytes more than the header's 100 images");
    CHECK(check(images, full.substr(0, 10)) == "f: truncated: 10 bytes, but an idx image header alone is 16");
    const std::string gz = e2e::gzip(full);
    CHECK_THAT(check(images, gz.substr(0, gz.size() / 2), "g.gz"), Catch::Contains("g.gz is truncated"));
    std::string corrupt = gz;
    corrupt[corrupt.size() / 2] ^= 0x55;
    corrupt[corrupt.size() / 2 + 1] ^= 0x55;
    CHECK_THAT(check(images, corrupt, "h.gz"), Catch::Contains("h.gz"));
    CHECK(check(images, e2e::idx_images(100, 28, 28, 0x00000801)) == "f: wrong magic number 0x00000801 (idx image files start with 0x00000803; this looks like a label file)");
    CHECK(check(images, e2e::idx_images(99, 28, 28)) == "f: the header says 99 images, expected 100");
    CHECK(check(images, e2e::idx_images(100, 32, 32)) == "f: images are 32x32, expected 28x28");
    CHECK(check(labels, e2e::idx_labels(100, 10)) == "ok");
    CHECK(check(labels, e2e::idx_labels(100, 10, 0x00000803)) == "f: wrong magic number 0x00000803 (idx label files start with 0x00000801; this looks like an image file)");
    CHECK(check(labels, e2e::idx_labels(100, 10, 0x00000801, 42)) == "f: label 10 at index 42 is outside 0-9");
    CHECK(check(labels, e2e::idx_labels(60000, 10)) == "f: the header says 60,000 labels, expected 100");
    CHECK(check(labels, e2e::idx_labels(100, 10).substr(0, 50)) == "f: truncated: 42 of 100 labels");
    CHECK(check(labels, "") == "f: truncated: 0 bytes, but an idx label header alone is 8");

    const tito::DatasetSpec& cifar = catalog.get("cifar10");
    const tito::FileSpec& batch = cifar.files.at(0);  // 10 records
    CHECK(check(batch, e2e::cifar_records(10)) == "ok");
    CHECK(check(batch, e2e::cifar_records(10, 7)) == "f: record 7 has label 10, outside 0-9");
    CHECK(check(batch, e2e::cifar_records(10).substr(0, 30729)) == "f: 30,729 bytes, expected 30,730 (10 records of 3,073 bytes: 1 label + 3,072 pixels): truncated");
    CHECK(check(batch, e2e::cifar_records(11)) == "f: 33,803 bytes, expected 30,730 (10 records of 3,073 bytes: 1 label + 3,072 pixels)");
    const tito::FileSpec& names = cifar.files.at(3);
    CHECK(check(names, "a\nb\nc\n") == "f: 3 class names, expected 10");
    CHECK(check(names, "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nj\r\n\r\n") == "ok");

    const tito::FileSpec& text = catalog.get("tinyshakespeare").files.at(0);
    const std::string& corpus = sets.installed.at("tinyshakespeare").at("input.txt");
    CHECK(check(text, corpus) == "ok");
    CHECK(check(text, corpus.substr(1)) == "f: " + tito::with_commas(corpus.size() - 1) + " bytes, expected " + tito::with_commas(corpus.size()) + ": truncated");
    std::string with_nul = corpus;
    with_nul[10] = '\0';
    CHECK(check(text, with_nul) == "f: contains NUL bytes: not a text file");

    CHECK(tito::check_file(images, dir / "absent").problem == "absent: missing");
    fs::remove_all(dir);
}

TEST_CASE("data: verify of a whole data set reports the first problem, counts the others, and gives a hint") {
    const fs::path dir = scratch_dir("verify-set");
    const e2e::SyntheticSets sets = e2e::synthetic_sets("http://127.0.0.1:1");
    const tito::Catalog catalog = synthetic_catalog(sets);
    e2e::write_installed(sets, "cifar10", dir);
    write(dir / "cifar10" / "cifar-10-batches-bin" / "data_batch_2.bin", e2e::cifar_records(9));
    fs::remove(dir / "cifar10" / "cifar-10-batches-bin" / "test_batch.bin");
    const tito::VerifyReport report = tito::verify_dataset(catalog.get("cifar10"), dir / "cifar10", true);
    CHECK_FALSE(report.ok);
    CHECK(report.structure == "cifar-10-batches-bin/data_batch_2.bin: 27,657 bytes, expected 30,730 (10 records of 3,073 bytes: 1 label + 3,072 pixels): truncated (and 1 more problem)");
    CHECK(file_report(report, "cifar-10-batches-bin/test_batch.bin").problem == "cifar-10-batches-bin/test_batch.bin: missing");
    CHECK_THAT(report.hint, Catch::Contains("tito data fetch cifar10 --force"));
    CHECK(tito::verify_dataset(catalog.get("mnist"), dir / "mnist", true).structure == "no files of the data set in " + (dir / "mnist").string());
    fs::remove_all(dir);
}

TEST_CASE("data: files unpacked from the verified official archive are checked against what was recorded") {
    const fs::path dir = scratch_dir("verify-marker");
    const e2e::SyntheticSets sets = e2e::synthetic_sets("http://127.0.0.1:1");
    const tito::Catalog catalog = synthetic_catalog(sets);
    e2e::write_installed(sets, "cifar10", dir);
    nlohmann::json files = nlohmann::json::object();
    for (const auto& [path, bytes] : sets.installed.at("cifar10")) files[path] = {{"size", bytes.size()}, {"sha256", tito::sha256_hex(bytes)}};
    write(dir / "cifar10" / tito::kMarkerFile, nlohmann::json{{"official", true}, {"files", files}}.dump());
    const tito::VerifyReport report = tito::verify_dataset(catalog.get("cifar10"), dir / "cifar10", true);
    CHECK(report.ok);
    CHECK_THAT(report.checksums, Catch::StartsWith("checksums match the files tito unpacked from the official archive"));

    std::string edited = e2e::cifar_records(10);
    edited[100] = static_cast<char>(edited[100] ^ 1);  // one pixel: still the right structure
    write(dir / "cifar10" / "cifar-10-batches-bin" / "data_batch_1.bin", edited);
    const tito::VerifyReport changed = tito::verify_dataset(catalog.get("cifar10"), dir / "cifar10", true);
    CHECK(changed.ok);
    CHECK(file_report(changed, "cifar-10-batches-bin/data_batch_1.bin").checksum == "changed");
    CHECK_THAT(changed.checksums, Catch::Contains("1 file changed since tito installed them"));

    write(dir / "cifar10" / tito::kMarkerFile, "{not json");  // a damaged marker costs only the extra information
    CHECK(tito::verify_dataset(catalog.get("cifar10"), dir / "cifar10", true).ok);
    fs::remove_all(dir);
}

TEST_CASE("data: the last verify is recorded per data set and forgotten when the files change") {
    const fs::path dir = scratch_dir("verify-record");
    EnvGuard env;
    env.set("HOME", (dir / "home").string());
    const e2e::SyntheticSets sets = e2e::synthetic_sets("http://127.0.0.1:1");
    const tito::Catalog catalog = synthetic_catalog(sets);
    const tito::DatasetSpec& spec = catalog.get("tinyshakespeare");
    e2e::write_installed(sets, "tinyshakespeare", dir);
    CHECK_FALSE(tito::last_verify("tinyshakespeare", dir / "tinyshakespeare").has_value());
    REQUIRE(tito::record_verify(spec, tito::verify_dataset(spec, dir / "tinyshakespeare", true)));
    auto record = tito::last_verify("tinyshakespeare", dir / "tinyshakespeare");
    REQUIRE(record.has_value());
    CHECK(record->ok);
    CHECK(record->signature == tito::files_signature(spec, dir / "tinyshakespeare"));
    CHECK_FALSE(tito::last_verify("tinyshakespeare", dir / "elsewhere").has_value());  // about another copy
    write(dir / "tinyshakespeare" / "input.txt", "changed");
    CHECK(record->signature != tito::files_signature(spec, dir / "tinyshakespeare"));
    write(*tito::verify_state_file(), "{damaged");
    CHECK_FALSE(tito::last_verify("tinyshakespeare", dir / "tinyshakespeare").has_value());
    CHECK(tito::record_verify(spec, tito::verify_dataset(spec, dir / "tinyshakespeare", true)));  // rewritten
    CHECK_FALSE(tito::last_verify("tinyshakespeare", dir / "tinyshakespeare")->ok);
    fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// The tar reader
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: safe_member_path keeps members inside the destination") {
    CHECK(tito::safe_member_path("a/b.bin") == "a/b.bin");
    CHECK(tito::safe_member_path("./a//b/") == "a/b");
    CHECK_THROWS_AS(tito::safe_member_path("../evil"), tito::ArchiveError);
    CHECK_THROWS_AS(tito::safe_member_path("a/../../evil"), tito::ArchiveError);
    CHECK_THROWS_AS(tito::safe_member_path("a/.."), tito::ArchiveError);
    CHECK_THROWS_AS(tito::safe_member_path("/etc/passwd"), tito::ArchiveError);
    CHECK_THROWS_AS(tito::safe_member_path(""), tito::ArchiveError);
    CHECK_THROWS_AS(tito::safe_member_path("./"), tito::ArchiveError);
    CHECK_THROWS_AS(tito::safe_member_path(std::string("a\0b", 3)), tito::ArchiveError);
}

TEST_CASE("data: extract_tar unpacks files and folders from plain and gzipped archives") {
    const fs::path dir = scratch_dir("tar-good");
    const std::string big(70000, 'x');
    const std::string tar = e2e::tar_archive({{"top/", "", '5', "", ""},
                                              {"top/a.bin", "alpha", '0', "", ""},
                                              {"top/sub/b.bin", big, '0', "", ""},
                                              {"c.txt", "", '0', "", "pre/fix"},  // ustar prefix: pre/fix/c.txt
                                              {"./top/empty", "", '0', "", ""}});
    write(dir / "a.tar", tar);
    write(dir / "a.tar.gz", e2e::gzip(tar));
    for (const char* archive : {"a.tar", "a.tar.gz"}) {
        const fs::path out = dir / (std::string(archive) + ".out");
        fs::create_directories(out);
        uint64_t last_progress = 0;
        tito::ExtractOptions options;
        options.progress = [&](uint64_t read) { last_progress = read; };
        const tito::ExtractResult result = tito::extract_tar(dir / archive, out, options);
        CHECK(result.files == std::vector<std::string>{"top/a.bin", "top/sub/b.bin", "pre/fix/c.txt", "top/empty"});
        CHECK(result.bytes == 5 + big.size());
        CHECK(read(out / "top" / "a.bin") == "alpha");
        CHECK(read(out / "top" / "sub" / "b.bin") == big);
        CHECK(fs::exists(out / "pre" / "fix" / "c.txt"));
        CHECK(last_progress > 0);
    }
    // Several gzip members one after another read as one stream, as gunzip reads them.
    write(dir / "two.tar.gz", e2e::gzip(tar.substr(0, 1024)) + e2e::gzip(tar.substr(1024)));
    fs::create_directories(dir / "two");
    CHECK(tito::extract_tar(dir / "two.tar.gz", dir / "two").files.size() == 4);
    fs::remove_all(dir);
}

TEST_CASE("data: extract_tar reads GNU long names and pax paths") {
    const fs::path dir = scratch_dir("tar-long");
    const std::string long_name = "cifar-10-batches-bin/" + std::string(120, 'n') + ".bin";
    const std::string pax_record = " path=pax/renamed.bin\n";
    const std::string pax = std::to_string(pax_record.size() + 2) + pax_record;
    std::string tar = e2e::tar_archive({{"././@LongLink", long_name, '0', "", ""}, {"short", "long-named", '0', "", ""},
                                        {"PaxHeader", pax, '0', "", ""}, {"original", "pax-named", '0', "", ""}});
    // Turn the first and third members into a GNU 'L' and a pax 'x' header (type flag, then the checksum again).
    auto retype = [&](size_t header_at, char type) {
        tar[header_at + 156] = type;
        std::memset(&tar[header_at + 148], ' ', 8);
        unsigned sum = 0;
        for (size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(tar[header_at + i]);
        std::snprintf(&tar[header_at + 148], 8, "%06o", sum);
        tar[header_at + 155] = ' ';
    };
    retype(0, 'L');
    const size_t third = 512 + 512 + 512 + 512;  // L header + its data block, "short" header + data
    retype(third, 'x');
    write(dir / "long.tar", tar);
    fs::create_directories(dir / "out");
    const auto result = tito::extract_tar(dir / "long.tar", dir / "out");
    CHECK(result.files == std::vector<std::string>{long_name, "pax/renamed.bin"});
    CHECK(read(dir / "out" / long_name) == "long-named");
    CHECK(read(dir / "out" / "pax" / "renamed.bin") == "pax-named");
    fs::remove_all(dir);
}

TEST_CASE("data: extract_tar refuses hostile and damaged archives, writing nothing outside") {
    const fs::path dir = scratch_dir("tar-hostile");
    auto attempt = [&](const std::string& name, const std::string& bytes) {
        write(dir / name, bytes);
        const fs::path out = dir / (name + ".out");
        fs::create_directories(out);
        return message_of([&] { tito::extract_tar(dir / name, out); });
    };
    CHECK_THAT(attempt("dotdot.tar", e2e::tar_archive({{"ok.bin", "1", '0', "", ""}, {"../escaped", "evil", '0', "", ""}})),
               Catch::Contains("'../escaped' contains '..'"));
    CHECK_FALSE(fs::exists(dir / "escaped"));
    CHECK_THAT(attempt("deep.tar", e2e::tar_archive({{"a/b/../../../escaped2", "evil", '0', "", ""}})), Catch::Contains("contains '..'"));
    CHECK_FALSE(fs::exists(dir / "escaped2"));
    CHECK_THAT(attempt("absolute.tar", e2e::tar_archive({{"/tmp/tito-test-absolute-member", "evil", '0', "", ""}})), Catch::Contains("absolute path"));
    CHECK_FALSE(fs::exists("/tmp/tito-test-absolute-member"));
    CHECK_THAT(attempt("prefix.tar", e2e::tar_archive({{"escaped3", "evil", '0', "", ".."}})), Catch::Contains("contains '..'"));
    CHECK_FALSE(fs::exists(dir / "escaped3"));  // (a regression would land it here, still in the scratch folder)
    CHECK_THAT(attempt("symlink.tar", e2e::tar_archive({{"link", "", '2', "/etc", ""}, {"link/passwd", "evil", '0', "", ""}})),
               Catch::Contains("'link' is a symbolic link"));
    CHECK_THAT(attempt("hardlink.tar", e2e::tar_archive({{"hard", "", '1', "/etc/passwd", ""}})), Catch::Contains("is a hard link"));
    CHECK_THAT(attempt("device.tar", e2e::tar_archive({{"dev", "", '3', "", ""}})), Catch::Contains("is a device"));
    CHECK_THAT(attempt("twice.tar", e2e::tar_archive({{"same", "1", '0', "", ""}, {"./same", "2", '0', "", ""}})), Catch::Contains("lists 'same' twice"));

    const std::string good = e2e::tar_archive({{"a.bin", std::string(5000, 'a'), '0', "", ""}, {"b.bin", "b", '0', "", ""}});
    CHECK_THAT(attempt("cut-data.tar", good.substr(0, 512 + 1000)), Catch::Contains("is truncated") && Catch::Contains("'a.bin' should have 5000 bytes"));
    CHECK_THAT(attempt("cut-header.tar", good.substr(0, 512 + 5120 + 100)), Catch::Contains("a header is cut off"));
    CHECK_THAT(attempt("no-end.tar", good.substr(0, good.size() - 1024)), Catch::Contains("without the end-of-archive marker"));
    const std::string gz = e2e::gzip(good);
    CHECK_THAT(attempt("cut.tar.gz", gz.substr(0, gz.size() - 10)), Catch::Contains("is truncated"));
    std::string bad_sum = good;
    bad_sum[512 + 5120] ^= 1;  // the second header's name: its checksum no longer matches
    CHECK_THAT(attempt("checksum.tar", bad_sum), Catch::Contains("damaged tar header at byte 5632"));
    CHECK_THAT(attempt("random.tar", std::string(2048, 'z')), Catch::Contains("is not a tar archive"));
    CHECK_THAT(attempt("short.tar", "tiny"), Catch::Contains("is not a tar archive (too short)"));
    CHECK_THAT(attempt("empty.tar", ""), Catch::Contains("is not a tar archive (too short)"));

    write(dir / "bomb.tar", e2e::tar_archive({{"big", std::string(10000, 'b'), '0', "", ""}}));
    fs::create_directories(dir / "bomb.out");
    tito::ExtractOptions small;
    small.max_bytes = 5000;
    CHECK_THAT(message_of([&] { tito::extract_tar(dir / "bomb.tar", dir / "bomb.out", small); }), Catch::Contains("unpacks to more than 5000 bytes"));
    fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Downloads, against a server on 127.0.0.1
// ---------------------------------------------------------------------------------------------

namespace {

std::string payload(size_t size) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + i / 7) % 256);
    return data;
}

tito::DownloadRequest request_for(const e2e::LocalHttpServer& server, const std::string& path, const std::string& data, const fs::path& destination) {
    tito::DownloadRequest request;
    request.urls = {server.url() + path};
    request.destination = destination;
    request.expected_size = data.size();
    request.algorithm = "md5";
    request.checksum = tito::md5_hex(data);
    request.retries = 2;
    request.retry_delay = 0.05;
    return request;
}

size_t count_with(const std::vector<std::string>& requests, const std::string& text) {
    return static_cast<size_t>(std::count_if(requests.begin(), requests.end(), [&](const std::string& r) { return r.find(text) != std::string::npos; }));
}

}  // namespace

TEST_CASE("data: download_file fetches a file, reports progress and leaves no .part behind") {
    const fs::path dir = scratch_dir("dl-normal");
    e2e::LocalHttpServer server;
    const std::string data = payload(3 << 20);
    server.serve("/f.bin", data);
    tito::DownloadRequest request = request_for(server, "/f.bin", data, dir / "f.bin");
    bool checked = false;
    uint64_t last = 0;
    request.progress = [&](const tito::DownloadProgress& p) {
        CHECK(p.file == "f.bin");
        CHECK(p.total == data.size());
        last = std::max(last, p.bytes);
        checked = checked || p.checking;
    };
    const tito::DownloadResult result = tito::download_file(request);
    CHECK(read(dir / "f.bin") == data);
    CHECK_FALSE(fs::exists(dir / "f.bin.part"));
    CHECK(result.bytes == data.size());
    CHECK(result.attempts == 1);
    CHECK(result.url == server.url() + "/f.bin");
    CHECK(checked);
    CHECK(last == data.size());
    fs::remove_all(dir);
}

TEST_CASE("data: a dropped connection is retried, resuming with a Range request") {
    const fs::path dir = scratch_dir("dl-drop");
    e2e::LocalHttpServer server;
    const std::string data = payload(200000);
    server.serve("/f.bin", data);
    server.set_mode("/f.bin", e2e::LocalHttpServer::Mode::drop, 65536, 1);
    tito::DownloadRequest request = request_for(server, "/f.bin", data, dir / "f.bin");
    std::vector<std::string> notes;
    request.note = [&](const std::string& text) { notes.push_back(text); };
    const tito::DownloadResult result = tito::download_file(request);
    CHECK(read(dir / "f.bin") == data);
    CHECK(result.attempts == 2);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0] == "GET /f.bin");
    CHECK(requests[1] == "GET /f.bin Range: bytes=65536-");
    REQUIRE(notes.size() == 1);
    CHECK_THAT(notes[0], Catch::Contains("retrying") && Catch::Contains("1 of 2"));
    fs::remove_all(dir);
}

TEST_CASE("data: a .part file from an earlier run is resumed; one that cannot be is started again") {
    const fs::path dir = scratch_dir("dl-resume");
    e2e::LocalHttpServer server;
    const std::string data = payload(100000);
    server.serve("/f.bin", data);

    write(dir / "f.bin.part", data.substr(0, 40000));
    tito::DownloadResult result = tito::download_file(request_for(server, "/f.bin", data, dir / "f.bin"));
    CHECK(read(dir / "f.bin") == data);
    CHECK(result.resumed_from == 40000);
    CHECK(server.requests().back() == "GET /f.bin Range: bytes=40000-");

    // A server that ignores Range (200 with the whole file): the .part is not appended to.
    fs::remove(dir / "f.bin");
    write(dir / "f.bin.part", data.substr(0, 40000));
    server.set_mode("/f.bin", e2e::LocalHttpServer::Mode::ignore_range);
    std::vector<std::string> notes;
    tito::DownloadRequest request = request_for(server, "/f.bin", data, dir / "f.bin");
    request.note = [&](const std::string& text) { notes.push_back(text); };
    result = tito::download_file(request);
    CHECK(read(dir / "f.bin") == data);
    REQUIRE_FALSE(notes.empty());
    CHECK_THAT(notes[0], Catch::Contains("cannot resume"));

    // A .part longer than the file cannot be a prefix of it: started again.
    fs::remove(dir / "f.bin");
    server.set_mode("/f.bin", e2e::LocalHttpServer::Mode::normal);
    write(dir / "f.bin.part", data + "junk");
    CHECK(tito::download_file(request_for(server, "/f.bin", data, dir / "f.bin")).resumed_from == data.size() + 4);
    CHECK(read(dir / "f.bin") == data);

    // A complete .part (an earlier run died while checking it) needs no request at all.
    fs::remove(dir / "f.bin");
    write(dir / "f.bin.part", data);
    const size_t before = server.requests().size();
    result = tito::download_file(request_for(server, "/f.bin", data, dir / "f.bin"));
    CHECK(result.attempts == 0);
    CHECK(server.requests().size() == before);
    CHECK(read(dir / "f.bin") == data);
    fs::remove_all(dir);
}

TEST_CASE("data: wrong bytes fail the checksum: the file is moved aside and nothing takes its name") {
    const fs::path dir = scratch_dir("dl-wrong");
    e2e::LocalHttpServer server;
    const std::string data = payload(50000);
    server.serve("/f.bin", data);
    server.set_mode("/f.bin", e2e::LocalHttpServer::Mode::wrong_bytes);
    try {
        tito::download_file(request_for(server, "/f.bin", data, dir / "f.bin"));
        FAIL("no error");
    } catch (const tito::DownloadError& e) {
        CHECK_THAT(e.what(), Catch::Contains("is not the expected file") && Catch::Contains("expected " + tito::md5_hex(data)) &&
                                 Catch::Contains("moved aside to " + (dir / "f.bin.rejected").string()));
        CHECK_THAT(e.hint(), Catch::Contains("mirror"));
    }
    CHECK_FALSE(fs::exists(dir / "f.bin"));
    CHECK(fs::file_size(dir / "f.bin.rejected") == data.size());
    CHECK(fs::file_size(dir / "f.bin.part") == 0);

    // Resumed onto a bad earlier part: one more try from the start, which succeeds.
    server.set_mode("/f.bin", e2e::LocalHttpServer::Mode::normal);
    write(dir / "f.bin.part", std::string(20000, 'x'));
    const tito::DownloadResult result = tito::download_file(request_for(server, "/f.bin", data, dir / "f.bin"));
    CHECK(read(dir / "f.bin") == data);
    CHECK(result.attempts == 2);
    fs::remove_all(dir);
}

TEST_CASE("data: a missing file moves on to the next address; no server at all fails clearly") {
    const fs::path dir = scratch_dir("dl-urls");
    e2e::LocalHttpServer server;
    const std::string data = payload(1000);
    server.serve("/good.bin", data);
    tito::DownloadRequest request = request_for(server, "/missing.bin", data, dir / "f.bin");
    request.urls.push_back(server.url() + "/good.bin");
    CHECK(tito::download_file(request).url == server.url() + "/good.bin");
    CHECK(read(dir / "f.bin") == data);

    tito::DownloadRequest only_missing = request_for(server, "/missing.bin", data, dir / "g.bin");
    CHECK_THAT(message_of([&] { tito::download_file(only_missing); }), Catch::Contains("cannot download g.bin: the server answered HTTP 404"));

    tito::DownloadRequest nobody = request_for(server, "/f.bin", data, dir / "h.bin");
    nobody.urls = {"http://127.0.0.1:" + std::to_string(e2e::unused_port()) + "/f.bin"};
    const auto start = std::chrono::steady_clock::now();
    try {
        tito::download_file(nobody);
        FAIL("no error");
    } catch (const tito::DownloadError& e) {
        CHECK_THAT(e.what(), Catch::Contains("cannot download h.bin") && Catch::Contains("127.0.0.1"));
        CHECK_THAT(e.hint(), Catch::Contains("network"));
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    CHECK_FALSE(fs::exists(dir / "h.bin"));
    fs::remove_all(dir);
}

TEST_CASE("data: a connection that keeps dropping gives up after the retries and keeps the .part for next time") {
    const fs::path dir = scratch_dir("dl-always");
    e2e::LocalHttpServer server;
    const std::string data = payload(100000);
    server.serve("/f.bin", data);
    server.set_mode("/f.bin", e2e::LocalHttpServer::Mode::drop, 10000);
    CHECK_THAT(message_of([&] { tito::download_file(request_for(server, "/f.bin", data, dir / "f.bin")); }), Catch::Contains("cannot download f.bin"));
    CHECK(server.requests().size() == 3);  // the first try and 2 retries
    CHECK(count_with(server.requests(), "Range: bytes=") == 2);  // each retry resumed
    CHECK(fs::file_size(dir / "f.bin.part") == 30000);  // 10,000 bytes kept from each
    CHECK_FALSE(fs::exists(dir / "f.bin"));
    fs::remove_all(dir);
}

TEST_CASE("data: a server sending more than the expected size is cut off") {
    const fs::path dir = scratch_dir("dl-big");
    e2e::LocalHttpServer server;
    const std::string data = payload(10000);
    server.serve("/f.bin", data + std::string(5000, 'x'));
    CHECK_THAT(message_of([&] { tito::download_file(request_for(server, "/f.bin", data, dir / "f.bin")); }), Catch::Contains("more than the expected 10000 bytes"));
    CHECK_FALSE(fs::exists(dir / "f.bin"));
    fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Fetch and import
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: fetch_dataset installs a checked copy in one step and cleans up after itself") {
    const fs::path dir = scratch_dir("fetch");
    EnvGuard env;
    env.set("HOME", (dir / "home").string());
    e2e::LocalHttpServer server;
    const e2e::SyntheticSets sets = e2e::synthetic_sets(server.url());
    for (const auto& [path, bytes] : sets.files) server.serve(path, bytes);
    const tito::Catalog catalog = synthetic_catalog(sets);
    tito::FetchOptions options;
    options.root = dir / "data";
    options.retry_delay = 0.05;
    // What a tito killed while unpacking leaves behind is removed; another data set's is not.
    write(dir / "data" / ".mnist.new-Ab12Cd" / "train-images-idx3-ubyte.gz", "half");
    write(dir / "data" / ".mnist.unpack-Xy34Zw" / "x", "half");
    write(dir / "data" / ".cifar10.new-Ab12Cd" / "x", "half");

    const tito::InstallResult mnist = tito::fetch_dataset(catalog.get("mnist"), options);
    CHECK_FALSE(mnist.already_there);
    CHECK(mnist.official);
    CHECK(mnist.report.ok);
    CHECK(mnist.report.checksums == "checksums match the official files");
    CHECK(mnist.location.data_dir == dir / "data" / "mnist");
    for (const auto& [path, bytes] : sets.installed.at("mnist")) CHECK(read(dir / "data" / "mnist" / path) == bytes);
    const nlohmann::json marker = nlohmann::json::parse(read(dir / "data" / "mnist" / tito::kMarkerFile));
    CHECK(marker.at("source") == "fetch");
    CHECK(marker.at("official") == true);
    CHECK(tito::last_verify("mnist", dir / "data" / "mnist")->ok);
    std::vector<std::string> left;
    for (const auto& entry : fs::directory_iterator(dir / "data")) left.push_back(entry.path().filename().string());
    std::sort(left.begin(), left.end());
    CHECK(left == std::vector<std::string>{".cifar10.new-Ab12Cd", ".mnist.lock", "mnist"});

    CHECK(tito::fetch_dataset(catalog.get("mnist"), options).already_there);

    const tito::InstallResult cifar = tito::fetch_dataset(catalog.get("cifar10"), options);
    CHECK(cifar.report.ok);
    CHECK(cifar.location.data_dir == dir / "data" / "cifar10" / "cifar-10-batches-bin");
    CHECK_THAT(cifar.report.checksums, Catch::StartsWith("checksums match the files tito unpacked from the official archive"));
    CHECK(read(dir / "data" / "cifar10" / "cifar-10-batches-bin" / "readme.html") == "<p>synthetic</p>\n");
    CHECK_FALSE(fs::exists(dir / "data" / ".cifar10.download"));
    CHECK_FALSE(fs::exists(dir / "data" / ".cifar10.new-Ab12Cd"));

    // --force: the new copy replaces the old one whole.
    write(dir / "data" / "mnist" / "stale-file", "old");
    options.force = true;
    CHECK(tito::fetch_dataset(catalog.get("mnist"), options).report.ok);
    CHECK_FALSE(fs::exists(dir / "data" / "mnist" / "stale-file"));
    fs::remove_all(dir);
}

TEST_CASE("data: fetch_dataset from a mirror; a checksum failure installs nothing and keeps good downloads") {
    const fs::path dir = scratch_dir("fetch-mirror");
    EnvGuard env;
    env.set("HOME", (dir / "home").string());
    e2e::LocalHttpServer server;
    const e2e::SyntheticSets sets = e2e::synthetic_sets("http://127.0.0.1:" + std::to_string(e2e::unused_port()));  // the "official" server is down
    for (const auto& [path, bytes] : sets.files) server.serve("/mirror" + path.substr(std::string("/official").size()), bytes);
    const tito::Catalog catalog = synthetic_catalog(sets);
    tito::FetchOptions options;
    options.root = dir / "data";
    options.mirror = server.url() + "/mirror/";
    options.retry_delay = 0.05;
    CHECK(tito::mirror_url(options.mirror, "mnist", "a.gz") == server.url() + "/mirror/mnist/a.gz");

    server.set_mode("/mirror/mnist/t10k-labels-idx1-ubyte.gz", e2e::LocalHttpServer::Mode::wrong_bytes);
    CHECK_THROWS_AS(tito::fetch_dataset(catalog.get("mnist"), options), tito::DownloadError);
    CHECK_FALSE(fs::exists(dir / "data" / "mnist"));
    CHECK(fs::exists(dir / "data" / ".mnist.download" / "t10k-images-idx3-ubyte.gz"));  // checked, waiting
    CHECK(fs::exists(dir / "data" / ".mnist.download" / "t10k-labels-idx1-ubyte.gz.rejected"));

    server.set_mode("/mirror/mnist/t10k-labels-idx1-ubyte.gz", e2e::LocalHttpServer::Mode::normal);
    std::vector<std::string> notes;
    tito::InstallFeedback feedback;
    feedback.note = [&](const std::string& text) { notes.push_back(text); };
    const tito::InstallResult result = tito::fetch_dataset(catalog.get("mnist"), options, feedback);
    CHECK(result.report.ok);
    CHECK(std::count_if(notes.begin(), notes.end(), [](const std::string& n) { return n.find("already downloaded") != std::string::npos; }) >= 1);
    fs::remove_all(dir);
}

TEST_CASE("data: a fetched copy whose structure is wrong is not installed, even with good checksums") {
    const fs::path dir = scratch_dir("fetch-structure");
    EnvGuard env;
    env.set("HOME", (dir / "home").string());
    e2e::LocalHttpServer server;
    e2e::SyntheticSets sets = e2e::synthetic_sets(server.url());
    for (const auto& [path, bytes] : sets.files) server.serve(path, bytes);
    sets.catalog["datasets"][0]["files"][0]["count"] = 101;  // the catalog expects another count
    const tito::Catalog catalog = synthetic_catalog(sets);
    tito::FetchOptions options;
    options.root = dir / "data";
    CHECK_THAT(message_of([&] { tito::fetch_dataset(catalog.get("mnist"), options); }),
               Catch::Contains("mnist is not complete or not correct, so it was not installed") && Catch::Contains("expected 101"));
    CHECK_FALSE(fs::exists(dir / "data" / "mnist"));
    fs::remove_all(dir);
}

TEST_CASE("data: import_dataset takes a folder, the folder above it, or an archive, and copies") {
    const fs::path dir = scratch_dir("import");
    EnvGuard env;
    env.set("HOME", (dir / "home").string());
    const e2e::SyntheticSets sets = e2e::synthetic_sets("http://127.0.0.1:1");
    const tito::Catalog catalog = synthetic_catalog(sets);
    e2e::write_installed(sets, "mnist", dir / "src");
    e2e::write_installed(sets, "cifar10", dir / "src");

    // The data set's own folder: the official files (their md5 matches).
    tito::InstallResult result = tito::import_dataset(catalog.get("mnist"), dir / "src" / "mnist", dir / "data", false);
    CHECK(result.report.ok);
    CHECK(result.official);
    CHECK(fs::exists(dir / "src" / "mnist" / "train-images-idx3-ubyte.gz"));  // copied, not moved
    CHECK(nlohmann::json::parse(read(dir / "data" / "mnist" / tito::kMarkerFile)).at("source") == "import");
    CHECK(tito::import_dataset(catalog.get("mnist"), dir / "src" / "mnist", dir / "data", false).already_there);
    CHECK_THAT(message_of([&] { tito::import_dataset(catalog.get("mnist"), dir / "data" / "mnist", dir / "data", true); }), Catch::Contains("is the installed copy"));

    // The cifar-10-batches-bin folder itself, or the data root above cifar10/: not known to be official.
    result = tito::import_dataset(catalog.get("cifar10"), dir / "src" / "cifar10" / "cifar-10-batches-bin", dir / "data", false);
    CHECK(result.report.ok);
    CHECK_FALSE(result.official);
    CHECK(tito::import_dataset(catalog.get("cifar10"), dir / "src", dir / "data2", false).report.ok);

    // The official archive: recognised by its md5.
    write(dir / "cifar-10-binary.tar.gz", sets.files.at("/official/cifar10/cifar-10-binary.tar.gz"));
    result = tito::import_dataset(catalog.get("cifar10"), dir / "cifar-10-binary.tar.gz", dir / "data3", false);
    CHECK(result.official);
    CHECK_THAT(result.report.checksums, Catch::StartsWith("checksums match the files tito unpacked from the official archive"));
    CHECK(read(dir / "data3" / "cifar10" / "cifar-10-batches-bin" / "readme.html") == "<p>synthetic</p>\n");  // all of it, as fetch installs it

    // One file for a one-file data set.
    write(dir / "shakespeare.txt", sets.installed.at("tinyshakespeare").at("input.txt"));
    CHECK(tito::import_dataset(catalog.get("tinyshakespeare"), dir / "shakespeare.txt", dir / "data", false).official);

    // Uncompressed MNIST files are accepted under their own names.
    fs::create_directories(dir / "plain");
    write(dir / "plain" / "train-images-idx3-ubyte", e2e::idx_images(100, 28, 28));
    write(dir / "plain" / "train-labels-idx1-ubyte", e2e::idx_labels(100, 10));
    write(dir / "plain" / "t10k-images-idx3-ubyte", e2e::idx_images(20, 28, 28));
    write(dir / "plain" / "t10k-labels-idx1-ubyte", e2e::idx_labels(20, 10));
    result = tito::import_dataset(catalog.get("mnist"), dir / "plain", dir / "data4", false);
    CHECK(result.report.ok);
    CHECK(fs::exists(dir / "data4" / "mnist" / "t10k-labels-idx1-ubyte"));
    fs::remove_all(dir);
}

TEST_CASE("data: import_dataset refuses incomplete or wrong files and installs nothing") {
    const fs::path dir = scratch_dir("import-bad");
    EnvGuard env;
    env.set("HOME", (dir / "home").string());
    const e2e::SyntheticSets sets = e2e::synthetic_sets("http://127.0.0.1:1");
    const tito::Catalog catalog = synthetic_catalog(sets);
    e2e::write_installed(sets, "mnist", dir / "src");
    fs::remove(dir / "src" / "mnist" / "t10k-labels-idx1-ubyte.gz");
    CHECK_THAT(message_of([&] { tito::import_dataset(catalog.get("mnist"), dir / "src" / "mnist", dir / "data", false); }),
               Catch::Contains("does not hold all of mnist: missing t10k-labels-idx1-ubyte.gz"));
    write(dir / "src" / "mnist" / "t10k-labels-idx1-ubyte.gz", e2e::gzip(e2e::idx_labels(20, 10, 0x801, 3)));
    CHECK_THAT(message_of([&] { tito::import_dataset(catalog.get("mnist"), dir / "src" / "mnist", dir / "data", false); }),
               Catch::Contains("not installed") && Catch::Contains("label 10 at index 3"));
    CHECK_THAT(message_of([&] { tito::import_dataset(catalog.get("mnist"), dir / "nowhere", dir / "data", false); }), Catch::Contains("does not exist"));
    CHECK_THAT(message_of([&] { tito::import_dataset(catalog.get("mnist"), dir / "src" / "mnist" / "train-images-idx3-ubyte.gz", dir / "data", false); }),
               Catch::Contains("is a single file, but mnist has 4 files"));
    write(dir / "evil.tar", e2e::tar_archive({{"../evil", "x", '0', "", ""}}));
    CHECK_THAT(message_of([&] { tito::import_dataset(catalog.get("cifar10"), dir / "evil.tar", dir / "data", false); }), Catch::Contains("contains '..'"));
    CHECK_FALSE(fs::exists(dir / "data" / "mnist"));
    CHECK_FALSE(fs::exists(dir / "data" / "cifar10"));
    CHECK_FALSE(fs::exists(dir / "data" / "evil"));
    for (const auto& entry : fs::directory_iterator(dir / "data")) CHECK_THAT(entry.path().filename().string(), Catch::EndsWith(".lock"));  // no temporary folders left
    fs::remove_all(dir);
}
