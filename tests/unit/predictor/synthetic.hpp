#pragma once
// A synthetic fleet whose best hyperparameters depend on the context in a known way: the
// tighter the latency requirement and the fewer free CPU nodes, the fewer layers and filters
// and the smaller the kernel; many classes want label smoothing. Traces try hyperparameters
// around (and away from) the best, and their outcome falls with the distance from it.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "coordinator/predictor/grid.hpp"

namespace edgenas::predictor::synthetic {

inline Context random_context(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  Context c;
  const int nodes = 1 + static_cast<int>(u(rng) * 8);
  c.source.devices = {{"cpu", nodes, static_cast<int64_t>(512 + u(rng) * 7680)}};
  c.source.power_w = 5 + 20 * u(rng);
  const double t_ms = std::pow(10.0, 0.3 + u(rng) * 2.7);  // 2 ms .. 1 s
  c.job.tasks = {{"ocr", t_ms, {{"cpu", t_ms * 0.5, 0.2, 1}}}};
  DatasetShape d;
  d.classes = u(rng) < 0.5 ? 10 : 36;
  d.image_h = d.image_w = 28;
  d.samples = 10'000;
  c.dataset = d;
  return c;
}

// The known rule: size in [0, 1] from T (log scale) and free CPU nodes.
inline Choice best_choice(const Context& c) {
  const double t = std::log10(c.min_latency_req_ms().value_or(1000));
  const double s_t = std::clamp((t - 0.3) / 2.7, 0.0, 1.0);
  const double s_n = std::clamp((c.source.devices[0].free_nodes - 1) / 7.0, 0.0, 1.0);
  const double s = std::min(s_t, 0.25 + 0.75 * s_n);
  Choice ch;
  ch.index[kLayers] = static_cast<int>(std::lround(9 * s));
  ch.index[kFilters] = static_cast<int>(std::lround(5 * s));
  ch.index[kKernel] = s < 0.34 ? 0 : (s < 0.67 ? 1 : 2);
  ch.index[kLoss] = c.dataset && c.dataset->classes >= 20 ? 1 : 0;
  return ch;
}

inline double true_reward(const Context& c, const Choice& h) {
  return std::max(0.0, 0.99 - 0.25 * Grid::distance(h, best_choice(c)));
}

// n contexts, each tried with `per_context` hyperparameters: the best one, near ones, random.
inline std::vector<Trace> traces(int n, int per_context, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> noise(0, 0.01);
  std::vector<Trace> out;
  for (int i = 0; i < n; ++i) {
    const Context c = random_context(rng);
    const Choice best = best_choice(c);
    for (int j = 0; j < per_context; ++j) {
      Choice h = best;
      if (j > 0) {
        for (int k = 0; k < kHeads; ++k) {
          auto& idx = h.index[static_cast<std::size_t>(k)];
          idx = u(rng) < 0.3 ? static_cast<int>(u(rng) * Grid::size(k))
                             : std::clamp(idx + static_cast<int>(std::lround((u(rng) - 0.5) * 4)),
                                          0, Grid::size(k) - 1);
        }
      }
      Trace t;
      t.trace_id = "syn-" + std::to_string(i) + "-" + std::to_string(j);
      t.created_ms = 1;
      t.context = c;
      t.hparams = Grid::hparams(h, static_cast<uint32_t>(j));
      t.policy = "explore";
      t.outcome.status = TraceStatus::ok;
      t.outcome.accuracy = std::clamp(true_reward(c, h) + noise(rng), 0.0, 1.0);
      t.outcome.latency_ms = 0.5 * c.min_latency_req_ms().value_or(1000);  // meets T
      t.outcome.met_latency = true;
      t.outcome.search_time_s = 600;
      out.push_back(std::move(t));
    }
  }
  return out;
}

}  // namespace edgenas::predictor::synthetic
