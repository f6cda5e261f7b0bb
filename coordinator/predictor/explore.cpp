#include "coordinator/predictor/explore.hpp"

#include <algorithm>
#include <cmath>

#include "coordinator/core/cold_start_policy.hpp"

namespace edgenas::predictor {

double space_size(const Choice& c) {
  const double layers = static_cast<double>(c.index[kLayers]) / (Grid::size(kLayers) - 1);
  const double filters = static_cast<double>(c.index[kFilters]) / (Grid::size(kFilters) - 1);
  return std::max(layers, filters);
}

bool within_latency_bound(const Choice& c, const Context& ctx) {
  const double latency = coordinator::ColdStartPolicy::latency_score(ctx);
  return space_size(c) <= latency + kWideSizeMargin + 1e-9;
}

Choice explore_near(const Choice& base, std::mt19937_64& rng) {
  Choice c = base;
  std::uniform_real_distribution<double> u(0, 1);
  for (int attempt = 0; attempt < 16 && c == base; ++attempt) {
    for (int h = 0; h < kHeads; ++h) {
      auto& i = c.index[static_cast<std::size_t>(h)];
      if (h == kLoss) {
        if (u(rng) < 1.0 / 3) i = std::uniform_int_distribution<int>(0, Grid::size(h) - 1)(rng);
      } else if (u(rng) < 0.5) {
        const int size = std::uniform_int_distribution<int>(1, 2)(rng);  // then its sign:
        const int step = u(rng) < 0.5 ? -size : size;  // one draw per statement (unsequenced)
        i = std::clamp(i + step, 0, Grid::size(h) - 1);
      }
    }
  }
  return c;
}

Choice explore_wide(const Choice& base, const Context& ctx, const Coverage& coverage,
                    std::mt19937_64& rng) {
  std::vector<Choice> candidates;
  std::vector<double> weights;
  for (int flat = 0; flat < Grid::points(); ++flat) {
    Choice c = Grid::at(flat);
    if (c.index[kLoss] != base.index[kLoss] || !within_latency_bound(c, ctx)) continue;
    const auto n = static_cast<std::size_t>(flat) < coverage.size() ? coverage[flat] : 0;
    candidates.push_back(c);
    weights.push_back(1.0 / std::sqrt(1.0 + static_cast<double>(n)));
  }
  if (candidates.empty()) return base;  // (the smallest space is always within the bound)
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
  return candidates[pick(rng)];
}

Choice maybe_explore(const Choice& base, const Context& ctx, const Coverage& coverage,
                     const ExploreConfig& cfg, std::mt19937_64& rng, Exploration& how) {
  std::uniform_real_distribution<double> u(0, 1);
  how = Exploration::none;
  if (u(rng) >= cfg.share) return base;
  if (u(rng) < cfg.wide) {
    how = Exploration::wide;
    return explore_wide(base, ctx, coverage, rng);
  }
  how = Exploration::near;
  return explore_near(base, rng);
}

Coverage coverage_of(const std::vector<Choice>& choices) {
  Coverage c(static_cast<std::size_t>(Grid::points()), 0);
  for (const auto& ch : choices) c[static_cast<std::size_t>(Grid::flat(ch))]++;
  return c;
}

}  // namespace edgenas::predictor
