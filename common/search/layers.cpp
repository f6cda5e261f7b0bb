#include "common/search/layers.hpp"

#include <array>

#include "common/search/nb201_space.hpp"
#include "common/search/space.hpp"

namespace edgenas::search {
namespace {

constexpr int64_t kFloatBytes = 4;

int out_side(int side, int stride) {
  return (side + stride - 1) / stride;
}

struct Shape {
  int channels, height, width;
  int64_t elements() const { return int64_t{channels} * height * width; }
};

Layer base(LayerOp op, Shape in, int out_channels, int kernel, int stride) {
  Layer l;
  l.op = op;
  l.kernel = kernel;
  l.stride = stride;
  l.in_channels = in.channels;
  l.out_channels = out_channels;
  l.height = in.height;
  l.width = in.width;
  return l;
}

Shape output_of(const Layer& l) {
  return {l.out_channels, out_side(l.height, l.stride), out_side(l.width, l.stride)};
}

void count_bytes(Layer& l, int64_t inputs_elements) {
  l.bytes = kFloatBytes * (inputs_elements + output_of(l).elements() + l.params);
}

struct ConvOptions {
  bool batch_norm = true;
  LayerAct activation = LayerAct::relu;
  bool bias = false;
};

Layer conv(Shape in, int out_channels, int kernel, int stride, ConvOptions o) {
  Layer l = base(LayerOp::conv, in, out_channels, kernel, stride);
  l.batch_norm = o.batch_norm;
  l.activation = o.activation;
  const int64_t weights = int64_t{in.channels} * out_channels * kernel * kernel;
  l.params = weights + (o.batch_norm ? 2 * out_channels : o.bias ? out_channels : 0);
  const Shape out = output_of(l);
  l.flops = 2 * weights * out.height * out.width;
  count_bytes(l, in.elements());
  return l;
}

Layer avg_pool(Shape in, int kernel, int stride) {
  Layer l = base(LayerOp::avg_pool, in, in.channels, kernel, stride);
  l.flops = int64_t{kernel} * kernel * output_of(l).elements();
  count_bytes(l, in.elements());
  return l;
}

Layer global_pool(Shape in) {
  Layer l = base(LayerOp::global_pool, in, in.channels, 1, 1);
  l.flops = in.elements();
  l.bytes = kFloatBytes * (in.elements() + in.channels);
  return l;
}

Layer linear(int in, int out, LayerAct activation) {
  Layer l = base(LayerOp::linear, {in, 1, 1}, out, 1, 1);
  l.activation = activation;
  l.params = int64_t{in} * out + out;
  l.flops = 2 * int64_t{in} * out;
  count_bytes(l, in);
  return l;
}

Layer elementwise(LayerOp op, Shape in, int inputs) {
  Layer l = base(op, in, in.channels, 1, 1);
  l.inputs = inputs;
  if (op == LayerOp::add) l.flops = (inputs - 1) * in.elements();
  if (op == LayerOp::zero) l.flops = in.elements();
  if (op != LayerOp::identity) count_bytes(l, inputs * in.elements());
  return l;
}

// The edges in NAS-Bench-201's string order (1←0, 2←0, 2←1, 3←0, 3←1, 3←2).
constexpr std::array<std::array<int, 2>, kNb201Edges> kEdges = {
    {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}}};

// Which nodes the input reaches and which reach the output through edges that are not `none`.
struct CellLiveness {
  std::array<bool, 4> from_input{true, false, false, false};
  std::array<bool, 4> to_output{false, false, false, true};

