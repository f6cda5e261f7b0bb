#include "coordinator/predictor/grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace edgenas::predictor {
namespace {

int nearest_index(const std::vector<int>& ladder, double v, bool log_scale) {
  int best = 0;
  double best_d = 1e300;
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    const double d = log_scale ? std::abs(std::log2(ladder[i]) - std::log2(std::max(1.0, v)))
                               : std::abs(ladder[i] - v);
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace

const std::vector<int>& Grid::layers() {
  static const std::vector<int> v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  return v;
}
const std::vector<int>& Grid::filters() {
  static const std::vector<int> v{8, 16, 32, 64, 128, 256};
  return v;
}
const std::vector<int>& Grid::kernels() {
  static const std::vector<int> v{3, 5, 7};
  return v;
}

int Grid::size(int head) {
  switch (head) {
    case kLayers:
      return static_cast<int>(layers().size());
    case kFilters:
      return static_cast<int>(filters().size());
    case kKernel:
      return static_cast<int>(kernels().size());
    default:
      return static_cast<int>(std::size(kAllLosses));
  }
}

int Grid::points() {
  int n = 1;
  for (int h = 0; h < kHeads; ++h) n *= size(h);
  return n;
}

Choice Grid::at(int flat) {
  Choice c;
  for (int h = kHeads - 1; h >= 0; --h) {
    c.index[static_cast<std::size_t>(h)] = flat % size(h);
    flat /= size(h);
  }
  return c;
}

int Grid::flat(const Choice& c) {
  int f = 0;
  for (int h = 0; h < kHeads; ++h) f = f * size(h) + c.index[static_cast<std::size_t>(h)];
  return f;
}

Choice Grid::nearest(const Hyperparameters& h) {
  Choice c;
  c.index[kLayers] = nearest_index(layers(), h.layers, false);
  c.index[kFilters] = nearest_index(filters(), h.filters, true);
  c.index[kKernel] = nearest_index(kernels(), h.kernel, false);
  c.index[kLoss] = static_cast<int>(h.loss);
  return c;
}

Hyperparameters Grid::hparams(const Choice& c, uint32_t seed) {
  Hyperparameters h;
  h.layers = layers()[static_cast<std::size_t>(c.index[kLayers])];
  h.filters = filters()[static_cast<std::size_t>(c.index[kFilters])];
  h.kernel = kernels()[static_cast<std::size_t>(c.index[kKernel])];
  h.loss = kAllLosses[static_cast<std::size_t>(c.index[kLoss])];
  h.seed = seed;
  return h;
}

double Grid::distance(const Choice& a, const Choice& b) {
  double d = 0;
  for (int h = 0; h < kHeads; ++h) {
    const auto i = static_cast<std::size_t>(h);
    d += h == kLoss ? (a.index[i] != b.index[i])
                    : std::abs(a.index[i] - b.index[i]) / static_cast<double>(size(h) - 1);
  }
  return d;
}

}  // namespace edgenas::predictor
