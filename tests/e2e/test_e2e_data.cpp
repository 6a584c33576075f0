// End to end: `tito data list | path | verify | fetch | import` with the real tito binary.
//
// list, path and verify run against the course's real data sets (TITO_DATA_DIR; CI points it at
// ../shared/datasets). fetch and import run against small synthetic data sets described by a
// catalog of their own (TITO_DATA_CATALOG) and served by a local HTTP server on 127.0.0.1: nothing
// here uses the internet. HOME is a scratch folder in every test, so the user cache and the record
// of verifies are the test's own.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "data_fixtures.h"
#include "e2e_support.h"
#include "local_http_server.h"

using namespace e2e;
using Catch::Contains;
using Env = std::map<std::string, std::string>;

namespace {

// The folder holding the course's data sets, from TITO_DATA_DIR (a relative value is taken relative
// to the current folder, or else to the repository, as CI gives it: ../shared/datasets).
fs::path shared_datasets() {
    const char* value = std::getenv("TITO_DATA_DIR");
    const std::string how =
        "set TITO_DATA_DIR to the folder holding mnist/, cifar10/ and tinyshakespeare/ (CI: TITO_DATA_DIR=../shared/datasets, "
        "relative to the repository), or get them with `tito data fetch mnist` etc. and set TITO_DATA_DIR=~/.cache/tinytorch/datasets";
    if (!value || !*value) FAIL("these tests need the course's data sets: " << how);
    fs::path dir = value;
    if (dir.is_relative() && !fs::is_directory(dir)) dir = source_dir() / dir;
    dir = fs::weakly_canonical(dir);
    for (const char* name : {"mnist", "cifar10/cifar-10-batches-bin", "tinyshakespeare"})
        if (!fs::is_directory(dir / name)) FAIL("TITO_DATA_DIR=" << value << " has no " << name << "/ (looked in " << dir.string() << "): " << how);
    return dir;
}

// The environment of one test: its own HOME, no mirror, the given data folder and catalog.
Env data_env(const fs::path& home, const fs::path& data_dir, const fs::path& catalog = {}) {
    return {{"HOME", home.string()},
            {"TITO_DATA_DIR", data_dir.string()},
            {"TITO_DATA_CATALOG", catalog.string()},  // empty: unset (the installed catalog)
            {"TITO_DATA_MIRROR", ""}};
}

fs::path user_cache(const fs::path& home) { return home / ".cache" / "tinytorch" / "datasets"; }

// The synthetic data sets (see data_fixtures.h), their catalog written to <dir>/catalog.json.
struct Synthetic {
    SyntheticSets sets;
    fs::path catalog;
    Synthetic(const std::string& base_url, const fs::path& dir) : sets(synthetic_sets(base_url)), catalog(dir / "catalog.json") {
        write_file(catalog, sets.catalog.dump(2));
    }
    void serve(LocalHttpServer& server, const std::string& prefix = "/official") const {
        for (const auto& [path, bytes] : sets.files) server.serve(prefix + path.substr(std::string("/official").size()), bytes);
    }
};

// What is in a folder, by name (for "nothing else was left behind").
std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    if (!fs::is_directory(dir)) return names;
    for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// Only data sets and lock files: no temporary folder, no download left over.
void check_clean(const fs::path& root) {
    for (const std::string& name : entries(root)) {
        INFO("left in " << root.string() << ": " << name);
        CHECK((name.front() != '.' || (name.size() > 5 && name.substr(name.size() - 5) == ".lock")));
    }
}

size_t count_with(const std::vector<std::string>& lines, const std::string& text) {
    return static_cast<size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; }));
}

