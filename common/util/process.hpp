#pragma once
// Child processes of the daemons (the agent's edgenas-search runs, the coordinator's predictor
// trainings): fork/exec with stdout on a pipe (progress events, read without blocking), stderr
// appended to a log file, its own process group (a session of its own for a background child,
// ChildSpec::background), and a signal when the parent dies
// (PR_SET_PDEATHSIG; the child checks after setting it that its parent is still the one that
// forked it). The child gets stdin (/dev/null), stdout and stderr and no other descriptor of the
// parent's: every descriptor from 3 up is closed before exec (close_range), whether or not it
// was opened close-on-exec, so a child never holds a daemon's listening sockets or files.
// Limits, when a ChildSpec asks for them:
//   - a cgroup per child when one can be created: v2 (cpu.max, memory.max; the parent moves
//     itself into a leaf "daemon" group first, as v2's no-internal-processes rule requires) or v1
//     (cpu.cfs_quota_us, memory.limit_in_bytes), removed when the child is gone;
//   - otherwise RLIMIT_DATA (heap and anonymous mappings) for memory;
//   - always a CPU affinity mask of that many CPUs.
// limits_applied() says which, and the run's log and status show it.
#include <csignal>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/util/expected.hpp"

namespace edgenas {

// The CPU and memory a child gets (applied by the launcher: cgroup, affinity).
struct ChildLimits {
  int cpus = 1;
  int64_t memory_mb = 0;  // 0: no limit
};

struct ChildSpec {
  std::vector<std::string> argv;
  std::string log_path;  // stderr goes here; stdout is read line by line
  ChildLimits limits;
  std::string name;  // for the cgroup and logs
  int nice = 0;      // added to the child's scheduling niceness
  // SCHED_IDLE: the child runs only on CPU time no other thread wants (a background job beside a
  // latency-bound server); a nice value alone still lets it take whole time slices.
  bool idle_class = false;
  // A background child (niced or SCHED_IDLE) runs in a session of its own, so that its priority
  // holds against every process on the machine, not only against its parent's session (see
  // lower_priority in process.cpp).
  bool background() const { return nice > 0 || idle_class; }
  // Sent to the child when the parent dies. SIGTERM lets edgenas-search keep its best model for
  // the restarted agent to adopt; a predictor training, whose result nobody would record, gets
  // SIGKILL.
  int parent_death_signal = SIGTERM;
};
struct ChildExit {
  int exit_code = 0;  // when it exited
  int signal = 0;     // when a signal ended it (9 after an OOM kill)
};

class ChildLauncher {
 public:
  virtual ~ChildLauncher() = default;
  virtual Expected<int> spawn(const ChildSpec& spec) = 0;  // a handle (the pid)
  // A child a previous process of the daemon started (after a restart): waited for, no exit
  // status.
  virtual std::optional<int> adopt(int pid, const std::string& expected_binary) = 0;
  virtual void signal(int handle, int sig) = 0;
  virtual std::optional<ChildExit> poll(int handle) = 0;
  virtual std::vector<std::string> take_lines(int handle) = 0;  // stdout lines since last call
  // How the limits were applied (e.g. "cgroup v2 cpu+memory", "affinity only").
  virtual std::string limits_applied(int handle) const = 0;
};

class ProcessLauncher final : public ChildLauncher {
 public:
  // cgroup_root: where cgroup file systems are mounted (tests pass a fake tree).
  explicit ProcessLauncher(std::string cgroup_root = "/sys/fs/cgroup",
                           std::string proc_root = "/proc");
  ~ProcessLauncher() override;
  Expected<int> spawn(const ChildSpec& spec) override;
  std::optional<int> adopt(int pid, const std::string& expected_binary) override;
  void signal(int handle, int sig) override;
  std::optional<ChildExit> poll(int handle) override;
  std::vector<std::string> take_lines(int handle) override;
  std::string limits_applied(int handle) const override;

 private:
  struct Child {
    int stdout_fd = -1;
    std::string partial;  // an unterminated last line
    bool adopted = false;
    bool reaped = false;
    std::vector<std::string> cgroups;  // directories to remove when it is gone
    std::string limits;
  };
  // Creates the cgroup(s) for a child; returns the cgroup.procs files it must join.
  Expected<std::vector<std::string>> make_cgroups(const std::string& name, const ChildLimits& l,
                                                  std::vector<std::string>& dirs);
  void forget(int pid);
  std::string cgroup_root_, proc_root_;
  std::map<int, Child> children_;
};

}  // namespace edgenas
