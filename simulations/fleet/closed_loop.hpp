#pragma once
// `edgenas-sim evaluate --closed-loop`: the loop as a fleet runs it. `evaluate` trains its
// predictor on traces that explore the whole grid at random, which a real fleet never produces;
// here the fleet starts on a policy (the cold-start rule, or the warm start with its simulated
// pool) and pools the traces of the replies it was served:
//
//   repeat: `round` requests from the training profiles' boxes, each answered by the serving
//           policy with the coordinator's exploration (coordinator/predictor/explore), searched
//           (simulated) and pooled; then a predictor is trained on the pool and goes through
//           the same gate as in the coordinator (held-out regret below the serving policy's);
//           the served reward / oracle on the held-out contexts (the serving policy's choice,
//           no exploration, fresh seeds) is one point of the curve.
//
// Writes closed_loop.json, closed_loop.md and closed_loop.svg into the output directory.
#include <functional>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/explore.hpp"
#include "coordinator/predictor/targets.hpp"
#include "simulations/fleet/evaluate.hpp"

namespace edgenas::sim {

struct ClosedLoopOptions {
  EvaluateOptions world;  // profiles, scenario, table, held-out contexts, seeds, out_dir, seed
  int round = 250;        // traces pooled between two trainings
  int traces = 2000;      // the loop stops once the pool holds this many
  predictor::ExploreConfig explore;
  // A warm-start directory (model.edgenasp, pool.jsonl): the loop starts serving it and pools
  // its simulated traces with the fleet's, as the coordinator does. Empty: the cold-start rule.
  std::string warm_start;
  // The rule that serves until a version does: by default the size-score rule, the deliberately
  // poor start the loop must leave (the latency-model rule starts at ~0.9 of the oracle).
  coordinator::ColdStartRule cold_start_rule = coordinator::ColdStartRule::size_score;
  predictor::GateRule gate;  // the coordinator's defaults
};

Expected<nlohmann::json> closed_loop(const ClosedLoopOptions& o,
                                     const std::function<void(const std::string&)>& progress);

}  // namespace edgenas::sim
