// sandbox.cpp - see sandbox.h.
//
// One run, step by step:
//   1. Before fork, everything the child needs is prepared: argv and environment arrays, rlimit
//      values, and the file descriptors it will wire up. Between fork and exec only
//      async-signal-safe system calls are allowed (tito may have other threads holding malloc's
//      lock at the moment of fork), so the child allocates nothing.
//   2. The child: default signal handling, its own process group, SIGKILL when tito dies, rlimits,
//      fd 0 = /dev/null, fds 1 and 2 = the output pipe, fd 3 = the result pipe, every other fd
//      closed, then execve. A failing step writes {step, errno} into a close-on-exec "status" pipe;
//      a successful exec closes that pipe with nothing written. So one read tells the parent which.
//   3. The parent loop: poll() the output pipe, the result pipe and a pidfd of the child with a
//      short timeout; every 10 ms measure the run's process tree (count, resident memory, CPU)
//      and check the limits. A limit kills the whole tree with SIGKILL.
//   4. When the program ends (by itself or killed at a limit), every process left in its tree is
//      killed and reaped, and only then are the pipes drained. The program's own zombie is reaped
//      last, so that its pid, which is also its process group id, cannot be reused meanwhile and
//      kill(-pgid) reaches this run's processes only.
//
// The process tree. tito is a child subreaper (init_sandbox_parent), so every process the run
// starts is a descendant of tito until it dies: a grandchild whose parent exits is re-parented to
// tito, not to init, even after setsid() and a double fork. The run's processes are therefore
// "all descendants of tito", minus the ones that were already tito's descendants before the run
// (say, a compiler started by another part of tito), which are remembered by (pid, start time).
// The 10 ms measurements walk /proc/<pid>/task/<tid>/children down from tito (cost grows with the
// run's tree); the cleanup reads the parent pid of every process in /proc (slower, but it cannot
// miss a process that was being re-parented while it looked).
#include "sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "text.h"

extern char** environ;

namespace tito {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kResultFd = 3;                        // TITO_RESULT_FD in the child
constexpr int kStatusFd = 4;                        // close-on-exec status pipe in the child
constexpr int kFirstFreeFd = 10;                    // where the parent parks the child's fds
constexpr auto kScanInterval = std::chrono::milliseconds(10);
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxReadPerTick = 1024 * 1024;     // then check the clock and the limits again
constexpr size_t kMaxReportLine = 1024 * 1024;      // longer result lines are dropped
constexpr size_t kMaxReportBytes = 16 * 1024 * 1024;
constexpr size_t kMaxDrainBytes = 64 * 1024 * 1024; // reading what is left after the run
constexpr auto kKillWait = std::chrono::seconds(10);     // a SIGKILLed program must be gone by then
constexpr auto kStrayCleanup = std::chrono::seconds(5);  // bound for killing what is left
// RLIMIT_AS is only a backstop for allocations faster than the 10 ms memory polling (one huge
// mmap). Address space is always much larger than resident memory (thread stacks, malloc arenas
// of 64 MiB per thread, OpenBLAS buffers), so it gets generous headroom above memory_mib.
constexpr int64_t kAddressSpaceHeadroomMib = 4096;
constexpr int kThreadAllowance = 256;               // see child_limits()

int64_t mib(int64_t n) { return n * 1024 * 1024; }

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double to_seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

// --- file descriptors --------------------------------------------------------------------------

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Moves a descriptor the child will dup2() to 0..4 out of that range, so that no dup2 in the
// child can overwrite a source it still needs (tito may run with stdin closed, say).
UniqueFd park_high(int fd) {
    if (fd < 0 || fd >= kFirstFreeFd) return UniqueFd(fd);
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, kFirstFreeFd);
    ::close(fd);
    return UniqueFd(moved);
}

struct Pipe {
    UniqueFd read_end;
    UniqueFd write_end;
};

std::optional<Pipe> make_pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
    Pipe p{park_high(fds[0]), park_high(fds[1])};
    if (!p.read_end.valid() || !p.write_end.valid()) return std::nullopt;
    return p;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string errno_text(int error) { return std::strerror(error); }

// --- the token -----------------------------------------------------------------------------------

std::string random_token() {
    unsigned char bytes[16] = {};
    bool ok = false;
    UniqueFd urandom(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    if (urandom.valid()) ok = ::read(urandom.get(), bytes, sizeof bytes) == static_cast<ssize_t>(sizeof bytes);
    if (!ok) {
        std::random_device device;
        for (auto& b : bytes) b = static_cast<unsigned char>(device());
    }
    static const char* digits = "0123456789abcdef";
    std::string token;
    for (unsigned char b : bytes) {
        token += digits[b >> 4];
        token += digits[b & 15];
    }
    return token;
}

// --- /proc ---------------------------------------------------------------------------------------

struct ProcessInfo {
    pid_t pid = 0;
    pid_t parent = 0;
    char state = '?';             // R, S, D, Z (zombie), ...
    uint64_t start_time = 0;      // clock ticks after boot; (pid, start_time) names one process
    int64_t resident_pages = 0;
    uint64_t cpu_ticks = 0;       // utime + stime + cutime + cstime (children it has reaped)
    int64_t threads = 0;

    bool alive() const { return state != 'Z' && state != 'X' && state != 'x'; }
};

using ProcessKey = std::pair<pid_t, uint64_t>;
ProcessKey key_of(const ProcessInfo& p) { return {p.pid, p.start_time}; }

// Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself contain
// spaces and parentheses, so the fields are counted from the last ')'.
std::optional<ProcessInfo> read_process(int proc_fd, const char* pid_name) {
    char path[64];
    std::snprintf(path, sizeof path, "%s/stat", pid_name);
    int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    char* p = std::strrchr(buf, ')');
    if (p == nullptr || p[1] != ' ' || p[2] == '\0') return std::nullopt;

    ProcessInfo info;
    info.pid = static_cast<pid_t>(std::atoi(pid_name));
    info.state = p[2];
    p += 3;
    // Fields 4 (ppid) to 24 (rss), numbered as in proc(5).
    long long field[25] = {};
    for (int i = 4; i <= 24; ++i) {
        char* end = nullptr;
        field[i] = std::strtoll(p, &end, 10);
        if (end == p) return std::nullopt;
        p = end;
    }
    info.parent = static_cast<pid_t>(field[4]);
    info.cpu_ticks = static_cast<uint64_t>(field[14] + field[15] + field[16] + field[17]);
    info.threads = field[20];
    info.start_time = static_cast<uint64_t>(field[22]);
    info.resident_pages = field[24];
    return info;
}

std::vector<ProcessInfo> all_processes() {
    std::vector<ProcessInfo> result;
    DIR* dir = opendir("/proc");
    if (dir == nullptr) return result;
    int proc_fd = dirfd(dir);
    while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        if (auto info = read_process(proc_fd, entry->d_name)) result.push_back(*info);
    }
    closedir(dir);
    return result;
}

