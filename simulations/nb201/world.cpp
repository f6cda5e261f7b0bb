#include "simulations/nb201/world.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "common/search/search.hpp"
#include "common/util/clock.hpp"

namespace edgenas::sim {
namespace {

// A query answered from the table; candidates over the prune limit and cells missing from the
// table cost nothing. Stops the search (through `stop`) once the budget's queries are spent.
class TableEvaluator final : public search::BasicEvaluator<search::Nb201Cell> {
 public:
  TableEvaluator(const Nb201Table& t, int dataset, int device, double prune_ms,
                 const Nb201SearchOptions& o, std::atomic<bool>& stop)
      : t_(t), dataset_(dataset), device_(device), prune_ms_(prune_ms), o_(o), stop_(stop) {}

  search::Evaluation evaluate(const search::Nb201Cell& cell, const search::Fidelity&,
                              uint64_t seed) override {
    search::Evaluation e;
    const auto row = t_.row(cell);
    if (!row) return failed(e, "not in the table");
    const auto r = static_cast<std::size_t>(*row);
    e.latency_ms = o_.estimated_ms ? (*o_.estimated_ms)[r]
                                   : t_.latency_ms[static_cast<std::size_t>(device_)][r];
    if (e.latency_ms > prune_ms_) return failed(e, "pruned");
    std::mt19937_64 rng(seed);
    const double acc = t_.accuracy[static_cast<std::size_t>(dataset_)][r] +
                       std::normal_distribution<double>(0, o_.noise_points)(rng);
    e.accuracy = std::clamp(acc / 100, 0.0, 1.0);
    e.train_time_s = e.latency_ms / 1000 * kPassesPerQuery;
    const auto cost = search::nb201_cost(cell);
    e.params = static_cast<int64_t>(cost.params_m * 1e6);
    e.flops = static_cast<int64_t>(2 * cost.flops_m * 1e6);
    if (++queries_ >= o_.queries) stop_ = true;
    return e;
  }
  int queries() const { return queries_; }
  int pruned() const { return pruned_; }

