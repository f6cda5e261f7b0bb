#include "simulations/fleet/evaluate.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/trainer.hpp"
#include "simulations/fleet/numbers.hpp"
#include "simulations/fleet/parallel.hpp"
#include "simulations/fleet/svg.hpp"
#include "simulations/fleet/world.hpp"

namespace edgenas::sim {
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

Expected<predictor::TrainerResult> train_on_first(const std::vector<Trace>& traces, int n,
                                                  int64_t budget_ms, int trials,
                                                  const std::string& targets, uint64_t seed,
                                                  int threads) {
  predictor::TrainerOptions to;
  to.budget_ms = budget_ms;
  to.max_trials = trials;
  to.targets = targets;
  to.seed = seed;
  to.workers = threads;
  return predictor::train_predictor(
      std::vector<Trace>(traces.begin(),
                         traces.begin() + std::min<std::ptrdiff_t>(n, std::ssize(traces))),
      to);
}

WorldFiles world_files(const EvaluateOptions& o) {
  auto names = o.train_profiles;
  names.push_back(o.heldout_profile);
  return {o.profiles_dir, o.scenario_path, o.table_path, names};
}

namespace {

// One evaluation's state; each member function is one of the steps in evaluate.hpp.
class Evaluation {
 public:
  Evaluation(const EvaluateOptions& o, World world, std::optional<predictor::PredictorModel> warm)
      : o_(o),
        world_(std::move(world)),
        warm_(std::move(warm)),
        names_(method_names(warm_.has_value())),
        all_profiles_(world_files(o).profiles) {}

  Expected<json> run(const std::function<void(const std::string&)>& progress);

 private:
  void draw_heldout();
  const Stat& stat_of(HeldOut& h, int point, bool fresh = false);
  void search_grid();
  std::vector<int> choices_of(const std::string& method, const predictor::PredictorModel* model);
  void ensure(const std::vector<int>& pts);
  void finish_oracle();
  double normalised(const std::vector<int>& pts) const;
  double normalised_selection(const std::vector<int>& pts) const;
  Status learning_curve(const std::function<void(const std::string&)>& progress);
  void choose_points();
  void measure_compute();
  json method_json(const std::string& m) const;
  json per_context_json() const;
  json summary_json(const json& methods) const;
  void write_plots(const json& methods) const;
  void write_report(const json& methods) const;

