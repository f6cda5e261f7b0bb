#include "common/util/rapl.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace edgenas {

std::unique_ptr<RaplCounter> RaplCounter::open(const std::string& sys_root) {
  std::vector<std::string> zones;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(sys_root + "/class/powercap", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("intel-rapl:", 0) == 0 && name.find(':', 11) == std::string::npos)
      zones.push_back(e.path().string());
  }
  if (zones.empty()) return nullptr;
  std::sort(zones.begin(), zones.end());
  std::unique_ptr<RaplCounter> c(new RaplCounter(zones));
  for (const auto& z : zones) {
    auto r = c->read_zone(z);
    if (!r) return nullptr;
    c->last_uj_.push_back(r->first);
  }
  return c;
}

Expected<std::pair<uint64_t, uint64_t>> RaplCounter::read_zone(const std::string& zone) const {
  std::ifstream e(zone + "/energy_uj"), r(zone + "/max_energy_range_uj");
  uint64_t uj = 0, range = 0;
  if (!(e >> uj) || !(r >> range) || range == 0)
    return Error{"probe", "cannot read " + zone + "/energy_uj"};
  return std::pair{uj, range};
}

Expected<double> RaplCounter::joules_since_last() {
  double joules = 0;
  for (std::size_t i = 0; i < zones_.size(); ++i) {
    auto r = read_zone(zones_[i]);
    if (!r) return r.error();
    const auto [uj, range] = *r;
    const uint64_t delta = uj >= last_uj_[i] ? uj - last_uj_[i] : range - last_uj_[i] + uj;
    last_uj_[i] = uj;
    joules += static_cast<double>(delta) / 1e6;
  }
  return joules;
}

}  // namespace edgenas
