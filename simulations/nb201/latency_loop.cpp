#include "simulations/nb201/latency_loop.hpp"

#include <algorithm>
#include <random>

#include "simulations/fleet/parallel.hpp"
#include "simulations/nb201/world.hpp"

namespace edgenas::sim {

nlohmann::json searches_meeting_t(const Nb201Table& t, int column,
                                  const std::vector<LatencyEstimate>& estimates,
                                  const LoopOptions& o) {
  // The widest space: every edge may be a convolution, 3x3 allowed.
  const Hyperparameters hp{7, 32, 5, Loss::cross_entropy, 0};
  nlohmann::json out = nlohmann::json::object();
  for (const auto& e : estimates) {
    int searches = 0, met = 0;
    std::vector<double> regret;
    for (std::size_t qi = 0; qi < o.t_quantiles.size(); ++qi) {
      for (int s = 0; s < o.seeds; ++s) {
        const uint64_t seed = mix(mix(o.seed, column), mix(qi, s));
        std::mt19937_64 rng(seed);
        const auto box = nb201_box(t, column, o.dataset, o.t_quantiles[qi], rng);
        Nb201SearchOptions so;
        so.queries = o.queries;
        so.estimated_ms = e.ms;
        so.bound_factor = e.bound_factor;
        const auto result = simulate_nb201_search(t, o.dataset, box, hp, seed, so);
        ++searches;
        if (!result.met_latency) continue;
        ++met;
        regret.push_back(nb201_best_under(t, o.dataset, column, box.t_ms) - result.accuracy);
      }
    }
    double mean_regret = 0;
    for (double r : regret) mean_regret += r / static_cast<double>(regret.size());
    out[e.name] = {{"searches", searches},
                   {"met_t", static_cast<double>(met) / std::max(searches, 1)},
                   {"regret_points_when_met", mean_regret},
                   {"bound_factor", e.bound_factor}};
  }
  return out;
}

}  // namespace edgenas::sim
