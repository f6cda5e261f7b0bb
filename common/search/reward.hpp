#pragma once
// The search objective: accuracy under the latency requirement T (and an optional energy budget),
// in MnasNet's form ACC · (LAT/T)^w with the hard-constraint weights w = 0 when LAT ≤ T and
// w = −1 above it. Meeting T earns no bonus for being faster (T is the task's requirement, not a
// preference); missing it costs in proportion: a model twice too slow keeps half its accuracy
// as reward, so it ranks below any model that meets T with at least half the accuracy.
// The energy budget, when given, enters the same way.
#include <cmath>
#include <optional>

namespace edgenas::search {

struct Constraints {
  double latency_req_ms = 1000;
  std::optional<double> energy_budget_mj;
};

inline constexpr double kWeightWithin = 0.0;   // MnasNet α for LAT ≤ T
inline constexpr double kWeightBeyond = -1.0;  // MnasNet β for LAT > T

inline double reward(double accuracy, double latency_ms, double energy_mj, const Constraints& c) {
  double r = accuracy;
  if (latency_ms > c.latency_req_ms && c.latency_req_ms > 0) {
    r *= std::pow(latency_ms / c.latency_req_ms, kWeightBeyond);
  }
  if (c.energy_budget_mj && energy_mj > *c.energy_budget_mj && *c.energy_budget_mj > 0) {
    r *= std::pow(energy_mj / *c.energy_budget_mj, kWeightBeyond);
  }
  return r;
}

inline bool meets(double latency_ms, double energy_mj, const Constraints& c) {
  return latency_ms <= c.latency_req_ms &&
         (!c.energy_budget_mj || energy_mj <= *c.energy_budget_mj);
}

}  // namespace edgenas::search
