#include "common/search/learned_latency.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "common/search/ridge.hpp"
#include "common/util/errors.hpp"
#include "common/util/rank_stats.hpp"

namespace edgenas::search {
namespace {

// Live layers by kind, then layers whose result is unused or whose input is always zero; each
// group contributes count, MFLOPs and MB.
enum Group : int {
  kConv1,
  kConv3,
  kConvLarge,
  kAvgPool,
  kGlobalPool,
  kLinear,
  kAdd,
  kIdentity,
  kDeadConv,
  kDeadZero,
  kDeadOther,
  kGroups
};
constexpr int kPerGroup = 3;
// Each group again by the input's spatial size (a device's regime: large maps are bound by
// memory, small ones by the fixed cost per layer): side ≥ 24, 12..23, < 12.
constexpr int kSizes = 3;
constexpr int kHswish = kGroups * kSizes * kPerGroup;
constexpr int kFeatures = kHswish + 1;

int size_bucket(const Layer& l) {
  const int side = std::max(l.height, l.width);
  return side >= 24 ? 0 : side >= 12 ? 1 : 2;
}

int live_group(const Layer& l) {
  switch (l.op) {
    case LayerOp::conv:
      return l.kernel == 1 ? kConv1 : l.kernel == 3 ? kConv3 : kConvLarge;
    case LayerOp::avg_pool:
      return kAvgPool;
    case LayerOp::global_pool:
      return kGlobalPool;
    case LayerOp::linear:
      return kLinear;
    case LayerOp::add:
      return kAdd;
    case LayerOp::zero:
      return -1;  // never live: counted with the dead layers
    case LayerOp::identity:
      return kIdentity;
  }
  return -1;
}

int feature_group(const Layer& l) {
  const int live = l.live ? live_group(l) : -1;
  if (live >= 0) return live;
  return l.op == LayerOp::conv ? kDeadConv : l.op == LayerOp::zero ? kDeadZero : kDeadOther;
}

std::vector<double> squares(const std::vector<double>& v) {
  std::vector<double> s;
  for (double x : v) s.push_back(x * x);
  return s;
}

// The mean of v and its standard error.
std::pair<double, double> mean_and_se(const std::vector<double>& v) {
  const double n = static_cast<double>(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  return {mean, n > 1 ? std::sqrt(var / (n - 1) / n) : 0.0};
}

Expected<double> positive_floor(const std::vector<Measurement>& data) {
  double low = INFINITY;
  int positive = 0;
  for (const auto& m : data) {
    if (m.ms > 0 && std::isfinite(m.ms)) low = std::min(low, m.ms), ++positive;
  }
  if (positive < 2)
    return Error{errc::kUsage, "a latency model needs at least two positive measurements"};
  return low / 2;  // a model never answers less than half the fastest network ever measured
}

}  // namespace

std::vector<double> latency_features(const LayerList& layers) {
  std::vector<double> f(kFeatures, 0.0);
  for (const auto& l : layers) {
    const int slot = (feature_group(l) * kSizes + size_bucket(l)) * kPerGroup;
    const auto g = static_cast<std::size_t>(slot);
    f[g] += 1;
    f[g + 1] += static_cast<double>(l.flops) / 1e6;
    f[g + 2] += static_cast<double>(l.bytes) / 1e6;
    if (l.live && l.activation == LayerAct::hswish) f[kHswish] += 1;
  }
  return f;
}

std::vector<std::string> latency_feature_names() {
  static const char* groups[] = {"conv1",       "conv3",     "conv5+",    "avg_pool",
                                 "global_pool", "linear",    "add",       "identity",
                                 "dead_conv",   "dead_zero", "dead_other"};
  std::vector<std::string> names;
  for (const char* g : groups)
    for (const char* size : {"large", "mid", "small"})
      for (const char* what : {"count", "mflops", "mb"})
        names.push_back(std::string(g) + "_" + size + "_" + what);
  names.push_back("hswish_count");
  return names;
}

FeatureScale FeatureScale::of(const std::vector<std::vector<double>>& features) {
  FeatureScale s;
  s.mean.assign(kFeatures, 0.0);
  s.scale.assign(kFeatures, 1.0);
  if (features.empty()) return s;
  const double n = static_cast<double>(features.size());
  for (const auto& f : features)
    for (std::size_t j = 0; j < s.mean.size(); ++j) s.mean[j] += f[j] / n;
  std::vector<double> var(kFeatures, 0.0);
  for (const auto& f : features)
    for (std::size_t j = 0; j < var.size(); ++j)
      var[j] += (f[j] - s.mean[j]) * (f[j] - s.mean[j]) / n;
  for (std::size_t j = 0; j < var.size(); ++j) s.scale[j] = var[j] > 0 ? std::sqrt(var[j]) : 1.0;
  return s;
}

std::vector<double> FeatureScale::apply(const std::vector<double>& features) const {
  std::vector<double> z(features.size());
  for (std::size_t j = 0; j < z.size(); ++j) z[j] = (features[j] - mean[j]) / scale[j];
  return z;
}

double AdditiveLatencyModel::predict(const std::vector<double>& features) const {
  return std::max(floor_ms, intercept + dot(weights, scale.apply(features)));
}

Expected<AdditiveLatencyModel> fit_additive(const std::string& device, const FeatureScale& scale,
                                            const std::vector<Measurement>& data) {
  auto floor = positive_floor(data);
  if (!floor) return floor.error();
  Ridge r;
  r.p = kFeatures + 1;
  r.prior.assign(r.p, 0.0);
  r.penalty.assign(r.p, 1.0);
  r.penalty[0] = 0;
  std::vector<double> positive;
  for (const auto& m : data)
    if (m.ms > 0) positive.push_back(m.ms);
  // Least squares on relative error, except that the fastest tenth weighs no more than its
  // slowest member: a few networks a runtime folds away (0.01 ms) must not dominate the fit.
  const double small = quantile(positive, 0.1);
  for (const auto& m : data) {
    if (!(m.ms > 0)) continue;
    auto row = scale.apply(m.features);
    row.insert(row.begin(), 1.0);
    r.x.push_back(std::move(row));
    r.y.push_back(m.ms);
    r.weight.push_back(1 / std::pow(std::max(m.ms, small), 2));
  }
  auto fit = solve_ridge(r, normal_equations(r), 1e-4, LeaveOneOut::none);
  if (!fit) return Error{errc::kFailed, device + ": the additive latency fit is singular"};
  AdditiveLatencyModel model{device, scale, fit->coef[0], {}, *floor};
  model.weights.assign(fit->coef.begin() + 1, fit->coef.end());
  return model;
}

double TransferLatencyModel::predict(const std::vector<double>& features) const {
  double log_ms = intercept + dot(own_weights, scale.apply(features));
  for (std::size_t j = 0; j < sources.size(); ++j)
    log_ms += source_weights[j] * std::log(sources[j].predict(features));
  return std::max(floor_ms, std::exp(log_ms));
}

double TransferLatencyModel::margin() const {
  return 1 - std::exp(-loo_log_p95);
}

namespace {

// log ms = intercept + Σ wⱼ log(source j's prediction) + own weights · scaled features; the
// sources' weights shrink toward their plain average, the own weights toward zero.
Ridge transfer_problem(const std::vector<AdditiveLatencyModel>& sources,
                       const std::vector<Measurement>& data) {
  const std::size_t s = sources.size();
  Ridge r;
  r.p = 1 + s + kFeatures;
  r.prior.assign(r.p, 0.0);
  r.penalty.assign(r.p, 1.0);
  r.penalty[0] = 0;
  for (std::size_t j = 0; j < s; ++j) r.prior[1 + j] = 1.0 / static_cast<double>(s);
  const FeatureScale& scale = sources.front().scale;
  for (const auto& m : data) {
    if (!(m.ms > 0)) continue;
    std::vector<double> row{1.0};
    for (const auto& src : sources) row.push_back(std::log(src.predict(m.features)));
    for (double z : scale.apply(m.features)) row.push_back(z);
    r.x.push_back(std::move(row));
    r.y.push_back(std::log(m.ms));
    r.weight.push_back(1.0);
  }
  return r;
}

void set_own_penalty(Ridge& r, std::size_t sources, double ratio) {
  for (std::size_t u = 1 + sources; u < r.p; ++u) r.penalty[u] = ratio;
}

struct Shrinkage {
  double lambda = 0, ratio = 1;
  double error = 0, se = 0;  // its mean squared leave-one-out error and that mean's standard error
};

// Two shrinkages, chosen together: the sources' (λ) and the own features' (λ · ratio): few
// measurements buy little of the latter. Of the pairs whose leave-one-out error is within one
// standard error of the best, the most shrunk wins (a handful of measurements cannot tell the
// rest apart).
std::optional<Shrinkage> choose_shrinkage(Ridge& r, const NormalEquations& ne,
                                          std::size_t sources) {
  struct Candidate {
    Shrinkage at;
    double error, se;
  };
  std::vector<Candidate> grid;
  const auto loo = r.x.size() <= 4 * r.p ? LeaveOneOut::exact : LeaveOneOut::approximate;
  for (int ratio_exp = -2; ratio_exp <= 3; ++ratio_exp) {
    const double ratio = std::pow(10.0, ratio_exp);
    set_own_penalty(r, sources, ratio);
    for (int e = -6; e <= 6; ++e) {  // λ from 10^−3 to 10^3
      const double lambda = std::pow(10.0, e / 2.0);
      if (auto fit = solve_ridge(r, ne, lambda, loo)) {
        const auto [error, se] = mean_and_se(squares(fit->loo));
        grid.push_back({{lambda, ratio}, error, se});
      }
    }
  }
  if (grid.empty()) return std::nullopt;
  const auto best = *std::min_element(grid.begin(), grid.end(),
                                      [](auto& a, auto& b) { return a.error < b.error; });
  const auto shrink = [](const Shrinkage& x) { return std::pair(x.lambda * x.ratio, x.lambda); };
  Candidate chosen = best;
  for (const auto& c : grid)
    if (c.error <= best.error + best.se && shrink(c.at) > shrink(chosen.at)) chosen = c;
  chosen.at.error = chosen.error;
  chosen.at.se = chosen.se;
  return chosen.at;
}

// What the sources' weights shrink toward, from the widest to the narrowest: the plain average
// of all of them, or of the m whose predictions follow the kind's own measurements most closely
// (Pearson's r of the logs), m = 5, 3, 1: a kind with a near relative among the sources leans
// on it.
std::vector<std::vector<double>> source_priors(const Ridge& r, std::size_t sources) {
  std::vector<std::pair<double, std::size_t>> closeness;
  for (std::size_t j = 0; j < sources; ++j) {
    std::vector<double> column;
    for (const auto& row : r.x) column.push_back(row[1 + j]);
    const double rho = pearson(column, r.y);  // NaN when a source predicts one value for all
    closeness.emplace_back(std::isfinite(rho) ? rho : -2.0, j);
  }
  std::sort(closeness.begin(), closeness.end(), std::greater<>());
  std::vector<std::vector<double>> priors{
      std::vector<double>(sources, 1.0 / static_cast<double>(sources))};
  for (std::size_t m : {5, 3, 1}) {
    if (m >= sources) continue;
    std::vector<double> prior(sources, 0.0);
    for (std::size_t i = 0; i < m; ++i) prior[closeness[i].second] = 1.0 / static_cast<double>(m);
    priors.push_back(std::move(prior));
  }
  return priors;
}

void set_source_prior(Ridge& r, const std::vector<double>& prior) {
  std::copy(prior.begin(), prior.end(), r.prior.begin() + 1);
}

// The prior and shrinkages with the least leave-one-out error; r is left set to them.
std::optional<Shrinkage> choose_prior_and_shrinkage(Ridge& r, std::size_t sources) {
  std::optional<Shrinkage> chosen;
  std::vector<double> chosen_prior;
  for (auto& prior : source_priors(r, sources)) {
    set_source_prior(r, prior);
    const auto at = choose_shrinkage(r, normal_equations(r), sources);
    if (at && (!chosen || at->error < chosen->error)) chosen = at, chosen_prior = std::move(prior);
  }
  if (chosen) set_source_prior(r, chosen_prior), set_own_penalty(r, sources, chosen->ratio);
  return chosen;
}

}  // namespace

Expected<TransferLatencyModel> fit_transfer(const std::string& device,
                                            std::vector<AdditiveLatencyModel> sources,
                                            const std::vector<Measurement>& data) {
  auto floor = positive_floor(data);
  if (!floor) return floor.error();
  if (sources.empty()) return Error{errc::kUsage, device + ": transfer needs another device kind"};
  const std::size_t s = sources.size();
  Ridge r = transfer_problem(sources, data);
  const auto chosen = choose_prior_and_shrinkage(r, s);
  std::optional<RidgeFit> fit;
  if (chosen) fit = solve_ridge(r, normal_equations(r), chosen->lambda, LeaveOneOut::exact);
  if (!fit) return Error{errc::kFailed, device + ": the transfer fit is singular"};
  TransferLatencyModel model;
  model.device = device;
  model.scale = sources.front().scale;
  model.intercept = fit->coef[0];
  const auto own = fit->coef.begin() + 1 + static_cast<long>(s);
  model.source_weights.assign(fit->coef.begin() + 1, own);
  model.own_weights.assign(own, fit->coef.end());
  model.lambda = chosen->lambda;
  model.own_ratio = chosen->ratio;
  std::vector<double> abs_loo;
  for (double e : fit->loo) abs_loo.push_back(std::abs(e));
  model.loo_log_p95 = quantile(abs_loo, 0.95);
  model.floor_ms = *floor;
  model.sources = std::move(sources);
  return model;
}

double model_flops(const LayerList& layers) {
  double flops = 0;
  for (const auto& l : layers)
    if (l.op == LayerOp::conv || l.op == LayerOp::linear) flops += static_cast<double>(l.flops);
  return flops;
}

}  // namespace edgenas::search
