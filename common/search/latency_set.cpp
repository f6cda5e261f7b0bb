#include "common/search/latency_set.hpp"

#include <map>
#include <set>
#include <stdexcept>

#include "common/search/space.hpp"
#include "common/util/errors.hpp"

namespace edgenas::search {

using nlohmann::json;

std::string DeviceKind::label() const {
  return kind + " | " + runtime + " | " + std::to_string(threads) +
         (threads == 1 ? " thread | " : " threads | ") + space;
}

std::optional<LayerList> lower_key(std::string_view space, std::string_view key,
                                   const DatasetShape& input) {
  if (space != "cnn") return std::nullopt;
  const auto spec = ArchSpec::from_key(key);
  if (!spec) return std::nullopt;
  return lower(*spec, {input.channels, input.image_h, input.image_w, input.classes});
}

double KindModel::predict(const std::vector<double>& features) const {
  return transfer ? transfer->predict(features) : additive.predict(features);
}

const KindModel* LatencyModelSet::find(std::string_view kind, std::string_view space,
                                       std::optional<std::string_view> runtime,
                                       std::optional<int> threads) const {
  for (const auto& k : kinds) {
    if (k.kind.kind != kind || k.kind.space != space) continue;
    if (runtime && k.kind.runtime != *runtime) continue;
    if (threads && k.kind.threads != *threads) continue;
    return &k;
  }
  return nullptr;
}

LatencyModelSet servable(const LatencyModelSet& set) {
  std::set<std::string> keep;
  for (const auto& k : set.kinds) {
    if (!k.serves) continue;
    keep.insert(k.kind.label());
    if (k.transfer)
      for (const auto& src : k.transfer->sources) keep.insert(src.device);
  }
  LatencyModelSet out{set.version, set.created_ms, set.scale, {}};
  for (const auto& k : set.kinds)
    if (keep.contains(k.kind.label())) out.kinds.push_back(k);
  return out;
}

namespace {

json kind_json(const DeviceKind& k) {
  return {{"kind", k.kind}, {"runtime", k.runtime}, {"threads", k.threads}, {"space", k.space}};
}

json additive_json(const AdditiveLatencyModel& m) {
  return {{"device", m.device},
          {"intercept", m.intercept},
          {"weights", m.weights},
          {"floor_ms", m.floor_ms}};
}

// An integer field within [lo, hi]; anything else throws (a float never reaches an integer
// cast, whose overflow would be undefined).
int64_t integer_at(const json& j, const char* key, int64_t lo, int64_t hi) {
  const auto& v = j.at(key);
  if (!v.is_number_integer()) throw std::invalid_argument(std::string(key) + " must be an integer");
  const auto x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)
                     ? hi + 1
                     : v.get<int64_t>();
  if (x < lo || x > hi) throw std::invalid_argument(std::string(key) + " is out of range");
  return x;
}

}  // namespace

json to_json(const LatencyModelSet& set) {
  json kinds = json::array();
  for (const auto& k : set.kinds) {
    json j{{"kind", kind_json(k.kind)},
           {"samples", k.samples},
           {"heldout", k.heldout},
           {"method", k.method},
           {"heldout_error_pct", k.error_pct},
           {"flops_heldout_error_pct", k.flops_error_pct},
           {"heldout_spearman", k.spearman},
           {"flops_heldout_spearman", k.flops_spearman},
           {"heldout_margin", k.margin},
           {"serves", k.serves},
           {"why", k.why}};
    if (k.transfer) {
      const auto& t = *k.transfer;
      json sources = json::array();
      for (const auto& s : t.sources) sources.push_back(s.device);
      j["transfer"] = {{"sources", sources},
                       {"intercept", t.intercept},
                       {"source_weights", t.source_weights},
                       {"own_weights", t.own_weights},
                       {"lambda", t.lambda},
                       {"own_ratio", t.own_ratio},
                       {"loo_log_p95", t.loo_log_p95},
                       {"floor_ms", t.floor_ms}};
    } else {
      j["additive"] = additive_json(k.additive);
    }
    kinds.push_back(std::move(j));
  }
  return {{"version", set.version},
          {"created_ms", set.created_ms},
          {"features", latency_feature_names()},
          {"scale", {{"mean", set.scale.mean}, {"scale", set.scale.scale}}},
          {"kinds", kinds}};
}

