#pragma once
// `edgenas-sim latency`: the learned latency models (common/search/learned_latency.hpp) against
// real measurements, a device at a time (docs/BENCHMARKS.md, "Learned latency").
//
// For each device column of a NAS-Bench-201 table in turn: that device and the other columns
// of the same hardware (the same name at another batch size) are held out; every other column
// trains a kernel-additive model on its measurements; the held-out device gets k measured
// cells (k = 5, 10, 20, 100, 900 by default, drawn at random `draws` times) and a transfer
// model; it predicts every other cell. Beside it, the FLOPs model edgenas used before (a +
// b·FLOPs) fitted on the same k cells. Per (device, k), medians over the draws of: Spearman's
// ρ, the median absolute error in %, the share within ±10 %, and, for T at the measured 10 %..
// 90 % quantiles, the share of the cells predicted within T that truly meet T (with no margin,
// and with the margin the model's own leave-one-out error asks for).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas::sim {

struct LatencyEvalOptions {
  std::string table_path, out_dir;
  std::vector<int> samples{5, 10, 20, 100, 900};
  int draws = 3;
  uint64_t seed = 1;
  // Columns named STEM_N for these N are one device at batch size N, held out together.
  std::vector<std::string> batch_suffixes{"1", "32", "256"};
  std::vector<std::string> devices;  // held out in turn (empty: every column)
  // The columns the others learn from (empty: every column outside the held-out device's
  // family; "help": the nine meta-training devices of HELP's published split).
  std::vector<std::string> sources;
  int source_samples = 0;  // measurements per source column (0: every cell)
  int threads = 1;
  // Searches on the held-out device as a box that cannot measure it (latency_loop.hpp), with
  // the models from loop_k measured cells, `loop_seeds` per T quantile and draw (0: none).
  int loop_k = 10;
  int loop_seeds = 0;
};

// HELP's (Lee et al., NeurIPS 2021) meta-training devices on NAS-Bench-201.
std::vector<std::string> help_source_columns();

// "help_titan_rtx_256" → "help_titan_rtx" when 256 is a batch suffix.
std::string device_family(const std::string& column, const std::vector<std::string>& suffixes);

// For T at the measured 10 %..90 % quantiles: of the cells predicted within T·(1 − margin), the
// share truly within T (precision; 1 when none is predicted within), and of the cells truly
// within T, the share kept (recall); each averaged over the T.
struct WithinT {
  double precision = 1, recall = 1;
};
WithinT within_t_shares(const std::vector<double>& predicted, const std::vector<double>& measured,
                        double margin = 0);

Expected<nlohmann::json> evaluate_latency(const LatencyEvalOptions& o,
                                          const std::function<void(const std::string&)>& progress);

}  // namespace edgenas::sim
