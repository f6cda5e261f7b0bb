#pragma once
// `edgenas-sim evaluate --world nb201:PATH`: the evaluation of simulations/fleet/evaluate.hpp on
// the NAS-Bench-201 table (docs/ARCHITECTURE.md, "The NAS-Bench-201 world").
//
// 1. Traces from boxes of the training devices (every device column but the held-out ones):
//    T drawn across the device's latency range; hyperparameters from the cold-start rule (30 %)
//    or anywhere on the grid; outcomes from table searches with seed-to-seed noise.
// 2. Held-out contexts: contexts_per_device per device column, held-out devices included, T
//    stratified from the device's 5 % to its 95 % latency quantile (tight to loose).
// 3. Per context, every distinct bound of the space (Layers → convolution edges 0..6, Kernel →
//    1 or 3: 14 grid cells, 13 distinct spaces) searched `seeds` times on selection seeds and
//    `seeds` times on fresh ones. The oracle's bound is the best mean reward on the selection
//    seeds; every method is scored on the fresh seeds.
// 4. Methods: the predictor trained on the traces, the widest space (the whole benchmark),
//    a random grid point, the cold-start rule, the oracle. Per method: reward / oracle, share
//    meeting T, the regret in accuracy points against the best cell of the whole table within
//    T, and the queries to come within 0.5 points of it (median of long_seeds searches with
//    4x the query budget); overall, per device, on the held-out devices.
// 5. report.md with SVG plots, summary.json, contexts.json.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"
#include "simulations/nb201/world.hpp"

namespace edgenas::sim {

struct Nb201EvaluateOptions {
  std::string table_path, out_dir;
  std::string dataset = "cifar10";
  // Devices never in the training traces; empty: every fourth device column from the fourth.
  std::vector<std::string> heldout_devices;
  int contexts_per_device = 4;
  // Held-out contexts at these (device column, T in ms) instead (e.g. a published search's).
  std::vector<std::pair<std::string, double>> contexts_at;
  int traces = 2000;
  std::vector<int> curve{300, 1000, 2000};
  int seeds = 3;       // table searches per (context, bound) for selection, and again fresh
  int long_seeds = 5;  // longer searches per (context, method) for the queries to 0.5 points
  Nb201SearchOptions search;
  int64_t predictor_budget_ms = 600'000;
  int predictor_trials = 100;
  std::string targets = "outcome";
  int threads = 2;
  uint64_t seed = 1;
};

Expected<nlohmann::json> evaluate_nb201(const Nb201EvaluateOptions& o,
                                        const std::function<void(const std::string&)>& progress);

}  // namespace edgenas::sim
