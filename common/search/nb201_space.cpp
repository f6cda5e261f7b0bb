#include "common/search/nb201_space.hpp"

#include <algorithm>

namespace edgenas::search {
namespace {

constexpr std::array<std::string_view, kNb201Ops> kOpNames = {
    "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};
// The source node of each edge, in string order.
constexpr std::array<int, kNb201Edges> kEdgeFrom = {0, 0, 1, 0, 1, 2};
// Where each target node's edges start in string order (node 1: edge 0, node 2: 1, node 3: 3).
constexpr std::array<int, 4> kNodeFirstEdge = {0, 1, 3, 6};

bool is_conv(Nb201Op op) {
  return op == Nb201Op::nor_conv_1x1 || op == Nb201Op::nor_conv_3x3;
}

// The network's costs that do not depend on the cell: the stem, the two reduction blocks, the
// last batch norm and the classifier. FLOPs as multiply-accumulates.
void fixed_costs(int classes, int input, double& params, double& flops) {
  double hw = static_cast<double>(input) * input;
  params += 3 * 16 * 9 + 2 * 16;  // stem: 3x3 convolution without bias, batch norm
  flops += 3 * 16 * 9 * hw;
  for (double c_in : {16.0, 32.0}) {  // ResNet basic block, stride 2, then a 1x1 shortcut
    const double c = 2 * c_in;
    hw /= 4;
    params += 9 * c_in * c + 2 * c + 9 * c * c + 2 * c + c_in * c;
    flops += (9 * c_in * c + 9 * c * c + c_in * c) * hw;
  }
  params += 2 * 64 + 64.0 * classes + classes;  // last batch norm; the classifier with bias
  flops += 64.0 * classes + classes;
}

}  // namespace

std::string_view to_string(Nb201Op op) {
  return kOpNames[static_cast<std::size_t>(op)];
}

std::optional<Nb201Op> nb201_op_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kOpNames.size(); ++i)
    if (kOpNames[i] == s) return static_cast<Nb201Op>(i);
  return std::nullopt;
}

std::string Nb201Cell::key() const {
  std::string s;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) s += "+";
    s += "|";
    for (int e = kNodeFirstEdge[static_cast<std::size_t>(node - 1)];
         e < kNodeFirstEdge[static_cast<std::size_t>(node)]; ++e) {
      s += std::string(to_string(ops[static_cast<std::size_t>(e)])) + "~" +
           std::to_string(kEdgeFrom[static_cast<std::size_t>(e)]) + "|";
    }
  }
  return s;
}

std::optional<Nb201Cell> Nb201Cell::from_key(std::string_view s) {
  Nb201Cell c;
  int edge = 0;
  std::size_t pos = 0;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) {
      if (s.substr(pos, 1) != "+") return std::nullopt;
      ++pos;
    }
    if (s.substr(pos, 1) != "|") return std::nullopt;
    ++pos;
    for (int from = 0; from < node; ++from, ++edge) {
      const auto bar = s.find('|', pos);
      if (bar == std::string_view::npos) return std::nullopt;
      const auto item = s.substr(pos, bar - pos);
      const auto tilde = item.find('~');
      if (tilde == std::string_view::npos || item.substr(tilde + 1) != std::to_string(from))
        return std::nullopt;
      const auto op = nb201_op_from_string(item.substr(0, tilde));
      if (!op) return std::nullopt;
      c.ops[static_cast<std::size_t>(edge)] = *op;
      pos = bar + 1;
    }
  }
  if (pos != s.size()) return std::nullopt;
  return c;
}

int Nb201Cell::index() const {
  int i = 0;
  for (auto op : ops) i = i * kNb201Ops + static_cast<int>(op);
  return i;
}

Nb201Cell Nb201Cell::at(int index) {
  Nb201Cell c;
  for (int e = kNb201Edges - 1; e >= 0; --e) {
    c.ops[static_cast<std::size_t>(e)] = static_cast<Nb201Op>(index % kNb201Ops);
    index /= kNb201Ops;
  }
  return c;
}

int Nb201Cell::conv_edges() const {
  return static_cast<int>(std::count_if(ops.begin(), ops.end(), is_conv));
}

int Nb201Cell::largest_kernel() const {
  int k = 0;
  for (auto op : ops) {
    if (op == Nb201Op::nor_conv_3x3) k = 3;
    if (op == Nb201Op::nor_conv_1x1) k = std::max(k, 1);
  }
  return k;
}

Nb201Cost nb201_cost(const Nb201Cell& cell, int classes, int input) {
  double params = 0, flops = 0;
  fixed_costs(classes, input, params, flops);
  for (int stage = 0; stage < 3; ++stage) {
    const double c = 16 << stage, side = static_cast<double>(input >> stage);
    for (auto op : cell.ops) {  // five cells per stage; ReLU-conv-batch norm, no bias
      const double k2 = op == Nb201Op::nor_conv_3x3 ? 9 : 1;
      if (!is_conv(op)) continue;
      params += 5 * (k2 * c * c + 2 * c);
      flops += 5 * k2 * c * c * side * side;
    }
  }
  return {params / 1e6, flops / 1e6};
}

Nb201Bounds Nb201Bounds::from(const Hyperparameters& hp) {
  return {std::clamp(hp.layers - 1, 0, kNb201Edges), hp.kernel < 5 ? 1 : 3};
}

std::string Nb201Bounds::key() const {
  return "conv<=" + std::to_string(max_conv_edges) + ",k<=" + std::to_string(max_kernel);
}

bool Nb201Space::contains(const Nb201Cell& cell) const {
  return cell.conv_edges() <= bounds_.max_conv_edges && cell.largest_kernel() <= bounds_.max_kernel;
}

int Nb201Space::size() const {
  int n = 0;
  for (int i = 0; i < 15'625; ++i) n += contains(Nb201Cell::at(i)) ? 1 : 0;
  return n;
}

Nb201Cell Nb201Space::sample(std::mt19937_64& rng) const {
  // Rejection: uniform within the bounds; the smallest bounded space (no convolution) keeps
  // 729 of 15 625 cells, so ~21 draws on average.
  std::uniform_int_distribution<int> pick(0, 15'624);
  while (true) {
    const Nb201Cell c = Nb201Cell::at(pick(rng));
    if (contains(c)) return c;
  }
}

Nb201Cell Nb201Space::mutate(const Nb201Cell& cell, std::mt19937_64& rng) const {
  std::uniform_int_distribution<int> edge(0, kNb201Edges - 1), other(1, kNb201Ops - 1);
  // Every cell has an edge whose operation can change within the bounds (to none, skip or
  // pool at least), so this ends.
  while (true) {
    Nb201Cell c = cell;
    const auto e = static_cast<std::size_t>(edge(rng));
    const int shift = other(rng);
    c.ops[e] = static_cast<Nb201Op>((static_cast<int>(c.ops[e]) + shift) % kNb201Ops);
    if (contains(c)) return c;
  }
}

std::vector<float> Nb201Space::encode(const Nb201Cell& cell) {
  std::vector<float> v(kNb201Edges * kNb201Ops, 0.0f);
  for (std::size_t e = 0; e < cell.ops.size(); ++e)
    v[e * kNb201Ops + static_cast<std::size_t>(cell.ops[e])] = 1.0f;
  return v;
}

}  // namespace edgenas::search
