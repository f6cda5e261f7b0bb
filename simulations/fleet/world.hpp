#pragma once
// The simulated world: boxes of a device profile whose Job queue follows a scenario and whose
// Source matrix comes from the agent's own simulated probe plugin; and a NAS run on such a box,
// simulated with the shared search engine and the surrogate evaluator, mirroring
// edgenas-search (target device, latency pruning at 3 T, trials at low fidelity within 75 % of
// the budget, then a final training of the best architecture with the rest).
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agent/probes/sampler.hpp"
#include "common/model/profile.hpp"
#include "common/protocol/schema.hpp"
#include "simulations/fleet/scenario.hpp"
#include "simulations/surrogate/surrogate.hpp"

namespace edgenas::sim {

// The data set every simulated box trains on: the meter digits the surrogate was fitted on.
DatasetShape meter_digits();

class SimBox {
 public:
  SimBox(std::string id, DeviceProfile profile, const Scenario& scenario, uint64_t seed);
  // Moves the queue to simulated time t_ms (arrivals and departures since the last call).
  void advance(int64_t t_ms);
  const JobMatrix& queue() const { return queue_; }
  Context context(int64_t t_ms);  // the Job and Source matrices now, and the data set's shape
  const DeviceProfile& profile() const { return profile_; }
  const std::string& id() const { return id_; }
  std::vector<DeviceInfo> devices() { return sampler_.devices(); }
  SourceMatrix source(int64_t t_ms);

 private:
  JobTask new_task();
  std::string id_;
  DeviceProfile profile_;
  const Scenario& scenario_;
  std::mt19937_64 rng_;
  ManualClock clock_;
  agent::SimulatedSampler sampler_;
  JobMatrix queue_;
  std::vector<int64_t> leaves_at_;  // per queued task
  int64_t now_ms_ = 0;
  int64_t next_arrival_ms_ = 0;
  uint64_t task_counter_ = 0;
};

struct SearchOutcome {
  std::string device;
  bool latency_modelled = true;
  double accuracy = 0;  // the final model's (test) accuracy
  double latency_ms = 0;
  double estimated_ms = 0;  // the same as the search saw it (SimSearchOptions::latency)
  bool met_latency = false;
  double energy_mj = 0;  // per inference
  int trials = 0;
  double search_s = 0;   // simulated wall clock on the box
  double compute_s = 0;  // core-seconds of the box's CPU spent training
  double search_energy_j = 0;
  double reward = 0;  // the trace reward (coordinator/predictor/targets.hpp)
  // (compute_s so far, reward if the search stopped here and trained its best), per trial.
  std::vector<std::pair<double, double>> curve;
  // What the box reports in its trace: the search's own best reward by compute (progress_of).
  std::optional<ProgressCurve> progress;
  std::optional<ParetoFront> pareto;  // its accuracy/latency front (trace_pareto)
};

struct SimSearchOptions {
  int64_t budget_ms = 600'000;
  std::string strategy = "evolution";
  int trial_images = 4000;
  // The final model's accuracy with the surrogate's seed-to-seed noise (what a box would
  // measure, for traces), or its expected value (the evaluation's table: a maximum over noisy
  // outcomes would flatter the oracle).
  bool noisy_final = true;
  // A search on a device whose latency the box cannot measure (issue 19, item 5): the target,
  // the latency the search sees of a candidate (`estimate`: a model), the one the delivered
  // network has there (`truth`: what the device would measure), and the bound the search holds
  // the estimate to (T × bound_factor: a learned model's margin). Unset: the target the context
  // chooses, and the profile's FLOPs model for both.
  struct Latency {
    std::string device;
    std::function<double(const search::ArchSpec&)> estimate, truth;
    double bound_factor = 1;
  };
  std::optional<Latency> latency;
};

// The device a simulated search on a box of `profile` targets in `ctx` (as edgenas-search
// chooses: search::choose_target_device over the CPU and the modelled accelerators).
std::string simulated_target_device(const DeviceProfile& profile, const Context& ctx);

SearchOutcome simulate_search(const Surrogate& surrogate, const DeviceProfile& profile,
                              const Context& ctx, const Hyperparameters& hp, uint64_t seed,
                              const SimSearchOptions& options = {});

// The Trace an agent would send for that outcome.
Trace outcome_trace(const std::string& trace_id, const Context& ctx,
                    const proto::HparamReply& reply, const SearchOutcome& o, int64_t now_wall_ms);

// A simulated world loaded from its files: device profiles, the scenario, the surrogate, and
// how searches in it are simulated (noisy: as a box measures them, for traces; expected: the
// evaluations' tables, where a maximum over noisy outcomes would flatter the oracle).
struct WorldFiles {
  std::string profiles_dir, scenario_path, table_path;
  std::vector<std::string> profiles;  // the device profiles to load (<name>.toml)
};
struct World {
  std::map<std::string, DeviceProfile> profiles;
  std::unique_ptr<Scenario> scenario;
  std::unique_ptr<Surrogate> surrogate;
  SimSearchOptions noisy, expected;
};
Expected<World> load_world(const WorldFiles& files);

// Traces of a simulated fleet of 20 boxes per profile (the predictor's training data in the
// evaluation and the warm start): contexts from the scenario; hyperparameters from the
// size-score cold-start rule (a share cold_share of them: the small spaces a young fleet's
// traces held, which the grid's uniform draw rarely gives; kept when the latency-model rule
// replaced it on 2026-12-01, so the warm start learned from the same traces) or anywhere on
// the grid (what exploration gives); outcomes from simulated NAS runs. Reproducible from the seed,
// on any thread count.
std::vector<Trace> simulate_training_traces(const World& w,
                                            const std::vector<std::string>& profiles, int n,
                                            uint64_t seed, int threads, double cold_share = 0.3);

}  // namespace edgenas::sim
