#pragma once
// `edgenas-sim warm-start`: the predictor version a new coordinator serves before its fleet
// has pooled any traces (docs/ARCHITECTURE.md, "The warm start"). It is trained, as the
// evaluation's predictor is, on traces of a simulated fleet (every training profile, the
// scenario's range of T, queues, free resources and data set size) and marked as trained in
// simulation in the model file itself, so every reply it gives says so.
//
// Writes into the output directory:
//   model.edgenasp  the predictor (meta.trained_in = "simulation", with its provenance)
//   metrics.json    the trainer's held-out scores (on simulated traces), provenance, command
//   pool.jsonl      the simulated traces it was trained on, one Trace (JSON) per line: the
//                   coordinator's retrainings pool them with the fleet's own traces
// Reproducible from the seed: the traces exactly; the model as far as libtorch's float sums
// are (the trainer runs one intra-op thread).
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"
#include "simulations/fleet/evaluate.hpp"

namespace edgenas::sim {

struct WarmStartOptions {
  EvaluateOptions world;  // files, training profiles, traces, predictor trials, targets, seed
  std::string out_dir;
};

Expected<nlohmann::json> build_warm_start(const WarmStartOptions& o,
                                          const std::function<void(const std::string&)>& progress);

}  // namespace edgenas::sim
