#include "common/ml/onnx_export.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <initializer_list>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"

namespace edgenas::ml {
namespace {

// A graph under construction: nodes, their weights (initializers) and fresh value names.
class GraphWriter {
 public:
  explicit GraphWriter(onnx::GraphProto* g) : g_(g) {}

  // A weight or constant from a tensor, under a fresh name.
  std::string weight(const std::string& base, const torch::Tensor& t) {
    const auto c = t.detach().to(torch::kFloat32).contiguous();
    auto* init = g_->add_initializer();
    init->set_name(fresh(base));
    init->set_data_type(onnx::TensorProto::FLOAT);
    for (const auto d : c.sizes()) init->add_dims(d);
    init->set_raw_data(c.data_ptr<float>(), static_cast<size_t>(c.numel()) * sizeof(float));
    return init->name();
  }
  std::string scalar(const std::string& base, float v) {
    return weight(base, torch::tensor(v, torch::kFloat32).reshape({}));
  }

  // One node; its output's name.
  onnx::NodeProto* node(const std::string& op, std::initializer_list<std::string> inputs,
                        const std::string& out_base) {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(fresh(op));
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(fresh(out_base));
    return n;
  }
  static const std::string& out(const onnx::NodeProto* n) { return n->output(0); }

  static void ints(onnx::NodeProto* n, const std::string& name, std::initializer_list<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (const auto x : v) a->add_ints(x);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }

 private:
  std::string fresh(const std::string& base) { return base + "_" + std::to_string(next_++); }
  onnx::GraphProto* g_;
  int next_ = 0;
};

// y·clip(y + 3, 0, 6)/6, PyTorch's hardswish, as y·HardSigmoid(y) with α = 1/6, β = 1/2:
// HardSwish itself is opset 14, and OpenCV 4.6 reads Clip only in its opset-6 form.
std::string hswish(GraphWriter& w, const std::string& y) {
  auto* gate = w.node("HardSigmoid", {y}, "gate");
  GraphWriter::attr(gate, "alpha", 1.0F / 6);
  GraphWriter::attr(gate, "beta", 0.5F);
  return GraphWriter::out(w.node("Mul", {y, GraphWriter::out(gate)}, "hswish"));
}

// conv → [batch norm] → activation [+ input], as BlockImpl::forward.
std::string block(GraphWriter& w, BlockImpl& b, const std::string& x) {
  const auto& s = b.spec();
  auto& conv = b.conv();
  auto* c =
      conv->bias.defined()
          ? w.node("Conv", {x, w.weight("conv_w", conv->weight), w.weight("conv_b", conv->bias)},
                   "conv")
          : w.node("Conv", {x, w.weight("conv_w", conv->weight)}, "conv");
  const int64_t k = s.kernel, pad = s.kernel / 2, stride = s.stride;
  GraphWriter::ints(c, "kernel_shape", {k, k});
  GraphWriter::ints(c, "strides", {stride, stride});
  GraphWriter::ints(c, "pads", {pad, pad, pad, pad});
  std::string y = GraphWriter::out(c);
  if (s.batch_norm) {
    auto& bn = b.bn();
    auto* n = w.node("BatchNormalization",
                     {y, w.weight("bn_scale", bn->weight), w.weight("bn_bias", bn->bias),
                      w.weight("bn_mean", bn->running_mean), w.weight("bn_var", bn->running_var)},
                     "bn");
    GraphWriter::attr(n, "epsilon", static_cast<float>(bn->options.eps()));
    y = GraphWriter::out(n);
  }
  y = s.activation == search::Activation::relu ? GraphWriter::out(w.node("Relu", {y}, "relu"))
                                               : hswish(w, y);
  if (b.uses_residual()) y = GraphWriter::out(w.node("Add", {y, x}, "residual"));
  return y;
}

// x·Wᵀ + b, a torch Linear layer.
onnx::NodeProto* linear(GraphWriter& w, torch::nn::Linear& l, const std::string& x) {
  auto* n = w.node("Gemm", {x, w.weight("fc_w", l->weight), w.weight("fc_b", l->bias)}, "fc");
  GraphWriter::attr(n, "transB", int64_t{1});
  return n;
}

void value_info(onnx::ValueInfoProto* v, const std::string& name,
                std::initializer_list<int64_t> dims, const std::string& doc) {
  v->set_name(name);
  v->set_doc_string(doc);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (const auto d : dims) shape->add_dim()->set_dim_value(d);
}

void metadata(onnx::ModelProto& m, const search::ArchSpec& spec, const search::InputShape& in) {
  std::string labels;
  for (int k = 0; k < in.classes; ++k) labels += (k ? "," : "") + std::to_string(k);
  const std::pair<const char*, std::string> props[] = {
      {"edgenas.architecture", spec.key()},
      {"edgenas.input",
       "pixels: float32 NCHW, pixel values 0..255 unscaled (the graph scales "
       "by 1/255); grey images have one channel"},
      {"edgenas.input_channels", std::to_string(in.channels)},
      {"edgenas.input_height", std::to_string(in.height)},
      {"edgenas.input_width", std::to_string(in.width)},
      {"edgenas.output", "logits: float32 N x classes; the answer is the argmax"},
      {"edgenas.class_labels", labels},
  };
  for (const auto& [key, value] : props) {
    auto* p = m.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
  }
}

void build_graph(onnx::GraphProto* g, Net& net, const search::InputShape& in) {
  GraphWriter w(g);
  value_info(g->add_input(), "pixels", {in.channels, in.height, in.width},
             "pixel values 0..255, NCHW");
  std::string x = GraphWriter::out(w.node("Mul", {"pixels", w.scalar("inv255", 1.0F / 255)}, "x"));
  for (auto& m : *net->blocks()) {
    auto b = std::dynamic_pointer_cast<BlockImpl>(m.ptr());
    if (!b) throw std::runtime_error("a layer of the network is not a block");
    x = block(w, *b, x);
  }
  x = GraphWriter::out(w.node("GlobalAveragePool", {x}, "pooled"));
  x = GraphWriter::out(w.node("Flatten", {x}, "features"));
  if (net->hidden())
    x = GraphWriter::out(w.node("Relu", {GraphWriter::out(linear(w, net->hidden(), x))}, "hidden"));
  linear(w, net->classifier(), x)->set_output(0, "logits");
  value_info(g->add_output(), "logits", {in.classes}, "class scores; argmax is the answer");
}

}  // namespace

Expected<std::string> onnx_model_bytes(Net& net, const search::ArchSpec& spec,
                                       const search::InputShape& input) {
  try {
    torch::NoGradGuard no_grad;
    net->eval();
    onnx::ModelProto m;
    m.set_ir_version(7);  // the IR of opset 13
    m.set_producer_name("edgenas");
    m.set_model_version(1);
    m.set_doc_string("edgenas search space network " + spec.key());
    auto* opset = m.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOnnxOpset);
    metadata(m, spec, input);
    auto* g = m.mutable_graph();
    g->set_name("edgenas");
    build_graph(g, net, input);
    onnx::checker::check_model(m);
    std::string bytes;
    if (!m.SerializeToString(&bytes))
      return Error{errc::kFailed, "cannot serialize the ONNX model"};
    return bytes;
  } catch (const std::exception& e) {
    return Error{errc::kFailed, std::string("ONNX export: ") + e.what()};
  }
}

Status export_onnx(const std::string& path, Net& net, const search::ArchSpec& spec,
                   const search::InputShape& input) {
  auto bytes = onnx_model_bytes(net, spec, input);
  if (!bytes) return bytes.error();
  return files::write_atomic(path, *bytes);
}

}  // namespace edgenas::ml