// Sets environment variables of this process for a scope (tito_on_terminal takes no environment:
// tito inherits ours).
class ScopedEnv {
public:
    explicit ScopedEnv(const Env& values) {
        for (const auto& [name, value] : values) {
            const char* old = std::getenv(name.c_str());
            saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
            if (value.empty()) {
                ::unsetenv(name.c_str());
            } else {
                ::setenv(name.c_str(), value.c_str(), 1);
            }
        }
    }
    ~ScopedEnv() {
        for (const auto& [name, value] : saved_) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A text of about `size` bytes, and a catalog entry for it as the one-file data set
// "tinyshakespeare" (replacing the synthetic one): for downloads that take a while.
std::string long_text(size_t size) {
    std::string text;
    for (int i = 0; text.size() < size; ++i) text += "ROMEO:\nBut soft, what light through yonder window breaks? " + std::to_string(i) + "\n\n";
    return text;
}

void use_text(Synthetic& synthetic, LocalHttpServer& server, const std::string& text) {
    for (auto& d : synthetic.sets.catalog["datasets"]) {
        if (d["name"] != "tinyshakespeare") continue;
        d["downloads"][0]["size"] = text.size();
        d["downloads"][0]["sha256"] = digest_with_tool("sha256sum", text);
        d["files"][0]["size"] = text.size();
    }
    write_file(synthetic.catalog, synthetic.sets.catalog.dump(2));
    server.serve("/official/tinyshakespeare/input.txt", text);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// list, path, verify: the real data sets
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: list, path and verify the course's data sets found through TITO_DATA_DIR", "[data]") {
    const fs::path shared = shared_datasets();
    TempDir dir("data-shared");
    const Env env = data_env(dir.path / "home", shared);

    Run list = tito({"data", "list"}, dir.path, env);
    INFO(list.text());
    REQUIRE(list.exit_code == 0);
    CHECK_THAT(list.out, Contains("mnist") && Contains("cifar10") && Contains("tinyshakespeare") && Contains("TITO_DATA_DIR") && Contains("not yet"));
    CHECK_THAT(list.out, Contains((shared / "cifar10" / "cifar-10-batches-bin").string()));
    CHECK_THAT(list.out, Contains("Looked in, in this order: " + shared.string() + " (TITO_DATA_DIR), " + user_cache(dir.path / "home").string()));
    CHECK(list.out.find('\033') == std::string::npos);  // not a terminal: no colour

    // path: the folder the loaders read, alone on stdout, for scripts.
    for (const auto& [name, folder] : std::map<std::string, fs::path>{{"mnist", shared / "mnist"},
                                                                      {"cifar10", shared / "cifar10" / "cifar-10-batches-bin"},
                                                                      {"tinyshakespeare", shared / "tinyshakespeare"}}) {
        Run path = tito({"data", "path", name}, dir.path, env);
        INFO(name << ": " << path.text());
        CHECK(path.exit_code == 0);
        CHECK(path.out == folder.string() + "\n");
        CHECK(path.err.empty());
    }

    // verify: structure checked; these copies are not byte-identical to the official files (see
    // the shared README), which is said, not failed.
    Run mnist = tito({"data", "verify", "mnist"}, dir.path, env);
    INFO(mnist.text());
    CHECK(mnist.exit_code == 0);
    CHECK_THAT(mnist.out, Contains("ok") && Contains("structure ok (60,000 train + 10,000 test images 28x28, labels 0-9)"));
    CHECK_THAT(mnist.out, Contains("not the official files (checksums differ), content verified by structure"));
    Run cifar = tito({"data", "verify", "cifar10"}, dir.path, env);
    INFO(cifar.text());
    CHECK(cifar.exit_code == 0);
    CHECK_THAT(cifar.out, Contains("structure ok (50,000 train + 10,000 test images 32x32x3, labels 0-9)") && Contains("content verified by structure"));
    Run text = tito({"data", "verify", "tinyshakespeare"}, dir.path, env);
    INFO(text.text());
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out, Contains("structure ok (1,115,394 bytes of text); checksums match the official files"));

    // --json: every data set found is checked, file by file.
    Run all = tito({"--json", "data", "verify"}, dir.path, env);
    INFO(all.text());
    CHECK(all.exit_code == 0);
    const nlohmann::json reports = nlohmann::json::parse(all.out);
    REQUIRE(reports.is_array());
    size_t checked = 0;
    for (const auto& r : reports) {
        if (!r.at("found").get<bool>()) continue;
        ++checked;
        CHECK(r.at("ok") == true);
        CHECK(r.at("files").size() >= 1);
        if (r.at("name") == "mnist") {
            CHECK(r.at("location") == "TITO_DATA_DIR");
            CHECK(r.at("files").size() == 4);
            for (const auto& f : r.at("files")) CHECK(f.at("checksum") == "differs");
        }
    }
    CHECK(checked >= 3);

    // The verifies are remembered: list shows them.
    list = tito({"data", "list"}, dir.path, env);
    CHECK_THAT(list.out, Contains("ok 20"));
    Run json_list = tito({"--json", "data", "list"}, dir.path, env);
    INFO(json_list.text());
    REQUIRE(json_list.exit_code == 0);
    bool saw_mnist = false;
    for (const auto& d : nlohmann::json::parse(json_list.out)) {
        if (d.at("name") != "mnist") continue;
        saw_mnist = true;
        CHECK(d.at("found") == true);
        CHECK(d.at("location") == "TITO_DATA_DIR");
        CHECK(d.at("path") == (shared / "mnist").string());
        CHECK(d.at("bytes").get<uint64_t>() > 11000000);
        CHECK(d.at("verified").at("ok") == true);
        CHECK(d.at("verified").at("changed_since") == false);
    }
    CHECK(saw_mnist);

    // A relative TITO_DATA_DIR is taken relative to the current folder; path prints it absolute.
    Env relative = env;
    relative["TITO_DATA_DIR"] = shared.filename().string();
    Run rel = tito({"data", "path", "mnist"}, shared.parent_path(), relative);
    CHECK(rel.exit_code == 0);
    CHECK(rel.out == (shared / "mnist").string() + "\n");
}

TEST_CASE("data: a missing data set: path exits 1 with the command that gets it; list and doctor say the same", "[data]") {
    TempDir dir("data-missing");
    fs::create_directories(dir.path / "empty");
    const Env env = data_env(dir.path / "home", dir.path / "empty");

    Run path = tito({"data", "path", "mnist"}, dir.path, env);
    INFO(path.text());
    CHECK(path.exit_code == 1);
    CHECK(path.out.empty());
    CHECK_THAT(path.err, Contains("mnist is not installed: looked in " + (dir.path / "empty" / "mnist").string()) && Contains("tito data fetch mnist"));

    Run json = tito({"--json", "data", "path", "mnist"}, dir.path, env);
    CHECK(json.exit_code == 1);
    const nlohmann::json j = nlohmann::json::parse(json.out);
    CHECK(j.at("found") == false);
    CHECK(j.at("get") == "tito data fetch mnist");

    Run list = tito({"data", "list"}, dir.path, env);
    INFO(list.text());
    CHECK(list.exit_code == 0);
    CHECK_THAT(list.out, Contains("missing") && Contains("get it: tito data fetch mnist") && Contains("get it: tito data fetch cifar10"));

    Run verify = tito({"data", "verify", "mnist"}, dir.path, env);
    CHECK(verify.exit_code == 1);
    CHECK_THAT(verify.out, Contains("missing") && Contains("tito data fetch mnist"));

    Run doctor = tito({"doctor"}, dir.path, env);
    INFO(doctor.text());
    CHECK_THAT(doctor.text(), Contains("missing mnist") || Contains("mnist, "));
    CHECK_THAT(doctor.text(), Contains("`tito data fetch mnist`"));

    // A name tito does not know: a usage error naming the choices.
    Run unknown = tito({"data", "path", "mnsit"}, dir.path, env);
    CHECK(unknown.exit_code == 2);
    CHECK_THAT(unknown.err, Contains("unknown data set 'mnsit'") && Contains("mnist"));
    Run no_name = tito({"data", "path"}, dir.path, env);
    CHECK(no_name.exit_code == 2);
}

TEST_CASE("data: verify finds truncated files, wrong magic numbers and labels out of range; list and doctor remember", "[data]") {
    TempDir dir("data-damaged");
    const Synthetic synthetic("http://127.0.0.1:1", dir.path);
    const fs::path data = dir.path / "data";
    write_installed(synthetic.sets, "mnist", data);
    const Env env = data_env(dir.path / "home", data, synthetic.catalog);

    Run good = tito({"data", "verify", "mnist"}, dir.path, env);
    INFO(good.text());
    CHECK(good.exit_code == 0);
    CHECK_THAT(good.out, Contains("structure ok (100 train + 20 test images 28x28, labels 0-9); checksums match the official files"));

    // Truncated: the header promises 20 images, 10 are there.
    write_file(data / "mnist" / "t10k-images-idx3-ubyte.gz", gzip(idx_images(20, 28, 28).substr(0, 16 + 10 * 28 * 28)));
    Run truncated = tito({"data", "verify", "mnist"}, dir.path, env);
    INFO(truncated.text());
    CHECK(truncated.exit_code == 1);
    CHECK_THAT(truncated.out, Contains("FAILED") && Contains("t10k-images-idx3-ubyte.gz: truncated: 7,840 of 15,680 pixel bytes"));
    CHECK_THAT(truncated.out, Contains("hint: get a fresh copy: tito data fetch mnist --force"));

    // A label file where an image file belongs; a label out of range.
    write_file(data / "mnist" / "t10k-images-idx3-ubyte.gz", gzip(idx_labels(20, 10)));
    write_file(data / "mnist" / "train-labels-idx1-ubyte.gz", gzip(idx_labels(100, 10, 0x801, 7)));
    Run json = tito({"--json", "data", "verify", "mnist"}, dir.path, env);
    INFO(json.text());
    CHECK(json.exit_code == 1);
    const nlohmann::json report = nlohmann::json::parse(json.out);
    CHECK(report.at("ok") == false);
    std::string problems;
    for (const auto& f : report.at("files")) problems += f.at("problem").get<std::string>() + "\n";
    CHECK_THAT(problems, Contains("wrong magic number 0x00000801") && Contains("this looks like a label file"));
    CHECK_THAT(problems, Contains("label 10 at index 7 is outside 0-9"));

    Run list = tito({"data", "list"}, dir.path, env);
    CHECK_THAT(list.out, Contains("FAILED 20"));
    Run doctor = tito({"doctor"}, dir.path, env);
    CHECK_THAT(doctor.text(), Contains("the last verify of mnist failed") && Contains("`tito data verify mnist`"));

    // A changed file is no longer "FAILED": the record is of other files.
    write_installed(synthetic.sets, "mnist", data);
    list = tito({"data", "list"}, dir.path, env);
    CHECK_THAT(list.out, Contains("changed since"));
}

// ---------------------------------------------------------------------------------------------
// fetch: a local HTTP server in place of the official addresses
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: fetch downloads, checks and installs each data set into the user cache", "[data]") {
    TempDir dir("data-fetch");
    LocalHttpServer server;
    const Synthetic synthetic(server.url(), dir.path);
    synthetic.serve(server);
    fs::create_directories(dir.path / "empty");
    const fs::path home = dir.path / "home";
    const Env env = data_env(home, dir.path / "empty", synthetic.catalog);
    const fs::path cache = user_cache(home);

