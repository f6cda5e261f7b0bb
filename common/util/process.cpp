#include "common/util/process.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace edgenas {
namespace fs = std::filesystem;

namespace {

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// This process's cgroup path in the v2 hierarchy ("0::/x") and per v1 controller.
std::map<std::string, std::string> own_cgroups(const std::string& proc_root) {
  std::map<std::string, std::string> out;
  std::istringstream in(read_file(proc_root + "/self/cgroup"));
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) out["v2"] = path;
    std::istringstream cs(controllers);
    std::string c;
    while (std::getline(cs, c, ',')) out[c] = path;
  }
  return out;
}

// Async-signal-safe decimal formatting for the child between fork and exec.
void format_int(long v, char* buf) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < 23);
  for (int i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
}

// The fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, ...); empty
// when the process is gone.
std::string stat_fields(const std::string& proc_root, int pid) {
  const std::string stat = read_file(proc_root + "/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos ? "" : stat.substr(close + 1);
}

// Whether pid is a live process: not gone and not a zombie (an adopted child that exited is a
// zombie until its new parent, often init, reaps it; kill(pid, 0) still succeeds on it).
bool running(const std::string& proc_root, int pid) {
  if (::kill(pid, 0) != 0) return false;
  const std::string fields = stat_fields(proc_root, pid);
  return fields.size() < 2 || fields[1] != 'Z';
}

// Closes every descriptor from `first` up, between fork and exec (async-signal-safe).
void close_from(int first) {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, 0U) == 0) return;
#endif
  // Kernels before 5.9: every possible descriptor number.
  struct rlimit rl {};
  const long max = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                       ? static_cast<long>(rl.rlim_cur)
                       : 65536;
  for (long fd = first; fd < max; ++fd) ::close(static_cast<int>(fd));
}

}  // namespace

ProcessLauncher::ProcessLauncher(std::string cgroup_root, std::string proc_root)
    : cgroup_root_(std::move(cgroup_root)), proc_root_(std::move(proc_root)) {}

ProcessLauncher::~ProcessLauncher() {
  for (auto& [pid, c] : children_) {
    if (c.stdout_fd >= 0) ::close(c.stdout_fd);
  }
}

Expected<std::vector<std::string>> ProcessLauncher::make_cgroups(const std::string& name,
                                                                 const ChildLimits& l,
                                                                 std::vector<std::string>& dirs) {
  const auto own = own_cgroups(proc_root_);
  const std::string leaf = "edgenas-search-" + name;
  const int64_t period = 100'000;
  std::error_code ec;
  // cgroup v2: the unified hierarchy mounted at the root.
  if (fs::exists(cgroup_root_ + "/cgroup.controllers") && own.count("v2")) {
    const std::string base = cgroup_root_ + (own.at("v2") == "/" ? "" : own.at("v2"));
    // Controllers can only be enabled for children of a group without processes of its own
    // (except the root): move this process into a leaf first.
    if (own.at("v2") != "/" && !read_file(base + "/cgroup.procs").empty()) {
      fs::create_directories(base + "/daemon", ec);
      if (ec || !write_file(base + "/daemon/cgroup.procs", std::to_string(::getpid())))
        return Error{"cgroup", "cannot move this process into " + base + "/daemon"};
    }
    if (!write_file(base + "/cgroup.subtree_control", "+cpu +memory"))
      return Error{"cgroup", "cannot enable cpu and memory controllers in " + base};
    const std::string dir = base + "/" + leaf;
    fs::create_directories(dir, ec);
    if (ec) return Error{"cgroup", "cannot create " + dir + ": " + ec.message()};
    dirs.push_back(dir);
    if (!write_file(dir + "/cpu.max",
                    std::to_string(l.cpus * period) + " " + std::to_string(period)) ||
        (l.memory_mb > 0 && !write_file(dir + "/memory.max", std::to_string(l.memory_mb << 20))))
      return Error{"cgroup", "cannot write limits in " + dir};
    return std::vector<std::string>{dir + "/cgroup.procs"};
  }
  // cgroup v1: one hierarchy per controller.
  if (own.count("memory") && own.count("cpu") && fs::exists(cgroup_root_ + "/memory") &&
      fs::exists(cgroup_root_ + "/cpu")) {
    const std::string mem = cgroup_root_ + "/memory" + own.at("memory") + "/" + leaf;
    const std::string cpu = cgroup_root_ + "/cpu" + own.at("cpu") + "/" + leaf;
    for (const auto& d : {mem, cpu}) {
      fs::create_directories(d, ec);
      if (ec) return Error{"cgroup", "cannot create " + d + ": " + ec.message()};
      dirs.push_back(d);
    }
    if ((l.memory_mb > 0 &&
         !write_file(mem + "/memory.limit_in_bytes", std::to_string(l.memory_mb << 20))) ||
        !write_file(cpu + "/cpu.cfs_period_us", std::to_string(period)) ||
        !write_file(cpu + "/cpu.cfs_quota_us", std::to_string(l.cpus * period)))
      return Error{"cgroup", "cannot write limits in " + mem + " / " + cpu};
    return std::vector<std::string>{mem + "/cgroup.procs", cpu + "/cgroup.procs"};
  }
  return Error{"cgroup", "no cgroup v2 or v1 cpu+memory hierarchy at " + cgroup_root_};
}

