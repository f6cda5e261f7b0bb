#include "simulations/fleet/world.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "common/search/search.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/grid.hpp"
#include "coordinator/predictor/targets.hpp"
#include "simulations/fleet/parallel.hpp"

namespace edgenas::sim {
namespace {

double log_uniform(std::mt19937_64& rng, const Range& r) {
  std::uniform_real_distribution<double> u(std::log(r.min), std::log(r.max));
  return std::exp(u(rng));
}

// A search's clock: advanced by the evaluations (their training time on the box, divided by
// the trials running in parallel).
class SimClock final : public Clock {
 public:
  int64_t now_ms() const override { return now_.load(); }
  int64_t wall_ms() const override { return now_.load(); }
  void advance(double ms) { now_ += static_cast<int64_t>(ms); }

 private:
  std::atomic<int64_t> now_{0};
};

// The surrogate evaluator plus what edgenas-search does around it: latency pruning at 3 T, and
// the simulated time each trial takes.
class TimedEvaluator final : public search::Evaluator {
 public:
  TimedEvaluator(SurrogateEvaluator& inner, SimClock& clock, int workers, double prune_ms)
      : inner_(inner), clock_(clock), workers_(workers), prune_ms_(prune_ms) {}
  search::Evaluation evaluate(const search::ArchSpec& spec, const search::Fidelity& f,
                              uint64_t seed) override {
    auto e = inner_.evaluate(spec, f, seed);
    if (e.latency_ms > prune_ms_) {
      e.ok = false;
      e.error = "pruned";
      e.train_time_s = 0;
    }
    compute_s_ += e.train_time_s;
    clock_.advance(1000 * e.train_time_s / workers_ + 200);  // + build and latency check
    return e;
  }
  double compute_s() const { return compute_s_.load(); }

