#include "common/search/search.hpp"

#include <algorithm>
#include <future>

namespace edgenas::search {

std::vector<TrialResult> pareto_front(const std::vector<TrialResult>& trials) {
  std::vector<TrialResult> ok;
  for (const auto& t : trials) {
    if (t.eval.ok) ok.push_back(t);
  }
  std::vector<TrialResult> front;
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
  std::sort(front.begin(), front.end(), [](const TrialResult& a, const TrialResult& b) {
    return a.eval.latency_ms < b.eval.latency_ms ||
           (a.eval.latency_ms == b.eval.latency_ms && a.trial.id < b.trial.id);
  });
  return front;
}

namespace {
void summarise(SearchResult& r) {
  int top = 0;
  for (const auto& t : r.trials) top = std::max(top, t.trial.fidelity.epochs);
  std::vector<TrialResult> at_top;
  for (const auto& t : r.trials) {
    if (t.trial.fidelity.epochs == top) at_top.push_back(t);
  }
  r.best.reset();
  for (const auto& t : at_top) {
    if (t.eval.ok && (!r.best || t.reward > r.best->reward)) r.best = t;
  }
  r.pareto = pareto_front(at_top);
}
}  // namespace

SearchResult run_search(Strategy& strategy, Evaluator& evaluator, const SearchOptions& options,
                        const Clock& clock, const std::atomic<bool>* stop,
                        const OnTrial& on_trial) {
  SearchResult result;
  const int64_t start = clock.now_ms();
  const int workers = std::max(1, options.workers);
  auto over_budget = [&]() -> const char* {
    if (stop && stop->load()) return "stopped";
    if (options.budget.max_trials > 0 &&
        static_cast<int>(result.trials.size()) >= options.budget.max_trials) {
      return "trials";
    }
    if (options.budget.max_seconds > 0 &&
        clock.now_ms() - start >= options.budget.max_seconds * 1000)
      return "time";
    return nullptr;
  };
  while (true) {
    if (const char* why = over_budget()) {
      result.stop_reason = why;
      break;
    }
    // A batch of up to `workers` trials, not past the trial budget.
    std::vector<Trial> batch;
    const int room = options.budget.max_trials > 0
                         ? options.budget.max_trials - static_cast<int>(result.trials.size())
                         : workers;
    while (static_cast<int>(batch.size()) < std::min(workers, room)) {
      auto t = strategy.next();
      if (!t) break;
      batch.push_back(std::move(*t));
    }
    if (batch.empty()) {
      result.stop_reason = "exhausted";
      break;
    }
    std::vector<std::future<Evaluation>> running;
    for (const auto& t : batch) {
      running.push_back(std::async(std::launch::async, [&evaluator, &t] {
        try {
          return evaluator.evaluate(t.spec, t.fidelity, t.seed);
        } catch (const std::exception& e) {
          Evaluation failed;
          failed.ok = false;
          failed.error = e.what();
          return failed;
        }
      }));
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      TrialResult r{batch[i], running[i].get(), 0};
      r.reward = r.eval.ok ? reward(r.eval.accuracy, r.eval.latency_ms, r.eval.energy_mj,
                                    options.constraints)
                           : 0;
      strategy.report(r);
      result.trials.push_back(std::move(r));
      if (on_trial) {
        summarise(result);
        on_trial(result.trials.back(), result);
      }
    }
  }
  summarise(result);
  result.elapsed_s = static_cast<double>(clock.now_ms() - start) / 1000.0;
  return result;
}

}  // namespace edgenas::search