namespace {

// Everything the child needs, prepared by the parent: the child only makes system calls.
struct ChildSetup {
  char** argv = nullptr;
  const std::vector<std::string>* join = nullptr;  // cgroup.procs files to write the pid to
  bool rlimit = false;
  rlim_t data_limit = 0;
  pid_t parent = 0;
  int death_signal = SIGTERM;
  bool have_mask = false;
  cpu_set_t mask{};
  int stdout_fd = -1, log_fd = -1;
  sigset_t parent_mask{};
  bool own_session = false;  // a background child: a session (and scheduling group) of its own
};

// The child between clone and exec: it shares the parent's memory (CLONE_VM), so only
// async-signal-safe system calls, on its own stack, and nothing allocated.
int child_main(void* arg) {
  const auto& c = *static_cast<ChildSetup*>(arg);
  // Handlers are the parent's code: every caught signal goes back to its default before the
  // mask the parent had is restored.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa {};
    if (::sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler != SIG_DFL &&
        sa.sa_handler != SIG_IGN) {
      sa.sa_handler = SIG_DFL;
      ::sigaction(sig, &sa, nullptr);
    }
  }
  ::sigprocmask(SIG_SETMASK, &c.parent_mask, nullptr);
  if (!c.own_session || ::setsid() < 0) ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, c.death_signal);
  if (::getppid() != c.parent) ::_exit(127);  // the parent already died
  char pid_text[24];
  format_int(static_cast<long>(::getpid()), pid_text);
  for (const auto& path : *c.join) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd >= 0) {
      (void)!::write(fd, pid_text, std::strlen(pid_text));
      ::close(fd);
    }
  }
  if (c.rlimit) {
    struct rlimit rl {
      c.data_limit, c.data_limit
    };
    ::setrlimit(RLIMIT_DATA, &rl);
  }
  if (c.have_mask) ::sched_setaffinity(0, sizeof c.mask, &c.mask);
  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  ::dup2(c.stdout_fd, 1);
  ::dup2(c.log_fd, 2);
  close_from(3);
  ::execv(c.argv[0], c.argv);
  ::_exit(127);
}

// Starts the child with clone(CLONE_VM | CLONE_VFORK), as posix_spawn does: no copy of the
// parent's page tables and no copy-on-write faults after it. A fork() of a coordinator holding
// ~1 GB stalled its io thread for tens of milliseconds at every predictor training
// (docs/BENCHMARKS.md, "Coordinator tail"). The parent resumes when the child has exec'd.
pid_t start_child(ChildSetup& setup) {
  constexpr std::size_t kStack = 256 * 1024;
  void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  sigset_t all;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &setup.parent_mask);  // no handler runs in the child
  const pid_t pid = ::clone(child_main, static_cast<char*>(stack) + kStack,
                            CLONE_VM | CLONE_VFORK | SIGCHLD, &setup);
  const int err = errno;
  ::pthread_sigmask(SIG_SETMASK, &setup.parent_mask, nullptr);
  ::munmap(stack, kStack);
  errno = err;
  return pid;
}