  explicit CellLiveness(const Nb201Cell& cell) {
    for (std::size_t e = 0; e < kEdges.size(); ++e)  // edges are in topological order
      if (cell.ops[e] != Nb201Op::none && from_input[kEdges[e][0]]) from_input[kEdges[e][1]] = true;
    for (std::size_t e = kEdges.size(); e-- > 0;)
      if (cell.ops[e] != Nb201Op::none && to_output[kEdges[e][1]]) to_output[kEdges[e][0]] = true;
  }
  bool edge(const Nb201Cell& cell, std::size_t e) const {
    return cell.ops[e] != Nb201Op::none && from_input[kEdges[e][0]] && to_output[kEdges[e][1]];
  }
  bool node(int n) const { return from_input[n] && to_output[n]; }
};

Layer nb201_edge(Nb201Op op, Shape s) {
  switch (op) {
    case Nb201Op::nor_conv_1x1:
      return conv(s, s.channels, 1, 1, {});
    case Nb201Op::nor_conv_3x3:
      return conv(s, s.channels, 3, 1, {});
    case Nb201Op::avg_pool_3x3:
      return avg_pool(s, 3, 1);
    case Nb201Op::skip_connect:
      return elementwise(LayerOp::identity, s, 1);
    case Nb201Op::none:
      break;
  }
  return elementwise(LayerOp::zero, s, 1);
}

void lower_cell(const Nb201Cell& cell, Shape s, LayerList& out) {
  const CellLiveness live(cell);
  for (std::size_t e = 0; e < kEdges.size(); ++e) {
    out.push_back(nb201_edge(cell.ops[e], s));
    out.back().live = live.edge(cell, e);
    const int node = kEdges[e][1];
    const bool last_into_node = e + 1 == kEdges.size() || kEdges[e + 1][1] != node;
    if (last_into_node && node > 1) {
      out.push_back(elementwise(LayerOp::add, s, node));
      out.back().live = live.node(node);
    }
  }
}

// ResNet basic block with stride 2: two 3x3 convolutions, a pooled 1x1 shortcut, their sum.
void lower_reduction(Shape in, LayerList& out) {
  const int c = 2 * in.channels;
  out.push_back(conv(in, c, 3, 2, {}));
  const Shape half = output_of(out.back());
  out.push_back(conv(half, c, 3, 1, {}));
  out.push_back(avg_pool(in, 2, 2));
  out.push_back(conv(output_of(out.back()), c, 1, 1, {false, LayerAct::none, false}));
  out.push_back(elementwise(LayerOp::add, {c, half.height, half.width}, 2));
}

}  // namespace

std::string_view to_string(LayerOp op) {
  static constexpr std::array<std::string_view, kLayerOps> names = {
      "conv", "avg_pool", "global_pool", "linear", "add", "zero", "identity"};
  return names[static_cast<std::size_t>(op)];
}

LayerList lower(const ArchSpec& spec, const InputShape& input) {
  LayerList out;
  Shape s{input.channels, input.height, input.width};
  for (const auto& b : spec.blocks) {
    const LayerAct act = b.activation == Activation::hswish ? LayerAct::hswish : LayerAct::relu;
    out.push_back(conv(s, b.out_channels, b.kernel, b.stride, {b.batch_norm, act, !b.batch_norm}));
    const Shape next = output_of(out.back());
    if (b.residual && b.stride == 1 && next.channels == s.channels)
      out.push_back(elementwise(LayerOp::add, next, 2));
    s = next;
  }
  out.push_back(global_pool(s));
  int features = s.channels;
  if (spec.head_width > 0) {
    out.push_back(linear(features, spec.head_width, LayerAct::relu));
    features = spec.head_width;
  }
  out.push_back(linear(features, input.classes, LayerAct::none));
  return out;
}

LayerList lower(const Nb201Cell& cell, int classes, int input) {
  LayerList out;
  out.push_back(conv({3, input, input}, 16, 3, 1, {true, LayerAct::none, false}));
  Shape s = output_of(out.back());
  for (int stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      lower_reduction(s, out);
      s = output_of(out.back());
    }
    for (int copy = 0; copy < 5; ++copy) lower_cell(cell, s, out);
  }
  out.push_back(global_pool(s));
  out.push_back(linear(s.channels, classes, LayerAct::none));
  // A cell without a path from its input to its output passes zeros on: the network's output
  // is a constant and no layer's result is used.
  if (!CellLiveness(cell).from_input[3])
    for (auto& l : out) l.live = false;
  return out;
}

}  // namespace edgenas::search
