#include "common/search/space.hpp"

#include <algorithm>

namespace edgenas::search {

std::string_view to_string(Activation a) {
  return a == Activation::relu ? "relu" : "hswish";
}

std::optional<Activation> activation_from_string(std::string_view s) {
  if (s == "relu") return Activation::relu;
  if (s == "hswish") return Activation::hswish;
  return std::nullopt;
}

bool ArchSpec::operator==(const ArchSpec& o) const {
  return key() == o.key();
}

std::string ArchSpec::key() const {
  std::string k;
  for (const auto& b : blocks) {
    k += "c" + std::to_string(b.out_channels) + "k" + std::to_string(b.kernel) + "s" +
         std::to_string(b.stride) + (b.batch_norm ? "b" : "") + (b.residual ? "r" : "") +
         (b.activation == Activation::hswish ? "h" : "") + "-";
  }
  return k + "h" + std::to_string(head_width);
}

std::optional<ArchSpec> ArchSpec::from_key(std::string_view k) {
  ArchSpec s;
  auto read_int = [&](std::size_t& i, int& out) {
    const std::size_t start = i;
    int v = 0;
    while (i < k.size() && k[i] >= '0' && k[i] <= '9' && i - start < 6) v = v * 10 + (k[i++] - '0');
    out = v;
    return i > start;
  };
  std::size_t i = 0;
  while (i < k.size() && k[i] == 'c') {
    BlockSpec b;
    ++i;
    if (!read_int(i, b.out_channels) || i >= k.size() || k[i++] != 'k' || !read_int(i, b.kernel) ||
        i >= k.size() || k[i++] != 's' || !read_int(i, b.stride))
      return std::nullopt;
    b.batch_norm = i < k.size() && k[i] == 'b' && ++i;
    b.residual = i < k.size() && k[i] == 'r' && ++i;
    b.activation = i < k.size() && k[i] == 'h' && ++i ? Activation::hswish : Activation::relu;
    if (i >= k.size() || k[i++] != '-') return std::nullopt;
    if (b.out_channels < 1 || b.kernel < 1 || b.kernel > 15 || b.stride < 1 || b.stride > 2)
      return std::nullopt;
    s.blocks.push_back(b);
    if (s.blocks.size() > 64) return std::nullopt;
  }
  if (s.blocks.empty() || i >= k.size() || k[i++] != 'h' || !read_int(i, s.head_width) ||
      i != k.size())
    return std::nullopt;
  return s;
}

Cost cost_of(const ArchSpec& spec, const InputShape& input) {
  Cost c;
  int64_t ch = input.channels, h = input.height, w = input.width;
  for (const auto& b : spec.blocks) {
    const int64_t out_h = (h + b.stride - 1) / b.stride, out_w = (w + b.stride - 1) / b.stride;
    const int64_t weights = ch * b.out_channels * b.kernel * b.kernel;
    c.params += weights + (b.batch_norm ? 2 * b.out_channels : b.out_channels);
    c.flops += 2 * weights * out_h * out_w;
    ch = b.out_channels;
    h = out_h;
    w = out_w;
  }
  int64_t features = ch;
  if (spec.head_width > 0) {
    c.params += features * spec.head_width + spec.head_width;
    c.flops += 2 * features * spec.head_width;
    features = spec.head_width;
  }
  c.params += features * input.classes + input.classes;
  c.flops += 2 * features * input.classes;
  return c;
}

SearchSpace::SearchSpace(const Hyperparameters& hp)
    : max_layers_(std::clamp(hp.layers, 1, hp::kMaxLayers)) {
  for (int c : {4, 8, 16, 32, 64, 128, 256, 512}) {
    if (c <= hp.filters || channels_.empty()) channels_.push_back(c);
  }
  for (int k : {1, 3, 5, 7, 9, 11}) {
    if (k <= hp.kernel) kernels_.push_back(k);
  }
  if (kernels_.empty()) kernels_.push_back(1);
  heads_ = {0, 32, 64, 128};
}

BlockSpec SearchSpace::sample_block(std::mt19937_64& rng) const {
  auto pick = [&](const std::vector<int>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  std::bernoulli_distribution coin(0.5), rarely(0.3);
  BlockSpec b;
  b.out_channels = pick(channels_);
  b.kernel = pick(kernels_);
  b.stride = rarely(rng) ? 2 : 1;
  b.batch_norm = coin(rng);
  b.residual = coin(rng);
  b.activation = rarely(rng) ? Activation::hswish : Activation::relu;
  return b;
}

ArchSpec SearchSpace::sample(std::mt19937_64& rng) const {
  ArchSpec s;
  const int n = std::uniform_int_distribution<int>(1, max_layers_)(rng);
  for (int i = 0; i < n; ++i) s.blocks.push_back(sample_block(rng));
  s.head_width = heads_[std::uniform_int_distribution<size_t>(0, heads_.size() - 1)(rng)];
  return s;
}

ArchSpec SearchSpace::mutate(const ArchSpec& spec, std::mt19937_64& rng) const {
  ArchSpec s = spec;
  auto pick = [&](const std::vector<int>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  // Retry until something changed (a pick can return the current value).
  for (int attempt = 0; attempt < 16 && s == spec; ++attempt) {
    const int what = std::uniform_int_distribution<int>(0, 8)(rng);
    auto& b = s.blocks[std::uniform_int_distribution<size_t>(0, s.blocks.size() - 1)(rng)];
    switch (what) {
      case 0:
        if (static_cast<int>(s.blocks.size()) < max_layers_) {
          // One draw per statement: the order of a call's arguments is unspecified (GCC takes
          // them right to left on x86-64, left to right on aarch64), and a seed must give the
          // same architectures on every box.
          const BlockSpec block = sample_block(rng);
          const size_t at = std::uniform_int_distribution<size_t>(0, s.blocks.size())(rng);
          s.blocks.insert(s.blocks.begin() + static_cast<long>(at), block);
        }
        break;
      case 1:
        if (s.blocks.size() > 1)
          s.blocks.erase(s.blocks.begin() + static_cast<long>(std::uniform_int_distribution<size_t>(
                                                0, s.blocks.size() - 1)(rng)));
        break;
      case 2:
        b.out_channels = pick(channels_);
        break;
      case 3:
        b.kernel = pick(kernels_);
        break;
      case 4:
        b.stride = 3 - b.stride;
        break;
      case 5:
        b.batch_norm = !b.batch_norm;
        break;
      case 6:
        b.residual = !b.residual;
        break;
      case 7:
        b.activation = b.activation == Activation::relu ? Activation::hswish : Activation::relu;
        break;
      default:
        s.head_width = pick(heads_);
        break;
    }
  }
  return s;
}

bool SearchSpace::contains(const ArchSpec& spec) const {
  if (spec.blocks.empty() || static_cast<int>(spec.blocks.size()) > max_layers_) return false;
  auto in = [](const std::vector<int>& v, int x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  for (const auto& b : spec.blocks) {
    if (!in(channels_, b.out_channels) || !in(kernels_, b.kernel) ||
        (b.stride != 1 && b.stride != 2))
      return false;
  }
  return in(heads_, spec.head_width);
}

}  // namespace edgenas::search