    Run text = tito({"data", "fetch", "tinyshakespeare"}, dir.path, env);
    INFO(text.text());
    REQUIRE(text.exit_code == 0);
    CHECK_THAT(text.out, Contains("fetched tinyshakespeare into " + (cache / "tinyshakespeare").string()) && Contains("checksums match the official files"));
    CHECK_THAT(text.err, Contains("input.txt: ") && Contains("sha256 ok"));
    CHECK(read_file(cache / "tinyshakespeare" / "input.txt") == synthetic.sets.installed.at("tinyshakespeare").at("input.txt"));
    CHECK(text.err.find('\r') == std::string::npos);  // no progress line drawn into a pipe

    Run mnist = tito({"data", "fetch", "mnist"}, dir.path, env);
    INFO(mnist.text());
    REQUIRE(mnist.exit_code == 0);
    for (const auto& [file, bytes] : synthetic.sets.installed.at("mnist")) CHECK(read_file(cache / "mnist" / file) == bytes);

    // CIFAR-10's archive is unpacked: the loaders' folder is cifar10/cifar-10-batches-bin.
    Run cifar = tito({"data", "fetch", "cifar10"}, dir.path, env);
    INFO(cifar.text());
    REQUIRE(cifar.exit_code == 0);
    for (const auto& [file, bytes] : synthetic.sets.installed.at("cifar10")) CHECK(read_file(cache / "cifar10" / file) == bytes);
    CHECK_FALSE(fs::exists(cache / "cifar10" / "cifar-10-binary.tar.gz"));
    Run path = tito({"data", "path", "cifar10"}, dir.path, env);
    CHECK(path.out == (cache / "cifar10" / "cifar-10-batches-bin").string() + "\n");
    Run verify = tito({"data", "verify", "cifar10"}, dir.path, env);
    INFO(verify.text());
    CHECK(verify.exit_code == 0);
    CHECK_THAT(verify.out, Contains("(user cache)") && Contains("checksums match the files tito unpacked from the official archive"));
    check_clean(cache);

