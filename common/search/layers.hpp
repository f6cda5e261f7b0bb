#pragma once
// A network as the list of layers it executes: the architecture encoding every search space
// lowers to, so one latency model serves them all (docs/ARCHITECTURE.md, "Learned latency").
// A new space needs only its own `lower`. Batch 1, float32; no libtorch here.
#include <cstdint>
#include <string_view>
#include <vector>

namespace edgenas::search {

struct ArchSpec;
struct InputShape;
struct Nb201Cell;

enum class LayerOp : uint8_t {
  conv,         // a convolution (with its batch norm and activation when the flags say so)
  avg_pool,     // average pooling over kernel × kernel windows
  global_pool,  // global average pooling to 1 × 1
  linear,       // a fully connected layer
  add,          // an element-wise sum of `inputs` tensors (residuals, a cell's node)
  zero,         // an operation whose output is zeros (NAS-Bench-201's `none`: x · 0)
  identity,     // a skip connection: no arithmetic
};
inline constexpr int kLayerOps = 7;
enum class LayerAct : uint8_t { none, relu, hswish };
std::string_view to_string(LayerOp op);

struct Layer {
  LayerOp op = LayerOp::conv;
  int kernel = 1, stride = 1;
  int in_channels = 0, out_channels = 0;
  int height = 0, width = 0;  // of the input
  int inputs = 1;             // tensors summed (add), else 1
  bool batch_norm = false;
  LayerAct activation = LayerAct::none;
  // false when the output never reaches the network's output, or the input is always zero (a
  // runtime may drop it; the measurement may or may not include it).
  bool live = true;
  int64_t flops = 0;   // 2 per multiply-accumulate; 1 per element for pooling and sums
  int64_t params = 0;  // weights, biases and batch-norm scales
  int64_t bytes = 0;   // float32 bytes read and written: input(s), output, parameters
};

using LayerList = std::vector<Layer>;

// The meter CNN space's network (space.hpp) on its input.
LayerList lower(const ArchSpec& spec, const InputShape& input);
// NAS-Bench-201's CIFAR network around the cell (nb201_space.hpp).
LayerList lower(const Nb201Cell& cell, int classes = 10, int input = 32);

}  // namespace edgenas::search