// Every descendant of `root` in one /proc snapshot, skipping the subtrees of `excluded` processes.
std::vector<ProcessInfo> descendants(const std::vector<ProcessInfo>& all, pid_t root,
                                     const std::set<ProcessKey>& excluded) {
    std::unordered_map<pid_t, std::vector<size_t>> children;
    for (size_t i = 0; i < all.size(); ++i) children[all[i].parent].push_back(i);
    std::vector<ProcessInfo> result;
    std::unordered_set<pid_t> seen{root};
    std::vector<pid_t> queue{root};
    while (!queue.empty()) {
        pid_t parent = queue.back();
        queue.pop_back();
        auto it = children.find(parent);
        if (it == children.end()) continue;
        for (size_t i : it->second) {
            const ProcessInfo& p = all[i];
            if (excluded.count(key_of(p)) || !seen.insert(p.pid).second) continue;
            result.push_back(p);
            queue.push_back(p.pid);
        }
    }
    return result;
}

// The same tree found by walking /proc/<pid>/task/<tid>/children down from `root`: its cost grows
// with the run's own tree rather than with everything running on the machine (a student's laptop
// has hundreds of processes, and the limits are checked every 10 ms). The kernel documents these
// files as a snapshot that may miss a process created or re-parented while they are read, which
// is fine for measuring; the cleanup uses descendants() of a full scan. Returns nullopt where the
// kernel has no children files (CONFIG_PROC_CHILDREN).
std::optional<std::vector<ProcessInfo>> descendants_by_children_files(pid_t root, const std::set<ProcessKey>& excluded) {
    static bool unavailable = false;
    if (unavailable) return std::nullopt;
    int proc_fd = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc_fd < 0) return std::nullopt;
    std::vector<ProcessInfo> result;
    std::unordered_set<pid_t> seen{root};
    std::vector<pid_t> queue{root};
    bool first = true;
    while (!queue.empty()) {
        pid_t parent = queue.back();
        queue.pop_back();
        // Children belong to the thread that forked them, so every thread's file is read.
        std::string task_path = std::to_string(parent) + "/task";
        int task_fd = openat(proc_fd, task_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (task_fd < 0) continue;  // it has just exited
        DIR* tasks = fdopendir(task_fd);
        if (tasks == nullptr) {
            ::close(task_fd);
            continue;
        }
        while (dirent* task = readdir(tasks)) {
            if (task->d_name[0] < '1' || task->d_name[0] > '9') continue;
            std::string children_path = std::string(task->d_name) + "/children";
            int fd = openat(dirfd(tasks), children_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                if (first && errno == ENOENT) unavailable = true;
                continue;
            }
            first = false;
            std::string text;
            char buf[4096];
            for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
            ::close(fd);
            std::istringstream pids(text);  // "4211 4215 "
            for (std::string pid_name; pids >> pid_name;) {
                auto info = read_process(proc_fd, pid_name.c_str());
                if (!info || excluded.count(key_of(*info)) || !seen.insert(info->pid).second) continue;
                result.push_back(*info);
                queue.push_back(info->pid);
            }
        }
        closedir(tasks);
        if (unavailable) break;
    }
    ::close(proc_fd);
    if (unavailable) return std::nullopt;
    return result;
}

// Threads of all processes of a user, which is what RLIMIT_NPROC counts (not just this run's).
int64_t threads_of_user(uid_t uid) {
    int64_t count = 0;
    DIR* dir = opendir("/proc");
    if (dir == nullptr) return 0;
    struct stat st;
    while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        if (fstatat(dirfd(dir), entry->d_name, &st, 0) != 0 || st.st_uid != uid) continue;
        if (auto info = read_process(dirfd(dir), entry->d_name)) count += std::max<int64_t>(info->threads, 1);
    }
    closedir(dir);
    return count;
}

// --- what the child needs, prepared before fork ------------------------------------------------

struct ChildLimit {
    int resource;
    rlimit value;
};

// Why a child could not exec, sent through the status pipe.
struct StartFailure {
    int step;
    int error;
};
enum StartStep : int { step_files = 1, step_directory = 2, step_exec = 3 };

struct ChildPlan {
    std::string program;                  // resolved path for execve
    std::vector<std::string> argv_storage;
    std::vector<std::string> env_storage;
    std::vector<char*> argv;
    std::vector<char*> envp;
    std::string working_dir;
    std::vector<ChildLimit> limits;
    pid_t parent_pid = 0;
    int null_fd = -1, output_fd = -1, result_fd = -1, status_fd = -1;
    unsigned int max_fd = 0;             // for the close() loop when close_range is missing
    sigset_t empty_mask;
    bool set_cpus = false;               // Limits::cpus > 0: run on `cpus` only
    cpu_set_t cpus;
};

// The first `count` CPUs of those this process may run on (all of them when there are fewer).
cpu_set_t first_cpus(int count) {
    cpu_set_t allowed, chosen;
    CPU_ZERO(&chosen);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return chosen;
    for (int cpu = 0, taken = 0; cpu < CPU_SETSIZE && taken < count; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        CPU_SET(cpu, &chosen);
        ++taken;
    }
    return chosen;
}

std::string find_in_path(const std::string& name, const std::string& path_variable) {
    if (name.find('/') != std::string::npos) return name;
    size_t begin = 0;
    while (begin <= path_variable.size()) {
        size_t end = path_variable.find(':', begin);
        if (end == std::string::npos) end = path_variable.size();
        std::string dir = path_variable.substr(begin, end - begin);
        std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
        begin = end + 1;
    }
    return name;  // execve will fail with ENOENT, which is reported as failed_to_start
}

std::vector<std::string> child_environment(const RunRequest& request, const std::string& token) {
    std::map<std::string, std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view entry(*e);
        size_t eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    for (const auto& [name, value] : request.extra_env) env[name] = value;
    env["TITO_RESULT_FD"] = std::to_string(kResultFd);
    env["TITO_RESULT_TOKEN"] = token;
    std::vector<std::string> result;
    for (const auto& [name, value] : env) result.push_back(name + "=" + value);
    return result;
}

