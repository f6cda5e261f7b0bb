#include "common/model/mlp.hpp"

#include <algorithm>
#include <cmath>

namespace edgenas {
namespace {

void dense(const Dense& d, const std::vector<float>& x, std::vector<float>& y) {
  y.assign(static_cast<std::size_t>(d.out), 0.0f);
  for (int o = 0; o < d.out; ++o) {
    const float* w = &d.w[static_cast<std::size_t>(o) * static_cast<std::size_t>(d.in)];
    // Eight independent partial sums: the compiler vectorises them without -ffast-math
    // (a single running sum may not be reordered).
    float lane[8] = {};
    int i = 0;
    for (; i + 8 <= d.in; i += 8) {
      for (int k = 0; k < 8; ++k)
        lane[k] += w[i + k] * x[static_cast<std::size_t>(i) + static_cast<std::size_t>(k)];
    }
    float acc = d.b[static_cast<std::size_t>(o)];
    for (; i < d.in; ++i) acc += w[i] * x[static_cast<std::size_t>(i)];
    for (float l : lane) acc += l;
    y[static_cast<std::size_t>(o)] = acc;
  }
}

}  // namespace

std::vector<std::vector<float>> Mlp::forward(const std::vector<float>& input) const {
  std::vector<float> x = input, y;
  for (const auto& layer : trunk) {
    dense(layer, x, y);
    for (auto& v : y) v = activation == MlpActivation::relu ? std::max(0.0f, v) : std::tanh(v);
    x.swap(y);
  }
  std::vector<std::vector<float>> out;
  for (const auto& h : heads) {
    dense(h, x, y);
    out.push_back(y);
  }
  return out;
}

}  // namespace edgenas