    // Already there: nothing is downloaded; --force fetches again; --json for scripts.
    const size_t requests = server.requests().size();
    Run again = tito({"data", "fetch", "mnist"}, dir.path, env);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Contains("mnist is already in " + (cache / "mnist").string()) && Contains("--force"));
    CHECK(server.requests().size() == requests);
    Run forced = tito({"--json", "data", "fetch", "mnist", "--force"}, dir.path, env);
    INFO(forced.text());
    REQUIRE(forced.exit_code == 0);
    const nlohmann::json j = nlohmann::json::parse(forced.out);
    CHECK(j.at("official") == true);
    CHECK(j.at("found_by_lookup") == true);
    CHECK(j.at("downloaded_bytes").get<uint64_t>() > 0);
    CHECK(j.at("verify").at("ok") == true);
    CHECK(server.requests().size() == requests + 4);
    check_clean(cache);

    // --dir: somewhere tito does not look, which it says.
    Run elsewhere = tito({"data", "fetch", "tinyshakespeare", "--dir", (dir.path / "elsewhere").string()}, dir.path, env);
    INFO(elsewhere.text());
    CHECK(elsewhere.exit_code == 0);
    CHECK(fs::exists(dir.path / "elsewhere" / "tinyshakespeare" / "input.txt"));
    CHECK_THAT(elsewhere.err, Contains("tito finds tinyshakespeare in " + (cache / "tinyshakespeare").string()));
}

