#pragma once
// The predictor's own search space (the method: the predictor DNN is itself found by NAS):
// multilayer perceptrons of 1..10 hidden layers, each at most 300 units wide, with the
// activation, dropout and learning rate searched too. The heads (one per hyperparameter) are
// fixed by the output space, not searched. Torch-free: common/ml builds and trains them.
#include <random>
#include <string>
#include <vector>

#include "common/model/mlp.hpp"

namespace edgenas::search {

using edgenas::MlpActivation;

inline constexpr int kMlpMaxLayers = 10;
inline constexpr int kMlpMaxWidth = 300;

struct MlpSpec {
  std::vector<int> hidden;  // widths, input side first
  MlpActivation activation = MlpActivation::relu;
  double dropout = 0;
  double learning_rate = 1e-3;  // Adam
  std::string key() const;
  bool operator==(const MlpSpec& o) const { return key() == o.key(); }
};

class MlpSpace {
 public:
  using Spec = MlpSpec;
  MlpSpace() = default;
  MlpSpec sample(std::mt19937_64& rng) const;
  MlpSpec mutate(const MlpSpec& spec, std::mt19937_64& rng) const;
  // Depth 1..10, every width from the ladder (≤ 300), dropout and rate from their lists.
  bool contains(const MlpSpec& spec) const;

  static const std::vector<int>& widths();  // {16, 32, 64, 96, 128, 192, 256, 300}
  static const std::vector<double>& dropouts();
  static const std::vector<double>& learning_rates();
};

}  // namespace edgenas::search
