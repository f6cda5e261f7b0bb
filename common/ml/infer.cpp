#include "common/ml/infer.hpp"

#include <torch/version.h>
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
  const bool choose = layout == Layout::choose && autotune;
  if ((choose && at::hasMKLDNN()) || layout == Layout::blocked) {
    for (auto& c : plan.convs_) {
      const int64_t pad = c.kernel / 2;
      c.blocked_weight = at::mkldnn_reorder_conv2d_weight(c.weight.to_mkldnn(), {pad, pad},
                                                          {c.stride, c.stride}, {1, 1}, 1);
    }
  }
  if (choose || layout == Layout::onednn) {
    auto built = plan.build_onednn(input);
    if (built) {
      plan.onednn_ = std::move(*built);
    } else if (layout == Layout::onednn) {
      throw std::runtime_error("the oneDNN plan cannot be built: " + built.error().message);
    }
  }
  if (choose) {
    // The whole forward pass each way on this CPU; keep the fastest. A plan this libtorch or
    // oneDNN cannot run throws or was not built: it is left out.
    auto x = torch::rand({1, input.channels, input.height, input.width});
    double best = 1e300;
    for (Layout l : {Layout::dense, Layout::blocked, Layout::onednn}) {
      if (l == Layout::blocked && !plan.convs_.empty() && !plan.convs_[0].blocked_weight.defined())
        continue;
      if (l == Layout::onednn && !plan.onednn_) continue;
      plan.layout_ = l;
      try {
        for (int i = 0; i < 5; ++i) (void)plan.forward(x);
        const double t = median_us([&] { (void)plan.forward(x); }, 31);
        if (t < best) best = t, layout = l;
      } catch (const c10::Error&) {
      }
    }
  }
  plan.layout_ = layout == Layout::choose ? Layout::dense : layout;
  if (plan.layout_ != Layout::blocked) {
    for (auto& c : plan.convs_) c.blocked_weight = torch::Tensor();
  }
  if (plan.layout_ != Layout::onednn) plan.onednn_.reset();
  return plan;
}

Expected<std::shared_ptr<const OnednnPlan>> InferenceNet::build_onednn(
    const search::InputShape& input) const {
  auto floats = [](const torch::Tensor& t) {
    const auto c = t.contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  std::vector<PlanConv> convs;
  int channels = input.channels;
  for (const auto& c : convs_) {
    PlanConv p;
    p.in_channels = channels;
    p.out_channels = static_cast<int>(c.weight.size(0));
    p.kernel = static_cast<int>(c.kernel);
    p.stride = static_cast<int>(c.stride);
    p.hswish = c.hswish;
    p.residual = c.residual;
    p.weight = floats(c.weight);
    p.bias = floats(c.bias);
    channels = p.out_channels;
    convs.push_back(std::move(p));
  }
  std::vector<PlanLinear> linears;
  auto linear = [&](const torch::Tensor& w, const torch::Tensor& b, bool relu) {
    PlanLinear l;
    l.out = static_cast<int>(w.size(0));
    l.in = static_cast<int>(w.size(1));
    l.relu = relu;
    l.weight = floats(w);
    l.bias = floats(b);
    linears.push_back(std::move(l));
  };
  if (hidden_w_.defined()) linear(hidden_w_, hidden_b_, true);
  linear(out_w_, out_b_, false);
  auto plan = OnednnPlan::build(input.channels, input.height, input.width, convs, linears);
  if (!plan) return plan.error();
  return std::shared_ptr<const OnednnPlan>(std::move(*plan));
}

torch::Tensor InferenceNet::forward(const torch::Tensor& input) const {
  c10::InferenceMode guard;
  if (layout_ == Layout::onednn && input.size(0) == 1) return forward_onednn(input);
  return layout_ == Layout::blocked ? forward_blocked(input) : forward_dense(input);
}

torch::Tensor InferenceNet::forward_onednn(const torch::Tensor& input) const {
  const auto x = input.contiguous();
  if (x.numel() != onednn_->inputs())
    throw std::invalid_argument("input of " + std::to_string(x.numel()) +
                                " values, the plan was built for " +
                                std::to_string(onednn_->inputs()));
  auto logits = torch::empty({1, onednn_->outputs()});
  onednn_->run(x.data_ptr<float>(), logits.data_ptr<float>());
  return logits;
}

const char* InferenceNet::name(Layout layout) {
  switch (layout) {
    case Layout::choose:
      return "choose";
    case Layout::dense:
      return "dense";
    case Layout::blocked:
      return "blocked";
    case Layout::onednn:
      return "onednn";
  }
  return "?";
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

std::string runtime_name() {
  return std::string("libtorch ") + TORCH_VERSION;
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