// The value to ask for, never above tito's own hard limit (raising a hard limit needs privilege;
// lowering is always allowed, so setrlimit in the child cannot fail).
ChildLimit clamped_limit(int resource, rlim_t soft, rlim_t hard) {
    rlimit current{};
    getrlimit(resource, &current);
    if (current.rlim_max != RLIM_INFINITY) {
        soft = std::min(soft, current.rlim_max);
        hard = std::min(hard, current.rlim_max);
    }
    return {resource, {soft, hard}};
}

std::vector<ChildLimit> child_limits(const Limits& limits) {
    std::vector<ChildLimit> result;
    // CPU: SIGXCPU at the soft limit, SIGKILL one second later if the program ignores SIGXCPU.
    auto cpu = static_cast<rlim_t>(std::max(1.0, std::ceil(limits.cpu_seconds)));
    result.push_back(clamped_limit(RLIMIT_CPU, cpu, cpu + 1));
    auto file_size = static_cast<rlim_t>(mib(std::max<int64_t>(limits.file_size_mib, 0)));
    result.push_back(clamped_limit(RLIMIT_FSIZE, file_size, file_size));
    result.push_back(clamped_limit(RLIMIT_CORE, 0, 0));  // no core files in the student's folder
    // RLIMIT_NPROC counts every thread of the user and does not apply to root at all, so it is
    // only a guard against a fork bomb: what the user runs now, plus max_processes, plus room for
    // the program's threads (OpenBLAS starts one per core). tito's counting of the tree is what
    // enforces max_processes.
    auto tasks = static_cast<rlim_t>(std::max(limits.max_processes, 1) + kThreadAllowance);
    if (getuid() != 0) tasks += static_cast<rlim_t>(threads_of_user(getuid()));
    result.push_back(clamped_limit(RLIMIT_NPROC, tasks, tasks));
    if (limits.address_space_limit) {
        int64_t memory = std::max<int64_t>(limits.memory_mib, 1);
        auto bytes = static_cast<rlim_t>(mib(memory + std::max(memory, kAddressSpaceHeadroomMib)));
        result.push_back(clamped_limit(RLIMIT_AS, bytes, bytes));
    }
    return result;
}

void report_start_failure(int status_fd, int step, int error) {
    StartFailure failure{step, error};
    ssize_t ignored = ::write(status_fd, &failure, sizeof failure);
    (void)ignored;
    _exit(127);
}

// Runs in the forked child: async-signal-safe system calls only, no allocation, no exceptions.
[[noreturn]] void exec_child(const ChildPlan& plan) {
    // Handlers do not survive exec, but ignored signals and the signal mask do; a program that
    // starts with SIGPIPE ignored or SIGTERM blocked would behave differently under tito.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);
    sigprocmask(SIG_SETMASK, &plan.empty_mask, nullptr);

    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != plan.parent_pid) _exit(127);  // tito died before PDEATHSIG was armed

    // All source fds are >= kFirstFreeFd (park_high), so these dup2s cannot clobber each other.
    if (dup2(plan.null_fd, 0) < 0 || dup2(plan.output_fd, 1) < 0 || dup2(plan.output_fd, 2) < 0 ||
        dup2(plan.result_fd, kResultFd) < 0) {
        report_start_failure(plan.status_fd, step_files, errno);
    }
    if (dup3(plan.status_fd, kStatusFd, O_CLOEXEC) < 0) _exit(127);
    // Anything else tito has open (its own pipes, files, sockets) must not leak into the program:
    // a grader holding the write end of another run's pipe would keep that run's output open.
    if (close_range(kStatusFd + 1, ~0U, 0) != 0) {
        for (unsigned int fd = kStatusFd + 1; fd <= plan.max_fd; ++fd) ::close(static_cast<int>(fd));
    }

    for (const ChildLimit& limit : plan.limits) setrlimit(limit.resource, &limit.value);
    // Narrowing the affinity to CPUs we may already use cannot fail; if it did, the program would
    // only get more CPUs than the rules say, which the CPU-time limit still bounds.
    if (plan.set_cpus) (void)sched_setaffinity(0, sizeof plan.cpus, &plan.cpus);

    if (!plan.working_dir.empty() && chdir(plan.working_dir.c_str()) != 0) {
        report_start_failure(kStatusFd, step_directory, errno);
    }
    execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
    report_start_failure(kStatusFd, step_exec, errno);
    _exit(127);
}

// --- output and results --------------------------------------------------------------------------

// Keeps the first and the last `keep` bytes of everything it is given, and counts all of it.
// Memory stays at most ~3 * keep however much the program prints.
class OutputCollector {
public:
    explicit OutputCollector(size_t keep) : keep_(keep) {}

    void add(const char* data, size_t n) {
        bytes_ += static_cast<int64_t>(n);
        size_t to_head = std::min(n, keep_ - head_.size());
        head_.append(data, to_head);
        data += to_head;
        n -= to_head;
        if (n == 0) return;
        if (n >= keep_) {
            tail_.assign(data + n - keep_, keep_);
            return;
        }
        tail_.append(data, n);
        if (tail_.size() > 2 * keep_) tail_.erase(0, tail_.size() - keep_);  // amortised O(1)
    }

    int64_t bytes() const { return bytes_; }

    void move_into(RunResult& result) {
        if (tail_.size() > keep_) tail_.erase(0, tail_.size() - keep_);
        result.output_head = std::move(head_);
        result.output_tail = std::move(tail_);
        result.output_bytes = bytes_;
    }

private:
    size_t keep_;
    std::string head_, tail_;
    int64_t bytes_ = 0;
};

// The result channel: complete lines of JSON carrying the run's token. Anything else (text, lines
// with another token, a last line cut off by a crash) is ignored.
class ResultChannel {
public:
    ResultChannel(std::string token, std::function<void(const nlohmann::json&)> on_report)
        : token_(std::move(token)), on_report_(std::move(on_report)) {}

    void add(const char* data, size_t n) {
        while (n > 0) {
            const char* newline = static_cast<const char*>(std::memchr(data, '\n', n));
            size_t length = newline ? static_cast<size_t>(newline - data) : n;
            if (!discarding_) {
                if (line_.size() + length > kMaxReportLine || kept_bytes_ + line_.size() + length > kMaxReportBytes) {
                    discarding_ = true;
                    line_.clear();
                } else {
                    line_.append(data, length);
                }
            }
            if (newline == nullptr) return;
            if (!discarding_) take_line();
            discarding_ = false;
            line_.clear();
            data = newline + 1;
            n -= length + 1;
        }
    }

