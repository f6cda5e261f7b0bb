#pragma once
// The coordinator's hyperparameter service once it learns from traces (docs/ARCHITECTURE.md,
// "The predictor"):
//   - serves the promoted predictor version (torch-free inference), and the cold-start policy
//     until a version has passed its gate or when the promoted one cannot be loaded;
//   - explores: a configured share of replies take a neighbour of the policy's choice or, for
//     a share of those, any space the box's T allows, thinly covered ones first (explore.hpp;
//     flagged `explore` in the reply, so in the trace), so the fleet keeps producing traces
//     that say something about other hyperparameters, far from its first policy too;
//   - retrains in the background, in a child process (edgenas-predictor, which links libtorch;
//     the coordinator does not), on a schedule, after N new traces, or when asked; a finished
//     training becomes a numbered version with its metrics, and is promoted automatically only
//     when it beats what serves now on the held-out traces by the configured margin;
//   - promote / rollback by hand (edgenasctl predictor …).
// Replies never wait for training: the child runs beside the io loop, which polls it.
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "common/util/clock.hpp"
#include "common/util/process.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/explore.hpp"
#include "coordinator/predictor/predictor_model.hpp"
#include "coordinator/predictor/targets.hpp"
#include "coordinator/store/trace_store.hpp"

namespace edgenas::predictor {

struct PredictorConfig {
  std::string dir;                     // versions are written to <dir>/v<N>/
  std::string trainer;                 // the edgenas-predictor binary; empty: no training here
  std::string database;                // what the trainer reads the traces from
  double explore = 0.1;                // share of replies that explore
  double explore_wide = 0.5;           // of those, the share that explore the whole grid
  int64_t retrain_every_ms = 0;        // 0: no schedule
  int64_t retrain_after_traces = 200;  // 0: not on trace count
  int64_t min_traces = 50;             // below this, no training starts
  // The gate ([predictor] gate_margin, gate_tolerance): a new version serves unless its held-out
  // regret is above the serving one's by more than tolerance standard errors, less margin.
  GateRule gate;
  bool auto_promote = true;
  std::string train_budget = "2m";  // the trainer's own NAS budget
  std::string targets = "knn";      // the trainer's targets: knn | outcome | progress
  // A version trained in simulation (edgenas-sim warm-start: model.edgenasp, metrics.json,
  // pool.jsonl) that a store without versions imports and serves from its first request;
  // retrainings pool its simulated traces with the fleet's. Empty: off (the rule serves, and
  // a warm start imported earlier no longer serves or pools).
  std::string warm_start;
  // The rule that serves when no version does, and that a first version must beat.
  coordinator::ColdStartRule cold_start_rule = coordinator::ColdStartRule::latency_model;
  int64_t train_timeout_ms = 3'600'000;  // a training running longer is killed
  // The training child's CPU priority: false, nice 10 (it still gets a share on a saturated
  // machine, as in edgenas-sim and the demo, where fleet and coordinator share the cores);
  // true, SCHED_IDLE (it runs only on CPU time nobody else wants: a coordinator serving a large
  // fleet on few cores, docs/BENCHMARKS.md "Coordinator tail").
  bool train_idle = false;
  // Canary rollouts: the canary is rolled back when its mean trace reward is below the
  // baseline's by more than the margin, once both have at least min_traces traces.
  int64_t rollout_min_traces = 20;
  double rollout_margin = 0.05;
  int64_t rollout_check_every_ms = 10'000;
};

class PredictorService final : public coordinator::HparamService,
                               public coordinator::PredictorControl {
 public:
  PredictorService(const Clock& clock, coordinator::TraceStore& store, PredictorConfig cfg,
                   ChildLauncher& launcher);

  // Loads the promoted version from the store; when its file is unusable, the error is logged,
  // the version marked failed, and the cold-start policy serves.
  Status start();
  // Retraining triggers and the training child; traces_stored is the store's trace count.
  void tick(int64_t traces_stored);

  proto::HparamReply choose(std::string_view agent_id, const proto::HparamRequest& req) override;
  std::string describe() const override;
  int serving_version() const { return model_ ? model_->version : 0; }
  bool training() const { return training_.has_value(); }
  // Training runs since start by outcome: started, failed, candidate, rejected.
  const std::map<std::string, int64_t>& training_runs() const { return training_runs_; }
  bool last_training_failed() const { return last_failure_.has_value(); }

  Expected<nlohmann::json> list() override;
  Expected<nlohmann::json> show(int version) override;
  Expected<nlohmann::json> train(const std::string& reason) override;
  Expected<nlohmann::json> promote(int version, const std::string& reason) override;
  Expected<nlohmann::json> rollback() override;
  Expected<nlohmann::json> rollout(int version, double share, const std::string& reason) override;
  Expected<nlohmann::json> fleet_status(const std::vector<std::string>& agents) override;
  // Whether an agent is in the canary share: a stable hash of its id (the same on every build).
  static bool in_canary(std::string_view agent_id, double share);
  int rollout_version() const { return rollout_ ? rollout_->row.version : 0; }
  int64_t automatic_rollbacks() const { return rollbacks_; }

  // The hyperparameters for a context, without exploration (the simulator's evaluation).
  Hyperparameters best_for(const Context& ctx, uint32_t seed) const;

 private:
  Status load_and_serve(int version);
  Status import_warm_start();
  void find_pool(const std::vector<coordinator::PredictorVersion>& versions);
  Expected<std::shared_ptr<const PredictorModel>> load_version(int version);
  struct Outcomes {
    int64_t traces = 0, met = 0;
    double reward_sum = 0;
    double mean() const { return traces ? reward_sum / static_cast<double>(traces) : 0; }
  };
  static bool count_outcome(const Trace& t, const coordinator::Rollout& r, Outcomes& canary,
                            Outcomes& baseline);
  void check_rollout();
  void end_rollout(const std::string& state, const std::string& note);
  // Saves a rollout row and forgets the kept list of them.
  Status save_rollout(coordinator::Rollout& r);
  // Save a version row or a promotion, and forget the kept list of versions.
  Status save_version(const coordinator::PredictorVersion& v);
  Status record_promotion(int version, const std::string& reason);
  void finish_training(const ChildExit& exit);
  // Pooled traces per grid point as of the serving version's training (empty: cold start).
  Coverage coverage_;
  std::string pool_;  // the warm start's simulated traces, pooled by retrainings ("": none)

  const Clock& clock_;
  coordinator::TraceStore& store_;
  PredictorConfig cfg_;
  ChildLauncher& launcher_;
  coordinator::ColdStartPolicy cold_start_;
  std::shared_ptr<const PredictorModel> model_;

  struct Training {
    int version = 0;
    int handle = -1;
    int64_t started_ms = 0;
    std::string reason;
    int64_t traces = 0;  // in the store when it started
  };
  std::optional<Training> training_;
  struct ActiveRollout {
    coordinator::Rollout row;
    std::shared_ptr<const PredictorModel> model;
    Outcomes canary, baseline;
    int64_t cursor_ms = 0;  // the last trace counted (keyset paging through the store)
    std::string cursor_id;
  };
  std::optional<ActiveRollout> rollout_;
  // Every rollout as the store holds them, read once after each change: fleet_status is on the
  // web console's path, and a store read on the io thread can wait out a slow commit.
  std::optional<std::vector<coordinator::Rollout>> rollouts_;
  // The same for the versions (list() is what the console's Predictor page polls).
  std::optional<std::vector<coordinator::PredictorVersion>> versions_;
  int64_t next_rollout_check_ms_ = 0;
  int64_t rollbacks_ = 0;
  int64_t traces_at_last_training_ = -1;
  // The last training that failed, and on how many traces: the triggers do not start another
  // on the same pool (it would fail the same way); a manual `predictor train` still may.
  struct Failure {
    int version = 0;
    std::string note;
    int64_t traces = 0;
    int64_t at_ms = 0;
  };
  std::optional<Failure> last_failure_;
  nlohmann::json failure_json() const;  // null when the last training did not fail
  std::map<std::string, int64_t> training_runs_{
      {"started", 0}, {"failed", 0}, {"candidate", 0}, {"rejected", 0}};
  int64_t next_scheduled_ms_ = 0;
};

}  // namespace edgenas::predictor
