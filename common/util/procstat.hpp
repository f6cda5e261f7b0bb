#pragma once
// A process's resident memory and CPU time from /proc/<pid> (benchmarks and the fleet
// simulator sample the coordinator with it).
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace edgenas {

struct ProcSample {
  int64_t rss_kb = 0;
  double cpu_s = 0;  // user + system
};

inline ProcSample sample_proc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stoll(line.substr(6));
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), {});
  const auto close = all.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream in(all.substr(close + 2));
  std::string field;
  std::vector<std::string> f;
  while (in >> field) f.push_back(field);
  if (f.size() > 13)
    s.cpu_s = static_cast<double>(std::stoll(f[11]) + std::stoll(f[12])) /
              static_cast<double>(sysconf(_SC_CLK_TCK));
  return s;
}

}  // namespace edgenas
