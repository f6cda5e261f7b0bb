#pragma once
// Batch-1 inference of a compiled network directly on oneDNN (the library ATen's own CPU
// convolutions run on), without ATen's per-operator dispatch: every primitive is created once,
// with its activation and residual addition fused into the convolution as post-ops (hard-swish
// included, which ATen 1.13 cannot run on oneDNN's blocked layout), weights reordered once, and
// every intermediate buffer allocated once. A forward pass is then a fixed list of primitive
// executions. Torch-free: it takes the folded weights as plain floats (InferenceNet builds it).
#include <memory>
#include <string>
#include <vector>

#include "common/util/expected.hpp"

namespace edgenas::ml {

struct PlanConv {
  int in_channels = 1, out_channels = 1, kernel = 3, stride = 1;
  bool hswish = false;        // else ReLU
  bool residual = false;      // y = act(conv(x)) + x (same shape)
  std::vector<float> weight;  // out × in × k × k
  std::vector<float> bias;    // out
};

struct PlanLinear {
  int in = 1, out = 1;
  bool relu = false;
  std::vector<float> weight;  // out × in
  std::vector<float> bias;    // out
};

class OnednnPlan {
 public:
  // convs, then global average pooling, then the linear layers. An error when oneDNN cannot
  // build a primitive for a layer (the caller keeps its ATen plan then).
  static Expected<std::unique_ptr<OnednnPlan>> build(int channels, int height, int width,
                                                     const std::vector<PlanConv>& convs,
                                                     const std::vector<PlanLinear>& linears);
  ~OnednnPlan();
  OnednnPlan(const OnednnPlan&) = delete;
  OnednnPlan& operator=(const OnednnPlan&) = delete;

  // One image (channels × height × width floats) in, outputs() logits out. Thread-safe
  // (calls are serialised: the plan owns its buffers).
  void run(const float* input, float* logits) const;
  int inputs() const;
  int outputs() const;

 private:
  OnednnPlan();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgenas::ml
