#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "agent/probes/probes.hpp"

namespace edgenas::agent {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// This process's cgroup: the v2 path ("0::/x") and the v1 paths per controller.
struct CgroupPaths {
  std::optional<std::string> v2;
  std::optional<std::string> v1_cpu, v1_memory;
};

CgroupPaths cgroup_paths(const ProbePaths& p) {
  CgroupPaths out;
  auto text = read_file(p.proc + "/self/cgroup");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.substr(0, a) == "0" && controllers.empty()) out.v2 = path;
    std::istringstream cs(controllers);
    std::string c;
    while (std::getline(cs, c, ',')) {
      if (c == "cpu") out.v1_cpu = path;
      if (c == "memory") out.v1_memory = path;
    }
  }
  return out;
}

std::optional<int64_t> read_int(const std::string& path) {
  auto t = read_file(path);
  if (!t) return std::nullopt;
  try {
    return std::stoll(trim(*t));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// ARM Ltd. (implementer 0x41) cores by part number, as the kernel's cputable and the cores'
// reference manuals number them.
std::string arm_core(unsigned part) {
  static const std::map<unsigned, const char*> names = {
      {0xd03, "Cortex-A53"},  {0xd04, "Cortex-A35"},  {0xd05, "Cortex-A55"},
      {0xd07, "Cortex-A57"},  {0xd08, "Cortex-A72"},  {0xd09, "Cortex-A73"},
      {0xd0a, "Cortex-A75"},  {0xd0b, "Cortex-A76"},  {0xd0c, "Neoverse-N1"},
      {0xd0d, "Cortex-A77"},  {0xd40, "Neoverse-V1"}, {0xd41, "Cortex-A78"},
      {0xd46, "Cortex-A510"}, {0xd47, "Cortex-A710"}, {0xd49, "Neoverse-N2"},
      {0xd4b, "Cortex-A78C"}};
  const auto it = names.find(part);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%03x", part);
  return it != names.end() ? it->second : std::string("part ") + hex;
}

// "key : value" lines of /proc/cpuinfo.
std::optional<std::string> cpuinfo_value(const std::string& line, std::string_view key) {
  const auto colon = line.find(':');
  if (colon == std::string::npos || trim(line.substr(0, colon)) != key) return std::nullopt;
  return trim(line.substr(colon + 1));
}

// What a label may hold (model.hpp's valid_label): printable ASCII, at most 128 bytes.
std::string as_label(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c >= 0x20 && c < 0x7f && out.size() < 128) out += c;
  return out.empty() ? "unknown CPU" : out;
}

}  // namespace

std::string CpuProbe::model_name() const {
  auto text = read_file(paths_.proc + "/cpuinfo");
  if (!text) return "unknown CPU";
  std::istringstream in(*text);
  std::string line, implementer;
  std::vector<std::string> arm;
  while (std::getline(in, line)) {
    if (auto v = cpuinfo_value(line, "model name"); v && !v->empty()) return as_label(*v);
    if (auto v = cpuinfo_value(line, "CPU implementer")) implementer = *v;
    if (auto v = cpuinfo_value(line, "CPU part")) {
      unsigned part = 0;
      if (std::sscanf(v->c_str(), "%x", &part) != 1) continue;
      const std::string core = implementer == "0x41" ? "ARM " + arm_core(part)
                                                     : "implementer " + implementer + " part " + *v;
      if (std::find(arm.begin(), arm.end(), core) == arm.end()) arm.push_back(core);
    }
  }
  std::string joined;
  for (const auto& c : arm) joined += (joined.empty() ? "" : " + ") + c;
  return as_label(joined);
}

int CpuProbe::online_cores() const {
  auto text = read_file(paths_.proc + "/stat");
  int n = 0;
  if (text) {
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.size() > 3 && line.compare(0, 3, "cpu") == 0 &&
          std::isdigit(static_cast<unsigned char>(line[3])))
        ++n;
    }
  }
  return n > 0 ? n : 1;
}

std::optional<double> CpuProbe::quota_cores() const {
  auto cg = cgroup_paths(paths_);
  if (cg.v2) {
    if (auto t = read_file(paths_.sys + "/fs/cgroup" + *cg.v2 + "/cpu.max")) {
      std::istringstream in(*t);
      std::string quota;
      int64_t period = 0;
      in >> quota >> period;
      if (quota != "max" && period > 0) {
        try {
          return static_cast<double>(std::stoll(quota)) / static_cast<double>(period);
        } catch (const std::exception&) {
        }
      }
    }
  }
  if (cg.v1_cpu) {
    const std::string dir = paths_.sys + "/fs/cgroup/cpu" + *cg.v1_cpu;
    auto quota = read_int(dir + "/cpu.cfs_quota_us");
    auto period = read_int(dir + "/cpu.cfs_period_us");
    if (quota && period && *quota > 0 && *period > 0)
      return static_cast<double>(*quota) / static_cast<double>(*period);
  }
  return std::nullopt;
}