    std::vector<nlohmann::json> take_reports() { return std::move(reports_); }

private:
    void take_line() {
        auto message = nlohmann::json::parse(line_, nullptr, /*allow_exceptions=*/false);
        if (!message.is_object()) return;
        auto token = message.find("token");
        if (token == message.end() || !token->is_string() || token->get_ref<const std::string&>() != token_) return;
        message.erase("token");
        kept_bytes_ += line_.size();
        if (on_report_) on_report_(message);
        reports_.push_back(std::move(message));
    }

    std::string token_;
    std::function<void(const nlohmann::json&)> on_report_;
    std::string line_;
    bool discarding_ = false;
    size_t kept_bytes_ = 0;
    std::vector<nlohmann::json> reports_;
};

// Reads what is available on a non-blocking fd, at most `budget` bytes. Returns false at end of
// file or on an error (the fd should then no longer be polled).
template <typename Sink>
bool read_available(int fd, size_t budget, Sink&& sink) {
    char buf[kReadChunk];
    size_t total = 0;
    while (total < budget) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            sink(buf, static_cast<size_t>(n));
            total += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        return false;
    }
    return true;
}

// --- one run -------------------------------------------------------------------------------------

class Run {
public:
    Run(const RunRequest& request, pid_t child, std::set<ProcessKey> foreign, Clock::time_point start)
        : request_(request), child_(child), foreign_(std::move(foreign)), start_(start) {}

    // The processes of this run alive (or zombie) right now: a full scan of /proc, for cleanup.
    std::vector<ProcessInfo> scan_tree() const { return descendants(all_processes(), self_, foreign_); }

    // The same, cheaper, for measuring every 10 ms.
    std::vector<ProcessInfo> measure_tree() const {
        if (auto tree = descendants_by_children_files(self_, foreign_)) return std::move(*tree);
        return scan_tree();
    }

    // True once the main program has ended. It is left a zombie (WNOWAIT) until cleanup is done:
    // while it is, its pid - which is also the process group id - cannot be reused, so signalling
    // the group keeps reaching this run's processes and nothing else.
    bool main_ended() {
        if (main_ended_) return true;
        siginfo_t info{};
        if (waitid(P_PID, static_cast<id_t>(child_), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
            if (info.si_pid == child_) main_ended_ = true;
        } else if (errno == ECHILD) {
            // Someone else reaped it (SIGCHLD ignored?): how it ended is unknown, and unknown
            // must never read as success.
            main_ended_ = main_reaped_ = status_unknown_ = true;
        }
        if (main_ended_) end_ = Clock::now();
        return main_ended_;
    }

    void reap_main() {
        if (main_reaped_ || !main_ended_) return;
        pid_t r;
        do {
            r = wait4(child_, &main_status_, 0, &main_usage_);
        } while (r < 0 && errno == EINTR);
        main_reaped_ = true;
    }

    // Reaps processes of the run re-parented to tito that have died, keeping their CPU time.
    void reap_orphan(const ProcessInfo& p) {
        if (p.alive() || p.parent != self_ || p.pid == child_) return;
        int status = 0;
        rusage usage{};
        if (wait4(p.pid, &status, WNOHANG, &usage) == p.pid) {
            orphan_cpu_seconds_ += to_seconds(usage.ru_utime) + to_seconds(usage.ru_stime);
        }
    }

    // One look at the tree: measure it, reap its dead orphans, check the limits.
    void check_tree() {
        auto tree = measure_tree();
        int alive = 0;
        int64_t resident_kib = 0;
        double cpu = orphan_cpu_seconds_;
        for (const ProcessInfo& p : tree) {
            reap_orphan(p);
            cpu += static_cast<double>(p.cpu_ticks) / clock_ticks_;
            if (!p.alive()) continue;
            ++alive;
            resident_kib += p.resident_pages * page_kib_;
        }
        peak_memory_kib_ = std::max(peak_memory_kib_, resident_kib);
        if (killing_) {
            kill_tree(tree);
            return;
        }
        const Limits& limits = request_.limits;
        if (resident_kib > limits.memory_mib * 1024) {
            stop(Outcome::memory_limit, tree);
        } else if (alive > limits.max_processes) {
            stop(Outcome::process_limit, tree);
        } else if (cpu > limits.cpu_seconds) {
            // RLIMIT_CPU is per process; this catches a tree of processes that share the work.
            stop(Outcome::cpu_limit, tree);
        } else if (seconds_since(start_) > limits.wall_seconds) {
            stop(Outcome::timed_out, tree);
        }
    }

    // Ends the run early because a limit was hit.
    void stop(Outcome why, const std::vector<ProcessInfo>& tree) {
        if (killing_) return;
        killing_ = true;
        kill_deadline_ = Clock::now() + kKillWait;
        stopped_for_ = why;
        kill_tree(tree);
    }
    void stop(Outcome why) { stop(why, scan_tree()); }

    bool killing() const { return killing_; }
    bool gave_up_waiting() const { return killing_ && Clock::now() > kill_deadline_; }

    // After the program has ended: kills everything left of its tree until a scan finds nothing.
    // A process being killed may still fork (or be mid-fork), so it takes rounds; two empty scans
    // in a row make sure nothing was created between the last scan's reading of a parent and its
    // child. Returns how many live processes were found (each counted once).
    int kill_leftovers() {
        std::set<ProcessKey> signalled;
        int empty_scans = 0;
        auto deadline = Clock::now() + kStrayCleanup;
        while (empty_scans < 2) {
            auto tree = scan_tree();
            if (tree.empty()) {
                ++empty_scans;
                continue;
            }
            bool any_alive = false;
            for (const ProcessInfo& p : tree) {
                if (p.alive()) {
                    signalled.insert(key_of(p));
                    any_alive = true;
                } else {
                    reap_orphan(p);  // zombies of other tree processes go when their parent does
                }
            }
            kill_tree(tree);
            // The main program's zombie stays until the end and is not a leftover.
            if (!any_alive && tree.size() == 1 && tree[0].pid == child_) {
                ++empty_scans;
                continue;
            }
            empty_scans = 0;
            if (Clock::now() > deadline) {
                spdlog::warn("sandbox: {} process(es) of {} could not be killed within {} s", tree.size(),
                             request_.argv[0], kStrayCleanup.count());
                break;
            }
            usleep(1000);
        }
        return static_cast<int>(signalled.size());
    }

    RunResult finish(OutputCollector& output, ResultChannel& results, int stray_processes) {
        if (!main_ended_) end_ = Clock::now();  // gave up waiting for it
        RunResult result;
        result.wall_seconds = std::chrono::duration<double>(end_ - start_).count();
        result.cpu_seconds =
            to_seconds(main_usage_.ru_utime) + to_seconds(main_usage_.ru_stime) + orphan_cpu_seconds_;
        result.peak_memory_kib = std::max<int64_t>(peak_memory_kib_, main_usage_.ru_maxrss);
        result.stray_processes_killed = stray_processes;
        output.move_into(result);
        result.reports = results.take_reports();

        const Limits& limits = request_.limits;
        if (killing_) {
            result.outcome = stopped_for_;
        } else if (status_unknown_) {
            result.outcome = Outcome::exited;
            result.exit_code = -1;
        } else if (result.output_bytes > limits.output_kib * 1024) {
            // Printed past the limit just before exiting, faster than the loop read it: the same
            // output must give the same outcome however the reads were timed.
            result.outcome = Outcome::output_limit;
        } else if (WIFEXITED(main_status_)) {
            result.outcome = Outcome::exited;
            result.exit_code = WEXITSTATUS(main_status_);
        } else if (WIFSIGNALED(main_status_)) {
            result.signal = WTERMSIG(main_status_);
            result.outcome = Outcome::signaled;
            if (result.signal == SIGXCPU) result.outcome = Outcome::cpu_limit;
            if (result.signal == SIGXFSZ) result.outcome = Outcome::file_size_limit;
            // The kernel sends SIGKILL at RLIMIT_CPU's hard limit (SIGXCPU ignored or caught).
            if (result.signal == SIGKILL && result.cpu_seconds >= limits.cpu_seconds) result.outcome = Outcome::cpu_limit;
        }
        // Under RLIMIT_AS a large allocation fails instead of growing the resident memory we
        // poll, and the program dies of an uncaught std::bad_alloc: that is the memory limit too.
        bool died = (result.outcome == Outcome::signaled && result.signal == SIGABRT) ||
                    (result.outcome == Outcome::exited && result.exit_code != 0);
        if (died && limits.address_space_limit && result.output().find("std::bad_alloc") != std::string::npos) {
            result.outcome = Outcome::memory_limit;
        }
        return result;
    }

private:
    void kill_tree(const std::vector<ProcessInfo>& tree) {
        // One system call for the whole group, atomic against forks; the loop below gets the
        // processes that left it (setsid). The group id cannot be reused while child_ is unreaped.
        if (!main_reaped_) ::kill(-child_, SIGKILL);
        for (const ProcessInfo& p : tree) {
            if (p.alive()) ::kill(p.pid, SIGKILL);
        }
    }

    const RunRequest& request_;
    pid_t self_ = getpid();
    pid_t child_;
    std::set<ProcessKey> foreign_;
    Clock::time_point start_;
    Clock::time_point end_;
    double clock_ticks_ = static_cast<double>(sysconf(_SC_CLK_TCK));
    int64_t page_kib_ = sysconf(_SC_PAGESIZE) / 1024;

    bool main_ended_ = false;
    bool main_reaped_ = false;
    bool status_unknown_ = false;
    int main_status_ = 0;
    rusage main_usage_{};
    double orphan_cpu_seconds_ = 0.0;
    int64_t peak_memory_kib_ = 0;

    bool killing_ = false;
    Outcome stopped_for_ = Outcome::exited;
    Clock::time_point kill_deadline_;
};

RunResult start_failure(std::string error) {
    RunResult result;
    result.outcome = Outcome::failed_to_start;
    result.error = std::move(error);
    return result;
}

// 10 -> "10", 2.5 -> "2.5", 0.25 -> "0.25"
std::string format_number(double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", value);
    std::string text = buf;
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text;
}

bool is_crash_signal(int signal) {
    return signal == SIGSEGV || signal == SIGBUS || signal == SIGFPE || signal == SIGILL || signal == SIGABRT ||
           signal == SIGTRAP || signal == SIGSYS;
}

}  // namespace

