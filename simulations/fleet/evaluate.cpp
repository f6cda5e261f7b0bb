#include "simulations/fleet/evaluate.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "common/util/errors.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/trainer.hpp"
#include "simulations/fleet/parallel.hpp"
#include "simulations/fleet/svg.hpp"
#include "simulations/fleet/world.hpp"

namespace edgenas::sim {
namespace fs = std::filesystem;
using nlohmann::json;
using predictor::Choice;
using predictor::Grid;

namespace {

struct Stat {
  double reward = 0, met = 0, energy_j = 0, compute_s = 0;
};

struct HeldOut {
  std::string profile;
  Context ctx;
  std::map<int, Stat> table;  // grid point (flat) → mean over seeds
  std::map<int, Stat> fresh;  // the same for the methods' points, over other seeds
  double oracle = 0;          // the best mean reward over the grid, on the selection seeds
  int oracle_point = 0;       // where it is
  double oracle_fresh = 0;    // that point's mean reward on fresh seeds
};

// The methods compared; "warm-start" (a predictor trained elsewhere, e.g. the shipped one)
// only when given.
std::vector<std::string> method_names(bool warm_start) {
  std::vector<std::string> m{"predictor", "default", "random", "cold-start", "oracle"};
  if (warm_start) m.insert(m.begin() + 1, "warm-start");
  return m;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f %%", 100 * v);
  return b;
}
std::string fixed(double v, int p = 3) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", p, v);
  return b;
}

}  // namespace

std::vector<double> censored_ratios(const std::vector<double>& method,
                                    const std::vector<double>& baseline,
                                    const std::vector<double>& baseline_spent) {
  std::vector<double> out;
  for (std::size_t i = 0; i < method.size() && i < baseline.size(); ++i) {
    const double p = method[i], d = baseline[i];
    if (!std::isnan(p) && !std::isnan(d)) {
      if (d > 0) out.push_back(p / d);
    } else if (!std::isnan(p)) {  // only the baseline never got there: below this bound
      if (i < baseline_spent.size() && baseline_spent[i] > 0) out.push_back(p / baseline_spent[i]);
    } else if (!std::isnan(d)) {  // only the method never got there
      out.push_back(INFINITY);
    }
  }
  return out;
}

WorldFiles world_files(const EvaluateOptions& o) {
  auto names = o.train_profiles;
  names.push_back(o.heldout_profile);
  return {o.profiles_dir, o.scenario_path, o.table_path, names};
}

