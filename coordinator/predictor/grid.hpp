#pragma once
// The predictor's output space: one head per learned hyperparameter, each a classification over
// that hyperparameter's allowed values (layers 1..10, filters on the channel ladder, kernel
// 3/5/7, the three losses). The seed is not learned: it only fixes reproducibility, carries no
// information about a context, and is assigned per request like the cold-start policy does
// (docs/ARCHITECTURE.md, "The predictor").
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/model/model.hpp"

namespace edgenas::predictor {

enum Head { kLayers = 0, kFilters = 1, kKernel = 2, kLoss = 3 };
inline constexpr int kHeads = 4;
inline constexpr std::array<const char*, kHeads> kHeadNames = {"layers", "filters", "kernel",
                                                               "loss"};

// An index per head.
struct Choice {
  std::array<int, kHeads> index{};
  bool operator==(const Choice& o) const { return index == o.index; }
  bool operator<(const Choice& o) const { return index < o.index; }
};

struct Grid {
  static const std::vector<int>& layers();   // 1..10
  static const std::vector<int>& filters();  // 8, 16, 32, 64, 128, 256
  static const std::vector<int>& kernels();  // 3, 5, 7
  static int size(int head);                 // classes of a head
  static int points();                       // every combination
  static Choice at(int flat);                // 0 ≤ flat < points()
  static int flat(const Choice& c);
  // The nearest grid point to any valid hyperparameters (filters and kernel rounded on their
  // ladders, losses exact).
  static Choice nearest(const Hyperparameters& h);
  static Hyperparameters hparams(const Choice& c, uint32_t seed);
  // Distance between choices in index units, each head scaled to [0, 1] (loss: 0 or 1).
  static double distance(const Choice& a, const Choice& b);
};

}  // namespace edgenas::predictor
