#pragma once
// The search loop: asks the strategy for trials, evaluates up to `workers` of them in parallel,
// reports results back in proposal order (so a seed gives the same search whatever the thread
// timing), and stops at the budget or when asked to. The best trial and the accuracy/latency
// Pareto front are taken over the trials at the highest fidelity evaluated.
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/search/reward.hpp"
#include "common/search/strategy.hpp"
#include "common/util/clock.hpp"

namespace edgenas::search {

struct Budget {
  int64_t max_seconds = 0;  // 0 = no time limit
  int max_trials = 0;       // 0 = no trial limit (one of the two must be set)
};

struct SearchOptions {
  int workers = 2;
  Budget budget;
  Constraints constraints;
};

struct SearchResult {
  std::vector<TrialResult> trials;  // in proposal order
  std::optional<TrialResult> best;
  std::vector<TrialResult> pareto;  // non-dominated on (accuracy ↑, latency ↓), by latency
  std::string stop_reason;          // "trials", "time", "stopped", "exhausted"
  double elapsed_s = 0;
};

// Called after each reported trial with the results so far (progress displays, logs).
using OnTrial = std::function<void(const TrialResult&, const SearchResult&)>;

SearchResult run_search(Strategy& strategy, Evaluator& evaluator, const SearchOptions& options,
                        const Clock& clock, const std::atomic<bool>* stop = nullptr,
                        const OnTrial& on_trial = {});

// Non-dominated trials (ok ones only), sorted by latency.
std::vector<TrialResult> pareto_front(const std::vector<TrialResult>& trials);

}  // namespace edgenas::search
