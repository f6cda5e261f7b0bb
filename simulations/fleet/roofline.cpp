#include "simulations/fleet/roofline.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "common/search/ridge.hpp"
#include "common/util/errors.hpp"
#include "common/util/rank_stats.hpp"

namespace edgenas::sim {
namespace {

// A network's terms of the fit at ridge point `flops_per_byte`: 1, its live layers, and
// Σ max(FLOPs, bytes × ridge) in millions (whose coefficient is 1e6 / rate; in millions so
// that the three terms are of similar size for the solver).
std::vector<double> terms(const search::LayerList& layers, double flops_per_byte) {
  double live = 0, work = 0;
  for (const auto& l : layers) {
    if (!l.live) continue;
    live += 1;
    work += std::max(static_cast<double>(l.flops), static_cast<double>(l.bytes) * flops_per_byte);
  }
  return {1.0, live, work / 1e6};
}

struct Fit {
  std::vector<double> coef;  // fixed ms, per-layer ms, ms per FLOP of work
  double loss = 0;
};

// Weighted least squares on the terms `used` (the others held at 0); nullopt when singular or
// a coefficient comes out negative.
std::optional<Fit> fit_subset(const std::vector<std::vector<double>>& x,
                              const std::vector<double>& y, const std::vector<double>& w,
                              const std::vector<bool>& used) {
  search::Ridge r;
  for (std::size_t j = 0; j < used.size(); ++j) r.p += used[j] ? 1 : 0;
  if (r.p == 0) return std::nullopt;
  r.prior.assign(r.p, 0.0);
  r.penalty.assign(r.p, 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::vector<double> row;
    for (std::size_t j = 0; j < used.size(); ++j)
      if (used[j]) row.push_back(x[i][j]);
    r.x.push_back(std::move(row));
  }
  r.y = y;
  r.weight = w;
  auto fit = search::solve_ridge(r, search::normal_equations(r), 0, search::LeaveOneOut::none);
  if (!fit) return std::nullopt;
  Fit out;
  for (std::size_t j = 0, k = 0; j < used.size(); ++j)
    out.coef.push_back(used[j] ? fit->coef[k++] : 0);
  if (std::any_of(out.coef.begin(), out.coef.end(), [](double c) { return c < 0; }))
    return std::nullopt;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double e = y[i] - search::dot(out.coef, x[i]);
    out.loss += w[i] * e * e;
  }
  return out;
}

}  // namespace

double roofline_ms(const Roofline& r, const search::LayerList& layers) {
  double ms = r.fixed_ms;
  const double flops_per_ms = r.gflops * 1e6, bytes_per_ms = r.gbs * 1e6;
  for (const auto& l : layers) {
    if (!l.live) continue;
    ms += r.per_layer_ms + std::max(static_cast<double>(l.flops) / flops_per_ms,
                                    static_cast<double>(l.bytes) / bytes_per_ms);
  }
  return ms;
}

Expected<Roofline> fit_roofline(const std::vector<search::LayerList>& networks,
                                const std::vector<double>& ms) {
  std::vector<double> positive;
  for (double m : ms)
    if (m > 0) positive.push_back(m);
  if (networks.size() != ms.size() || positive.size() < 4)
    return Error{errc::kUsage, "a roofline fit needs measured latencies of at least 4 networks"};
  const double small = quantile(positive, 0.1);
  std::vector<double> y, w;
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    if (!(ms[i] > 0)) continue;
    rows.push_back(i);
    y.push_back(ms[i]);
    w.push_back(1 / std::pow(std::max(ms[i], small), 2));
  }
  std::optional<Fit> best;
  double best_ridge = 0;
  for (int e = -8; e <= 24; ++e) {  // 0.25 .. 64 FLOPs per byte
    const double ridge = std::pow(2.0, e / 4.0);
    std::vector<std::vector<double>> x;
    for (std::size_t i : rows) x.push_back(terms(networks[i], ridge));
    for (int mask = 1; mask < 8; ++mask) {
      if (!(mask & 4)) continue;  // a device has a finite rate
      const std::vector<bool> used{(mask & 1) != 0, (mask & 2) != 0, true};
      auto fit = fit_subset(x, y, w, used);
      if (fit && fit->coef[2] > 0 && (!best || fit->loss < best->loss))
        best = fit, best_ridge = ridge;
    }
  }
  if (!best) return Error{errc::kFailed, "the roofline fit found no non-negative solution"};
  Roofline r;
  r.fixed_ms = best->coef[0];
  r.per_layer_ms = best->coef[1];
  r.gflops = 1 / best->coef[2];  // coef: ms per million FLOPs
  r.gbs = r.gflops / best_ridge;
  return r;
}

}  // namespace edgenas::sim