// Whether the child leads a session of its own, waiting up to 200 ms for its setsid(). Natively
// it has exec'd (after setsid) by the time clone returns here; under qemu-user, which runs a
// vfork as a fork, the parent can get here first, and writing the child's autogroup then would
// renice the parent's own session.
bool leads_own_session(const std::string& proc_root, pid_t pid) {
  for (int waited_ms = 0; waited_ms < 200; ++waited_ms) {
    std::istringstream fields(stat_fields(proc_root, pid));
    if (fields.str().empty()) return false;  // gone already
    std::string state;
    long ppid = 0, pgrp = 0, session = 0;
    fields >> state >> ppid >> pgrp >> session;
    if (session == pid) return true;
    ::usleep(1000);
  }
  return false;
}

// A background child's priority, set once it has exec'd: lowered before, it kept this thread
// (which CLONE_VFORK suspends until the exec) waiting for CPU time nobody gave it (236 ms in the
// soak with SCHED_IDLE). Its niceness and SCHED_IDLE only order it against the threads of its own
// scheduling group: with autogroups on (most distributions' kernels turn them on), a
// session competes with every other session as one, whatever its threads' nice values, so a
// training in the coordinator's session took half the machine from a browser or a simulated fleet
// in another session (docs/BENCHMARKS.md, "Web console"). The child has a session of its own; its
// group gets the child's niceness (19 for SCHED_IDLE), where the kernel has autogroups.
void lower_priority(const std::string& proc_root, pid_t pid, const ChildSpec& spec) {
  if (spec.nice != 0) ::setpriority(PRIO_PROCESS, static_cast<id_t>(pid), spec.nice);
  if (spec.idle_class) {
    struct sched_param none {};
    ::sched_setscheduler(pid, SCHED_IDLE, &none);
  }
  const std::string group = proc_root + "/" + std::to_string(pid) + "/autogroup";
  if (spec.background() && fs::exists(group) && leads_own_session(proc_root, pid))
    write_file(group, std::to_string(spec.idle_class ? 19 : spec.nice));
}

}  // namespace

Expected<int> ProcessLauncher::spawn(const ChildSpec& spec) {
  if (spec.argv.empty()) return Error{"spawn", "empty command"};
  if (::access(spec.argv[0].c_str(), X_OK) != 0)
    return Error{"spawn", spec.argv[0] + " is not an executable file"};
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Error{"spawn", std::strerror(errno)};
  const int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return Error{"spawn", "cannot open " + spec.log_path + ": " + std::strerror(errno)};
  }
  Child child;
  std::vector<std::string> join;
  if (spec.limits.memory_mb > 0) {
    auto cg = make_cgroups(spec.name, spec.limits, child.cgroups);
    if (cg) {
      join = *cg;
      child.limits =
          (fs::exists(cgroup_root_ + "/cgroup.controllers") ? "cgroup v2" : "cgroup v1") +
          std::string(": ") + std::to_string(spec.limits.cpus) + " cpu, " +
          std::to_string(spec.limits.memory_mb) + " MB";
    } else {
      child.limits = "affinity " + std::to_string(spec.limits.cpus) + " cpu, RLIMIT_DATA " +
                     std::to_string(spec.limits.memory_mb) + " MB (" + cg.error().message + ")";
    }
  }
  // CPUs for the affinity mask: the first `cpus` this process may run on.
  cpu_set_t allowed, mask;
  CPU_ZERO(&mask);
  bool have_mask = false;
  if (spec.limits.cpus > 0 && ::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    int taken = 0;
    for (int c = 0; c < CPU_SETSIZE && taken < spec.limits.cpus; ++c) {
      if (CPU_ISSET(c, &allowed)) {
        CPU_SET(c, &mask);
        ++taken;
      }
    }
    have_mask = taken > 0;
  }
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ChildSetup setup;
  setup.argv = argv.data();
  setup.join = &join;
  setup.rlimit = join.empty() && spec.limits.memory_mb > 0;
  setup.data_limit = static_cast<rlim_t>(spec.limits.memory_mb) << 20;
  setup.parent = ::getpid();
  setup.death_signal = spec.parent_death_signal;
  setup.have_mask = have_mask;
  setup.mask = mask;
  setup.stdout_fd = pipe_fds[1];
  setup.log_fd = log_fd;
  setup.own_session = spec.background();

  const pid_t pid = start_child(setup);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    ::close(log_fd);
    return Error{"spawn", std::string("clone: ") + std::strerror(errno)};
  }
  lower_priority(proc_root_, pid, spec);
  ::close(pipe_fds[1]);
  ::close(log_fd);
  ::fcntl(pipe_fds[0], F_SETFL, ::fcntl(pipe_fds[0], F_GETFL) | O_NONBLOCK);
  child.stdout_fd = pipe_fds[0];
  if (child.limits.empty()) child.limits = "none";
  children_[pid] = std::move(child);
  return static_cast<int>(pid);
}

