#pragma once
// `edgenas-search train`: one given architecture trained for the whole budget with the run's
// own trainer, then tested and measured like a search's model. A baseline for the search
// (bench/search_vs_baseline.sh), or a known network trained on new data.
#include <atomic>
#include <cstdint>
#include <string>

#include "agent/search/run.hpp"

namespace edgenas::searchcli {

struct TrainCommandOptions {
  std::string arch;  // an architecture key, e.g. c32k3s1b-c64k3s2b-c64k3s2b-h128
  std::string data_spec, test_spec, out_dir;
  std::string loss = "cross_entropy";
  uint32_t seed = 1;
  int64_t budget_ms = 600'000;
  int workers = 2;        // torch threads (at most this machine's cores)
  int max_epochs = 1000;  // in effect: as many as the budget allows
  ProgressMode progress = ProgressMode::auto_detect;
  int64_t progress_interval_ms = 0;
};

// Exit code: 0 ok (also after a stop, with the weights so far), 1 failed, 2 usage or input error.
int train_command(const TrainCommandOptions& options, const std::atomic<bool>& stop);

}  // namespace edgenas::searchcli
