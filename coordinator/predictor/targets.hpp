#pragma once
// From traces to training data for the predictor, and how a policy is scored (torch-free).
//
// Reward of a trace (docs/ARCHITECTURE.md, "The predictor"):
//   failed run: 0
//   else  q = test accuracy
//         × T/latency            when the model misses the tightest latency requirement T
//         × budget/energy        when it exceeds the tightest task's energy estimate
//         − 0.01 × search hours  (search cost: one accuracy point per hour of search)
//   clamped at 0.
//
// Training targets, three ways (compared in docs/BENCHMARKS.md):
//   knn:      for each context, the hyperparameters of the best-rewarded trace among its k
//             nearest contexts (normalised features);
//   outcome:  a regression model r(x, h) of the reward, and for each context the grid point
//             it rates best (the policy imitates the argmax; trained in common/ml);
//   progress: outcome, plus a model of how far a search has got after a fraction of its
//             compute (from the traces' progress curves); among the points rated near the
//             best, the one expected to get there soonest (trainer.cpp).
// A policy is scored on held-out traces whose contexts the training never saw: for each
// held-out trace, its k nearest held-out neighbours are the "similar contexts"; the best
// reward among them is the best known; the policy's choice earns the reward of the neighbour
// whose hyperparameters are closest to it. Regret = best known − earned (mean), and the
// per-head accuracy against the best known hyperparameters.
#include <algorithm>
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "common/model/features.hpp"
#include "coordinator/predictor/grid.hpp"

namespace edgenas::predictor {

inline constexpr double kSearchCostPerHour = 0.01;

inline const std::vector<std::string> kTargetKinds{"knn", "outcome", "progress"};
inline bool valid_targets(const std::string& targets) {
  return std::find(kTargetKinds.begin(), kTargetKinds.end(), targets) != kTargetKinds.end();
}

double trace_reward(const Trace& trace);

struct Example {
  std::string trace_id;
  std::string agent_id;  // the box that ran it ("" when not known)
  Context context;
  std::vector<float> features;  // raw (unnormalised)
  Choice choice;                // the grid point its hyperparameters fall on
  double reward = 0;
  std::optional<ProgressCurve> progress;  // how its search got there (newer agents)
  bool from_pool = false;                 // a simulated trace of the warm start's pool
  int64_t received_ms = 0;                // when the coordinator stored it (0: not known)
};
Example make_example(const Trace& trace, const std::string& agent_id = "");

// How a training splits examples into training and held-out ones. Each rule is a pure
// function of one example and the rule's recorded parameters, so a later training can tell
// which of its held-out traces an earlier version trained on (the gate must not score a
// version on traces it learned: trainer.cpp, "unseen_by").
//   context: FNV-1a over the features normalised by `norm` and rounded to half a standard
//            deviation, and the seed: examples in the same cell go to the same side, so
//            held-out contexts are new to the training side;
//   agent:   by a hash of the box that ran the trace (held-out boxes are new);
//   random:  by a hash of the trace id.
struct SplitRule {
  std::string method = "random";  // context | agent | random
  double heldout_share = 0.2;
  uint64_t seed = 1;
  FeatureNorm norm;  // context only: the normalisation the cells were cut in

  bool holds_out(const Example& e) const;
  nlohmann::json to_json() const;
  static Expected<SplitRule> from_json(const nlohmann::json& j);
};

struct ExampleSplit {
  std::vector<Example> train, heldout;
  std::string method;  // context | agent | random (and the pool's, when one is added)
  SplitRule rule;      // the rule that split the fleet's examples
};
ExampleSplit split_with(const std::vector<Example>& all, const SplitRule& rule);
// The context rule fitted to these examples (their normalisation).
ExampleSplit split_by_context(const std::vector<Example>& all, double heldout_share, uint64_t seed);

// The split a training uses, which always holds out something usable when there are enough
// examples: by context (held-out contexts are new), else by agent (held-out boxes are new: a
// fleet whose contexts are all alike puts everything in one context cell), else at random by
// trace id. Usable: at least min_train and min_heldout examples, and at most half held out.
inline constexpr std::size_t kMinTrainExamples = 20, kMinHeldoutExamples = 5;
ExampleSplit split_for_training(const std::vector<Example>& all, double heldout_share,
                                uint64_t seed);

std::vector<std::vector<float>> normalised(const std::vector<Example>& ex, const FeatureNorm& n);
// Indices of the k nearest pool rows to each query row (Euclidean; the query itself included
// when it is in the pool).
std::vector<std::vector<int>> nearest(const std::vector<std::vector<float>>& queries,
                                      const std::vector<std::vector<float>>& pool, int k);

std::vector<Choice> knn_best_labels(const std::vector<Example>& ex, const FeatureNorm& norm, int k);

struct PolicyScore {
  std::array<double, kHeads> head_accuracy{};
  double regret = 0;             // mean (best known − earned)
  double normalised_reward = 0;  // mean earned / mean best known
  int examples = 0;
  std::vector<double> earned;  // per held-out example (not written out)
};
// policy(i) is the choice for heldout[i].
PolicyScore score_policy(const std::vector<Example>& heldout, const FeatureNorm& norm,
                         const std::function<Choice(std::size_t)>& policy, int k = 8);
nlohmann::json to_json(const PolicyScore& s);

// Two policies scored on the same held-out examples: the mean of (fresh's regret − other's)
// per example, and its standard error.
struct PairedRegret {
  double difference = 0;
  double standard_error = 0;
};
PairedRegret paired_regret(const PolicyScore& fresh, const PolicyScore& other);
nlohmann::json to_json(const PairedRegret& p);

// The gate (docs/ARCHITECTURE.md, "Held-out scoring and the gate"): a new version serves
// unless its held-out regret is above the policy it would replace (the serving version, or the
// cold-start rule while none serves) by more than `tolerance` standard errors of their paired
// difference; `margin` asks it to be that much better as well. tolerance 0 and margin 0: it
// must simply be better, the rule before 2026-12-02.
struct GateRule {
  double margin = 0;
  double tolerance = 1;
};
struct GateVerdict {
  bool passes = false;
  std::optional<double> fresh, against;  // the two regrets (absent: not scored)
  double standard_error = 0;             // of their paired difference (0: not known)
};
// The held-out regret a version's metrics report for `who` ("new", "baseline", "cold_start").
std::optional<double> heldout_regret(const nlohmann::json& metrics, const std::string& who);
// `against` is "baseline" or "cold_start": the key of the metrics' held-out scores.
GateVerdict judge(const nlohmann::json& metrics, const std::string& against, const GateRule& rule);

}  // namespace edgenas::predictor