// --- public API ----------------------------------------------------------------------------------

void init_sandbox_parent() {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        spdlog::warn("sandbox: cannot become a child subreaper ({}); processes a test leaves behind may escape",
                     errno_text(errno));
    }
    // With SIGCHLD ignored, the kernel reaps children itself and wait4 could not report how the
    // program ended.
    struct sigaction current {};
    if (sigaction(SIGCHLD, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) {
        signal(SIGCHLD, SIG_DFL);
    }
}

RunResult run_sandboxed(const RunRequest& request) {
    if (request.argv.empty() || request.argv[0].empty()) return start_failure("no program to run");
    int is_subreaper = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, &is_subreaper) != 0 || is_subreaper == 0) init_sandbox_parent();

    // Everything the child will need, allocated now.
    const std::string token = random_token();
    ChildPlan plan;
    plan.argv_storage = request.argv;
    plan.env_storage = child_environment(request, token);
    std::string path_variable = "/usr/local/bin:/usr/bin:/bin";
    for (const std::string& entry : plan.env_storage) {
        if (entry.rfind("PATH=", 0) == 0) path_variable = entry.substr(5);
    }
    plan.program = find_in_path(request.argv[0], path_variable);
    for (auto& s : plan.argv_storage) plan.argv.push_back(s.data());
    plan.argv.push_back(nullptr);
    for (auto& s : plan.env_storage) plan.envp.push_back(s.data());
    plan.envp.push_back(nullptr);
    plan.working_dir = request.working_dir.string();
    plan.limits = child_limits(request.limits);
    plan.parent_pid = getpid();
    sigemptyset(&plan.empty_mask);
    plan.set_cpus = request.limits.cpus > 0;
    if (plan.set_cpus) plan.cpus = first_cpus(request.limits.cpus);
    if (plan.set_cpus && CPU_COUNT(&plan.cpus) == 0) plan.set_cpus = false;  // affinity unreadable: leave it
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    plan.max_fd = files.rlim_cur == RLIM_INFINITY ? 65535u : static_cast<unsigned int>(std::min<rlim_t>(files.rlim_cur, 1u << 20));

    UniqueFd null_fd = park_high(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    auto output_pipe = make_pipe();
    auto result_pipe = make_pipe();
    auto status_pipe = make_pipe();
    if (!null_fd.valid() || !output_pipe || !result_pipe || !status_pipe) {
        return start_failure("cannot create pipes: " + errno_text(errno));
    }
    plan.null_fd = null_fd.get();
    plan.output_fd = output_pipe->write_end.get();
    plan.result_fd = result_pipe->write_end.get();
    plan.status_fd = status_pipe->write_end.get();

    // Descendants tito already has are not part of this run (see the top of this file).
    std::set<ProcessKey> foreign;
    for (const ProcessInfo& p : descendants(all_processes(), getpid(), {})) foreign.insert(key_of(p));

    const auto start = Clock::now();
    pid_t child = fork();
    if (child < 0) return start_failure("cannot start a process: " + errno_text(errno));
    if (child == 0) exec_child(plan);

    setpgid(child, child);  // also in the parent, so the group exists before we might signal it
    null_fd.reset();
    output_pipe->write_end.reset();
    result_pipe->write_end.reset();
    status_pipe->write_end.reset();

    // Blocks until the child has exec'd (EOF) or reported why it could not.
    StartFailure failure{};
    ssize_t got;
    do {
        got = ::read(status_pipe->read_end.get(), &failure, sizeof failure);
    } while (got < 0 && errno == EINTR);
    if (got == static_cast<ssize_t>(sizeof failure)) {
        int status = 0;
        waitpid(child, &status, 0);
        const std::string& program = request.argv[0];
        switch (failure.step) {
            case step_directory:
                return start_failure("cannot change to directory " + plan.working_dir + ": " + errno_text(failure.error));
            case step_exec:
                return start_failure("cannot run " + program + ": " + errno_text(failure.error));
            default:
                return start_failure("cannot set up the files of " + program + ": " + errno_text(failure.error));
        }
    }
    status_pipe->read_end.reset();

    Run run(request, child, std::move(foreign), start);
    OutputCollector output(request.output_keep_bytes);
    ResultChannel results(token, request.on_report);
    auto add_output = [&](const char* data, size_t n) { output.add(data, n); };
    auto add_result = [&](const char* data, size_t n) { results.add(data, n); };
    const int64_t output_limit = request.limits.output_kib * 1024;

    int output_fd = output_pipe->read_end.get();
    int result_fd = result_pipe->read_end.get();
    set_nonblocking(output_fd);
    set_nonblocking(result_fd);
    // A pidfd becomes readable the moment the program exits, so the loop need not wait for the
    // next tick to notice. Without one (old kernels) the tick notices.
#ifdef SYS_pidfd_open
    UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
#else
    UniqueFd pidfd;
#endif
    bool output_open = true, result_open = true;

    auto next_scan = Clock::now();
    while (!run.main_ended()) {
        if (run.gave_up_waiting()) {
            spdlog::warn("sandbox: {} did not die after SIGKILL; giving up waiting for it", request.argv[0]);
            break;
        }
        pollfd fds[3];
        nfds_t count = 0;
        int output_index = -1, result_index = -1;
        if (output_open) {
            output_index = static_cast<int>(count);
            fds[count++] = {output_fd, POLLIN, 0};
        }
        if (result_open) {
            result_index = static_cast<int>(count);
            fds[count++] = {result_fd, POLLIN, 0};
        }
        if (pidfd.valid()) fds[count++] = {pidfd.get(), POLLIN, 0};
        // Rounded up: rounding down would spin with a 0 ms timeout through the last millisecond.
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_scan - Clock::now()).count();
        poll(fds, count, static_cast<int>(std::clamp<long long>(wait, 0, kScanInterval.count())));

        if (output_index >= 0 && fds[output_index].revents != 0) {
            output_open = read_available(output_fd, kMaxReadPerTick, add_output);
            if (output.bytes() > output_limit) {
                run.stop(Outcome::output_limit);
                output_open = false;  // past the limit nothing more is read
            }
        }
        if (result_index >= 0 && fds[result_index].revents != 0) {
            result_open = read_available(result_fd, kMaxReadPerTick, add_result);
        }
        if (run.main_ended()) break;
        if (Clock::now() >= next_scan) {
            run.check_tree();
            next_scan = Clock::now() + kScanInterval;
        }
    }

    // The run ends when the program itself ends; whatever it left running is killed now, so that
    // a background process holding the output pipe open cannot make tito wait.
    bool ended_by_itself = !run.killing();
    int leftovers = run.kill_leftovers();
    run.reap_main();

    // Every writer is gone now, so the pipes hold a finite remainder: read it.
    if (output_open) read_available(output_fd, kMaxDrainBytes, add_output);
    read_available(result_fd, kMaxDrainBytes, add_result);

    return run.finish(output, results, ended_by_itself ? leftovers : 0);
}