TEST_CASE("data: fetch --mirror and TITO_DATA_MIRROR take the files from another address", "[data]") {
    TempDir dir("data-mirror");
    LocalHttpServer server;
    // The catalog's own addresses lead nowhere: only the mirror can work.
    const Synthetic synthetic("http://127.0.0.1:" + std::to_string(unused_port()), dir.path);
    synthetic.serve(server, "/mirror");
    fs::create_directories(dir.path / "empty");
    Env env = data_env(dir.path / "home", dir.path / "empty", synthetic.catalog);

    Run mnist = tito({"data", "fetch", "mnist", "--mirror", server.url() + "/mirror/"}, dir.path, env);
    INFO(mnist.text());
    REQUIRE(mnist.exit_code == 0);
    CHECK_THAT(mnist.err, Contains("from the mirror " + server.url() + "/mirror/"));
    CHECK(count_with(server.requests(), "GET /mirror/mnist/") == 4);

    env["TITO_DATA_MIRROR"] = server.url() + "/mirror";
    Run text = tito({"data", "fetch", "tinyshakespeare"}, dir.path, env);
    INFO(text.text());
    CHECK(text.exit_code == 0);
    CHECK(server.requests().back() == "GET /mirror/tinyshakespeare/input.txt");

    Run bad = tito({"data", "fetch", "cifar10", "--mirror", "ftp://example.org/data"}, dir.path, env);
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Contains("--mirror must be an http:// or https:// address"));
}

TEST_CASE("data: fetch retries a dropped connection, resuming where it stopped", "[data]") {
    TempDir dir("data-drop");
    LocalHttpServer server;
    const Synthetic synthetic(server.url(), dir.path);
    synthetic.serve(server);
    server.set_mode("/official/tinyshakespeare/input.txt", LocalHttpServer::Mode::drop, 2000, 1);
    fs::create_directories(dir.path / "empty");
    const fs::path home = dir.path / "home";
    const Env env = data_env(home, dir.path / "empty", synthetic.catalog);

    Run run = tito({"data", "fetch", "tinyshakespeare"}, dir.path, env);
    INFO(run.text());
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.err, Contains("retrying in 1 s (1 of 3)"));
    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0] == "GET /official/tinyshakespeare/input.txt");
    CHECK(requests[1] == "GET /official/tinyshakespeare/input.txt Range: bytes=2000-");
    CHECK(read_file(user_cache(home) / "tinyshakespeare" / "input.txt") == synthetic.sets.installed.at("tinyshakespeare").at("input.txt"));
    check_clean(user_cache(home));
}

