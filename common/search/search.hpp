#pragma once
// The search loop: asks the strategy for trials and keeps up to `workers` of them running; a
// worker whose trial is reported starts the next at once (no batch waits for its slowest
// member). Results are reported in proposal order (so a seed gives the same search whatever the
// thread timing), or as they finish when the options say so (time budgets: no core waits for a
// slower sibling). It stops at the budget, when asked to, or when the evaluator's deadline
// turns trials away. The best trial (the one delivered: within the
// constraints when any is, then by reward) and the accuracy/latency Pareto front are taken over
// the trials at the highest fidelity evaluated.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <type_traits>
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
  // Report each trial as soon as it finishes instead of in proposal order: every worker stays
  // busy, but what the strategy has seen when it proposes depends on timing. For time budgets,
  // where timing already decides how many trials run.
  bool report_as_finished = false;
};

// Trials in a row that came back out of time (Evaluation::out_of_time) after which the search
// stops: what is left of its time does not fit the trials its strategy proposes. Turning a trial
// away costs nothing, and a young search's random proposals are often large, so a few in a row
// say little (4 ended a demo search after 20 of its 113 s).
inline constexpr int kOutOfTimeInARow = 24;

template <class Spec>
struct BasicSearchResult {
  std::vector<BasicTrialResult<Spec>> trials;  // in proposal order
  std::optional<BasicTrialResult<Spec>> best;
  std::vector<BasicTrialResult<Spec>> pareto;  // non-dominated (accuracy ↑, latency ↓), by latency
  std::string stop_reason;                     // "trials", "time", "stopped", "exhausted"
  double elapsed_s = 0;
};
using SearchResult = BasicSearchResult<ArchSpec>;

// Called after each reported trial with the results so far (progress displays, logs).
template <class Spec>
using BasicOnTrial =
    std::function<void(const BasicTrialResult<Spec>&, const BasicSearchResult<Spec>&)>;
using OnTrial = BasicOnTrial<ArchSpec>;