Expected<LatencyModelSet> latency_models_from_json(const json& j) {
  try {
    LatencyModelSet set;
    set.version = static_cast<int>(integer_at(j, "version", 0, 1 << 30));
    set.created_ms = integer_at(j, "created_ms", 0, INT64_MAX);
    set.scale.mean = j.at("scale").at("mean").get<std::vector<double>>();
    set.scale.scale = j.at("scale").at("scale").get<std::vector<double>>();
    const auto width = latency_feature_names().size();
    if (set.scale.mean.size() != width || set.scale.scale.size() != width)
      return Error{errc::kBadModel, "latency models: the scale has " +
                                        std::to_string(set.scale.mean.size()) +
                                        " features, this build " + std::to_string(width)};
    std::map<std::string, AdditiveLatencyModel> additive;
    for (const auto& k : j.at("kinds")) {
      if (!k.contains("additive")) continue;
      const auto& a = k["additive"];
      AdditiveLatencyModel m{
          a.at("device").get<std::string>(), set.scale, a.at("intercept").get<double>(),
          a.at("weights").get<std::vector<double>>(), a.at("floor_ms").get<double>()};
      if (m.weights.size() != width)
        return Error{errc::kBadModel, "latency models: " + m.device + " has the wrong width"};
      additive.emplace(m.device, std::move(m));
    }
    for (const auto& k : j.at("kinds")) {
      KindModel km;
      const auto& kind = k.at("kind");
      km.kind = {kind.at("kind").get<std::string>(), kind.at("runtime").get<std::string>(),
                 static_cast<int>(integer_at(kind, "threads", 1, 4096)),
                 kind.at("space").get<std::string>()};
      km.samples = static_cast<int>(integer_at(k, "samples", 0, 1 << 30));
      km.heldout = static_cast<int>(integer_at(k, "heldout", 0, 1 << 30));
      km.method = k.at("method").get<std::string>();
      km.error_pct = k.at("heldout_error_pct").get<double>();
      km.flops_error_pct = k.at("flops_heldout_error_pct").get<double>();
      km.spearman = k.at("heldout_spearman").get<double>();
      km.flops_spearman = k.at("flops_heldout_spearman").get<double>();
      km.margin = k.at("heldout_margin").get<double>();
      if (!(km.margin >= 0 && km.margin < 1))
        return Error{errc::kBadModel, "latency models: heldout_margin must be in [0, 1)"};
      km.serves = k.at("serves").get<bool>();
      km.why = k.at("why").get<std::string>();
      if (k.contains("additive")) {
        km.additive = additive.at(k["additive"].at("device").get<std::string>());
      } else {
        const auto& t = k.at("transfer");
        TransferLatencyModel m;
        m.device = km.kind.label();
        m.scale = set.scale;
        for (const auto& name : t.at("sources")) {
          const auto src = additive.find(name.get<std::string>());
          if (src == additive.end())
            return Error{errc::kBadModel, "latency models: " + m.device +
                                              " transfers from an unknown kind " + name.dump()};
          m.sources.push_back(src->second);
        }
        m.intercept = t.at("intercept").get<double>();
        m.source_weights = t.at("source_weights").get<std::vector<double>>();
        m.own_weights = t.at("own_weights").get<std::vector<double>>();
        m.lambda = t.at("lambda").get<double>();
        m.own_ratio = t.at("own_ratio").get<double>();
        m.loo_log_p95 = t.at("loo_log_p95").get<double>();
        m.floor_ms = t.at("floor_ms").get<double>();
        if (m.source_weights.size() != m.sources.size() || m.own_weights.size() != width)
          return Error{errc::kBadModel, "latency models: " + m.device + " has the wrong width"};
        km.transfer = std::move(m);
      }
      set.kinds.push_back(std::move(km));
    }
    return set;
  } catch (const std::exception& e) {
    return Error{errc::kBadModel, std::string("latency models: ") + e.what()};
  }
}

}  // namespace edgenas::search
