#pragma once
// Small SVG charts for the simulator's report: lines (x/y series) and grouped bars.
#include <string>
#include <utility>
#include <vector>

namespace edgenas::sim {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

std::string line_chart(const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Series>& series,
                       bool log_x = false);
// groups × series bars (values[g][s]), with a dashed reference line at `target` (0: none).
std::string bar_chart(const std::string& title, const std::string& y_label,
                      const std::vector<std::string>& groups,
                      const std::vector<std::string>& series,
                      const std::vector<std::vector<double>>& values, double y_min, double y_max,
                      double target = 0);

}  // namespace edgenas::sim
