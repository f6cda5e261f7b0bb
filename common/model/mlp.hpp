#pragma once
// Dense multilayer perceptrons evaluated with plain loops, without libtorch: the coordinator
// serves its predictor with them (a few hundred thousand multiply-adds per request). common/ml
// trains them and exports the weights into this form.
#include <vector>

namespace edgenas {

enum class MlpActivation { relu, tanh };

struct Dense {
  int in = 0, out = 0;
  std::vector<float> w, b;  // w: out × in
};

struct Mlp {
  std::vector<Dense> trunk;
  MlpActivation activation = MlpActivation::relu;
  std::vector<Dense> heads;
  // Raw head outputs (logits, or the value of a regression head).
  std::vector<std::vector<float>> forward(const std::vector<float>& x) const;
  int inputs() const { return trunk.empty() ? (heads.empty() ? 0 : heads[0].in) : trunk[0].in; }
};

}  // namespace edgenas
