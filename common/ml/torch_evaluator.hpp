#pragma once
// The real evaluator: builds the candidate with libtorch, trains it on the training split with
// the run's loss, scores it on the validation split (never the test split) and measures its
// batch-1 latency on this CPU (compiled for inference, see infer.hpp). When the target device
// is not this CPU, the latency is predicted by the fleet's model of its kind when one serves
// (common/search/latency_set.hpp), else modelled from the FLOPs (latency_model.hpp), and marked
// so. Energy per inference during the search is power × latency, always marked
// modelled: trials run in parallel, so a package energy counter cannot be split between them.
#include <list>
#include <mutex>
#include <optional>
#include <vector>

#include "common/data/dataset.hpp"
#include "common/ml/infer.hpp"
#include "common/ml/net.hpp"
#include "common/search/evaluator.hpp"
#include "common/search/latency_model.hpp"
#include "common/search/latency_set.hpp"

namespace edgenas::ml {

struct TargetDevice {
  std::string name = "cpu";
  // Set when the target's latency is modelled: its speed and this machine's calibration.
  std::optional<search::DeviceSpeed> modelled;
  search::CpuCalibration calibration;
  // Set instead when the fleet's latency model of the target's kind passed its gate
  // (edgenas-search --latency-models): it predicts, with its version. Never for a target this
  // machine measures.
  std::optional<search::KindModel> predicted;
  int predicted_version = 0;
  double power_w = 10;  // for energy = power × latency (modelled)

  bool measured() const { return !modelled && !predicted; }
  // "measured", "modelled" (FLOPs and the device's speed) or "predicted" (the fleet's model).
  const char* latency_source() const;
  // The latency of a network that is not measured: predicted, else modelled from its FLOPs.
  double estimate_ms(const search::ArchSpec& spec, const search::InputShape& input) const;
};

struct TorchEvaluatorOptions {
  Loss loss = Loss::cross_entropy;
  int batch_size = 64;
  TargetDevice target;
  LatencyOptions latency;
  std::string models_dir;  // when set, each trial's weights are kept as <dir>/<seed>.pt
  // Candidates whose latency on the target exceeds this are not trained (0: all are): their
  // reward could be at most T/latency of their accuracy, and the largest networks of a wide
  // space would take hours per trial. A failed trial with the reason.
  double prune_latency_ms = 0;
  // Steady-clock time (steady_now_ms) by which every trial must end, 0 = none: the search's end.
  // A trial whose training would not fit in what is left, even at the fastest rate trials have
  // shown so far, is not started; one still training then is cut. Both fail with the reason
  // and Evaluation::out_of_time, so no trial runs past the search's share of the budget.
  int64_t deadline_ms = 0;
  // At most this long for one trial (ms, 0 = no cap): one cut then fails as out of time. The
  // first trials start before any rate is known, and on a crowded box one large first proposal
  // held a worker for the whole search (a 394-MFLOP candidate, 113 of 113 s, then cut).
  int64_t max_trial_ms = 0;
  // The final training the delivered candidate will get (FinalShare): a candidate it could not
  // train for min_epochs passes over the training split, at the fastest rate trials have shown,
  // is not trained. It would win on one trial epoch and be delivered under-trained.
  struct FinalShare {
    double seconds = 0;  // 0: no such limit (a trial budget alone)
    int threads = 1;
    int min_epochs = 5;
  };
  FinalShare final_share{};
  // Only trials of at least this many FLOPs per image (forward) show the training rate the two
  // rules above extrapolate from. A smaller network's time is mostly per-image overhead, not
  // arithmetic: in a demo search a 25-kFLOP first trial (74 µs per image) implied 12x the
  // per-FLOP time that 1-2.5-MFLOP trials showed, and every candidate above ~0.3 MFLOP was then
  // turned away as "too large", leaving the search 67 trials of tiny networks (best 0.35).
  int64_t rate_min_flops = 1'000'000;
  // When set, trials still training when it turns true end at once as failed trials ("stopped"),
  // so a stopped search delivers its best so far without waiting for its running trials.
  const std::atomic<bool>* stop = nullptr;
};

// A training under way, as a progress report shows it.
struct TrainingNow {
  std::string key;  // the architecture
  int epoch = 0;    // from 1
  int epochs = 0;
  double epoch_done = 0;  // share of the running epoch
  double elapsed_s = 0;
};
TrainingNow training_now(const std::string& key, int64_t started_ms, const TrainProgress& p);

// Intra-op threads of one trial (training and its latency measurement): trials run side by
// side on threads of their own, and a new thread would otherwise get OpenMP's default (every
// core) — oversubscribed, and with floats that depend on the machine's core count.
inline constexpr int kTrialThreads = 1;

class TorchEvaluator final : public search::Evaluator {
 public:
  // train and validation must outlive the evaluator.
  TorchEvaluator(const data::ImageSet& train, const data::ImageSet& validation,
                 TorchEvaluatorOptions options);
  search::Evaluation evaluate(const search::ArchSpec& spec, const search::Fidelity& fidelity,
                              uint64_t seed) override;
  search::InputShape input() const { return input_; }
  // The weights a trial ended with (needs models_dir), e.g. the best trial after a stop.
  Expected<Net> trial_model(const search::ArchSpec& spec, uint64_t seed) const;
  // The trials training now, the longest-running first (from any thread).
  std::vector<TrainingNow> running() const;

 private:
  struct Running {
    std::string key;
    int64_t started_ms = 0;
    TrainProgress progress;
  };
  // Listed while it trains (a list: the entries do not move while trainings update them).
  std::list<Running>::iterator start_running(const std::string& key);
  void end_running(std::list<Running>::iterator it);
  mutable std::mutex running_mu_;
  std::list<Running> running_;

  const data::ImageSet& train_;
  const data::ImageSet& validation_;
  TorchEvaluatorOptions options_;
  search::InputShape input_;
  std::mutex latency_mu_;  // one latency measurement at a time, so trials do not time each other
  // Fastest training rate seen (seconds per FLOP of forward pass per image; 0 = none yet), of the
  // trials of at least rate_min_flops.
  std::mutex rate_mu_;
  double fastest_rate_ = 0;
  // Why a trial of this cost cannot finish before the deadline, or nullopt when it may.
  std::optional<std::string> wont_finish(int64_t flops, const search::Fidelity& fidelity);
  // Why the final training could not train a candidate of this cost enough, or nullopt.
  std::optional<std::string> too_large_for_budget(int64_t flops);
  double fastest_rate();
  void record_rate(int64_t flops, const TrainStats& stats);
  // The trial's training cutoff: the search's deadline or the per-trial cap, the earlier.
  int64_t trial_cutoff_ms() const;
};

// Latency of a network on the target: measured on this CPU, or modelled from its FLOPs.
struct LatencyResult {
  double latency_ms = 0;
  bool modelled = false;
  double cpu_latency_ms = 0;
};
LatencyResult target_latency(const InferenceNet& net, const search::ArchSpec& spec,
                             const search::InputShape& input, const TargetDevice& target,
                             const LatencyOptions& options);

// Measures networks of a fixed, wide calibration space (up to 6 blocks of 64 channels, kernels up
// to 5) on this CPU with the current thread count and fits the line the latency model scales
// to other devices. Independent of a run's bounds, so a small space still calibrates well.
Expected<search::CpuCalibration> calibrate_cpu(const search::InputShape& input, uint64_t seed,
                                               int networks = 10);

}  // namespace edgenas::ml
