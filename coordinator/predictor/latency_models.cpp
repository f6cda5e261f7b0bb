#include "coordinator/predictor/latency_models.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "common/search/latency_model.hpp"
#include "common/search/space.hpp"
#include "common/util/errors.hpp"
#include "common/util/rank_stats.hpp"

namespace edgenas::predictor {

using nlohmann::json;

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
      if (added) pool.kinds.push_back({kind, {}, {}, {}, {}});
      auto& k = pool.kinds[it->second];
      const auto& d = *t.context.dataset;
      k.archs.push_back(s.arch + "@" + std::to_string(d.channels) + "x" +
                        std::to_string(d.image_h) + "x" + std::to_string(d.image_w));
      k.searches.push_back(t.trace_id);
      k.measurements.push_back({search::latency_features(*layers), s.ms});
      k.flops.push_back(search::model_flops(*layers));
      ++pool.samples;
    }
  }
  return pool;
}

namespace {

// A kind's measurements split by search: a held-out search's networks are all held out, and a
// network a held-out search measured is never trained on (whichever search measured it).
struct Split {
  std::vector<std::size_t> train, heldout;
  int heldout_searches = 0;
};
Split split(const KindSamples& k, const LatencyTrainOptions& o) {
  Split s;
  const auto n =
      std::min<std::size_t>(k.measurements.size(), static_cast<std::size_t>(o.max_per_kind));
  auto held = [&](std::size_t i) {
    return static_cast<double>(std::hash<std::string>{}(k.searches[i]) % 1000) <
           o.heldout_share * 1000;
  };
  std::set<std::string> heldout_archs, heldout_searches;
  for (std::size_t i = 0; i < n; ++i)
    if (held(i)) {
      heldout_archs.insert(k.archs[i]);
      heldout_searches.insert(k.searches[i]);
      s.heldout.push_back(i);
    }
  for (std::size_t i = 0; i < n; ++i)
    if (!held(i) && !heldout_archs.count(k.archs[i])) s.train.push_back(i);
  s.heldout_searches = static_cast<int>(heldout_searches.size());
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
  std::vector<double> predicted, by_flops, measured, err, flops_err, log_err;
  for (auto r : s.heldout) {
    const double ms = k.measurements[r].ms;
    predicted.push_back(model.predict(k.measurements[r].features));
    by_flops.push_back(line ? line->overhead_ms + k.flops[r] / line->flops_per_ms : 0);
    measured.push_back(ms);
    err.push_back(100 * std::abs(predicted.back() - ms) / ms);
    flops_err.push_back(100 * std::abs(by_flops.back() - ms) / ms);
    log_err.push_back(std::abs(std::log(std::max(predicted.back(), 1e-9) / ms)));
  }
  model.heldout = static_cast<int>(s.heldout.size());
  model.error_pct = median(err);
  model.flops_error_pct = median(flops_err);
  model.spearman = spearman(predicted, measured);
  model.flops_spearman = spearman(by_flops, measured);
  model.margin = log_err.empty() ? 0 : 1 - std::exp(-quantile(log_err, 0.95));
  if (model.heldout < o.min_heldout || s.heldout_searches < o.min_heldout_searches) {
    model.why = "too few held-out measurements to gate (" + std::to_string(model.heldout) +
                " from " + std::to_string(s.heldout_searches) + " held-out searches)";
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

}  // namespace edgenas::predictor