Expected<json> evaluate(const EvaluateOptions& o,
                        const std::function<void(const std::string&)>& progress) {
  auto world = load_world(world_files(o));
  if (!world) return world.error();
  std::optional<predictor::PredictorModel> warm;
  if (!o.warm_start_model.empty()) {
    auto m = predictor::load_predictor(o.warm_start_model);
    if (!m) return m.error();
    warm = std::move(*m);
  }
  const std::vector<std::string> names = method_names(warm.has_value());
  const auto& profiles = world->profiles;
  const Surrogate* surrogate = world->surrogate.get();
  const SimSearchOptions& so = world->noisy;
  const SimSearchOptions& expected = world->expected;
  const std::vector<std::string> all_profiles = world_files(o).profiles;
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return Error{errc::kIo, "cannot create " + o.out_dir + ": " + ec.message()};

  // 1. Training traces from the training profiles.
  progress("simulating " + std::to_string(o.traces) + " training traces on " +
           std::to_string(o.train_profiles.size()) + " profiles");
  const std::vector<Trace> traces =
      simulate_training_traces(*world, o.train_profiles, o.traces, o.seed, o.threads);

  // 2. Held-out contexts from every profile (the held-out profile only here).
  std::vector<HeldOut> held;
  {
    std::mt19937_64 rng(mix(o.seed, 999));
    for (int i = 0; i < o.contexts; ++i) {
      const std::string& name = all_profiles[static_cast<std::size_t>(i) % all_profiles.size()];
      SimBox box(name + "-h" + std::to_string(i), profiles.at(name), *world->scenario, rng());
      const int64_t t =
          static_cast<int64_t>(std::uniform_real_distribution<double>(0, 86.4e6)(rng));
      held.push_back({name, box.context(t), {}, {}, 0, 0, 0});
    }
  }
  // fresh: over seeds o.seeds..2·o.seeds−1, which no method's choice was made on.
  auto stat_of = [&](HeldOut& h, int point, bool fresh = false) -> const Stat& {
    auto& table = fresh ? h.fresh : h.table;
    auto it = table.find(point);
    if (it != table.end()) return it->second;
    Stat s;
    const auto& prof = profiles.at(h.profile);
    for (int k = fresh ? o.seeds : 0; k < (fresh ? 2 : 1) * o.seeds; ++k) {
      const uint32_t seed =
          static_cast<uint32_t>(mix(mix(o.seed, static_cast<uint64_t>(point)), k));
      const auto r = simulate_search(*surrogate, prof, h.ctx, Grid::hparams(Grid::at(point), seed),
                                     seed, expected);
      s.reward += r.reward / o.seeds;
      s.met += (r.met_latency ? 1.0 : 0.0) / o.seeds;
      s.energy_j += r.search_energy_j / o.seeds;
      s.compute_s += r.compute_s / o.seeds;
    }
    return table.emplace(point, s).first->second;
  };

  // 3. The oracle: every (strided) grid point for every held-out context.
  progress("searching the hyperparameter grid for " + std::to_string(held.size()) +
           " held-out contexts (" + std::to_string(Grid::points() / std::max(1, o.grid_stride)) +
           " points x " + std::to_string(o.seeds) + " seeds each)");
  parallel_for(static_cast<int>(held.size()), o.threads, [&](int i) {
    auto& h = held[static_cast<std::size_t>(i)];
    for (int p = 0; p < Grid::points(); p += std::max(1, o.grid_stride)) (void)stat_of(h, p);
  });

  // 4. Predictors on growing numbers of traces (the last one is "the predictor").
  coordinator::ColdStartPolicy cold;
  auto choices_of = [&](const std::string& method, const predictor::PredictorModel* model) {
    std::vector<int> pts;
    std::mt19937_64 rng(mix(o.seed, 4242));
    for (std::size_t i = 0; i < held.size(); ++i) {
      const auto& h = held[i];
      Choice c;
      if (method == "predictor" || method == "warm-start") {
        auto p = (method == "predictor" ? *model : *warm).predict(h.ctx);
        c = p ? *p : Choice{};
      } else if (method == "default") {
        c = Grid::nearest({10, 256, 7, Loss::cross_entropy, 0});
      } else if (method == "random") {
        c = Grid::at(static_cast<int>(rng() % static_cast<uint64_t>(Grid::points())));
      } else {
        proto::HparamRequest req;
        req.request_id = "h" + std::to_string(i);
        req.context = h.ctx;
        c = Grid::nearest(cold.choose("held", req).hparams);
      }
      pts.push_back(Grid::flat(c));
    }
    return pts;
  };
  // Every chosen point is searched twice over: on the seeds the oracle chooses its point on,
  // and on fresh seeds. The oracle's own choice is a maximum over hundreds of noisy means, which
  // flatters it on those seeds; on fresh seeds every point, the oracle's included, is fixed
  // before its score is drawn, so the comparison is unbiased. Scores use the fresh seeds.
  auto ensure = [&](const std::vector<int>& pts) {
    parallel_for(static_cast<int>(held.size()), o.threads, [&](int i) {
      auto& h = held[static_cast<std::size_t>(i)];
      (void)stat_of(h, pts[static_cast<std::size_t>(i)]);
      (void)stat_of(h, pts[static_cast<std::size_t>(i)], true);
    });
  };
  auto finish_oracle = [&] {
    std::vector<int> op;
    for (auto& h : held) {
      h.oracle = 0;
      for (const auto& [p, s] : h.table) {
        if (s.reward > h.oracle) h.oracle = s.reward, h.oracle_point = p;
      }
      op.push_back(h.oracle_point);
    }
    ensure(op);
    for (auto& h : held) h.oracle_fresh = h.fresh[h.oracle_point].reward;
  };
  auto normalised = [&](const std::vector<int>& pts) {  // fresh seeds
    double sum = 0;
    for (std::size_t i = 0; i < held.size(); ++i)
      sum += held[i].oracle_fresh > 0 ? held[i].fresh[pts[i]].reward / held[i].oracle_fresh : 1;
    return sum / static_cast<double>(held.size());
  };
  auto normalised_selection = [&](const std::vector<int>& pts) {  // the oracle's own seeds
    double sum = 0;
    for (std::size_t i = 0; i < held.size(); ++i)
      sum += held[i].oracle > 0 ? held[i].table[pts[i]].reward / held[i].oracle : 1;
    return sum / static_cast<double>(held.size());
  };
  json learning = json::array();
  std::optional<predictor::PredictorModel> final_model;
  json predictor_metrics;
  for (int n : o.curve) {
    n = std::min<int>(n, static_cast<int>(traces.size()));
    progress("training a predictor on " + std::to_string(n) + " traces");
    predictor::TrainerOptions to;
    to.budget_ms = o.predictor_budget_ms;
    to.max_trials = o.predictor_trials;
    to.targets = o.targets;
    to.seed = o.seed;
    to.workers = o.threads;
    auto r = predictor::train_predictor(std::vector<Trace>(traces.begin(), traces.begin() + n), to);
    if (!r) {
      learning.push_back({{"traces", n}, {"error", r.error().message}});
      continue;
    }
    const auto pts = choices_of("predictor", &r->model);
    ensure(pts);
    finish_oracle();
    learning.push_back({{"traces", n},
                        {"normalised_reward", normalised(pts)},
                        {"normalised_reward_selection_seeds", normalised_selection(pts)}});
    if (n == std::min<int>(o.curve.back(), static_cast<int>(traces.size()))) {
      final_model = std::move(r->model);
      predictor_metrics = r->metrics;
    }
  }
  if (!final_model)
    return Error{errc::kFailed, "no predictor could be trained on the simulated traces"};

  // 5. Every method's points, rewards, constraint satisfaction, energy.
  std::map<std::string, std::vector<int>> points;
  for (const std::string& m : names) {
    if (m == "oracle") continue;
    points[m] = choices_of(m, &*final_model);
    ensure(points[m]);
  }
  finish_oracle();
  {
    std::vector<int> op;
    for (const auto& h : held) op.push_back(h.oracle_point);
    points["oracle"] = op;
  }
  double oracle_fresh_share = 0;  // the oracle's reward on fresh seeds / on its own
  for (auto& h : held) oracle_fresh_share += h.oracle > 0 ? h.oracle_fresh / h.oracle : 1;
  oracle_fresh_share /= static_cast<double>(held.size());
  // NAS compute to reach 95 % of the oracle's reward (searches up to 4x the budget). One search
  // is a noisy measure (when a good architecture turns up is luck), so each method's point is
  // searched o.compute_seeds times on seeds of neither set above and the median is taken (a
  // search that never gets there counts as infinitely long).
  progress("measuring the compute each method needs to reach 95 % of the oracle's reward");
  SimSearchOptions longer = expected;
  longer.budget_ms = so.budget_ms * 4;
  const int reps = std::max(1, o.compute_seeds);
  std::map<std::string, std::vector<double>> to95;   // per context; NAN when never reached
  std::map<std::string, std::vector<double>> spent;  // per context: a whole search's compute
  std::map<std::string, std::vector<std::vector<double>>> by_trial;  // reward/oracle by trial
  for (const std::string& m : names) {
    to95[m].assign(held.size(), NAN);
    spent[m].assign(held.size(), NAN);
    by_trial[m].assign(held.size() * static_cast<std::size_t>(reps), {});
  }
  std::mutex mu;
  parallel_for(static_cast<int>(held.size()), o.threads, [&](int i) {
    auto& h = held[static_cast<std::size_t>(i)];
    const auto& prof = profiles.at(h.profile);
    for (const std::string& m : names) {
      const int p = points[m][static_cast<std::size_t>(i)];
      std::vector<double> reached;  // per search: compute at 95 %, infinite when never
      std::vector<double> total;    // per search: all its compute
      for (int k = 0; k < reps; ++k) {
        const uint32_t seed = static_cast<uint32_t>(
            mix(mix(o.seed, static_cast<uint64_t>(p)), static_cast<uint64_t>(2 * o.seeds + k)));
        const auto r = simulate_search(*surrogate, prof, h.ctx, Grid::hparams(Grid::at(p), seed),
                                       seed, longer);
        double at = INFINITY;
        std::vector<double> curve;
        for (auto [compute, reward] : r.curve) {
          if (std::isinf(at) && reward >= 0.95 * h.oracle_fresh) at = compute;
          curve.push_back(h.oracle_fresh > 0 ? reward / h.oracle_fresh : 1);
        }
        reached.push_back(at);
        total.push_back(r.compute_s);
        std::lock_guard<std::mutex> lock(mu);
        by_trial[m][static_cast<std::size_t>(i * reps + k)] = std::move(curve);
      }
      const double med = median(reached);
      std::lock_guard<std::mutex> lock(mu);
      to95[m][static_cast<std::size_t>(i)] = std::isinf(med) ? NAN : med;
      spent[m][static_cast<std::size_t>(i)] = median(total);
    }
  });

  // 6. Tables.
  json methods = json::object();
  for (const std::string& m : names) {
    const auto& pts = points[m];
    double met = 0, energy = 0;
    std::vector<double> reached;
    int never = 0;
    for (std::size_t i = 0; i < held.size(); ++i) {
      met += held[i].fresh[pts[i]].met;
      energy += held[i].fresh[pts[i]].energy_j;
      if (std::isnan(to95[m][i])) {
        ++never;
      } else {
        reached.push_back(to95[m][i]);
      }
    }
    const double n = static_cast<double>(held.size());
    json per_profile = json::object();
    for (const auto& name : all_profiles) {
      double r = 0, mt = 0, k = 0;
      for (std::size_t i = 0; i < held.size(); ++i) {
        if (held[i].profile != name) continue;
        r += held[i].oracle_fresh > 0 ? held[i].fresh[pts[i]].reward / held[i].oracle_fresh : 1;
        mt += held[i].fresh[pts[i]].met;
        k += 1;
      }
      if (k > 0) per_profile[name] = {{"normalised_reward", r / k}, {"met_T", mt / k}};
    }
    methods[m] = {
        {"normalised_reward", normalised(pts)},
        {"normalised_reward_selection_seeds", normalised_selection(pts)},
        {"met_T", met / n},
        {"search_energy_j", energy / n},
        {"compute_to_95_median_s", reached.empty() ? json(nullptr) : json(median(reached))},
        {"reached_95", static_cast<int>(reached.size())},
        {"never_reached_95", never},
        {"per_profile", per_profile}};
  }
  // Compute ratio against the default space; a context where only one of the two got there
  // counts at its bound (censored_ratios).
  auto ratios_of = [&](const std::string& m) {
    return censored_ratios(to95[m], to95["default"], spent["default"]);
  };
  int default_never = 0, predictor_never = 0;
  for (std::size_t i = 0; i < held.size(); ++i) {
    const double p = to95["predictor"][i], d = to95["default"][i];
    default_never += std::isnan(d) && !std::isnan(p);
    predictor_never += std::isnan(p) && !std::isnan(d);
  }
  const auto ratios = ratios_of("predictor");
  const double ratio = median(ratios);
  // The same for the oracle's point: the reward-best space is not always the fastest to 95 %,
  // so this is what a perfect choice of space gives on this measure.
  const auto oracle_ratios = ratios_of("oracle");
  // Per context: every method's hyperparameters and scores (for a closer look at the medians).
  json per_context = json::array();
  for (std::size_t i = 0; i < held.size(); ++i) {
    json row{{"profile", held[i].profile},
             {"latency_req_ms", held[i].ctx.min_latency_req_ms().value_or(0)},
             {"oracle_reward", held[i].oracle_fresh}};
    for (const std::string& m : names) {
      const int p = points[m][i];
      const auto hp = Grid::hparams(Grid::at(p), 0);
      row[m] = {{"layers", hp.layers},
                {"filters", hp.filters},
                {"kernel", hp.kernel},
                {"loss", to_string(hp.loss)},
                {"reward_vs_oracle",
                 held[i].oracle_fresh > 0 ? held[i].fresh[p].reward / held[i].oracle_fresh : 1.0},
                {"met_T", held[i].fresh[p].met},
                {"compute_to_95_s", std::isnan(to95[m][i]) ? json(nullptr) : json(to95[m][i])}};
    }
    per_context.push_back(std::move(row));
  }
  std::ofstream(o.out_dir + "/contexts.json") << per_context.dump(1) << "\n";
  json summary{{"seed", o.seed},
               {"surrogate_rows", surrogate->size()},
               {"traces", traces.size()},
               {"heldout_contexts", held.size()},
               {"heldout_profile", o.heldout_profile},
               {"grid_points_per_context", Grid::points() / std::max(1, o.grid_stride)},
               {"seeds", o.seeds},
               {"compute_seeds", reps},
               {"search_budget_s", so.budget_ms / 1000},
               {"methods", methods},
               {"compute_ratio_predictor_vs_default", ratio},
               {"oracle_reward_fresh_seeds_share", oracle_fresh_share},
               {"compute_ratio_contexts", ratios.size()},
               {"compute_ratio_oracle_vs_default", median(oracle_ratios)},
               {"default_never_reached_where_predictor_did", default_never},
               {"predictor_never_reached_where_default_did", predictor_never},
               {"learning_curve", learning},
               {"predictor", predictor_metrics}};
  std::ofstream(o.out_dir + "/summary.json") << summary.dump(2) << "\n";

  // 7. Plots and the report.
  std::vector<Series> trial_series;
  for (const std::string& m : names) {
    Series s{m, {}};
    std::size_t longest = 0;
    for (const auto& c : by_trial[m]) longest = std::max(longest, c.size());
    longest = std::min<std::size_t>(longest, 200);
    for (std::size_t k = 0; k < longest; ++k) {
      double sum = 0;
      for (const auto& c : by_trial[m]) sum += c.empty() ? 0 : c[std::min(k, c.size() - 1)];
      s.points.emplace_back(static_cast<double>(k + 1),
                            sum / static_cast<double>(by_trial[m].size()));
    }
    trial_series.push_back(std::move(s));
  }
  std::ofstream(o.out_dir + "/reward_vs_trials.svg")
      << line_chart("Best reward so far (normalised by the oracle) vs trials", "trials",
                    "reward / oracle", trial_series);
  std::vector<std::vector<double>> met_bars;
  for (const auto& name : all_profiles) {
    std::vector<double> row;
    for (const std::string& m : names)
      row.push_back(methods[m]["per_profile"].value(name, json::object()).value("met_T", 0.0));
    met_bars.push_back(row);
  }
  std::ofstream(o.out_dir + "/met_T_by_profile.svg")
      << bar_chart("Searches whose model meets T, by device profile", "share meeting T",
                   all_profiles, names, met_bars, 0, 1, 0.99);
  Series lc{"predictor", {}};
  for (const auto& p : learning)
    if (p.contains("normalised_reward"))
      lc.points.emplace_back(p["traces"].get<double>(), p["normalised_reward"].get<double>());
  std::ofstream(o.out_dir + "/learning_curve.svg") << line_chart(
      "Predictor reward (normalised by the oracle) vs pooled traces", "traces", "reward / oracle",
      {lc, Series{"target 0.95",
                  {{lc.points.empty() ? 1 : lc.points.front().first, 0.95},
                   {lc.points.empty() ? 2 : lc.points.back().first, 0.95}}}},
      true);

  std::ofstream md(o.out_dir + "/report.md");
  md << "# edgenas-sim evaluation\n\n"
     << "Seed " << o.seed << "; surrogate fitted on " << surrogate->size() << " real trainings; "
     << traces.size() << " simulated training traces from " << o.train_profiles.size()
     << " profiles; " << held.size() << " held-out contexts from all profiles, `"
     << o.heldout_profile << "` never seen in training; every context searched at "
     << Grid::points() / std::max(1, o.grid_stride) << " grid points x " << o.seeds
     << " seeds with a " << so.budget_ms / 1000 << " s simulated budget. Latencies are modelled "
     << "(device profiles), accuracies come from the surrogate.\n\n"
     << "| method | reward / oracle | on the oracle's own seeds | meets T | NAS compute to 95 % "
        "of oracle (median, s) | reached | search energy (J) |\n"
     << "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const std::string& m : names) {
    const auto& v = methods[m];
    md << "| " << m << " | " << fixed(v["normalised_reward"].get<double>()) << " | "
       << fixed(v["normalised_reward_selection_seeds"].get<double>()) << " | "
       << pct(v["met_T"].get<double>()) << " | "
       << (v["compute_to_95_median_s"].is_null()
               ? std::string("-")
               : fixed(v["compute_to_95_median_s"].get<double>(), 0))
       << " | " << v["reached_95"] << "/" << held.size() << " | "
       << fixed(v["search_energy_j"].get<double>(), 0) << " |\n";
  }
  md << "\n*reward / oracle*: each method's mean reward at its chosen grid point divided by the "
        "reward at the oracle's point, both searched with seeds no choice was made on (meets T, "
        "energy and compute use the same searches). *On the oracle's own seeds*: the same on the "
        "searches the oracle picked its point with, which flatter it (a maximum over "
     << Grid::points() / std::max(1, o.grid_stride)
     << " noisy means; on fresh seeds its point keeps " << pct(oracle_fresh_share)
     << " of the reward it was picked with).\n";
  md << "\nPredictor compute / default compute to reach 95 % of the oracle (each context's "
        "compute the median of "
     << reps << " searches of up to 4x the budget; the median ratio over the " << ratios.size()
     << " contexts where at least one got there): **" << fixed(ratio, 3) << "**";
  if (default_never > 0 || predictor_never > 0)
    md << " (only the predictor's space got there in " << default_never
       << ", counted at their bound; only the default's in " << predictor_never
       << ", counted as infinite)";
  md << ". The oracle's point, on the same measure: " << fixed(median(oracle_ratios), 3);
  md << ".\n\n## Per device profile (reward / oracle, meets T)\n\n| profile |";
  for (const std::string& m : names) md << " " << m << " |";
  md << "\n|---|";
  for (std::size_t i = 0; i < names.size(); ++i) md << "---:|";
  md << "\n";
  for (const auto& name : all_profiles) {
    md << "| " << name << (name == o.heldout_profile ? " (unseen)" : "") << " |";
    for (const std::string& m : names) {
      const auto pp = methods[m]["per_profile"].value(name, json::object());
      md << " " << fixed(pp.value("normalised_reward", 0.0)) << ", " << pct(pp.value("met_T", 0.0))
         << " |";
    }
    md << "\n";
  }
  md << "\n## Learning curve\n\n| traces | predictor reward / oracle |\n|---:|---:|\n";
  for (const auto& p : learning)
    md << "| " << p["traces"] << " | "
       << (p.contains("normalised_reward") ? fixed(p["normalised_reward"].get<double>())
                                           : "error: " + p.value("error", std::string()))
       << " |\n";
  md << "\n![reward vs trials](reward_vs_trials.svg)\n![meets T by profile](met_T_by_profile.svg)\n"
     << "![learning curve](learning_curve.svg)\n";
  return summary;
}

}  // namespace edgenas::sim
