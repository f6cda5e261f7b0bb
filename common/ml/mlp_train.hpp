#pragma once
// Training the predictor's MLPs with libtorch (the only place they are trained): a trunk from an
// MlpSpec with either one softmax head per hyperparameter (the policy) or one regression output
// (the outcome model), exported into the torch-free Mlp the coordinator serves. The MLP
// evaluator plugs these into the shared search engine: the predictor's own NAS.
#include <atomic>
#include <vector>

#include "common/model/mlp.hpp"
#include "common/search/evaluator.hpp"
#include "common/search/mlp_space.hpp"

namespace edgenas::ml {

struct HeadsData {
  std::vector<std::vector<float>> x;  // normalised features
  std::vector<std::vector<int>> y;    // a class per head
  std::vector<int> head_sizes;
};
struct RegressionData {
  std::vector<std::vector<float>> x;
  std::vector<float> y;
};

struct MlpTrainOptions {
  int epochs = 40;
  int batch_size = 64;
  uint64_t seed = 1;
  const std::atomic<bool>* stop = nullptr;
};

Mlp train_heads(const search::MlpSpec& spec, const HeadsData& data, const MlpTrainOptions& o);
Mlp train_regressor(const search::MlpSpec& spec, const RegressionData& data,
                    const MlpTrainOptions& o);
// Mean over heads of the share of rows whose argmax is the label.
double heads_accuracy(const Mlp& mlp, const HeadsData& data);
// The first head's first output for many rows at once (a regression model over a grid).
std::vector<float> predict_rows(const Mlp& mlp, const std::vector<std::vector<float>>& rows);

// The predictor's NAS evaluator: trains on `train` for fidelity.epochs × epoch_scale epochs and
// scores the mean head accuracy on `validation` (as Evaluation::accuracy; latency is the
// measured time of one forward pass of the torch-free Mlp, for information).
class MlpEvaluator final : public search::BasicEvaluator<search::MlpSpec> {
 public:
  MlpEvaluator(const HeadsData& train, const HeadsData& validation, int epoch_scale = 10)
      : train_(train), validation_(validation), epoch_scale_(epoch_scale) {}
  search::Evaluation evaluate(const search::MlpSpec& spec, const search::Fidelity& fidelity,
                              uint64_t seed) override;

 private:
  const HeadsData& train_;
  const HeadsData& validation_;
  int epoch_scale_;
};

}  // namespace edgenas::ml
