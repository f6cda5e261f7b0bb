#pragma once
// The fleet's learned latency models in the meter world (issue 19, item 5): boxes whose search
// targets a device they cannot measure (the Atlas 200 DK's NPU, the Jetson Nano's GPU, another
// board's CPU). Each device of the world's profiles has a device truth that is not a FLOPs line
// (its roofline, simulations/fleet/roofline.hpp; modelled). Each device kind is held out in
// turn: the fleet has measured networks of the meter space on every other kind (noisy), and k
// of the held-out one; the transfer model (common/search/learned_latency) predicts the rest.
// Reported per kind, beside the profile's FLOPs line (what a box uses without the fleet's
// model): Spearman ρ, median error, within ±10 %, and simulated searches on a box of that
// profile (T at quantiles of the device's latencies) that see the latency as measured, from
// the FLOPs line, or learned (within T · (1 − margin)): of the settings in which the search that
// measured found a network within T, how many of the others deliver one that truly is, and the
// accuracy they give up against the search that measured.
//
// The grounding of the truths, when given measurements: the roofline fitted on the surrogate
// table's measured latencies (this machine's CPU, the meter space) and on a NAS-Bench-201
// column (the Raspberry Pi 4's), against the FLOPs line on the same data.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas::sim {

struct MeterLatencyOptions {
  std::string profiles_dir, scenario_path, table_path;  // the meter world
  std::vector<std::string> profiles{"atlas200dk", "jetson-nano", "rpi4", "rpi-zero2w", "x86-edge"};
  std::vector<int> samples{10, 100};  // measured networks of the held-out kind
  int networks = 2000;                // networks each other kind has measured
  int draws = 5;                      // random draws of the k networks
  int searches = 4;                   // simulated searches per T quantile, draw and estimate
  int searches_k = 10;                // the k those searches know
  std::vector<double> t_quantiles{0.1, 0.3, 0.5, 0.7, 0.9};
  double noise = 0.03;  // a measurement's spread (log-normal σ) around the truth
  uint64_t seed = 1;
  int threads = 2;
  std::string nb201_path, nb201_column = "help_raspi4";  // grounding (optional)
  std::string out_dir;                                   // meter-latency.md and .json
};

Expected<nlohmann::json> evaluate_meter_latency(
    const MeterLatencyOptions& o, const std::function<void(const std::string&)>& progress);

}  // namespace edgenas::sim
