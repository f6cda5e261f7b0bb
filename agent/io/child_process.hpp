#pragma once
// Starts edgenas-search children for the SearchRunner: fork/exec with stdout on a pipe (progress
// events, read without blocking), stderr appended to a log file, its own process group, and
// SIGTERM when the agent dies (PR_SET_PDEATHSIG). Limits from the Source matrix:
//   - a cgroup per child when one can be created: v2 (cpu.max, memory.max; the agent moves
//     itself into a leaf "agent" group first, as systemd's delegation rules require) or v1
//     (cpu.cfs_quota_us, memory.limit_in_bytes), removed when the child is gone;
//   - otherwise RLIMIT_DATA (heap and anonymous mappings) for memory;
//   - always a CPU affinity mask of that many CPUs.
// limits_applied() says which, and the run's log and status show it.
#include <map>
#include <string>

#include "agent/core/search_runner.hpp"

namespace edgenas::agent {

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

}  // namespace edgenas::agent