double CpuProbe::usable_cores() const {
  double cores = online_cores();
  if (auto q = quota_cores()) cores = std::min(cores, *q);
  return cores;
}

Expected<double> CpuProbe::sample_busy() {
  auto text = read_file(paths_.proc + "/stat");
  if (!text) return Error{"probe", "cannot read " + paths_.proc + "/stat"};
  std::istringstream in(*text);
  std::string label;
  in >> label;
  if (label != "cpu") return Error{"probe", paths_.proc + "/stat does not start with the cpu line"};
  uint64_t v[10] = {};
  int n = 0;
  while (n < 10 && in >> v[n]) ++n;
  if (n < 4) return Error{"probe", paths_.proc + "/stat: cpu line has too few fields"};
  // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
  uint64_t total = 0;
  for (int i = 0; i < std::min(n, 8); ++i) total += v[i];
  const uint64_t idle = v[3] + (n > 4 ? v[4] : 0);
  const uint64_t dt = total - last_total_, di = idle - last_idle_;
  last_total_ = total;
  last_idle_ = idle;
  if (dt == 0) return 0.0;
  return std::clamp(1.0 - static_cast<double>(di) / static_cast<double>(dt), 0.0, 1.0);
}

int CpuProbe::free_nodes(double busy) const {
  const double busy_cores = busy * online_cores();
  return std::max(0, static_cast<int>(std::lround(usable_cores() - busy_cores)));
}

std::optional<std::pair<int64_t, int64_t>> MemoryProbe::cgroup_limit_and_usage() const {
  auto cg = cgroup_paths(paths_);
  if (cg.v2) {
    const std::string dir = paths_.sys + "/fs/cgroup" + *cg.v2;
    auto max = read_file(dir + "/memory.max");
    auto cur = read_int(dir + "/memory.current");
    if (max && trim(*max) != "max" && cur) {
      try {
        return std::pair{static_cast<int64_t>(std::stoll(trim(*max))), *cur};
      } catch (const std::exception&) {
      }
    }
  }
  if (cg.v1_memory) {
    const std::string dir = paths_.sys + "/fs/cgroup/memory" + *cg.v1_memory;
    auto limit = read_int(dir + "/memory.limit_in_bytes");
    auto usage = read_int(dir + "/memory.usage_in_bytes");
    // v1 reports "no limit" as a huge page-aligned number.
    if (limit && usage && *limit < (int64_t{1} << 60)) return std::pair{*limit, *usage};
  }
  return std::nullopt;
}

namespace {
Expected<int64_t> meminfo_kb(const std::string& proc, const std::string& key) {
  auto text = read_file(proc + "/meminfo");
  if (!text) return Error{"probe", "cannot read " + proc + "/meminfo"};
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size() + 1, key + ":") == 0) {
      try {
        return static_cast<int64_t>(std::stoll(line.substr(key.size() + 1)));
      } catch (const std::exception&) {
        break;
      }
    }
  }
  return Error{"probe", proc + "/meminfo has no readable " + key};
}
}  // namespace

Expected<int64_t> MemoryProbe::total_mb() const {
  auto kb = meminfo_kb(paths_.proc, "MemTotal");
  if (!kb) return kb;
  int64_t mb = *kb / 1024;
  if (auto cg = cgroup_limit_and_usage()) mb = std::min(mb, cg->first >> 20);
  return mb;
}

Expected<int64_t> MemoryProbe::free_mb() const {
  auto kb = meminfo_kb(paths_.proc, "MemAvailable");
  if (!kb) return kb;
  int64_t mb = *kb / 1024;
  if (auto cg = cgroup_limit_and_usage())
    mb = std::min(mb, std::max<int64_t>(0, (cg->first - cg->second) >> 20));
  return mb;
}

std::unique_ptr<RaplMeter> RaplMeter::open(const Clock& clock, ProbePaths paths) {
  auto counter = RaplCounter::open(paths.sys);
  if (!counter) return nullptr;  // absent or unreadable (not root): the caller uses the model
  return std::unique_ptr<RaplMeter>(new RaplMeter(clock, std::move(counter)));
}

double RaplMeter::sample_w(double) {
  const int64_t now = clock_.now_ms();
  if (now <= last_ms_) return last_w_;
  auto joules = counter_->joules_since_last();
  if (!joules) return last_w_;
  last_w_ = *joules / (static_cast<double>(now - last_ms_) / 1000.0);
  last_ms_ = now;
  return last_w_;
}

}  // namespace edgenas::agent
