#pragma once
// The real evaluator: builds the candidate with libtorch, trains it on the training split with
// the run's loss, scores it on the validation split (never the test split) and measures its
// batch-1 latency on this CPU. Energy per inference is power × latency from the box's average
// power, so it is always marked modelled.
#include <mutex>

#include "common/data/dataset.hpp"
#include "common/ml/net.hpp"
#include "common/search/evaluator.hpp"

namespace edgenas::ml {

struct TorchEvaluatorOptions {
  Loss loss = Loss::cross_entropy;
  int batch_size = 64;
  double power_w = 10;  // for energy = power × latency (modelled)
  LatencyOptions latency;
};

class TorchEvaluator final : public search::Evaluator {
 public:
  // train and validation must outlive the evaluator.
  TorchEvaluator(const data::ImageSet& train, const data::ImageSet& validation,
                 TorchEvaluatorOptions options);
  search::Evaluation evaluate(const search::ArchSpec& spec, const search::Fidelity& fidelity,
                              uint64_t seed) override;
  search::InputShape input() const { return input_; }

 private:
  const data::ImageSet& train_;
  const data::ImageSet& validation_;
  TorchEvaluatorOptions options_;
  search::InputShape input_;
  std::mutex latency_mu_;  // one latency measurement at a time, so trials do not time each other
};

}  // namespace edgenas::ml