TEST_CASE("data: a fetch that was killed is resumed by the next one", "[data]") {
    TempDir dir("data-resume");
    LocalHttpServer server;
    Synthetic synthetic(server.url(), dir.path);
    synthetic.serve(server);
    const std::string text = long_text(600000);
    use_text(synthetic, server, text);
    server.set_mode("/official/tinyshakespeare/input.txt", LocalHttpServer::Mode::slow, 0, 1, 40000);  // ~15 s for all of it
    fs::create_directories(dir.path / "empty");
    const fs::path home = dir.path / "home";
    const Env env = data_env(home, dir.path / "empty", synthetic.catalog);
    const fs::path part = user_cache(home) / ".tinyshakespeare.download" / "input.txt.part";

    Started started = start_tito({"data", "fetch", "tinyshakespeare"}, dir.path, env);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::error_code ec;
    while (std::chrono::steady_clock::now() < deadline && !(fs::exists(part, ec) && fs::file_size(part, ec) >= 50000))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(started.pid, SIGKILL);
    const Run killed = finish(started, 30);
    CHECK(killed.exit_code == 128 + SIGKILL);
    REQUIRE(fs::exists(part));
    const uintmax_t kept = fs::file_size(part);
    CHECK(kept >= 50000);
    CHECK(kept < text.size());
    CHECK_FALSE(fs::exists(user_cache(home) / "tinyshakespeare"));  // nothing half-installed

    Run resumed = tito({"data", "fetch", "tinyshakespeare"}, dir.path, env);
    INFO(resumed.text());
    REQUIRE(resumed.exit_code == 0);
    CHECK(server.requests().back() == "GET /official/tinyshakespeare/input.txt Range: bytes=" + std::to_string(kept) + "-");
    CHECK_THAT(resumed.err, Contains("(resumed at "));
    CHECK(read_file(user_cache(home) / "tinyshakespeare" / "input.txt") == text);
    check_clean(user_cache(home));
}

TEST_CASE("data: a download with the wrong checksum is moved aside and nothing is installed", "[data]") {
    TempDir dir("data-wrong");
    LocalHttpServer server;
    const Synthetic synthetic(server.url(), dir.path);
    synthetic.serve(server);
    server.set_mode("/official/mnist/train-labels-idx1-ubyte.gz", LocalHttpServer::Mode::wrong_bytes);
    fs::create_directories(dir.path / "empty");
    const fs::path home = dir.path / "home";
    const Env env = data_env(home, dir.path / "empty", synthetic.catalog);
    const fs::path staging = user_cache(home) / ".mnist.download";

    Run wrong = tito({"data", "fetch", "mnist"}, dir.path, env);
    INFO(wrong.text());
    CHECK(wrong.exit_code == 1);
    CHECK_THAT(wrong.err, Contains("error: cannot download train-labels-idx1-ubyte.gz") && Contains("is not the expected file: md5"));
    CHECK_THAT(wrong.err, Contains("moved aside to " + (staging / "train-labels-idx1-ubyte.gz.rejected").string()));
    CHECK_THAT(wrong.err, Contains("hint:") && Contains("tito data import mnist PATH"));
    CHECK(std::count(wrong.err.begin(), wrong.err.end(), '\n') <= 8);  // a few lines, no trace
    CHECK_FALSE(fs::exists(user_cache(home) / "mnist"));
    CHECK(fs::exists(staging / "train-labels-idx1-ubyte.gz.rejected"));
    CHECK(fs::exists(staging / "t10k-images-idx3-ubyte.gz"));  // the good downloads are kept for next time
    Run path = tito({"data", "path", "mnist"}, dir.path, env);
    CHECK(path.exit_code == 1);

    // The server mended: only the bad file is fetched again.
    server.set_mode("/official/mnist/train-labels-idx1-ubyte.gz", LocalHttpServer::Mode::normal);
    const size_t before = server.requests().size();
    Run fixed = tito({"data", "fetch", "mnist"}, dir.path, env);
    INFO(fixed.text());
    REQUIRE(fixed.exit_code == 0);
    CHECK(server.requests().size() == before + 1);
    CHECK_THAT(fixed.err, Contains("already downloaded (md5 ok)"));
    check_clean(user_cache(home));
}