  const EvaluateOptions& o_;
  World world_;
  std::optional<predictor::PredictorModel> warm_;
  const std::vector<std::string> names_;
  const std::vector<std::string> all_profiles_;
  coordinator::ColdStartPolicy cold_;
  std::vector<Trace> traces_;
  std::vector<HeldOut> held_;
  json learning_ = json::array();
  std::optional<predictor::PredictorModel> final_model_;
  json predictor_metrics_;
  std::map<std::string, std::vector<int>> points_;
  double oracle_fresh_share_ = 0;  // the oracle's reward on fresh seeds / on its own
  int reps_ = 1;
  std::map<std::string, std::vector<double>> to95_;   // per context; NAN when never reached
  std::map<std::string, std::vector<double>> spent_;  // per context: a whole search's compute
  std::map<std::string, std::vector<std::vector<double>>> by_trial_;  // reward/oracle by trial
  // Compute ratios against the default space (censored_ratios), the predictor's and the
  // oracle's, and the contexts where only one of predictor and default got to 95 %.
  std::vector<double> ratios_, oracle_ratios_;
  int default_never_ = 0, predictor_never_ = 0;
};

// 2. Held-out contexts from every profile (the held-out profile only here).
void Evaluation::draw_heldout() {
  std::mt19937_64 rng(mix(o_.seed, 999));
  for (int i = 0; i < o_.contexts; ++i) {
    const std::string& name = all_profiles_[static_cast<std::size_t>(i) % all_profiles_.size()];
    SimBox box(name + "-h" + std::to_string(i), world_.profiles.at(name), *world_.scenario, rng());
    const int64_t t = static_cast<int64_t>(std::uniform_real_distribution<double>(0, 86.4e6)(rng));
    held_.push_back({name, box.context(t), {}, {}, 0, 0, 0});
  }
}

// A point's mean over the selection seeds, or (fresh) over seeds o.seeds..2·o.seeds−1, which
// no method's choice was made on. Computed once per (context, point, set).
const Stat& Evaluation::stat_of(HeldOut& h, int point, bool fresh) {
  auto& table = fresh ? h.fresh : h.table;
  auto it = table.find(point);
  if (it != table.end()) return it->second;
  Stat s;
  const auto& prof = world_.profiles.at(h.profile);
  for (int k = fresh ? o_.seeds : 0; k < (fresh ? 2 : 1) * o_.seeds; ++k) {
    const uint32_t seed = static_cast<uint32_t>(mix(mix(o_.seed, static_cast<uint64_t>(point)), k));
    const auto r = simulate_search(*world_.surrogate, prof, h.ctx,
                                   Grid::hparams(Grid::at(point), seed), seed, world_.expected);
    s.reward += r.reward / o_.seeds;
    s.met += (r.met_latency ? 1.0 : 0.0) / o_.seeds;
    s.energy_j += r.search_energy_j / o_.seeds;
    s.compute_s += r.compute_s / o_.seeds;
  }
  return table.emplace(point, s).first->second;
}

// 3. The oracle: every (strided) grid point for every held-out context.
void Evaluation::search_grid() {
  parallel_for(static_cast<int>(held_.size()), o_.threads, [&](int i) {
    auto& h = held_[static_cast<std::size_t>(i)];
    for (int p = 0; p < Grid::points(); p += std::max(1, o_.grid_stride)) (void)stat_of(h, p);
  });
}

std::vector<int> Evaluation::choices_of(const std::string& method,
                                        const predictor::PredictorModel* model) {
  std::vector<int> pts;
  std::mt19937_64 rng(mix(o_.seed, 4242));
  for (std::size_t i = 0; i < held_.size(); ++i) {
    const auto& h = held_[i];
    Choice c;
    if (method == "predictor" || method == "warm-start") {
      auto p = (method == "predictor" ? *model : *warm_).predict(h.ctx);
      c = p ? *p : Choice{};
    } else if (method == "default") {
      c = Grid::nearest({10, 256, 7, Loss::cross_entropy, 0});
    } else if (method == "random") {
      c = Grid::at(static_cast<int>(rng() % static_cast<uint64_t>(Grid::points())));
    } else {
      proto::HparamRequest req;
      req.request_id = "h" + std::to_string(i);
      req.context = h.ctx;
      c = Grid::nearest(cold_.choose("held", req).hparams);
    }
    pts.push_back(Grid::flat(c));
  }
  return pts;
}

// Every chosen point is searched twice over: on the seeds the oracle chooses its point on, and
// on fresh seeds. The oracle's own choice is a maximum over hundreds of noisy means, which
// flatters it on those seeds; on fresh seeds every point, the oracle's included, is fixed before
// its score is drawn, so the comparison is unbiased. Scores use the fresh seeds.
void Evaluation::ensure(const std::vector<int>& pts) {
  parallel_for(static_cast<int>(held_.size()), o_.threads, [&](int i) {
    auto& h = held_[static_cast<std::size_t>(i)];
    (void)stat_of(h, pts[static_cast<std::size_t>(i)]);
    (void)stat_of(h, pts[static_cast<std::size_t>(i)], true);
  });
}

void Evaluation::finish_oracle() {
  std::vector<int> op;
  for (auto& h : held_) {
    h.oracle = 0;
    for (const auto& [p, s] : h.table) {
      if (s.reward > h.oracle) h.oracle = s.reward, h.oracle_point = p;
    }
    op.push_back(h.oracle_point);
  }
  ensure(op);
  for (auto& h : held_) h.oracle_fresh = h.fresh[h.oracle_point].reward;
}

// Reward over the oracle's, on fresh seeds.
double Evaluation::normalised(const std::vector<int>& pts) const {
  double sum = 0;
  for (std::size_t i = 0; i < held_.size(); ++i) {
    const auto& h = held_[i];
    sum += h.oracle_fresh > 0 ? h.fresh.at(pts[i]).reward / h.oracle_fresh : 1;
  }
  return sum / static_cast<double>(held_.size());
}

// The same on the oracle's own seeds.
double Evaluation::normalised_selection(const std::vector<int>& pts) const {
  double sum = 0;
  for (std::size_t i = 0; i < held_.size(); ++i)
    sum += held_[i].oracle > 0 ? held_[i].table.at(pts[i]).reward / held_[i].oracle : 1;
  return sum / static_cast<double>(held_.size());
}

// 4. Predictors on growing numbers of traces (the last one is "the predictor").
Status Evaluation::learning_curve(const std::function<void(const std::string&)>& progress) {
  for (int n : o_.curve) {
    n = std::min<int>(n, static_cast<int>(traces_.size()));
    progress("training a predictor on " + std::to_string(n) + " traces");
    auto r = train_on_first(traces_, n, o_.predictor_budget_ms, o_.predictor_trials, o_.targets,
                            o_.seed, o_.threads);
    if (!r) {
      learning_.push_back({{"traces", n}, {"error", r.error().message}});
      continue;
    }
    const auto pts = choices_of("predictor", &r->model);
    ensure(pts);
    finish_oracle();
    learning_.push_back({{"traces", n},
                         {"normalised_reward", normalised(pts)},
                         {"normalised_reward_selection_seeds", normalised_selection(pts)}});
    if (n == std::min<int>(o_.curve.back(), static_cast<int>(traces_.size()))) {
      final_model_ = std::move(r->model);
      predictor_metrics_ = r->metrics;
    }
  }
  if (!final_model_)
    return Error{errc::kFailed, "no predictor could be trained on the simulated traces"};
  return ok_status();
}

// 5a. Every method's points and their rewards, constraint satisfaction and energy.
void Evaluation::choose_points() {
  for (const std::string& m : names_) {
    if (m == "oracle") continue;
    points_[m] = choices_of(m, &*final_model_);
    ensure(points_[m]);
  }
  finish_oracle();
  auto& op = points_["oracle"];
  for (const auto& h : held_) op.push_back(h.oracle_point);
  for (auto& h : held_) oracle_fresh_share_ += h.oracle > 0 ? h.oracle_fresh / h.oracle : 1;
  oracle_fresh_share_ /= static_cast<double>(held_.size());
}

// 5b. NAS compute to reach 95 % of the oracle's reward (searches up to 4x the budget). One
// search is a noisy measure (when a good architecture turns up is luck), so each method's point
// is searched o.compute_seeds times on seeds of neither set above and the median is taken (a
// search that never gets there counts as infinitely long).
void Evaluation::measure_compute() {
  SimSearchOptions longer = world_.expected;
  longer.budget_ms = world_.noisy.budget_ms * 4;
  reps_ = std::max(1, o_.compute_seeds);
  for (const std::string& m : names_) {
    to95_[m].assign(held_.size(), NAN);
    spent_[m].assign(held_.size(), NAN);
    by_trial_[m].assign(held_.size() * static_cast<std::size_t>(reps_), {});
  }
  std::mutex mu;
  parallel_for(static_cast<int>(held_.size()), o_.threads, [&](int i) {
    auto& h = held_[static_cast<std::size_t>(i)];
    const auto& prof = world_.profiles.at(h.profile);
    for (const std::string& m : names_) {
      const int p = points_[m][static_cast<std::size_t>(i)];
      std::vector<double> reached;  // per search: compute at 95 %, infinite when never
      std::vector<double> total;    // per search: all its compute
      for (int k = 0; k < reps_; ++k) {
        const uint32_t seed = static_cast<uint32_t>(
            mix(mix(o_.seed, static_cast<uint64_t>(p)),
                2 * static_cast<uint64_t>(o_.seeds) + static_cast<uint64_t>(k)));
        const auto r = simulate_search(*world_.surrogate, prof, h.ctx,
                                       Grid::hparams(Grid::at(p), seed), seed, longer);
        double at = INFINITY;
        std::vector<double> curve;
        for (auto [compute, reward] : r.curve) {
          if (std::isinf(at) && reward >= 0.95 * h.oracle_fresh) at = compute;
          curve.push_back(h.oracle_fresh > 0 ? reward / h.oracle_fresh : 1);
        }
        reached.push_back(at);
        total.push_back(r.compute_s);
        std::lock_guard<std::mutex> lock(mu);
        by_trial_[m][static_cast<std::size_t>(i) * static_cast<std::size_t>(reps_) +
                     static_cast<std::size_t>(k)] = std::move(curve);
      }
      const double med = median(reached);
      std::lock_guard<std::mutex> lock(mu);
      to95_[m][static_cast<std::size_t>(i)] = std::isinf(med) ? NAN : med;
      spent_[m][static_cast<std::size_t>(i)] = median(total);
    }
  });
  // Against the default space; a context where only one of the two got there counts at its
  // bound (censored_ratios). The oracle's point too: the reward-best space is not always the
  // fastest to 95 %, so that is what a perfect choice of space gives on this measure.
  ratios_ = censored_ratios(to95_["predictor"], to95_["default"], spent_["default"]);
  oracle_ratios_ = censored_ratios(to95_["oracle"], to95_["default"], spent_["default"]);
  for (std::size_t i = 0; i < held_.size(); ++i) {
    const double p = to95_["predictor"][i], d = to95_["default"][i];
    default_never_ += std::isnan(d) && !std::isnan(p);
    predictor_never_ += std::isnan(p) && !std::isnan(d);
  }
}

// 6. One method's row of the tables, overall and per profile.
json Evaluation::method_json(const std::string& m) const {
  const auto& pts = points_.at(m);
  const auto& to95 = to95_.at(m);
  double met = 0, energy = 0;
  std::vector<double> reached;
  int never = 0;
  for (std::size_t i = 0; i < held_.size(); ++i) {
    met += held_[i].fresh.at(pts[i]).met;
    energy += held_[i].fresh.at(pts[i]).energy_j;
    if (std::isnan(to95[i])) {
      ++never;
    } else {
      reached.push_back(to95[i]);
    }
  }
  const double n = static_cast<double>(held_.size());
  json per_profile = json::object();
  for (const auto& name : all_profiles_) {
    double r = 0, mt = 0, k = 0;
    for (std::size_t i = 0; i < held_.size(); ++i) {
      const auto& h = held_[i];
      if (h.profile != name) continue;
      r += h.oracle_fresh > 0 ? h.fresh.at(pts[i]).reward / h.oracle_fresh : 1;
      mt += h.fresh.at(pts[i]).met;
      k += 1;
    }
    if (k > 0) per_profile[name] = {{"normalised_reward", r / k}, {"met_T", mt / k}};
  }
  return {{"normalised_reward", normalised(pts)},
          {"normalised_reward_selection_seeds", normalised_selection(pts)},
          {"met_T", met / n},
          {"search_energy_j", energy / n},
          {"compute_to_95_median_s", reached.empty() ? json(nullptr) : json(median(reached))},
          {"reached_95", static_cast<int>(reached.size())},
          {"never_reached_95", never},
          {"per_profile", per_profile}};
}

// Per context: every method's hyperparameters and scores (for a closer look at the medians).
json Evaluation::per_context_json() const {
  json per_context = json::array();
  for (std::size_t i = 0; i < held_.size(); ++i) {
    const auto& h = held_[i];
    json row{{"profile", h.profile},
             {"target_device", simulated_target_device(world_.profiles.at(h.profile), h.ctx)},
             {"latency_req_ms", h.ctx.min_latency_req_ms().value_or(0)},
             {"oracle_reward", h.oracle_fresh}};
    for (const std::string& m : names_) {
      const int p = points_.at(m)[i];
      const auto hp = Grid::hparams(Grid::at(p), 0);
      const double to95 = to95_.at(m)[i];
      row[m] = {
          {"layers", hp.layers},
          {"filters", hp.filters},
          {"kernel", hp.kernel},
          {"loss", to_string(hp.loss)},
          {"reward_vs_oracle", h.oracle_fresh > 0 ? h.fresh.at(p).reward / h.oracle_fresh : 1.0},
          {"met_T", h.fresh.at(p).met},
          {"compute_to_95_s", std::isnan(to95) ? json(nullptr) : json(to95)}};
    }
    per_context.push_back(std::move(row));
  }
  return per_context;
}

json Evaluation::summary_json(const json& methods) const {
  return {{"seed", o_.seed},
          {"surrogate_rows", world_.surrogate->size()},
          {"traces", traces_.size()},
          {"heldout_contexts", held_.size()},
          {"heldout_profile", o_.heldout_profile},
          {"grid_points_per_context", Grid::points() / std::max(1, o_.grid_stride)},
          {"seeds", o_.seeds},
          {"compute_seeds", reps_},
          {"search_budget_s", world_.noisy.budget_ms / 1000},
          {"methods", methods},
          {"compute_ratio_predictor_vs_default", median(ratios_)},
          {"oracle_reward_fresh_seeds_share", oracle_fresh_share_},
          {"compute_ratio_contexts", ratios_.size()},
          {"compute_ratio_oracle_vs_default", median(oracle_ratios_)},
          {"default_never_reached_where_predictor_did", default_never_},
          {"predictor_never_reached_where_default_did", predictor_never_},
          {"learning_curve", learning_},
          {"predictor", predictor_metrics_}};
}

// 7. The plots.
void Evaluation::write_plots(const json& methods) const {
  std::vector<Series> trial_series;
  for (const std::string& m : names_) {
    Series s{m, {}};
    const auto& runs = by_trial_.at(m);
    std::size_t longest = 0;
    for (const auto& c : runs) longest = std::max(longest, c.size());
    longest = std::min<std::size_t>(longest, 200);
    for (std::size_t k = 0; k < longest; ++k) {
      double sum = 0;
      for (const auto& c : runs) sum += c.empty() ? 0 : c[std::min(k, c.size() - 1)];
      s.points.emplace_back(static_cast<double>(k + 1), sum / static_cast<double>(runs.size()));
    }
    trial_series.push_back(std::move(s));
  }
  std::ofstream(o_.out_dir + "/reward_vs_trials.svg")
      << line_chart("Best reward so far (normalised by the oracle) vs trials", "trials",
                    "reward / oracle", trial_series);
  std::vector<std::vector<double>> met_bars;
  for (const auto& name : all_profiles_) {
    std::vector<double> row;
    for (const std::string& m : names_)
      row.push_back(methods[m]["per_profile"].value(name, json::object()).value("met_T", 0.0));
    met_bars.push_back(row);
  }
  std::ofstream(o_.out_dir + "/met_T_by_profile.svg")
      << bar_chart("Searches whose model meets T, by device profile", "share meeting T",
                   all_profiles_, names_, met_bars, 0, 1, 0.99);
  Series lc{"predictor", {}};
  for (const auto& p : learning_)
    if (p.contains("normalised_reward"))
      lc.points.emplace_back(p["traces"].get<double>(), p["normalised_reward"].get<double>());
  std::ofstream(o_.out_dir + "/learning_curve.svg") << line_chart(
      "Predictor reward (normalised by the oracle) vs pooled traces", "traces", "reward / oracle",
      {lc, Series{"target 0.95",
                  {{lc.points.empty() ? 1 : lc.points.front().first, 0.95},
                   {lc.points.empty() ? 2 : lc.points.back().first, 0.95}}}},
      true);
}

// 7. The report.
void Evaluation::write_report(const json& methods) const {
  std::ofstream md(o_.out_dir + "/report.md");
  md << "# edgenas-sim evaluation\n\n"
     << "Seed " << o_.seed << "; surrogate fitted on " << world_.surrogate->size()
     << " real trainings; " << traces_.size() << " simulated training traces from "
     << o_.train_profiles.size() << " profiles; " << held_.size()
     << " held-out contexts from all profiles, `" << o_.heldout_profile
     << "` never seen in training; every context searched at "
     << Grid::points() / std::max(1, o_.grid_stride) << " grid points x " << o_.seeds
     << " seeds with a " << world_.noisy.budget_ms / 1000
     << " s simulated budget. Latencies are modelled "
     << "(device profiles), accuracies come from the surrogate.\n\n"
     << "| method | reward / oracle | on the oracle's own seeds | meets T | NAS compute to 95 % "
        "of oracle (median, s) | reached | search energy (J) |\n"
     << "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const std::string& m : names_) {
    const auto& v = methods[m];
    md << "| " << m << " | " << fixed(v["normalised_reward"].get<double>()) << " | "
       << fixed(v["normalised_reward_selection_seeds"].get<double>()) << " | "
       << pct(v["met_T"].get<double>()) << " | "
       << (v["compute_to_95_median_s"].is_null()
               ? std::string("-")
               : fixed(v["compute_to_95_median_s"].get<double>(), 0))
       << " | " << v["reached_95"] << "/" << held_.size() << " | "
       << fixed(v["search_energy_j"].get<double>(), 0) << " |\n";
  }
  md << "\n*reward / oracle*: each method's mean reward at its chosen grid point divided by the "
        "reward at the oracle's point, both searched with seeds no choice was made on (meets T, "
        "energy and compute use the same searches). *On the oracle's own seeds*: the same on the "
        "searches the oracle picked its point with, which flatter it (a maximum over "
     << Grid::points() / std::max(1, o_.grid_stride)
     << " noisy means; on fresh seeds its point keeps " << pct(oracle_fresh_share_)
     << " of the reward it was picked with).\n";
  md << "\nPredictor compute / default compute to reach 95 % of the oracle (each context's "
        "compute the median of "
     << reps_ << " searches of up to 4x the budget; the median ratio over the " << ratios_.size()
     << " contexts where at least one got there): **" << fixed(median(ratios_), 3) << "**";
  if (default_never_ > 0 || predictor_never_ > 0)
    md << " (only the predictor's space got there in " << default_never_
       << ", counted at their bound; only the default's in " << predictor_never_
       << ", counted as infinite)";
  md << ". The oracle's point, on the same measure: " << fixed(median(oracle_ratios_), 3);
  md << ".\n\n## Per device profile (reward / oracle, meets T)\n\n| profile |";
  for (const std::string& m : names_) md << " " << m << " |";
  md << "\n|---|";
  for (std::size_t i = 0; i < names_.size(); ++i) md << "---:|";
  md << "\n";
  for (const auto& name : all_profiles_) {
    md << "| " << name << (name == o_.heldout_profile ? " (unseen)" : "") << " |";
    for (const std::string& m : names_) {
      const auto pp = methods[m]["per_profile"].value(name, json::object());
      md << " " << fixed(pp.value("normalised_reward", 0.0)) << ", " << pct(pp.value("met_T", 0.0))
         << " |";
    }
    md << "\n";
  }
  md << learning_curve_markdown(learning_);
  md << "\n![reward vs trials](reward_vs_trials.svg)\n![meets T by profile](met_T_by_profile.svg)\n"
     << "![learning curve](learning_curve.svg)\n";
}

Expected<json> Evaluation::run(const std::function<void(const std::string&)>& progress) {
  if (auto s = files::create_dirs(o_.out_dir); !s) return s.error();
  progress("simulating " + std::to_string(o_.traces) + " training traces on " +
           std::to_string(o_.train_profiles.size()) + " profiles");
  traces_ = simulate_training_traces(world_, o_.train_profiles, o_.traces, o_.seed, o_.threads);
  draw_heldout();
  progress("searching the hyperparameter grid for " + std::to_string(held_.size()) +
           " held-out contexts (" + std::to_string(Grid::points() / std::max(1, o_.grid_stride)) +
           " points x " + std::to_string(o_.seeds) + " seeds each)");
  search_grid();
  if (auto s = learning_curve(progress); !s) return s.error();
  choose_points();
  progress("measuring the compute each method needs to reach 95 % of the oracle's reward");
  measure_compute();
  json methods = json::object();
  for (const std::string& m : names_) methods[m] = method_json(m);
  std::ofstream(o_.out_dir + "/contexts.json") << per_context_json().dump(1) << "\n";
  const json summary = summary_json(methods);
  std::ofstream(o_.out_dir + "/summary.json") << summary.dump(2) << "\n";
  write_plots(methods);
  write_report(methods);
  return summary;
}

}  // namespace

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
  return Evaluation(o, std::move(*world), std::move(warm)).run(progress);
}

}  // namespace edgenas::sim
