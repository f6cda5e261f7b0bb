#pragma once
// `edgenas-search run`: the NAS inside the pushed bounds, then the final training of the best
// architecture, the test, and the outputs (docs/ARCHITECTURE.md, "edgenas-search run").
#include <atomic>
#include <cstdint>
#include <string>

namespace edgenas::searchcli {

enum class ProgressMode { auto_detect, tty, log, json };

struct RunOptions {
  std::string hparams_path, context_path, data_spec, out_dir;
  std::string test_spec;  // a separate test set; empty: 15 % of data_spec is held out
  int64_t budget_ms = 600'000;
  int max_trials = 0;
  std::string strategy = "evolution";
  int workers = 2;
  int epochs = 1;               // per trial (successive halving: the lowest rung)
  int trial_images = 10'000;    // training images a trial sees per epoch (a fraction of a big set)
  double final_share = 0.25;    // of the budget kept for training the best architecture longer
  int final_max_epochs = 1000;  // in effect: as many as the rest of the budget allows
  int final_epochs = 0;         // with a trial budget alone (budget_ms 0): final epochs; 0 = none
  std::string device = "auto";  // target device: auto, cpu, npu0, gpu0, ...
  std::string profile_path;     // device profile: latency model of devices not on this machine
  bool model_cpu = false;       // the box's CPU is not this machine's: model it from the profile
  // The fleet's latency models (the agent keeps the newest it was sent): a target this machine
  // cannot measure whose profile names a kind with a model past its gate is predicted by it
  // rather than modelled from FLOPs. Empty: none.
  std::string latency_models_path;
  double energy_budget_mj = 0;  // 0 = no energy constraint
  // The box's current model (an earlier run's best.edgenas on the same data): scored beside
  // this run's model on the same split and target; results.json's `incumbent` says which is
  // better, and the box keeps that one. Empty: none.
  std::string incumbent_path;
  // Also write the delivered model as ONNX (out/best.onnx); results.json's `onnx` names the
  // file, or says why it could not be written (the run still delivers best.edgenas).
  bool export_onnx = false;
  ProgressMode progress = ProgressMode::auto_detect;
  int64_t progress_interval_ms = 0;  // trainings under way reported this often; 0: by mode
};

// Exit code: 0 ok (also after a stop with a best model), 1 failed, 2 usage or input error.
int run_command(const RunOptions& options, const std::atomic<bool>& stop);

}  // namespace edgenas::searchcli