TEST_CASE("data: fetch from a server that is not there fails with a clear message", "[data]") {
    TempDir dir("data-absent");
    const Synthetic synthetic("http://127.0.0.1:" + std::to_string(unused_port()), dir.path);
    fs::create_directories(dir.path / "empty");
    const fs::path home = dir.path / "home";
    const Env env = data_env(home, dir.path / "empty", synthetic.catalog);

    Run run = tito({"data", "fetch", "tinyshakespeare"}, dir.path, env, 120);
    INFO(run.text());
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Contains("error: cannot download input.txt") && Contains("127.0.0.1") && Contains("hint: check the network connection"));
    CHECK_THAT(run.err, Contains("(3 of 3)"));  // retried before giving up
    CHECK(run.seconds < 60);
    CHECK_FALSE(fs::exists(user_cache(home) / "tinyshakespeare"));
}

TEST_CASE("data: on a terminal, fetch draws a progress bar with bytes, rate and time left", "[data]") {
    TempDir dir("data-terminal");
    LocalHttpServer server;
    Synthetic synthetic(server.url(), dir.path);
    synthetic.serve(server);
    const std::string text = long_text(300000);
    use_text(synthetic, server, text);
    server.set_mode("/official/tinyshakespeare/input.txt", LocalHttpServer::Mode::slow, 0, -1, 100000);  // ~3 s
    fs::create_directories(dir.path / "empty");
    const fs::path home = dir.path / "home";

    const ScopedEnv scoped(data_env(home, dir.path / "empty", synthetic.catalog));
    Run run = tito_on_terminal({"data", "fetch", "tinyshakespeare"}, dir.path, 120);
    INFO(run.text());
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.err, Contains("\r\033[K") && Contains("input.txt [") && Contains("#") && Contains(" kB/30") && Contains("kB/s") && Contains("ETA"));
    CHECK(read_file(user_cache(home) / "tinyshakespeare" / "input.txt") == text);
}

// ---------------------------------------------------------------------------------------------
// import
// ---------------------------------------------------------------------------------------------

TEST_CASE("data: import takes a folder or the official archive, checks it and copies it into the cache", "[data]") {
    TempDir dir("data-import");
    const Synthetic synthetic("http://127.0.0.1:1", dir.path);
    fs::create_directories(dir.path / "empty");
    const fs::path home = dir.path / "home";
    const fs::path cache = user_cache(home);
    const Env env = data_env(home, dir.path / "empty", synthetic.catalog);

    write_installed(synthetic.sets, "mnist", dir.path / "mine");
    Run mnist = tito({"data", "import", "mnist", (dir.path / "mine" / "mnist").string()}, dir.path, env);
    INFO(mnist.text());
    REQUIRE(mnist.exit_code == 0);
    CHECK_THAT(mnist.out, Contains("imported mnist into " + (cache / "mnist").string()) && Contains("checksums match the official files"));
    CHECK(fs::exists(dir.path / "mine" / "mnist" / "train-images-idx3-ubyte.gz"));  // copied, not moved
    Run path = tito({"data", "path", "mnist"}, dir.path, env);
    CHECK(path.out == (cache / "mnist").string() + "\n");

    write_file(dir.path / "cifar-10-binary.tar.gz", synthetic.sets.files.at("/official/cifar10/cifar-10-binary.tar.gz"));
    Run cifar = tito({"data", "import", "cifar10", (dir.path / "cifar-10-binary.tar.gz").string()}, dir.path, env);
    INFO(cifar.text());
    REQUIRE(cifar.exit_code == 0);
    CHECK_THAT(cifar.out, Contains("checksums match the files tito unpacked from the official archive"));
    for (const auto& [file, bytes] : synthetic.sets.installed.at("cifar10")) CHECK(read_file(cache / "cifar10" / file) == bytes);
    check_clean(cache);

    Run twice = tito({"data", "import", "mnist", (dir.path / "mine" / "mnist").string()}, dir.path, env);
    CHECK(twice.exit_code == 0);
    CHECK_THAT(twice.out, Contains("already in"));
}