// --- describing results --------------------------------------------------------------------------

std::string RunResult::output() const {
    if (output_tail.empty()) return output_head;
    int64_t omitted = output_bytes - static_cast<int64_t>(output_head.size() + output_tail.size());
    if (omitted <= 0) return output_head + output_tail;
    std::string text = output_head;
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += "[... " + std::to_string(omitted) + " bytes omitted ...]\n";
    text += output_tail;
    return text;
}

std::string RunResult::describe(const Limits& limits) const {
    switch (outcome) {
        case Outcome::exited:
            return "exited with status " + std::to_string(exit_code);
        case Outcome::signaled:
            return (is_crash_signal(signal) ? "crashed: " : "was killed by signal: ") + describe_signal(signal);
        case Outcome::timed_out:
            return "timed out after " + format_number(limits.wall_seconds) + " s";
        case Outcome::cpu_limit:
            return "used more than " + format_number(limits.cpu_seconds) + " s of CPU time";
        case Outcome::memory_limit:
            return "used more than " + std::to_string(limits.memory_mib) + " MiB of memory";
        case Outcome::output_limit:
            return "printed more than " + std::to_string(limits.output_kib) + " KiB of output";
        case Outcome::process_limit:
            return "started more than " + std::to_string(limits.max_processes) + " processes";
        case Outcome::file_size_limit:
            return "wrote a file larger than " + std::to_string(limits.file_size_mib) + " MiB";
        case Outcome::failed_to_start:
            return "could not be started: " + (error.empty() ? std::string("unknown error") : error);
    }
    return "ended in an unknown way";
}

std::string describe_signal(int signal) {
    struct Meaning {
        int signal;
        const char* text;
    };
    static const Meaning meanings[] = {
        {SIGSEGV, "segmentation fault (SIGSEGV)"},
        {SIGABRT, "aborted (SIGABRT)"},
        {SIGFPE, "arithmetic error such as division by zero (SIGFPE)"},
        {SIGBUS, "bus error (SIGBUS)"},
        {SIGILL, "illegal instruction (SIGILL)"},
        {SIGTRAP, "breakpoint trap (SIGTRAP)"},
        {SIGSYS, "bad system call (SIGSYS)"},
        {SIGKILL, "killed (SIGKILL)"},
        {SIGTERM, "terminated (SIGTERM)"},
        {SIGINT, "interrupted (SIGINT)"},
        {SIGQUIT, "quit (SIGQUIT)"},
        {SIGHUP, "hangup (SIGHUP)"},
        {SIGPIPE, "broken pipe (SIGPIPE)"},
        {SIGALRM, "alarm clock (SIGALRM)"},
        {SIGXCPU, "CPU time limit exceeded (SIGXCPU)"},
        {SIGXFSZ, "file size limit exceeded (SIGXFSZ)"},
        {SIGUSR1, "user signal 1 (SIGUSR1)"},
        {SIGUSR2, "user signal 2 (SIGUSR2)"},
    };
    for (const Meaning& m : meanings) {
        if (m.signal == signal) return m.text;
    }
    const char* abbreviation = sigabbrev_np(signal);
    if (abbreviation != nullptr) return "signal " + std::to_string(signal) + " (SIG" + abbreviation + ")";
    return "signal " + std::to_string(signal);
}