std::optional<int> ProcessLauncher::adopt(int pid, const std::string& expected_binary) {
  if (pid <= 0 || !running(proc_root_, pid)) return std::nullopt;
  // Only a process running the search binary (a pid may have been reused).
  std::error_code ec;
  const auto exe = fs::read_symlink(proc_root_ + "/" + std::to_string(pid) + "/exe", ec);
  if (ec || exe.filename() != fs::path(expected_binary).filename()) return std::nullopt;
  Child c;
  c.adopted = true;
  c.limits = "adopted from a previous agent process";
  children_[pid] = std::move(c);
  return pid;
}

void ProcessLauncher::signal(int handle, int sig) {
  if (!children_.count(handle)) return;
  // The whole process group (edgenas-search and anything it started); the pid alone when the
  // group is gone.
  if (::kill(-handle, sig) != 0) ::kill(handle, sig);
}

std::optional<ChildExit> ProcessLauncher::poll(int handle) {
  auto it = children_.find(handle);
  if (it == children_.end()) return ChildExit{0, 0};
  if (it->second.adopted) {
    if (running(proc_root_, handle)) return std::nullopt;
    forget(handle);
    return ChildExit{0, 0};  // not ours to wait for: results.json tells how it went
  }
  int status = 0;
  const pid_t r = ::waitpid(handle, &status, WNOHANG);
  if (r == 0) return std::nullopt;
  it->second.reaped = true;
  ChildExit e;
  if (r < 0) {
    e.exit_code = 127;
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
  } else {
    e.exit_code = WEXITSTATUS(status);
  }
  // Whatever it printed last is still in the pipe: the caller reads it with take_lines.
  return e;
}

std::vector<std::string> ProcessLauncher::take_lines(int handle) {
  std::vector<std::string> lines;
  auto it = children_.find(handle);
  if (it == children_.end() || it->second.stdout_fd < 0) return lines;
  Child& c = it->second;
  char buf[4096];
  bool eof = false;
  while (true) {
    const ssize_t n = ::read(c.stdout_fd, buf, sizeof buf);
    if (n == 0) eof = true;
    if (n <= 0) break;
    c.partial.append(buf, static_cast<std::size_t>(n));
    if (c.partial.size() > (1 << 20)) c.partial.erase(0, c.partial.size() - (1 << 20));
  }
  std::size_t pos;
  while ((pos = c.partial.find('\n')) != std::string::npos) {
    lines.push_back(c.partial.substr(0, pos));
    c.partial.erase(0, pos + 1);
  }
  if (c.reaped && eof) forget(handle);  // exited and drained
  return lines;
}

std::string ProcessLauncher::limits_applied(int handle) const {
  auto it = children_.find(handle);
  return it == children_.end() ? "" : it->second.limits;
}

void ProcessLauncher::forget(int pid) {
  auto it = children_.find(pid);
  if (it == children_.end()) return;
  if (it->second.stdout_fd >= 0) ::close(it->second.stdout_fd);
  std::error_code ec;
  for (const auto& d : it->second.cgroups) fs::remove(d, ec);  // rmdir: empty once it exited
  children_.erase(it);
}

}  // namespace edgenas
