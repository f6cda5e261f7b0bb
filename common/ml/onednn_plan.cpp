#include "common/ml/onednn_plan.hpp"

#include <cstring>
#include <mutex>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

namespace edgenas::ml {

using dnnl::memory;
using Tag = memory::format_tag;
using Dt = memory::data_type;

struct OnednnPlan::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  mutable dnnl::stream stream{engine};
  memory input;   // the caller's image, nchw (its handle is set per call)
  memory output;  // the last linear layer's dst, nc
  struct Step {
    dnnl::primitive primitive;
    std::unordered_map<int, memory> args;
  };
  std::vector<Step> steps;
  int inputs = 0, outputs = 0;
  mutable std::mutex mu;

  // A memory of md, and the step that reorders from into it when from has another layout.
  memory as(const memory& from, const memory::desc& md) {
    if (from.get_desc() == md) return from;
    memory to(md, engine);
    steps.push_back({dnnl::reorder(from, to), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}});
    return to;
  }
  // Weights given as plain floats, reordered once into the layout a primitive wants.
  memory constant(const std::vector<float>& values, const memory::dims& dims, Tag tag,
                  const memory::desc& wanted) {
    memory plain({dims, Dt::f32, tag}, engine);
    std::memcpy(plain.get_data_handle(), values.data(), values.size() * sizeof(float));
    if (plain.get_desc() == wanted) return plain;
    memory packed(wanted, engine);
    dnnl::reorder(plain, packed).execute(stream, plain, packed);
    stream.wait();
    return packed;
  }
};

OnednnPlan::OnednnPlan() : impl_(std::make_unique<Impl>()) {}
OnednnPlan::~OnednnPlan() = default;

