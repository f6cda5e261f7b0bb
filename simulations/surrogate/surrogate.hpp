#pragma once
// A surrogate of NAS outcomes, fitted on real trainings (simulations/surrogate/table.csv, made
// by edgenas-surrogate-collect with the real evaluator on the synthetic meter digits). It
// predicts the validation accuracy of any architecture of the search space at a fidelity
// (epochs), with the seed-to-seed noise the table shows; latency comes from the same latency
// model edgenas-search uses for devices that are not this machine, calibrated on the table's
// measured CPU latencies; training cost from the table's measured training times. Torch-free:
// a simulated search costs milliseconds.
//
// The model: k nearest neighbours (k = 7, inverse-distance weights) in a standardised space of
// architecture features (depth, log parameters and FLOPs, widths, kernels, downsampling,
// batch-norm/residual/h-swish shares, head width) and log epochs. Simple, no training step,
// and honest about where the table is thin; its quality on held-out real runs is reported by
// `edgenas-sim surrogate` and in docs/BENCHMARKS.md.
#include <functional>
#include <string>
#include <vector>

#include "common/search/evaluator.hpp"
#include "common/search/latency_model.hpp"
#include "common/search/strategy.hpp"

namespace edgenas::sim {

// The table's input: 28×28 grey digits, 10 classes.
inline constexpr search::InputShape kTableInput{1, 28, 28, 10};
inline constexpr int64_t kTableMaxFlops = 100'000'000;

// Row r of the collection plan (deterministic from seed and r).
struct PlannedTrial {
  search::ArchSpec spec;
  int epochs = 1;
  uint64_t train_seed = 0;
};
PlannedTrial planned_trial(uint64_t seed, int row);

inline constexpr const char* kTableHeader =
    "row,key,epochs,train_images,seed,ok,val_accuracy,cpu_latency_ms,train_time_s,params,flops";
std::string table_row(const search::TrialResult& t, int train_images);

struct TableRow {
  int row = 0;
  search::ArchSpec spec;
  int epochs = 1;
  int train_images = 0;
  uint64_t seed = 0;
  bool ok = true;
  double accuracy = 0, cpu_latency_ms = 0, train_time_s = 0;
  int64_t params = 0, flops = 0;
};
// Rows that do not parse are errors naming the line (a corrupt table is not silently used).
Expected<std::vector<TableRow>> load_table(const std::string& path);

std::vector<double> arch_features(const search::ArchSpec& spec, int epochs);

class Surrogate {
 public:
  static Expected<Surrogate> fit(const std::vector<TableRow>& rows);
  double accuracy(const search::ArchSpec& spec, int epochs) const;  // expected validation accuracy
  double noise_sigma() const { return noise_; }                     // seed-to-seed, from repeats
  const search::CpuCalibration& calibration() const { return calibration_; }
  // Seconds one core of the calibration machine needs to train spec for `epochs` over
  // `images` images (fitted on the table: time ∝ FLOPs × images × epochs, plus a per-image cost).
  double train_seconds(const search::ArchSpec& spec, int epochs, int images) const;
  std::size_t size() const { return rows_.size(); }

  struct Quality {
    double spearman = 0, mae = 0;
    int n = 0;
  };
  // Fitted on `train`, scored on `test` (distinct architectures).
  static Quality evaluate(const std::vector<TableRow>& train, const std::vector<TableRow>& test);

 private:
  std::vector<std::vector<double>> x_;  // standardised features
  std::vector<double> y_;
  std::vector<double> mean_, scale_;
  std::vector<TableRow> rows_;
  double noise_ = 0.01;
  search::CpuCalibration calibration_;
  double sec_per_gflop_image_ = 0, sec_per_image_ = 0;
};

// The simulator's NAS evaluator: the surrogate's accuracy (plus noise from the trial's seed)
// and the latency model for the target device. Training costs no time here but is accounted:
// train_time_s is what the box's CPU (cpu_speed relative to the calibration core) would need.
class SurrogateEvaluator final : public search::Evaluator {
 public:
  // The latency the search sees of a candidate; unset: the FLOPs model of `target`.
  using LatencyOf = std::function<double(const search::ArchSpec&)>;
  SurrogateEvaluator(const Surrogate& s, search::DeviceSpeed target, double cpu_speed,
                     double power_w, int train_images = 8000, LatencyOf latency = {})
      : s_(s),
        device_(std::move(target)),
        cpu_speed_(cpu_speed),
        power_w_(power_w),
        images_(train_images),
        latency_(std::move(latency)) {}
  search::Evaluation evaluate(const search::ArchSpec& spec, const search::Fidelity& f,
                              uint64_t seed) override;

 private:
  const Surrogate& s_;
  search::DeviceSpeed device_;
  double cpu_speed_;
  double power_w_;
  int images_;
  LatencyOf latency_;
};

}  // namespace edgenas::sim
