#pragma once
// Small helpers the evaluations' reports share: a median, fixed-point formatting, the learning
// curve's Markdown table.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/rank_stats.hpp"

namespace edgenas::sim {

using edgenas::median;  // common/util/rank_stats.hpp

inline std::string fixed(double v, int p = 3) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", p, v);
  return b;
}

inline std::string pct(double v) {
  return fixed(100 * v, 1) + " %";
}

// "## Learning curve" and its table from [{traces, normalised_reward | error}].
inline std::string learning_curve_markdown(const nlohmann::json& learning) {
  std::string md = "\n## Learning curve\n\n| traces | predictor reward / oracle |\n|---:|---:|\n";
  for (const auto& p : learning)
    md += "| " + p["traces"].dump() + " | " +
          (p.contains("normalised_reward") ? fixed(p["normalised_reward"].get<double>())
                                           : "error: " + p.value("error", std::string())) +
          " |\n";
  return md;
}

}  // namespace edgenas::sim
