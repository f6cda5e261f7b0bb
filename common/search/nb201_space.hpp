#pragma once
// The NAS-Bench-201 cell space (Dong & Yang, ICLR 2020): a cell of 4 nodes whose 6 edges (i → j,
// i < j) each carry one of 5 operations; node j sums its incoming edges, node 3 is the output.
// The CIFAR network is fixed: a 3x3 stem convolution (16 channels), 3 stages of 5 copies of the
// cell (16/32/64 channels) joined by ResNet reduction blocks, batch norm + ReLU, global pooling,
// a linear classifier. Only the cell is searched: 5^6 = 15 625 architectures.
//
// The method's hyperparameters bound it (docs/ARCHITECTURE.md, "The NAS-Bench-201 world"):
// Layers → the most convolution edges a cell may have (0-6), Kernel → the largest convolution
// kernel (1 or 3); Filters and Loss are fixed by the benchmark's macro network and training
// recipe; Seed is the search's seed.
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/model.hpp"

namespace edgenas::search {

enum class Nb201Op : uint8_t { none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3 };
inline constexpr int kNb201Ops = 5, kNb201Edges = 6;
std::string_view to_string(Nb201Op op);
std::optional<Nb201Op> nb201_op_from_string(std::string_view s);

// Edges in NAS-Bench-201's string order: 1←0, 2←0, 2←1, 3←0, 3←1, 3←2.
struct Nb201Cell {
  std::array<Nb201Op, kNb201Edges> ops{};

  // NAS-Bench-201's string, e.g. "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|".
  std::string key() const;
  static std::optional<Nb201Cell> from_key(std::string_view s);
  // 0 ≤ index < 15 625: the edges as base-5 digits, edge 0 the most significant.
  int index() const;
  static Nb201Cell at(int index);
  int conv_edges() const;      // edges with a 1x1 or 3x3 convolution
  int largest_kernel() const;  // 3, 1, or 0 with no convolution
  bool operator==(const Nb201Cell& o) const { return ops == o.ops; }
};

// Parameters (millions) and FLOPs (millions) of the whole network, counted as NAS-Bench-201
// counts them: convolutions and the classifier (multiply-accumulates), pooling not counted; every
// edge's operation counts, whether or not it reaches the output. CIFAR-10: classes 10, input 32.
struct Nb201Cost {
  double params_m = 0, flops_m = 0;
};
Nb201Cost nb201_cost(const Nb201Cell& cell, int classes = 10, int input = 32);

// The bounds the method's hyperparameters set on the cell.
struct Nb201Bounds {
  int max_conv_edges = kNb201Edges;  // 0..6
  int max_kernel = 3;                // 1 or 3
  // Layers → max_conv_edges = min(layers − 1, 6) (the grid's Layers start at 1, so Layers 1 is
  // a cell without convolutions); Kernel → max_kernel = 1 when Kernel < 5, else 3 (the grid's
  // kernel ladder is 3, 5, 7: its smallest rung maps to the benchmark's smallest kernel).
  static Nb201Bounds from(const Hyperparameters& hp);
  bool operator==(const Nb201Bounds& o) const {
    return max_conv_edges == o.max_conv_edges && max_kernel == o.max_kernel;
  }
  std::string key() const;  // "conv≤4,k≤3"
};

class Nb201Space {
 public:
  using Spec = Nb201Cell;
  explicit Nb201Space(Nb201Bounds bounds = {}) : bounds_(bounds) {}
  explicit Nb201Space(const Hyperparameters& hp) : bounds_(Nb201Bounds::from(hp)) {}

  Nb201Cell sample(std::mt19937_64& rng) const;  // uniform over the cells within the bounds
  // One edge changed to another operation the bounds allow.
  Nb201Cell mutate(const Nb201Cell& cell, std::mt19937_64& rng) const;
  bool contains(const Nb201Cell& cell) const;
  // One-hot per edge (30 values), for surrogates and predictors.
  static std::vector<float> encode(const Nb201Cell& cell);
  const Nb201Bounds& bounds() const { return bounds_; }
  int size() const;  // cells within the bounds

 private:
  Nb201Bounds bounds_;
};

}  // namespace edgenas::search