 private:
  SurrogateEvaluator& inner_;
  SimClock& clock_;
  int workers_;
  double prune_ms_;
  std::atomic<double> compute_s_{0};
};

}  // namespace

DatasetShape meter_digits() {
  DatasetShape d;
  d.classes = 10;
  d.image_h = d.image_w = 28;
  d.channels = 1;
  d.samples = 12'000;
  return d;
}

SimBox::SimBox(std::string id, DeviceProfile profile, const Scenario& scenario, uint64_t seed)
    : id_(std::move(id)),
      profile_(std::move(profile)),
      scenario_(scenario),
      rng_(seed),
      sampler_(clock_, profile_, seed ^ 0xA5A5A5A5ull) {
  // Start with a queue as the scenario would have it after a while.
  std::poisson_distribution<int> initial(std::min<double>(
      scenario_.max_queued,
      scenario_.arrivals_per_hour * static_cast<double>(scenario_.mean_lifetime_ms) / 3.6e6));
  const int n = std::min(scenario_.max_queued, initial(rng_));
  for (int i = 0; i < n; ++i) {
    queue_.tasks.push_back(new_task());
    leaves_at_.push_back(static_cast<int64_t>(
        std::exponential_distribution<double>(1.0 / scenario_.mean_lifetime_ms)(rng_)));
  }
  if (scenario_.arrivals_per_hour > 0)
    next_arrival_ms_ = static_cast<int64_t>(
        std::exponential_distribution<double>(scenario_.arrivals_per_hour / 3.6e6)(rng_));
  else
    next_arrival_ms_ = INT64_MAX;
}

JobTask SimBox::new_task() {
  JobTask t;
  t.task_id = "task-" + std::to_string(++task_counter_);
  t.latency_req_ms = log_uniform(rng_, scenario_.latency_req_ms);
  const double runtime = log_uniform(rng_, scenario_.runtime_ms);
  const double energy = log_uniform(rng_, scenario_.energy_j);
  const int nodes = static_cast<int>(std::lround(log_uniform(rng_, scenario_.nodes)));
  for (const auto& d : profile_.devices) {
    const bool accel = d.device != "cpu";
    t.rows.push_back({d.device, accel ? runtime / scenario_.accel_speedup : runtime,
                      accel ? energy / scenario_.accel_speedup : energy,
                      std::clamp(accel ? 1 : nodes, 1, d.cores)});
  }
  return t;
}

void SimBox::advance(int64_t t) {
  if (t <= now_ms_) return;
  // Departures.
  for (std::size_t i = 0; i < queue_.tasks.size();) {
    if (leaves_at_[i] <= t) {
      queue_.tasks.erase(queue_.tasks.begin() + static_cast<long>(i));
      leaves_at_.erase(leaves_at_.begin() + static_cast<long>(i));
    } else {
      ++i;
    }
  }
  // Arrivals.
  while (next_arrival_ms_ <= t) {
    if (static_cast<int>(queue_.tasks.size()) < scenario_.max_queued) {
      queue_.tasks.push_back(new_task());
      leaves_at_.push_back(next_arrival_ms_ +
                           static_cast<int64_t>(std::exponential_distribution<double>(
                               1.0 / scenario_.mean_lifetime_ms)(rng_)));
    }
    next_arrival_ms_ += std::max<int64_t>(
        1, static_cast<int64_t>(
               std::exponential_distribution<double>(scenario_.arrivals_per_hour / 3.6e6)(rng_)));
  }
  clock_.advance(t - now_ms_);
  now_ms_ = t;
}

SourceMatrix SimBox::source(int64_t t) {
  advance(t);
  return *sampler_.sample(queue_);
}

Context SimBox::context(int64_t t) {
  Context c;
  c.source = source(t);
  c.job = queue_;
  c.dataset = meter_digits();
  return c;
}

std::string simulated_target_device(const DeviceProfile& profile, const Context& ctx) {
  std::vector<std::string> usable{"cpu"};
  for (const auto& d : profile.devices)
    if (d.device != "cpu" && d.speed > 0) usable.push_back(d.device);
  return search::choose_target_device(ctx, usable);
}

SearchOutcome simulate_search(const Surrogate& surrogate, const DeviceProfile& profile,
                              const Context& ctx, const Hyperparameters& hp, uint64_t seed,
                              const SimSearchOptions& o) {
  SearchOutcome out;
  out.device = o.latency ? o.latency->device : simulated_target_device(profile, ctx);
  const auto* dev = profile.find(out.device);
  const auto* cpu = profile.find("cpu");
  const search::DeviceSpeed target{out.device, dev && dev->speed > 0 ? dev->speed : 1.0,
                                   dev ? dev->overhead_ms : 0.0};
  // The latency the search sees, and the one its delivered network has on the device.
  auto flops_ms = [&](const search::ArchSpec& spec) {
    return search::modelled_latency_ms(search::cost_of(spec, kTableInput).flops, target,
                                       surrogate.calibration());
  };
  const std::function<double(const search::ArchSpec&)> estimate =
      o.latency ? o.latency->estimate : flops_ms;
  const std::function<double(const search::ArchSpec&)> truth =
      o.latency ? o.latency->truth : flops_ms;
  const double cpu_speed = cpu && cpu->speed > 0 ? cpu->speed : 1.0;
  const double t_ms = ctx.min_latency_req_ms().value_or(1000.0);
  const DeviceSource* free_cpu = ctx.device("cpu");
  const int workers = std::clamp(free_cpu ? free_cpu->free_nodes : 1, 1, cpu ? cpu->cores : 1);
  const double power = ctx.source.power_w > 0 ? ctx.source.power_w : profile.max_w;

  SurrogateEvaluator surrogate_eval(surrogate, target, cpu_speed, power, o.trial_images, estimate);
  SimClock clock;
  const double bound_ms = t_ms * (o.latency ? o.latency->bound_factor : 1.0);
  TimedEvaluator evaluator(surrogate_eval, clock, workers, 3 * bound_ms);
  search::SearchSpace space(hp);
  // The run's seed fixes the search's own randomness, as in edgenas-search. (It was
  // hp.seed ^ seed, which is 0 whenever the caller passes the run's seed as `seed` — as every
  // caller does — so every simulated search of a grid point was the same search.)
  auto strategy = search::make_strategy(o.strategy, space, hp.seed, {1, 1.0});
  const int64_t search_ms = o.budget_ms * 3 / 4;
  search::Constraints constraints{bound_ms, ctx.energy_budget_mj(out.device)};
  // The reward of stopping now: the best architecture so far, trained for the final epochs.
  auto final_reward = [&](const search::ArchSpec& spec, double acc) {
    Trace t;
    t.context = ctx;
    t.outcome.status = TraceStatus::ok;
    t.outcome.accuracy = acc;
    t.outcome.latency_ms = estimate(spec);
    t.outcome.energy_mj = power * t.outcome.latency_ms;
    t.outcome.device = out.device;
    t.outcome.search_time_s = static_cast<double>(clock.now_ms()) / 1000;
    return predictor::trace_reward(t);
  };
  const int final_epochs = 4;
  // One trial at a time here (no threads: a simulated search must cost milliseconds); the
  // clock advances by trial time / workers, as if `workers` ran side by side on the box.
  auto result = search::run_search(
      *strategy, evaluator, {1, {search_ms / 1000, 0}, constraints}, clock, nullptr,
      [&](const search::TrialResult&, const search::SearchResult& so_far) {
        if (!so_far.best) return;
        const auto& spec = so_far.best->trial.spec;
        const double final_cost =
            surrogate.train_seconds(spec, final_epochs, o.trial_images) / cpu_speed;
        out.curve.emplace_back(evaluator.compute_s() + final_cost,
                               final_reward(spec, surrogate.accuracy(spec, final_epochs)));
      });
  out.trials = static_cast<int>(result.trials.size());
  out.compute_s = evaluator.compute_s();
  out.progress = search::progress_of(result);
  out.pareto = search::trace_pareto(result);
  if (!result.best) {
    out.search_s = static_cast<double>(clock.now_ms()) / 1000;
    out.search_energy_j = out.compute_s * profile.max_w / std::max(1, cpu ? cpu->cores : 1);
    return out;  // nothing met even 3 T: reward 0
  }
  // Final training with what is left of the budget (at most the table's 4 epochs).
  const auto& spec = result.best->trial.spec;
  const double left_s = std::max(0.0, o.budget_ms / 1000.0 - clock.now_ms() / 1000.0);
  const double per_epoch = surrogate.train_seconds(spec, 1, o.trial_images) / cpu_speed;
  const int epochs =
      std::clamp(static_cast<int>(left_s * workers / std::max(1e-6, per_epoch)), 1, final_epochs);
  out.compute_s += per_epoch * epochs;
  clock.advance(1000 * per_epoch * epochs / workers);
  std::mt19937_64 rng(seed ^ 0xF1A1ull);
  std::normal_distribution<double> noise(0, surrogate.noise_sigma());
  out.accuracy =
      std::clamp(surrogate.accuracy(spec, epochs) + (o.noisy_final ? noise(rng) : 0.0), 0.0, 1.0);
  out.latency_ms = truth(spec);
  out.estimated_ms = estimate(spec);
  out.met_latency = out.latency_ms <= t_ms;
  out.energy_mj = power * out.latency_ms;
  out.search_s = static_cast<double>(clock.now_ms()) / 1000;
  // Training energy: the box's CPU cores at full power for the core-seconds spent.
  out.search_energy_j = out.compute_s * profile.max_w / std::max(1, cpu ? cpu->cores : 1);
  Trace t;
  t.context = ctx;
  t.outcome.status = TraceStatus::ok;
  t.outcome.accuracy = out.accuracy;
  t.outcome.latency_ms = out.latency_ms;
  t.outcome.energy_mj = out.energy_mj;
  t.outcome.device = out.device;
  t.outcome.search_time_s = out.search_s;
  out.reward = predictor::trace_reward(t);
  return out;
}

Trace outcome_trace(const std::string& trace_id, const Context& ctx,
                    const proto::HparamReply& reply, const SearchOutcome& o, int64_t now_wall_ms) {
  Trace t;
  t.trace_id = trace_id;
  t.created_ms = now_wall_ms;
  t.context = ctx;
  t.hparams = reply.hparams;
  t.policy = reply.policy;
  t.predictor_version = reply.predictor_version;
  t.explore = reply.explore;
  auto& out = t.outcome;
  out.status = o.trials > 0 && o.accuracy > 0 ? TraceStatus::ok : TraceStatus::failed;
  if (out.status == TraceStatus::failed) out.error = "no candidate met 3 T (simulated)";
  out.accuracy = o.accuracy;
  out.latency_ms = o.latency_ms;
  out.latency_modelled = true;
  out.energy_mj = o.energy_mj;
  out.energy_modelled = true;
  out.search_time_s = o.search_s;
  out.trials = o.trials;
  out.met_latency = o.met_latency;
  out.device = o.device;
  if (out.status == TraceStatus::ok) {
    out.progress = o.progress;
    out.pareto = o.pareto;
  }
  return t;
}

Expected<World> load_world(const WorldFiles& files) {
  World w;
  auto rows = load_table(files.table_path);
  if (!rows) return rows.error();
  auto surrogate = Surrogate::fit(*rows);
  if (!surrogate) return surrogate.error();
  w.surrogate = std::make_unique<Surrogate>(std::move(*surrogate));
  auto scenario = load_scenario(files.scenario_path);
  if (!scenario) return scenario.error();
  w.scenario = std::make_unique<Scenario>(std::move(*scenario));
  for (const auto& name : files.profiles) {
    auto p = load_profile(files.profiles_dir + "/" + name + ".toml");
    if (!p) return p.error();
    w.profiles[name] = std::move(*p);
  }
  w.noisy.budget_ms = w.scenario->search_budget_ms;
  w.expected = w.noisy;
  w.expected.noisy_final = false;
  return w;
}

std::vector<Trace> simulate_training_traces(const World& w,
                                            const std::vector<std::string>& profiles, int n,
                                            uint64_t seed, int threads, double cold_share) {
  using predictor::Grid;
  struct Pending {
    std::string profile;
    Context ctx;
    predictor::Choice choice;
    bool cold;
  };
  std::vector<Pending> plan;
  std::mt19937_64 rng(seed);
  std::vector<std::unique_ptr<SimBox>> boxes;
  std::vector<int64_t> box_time;
  for (const auto& name : profiles) {
    for (int b = 0; b < 20; ++b) {
      boxes.push_back(std::make_unique<SimBox>(name + "-" + std::to_string(b), w.profiles.at(name),
                                               *w.scenario, rng()));
      box_time.push_back(0);
    }
  }
  coordinator::ColdStartPolicy cold(coordinator::ColdStartRule::size_score);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) {
    const std::size_t b = rng() % boxes.size();
    box_time[b] += static_cast<int64_t>(
        std::exponential_distribution<double>(1.0 / w.scenario->search_every_ms)(rng));
    Pending pe{boxes[b]->profile().name, boxes[b]->context(box_time[b]), {}, u(rng) < cold_share};
    if (pe.cold) {
      proto::HparamRequest req;
      req.request_id = "t" + std::to_string(i);
      req.context = pe.ctx;
      pe.choice = Grid::nearest(cold.choose(boxes[b]->id(), req).hparams);
    } else {
      pe.choice = Grid::at(static_cast<int>(rng() % static_cast<uint64_t>(Grid::points())));
    }
    plan.push_back(std::move(pe));
  }
  std::vector<Trace> traces(plan.size());
  parallel_for(static_cast<int>(plan.size()), threads, [&](int i) {
    const auto& pe = plan[static_cast<std::size_t>(i)];
    const uint32_t s = static_cast<uint32_t>(mix(seed, static_cast<uint64_t>(i)));
    proto::HparamReply reply;
    reply.hparams = Grid::hparams(pe.choice, s);
    reply.policy = pe.cold ? "cold-start" : "explore";
    reply.explore = !pe.cold;
    const auto out =
        simulate_search(*w.surrogate, w.profiles.at(pe.profile), pe.ctx, reply.hparams, s, w.noisy);
    traces[static_cast<std::size_t>(i)] =
        outcome_trace("sim-" + std::to_string(i), pe.ctx, reply, out, 1'700'000'000'000);
  });
  return traces;
}

}  // namespace edgenas::sim
