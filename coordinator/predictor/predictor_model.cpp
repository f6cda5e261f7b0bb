#include "coordinator/predictor/predictor_model.hpp"

#include "common/search/mlp_space.hpp"
#include "common/util/errors.hpp"
#include "common/util/framed.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace edgenas::predictor {
namespace {

constexpr framed::Kind kPredictorFile{"EDGENASP", 1, "predictor"};

}  // namespace

std::array<std::vector<float>, kHeads> softmax_heads(
    const std::vector<std::vector<float>>& logits) {
  std::array<std::vector<float>, kHeads> p;
  for (std::size_t h = 0; h < kHeads && h < logits.size(); ++h) {
    const auto& l = logits[h];
    const float m = *std::max_element(l.begin(), l.end());
    double sum = 0;
    p[h].resize(l.size());
    for (std::size_t i = 0; i < l.size(); ++i) sum += p[h][i] = std::exp(l[i] - m);
    for (auto& v : p[h]) v = static_cast<float>(v / sum);
  }
  return p;
}

Expected<std::array<std::vector<float>, kHeads>> PredictorModel::probabilities(
    const Context& ctx) const {
  auto x = norm.apply(featurize(ctx));
  if (!x) return x.error();
  if (static_cast<int>(x->size()) != mlp.inputs())
    return Error{errc::kBadModel, "the model's input width does not match its feature spec"};
  return softmax_heads(mlp.forward(*x));
}

Expected<Choice> PredictorModel::predict(const Context& ctx) const {
  auto p = probabilities(ctx);
  if (!p) return p.error();
  Choice c;
  for (std::size_t h = 0; h < kHeads; ++h)
    c.index[h] =
        static_cast<int>(std::max_element((*p)[h].begin(), (*p)[h].end()) - (*p)[h].begin());
  return c;
}

Status save_predictor(const std::string& path, const PredictorModel& m) {
  nlohmann::json trunk_widths = nlohmann::json::array();
  if (!m.mlp.trunk.empty()) trunk_widths.push_back(m.mlp.trunk[0].in);
  for (const auto& d : m.mlp.trunk) trunk_widths.push_back(d.out);
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& h : m.mlp.heads) heads.push_back(h.out);
  const nlohmann::json header{
      {"predictor_version", m.version},
      {"feature_norm", m.norm.to_json()},
      {"trunk",
       {{"widths", trunk_widths},
        {"activation", m.mlp.activation == MlpActivation::relu ? "relu" : "tanh"}}},
      {"head_input", m.mlp.heads.empty() ? 0 : m.mlp.heads[0].in},
      {"heads", heads},
      {"meta", m.meta}};
  std::string weights;
  auto put = [&](const std::vector<float>& v) {
    weights.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  };
  for (const auto& d : m.mlp.trunk) put(d.w), put(d.b);
  for (const auto& d : m.mlp.heads) put(d.w), put(d.b);
  return framed::save(kPredictorFile, path, header, weights);
}

namespace {

// The model in a decoded frame: the header's shapes, then the weights in order.
Expected<PredictorModel> from_frame(const framed::Frame& frame, const std::string& what) {
  auto bad = [&](const std::string& msg) { return Error{errc::kBadModel, what + ": " + msg}; };
  const auto& header = frame.header;
  const std::string& weights = frame.payload;
  PredictorModel m;
  std::size_t pos = 0;
  try {
    m.version = header.at("predictor_version").get<int>();
    auto norm = FeatureNorm::from_json(header.at("feature_norm"));
    if (!norm) return bad(norm.error().message);
    m.norm = std::move(*norm);
    const auto widths = header.at("trunk").at("widths").get<std::vector<int>>();
    const std::string act = header.at("trunk").at("activation").get<std::string>();
    if (act != "relu" && act != "tanh") return bad("unknown activation '" + act + "'");
    m.mlp.activation = act == "relu" ? MlpActivation::relu : MlpActivation::tanh;
    const auto heads = header.at("heads").get<std::vector<int>>();
    m.meta = header.value("meta", nlohmann::json::object());
    if (widths.size() > static_cast<std::size_t>(search::kMlpMaxLayers) + 1 || heads.empty() ||
        heads.size() > 16)
      return bad("implausible shape");
    auto take = [&](int in, int out, Dense& d) -> bool {
      if (in < 1 || out < 1 || in > 100'000 || out > 100'000) return false;
      d.in = in;
      d.out = out;
      const std::size_t n = static_cast<std::size_t>(in) * static_cast<std::size_t>(out);
      const std::size_t bytes = (n + static_cast<std::size_t>(out)) * sizeof(float);
      if (weights.size() - pos < bytes) return false;
      d.w.resize(n);
      d.b.resize(static_cast<std::size_t>(out));
      std::memcpy(d.w.data(), weights.data() + pos, n * sizeof(float));
      pos += n * sizeof(float);
      std::memcpy(d.b.data(), weights.data() + pos, static_cast<std::size_t>(out) * sizeof(float));
      pos += static_cast<std::size_t>(out) * sizeof(float);
      return std::all_of(d.w.begin(), d.w.end(), [](float f) { return std::isfinite(f); }) &&
             std::all_of(d.b.begin(), d.b.end(), [](float f) { return std::isfinite(f); });
    };
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
      m.mlp.trunk.emplace_back();
      if (!take(widths[i], widths[i + 1], m.mlp.trunk.back()))
        return bad("truncated or corrupt weights");
    }
    const int head_in = widths.empty() ? header.at("head_input").get<int>() : widths.back();
    for (int out : heads) {
      m.mlp.heads.emplace_back();
      if (!take(head_in, out, m.mlp.heads.back())) return bad("truncated or corrupt weights");
    }
  } catch (const std::exception& e) {
    return bad(std::string("corrupt header: ") + e.what());
  }
  if (pos != weights.size()) return bad("trailing bytes after the weights");
  if (m.mlp.inputs() != static_cast<int>(m.norm.mean.size()))
    return bad("input width differs from the feature spec");
  return m;
}

}  // namespace

Expected<PredictorModel> parse_predictor(const std::string& bytes, const std::string& what) {
  auto frame = framed::decode(kPredictorFile, bytes, what);
  if (!frame) return frame.error();
  return from_frame(*frame, what);
}

Expected<PredictorModel> load_predictor(const std::string& path) {
  auto frame = framed::load(kPredictorFile, path);
  if (!frame) return frame.error();
  return from_frame(*frame, path);
}

bool trained_in_simulation(const PredictorModel& m) {
  if (!m.meta.is_object()) return false;
  const auto it = m.meta.find(kTrainedInKey);
  return it != m.meta.end() && it->is_string() && it->get<std::string>() == kTrainedInSimulation;
}

}  // namespace edgenas::predictor
