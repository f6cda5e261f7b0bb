#pragma once
// Training one predictor version from traces (libtorch, through common/ml): features and
// targets, the predictor's own architecture search with the shared search engine (an MLP
// evaluator), the final training, and the held-out scores the coordinator's gate compares.
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/predictor_model.hpp"
#include "coordinator/predictor/targets.hpp"

namespace edgenas::predictor {

inline constexpr std::size_t kFleetHeldoutAlone = 100;

struct TrainerOptions {
  int version = 1;
  int64_t budget_ms = 120'000;  // the predictor NAS's wall clock (the final training comes after)
  int max_trials = 0;           // 0: budget only
  std::string targets = "knn";  // knn | outcome | progress (targets.hpp)
  bool compare = false;         // also train with the other targets and report both
  double heldout_share = 0.2;
  int k = 8;  // neighbours for targets and scoring
  uint64_t seed = 1;
  int workers = 2;
  const PredictorModel* baseline = nullptr;  // the version serving now, scored alongside
  std::vector<std::string> agent_ids;        // per trace, the box that ran it (empty: not known)
  std::vector<int64_t> received_ms;  // per trace, when the coordinator stored it (empty: not known)
  // The warm start's simulated traces: they train (the part the warm start trained on), and
  // their held-out part is scored beside the fleet's until the fleet holds out
  // kFleetHeldoutAlone traces of its own; from then on the gate judges on the fleet's alone.
  std::vector<Trace> pool;
  // The rule the held-out scores compare with (the gate's bar while no version serves).
  coordinator::ColdStartRule cold_start_rule = coordinator::ColdStartRule::latency_model;
  const std::atomic<bool>* stop = nullptr;
  std::function<void(const nlohmann::json&)> progress;  // one event per NAS trial
};

struct TrainerResult {
  PredictorModel model;
  nlohmann::json metrics;
};

Expected<TrainerResult> train_predictor(const std::vector<Trace>& traces, const TrainerOptions& o);

}  // namespace edgenas::predictor
