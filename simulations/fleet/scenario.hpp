#pragma once
// Workload scenarios (TOML, simulations/scenarios/): how each simulated box's Job queue moves
// (task arrivals and departures, their runtime/energy/nodes and latency requirement), how
// often a box runs a NAS and with what budget, how boxes join and leave, and how much faster
// than real time `edgenas-sim run` plays it. The daily load swing is the device profile's.
// Strict like the profiles: unknown keys, missing sections and bad ranges are errors.
#include <string>

#include "common/util/expected.hpp"

namespace edgenas::sim {

struct Range {
  double min = 0, max = 0;  // drawn log-uniformly (latencies, runtimes, energies span decades)
};

struct Scenario {
  std::string name, description;
  // [tasks]
  double arrivals_per_hour = 4;  // per box, Poisson
  int64_t mean_lifetime_ms = 7'200'000;
  int max_queued = 8;
  Range latency_req_ms{2, 500};
  Range runtime_ms{5, 200};  // of a run on the box's CPU; accelerators run it accel_speedup× faster
  Range energy_j{0.01, 2};
  Range nodes{1, 4};
  double accel_speedup = 5;
  // [search]
  int64_t search_every_ms = 1'800'000;  // each box starts a NAS this often (exponential)
  int64_t search_budget_ms = 600'000;   // simulated wall-clock budget of one NAS
  // [fleet]
  double join_per_hour = 0;   // share of the fleet joining per hour (late starters)
  double leave_per_hour = 0;  // share leaving per hour (they disconnect, stay known)
  double time_scale = 60;     // simulated seconds per real second in `run`
};

Expected<Scenario> load_scenario(const std::string& path);
Expected<Scenario> parse_scenario(const std::string& toml_text, const std::string& origin);

}  // namespace edgenas::sim
