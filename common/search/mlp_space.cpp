#include "common/search/mlp_space.hpp"

#include <algorithm>

namespace edgenas::search {

const std::vector<int>& MlpSpace::widths() {
  static const std::vector<int> w{16, 32, 64, 96, 128, 192, 256, kMlpMaxWidth};
  return w;
}
const std::vector<double>& MlpSpace::dropouts() {
  static const std::vector<double> d{0.0, 0.1, 0.2};
  return d;
}
const std::vector<double>& MlpSpace::learning_rates() {
  static const std::vector<double> r{3e-4, 1e-3, 3e-3};
  return r;
}

std::string MlpSpec::key() const {
  std::string k;
  for (int w : hidden) k += std::to_string(w) + "-";
  char tail[64];
  std::snprintf(tail, sizeof tail, "%s-d%.2f-lr%.0e",
                activation == MlpActivation::relu ? "relu" : "tanh", dropout, learning_rate);
  return k + tail;
}

namespace {
template <class T>
const T& pick(const std::vector<T>& v, std::mt19937_64& rng) {
  return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
}
}  // namespace

MlpSpec MlpSpace::sample(std::mt19937_64& rng) const {
  MlpSpec s;
  // Shallow nets are likelier: the data are a few thousand traces.
  // (One draw per statement: the operands of + are not sequenced.)
  int depth = std::uniform_int_distribution<int>(1, 4)(rng);
  if (std::bernoulli_distribution(0.25)(rng))
    depth += std::uniform_int_distribution<int>(0, kMlpMaxLayers - 4)(rng);
  for (int i = 0; i < depth; ++i) s.hidden.push_back(pick(widths(), rng));
  s.activation = std::bernoulli_distribution(0.7)(rng) ? MlpActivation::relu : MlpActivation::tanh;
  s.dropout = pick(dropouts(), rng);
  s.learning_rate = pick(learning_rates(), rng);
  return s;
}

MlpSpec MlpSpace::mutate(const MlpSpec& spec, std::mt19937_64& rng) const {
  MlpSpec s = spec;
  for (int attempt = 0; attempt < 16 && s == spec; ++attempt) {
    const std::size_t i = std::uniform_int_distribution<std::size_t>(0, s.hidden.size() - 1)(rng);
    switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
      case 0:
        if (static_cast<int>(s.hidden.size()) < kMlpMaxLayers)
          s.hidden.insert(s.hidden.begin() + static_cast<long>(i), pick(widths(), rng));
        break;
      case 1:
        if (s.hidden.size() > 1) s.hidden.erase(s.hidden.begin() + static_cast<long>(i));
        break;
      case 2:
        s.hidden[i] = pick(widths(), rng);
        break;
      case 3:
        s.activation =
            s.activation == MlpActivation::relu ? MlpActivation::tanh : MlpActivation::relu;
        break;
      case 4:
        s.dropout = pick(dropouts(), rng);
        break;
      default:
        s.learning_rate = pick(learning_rates(), rng);
        break;
    }
  }
  return s;
}

bool MlpSpace::contains(const MlpSpec& s) const {
  if (s.hidden.empty() || static_cast<int>(s.hidden.size()) > kMlpMaxLayers) return false;
  auto in = [](const auto& v, auto x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  for (int w : s.hidden)
    if (!in(widths(), w) || w > kMlpMaxWidth) return false;
  return in(dropouts(), s.dropout) && in(learning_rates(), s.learning_rate);
}

}  // namespace edgenas::search
