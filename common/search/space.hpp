#pragma once
// The NAS search space, derived from pushed Hyperparameters: a CNN of 1..layers blocks whose
// channels come from a ladder up to `filters` and whose kernels are odd sizes up to `kernel`.
// Searched per block: channels, kernel, stride (2 = downsample), batch norm, residual, and the
// activation; per network: the width of the classifier head. The loss and seed are fixed per run.
// No libtorch here: an ArchSpec is plain data, built into a network by common/ml.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/model.hpp"

namespace edgenas::search {

enum class Activation { relu, hswish };
std::string_view to_string(Activation a);
std::optional<Activation> activation_from_string(std::string_view s);

struct BlockSpec {
  int out_channels = 8;
  int kernel = 3;
  int stride = 1;  // 1 or 2
  bool batch_norm = true;
  bool residual = false;  // only meaningful when stride == 1 and channels are unchanged
  Activation activation = Activation::relu;

  template <class V>
  void fields(V& v) {
    v.num("out_channels", out_channels, 1, 4096);
    v.num("kernel", kernel, 1, 15);
    v.num("stride", stride, 1, 2);
    v.flag("batch_norm", batch_norm);
    v.flag("residual", residual);
    v.enumeration("activation", activation, activation_from_string);
  }
};

// A candidate network: the blocks, then global average pooling, an optional hidden layer of
// head_width units, and the classifier.
struct ArchSpec {
  std::vector<BlockSpec> blocks;
  int head_width = 0;  // 0 = classifier directly on the pooled features

  template <class V>
  void fields(V& v) {
    v.list("blocks", blocks, 1, 64);
    v.num("head_width", head_width, 0, 4096);
  }
  bool operator==(const ArchSpec& o) const;
  // A compact canonical string (dedup, logs, the surrogate's table), e.g.
  // "c16k3s2b-c32k5s1brh-h64": per block channels, kernel, stride, then b(atch norm),
  // r(esidual), h(-swish) when set; then the head width.
  std::string key() const;
  static std::optional<ArchSpec> from_key(std::string_view key);
};

// Shape of the input the networks are built for.
struct InputShape {
  int channels = 1, height = 28, width = 28, classes = 10;
};

struct Cost {
  int64_t params = 0;
  int64_t flops = 0;  // multiply-accumulates × 2 for one batch-1 forward pass
};
// Parameters and FLOPs of spec on input; torch-free, so the surrogate and the latency model
// can use it without building the network.
Cost cost_of(const ArchSpec& spec, const InputShape& input);

class SearchSpace {
 public:
  using Spec = ArchSpec;
  // Ladders: channels {4, 8, 16, 32, 64, 128, 256, 512} up to filters (at least the smallest),
  // kernels {1, 3, 5, 7, 9, 11} up to kernel, head widths {0, 32, 64, 128}.
  explicit SearchSpace(const Hyperparameters& hp);

  ArchSpec sample(std::mt19937_64& rng) const;
  // One random change: add or remove a block, or change one decision of one block or the head.
  ArchSpec mutate(const ArchSpec& spec, std::mt19937_64& rng) const;
  // Every decision within the bounds of the hyperparameters (tests check sampled specs with it).
  bool contains(const ArchSpec& spec) const;

  int max_layers() const { return max_layers_; }
  const std::vector<int>& channel_ladder() const { return channels_; }
  const std::vector<int>& kernel_ladder() const { return kernels_; }

 private:
  BlockSpec sample_block(std::mt19937_64& rng) const;
  int max_layers_;
  std::vector<int> channels_, kernels_, heads_;
};

}  // namespace edgenas::search