// --- sanitizer reports ---------------------------------------------------------------------------
//
// What the reports look like (GCC 12's libsanitizer; trimmed copies are in test_cli_sandbox.cpp):
//
//   ==7465==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000024 at pc ...
//   READ of size 4 at 0x602000000024 thread T0
//       #0 0x5595952ebd8e in tt::Tensor::at(int) const /home/ana/ws/01_tensor/tensor.cpp:9
//       #1 0x5595952eb5e0 in main /home/ana/ws/01_tensor/grader.cpp:16
//   ...
//   SUMMARY: AddressSanitizer: heap-buffer-overflow /home/ana/ws/01_tensor/tensor.cpp:9 in tt::Tensor::at(int) const
//
//   tensor.cpp:12:34: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'
//
//   ==7471==ERROR: LeakSanitizer: detected memory leaks
//   Direct leak of 40 byte(s) in 1 object(s) allocated from:
//       #0 0x7f7e2deb9628 in operator new[](unsigned long) ../../../../src/libsanitizer/asan/asan_new_delete.cpp:98
//       #1 0x55d4d67a570f in make_buffer /home/ana/ws/01_tensor/tensor.cpp:19
//   SUMMARY: AddressSanitizer: 40 byte(s) leaked in 1 allocation(s).
//
// The SUMMARY line names frame #0, which is often inside the sanitizer (memcpy's interceptor,
// operator delete) or libstdc++ (std::copy), so the location is taken from the first frame of the
// stack that is neither: the code the student can change.

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    size_t begin = 0;
    while (begin < text.size()) {
        size_t end = text.find('\n', begin);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(begin, end - begin);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        begin = end + 1;
    }
    return lines;
}

std::string_view trim_view(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }
bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Frame {
    std::string function;  // "tt::Tensor::at(int) const", or empty
    std::string location;  // "/path/tensor.cpp:9", "/path/tensor.cpp:9:5" or "(/path/binary+0x1234)"
};

// "    #1 0x5595952eb5e0 in main /tmp/x.cpp:16" -> {main, /tmp/x.cpp:16}
std::optional<Frame> parse_frame(std::string_view line) {
    line = trim_view(line);
    if (line.size() < 2 || line[0] != '#' || line[1] < '0' || line[1] > '9') return std::nullopt;
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    line = trim_view(line.substr(space + 1));
    if (starts_with(line, "0x")) {
        space = line.find(' ');
        line = space == std::string_view::npos ? std::string_view() : trim_view(line.substr(space + 1));
    }
    if (size_t build_id = line.rfind(" (BuildId:"); build_id != std::string_view::npos) line = line.substr(0, build_id);
    Frame frame;
    if (starts_with(line, "in ")) {
        line = line.substr(3);
        size_t last_space = line.rfind(' ');
        if (last_space == std::string_view::npos) {
            frame.function = std::string(line);
            return frame;
        }
        frame.function = std::string(trim_view(line.substr(0, last_space)));
        line = line.substr(last_space + 1);
    }
    frame.location = std::string(trim_view(line));
    return frame;
}

// Frames the student did not write and cannot fix: the sanitizer runtime, libstdc++ (its
// headers are compiled into the student's code), the C library and the program's start-up code.
bool is_library_frame(const Frame& frame) {
    static const std::string_view library_locations[] = {
        "libsanitizer", "compiler-rt", "sanitizer_common", "libasan", "libubsan", "liblsan", "libclang_rt",
        "/c++/", "libstdc++", "../sysdeps/", "../csu/", "libc.so", "libm.so", "ld-linux", "/glibc",
    };
    static const std::string_view library_functions[] = {
        "__interceptor_", "___interceptor_", "__asan", "__ubsan", "__lsan", "__sanitizer", "__interception",
        "__libc_start", "_start",
    };
    for (std::string_view part : library_locations) {
        if (contains(frame.location, part)) return true;
    }
    for (std::string_view prefix : library_functions) {
        if (starts_with(frame.function, prefix)) return true;
    }
    return frame.function.empty() && frame.location.empty();
}

// "/home/ana/ws/01_tensor/tensor.cpp:9:5" -> "tensor.cpp:9"; "" when there is no source line.
std::string short_location(std::string_view location) {
    if (location.empty() || location.front() == '(' || location.front() == '<') return "";
    size_t colon = location.rfind(':');
    if (colon == std::string_view::npos) return "";
    std::string_view path = location.substr(0, colon);
    std::string_view line = location.substr(colon + 1);
    // file:line:column -> drop the column
    if (size_t before = path.rfind(':'); before != std::string_view::npos && all_digits(path.substr(before + 1))) {
        line = path.substr(before + 1);
        path = path.substr(0, before);
    }
    if (!all_digits(line)) return "";
    if (size_t slash = path.rfind('/'); slash != std::string_view::npos) path = path.substr(slash + 1);
    if (path.empty()) return "";
    return std::string(path) + ":" + std::string(line);
}

// "std::vector<int>::at(unsigned long) const" -> "std::vector<int>::at",
// "int* std::copy<int*>(int*, int*, int*)" -> "std::copy<int*>": a name, not a signature.
std::string short_function(std::string name) {
    auto ends_with = [&](std::string_view suffix) {
        return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    for (bool changed = true; changed;) {
        changed = false;
        for (std::string_view qualifier : {" const", " volatile", " &&", " &"}) {
            if (ends_with(qualifier)) {
                name.resize(name.size() - qualifier.size());
                changed = true;
            }
        }
    }
    if (!name.empty() && name.back() == ')') {  // the parameter list
        int depth = 0;
        for (size_t i = name.size(); i-- > 0;) {
            if (name[i] == ')') ++depth;
            if (name[i] == '(' && --depth == 0) {
                if (i > 0) name.resize(i);
                break;
            }
        }
    }
    // A return type (templates show it) ends at the last space outside brackets.
    int depth = 0;
    size_t name_start = 0;
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c == '<' || c == '(' || c == '[' || c == '{') ++depth;
        if (c == '>' || c == ')' || c == ']' || c == '}') --depth;
        if (depth < 0) return name.size() > 100 ? name.substr(0, 97) + "..." : name;  // "operator>" etc.
        if (c == ' ' && depth == 0 && !(i >= 8 && name.compare(i - 8, 8, "operator") == 0)) name_start = i + 1;
    }
    name = name.substr(name_start);
    if (name.size() > 100) name = name.substr(0, 97) + "...";
    return name;
}

