#include "coordinator/predictor/latency_models.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>

#include "common/search/latency_model.hpp"
#include "common/search/space.hpp"
#include "common/util/errors.hpp"
#include "common/util/rank_stats.hpp"

namespace edgenas::predictor {

using nlohmann::json;

std::string DeviceKind::label() const {
  return kind + " | " + runtime + " | " + std::to_string(threads) +
         (threads == 1 ? " thread | " : " threads | ") + space;
}

std::optional<search::LayerList> lower_key(std::string_view space, std::string_view key,
                                           const DatasetShape& input) {
  if (space != "cnn") return std::nullopt;
  const auto spec = search::ArchSpec::from_key(key);
  if (!spec) return std::nullopt;
  return search::lower(*spec, {input.channels, input.image_h, input.image_w, input.classes});
}

LatencyPool pool_latency(const std::vector<Trace>& traces) {
  LatencyPool pool;
  std::map<DeviceKind, std::size_t> index;
  for (const auto& t : traces) {
    const auto& m = t.outcome.measured_latency;
    if (!m) continue;
    ++pool.traces;
    const DeviceKind kind{m->kind, m->runtime, m->threads, m->space};
    for (const auto& s : m->samples) {
      const auto layers =
          t.context.dataset ? lower_key(m->space, s.arch, *t.context.dataset) : std::nullopt;
      if (!layers) {
        ++pool.skipped;
        continue;
      }
      auto [it, added] = index.emplace(kind, pool.kinds.size());
      if (added) pool.kinds.push_back({kind, {}, {}, {}});
      auto& k = pool.kinds[it->second];
      const auto& d = *t.context.dataset;
      k.archs.push_back(s.arch + "@" + std::to_string(d.channels) + "x" +
                        std::to_string(d.image_h) + "x" + std::to_string(d.image_w));
      k.measurements.push_back({search::latency_features(*layers), s.ms});
      k.flops.push_back(search::model_flops(*layers));
      ++pool.samples;
    }
  }
  return pool;
}

double KindModel::predict(const std::vector<double>& features) const {
  return transfer ? transfer->predict(features) : additive.predict(features);
}

namespace {

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// A kind's measurements split by architecture: the same network is always on the same side.
struct Split {
  std::vector<std::size_t> train, heldout;
};
Split split(const KindSamples& k, const LatencyTrainOptions& o) {
  Split s;
  const auto n =
      std::min<std::size_t>(k.measurements.size(), static_cast<std::size_t>(o.max_per_kind));
  for (std::size_t i = 0; i < n; ++i) {
    const bool held =
        static_cast<double>(std::hash<std::string>{}(k.archs[i]) % 1000) < o.heldout_share * 1000;
    (held ? s.heldout : s.train).push_back(i);
  }
  return s;
}

std::vector<search::Measurement> pick(const KindSamples& k, const std::vector<std::size_t>& rows) {
  std::vector<search::Measurement> m;
  for (auto r : rows) m.push_back(k.measurements[r]);
  return m;
}

// The model's and the FLOPs line's scores on the held-out rows, and the gate.
void gate(KindModel& model, const KindSamples& k, const Split& s, const LatencyTrainOptions& o) {
  std::vector<std::pair<double, double>> line_points;
  for (auto r : s.train) line_points.emplace_back(k.flops[r], k.measurements[r].ms);
  const auto line = search::fit_calibration(line_points);
  std::vector<double> predicted, by_flops, measured, err, flops_err;
  for (auto r : s.heldout) {
    const double ms = k.measurements[r].ms;
    predicted.push_back(model.predict(k.measurements[r].features));
    by_flops.push_back(line ? line->overhead_ms + k.flops[r] / line->flops_per_ms : 0);
    measured.push_back(ms);
    err.push_back(100 * std::abs(predicted.back() - ms) / ms);
    flops_err.push_back(100 * std::abs(by_flops.back() - ms) / ms);
  }
  model.heldout = static_cast<int>(s.heldout.size());
  model.error_pct = median_of(err);
  model.flops_error_pct = median_of(flops_err);
  model.spearman = spearman(predicted, measured);
  model.flops_spearman = spearman(by_flops, measured);
  if (model.heldout < o.min_heldout) {
    model.why = "too few held-out architectures to gate (" + std::to_string(model.heldout) + ")";
  } else if (line && model.error_pct >= model.flops_error_pct) {
    model.why = "held-out error not below the FLOPs line's";
  } else {
    model.serves = true;
    model.why = "held-out error below the FLOPs line's";
  }
}

}  // namespace

Expected<LatencyModelSet> train_latency_models(const LatencyPool& pool,
                                               const LatencyTrainOptions& o, int version,
                                               int64_t now_ms) {
  LatencyModelSet set;
  set.version = version;
  set.created_ms = now_ms;
  std::vector<std::vector<double>> all;
  for (const auto& k : pool.kinds)
    for (const auto& m : k.measurements) all.push_back(m.features);
  if (all.empty()) return Error{errc::kFailed, "no measured latencies in the traces"};
  set.scale = search::FeatureScale::of(all);
  // Kinds with enough of their own first: the others transfer from their additive models.
  std::vector<Split> splits;
  for (const auto& k : pool.kinds) splits.push_back(split(k, o));
  std::vector<search::AdditiveLatencyModel> sources;
  for (std::size_t i = 0; i < pool.kinds.size(); ++i) {
    const auto& k = pool.kinds[i];
    if (static_cast<int>(splits[i].train.size()) < o.min_additive) continue;
    auto m = search::fit_additive(k.kind.label(), set.scale, pick(k, splits[i].train));
    if (!m) continue;
    KindModel km;
    km.kind = k.kind;
    km.samples = static_cast<int>(k.measurements.size());
    km.method = "additive";
    km.additive = *m;
    gate(km, k, splits[i], o);
    set.kinds.push_back(std::move(km));
    sources.push_back(std::move(*m));
  }
  for (std::size_t i = 0; i < pool.kinds.size(); ++i) {
    const auto& k = pool.kinds[i];
    const auto train = static_cast<int>(splits[i].train.size());
    if (train >= o.min_additive || train < o.min_samples || sources.empty()) continue;
    std::vector<search::AdditiveLatencyModel> others;
    for (const auto& src : sources)
      if (src.device != k.kind.label()) others.push_back(src);
    auto m = search::fit_transfer(k.kind.label(), others, pick(k, splits[i].train));
    if (!m) continue;
    KindModel km;
    km.kind = k.kind;
    km.samples = static_cast<int>(k.measurements.size());
    km.method = "transfer";
    km.transfer = std::move(*m);
    gate(km, k, splits[i], o);
    set.kinds.push_back(std::move(km));
  }
  return set;
}

namespace {

json kind_json(const DeviceKind& k) {
  return {{"kind", k.kind}, {"runtime", k.runtime}, {"threads", k.threads}, {"space", k.space}};
}

json additive_json(const search::AdditiveLatencyModel& m) {
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
          {"features", search::latency_feature_names()},
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
    const auto width = search::latency_feature_names().size();
    if (set.scale.mean.size() != width || set.scale.scale.size() != width)
      return Error{errc::kBadModel, "latency models: the scale has " +
                                        std::to_string(set.scale.mean.size()) +
                                        " features, this build " + std::to_string(width)};
    std::map<std::string, search::AdditiveLatencyModel> additive;
    for (const auto& k : j.at("kinds")) {
      if (!k.contains("additive")) continue;
      const auto& a = k["additive"];
      search::AdditiveLatencyModel m{
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
      km.serves = k.at("serves").get<bool>();
      km.why = k.at("why").get<std::string>();
      if (k.contains("additive")) {
        km.additive = additive.at(k["additive"].at("device").get<std::string>());
      } else {
        const auto& t = k.at("transfer");
        search::TransferLatencyModel m;
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

}  // namespace edgenas::predictor
