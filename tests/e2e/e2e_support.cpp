// e2e_support.cpp - see e2e_support.h.
#include "e2e_support.h"

#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

extern char** environ;

namespace e2e {

namespace {

fs::path from_env(const char* name) {
    const char* value = std::getenv(name);
    if (!value || !*value) FAIL(std::string(name) + " is not set: run this test through ctest");
    return value;
}

long read_vm_hwm(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
}

}  // namespace

fs::path tito_binary() { return from_env("TITO_BIN"); }
fs::path source_dir() { return from_env("TITO_SOURCE_DIR"); }
fs::path build_dir() { return from_env("TITO_BUILD_DIR"); }

namespace {

double now_seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Forks and execs `argv` in `cwd`; stdout to a pipe, stderr to a pipe or (terminal) a pty.
Started spawn(const std::vector<std::string>& argv, const fs::path& cwd, const std::map<std::string, std::string>& env, bool terminal) {
    std::map<std::string, std::string> environment;
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        size_t eq = entry.find('=');
        if (eq != std::string::npos) environment[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    environment["NO_COLOR"] = "1";
    for (const auto& [key, value] : env) {
        if (value.empty()) {
            environment.erase(key);
        } else {
            environment[key] = value;
        }
    }
    std::vector<std::string> env_strings;
    for (const auto& [key, value] : environment) env_strings.push_back(key + "=" + value);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& a : argv_copy) args.push_back(a.data());
    args.push_back(nullptr);

    int out_pipe[2], err_pipe[2];
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    if (terminal) {
        REQUIRE(::openpty(&err_pipe[0], &err_pipe[1], nullptr, nullptr, nullptr) == 0);
        ::fcntl(err_pipe[0], F_SETFD, FD_CLOEXEC);
        ::fcntl(err_pipe[1], F_SETFD, FD_CLOEXEC);
    } else {
        REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
    }
    Started started;
    started.start = now_seconds();
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        if (::chdir(cwd.c_str()) != 0) ::_exit(126);
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    started.pid = pid;
    started.out_fd = out_pipe[0];
    started.err_fd = err_pipe[0];
    return started;
}

}  // namespace

Run finish(Started started, double timeout) {
    Run result;
    pollfd fds[2] = {{started.out_fd, POLLIN, 0}, {started.err_fd, POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_pipes = 2;
    while (open_pipes > 0) {
        ::poll(fds, 2, 50);
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buffer[65536];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n <= 0) {  // a pty reads EIO once the last writer is gone
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_pipes;
            } else if (sinks[i]->size() < (8u << 20)) {
                sinks[i]->append(buffer, static_cast<size_t>(n));
            }
        }
        result.peak_rss_kib = std::max(result.peak_rss_kib, read_vm_hwm(started.pid));
        if (now_seconds() - started.start > timeout && !result.timed_out) {
            result.timed_out = true;
            ::kill(started.pid, SIGKILL);
        }
    }
    int status = 0;
    ::waitpid(started.pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.seconds = now_seconds() - started.start;
    return result;
}

Run run(const std::vector<std::string>& argv, const fs::path& cwd, const std::map<std::string, std::string>& env, double timeout) {
    return finish(spawn(argv, cwd, env, false), timeout);
}

Started start_tito(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv = {tito_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawn(argv, cwd, env, false);
}

Run tito_on_terminal(const std::vector<std::string>& args, const fs::path& cwd, double timeout) {
    std::vector<std::string> argv = {tito_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return finish(spawn(argv, cwd, {{"TERM", "xterm"}, {"NO_COLOR", ""}}, true), timeout);
}

Run tito(const std::vector<std::string>& args, const fs::path& cwd, const std::map<std::string, std::string>& env, double timeout) {
    std::vector<std::string> argv = {tito_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, cwd, env, timeout);
}

TempDir::TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("tito-e2e-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

void write_identity(const fs::path& workspace, const std::string& name, const std::string& handle, const std::string& email) {
    std::string source = read_file(source_dir() / "engine" / "src" / "01_setup" / "setup.cpp");
    const std::string reference = "return {\"Ada Lovelace\", \"ada\", \"ada@example.com\"};";
    const size_t at = source.find(reference);
    if (at == std::string::npos) throw std::runtime_error("write_identity: engine/src/01_setup/setup.cpp no longer returns Ada Lovelace");
    source.replace(at, reference.size(), "return {\"" + name + "\", \"" + handle + "\", \"" + email + "\"};");
    write_file(workspace / "01_setup" / "setup.cpp", source);
}

void drop_in_reference(const fs::path& workspace, const std::string& module_dir) {
    for (const auto& entry : fs::directory_iterator(source_dir() / "engine" / "src" / module_dir))
        if (entry.path().extension() == ".cpp")
            fs::copy_file(entry.path(), workspace / module_dir / entry.path().filename(), fs::copy_options::overwrite_existing);
}

nlohmann::json results(const fs::path& workspace, const std::string& module_dir) {
    const fs::path file = workspace / ".tito" / "results" / (module_dir + ".json");
    REQUIRE(fs::exists(file));
    return nlohmann::json::parse(read_file(file));
}

nlohmann::json test_result(const nlohmann::json& results, const std::string& name) {
    for (const auto& t : results.at("tests"))
        if (t.at("name") == name) return t;
    FAIL("no test named '" << name << "' in the results");
    return {};
}

std::vector<int> processes_with_environment(const std::string& marker) {
    std::vector<int> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        int pid = std::atoi(name.c_str());
        if (pid == ::getpid()) continue;
        std::string environment = read_file(entry.path() / "environ");
        std::replace(environment.begin(), environment.end(), '\0', '\n');
        if (("\n" + environment).find("\n" + marker + "\n") != std::string::npos) found.push_back(pid);
    }
    return found;
}

namespace {

std::string schema_path(const char* name) { return std::string(TT_SCHEMA_DIR) + "/" + name; }

void collect_xml_error(void* context, const char* format, ...) {
    char text[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    *static_cast<std::string*>(context) += text;
}

}  // namespace

std::string junit_schema_errors(const std::string& xml) {
    std::string errors;
    xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(schema_path("junit.xsd").c_str());
    xmlSchemaSetParserErrors(parser, collect_xml_error, collect_xml_error, &errors);
    xmlSchemaPtr schema = xmlSchemaParse(parser);
    xmlSchemaFreeParserCtxt(parser);
    if (schema == nullptr) return "cannot read junit.xsd: " + errors;
    std::string parse_errors;
    xmlSetGenericErrorFunc(&parse_errors, collect_xml_error);
    xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "junit.xml", nullptr, XML_PARSE_NONET);
    xmlSetGenericErrorFunc(nullptr, nullptr);
    if (doc == nullptr) {
        xmlSchemaFree(schema);
        return "not well-formed XML: " + parse_errors;
    }
    xmlSchemaValidCtxtPtr validator = xmlSchemaNewValidCtxt(schema);
    xmlSchemaSetValidErrors(validator, collect_xml_error, collect_xml_error, &errors);
    const int rc = xmlSchemaValidateDoc(validator, doc);
    xmlSchemaFreeValidCtxt(validator);
    xmlFreeDoc(doc);
    xmlSchemaFree(schema);
    if (rc != 0 && errors.empty()) errors = "invalid (libxml2 code " + std::to_string(rc) + ")";
    return rc == 0 ? "" : errors;
}

std::string gradescope_schema_errors(const std::string& results_json) {
    const nlohmann::json schema_document = nlohmann::json::parse(read_file(schema_path("gradescope_results.schema.json")));
    valijson::Schema schema;
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_document);
    parser.populateSchema(schema_adapter, schema);
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(results_json);
    } catch (const nlohmann::json::exception& e) {
        return std::string("not JSON: ") + e.what();
    }
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(document);
    if (validator.validate(schema, target, &results)) return "";
    std::string errors;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
        std::string where;
        for (const std::string& part : error.context) where += part;
        errors += where + ": " + error.description + "\n";
    }
    return errors;
}

int commit_count(const fs::path& workspace) {
    Run r = run({"/usr/bin/git", "-C", workspace.string(), "rev-list", "--count", "HEAD"}, workspace);
    if (r.exit_code != 0) return -1;
    return std::atoi(r.out.c_str());
}

}  // namespace e2e
