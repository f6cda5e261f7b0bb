#include "simulations/fleet/warm_start.hpp"

#include <filesystem>
#include <fstream>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "coordinator/predictor/pool.hpp"
#include "coordinator/predictor/trainer.hpp"

namespace edgenas::sim {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Where the version came from, in the model file and in its metrics.
json provenance(const WarmStartOptions& o) {
  return json{{"seed", o.world.seed},
              {"traces", o.world.traces},
              {"profiles", o.world.train_profiles},
              {"scenario", fs::path(o.world.scenario_path).filename().string()},
              {"targets", o.world.targets},
              {"predictor_trials", o.world.predictor_trials},
              {"command", "edgenas-sim warm-start --seed " + std::to_string(o.world.seed) +
                              " --traces " + std::to_string(o.world.traces) + " --out DIR"}};
}

}  // namespace

Expected<json> build_warm_start(const WarmStartOptions& o,
                                const std::function<void(const std::string&)>& progress) {
  auto world = load_world(world_files(o.world));
  if (!world) return world.error();
  if (auto s = files::create_dirs(o.out_dir); !s) return s.error();
  progress("simulating " + std::to_string(o.world.traces) + " searches on " +
           std::to_string(o.world.train_profiles.size()) + " device profiles");
  const auto traces = simulate_training_traces(*world, o.world.train_profiles, o.world.traces,
                                               o.world.seed, o.world.threads);
  progress("training the warm-start predictor (" + std::to_string(o.world.predictor_trials) +
           " trials of its own NAS)");
  predictor::TrainerOptions to;
  to.budget_ms = o.world.predictor_budget_ms;
  to.max_trials = o.world.predictor_trials;
  to.targets = o.world.targets;
  to.seed = o.world.seed;
  to.workers = o.world.threads;
  auto r = predictor::train_predictor(traces, to);
  if (!r) return r.error();
  const json from = provenance(o);
  r->model.meta[predictor::kTrainedInKey] = predictor::kTrainedInSimulation;
  r->model.meta["provenance"] = from;
  r->metrics[predictor::kTrainedInKey] = predictor::kTrainedInSimulation;
  r->metrics["provenance"] = from;
  if (auto s = predictor::save_predictor(o.out_dir + "/model.edgenasp", r->model); !s)
    return s.error();
  if (auto s = files::write_json_atomic(o.out_dir + "/metrics.json", r->metrics); !s)
    return s.error();
  if (auto s = predictor::write_trace_pool(o.out_dir + "/pool.jsonl", traces); !s) return s.error();
  return json{{"out", o.out_dir},
              {"traces", traces.size()},
              {"architecture", r->metrics["architecture_key"]},
              {"heldout", r->metrics["heldout"]}};
}

}  // namespace edgenas::sim