// Non-dominated trials (ok ones only), sorted by latency.
template <class Spec>
std::vector<BasicTrialResult<Spec>> pareto_front(
    const std::vector<BasicTrialResult<Spec>>& trials) {
  std::vector<BasicTrialResult<Spec>> ok;
  for (const auto& t : trials) {
    if (t.eval.ok) ok.push_back(t);
  }
  std::vector<BasicTrialResult<Spec>> front;
  for (const auto& a : ok) {
    bool dominated = false;
    for (const auto& b : ok) {
      const bool no_worse =
          b.eval.accuracy >= a.eval.accuracy && b.eval.latency_ms <= a.eval.latency_ms;
      const bool better =
          b.eval.accuracy > a.eval.accuracy || b.eval.latency_ms < a.eval.latency_ms;
      if (no_worse && better) {
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(a);
  }
  std::sort(front.begin(), front.end(), [](const auto& a, const auto& b) {
    return a.eval.latency_ms < b.eval.latency_ms ||
           (a.eval.latency_ms == b.eval.latency_ms && a.trial.id < b.trial.id);
  });
  return front;
}

namespace detail {
// The model a search delivers: one that meets the constraints when any does (T is the tasks'
// requirement, not a preference), then one that meets the latency alone, then the highest
// reward. The reward (MnasNet, w = −1 above T) still steers the search toward feasible models;
// without this a model 3 % over T with 5 % more accuracy would be delivered over one within T.
template <class Spec>
bool delivers_before(const BasicTrialResult<Spec>& a, const BasicTrialResult<Spec>& b,
                     const Constraints& c) {
  auto tier = [&](const BasicTrialResult<Spec>& t) {
    if (meets(t.eval.latency_ms, t.eval.energy_mj, c)) return 2;
    return t.eval.latency_ms <= c.latency_req_ms ? 1 : 0;
  };
  const int ta = tier(a), tb = tier(b);
  return ta != tb ? ta > tb : a.reward > b.reward;
}

template <class Spec>
void summarise(BasicSearchResult<Spec>& r, const Constraints& c) {
  int top = 0;
  for (const auto& t : r.trials) top = std::max(top, t.trial.fidelity.epochs);
  std::vector<BasicTrialResult<Spec>> at_top;
  for (const auto& t : r.trials) {
    if (t.trial.fidelity.epochs == top) at_top.push_back(t);
  }
  r.best.reset();
  for (const auto& t : at_top) {
    if (t.eval.ok && (!r.best || delivers_before(t, *r.best, c))) r.best = t;
  }
  r.pareto = pareto_front(at_top);
}
}  // namespace detail

// A search's progress for its trace: after each finished trial, the core-seconds of candidate
// training so far and the best reward seen, one point per improvement (thinned by make_progress).
template <class Spec>
std::optional<ProgressCurve> progress_of(const BasicSearchResult<Spec>& r) {
  std::vector<ProgressPoint> raw;
  double compute = 0, best = -1;
  for (const auto& t : r.trials) {
    compute += std::max(0.0, t.eval.train_time_s);
    if (t.eval.ok && t.reward > best) {
      best = t.reward;
      raw.push_back({compute, t.reward});
    }
  }
  return make_progress(raw, compute);
}

// A search's Pareto front for its trace: the front's candidates by their architecture key,
// search-time accuracy and latency (thinned by make_pareto).
template <class Spec>
std::optional<ParetoFront> trace_pareto(const BasicSearchResult<Spec>& r) {
  std::vector<ParetoPoint> raw;
  for (const auto& t : r.pareto)
    raw.push_back({t.trial.spec.key(), t.eval.accuracy, t.eval.latency_ms});
  return make_pareto(std::move(raw));
}

namespace detail {
template <class Running>
typename std::deque<Running>::iterator next_to_report(std::deque<Running>& running,
                                                      bool as_finished) {
  if (!as_finished) return running.begin();
  while (true) {
    for (auto it = running.begin(); it != running.end(); ++it) {
      if (it->eval.wait_for(std::chrono::seconds(0)) == std::future_status::ready) return it;
    }
    running.front().eval.wait_for(std::chrono::milliseconds(5));
  }
}

template <class Spec>
std::future<Evaluation> start_trial(BasicEvaluator<Spec>& evaluator, const BasicTrial<Spec>& t) {
  return std::async(std::launch::async, [&evaluator, t] {
    try {
      return evaluator.evaluate(t.spec, t.fidelity, t.seed);
    } catch (const std::exception& e) {
      Evaluation failed;
      failed.ok = false;
      failed.error = e.what();
      return failed;
    }
  });
}
}  // namespace detail

template <class Spec>
BasicSearchResult<Spec> run_search(BasicStrategy<Spec>& strategy, BasicEvaluator<Spec>& evaluator,
                                   const SearchOptions& options, const Clock& clock,
                                   const std::atomic<bool>* stop = nullptr,
                                   const std::type_identity_t<BasicOnTrial<Spec>>& on_trial = {}) {
  struct Running {
    BasicTrial<Spec> trial;
    std::future<Evaluation> eval;
  };
  BasicSearchResult<Spec> result;
  const int64_t start = clock.now_ms();
  const size_t workers = static_cast<size_t>(std::max(1, options.workers));
  int proposed = 0, out_of_time = 0;
  const char* why_stop = nullptr;
  auto over_budget = [&]() -> const char* {
    if (stop && stop->load()) return "stopped";
    if (options.budget.max_trials > 0 && proposed >= options.budget.max_trials) return "trials";
    if (options.budget.max_seconds > 0 &&
        clock.now_ms() - start >= options.budget.max_seconds * 1000)
      return "time";
    if (out_of_time >= kOutOfTimeInARow) return "time";
    return nullptr;
  };
  std::deque<Running> running;
  while (true) {
    // Every free worker gets a trial, unless the budget is spent or the strategy has none now
    // (it may have more once running trials are reported).
    bool starved = false;
    while (!why_stop && !starved && running.size() < workers) {
      if ((why_stop = over_budget())) break;
      auto t = strategy.next();
      if (!t) {
        starved = true;
        break;
      }
      ++proposed;
      running.push_back({*t, detail::start_trial(evaluator, *t)});
    }
    if (running.empty()) {
      result.stop_reason = why_stop ? why_stop : "exhausted";
      break;
    }
    auto it = detail::next_to_report(running, options.report_as_finished);
    BasicTrialResult<Spec> r{std::move(it->trial), it->eval.get(), 0, 0};
    running.erase(it);
    r.reward = r.eval.ok ? reward(r.eval.accuracy, r.eval.latency_ms, r.eval.energy_mj,
                                  options.constraints)
                         : 0;
    r.finished_s = static_cast<double>(clock.now_ms() - start) / 1000.0;
    out_of_time = r.eval.out_of_time ? out_of_time + 1 : 0;
    strategy.report(r);
    result.trials.push_back(std::move(r));
    if (on_trial) {
      detail::summarise(result, options.constraints);
      on_trial(result.trials.back(), result);
    }
  }
  detail::summarise(result, options.constraints);
  result.elapsed_s = static_cast<double>(clock.now_ms() - start) / 1000.0;
  return result;
}

}  // namespace edgenas::search
