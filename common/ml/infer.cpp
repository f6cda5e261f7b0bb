#include "common/ml/infer.hpp"

#include <algorithm>
#include <chrono>

namespace edgenas::ml {
namespace {

// Median time of fn over a few runs, for choosing a kernel.
template <class F>
double median_us(F&& fn, int runs) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(t.begin(), t.begin() + static_cast<long>(t.size() / 2), t.end());
  return t[t.size() / 2];
}

}  // namespace

torch::Tensor InferenceNet::Conv::run(const torch::Tensor& x) const {
  const int64_t pad = kernel / 2;
  torch::Tensor y =
      kernel_choice == ConvKernel::im2col_blas
          ? at::thnn_conv2d(x, weight, {kernel, kernel}, bias, {stride, stride}, {pad, pad})
          : at::conv2d(x, weight, bias, {stride, stride}, {pad, pad});
  if (hswish) {
    at::hardswish_(y);
  } else {
    at::relu_(y);
  }
  return residual ? y.add_(x) : y;
}

torch::Tensor InferenceNet::Conv::run_blocked(const torch::Tensor& x) const {
  const int64_t pad = kernel / 2;
  torch::Tensor y =
      at::mkldnn_convolution(x, blocked_weight, bias, {pad, pad}, {stride, stride}, {1, 1}, 1);
  if (hswish) {
    // oneDNN tensors have no hardswish in libtorch 1.13: through the dense layout for it.
    auto d = y.to_dense();
    at::hardswish_(d);
    y = d.to_mkldnn();
  } else {
    at::relu_(y);
  }
  return residual ? y.add_(x) : y;
}

InferenceNet InferenceNet::compile(Net& net, const search::InputShape& input, bool autotune,
                                   Layout layout) {
  c10::InferenceMode guard;
  net->eval();
  InferenceNet plan;
  for (auto& module : *net->blocks()) {
    auto* block = module.get<Block>().get();
    Conv c;
    c.kernel = block->spec().kernel;
    c.stride = block->spec().stride;
    c.residual = block->uses_residual();
    c.hswish = block->spec().activation == search::Activation::hswish;
    auto w = block->conv()->weight.detach().clone();
    auto b = block->conv()->options.bias() ? block->conv()->bias.detach().clone()
                                           : torch::zeros(w.size(0));
    if (auto& bn = block->bn()) {
      // y = γ (conv(x) + b − μ) / √(σ² + ε) + β  =  conv'(x) + b'
      const auto scale = bn->weight.detach() / torch::sqrt(bn->running_var + bn->options.eps());
      w = w * scale.view({-1, 1, 1, 1});
      b = (b - bn->running_mean) * scale + bn->bias.detach();
    }
    c.weight = w.contiguous();
    c.bias = b.contiguous();
    plan.convs_.push_back(std::move(c));
  }
  if (net->hidden()) {
    plan.hidden_w_ = net->hidden()->weight.detach().clone();
    plan.hidden_b_ = net->hidden()->bias.detach().clone();
  }
  plan.out_w_ = net->classifier()->weight.detach().clone();
  plan.out_b_ = net->classifier()->bias.detach().clone();

  if (autotune) {
    // Time both kernels on each layer's real input shape; keep the faster.
    auto x = torch::rand({1, input.channels, input.height, input.width});
    for (auto& c : plan.convs_) {
      Conv a = c, b = c;
      a.kernel_choice = ConvKernel::aten_default;
      b.kernel_choice = ConvKernel::im2col_blas;
      for (int i = 0; i < 3; ++i) {  // warm-up: first calls allocate and pack
        (void)a.run(x.clone());
        (void)b.run(x.clone());
      }
      const double ta = median_us([&] { (void)a.run(x.clone()); }, 15);
      const double tb = median_us([&] { (void)b.run(x.clone()); }, 15);
      c.kernel_choice = tb < ta ? ConvKernel::im2col_blas : ConvKernel::aten_default;
      x = c.run(x.clone());
    }
  }
  const bool try_blocked =
      layout == Layout::blocked || (layout == Layout::choose && autotune && at::hasMKLDNN());
  if (try_blocked) {
    for (auto& c : plan.convs_) {
      const int64_t pad = c.kernel / 2;
      c.blocked_weight = at::mkldnn_reorder_conv2d_weight(c.weight.to_mkldnn(), {pad, pad},
                                                          {c.stride, c.stride}, {1, 1}, 1);
    }
    if (layout == Layout::blocked) {
      plan.blocked_ = true;
    } else {
      // The whole forward both ways on this CPU; keep the faster. An operator this libtorch
      // lacks for blocked tensors throws: then the dense plan it is.
      try {
        auto x = torch::rand({1, input.channels, input.height, input.width});
        for (int i = 0; i < 5; ++i) {
          (void)plan.forward_dense(x);
          (void)plan.forward_blocked(x);
        }
        const double td = median_us([&] { (void)plan.forward_dense(x); }, 31);
        const double tb = median_us([&] { (void)plan.forward_blocked(x); }, 31);
        plan.blocked_ = tb < td;
      } catch (const c10::Error&) {
        plan.blocked_ = false;
      }
    }
    if (!plan.blocked_) {
      for (auto& c : plan.convs_) c.blocked_weight = torch::Tensor();
    }
  }
  return plan;
}

torch::Tensor InferenceNet::forward(const torch::Tensor& input) const {
  c10::InferenceMode guard;
  return blocked_ ? forward_blocked(input) : forward_dense(input);
}

torch::Tensor InferenceNet::forward_dense(const torch::Tensor& input) const {
  torch::Tensor x = input;
  for (const auto& c : convs_) x = c.run(x);
  return head(at::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

torch::Tensor InferenceNet::forward_blocked(const torch::Tensor& input) const {
  torch::Tensor x = input.contiguous().to_mkldnn();
  for (const auto& c : convs_) x = c.run_blocked(x);
  return head(at::mkldnn_adaptive_avg_pool2d(x, {1, 1}).to_dense().flatten(1));
}

torch::Tensor InferenceNet::head(torch::Tensor x) const {
  if (hidden_w_.defined()) {
    x = at::linear(x, hidden_w_, hidden_b_);
    at::relu_(x);
  }
  return at::linear(x, out_w_, out_b_);
}

torch::Tensor InferenceNet::predict_proba(const torch::Tensor& x) const {
  c10::InferenceMode guard;
  return torch::softmax(forward(x), 1);
}

int InferenceNet::blas_convolutions() const {
  return static_cast<int>(std::count_if(convs_.begin(), convs_.end(), [](const Conv& c) {
    return c.kernel_choice == ConvKernel::im2col_blas;
  }));
}

double measure_latency_ms(const InferenceNet& net, const search::InputShape& input,
                          const LatencyOptions& o) {
  auto x = torch::rand({1, input.channels, input.height, input.width});
  for (int i = 0; i < o.warmup; ++i) net.forward(x);
  std::vector<double> ms;
  for (int i = 0; i < o.runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto y = net.forward(x);
    (void)y.data_ptr<float>();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace edgenas::ml
