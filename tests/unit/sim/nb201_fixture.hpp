#pragma once
// A table of the NAS-Bench-201 schema with devices and a data set of other names (none of the
// shipped table's), made from the cells' own FLOPs: the world must work on it without changes.
#include <filesystem>
#include <fstream>
#include <string>

#include "common/search/nb201_space.hpp"

namespace edgenas::sim {

inline std::string write_synthetic_nb201(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/other-devices.csv";
  std::ofstream f(path);
  f << "id,arch_str,kiosk_a_ms,acc_digits_test,kiosk_b_ms,slow_cam_ms\n";
  for (int i = 0; i < 15'625; ++i) {
    const auto c = search::Nb201Cell::at(i);
    const double flops = search::nb201_cost(c).flops_m;
    const double wobble = static_cast<double>((i * 7919) % 101) / 100.0;  // 0..1, deterministic
    const double acc = 60 + 30 * flops / 220.0 + 5 * c.conv_edges() / 6.0 - 3 * wobble;
    f << i << "," << c.key() << "," << 1 + flops / 20 + wobble << "," << acc << ","
      << 0.5 + flops / 80 << "," << 5 + flops / 2 + 4 * wobble << "\n";
  }
  return path;
}

}  // namespace edgenas::sim
