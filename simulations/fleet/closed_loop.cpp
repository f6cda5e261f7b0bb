#include "simulations/fleet/closed_loop.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/pool.hpp"
#include "coordinator/predictor/trainer.hpp"
#include "simulations/fleet/parallel.hpp"
#include "simulations/fleet/svg.hpp"
#include "simulations/fleet/world.hpp"

namespace edgenas::sim {
using nlohmann::json;
using predictor::Choice;
using predictor::Grid;

namespace {

// A held-out context, every grid point's mean reward on it over `seeds` searches (the oracle's
// choice), and the fresh-seed means of the points the served policies chose there.
struct HeldOut {
  std::string profile;
  Context ctx;
  double oracle = 0;
  int oracle_point = 0;
  double oracle_fresh = 0;
  std::map<int, double> fresh;
};

double mean_reward(const World& w, const HeldOut& h, int point, uint64_t seed, int from, int to) {
  double sum = 0;
  for (int k = from; k < to; ++k) {
    const auto s = static_cast<uint32_t>(mix(mix(seed, static_cast<uint64_t>(point)), k));
    sum += simulate_search(*w.surrogate, w.profiles.at(h.profile), h.ctx,
                           Grid::hparams(Grid::at(point), s), s, w.expected)
               .reward;
  }
  return sum / std::max(1, to - from);
}

std::vector<HeldOut> held_out_contexts(const World& w, const EvaluateOptions& o) {
  auto names = o.train_profiles;
  names.push_back(o.heldout_profile);
  std::vector<HeldOut> held;
  std::mt19937_64 rng(mix(o.seed, 999));
  for (int i = 0; i < o.contexts; ++i) {
    const std::string& name = names[static_cast<std::size_t>(i) % names.size()];
    SimBox box(name + "-h" + std::to_string(i), w.profiles.at(name), *w.scenario, rng());
    const auto t = static_cast<int64_t>(std::uniform_real_distribution<double>(0, 86.4e6)(rng));
    held.push_back({name, box.context(t), 0, 0, 0, {}});
  }
  parallel_for(static_cast<int>(held.size()), o.threads, [&](int i) {
    auto& h = held[static_cast<std::size_t>(i)];
    for (int p = 0; p < Grid::points(); p += std::max(1, o.grid_stride)) {
      const double r = mean_reward(w, h, p, o.seed, 0, o.seeds);
      if (r > h.oracle) h.oracle = r, h.oracle_point = p;
    }
    h.oracle_fresh = mean_reward(w, h, h.oracle_point, o.seed, o.seeds, 2 * o.seeds);
  });
  return held;
}

// The serving policy: a predictor version, or the cold-start rule.
struct Serving {
  std::shared_ptr<const predictor::PredictorModel> model;
  int version = 0;
  coordinator::ColdStartRule rule = coordinator::ColdStartRule::size_score;
  std::string name() const {
    if (!model) return "cold-start";
    return predictor::trained_in_simulation(*model) ? "warm-start" : "predictor";
  }
  std::string label() const {
    return model ? "v" + std::to_string(version) +
                       (predictor::trained_in_simulation(*model) ? " (warm start)" : "")
                 : "cold-start";
  }
  Choice choose(const Context& ctx, const std::string& box, const std::string& request) const {
    if (model) {
      if (auto c = model->predict(ctx)) return *c;
    }
    proto::HparamRequest req;
    req.request_id = request;
    req.context = ctx;
    return Grid::nearest(coordinator::ColdStartPolicy(rule).choose(box, req).hparams);
  }
};

// The served policy's reward over the oracle's on the held-out contexts (fresh seeds).
double served_reward(const World& w, const EvaluateOptions& o, std::vector<HeldOut>& held,
                     const Serving& serving) {
  std::vector<int> points;
  for (std::size_t i = 0; i < held.size(); ++i)
    points.push_back(Grid::flat(serving.choose(held[i].ctx, "held", "h" + std::to_string(i))));
  parallel_for(static_cast<int>(held.size()), o.threads, [&](int i) {
    auto& h = held[static_cast<std::size_t>(i)];
    const int p = points[static_cast<std::size_t>(i)];
    if (!h.fresh.count(p)) h.fresh[p] = mean_reward(w, h, p, o.seed, o.seeds, 2 * o.seeds);
  });
  double sum = 0;
  for (std::size_t i = 0; i < held.size(); ++i)
    sum += held[i].oracle_fresh > 0 ? held[i].fresh[points[i]] / held[i].oracle_fresh : 1;
  return sum / static_cast<double>(held.size());
}

// One round of the fleet: `n` requests answered by the serving policy with exploration.
struct Fleet {
  std::vector<std::unique_ptr<SimBox>> boxes;
  std::vector<int64_t> clock;
  std::mt19937_64 rng;
};

std::vector<Trace> fleet_round(const World& w, const ClosedLoopOptions& o, Fleet& fleet,
                               const Serving& serving, const predictor::Coverage& coverage,
                               int first, int n, json& mix_out) {
  struct Job {
    std::string profile, box;
    Context ctx;
    proto::HparamReply reply;
  };
  std::vector<Job> jobs;
  int explored_near = 0, explored_wide = 0;
  for (int i = first; i < first + n; ++i) {
    const std::size_t b = fleet.rng() % fleet.boxes.size();
    fleet.clock[b] += static_cast<int64_t>(
        std::exponential_distribution<double>(1.0 / w.scenario->search_every_ms)(fleet.rng));
    Job j{fleet.boxes[b]->profile().name,
          fleet.boxes[b]->id(),
          fleet.boxes[b]->context(fleet.clock[b]),
          {}};
    const std::string request = "r" + std::to_string(i);
    const uint32_t seed = coordinator::request_seed(j.box, request);
    std::mt19937_64 rng(static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull + 1);
    predictor::Exploration how;
    const Choice c = predictor::maybe_explore(serving.choose(j.ctx, j.box, request), j.ctx,
                                              coverage, o.explore, rng, how);
    explored_near += how == predictor::Exploration::near;
    explored_wide += how == predictor::Exploration::wide;
    j.reply.request_id = request;
    j.reply.hparams = Grid::hparams(c, seed);
    j.reply.explore = how != predictor::Exploration::none;
    j.reply.policy = j.reply.explore ? "explore" : serving.name();
    j.reply.predictor_version = serving.version;
    jobs.push_back(std::move(j));
  }
  std::vector<Trace> out(jobs.size());
  parallel_for(static_cast<int>(jobs.size()), o.world.threads, [&](int i) {
    const auto& j = jobs[static_cast<std::size_t>(i)];
    const auto s = static_cast<uint32_t>(
        mix(o.world.seed, static_cast<uint64_t>(first) + static_cast<uint64_t>(i)));
    const auto r =
        simulate_search(*w.surrogate, w.profiles.at(j.profile), j.ctx, j.reply.hparams, s, w.noisy);
    out[static_cast<std::size_t>(i)] =
        outcome_trace("loop-" + std::to_string(first + i), j.ctx, j.reply, r, 1'700'000'000'000);
  });
  mix_out = {{"near", explored_near}, {"wide", explored_wide}, {"requests", n}};
  return out;
}

// The warm start a closed loop may begin with: its model and its simulated pool (empty: none).
struct WarmStart {
  std::shared_ptr<const predictor::PredictorModel> model;
  std::vector<Trace> pool;
};

Expected<WarmStart> load_warm_start(const std::string& dir) {
  WarmStart ws;
  if (dir.empty()) return ws;
  auto m = predictor::load_predictor(dir + "/model.edgenasp");
  if (!m) return m.error();
  auto pool = predictor::read_trace_pool(dir + "/pool.jsonl");
  if (!pool) return pool.error();
  ws.model = std::make_shared<const predictor::PredictorModel>(std::move(*m));
  ws.pool = std::move(*pool);
  return ws;
}

std::string fmt3(double v) {
  char b[16];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

std::string scored_cell(const json& point) {
  const json s = point.value("heldout_scored", json::object());
  if (!s.contains("scored")) return "-";
  return s["scored"].dump() + " / " + s.value("seen_by_serving", json(0)).dump();
}

void write_report(const ClosedLoopOptions& o, const json& result) {
  Series served{"served policy", {}};
  for (const auto& p : result["curve"])
    served.points.emplace_back(p["traces"].get<double>(), p["served_reward"].get<double>());
  const double x0 = served.points.empty() ? 0 : served.points.front().first;
  const double x1 = served.points.empty() ? 1 : served.points.back().first;
  std::ofstream(o.world.out_dir + "/closed_loop.svg") << line_chart(
      "Closed loop: served reward / oracle vs traces pooled by the fleet itself", "traces pooled",
      "reward / oracle", {served, Series{"0.9 of the oracle", {{x0, 0.9}, {x1, 0.9}}}});
  std::ofstream md(o.world.out_dir + "/closed_loop.md");
  md << "# edgenas-sim closed loop\n\nSeed " << o.world.seed << ". The fleet starts on "
     << (o.warm_start.empty() ? "the " + std::string(to_string(o.cold_start_rule)) +
                                    " cold-start rule (no warm start)"
                              : "the warm start in " + o.warm_start +
                                    " (its simulated traces are pooled with the fleet's)")
     << " and pools the traces of the replies it was served: exploration " << o.explore.share * 100
     << " % of replies (" << o.explore.wide * 100
     << " % of those wide, weighted to thin grid points, within the box's latency bound); a "
        "predictor is trained after every "
     << o.round << " traces and serves when it passes the gate. Served reward / oracle on "
     << o.world.contexts << " held-out contexts (fresh seeds).\n\n"
     << "| traces pooled | serving | served reward / oracle | trained version | its reward / "
        "oracle | gate | held out: scored / left out (trained the serving version) | "
        "explored near / wide |\n|---:|---|---:|---|---:|---|---|---|\n";
  for (const auto& p : result["curve"]) {
    const json explored = p.value("explored", json::object());
    md << "| " << p["traces"] << " | " << p["serving"].get<std::string>() << " | "
       << fmt3(p["served_reward"].get<double>()) << " | "
       << (p.contains("trained") ? "v" + p["trained"].dump() : std::string("-")) << " | "
       << (p.contains("candidate_reward") ? fmt3(p["candidate_reward"].get<double>()) : "-")
       << " | " << p.value("gate", std::string("-")) << " | " << scored_cell(p) << " | "
       << explored.value("near", 0) << " / " << explored.value("wide", 0) << " |\n";
  }
  md << "\nFirst reached 0.9 of the oracle at: "
     << (result["traces_to_0_9"].is_null() ? std::string("not within the run")
                                           : result["traces_to_0_9"].dump() + " traces")
     << ".\n\n![curve](closed_loop.svg)\n";
}

}  // namespace

Expected<json> closed_loop(const ClosedLoopOptions& o,
                           const std::function<void(const std::string&)>& progress) {
  auto world = load_world(world_files(o.world));
  if (!world) return world.error();
  const World& w = *world;
  if (auto s = files::create_dirs(o.world.out_dir); !s) return s.error();
  progress("searching the grid for " + std::to_string(o.world.contexts) + " held-out contexts");
  auto held = held_out_contexts(w, o.world);

  Fleet fleet{{}, {}, std::mt19937_64(o.world.seed)};
  for (const auto& name : o.world.train_profiles)
    for (int b = 0; b < 20; ++b) {
      fleet.boxes.push_back(std::make_unique<SimBox>(
          name + "-" + std::to_string(b), w.profiles.at(name), *w.scenario, fleet.rng()));
      fleet.clock.push_back(0);
    }
  Serving serving;
  serving.rule = o.cold_start_rule;
  int trained_versions = 0;
  std::vector<Trace> pool;
  std::vector<Choice> pooled_choices;
  auto warm = load_warm_start(o.warm_start);
  if (!warm) return warm.error();
  if (warm->model) {
    serving.model = warm->model;
    serving.version = ++trained_versions;
    for (const auto& t : warm->pool) pooled_choices.push_back(Grid::nearest(t.hparams));
  }
  json curve = json::array();
  curve.push_back({{"traces", 0},
                   {"serving", serving.label()},
                   {"served_reward", served_reward(w, o.world, held, serving)}});
  // The warm start may be there before the fleet pooled anything.
  json traces_to = curve[0]["served_reward"].get<double>() >= 0.9 ? json(0) : json(nullptr);
  while (static_cast<int>(pool.size()) < o.traces) {
    json explored;
    auto round = fleet_round(w, o, fleet, serving, predictor::coverage_of(pooled_choices),
                             static_cast<int>(pool.size()), o.round, explored);
    for (auto& t : round) {
      pooled_choices.push_back(Grid::nearest(t.hparams));
      pool.push_back(std::move(t));
    }
    progress("training on " + std::to_string(pool.size()) + " pooled traces (serving " +
             serving.label() + ")");
    predictor::TrainerOptions to;
    to.version = ++trained_versions;
    to.budget_ms = o.world.predictor_budget_ms;
    to.max_trials = o.world.predictor_trials;
    to.targets = o.world.targets;
    to.seed = o.world.seed;
    to.workers = o.world.threads;
    to.baseline = serving.model.get();
    to.pool = warm->pool;
    to.cold_start_rule = o.cold_start_rule;
    for (std::size_t i = 0; i < pool.size(); ++i)  // stored in the order they arrived
      to.received_ms.push_back(static_cast<int64_t>(i) + 1);
    json point{{"traces", pool.size()}, {"explored", explored}};
    auto trained = predictor::train_predictor(pool, to);
    if (!trained) {
      point["gate"] = "training failed: " + trained.error().message;
    } else {
      const auto verdict =
          predictor::judge(trained->metrics, serving.model ? "baseline" : "cold_start", o.gate);
      const bool pass = verdict.passes;
      point["trained"] = to.version;
      point["gate"] = pass ? "passed" : "rejected";
      point["heldout_split"] = trained->metrics.value("heldout_split", "");
      point["heldout_scored"] = trained->metrics.value("heldout_scored", json::object());
      point["heldout_regret"] = {{"new", verdict.fresh.value_or(-1)},
                                 {"serving", verdict.against.value_or(-1)},
                                 {"standard_error", verdict.standard_error}};
      // What the candidate would have served, passed or not: is the gate right?
      Serving candidate;
      candidate.model = std::make_shared<const predictor::PredictorModel>(trained->model);
      point["candidate_reward"] = served_reward(w, o.world, held, candidate);
      if (pass) {
        trained->model.version = to.version;
        serving.model =
            std::make_shared<const predictor::PredictorModel>(std::move(trained->model));
        serving.version = to.version;
      }
    }
    point["serving"] = serving.label();
    point["served_reward"] = served_reward(w, o.world, held, serving);
    if (traces_to.is_null() && point["served_reward"].get<double>() >= 0.9) traces_to = pool.size();
    curve.push_back(point);
    progress(point.dump());
  }
  json result{{"seed", o.world.seed},
              {"warm_start", o.warm_start},
              {"cold_start_rule", to_string(o.cold_start_rule)},
              {"round", o.round},
              {"explore", {{"share", o.explore.share}, {"wide", o.explore.wide}}},
              {"gate", {{"tolerance", o.gate.tolerance}, {"margin", o.gate.margin}}},
              {"contexts", o.world.contexts},
              {"curve", curve},
              {"traces_to_0_9", traces_to}};
  std::ofstream(o.world.out_dir + "/closed_loop.json") << result.dump(2) << "\n";
  write_report(o, result);
  return result;
}

}  // namespace edgenas::sim
