#pragma once
// Intel/AMD RAPL package energy counters (/sys/class/powercap/intel-rapl:N/energy_uj), summed
// over packages and unwrapped at max_energy_range_uj. Used for the box's average power (agent
// probes) and for the energy of one inference (the NAS evaluator). Sub-zones (intel-rapl:N:M)
// are parts of a package and not counted again.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/util/expected.hpp"

namespace edgenas {

class RaplCounter {
 public:
  // Null when no package counter exists or one is unreadable (not root, no RAPL in a VM).
  static std::unique_ptr<RaplCounter> open(const std::string& sys_root = "/sys");
  // Joules consumed by all packages since the previous call (0 on the first call after open).
  Expected<double> joules_since_last();

 private:
  explicit RaplCounter(std::vector<std::string> zones) : zones_(std::move(zones)) {}
  Expected<std::pair<uint64_t, uint64_t>> read_zone(const std::string& zone) const;
  std::vector<std::string> zones_;
  std::vector<uint64_t> last_uj_;
};

}  // namespace edgenas
