#include "coordinator/predictor/model.hpp"

#include "common/search/mlp_space.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace edgenas::predictor {
namespace {

constexpr char kMagic[8] = {'E', 'D', 'G', 'E', 'N', 'A', 'S', 'P'};
constexpr uint32_t kFormatVersion = 1;
constexpr std::size_t kMaxHeaderBytes = 16 << 20;

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
    return Error{"bad_model", "the model's input width does not match its feature spec"};
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
  const std::string h = header.dump();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error{"io", "cannot write " + tmp};
    const uint32_t v = kFormatVersion, len = static_cast<uint32_t>(h.size());
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&v), 4);
    out.write(reinterpret_cast<const char*>(&len), 4);
    out << h;
    auto put = [&](const std::vector<float>& v2) {
      out.write(reinterpret_cast<const char*>(v2.data()),
                static_cast<std::streamsize>(v2.size() * sizeof(float)));
    };
    for (const auto& d : m.mlp.trunk) put(d.w), put(d.b);
    for (const auto& d : m.mlp.heads) put(d.w), put(d.b);
    if (!out) return Error{"io", "write failed: " + tmp};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error{"io", "cannot rename " + tmp + ": " + ec.message()};
  return ok_status();
}

Expected<PredictorModel> parse_predictor(const std::string& all, const std::string& what) {
  auto bad = [&](const std::string& msg) { return Error{"bad_model", what + ": " + msg}; };
  if (all.size() < 16 || std::memcmp(all.data(), kMagic, 8) != 0)
    return bad("not an edgenas predictor file");
  uint32_t v = 0, len = 0;
  std::memcpy(&v, all.data() + 8, 4);
  std::memcpy(&len, all.data() + 12, 4);
  if (v != kFormatVersion)
    return bad("predictor format version " + std::to_string(v) + " (this build reads " +
               std::to_string(kFormatVersion) + ")");
  if (len > all.size() - 16 || len > kMaxHeaderBytes) return bad("truncated header");
  PredictorModel m;
  std::size_t pos = 16 + len;
  try {
    const auto header = nlohmann::json::parse(all.substr(16, len));
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
      if (all.size() - pos < bytes) return false;
      d.w.resize(n);
      d.b.resize(static_cast<std::size_t>(out));
      std::memcpy(d.w.data(), all.data() + pos, n * sizeof(float));
      pos += n * sizeof(float);
      std::memcpy(d.b.data(), all.data() + pos, static_cast<std::size_t>(out) * sizeof(float));
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
  if (pos != all.size()) return bad("trailing bytes after the weights");
  if (m.mlp.inputs() != static_cast<int>(m.norm.mean.size()))
    return bad("input width differs from the feature spec");
  return m;
}

Expected<PredictorModel> load_predictor(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"not_found", path + ": cannot open predictor file"};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_predictor(ss.str(), path);
}

bool trained_in_simulation(const PredictorModel& m) {
  if (!m.meta.is_object()) return false;
  const auto it = m.meta.find(kTrainedInKey);
  return it != m.meta.end() && it->is_string() && it->get<std::string>() == kTrainedInSimulation;
}

}  // namespace edgenas::predictor
