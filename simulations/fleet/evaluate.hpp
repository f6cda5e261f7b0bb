#pragma once
// `edgenas-sim evaluate`: does predictor-chosen search space beat one-size-fits-all NAS?
//
// 1. A simulated fleet of training profiles produces traces: contexts from the scenario,
//    hyperparameters from the cold-start rule (30 %) or anywhere on the grid (70 %, what
//    exploration gives), outcomes from simulated NAS runs (surrogate + latency model).
// 2. Held-out contexts from every profile, including one the predictor never saw.
// 3. For each held-out context, every point of the hyperparameter grid is searched `seeds`
//    times: the oracle's point is the one with the best mean reward (exhaustive search over the
//    grid). Methods: the predictor trained on the traces, the widest default space, a random
//    grid point, the cold-start rule, the oracle. Every method's point (the oracle's too) is
//    then searched `seeds` more times with fresh seeds, and the scores come from those: on the
//    seeds it was picked with, the oracle's maximum over hundreds of noisy means flatters it.
// 4. Metrics per method and per profile: reward normalised by the oracle's point's, share of
//    searches whose model meets T, NAS compute to reach 95 % of the oracle's reward (the median
//    of compute_seeds longer searches on seeds of neither set: one search is mostly luck; the
//    ratio to the default's counts contexts where only one got there at their bound),
//    search energy; the learning curve (predictors trained on growing numbers of traces); the
//    ratio on the oracle's own seeds beside the headline.
// 5. A Markdown report with SVG plots, summary.json and contexts.json (every context's choices
//    and scores), reproducible from the seed.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"
#include "coordinator/predictor/trainer.hpp"
#include "simulations/fleet/world.hpp"

namespace edgenas::sim {

struct EvaluateOptions {
  std::string profiles_dir, scenario_path, table_path, out_dir;
  std::vector<std::string> train_profiles{"atlas200dk", "jetson-nano", "rpi4"};
  std::string heldout_profile = "x86-edge";  // never in the training traces
  int contexts = 40;                         // held-out contexts
  int traces = 2000;                         // training traces (the learning curve's end)
  std::vector<int> curve{100, 300, 1000, 2000};
  int seeds = 2;          // searches per (context, hyperparameters)
  int compute_seeds = 5;  // longer searches per (context, method) for the compute to 95 %
  // The predictor's own NAS stops after a number of trials; the wall-clock budget is only a cap
  // (when it binds, the result depends on the load).
  int64_t predictor_budget_ms = 600'000;
  int predictor_trials = 100;
  std::string targets = "outcome";  // the predictor's training targets (knn | outcome | progress)
  int grid_stride = 1;              // >1 (tests): only every k-th grid point is searched
  std::string warm_start_model;     // a predictor trained elsewhere, scored as "warm-start"
  int threads = 2;
  uint64_t seed = 1;
};

// Per context, a method's compute to 95 % over the baseline's (NAN: never got there within the
// longer searches). Censored contexts count with their bound, so that the median neither drops
// the method's failures nor the baseline's: where only the method never got there, infinity;
// where only the baseline never did, the method's compute over all the baseline's searches spent
// (baseline_spent), an upper bound. Contexts where neither got there are left out.
std::vector<double> censored_ratios(const std::vector<double>& method,
                                    const std::vector<double>& baseline,
                                    const std::vector<double>& baseline_spent);

// A predictor trained the way the evaluations train theirs, on the first n traces (both worlds).
Expected<predictor::TrainerResult> train_on_first(const std::vector<Trace>& traces, int n,
                                                  int64_t budget_ms, int trials,
                                                  const std::string& targets, uint64_t seed,
                                                  int threads);

// The world's files: the training profiles and the held-out one.
WorldFiles world_files(const EvaluateOptions& o);

Expected<nlohmann::json> evaluate(const EvaluateOptions& o,
                                  const std::function<void(const std::string&)>& progress);

}  // namespace edgenas::sim