// " at tensor.cpp:9 in tt::Tensor::at" for the first frame the student wrote, from the stack that
// starts at most `max_gap` lines after `first`.
std::string student_frame_text(const std::vector<std::string_view>& lines, size_t first, size_t max_gap = 8) {
    bool in_stack = false;
    for (size_t i = first; i < lines.size(); ++i) {
        auto frame = parse_frame(lines[i]);
        if (!frame) {
            if (in_stack || i >= first + max_gap) break;  // the first stack has ended, or never started
            continue;
        }
        in_stack = true;
        if (is_library_frame(*frame)) continue;
        // The first frame that is not a library's is the grader's own test code: the student's
        // code is not on this stack (it returned something the test then misused). Where in a
        // hidden grader it happened is not theirs to know.
        if (is_hidden_grader_path(frame->location)) return " in the grader's test code";
        std::string text;
        std::string location = short_location(frame->location);
        if (!location.empty()) text += " at " + location;
        std::string function = short_function(frame->function);
        if (!function.empty()) text += " in " + function;
        return text;
    }
    return "";
}

// Signals that ASan reports itself ("SEGV on unknown address"), under the name students know.
int signal_for_asan_kind(std::string_view kind) {
    if (kind == "SEGV") return SIGSEGV;
    if (kind == "BUS") return SIGBUS;
    if (kind == "FPE") return SIGFPE;
    if (kind == "ILL") return SIGILL;
    if (kind == "ABRT") return SIGABRT;
    return 0;
}

std::string asan_finding(const std::vector<std::string_view>& lines, size_t error_line, std::string_view description) {
    // The short kind ("heap-buffer-overflow", "double-free") is the first word of the SUMMARY line;
    // without one, the ERROR line's description up to " on address" / " on 0x..." does.
    std::string kind;
    for (size_t i = error_line + 1; i < lines.size(); ++i) {
        size_t at = lines[i].find("SUMMARY: AddressSanitizer: ");
        if (at == std::string_view::npos) continue;
        std::string_view rest = lines[i].substr(at + 27);
        kind = std::string(rest.substr(0, rest.find(' ')));
        break;
    }
    if (kind.empty()) {
        std::string_view d = description;
        for (std::string_view end : {" on ", " in thread", " (", ":"}) d = d.substr(0, d.find(end));
        if (starts_with(d, "attempting ")) d.remove_prefix(11);
        kind = std::string(trim_view(d));
    }
    int signal = signal_for_asan_kind(kind);
    std::string headline = signal != 0 ? describe_signal(signal) : "AddressSanitizer: " + kind;
    return headline + student_frame_text(lines, error_line + 1);
}

std::string leak_finding(const std::vector<std::string_view>& lines, size_t error_line) {
    std::string amount;
    for (size_t i = error_line + 1; i < lines.size(); ++i) {
        size_t at = lines[i].find("SUMMARY: AddressSanitizer: ");
        if (at == std::string_view::npos) at = lines[i].find("SUMMARY: LeakSanitizer: ");
        if (at == std::string_view::npos) continue;
        std::string_view rest = trim_view(lines[i].substr(lines[i].find(": ", at + 9) + 2));
        if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
        amount = std::string(rest);  // "40 byte(s) leaked in 1 allocation(s)"
        break;
    }
    std::string text = "LeakSanitizer: " + (amount.empty() ? std::string("memory leaked") : amount);
    std::string where = student_frame_text(lines, error_line + 1);
    if (!where.empty()) text += ", allocated" + where;
    return text;
}

// "tensor.cpp:17:9: runtime error: signed integer overflow: 2147483647 + 1 cannot be ..."
std::string undefined_behaviour_finding(const std::vector<std::string_view>& lines, size_t line_index, size_t marker) {
    std::string_view line = lines[line_index];
    std::string_view message = trim_view(line.substr(marker + 15));  // after "runtime error: "
    message = message.substr(0, message.find(": "));                // the kind, not the values
    if (message.size() > 120) message = message.substr(0, 120);
    std::string text = "undefined behaviour: " + std::string(message);
    // With print_stacktrace=1 a stack follows at once and may lead out of a libstdc++ header.
    std::string where = student_frame_text(lines, line_index + 1, /*max_gap=*/0);
    if (where.empty()) {
        std::string_view place = trim_view(line.substr(0, marker));
        if (size_t eq = place.rfind("=="); eq != std::string_view::npos) place = place.substr(eq + 2);
        if (!place.empty() && place.back() == ':') place.remove_suffix(1);
        std::string location = short_location(place);
        if (!location.empty()) where = " at " + location;
    }
    return text + where;
}

}  // namespace

std::string sanitizer_finding(const std::string& output) {
    auto lines = split_lines(output);
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string_view line = lines[i];
        if (size_t marker = line.find("runtime error: "); marker != std::string_view::npos) {
            return undefined_behaviour_finding(lines, i, marker);
        }
        size_t error = line.find("ERROR: ");
        if (error == std::string_view::npos) continue;
        std::string_view rest = line.substr(error + 7);
        if (starts_with(rest, "LeakSanitizer: ")) return leak_finding(lines, i);
        if (starts_with(rest, "AddressSanitizer failed to allocate") || starts_with(rest, "AddressSanitizer: failed to allocate")) {
            return "AddressSanitizer could not start: it needs more virtual memory than the address-space limit allows";
        }
        if (starts_with(rest, "AddressSanitizer: ")) return asan_finding(lines, i, rest.substr(18));
        if (starts_with(rest, "UndefinedBehaviorSanitizer: ")) {
            std::string_view d = rest.substr(28);
            std::string kind(trim_view(d.substr(0, d.find(" on "))));
            int signal = signal_for_asan_kind(kind);
            return (signal != 0 ? describe_signal(signal) : "undefined behaviour: " + kind) + student_frame_text(lines, i + 1);
        }
    }
    return "";
}

}  // namespace tito