TEST_CASE("data: import refuses incomplete, wrong and hostile input and installs nothing", "[data]") {
    TempDir dir("data-import-bad");
    const Synthetic synthetic("http://127.0.0.1:1", dir.path);
    fs::create_directories(dir.path / "empty");
    const fs::path home = dir.path / "home";
    const fs::path cache = user_cache(home);
    const Env env = data_env(home, dir.path / "empty", synthetic.catalog);

    Run nowhere = tito({"data", "import", "mnist", (dir.path / "nowhere").string()}, dir.path, env);
    CHECK(nowhere.exit_code == 2);
    CHECK_THAT(nowhere.err, Contains("does not exist"));

    write_installed(synthetic.sets, "mnist", dir.path / "mine");
    write_file(dir.path / "mine" / "mnist" / "train-labels-idx1-ubyte.gz", gzip(idx_labels(100, 10, 0x801, 42)));
    Run wrong = tito({"data", "import", "mnist", (dir.path / "mine" / "mnist").string()}, dir.path, env);
    INFO(wrong.text());
    CHECK(wrong.exit_code == 2);
    CHECK_THAT(wrong.err, Contains("mnist is not complete or not correct, so it was not installed") && Contains("label 10 at index 42"));

    fs::remove(dir.path / "mine" / "mnist" / "t10k-labels-idx1-ubyte.gz");
    Run incomplete = tito({"data", "import", "mnist", (dir.path / "mine" / "mnist").string()}, dir.path, env);
    CHECK(incomplete.exit_code == 2);
    CHECK_THAT(incomplete.err, Contains("missing t10k-labels-idx1-ubyte.gz"));

    // Archives whose members would land outside the folder.
    write_file(dir.path / "dotdot.tar", tar_archive({{"cifar-10-batches-bin/../../../escaped", "x", '0', "", ""}}));
    Run dotdot = tito({"data", "import", "cifar10", (dir.path / "dotdot.tar").string()}, dir.path, env);
    INFO(dotdot.text());
    CHECK(dotdot.exit_code == 2);
    CHECK_THAT(dotdot.err, Contains("contains '..'"));
    const fs::path absolute_target = dir.path / "absolute-escaped";
    write_file(dir.path / "absolute.tar.gz", gzip(tar_archive({{absolute_target.string(), "x", '0', "", ""}})));
    Run absolute = tito({"data", "import", "cifar10", (dir.path / "absolute.tar.gz").string()}, dir.path, env);
    CHECK(absolute.exit_code == 2);
    CHECK_THAT(absolute.err, Contains("has an absolute path"));
    write_file(dir.path / "link.tar", tar_archive({{"cifar-10-batches-bin/data_batch_1.bin", "", '2', "/etc/passwd", ""}}));
    Run link = tito({"data", "import", "cifar10", (dir.path / "link.tar").string()}, dir.path, env);
    CHECK(link.exit_code == 2);
    CHECK_THAT(link.err, Contains("is a symbolic link"));
    // Truncated: the official archive cut in half.
    const std::string archive = synthetic.sets.files.at("/official/cifar10/cifar-10-binary.tar.gz");
    write_file(dir.path / "cut.tar.gz", archive.substr(0, archive.size() / 2));
    Run cut = tito({"data", "import", "cifar10", (dir.path / "cut.tar.gz").string()}, dir.path, env);
    CHECK(cut.exit_code == 2);
    CHECK_THAT(cut.err, Contains("truncated"));

    for (const Run* r : {&nowhere, &wrong, &incomplete, &dotdot, &absolute, &link, &cut}) {
        CHECK(r->out.empty());
        CHECK_THAT(r->err, Contains("error: ") && Contains("(hint: "));
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir.path)) CHECK(entry.path().filename() != "escaped");
    CHECK_FALSE(fs::exists(absolute_target));
    CHECK_FALSE(fs::exists(cache / "mnist"));
    CHECK_FALSE(fs::exists(cache / "cifar10"));
    check_clean(cache);
}