 private:
  search::Evaluation failed(search::Evaluation& e, const char* why) {
    ++pruned_;
    e.ok = false;
    e.error = why;
    return e;
  }
  const Nb201Table& t_;
  int dataset_, device_;
  double prune_ms_;
  const Nb201SearchOptions& o_;
  std::atomic<bool>& stop_;
  int queries_ = 0, pruned_ = 0;
};

double quantile(std::vector<double> v, double q) {
  const auto k =
      static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// After each trained candidate: the accuracy of what the search would deliver then.
std::vector<double> incumbents(const search::BasicSearchResult<search::Nb201Cell>& r,
                               const Nb201Table& t, int dataset, const search::Constraints& c) {
  std::vector<double> out;
  const search::BasicTrialResult<search::Nb201Cell>* inc = nullptr;
  for (const auto& tr : r.trials) {
    if (!tr.eval.ok) continue;
    if (!inc || search::detail::delivers_before(tr, *inc, c)) inc = &tr;
    const bool met = inc->eval.latency_ms <= c.latency_req_ms;
    out.push_back(met ? t.accuracy[static_cast<std::size_t>(dataset)]
                                  [static_cast<std::size_t>(*t.row(inc->trial.spec))]
                      : -1.0);
  }
  return out;
}

}  // namespace

Nb201Box nb201_box(const Nb201Table& t, int device, int dataset, double q, std::mt19937_64& rng) {
  return nb201_box_at(t, device, dataset,
                      quantile(t.latency_ms[static_cast<std::size_t>(device)], q), rng);
}

Nb201Box nb201_box_at(const Nb201Table& t, int device, int dataset, double t_ms,
                      std::mt19937_64& rng) {
  const auto& col = t.latency_ms[static_cast<std::size_t>(device)];
  Nb201Box b;
  b.device = device;
  b.t_ms = std::max(0.001, t_ms);
  DeviceSource cpu;
  cpu.device = "cpu";
  cpu.free_nodes = 2;
  cpu.free_memory_mb = 2048;
  b.ctx.source.devices.push_back(cpu);
  b.ctx.source.window_ms = 60'000;
  const int tasks = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < tasks; ++i) {
    JobTask task;
    task.task_id = "task" + std::to_string(i);
    const double looser = std::uniform_real_distribution<double>(1, 4)(rng);
    task.latency_req_ms = i == 0 ? b.t_ms : b.t_ms * looser;
    const auto other = static_cast<std::size_t>(rng() % t.rows());
    task.rows.push_back({"cpu", col[other], 0, 1});
    b.ctx.job.tasks.push_back(std::move(task));
  }
  b.ctx.dataset = nb201_dataset_shape(t.datasets[static_cast<std::size_t>(dataset)]);
  return b;
}

Nb201Outcome simulate_nb201_search(const Nb201Table& t, int dataset, const Nb201Box& box,
                                   const Hyperparameters& hp, uint64_t seed,
                                   const Nb201SearchOptions& o) {
  std::atomic<bool> stop{false};
  const double prune_ms = o.prune_factor > 0 ? o.prune_factor * box.t_ms : INFINITY;
  TableEvaluator evaluator(t, dataset, box.device, prune_ms, o, stop);
  search::Nb201Space space(hp);
  auto strategy = search::make_strategy(o.strategy, space, seed, {1, 1.0});
  const search::Constraints constraints{box.t_ms * o.bound_factor, std::nullopt};
  ManualClock clock;
  search::SearchOptions so;
  so.workers = 1;
  so.budget.max_trials = 200 * std::max(1, o.queries);  // pruned proposals are free, not endless
  so.constraints = constraints;
  auto result = search::run_search(*strategy, evaluator, so, clock, &stop);
  Nb201Outcome out;
  out.queries = evaluator.queries();
  out.pruned = evaluator.pruned();
  for (const auto& tr : result.trials) out.compute_s += tr.eval.train_time_s;
  out.incumbent = incumbents(result, t, dataset, constraints);
  out.progress = search::progress_of(result);
  if (!result.best) return out;
  const auto r = static_cast<std::size_t>(*t.row(result.best->trial.spec));
  out.row = static_cast<int>(r);
  std::mt19937_64 rng(seed ^ 0xF1A1ull);
  const double noise = std::normal_distribution<double>(0, o.noise_points)(rng);
  out.accuracy = std::clamp(
      t.accuracy[static_cast<std::size_t>(dataset)][r] + (o.noisy_final ? noise : 0.0), 0.0, 100.0);
  out.latency_ms = t.latency_ms[static_cast<std::size_t>(box.device)][r];
  out.met_latency = out.latency_ms <= box.t_ms;
  return out;
}

double nb201_best_under(const Nb201Table& t, int dataset, int device, double t_ms) {
  double best = 0;
  const auto& acc = t.accuracy[static_cast<std::size_t>(dataset)];
  const auto& lat = t.latency_ms[static_cast<std::size_t>(device)];
  for (std::size_t r = 0; r < t.rows(); ++r)
    if (lat[r] <= t_ms) best = std::max(best, acc[r]);
  return best;
}

Trace nb201_trace(const std::string& id, const Nb201Box& box, const Hyperparameters& hp,
                  const std::string& policy, const Nb201Outcome& o) {
  Trace tr;
  tr.trace_id = id;
  tr.created_ms = 1'700'000'000'000;
  tr.context = box.ctx;
  tr.hparams = hp;
  tr.policy = policy;
  auto& out = tr.outcome;
  out.status = o.row >= 0 ? TraceStatus::ok : TraceStatus::failed;
  if (o.row < 0) out.error = "no candidate met 3 T (NAS-Bench-201 table)";
  out.accuracy = o.accuracy / 100;
  out.latency_ms = o.latency_ms;
  out.trials = o.queries;
  out.met_latency = o.met_latency;
  out.device = "cpu";
  if (o.row >= 0) out.progress = o.progress;
  return tr;
}

}  // namespace edgenas::sim
