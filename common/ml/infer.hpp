#pragma once
// The deployed form of a trained Net, which is what latency is measured on and what predict and
// read-meter run: batch norm folded into the convolution weights, no autograd (InferenceMode),
// in-place activations. Three plans, the fastest on this machine kept (each timed once when the
// plan is built):
//  - dense: ATen per layer, with per convolution the faster of ATen's default kernel (usually
//    oneDNN) and im2col + BLAS (which wins on many of the small layers of this space);
//  - blocked: every convolution in oneDNN's blocked layout end to end through ATen (weights
//    reordered once, activations never converted back to NCHW between layers);
//  - onednn: batch 1 directly on oneDNN (common/ml/onednn_plan.hpp): primitives built once with
//    activation and residual fused into each convolution, no ATen dispatch per operator.
// Batches of more than one image always take the dense plan.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "common/ml/net.hpp"
#include "common/ml/onednn_plan.hpp"

namespace edgenas::ml {

class InferenceNet {
 public:
  enum class Layout { choose, dense, blocked, onednn };
  // autotune = false keeps ATen's default kernel everywhere (tests, comparisons). layout:
  // choose (time every plan when autotuning, else dense), or force one (tests).
  static InferenceNet compile(Net& net, const search::InputShape& input, bool autotune = true,
                              Layout layout = Layout::choose);
  torch::Tensor forward(const torch::Tensor& x) const;  // logits; x is N×C×H×W in [0, 1]
  torch::Tensor predict_proba(const torch::Tensor& x) const;
  // How many convolutions use the im2col + BLAS kernel (the rest use ATen's default).
  int blas_convolutions() const;
  Layout layout() const { return layout_; }
  static const char* name(Layout layout);

 private:
  enum class ConvKernel { aten_default, im2col_blas };
  struct Conv {
    torch::Tensor weight, bias;
    int64_t kernel = 3, stride = 1;
    bool residual = false, hswish = false;
    ConvKernel kernel_choice = ConvKernel::aten_default;
    torch::Tensor blocked_weight;  // the weight reordered for oneDNN (blocked layout)
    torch::Tensor run(const torch::Tensor& x) const;
    torch::Tensor run_blocked(const torch::Tensor& x) const;  // x and result blocked
  };
  torch::Tensor forward_dense(const torch::Tensor& x) const;
  torch::Tensor forward_blocked(const torch::Tensor& x) const;
  torch::Tensor forward_onednn(const torch::Tensor& x) const;
  Expected<std::shared_ptr<const OnednnPlan>> build_onednn(const search::InputShape& input) const;
  torch::Tensor head(torch::Tensor pooled) const;
  std::vector<Conv> convs_;
  Layout layout_ = Layout::dense;
  std::shared_ptr<const OnednnPlan> onednn_;
  torch::Tensor hidden_w_, hidden_b_, out_w_, out_b_;
};

struct LatencyOptions {
  int warmup = 10;
  int runs = 50;
};
// The runtime that measures latencies here, e.g. "libtorch 1.13.1" (a trace's device kind).
std::string runtime_name();
// Median batch-1 forward time on this CPU with the current torch thread count.
double measure_latency_ms(const InferenceNet& net, const search::InputShape& input,
                          const LatencyOptions& options = {});

}  // namespace edgenas::ml