Expected<std::unique_ptr<OnednnPlan>> OnednnPlan::build(int channels, int height, int width,
                                                        const std::vector<PlanConv>& convs,
                                                        const std::vector<PlanLinear>& linears) {
  if (linears.empty()) return Error{"invalid", "a plan needs at least one linear layer"};
  std::unique_ptr<OnednnPlan> plan(new OnednnPlan());
  auto& p = *plan->impl_;
  try {
    p.inputs = channels * height * width;
    p.input = memory({{1, channels, height, width}, Dt::f32, Tag::nchw}, p.engine, nullptr);
    memory x = p.input;
    int c = channels, h = height, w = width;
    for (std::size_t i = 0; i < convs.size(); ++i) {
      const auto& L = convs[i];
      if (L.in_channels != c ||
          L.weight.size() !=
              static_cast<std::size_t>(L.out_channels) * L.in_channels * L.kernel * L.kernel ||
          L.bias.size() != static_cast<std::size_t>(L.out_channels))
        return Error{"invalid", "convolution " + std::to_string(i) + ": shapes do not chain"};
      const int pad = L.kernel / 2;
      const int ho = (h + 2 * pad - L.kernel) / L.stride + 1;
      const int wo = (w + 2 * pad - L.kernel) / L.stride + 1;
      const bool residual = L.residual && L.stride == 1 && L.out_channels == c;
      // The first layer picks its input layout; later ones read the previous output as it is
      // (a residual addition needs its exact layout, and no reorder sits between layers).
      const memory::desc src_md =
          i == 0 && !residual ? memory::desc({1, c, h, w}, Dt::f32, Tag::any) : x.get_desc();
      const memory::desc dst_md =
          residual ? src_md : memory::desc({1, L.out_channels, ho, wo}, Dt::f32, Tag::any);
      dnnl::convolution_forward::desc d(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md,
          memory::desc({L.out_channels, c, L.kernel, L.kernel}, Dt::f32, Tag::any),
          memory::desc({L.out_channels}, Dt::f32, Tag::a), dst_md, {L.stride, L.stride}, {pad, pad},
          {pad, pad});
      dnnl::post_ops ops;
      ops.append_eltwise(
          1.f, L.hswish ? dnnl::algorithm::eltwise_hardswish : dnnl::algorithm::eltwise_relu, 0.f,
          0.f);
      if (residual) ops.append_binary(dnnl::algorithm::binary_add, src_md);
      dnnl::primitive_attr attr;
      attr.set_post_ops(ops);
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::convolution_forward::primitive_desc pd(d, attr, p.engine);
      const memory src = p.as(x, pd.src_desc());
      memory dst(pd.dst_desc(), p.engine);
      Impl::Step step{
          dnnl::convolution_forward(pd),
          {{DNNL_ARG_SRC, src},
           {DNNL_ARG_WEIGHTS, p.constant(L.weight, {L.out_channels, c, L.kernel, L.kernel},
                                         Tag::oihw, pd.weights_desc())},
           {DNNL_ARG_BIAS, p.constant(L.bias, {L.out_channels}, Tag::a, pd.bias_desc())},
           {DNNL_ARG_DST, dst},
           {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), p.engine)}}};
      if (residual) step.args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1] = src;
      p.steps.push_back(std::move(step));
      x = dst;
      c = L.out_channels, h = ho, w = wo;
    }
    // Global average pooling into a plain {1, c} vector.
    {
      dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::pooling_avg_exclude_padding, x.get_desc(),
                                    memory::desc({1, c, 1, 1}, Dt::f32, Tag::nchw), {1, 1}, {h, w},
                                    {0, 0}, {0, 0});
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::pooling_forward::primitive_desc pd(d, attr, p.engine);
      memory dst(pd.dst_desc(), p.engine);
      p.steps.push_back({dnnl::pooling_forward(pd),
                         {{DNNL_ARG_SRC, x},
                          {DNNL_ARG_DST, dst},
                          {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), p.engine)}}});
      // The same bytes seen as {1, c}.
      x = memory({{1, c}, Dt::f32, Tag::nc}, p.engine, dst.get_data_handle());
    }
    for (std::size_t i = 0; i < linears.size(); ++i) {
      const auto& L = linears[i];
      if (L.in != c || L.weight.size() != static_cast<std::size_t>(L.out) * L.in ||
          L.bias.size() != static_cast<std::size_t>(L.out))
        return Error{"invalid", "linear layer " + std::to_string(i) + ": shapes do not chain"};
      dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, x.get_desc(),
                                          memory::desc({L.out, c}, Dt::f32, Tag::any),
                                          memory::desc({L.out}, Dt::f32, Tag::a),
                                          memory::desc({1, L.out}, Dt::f32, Tag::nc));
      dnnl::primitive_attr attr;
      if (L.relu) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        attr.set_post_ops(ops);
      }
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::inner_product_forward::primitive_desc pd(d, attr, p.engine);
      memory dst(pd.dst_desc(), p.engine);
      p.steps.push_back(
          {dnnl::inner_product_forward(pd),
           {{DNNL_ARG_SRC, p.as(x, pd.src_desc())},
            {DNNL_ARG_WEIGHTS, p.constant(L.weight, {L.out, c}, Tag::oi, pd.weights_desc())},
            {DNNL_ARG_BIAS, p.constant(L.bias, {L.out}, Tag::a, pd.bias_desc())},
            {DNNL_ARG_DST, dst},
            {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), p.engine)}}});
      x = dst;
      c = L.out;
    }
    p.output = x;
    p.outputs = c;
  } catch (const dnnl::error& e) {
    return Error{"unsupported", std::string("oneDNN: ") + e.what()};
  }
  return plan;
}

void OnednnPlan::run(const float* input, float* logits) const {
  auto& p = *impl_;
  std::lock_guard<std::mutex> lock(p.mu);
  p.input.set_data_handle(const_cast<float*>(input));
  for (const auto& s : p.steps) s.primitive.execute(p.stream, s.args);
  p.stream.wait();
  std::memcpy(logits, p.output.get_data_handle(), static_cast<std::size_t>(p.outputs) * 4);
}

int OnednnPlan::inputs() const {
  return impl_->inputs;
}
int OnednnPlan::outputs() const {
  return impl_->outputs;
}

}  // namespace edgenas::ml
