#include "simulations/nb201/evaluate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/targets.hpp"
#include "coordinator/predictor/trainer.hpp"
#include "simulations/fleet/evaluate.hpp"
#include "simulations/fleet/numbers.hpp"
#include "simulations/fleet/parallel.hpp"
#include "simulations/fleet/svg.hpp"

namespace edgenas::sim {
using nlohmann::json;
using predictor::Choice;
using predictor::Grid;
using search::Nb201Bounds;

namespace {

// The distinct bounds the grid reaches: convolution edges 0..6 × largest kernel 1 or 3.
constexpr int kBounds = 14;
constexpr int kWidest = kBounds - 1;
Nb201Bounds bounds_at(int b) {
  return {b / 2, b % 2 ? 3 : 1};
}
int bounds_index(const Nb201Bounds& b) {
  return b.max_conv_edges * 2 + (b.max_kernel == 3 ? 1 : 0);
}
// Hyperparameters that map to bound b (Nb201Bounds::from's inverse).
Hyperparameters hparams_of(int b, uint32_t seed) {
  Hyperparameters hp;
  hp.layers = bounds_at(b).max_conv_edges + 1;
  hp.kernel = bounds_at(b).max_kernel == 3 ? 5 : 3;
  hp.filters = 64;
  hp.seed = seed;
  return hp;
}

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> m{"predictor", "widest", "random", "cold-start", "oracle"};
  return m;
}

// One bound's searches in one context: means over seeds.
struct Stat {
  double reward = 0, met = 0, regret = 0;
};

struct Ctx {
  int device = 0;
  Nb201Box box;
  double best = 0;  // the best accuracy in the whole table within T, %
  std::array<Stat, kBounds> selection{}, fresh{};
  int oracle = kWidest;
};

class Evaluation {
 public:
  Evaluation(const Nb201EvaluateOptions& o, Nb201Table t, int dataset, std::vector<bool> heldout)
      : o_(o), t_(std::move(t)), dataset_(dataset), heldout_(std::move(heldout)) {}
  Expected<json> run(const std::function<void(const std::string&)>& progress);

 private:
  void simulate_traces();
  void draw_contexts();
  Stat search_stat(const Ctx& c, std::size_t i, int bound, int first_seed) const;
  void search_bounds();
  std::vector<int> choices_of(const std::string& m, const predictor::PredictorModel* model) const;
  double normalised(const std::vector<int>& pts, std::size_t only_device = SIZE_MAX) const;
  Status learning_curve(const std::function<void(const std::string&)>& progress);
  void measure_queries();
  json method_json(const std::string& m) const;
  json contexts_json() const;
  std::vector<std::size_t> scored_devices() const;  // the device columns with contexts
  void write_plots(const json& methods) const;
  void write_report(const json& summary) const;

  const Nb201EvaluateOptions& o_;
  Nb201Table t_;
  int dataset_;
  std::vector<bool> heldout_;  // per device column
  std::vector<Trace> traces_;
  std::vector<Ctx> ctx_;
  json learning_ = json::array();
  std::optional<predictor::PredictorModel> model_;
  json predictor_metrics_;
  std::map<std::string, std::vector<int>> points_;
  std::map<std::string, std::vector<double>> to_half_;  // per context; NAN: never
  std::map<std::string, std::vector<double>> curve_;    // mean regret after each query
};

// The cold-start rule's answer for a context (a policy per call: it is called from threads).
Hyperparameters cold_start_hparams(const Context& ctx) {
  proto::HparamRequest req;
  req.request_id = "nb201";
  req.context = ctx;
  return coordinator::ColdStartPolicy().choose("nb201", req).hparams;
}

// 1. Traces from boxes of the training devices.
void Evaluation::simulate_traces() {
  std::vector<int> train;
  for (std::size_t d = 0; d < t_.devices.size(); ++d)
    if (!heldout_[d]) train.push_back(static_cast<int>(d));
  traces_.assign(static_cast<std::size_t>(o_.traces), {});
  parallel_for(o_.traces, o_.threads, [&](int i) {
    std::mt19937_64 rng(mix(o_.seed, static_cast<uint64_t>(i)));
    const int device = train[static_cast<std::size_t>(i) % train.size()];
    const double q = std::uniform_real_distribution<double>(0.05, 0.95)(rng);
    const Nb201Box box = nb201_box(t_, device, dataset_, q, rng);
    const auto seed = static_cast<uint32_t>(rng());
    const bool cold = std::uniform_real_distribution<double>(0, 1)(rng) < 0.3;
    Hyperparameters hp =
        cold ? cold_start_hparams(box.ctx)
             : Grid::hparams(
                   Grid::at(static_cast<int>(rng() % static_cast<uint64_t>(Grid::points()))), seed);
    hp.seed = seed;
    const auto out = simulate_nb201_search(t_, dataset_, box, hp, seed, o_.search);
    traces_[static_cast<std::size_t>(i)] =
        nb201_trace("nb201-" + std::to_string(i), box, hp, cold ? "cold-start" : "explore", out);
  });
}

// 2. Held-out contexts: T stratified over the device's latency range.
void Evaluation::draw_contexts() {
  std::mt19937_64 rng(mix(o_.seed, 999));
  for (const auto& [name, t_ms] : o_.contexts_at) {
    Ctx c;
    c.device = *t_.device(name);
    c.box = nb201_box_at(t_, c.device, dataset_, t_ms, rng);
    c.best = nb201_best_under(t_, dataset_, c.device, c.box.t_ms);
    ctx_.push_back(std::move(c));
  }
  if (!o_.contexts_at.empty()) return;
  const int k = std::max(1, o_.contexts_per_device);
  for (std::size_t d = 0; d < t_.devices.size(); ++d) {
    for (int j = 0; j < k; ++j) {
      const double u = (j + std::uniform_real_distribution<double>(0, 1)(rng)) / k;
      Ctx c;
      c.device = static_cast<int>(d);
      c.box = nb201_box(t_, c.device, dataset_, 0.05 + 0.9 * u, rng);
      c.best = nb201_best_under(t_, dataset_, c.device, c.box.t_ms);
      ctx_.push_back(std::move(c));
    }
  }
}

Stat Evaluation::search_stat(const Ctx& c, std::size_t i, int bound, int first_seed) const {
  Stat s;
  Nb201SearchOptions so = o_.search;
  so.noisy_final = false;  // expected values: a maximum over noisy means would flatter the oracle
  for (int k = first_seed; k < first_seed + o_.seeds; ++k) {
    const auto seed = static_cast<uint32_t>(
        mix(mix(o_.seed, i * kBounds + static_cast<std::size_t>(bound)), static_cast<uint64_t>(k)));
    const auto hp = hparams_of(bound, seed);
    const auto out = simulate_nb201_search(t_, dataset_, c.box, hp, seed, so);
    s.reward += predictor::trace_reward(nb201_trace("e", c.box, hp, "eval", out)) / o_.seeds;
    s.met += (out.met_latency ? 1.0 : 0.0) / o_.seeds;
    s.regret += (c.best - (out.met_latency ? out.accuracy : 0.0)) / o_.seeds;
  }
  return s;
}

// 3. Every bound in every context, on selection and on fresh seeds; the oracle's bound.
void Evaluation::search_bounds() {
  parallel_for(static_cast<int>(ctx_.size()), o_.threads, [&](int i) {
    auto& c = ctx_[static_cast<std::size_t>(i)];
    for (int b = 0; b < kBounds; ++b) {
      c.selection[static_cast<std::size_t>(b)] = search_stat(c, static_cast<std::size_t>(i), b, 0);
      c.fresh[static_cast<std::size_t>(b)] =
          search_stat(c, static_cast<std::size_t>(i), b, o_.seeds);
    }
    for (int b = 0; b < kBounds; ++b)
      if (c.selection[static_cast<std::size_t>(b)].reward >
          c.selection[static_cast<std::size_t>(c.oracle)].reward)
        c.oracle = b;
  });
}

std::vector<int> Evaluation::choices_of(const std::string& m,
                                        const predictor::PredictorModel* model) const {
  std::vector<int> pts;
  std::mt19937_64 rng(mix(o_.seed, 4242));
  for (const auto& c : ctx_) {
    int b = kWidest;
    if (m == "predictor") {
      auto p = model->predict(c.box.ctx);
      b = p ? bounds_index(Nb201Bounds::from(Grid::hparams(*p, 0))) : kWidest;
    } else if (m == "random") {
      const auto choice = Grid::at(static_cast<int>(rng() % static_cast<uint64_t>(Grid::points())));
      b = bounds_index(Nb201Bounds::from(Grid::hparams(choice, 0)));
    } else if (m == "cold-start") {
      b = bounds_index(Nb201Bounds::from(cold_start_hparams(c.box.ctx)));
    } else if (m == "oracle") {
      b = c.oracle;
    }
    pts.push_back(b);
  }
  return pts;
}

// Reward over the oracle's, on fresh seeds (over one device's contexts when given).
double Evaluation::normalised(const std::vector<int>& pts, std::size_t only_device) const {
  double sum = 0, n = 0;
  for (std::size_t i = 0; i < ctx_.size(); ++i) {
    const auto& c = ctx_[i];
    if (only_device != SIZE_MAX && static_cast<std::size_t>(c.device) != only_device) continue;
    const double oracle = c.fresh[static_cast<std::size_t>(c.oracle)].reward;
    sum += oracle > 0 ? c.fresh[static_cast<std::size_t>(pts[i])].reward / oracle : 1;
    n += 1;
  }
  return n > 0 ? sum / n : 0;
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
    learning_.push_back(
        {{"traces", n}, {"normalised_reward", normalised(choices_of("predictor", &r->model))}});
    model_ = std::move(r->model);
    predictor_metrics_ = r->metrics;
  }
  if (!model_) return Error{errc::kFailed, "no predictor could be trained on the table's traces"};
  return ok_status();
}

// 5. Queries to come within 0.5 points of the best cell under T: long searches (4x the query
// budget) from each method's bound; the median over long_seeds searches (a search that never
// gets there counts as infinitely long). Also the mean regret after each query.
void Evaluation::measure_queries() {
  Nb201SearchOptions longer = o_.search;
  longer.queries = 4 * o_.search.queries;
  longer.noisy_final = false;
  const auto len = static_cast<std::size_t>(longer.queries);
  std::mutex mu;
  for (const auto& m : method_names()) {
    to_half_[m].assign(ctx_.size(), NAN);
    curve_[m].assign(len, 0.0);
  }
  parallel_for(static_cast<int>(ctx_.size()), o_.threads, [&](int i) {
    const auto& c = ctx_[static_cast<std::size_t>(i)];
    for (const auto& m : method_names()) {
      const int b = points_[m][static_cast<std::size_t>(i)];
      std::vector<double> reached, regret(len, 0.0);
      for (int k = 0; k < o_.long_seeds; ++k) {
        const auto seed = static_cast<uint32_t>(
            mix(mix(o_.seed, static_cast<uint64_t>(i) * kBounds + static_cast<uint64_t>(b)),
                static_cast<uint64_t>(2 * o_.seeds + k)));
        const auto out =
            simulate_nb201_search(t_, dataset_, c.box, hparams_of(b, seed), seed, longer);
        double at = INFINITY, last = c.best;
        for (std::size_t q = 0; q < len; ++q) {
          if (q < out.incumbent.size()) last = c.best - std::max(0.0, out.incumbent[q]);
          if (std::isinf(at) && q < out.incumbent.size() && out.incumbent[q] >= c.best - 0.5)
            at = static_cast<double>(q + 1);
          regret[q] += last / o_.long_seeds;
        }
        reached.push_back(at);
      }
      const double med = median(reached);
      std::lock_guard<std::mutex> lock(mu);
      to_half_[m][static_cast<std::size_t>(i)] = std::isinf(med) ? NAN : med;
      for (std::size_t q = 0; q < len; ++q)
        curve_[m][q] += regret[q] / static_cast<double>(ctx_.size());
    }
  });
}

// One method's row: overall, on the held-out devices, and per device.
json Evaluation::method_json(const std::string& m) const {
  const auto& pts = points_.at(m);
  auto summarise = [&](auto keep) {
    std::vector<double> regret, queries;
    double met = 0, reward = 0, n = 0;
    int never = 0;
    for (std::size_t i = 0; i < ctx_.size(); ++i) {
      const auto& c = ctx_[i];
      if (!keep(c)) continue;
      const auto& s = c.fresh[static_cast<std::size_t>(pts[i])];
      const double oracle = c.fresh[static_cast<std::size_t>(c.oracle)].reward;
      reward += oracle > 0 ? s.reward / oracle : 1;
      met += s.met;
      regret.push_back(s.regret);
      const double q = to_half_.at(m)[i];
      if (std::isnan(q)) {
        ++never;
        queries.push_back(INFINITY);
      } else {
        queries.push_back(q);
      }
      n += 1;
    }
    const double mq = median(queries);
    return json{
        {"contexts", static_cast<int>(n)},
        {"normalised_reward", n > 0 ? reward / n : 0},
        {"met_T", n > 0 ? met / n : 0},
        {"median_regret_points", median(regret)},
        {"mean_regret_points", n > 0 ? std::accumulate(regret.begin(), regret.end(), 0.0) / n : 0},
        {"median_queries_to_half_point", std::isinf(mq) ? json(nullptr) : json(mq)},
        {"never_within_half_point", never}};
  };
  json per_device = json::object();
  for (std::size_t d : scored_devices())
    per_device[t_.devices[d]] =
        summarise([&](const Ctx& c) { return c.device == static_cast<int>(d); });
  json row = summarise([](const Ctx&) { return true; });
  row["heldout_devices"] =
      summarise([&](const Ctx& c) { return bool(heldout_[static_cast<std::size_t>(c.device)]); });
  row["per_device"] = per_device;
  return row;
}

std::vector<std::size_t> Evaluation::scored_devices() const {
  std::vector<std::size_t> out;
  for (std::size_t d = 0; d < t_.devices.size(); ++d)
    if (std::any_of(ctx_.begin(), ctx_.end(),
                    [&](const Ctx& c) { return c.device == static_cast<int>(d); }))
      out.push_back(d);
  return out;
}

json Evaluation::contexts_json() const {
  json out = json::array();
  for (std::size_t i = 0; i < ctx_.size(); ++i) {
    const auto& c = ctx_[i];
    json row{{"device", t_.devices[static_cast<std::size_t>(c.device)]},
             {"heldout", bool(heldout_[static_cast<std::size_t>(c.device)])},
             {"t_ms", c.box.t_ms},
             {"best_under_t", c.best}};
    for (const auto& m : method_names()) {
      const int b = points_.at(m)[i];
      const auto& s = c.fresh[static_cast<std::size_t>(b)];
      const double q = to_half_.at(m)[i];
      row[m] = {{"bounds", bounds_at(b).key()},
                {"met_T", s.met},
                {"regret_points", s.regret},
                {"queries_to_half_point", std::isnan(q) ? json(nullptr) : json(q)}};
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

namespace {

void Evaluation::write_plots(const json& methods) const {
  const auto& names = method_names();
  std::vector<std::vector<double>> regret_bars, met_bars;
  std::vector<std::string> devices;
  for (std::size_t i : scored_devices()) devices.push_back(t_.devices[i]);
  for (const auto& d : devices) {
    std::vector<double> r, m;
    for (const auto& name : names) {
      r.push_back(methods[name]["per_device"][d]["median_regret_points"].get<double>());
      m.push_back(methods[name]["per_device"][d]["met_T"].get<double>());
    }
    regret_bars.push_back(r);
    met_bars.push_back(m);
  }
  double top = 1;
  for (const auto& row : regret_bars)
    for (double v : row) top = std::max(top, v);
  std::ofstream(o_.out_dir + "/regret_by_device.svg")
      << bar_chart("Median regret under T (accuracy points), by device", "points", devices, names,
                   regret_bars, 0, top, 0.3);
  std::ofstream(o_.out_dir + "/met_T_by_device.svg")
      << bar_chart("Searches whose model meets T, by device", "share meeting T", devices, names,
                   met_bars, 0, 1, 0.99);
  std::vector<Series> curves;
  for (const auto& name : names) {
    Series s{name, {}};
    const auto& c = curve_.at(name);
    for (std::size_t q = 0; q < c.size(); ++q)
      s.points.emplace_back(static_cast<double>(q + 1), c[q]);
    curves.push_back(std::move(s));
  }
  std::ofstream(o_.out_dir + "/regret_vs_queries.svg") << line_chart(
      "Mean regret under T (points) vs queries", "queries", "regret (points)", curves, true);
}

void Evaluation::write_report(const json& summary) const {
  const json& methods = summary["methods"];
  std::ofstream md(o_.out_dir + "/report.md");
  std::string held;
  for (const auto& d : summary["heldout_devices"])
    held += (held.empty() ? "" : ", ") + d.get<std::string>();
  md << "# edgenas-sim evaluation: the NAS-Bench-201 world\n\n"
     << "Table `" << t_.path << "` (" << t_.rows() << " cells, " << t_.devices.size()
     << " device columns), data set column `acc_" << t_.datasets[static_cast<std::size_t>(dataset_)]
     << "`; seed " << o_.seed << "; " << traces_.size() << " training traces from "
     << t_.devices.size() - summary["heldout_devices"].size() << " devices; " << ctx_.size()
     << " held-out contexts ("
     << (o_.contexts_at.empty()
             ? std::to_string(o_.contexts_per_device) +
                   " per device, T from the device's 5 % to 95 % latency quantile"
             : std::string("at the given devices and T"))
     << "); devices never in training: " << held << ". Every context searched at 14 bounds x "
     << o_.seeds << " seeds (and as many fresh ones) with " << o_.search.queries
     << " queries each; a query's accuracy carries " << fixed(o_.search.noise_points, 2)
     << " points of seed-to-seed noise; candidates over "
     << (o_.search.prune_factor > 0 ? fixed(o_.search.prune_factor, 1) + " T are not trained"
                                    : std::string("T are trained all the same (no pruning)"))
     << ". Latencies are the table's measurements; Filters and "
        "Loss are fixed by the benchmark (its macro network and training recipe), so the grid "
        "is Layers (-> convolution edges 0-6) x Kernel (-> largest kernel 1 or 3).\n\n"
     << "| method | reward / oracle | meets T | median regret under T (points) | mean regret | "
        "queries to within 0.5 points (median) | never within 0.5 |\n"
     << "|---|---:|---:|---:|---:|---:|---:|\n";
  auto row = [&](const std::string& name, const json& v) {
    md << "| " << name << " | " << fixed(v["normalised_reward"].get<double>()) << " | "
       << pct(v["met_T"].get<double>()) << " | "
       << fixed(v["median_regret_points"].get<double>(), 2) << " | "
       << fixed(v["mean_regret_points"].get<double>(), 2) << " | "
       << (v["median_queries_to_half_point"].is_null()
               ? std::string("never")
               : fixed(v["median_queries_to_half_point"].get<double>(), 0))
       << " | " << v["never_within_half_point"] << "/" << v["contexts"] << " |\n";
  };
  for (const auto& m : method_names()) row(m, methods[m]);
  md << "\n## On the devices never in training (" << held << ")\n\n"
     << "| method | reward / oracle | meets T | median regret under T (points) | mean regret | "
        "queries to within 0.5 points (median) | never within 0.5 |\n"
     << "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& m : method_names()) row(m, methods[m]["heldout_devices"]);
  md << "\n*Regret*: the best accuracy of any cell in the table within T on that device minus "
        "the accuracy of the model the search delivered (a model over T counts as 0). *Queries "
        "to within 0.5 points*: the median over "
     << o_.long_seeds << " searches of " << 4 * o_.search.queries
     << " queries of the first query after which the model the search would deliver is within "
        "0.5 points of that best.\n\n## Per device (median regret in points, meets T)\n\n| device "
        "|";
  for (const auto& m : method_names()) md << " " << m << " |";
  md << "\n|---|";
  for (std::size_t i = 0; i < method_names().size(); ++i) md << "---:|";
  md << "\n";
  for (std::size_t d : scored_devices()) {
    md << "| " << t_.devices[d] << (heldout_[d] ? " (unseen)" : "") << " |";
    for (const auto& m : method_names()) {
      const auto& v = methods[m]["per_device"][t_.devices[d]];
      md << " " << fixed(v["median_regret_points"].get<double>(), 2) << ", "
         << pct(v["met_T"].get<double>()) << " |";
    }
    md << "\n";
  }
  md << learning_curve_markdown(learning_);
  md << "\n![regret by device](regret_by_device.svg)\n![meets T by device](met_T_by_device.svg)\n"
     << "![regret vs queries](regret_vs_queries.svg)\n";
}

Expected<json> Evaluation::run(const std::function<void(const std::string&)>& progress) {
  if (auto s = files::create_dirs(o_.out_dir); !s) return s.error();
  progress("simulating " + std::to_string(o_.traces) + " training traces on the table");
  simulate_traces();
  draw_contexts();
  progress("searching 14 bounds x " + std::to_string(2 * o_.seeds) + " seeds for " +
           std::to_string(ctx_.size()) + " held-out contexts");
  search_bounds();
  if (auto s = learning_curve(progress); !s) return s.error();
  for (const auto& m : method_names()) points_[m] = choices_of(m, &*model_);
  progress("measuring the queries each method needs to come within 0.5 points of the best");
  measure_queries();
  json methods = json::object();
  for (const auto& m : method_names()) methods[m] = method_json(m);
  json held = json::array();
  for (std::size_t d = 0; d < t_.devices.size(); ++d)
    if (heldout_[d]) held.push_back(t_.devices[d]);
  const json summary{{"world", "nb201"},
                     {"table", t_.path},
                     {"dataset", t_.datasets[static_cast<std::size_t>(dataset_)]},
                     {"seed", o_.seed},
                     {"traces", traces_.size()},
                     {"contexts", ctx_.size()},
                     {"heldout_devices", held},
                     {"queries", o_.search.queries},
                     {"noise_points", o_.search.noise_points},
                     {"prune_factor", o_.search.prune_factor},
                     {"seeds", o_.seeds},
                     {"methods", methods},
                     {"learning_curve", learning_},
                     {"predictor", predictor_metrics_}};
  std::ofstream(o_.out_dir + "/contexts.json") << contexts_json().dump(1) << "\n";
  std::ofstream(o_.out_dir + "/summary.json") << summary.dump(2) << "\n";
  write_plots(methods);
  write_report(summary);
  return summary;
}

// Held-out devices: the named ones, or every fourth column from the fourth.
Expected<std::vector<bool>> heldout_of(const Nb201Table& t, const std::vector<std::string>& names) {
  std::vector<bool> held(t.devices.size(), false);
  for (std::size_t d = 3; names.empty() && d < t.devices.size(); d += 4) held[d] = true;
  for (const auto& n : names) {
    auto d = t.device(n);
    if (!d) return Error{errc::kUsage, "no device column '" + n + "' in " + t.path};
    held[static_cast<std::size_t>(*d)] = true;
  }
  if (std::count(held.begin(), held.end(), false) == 0)
    return Error{errc::kUsage, "every device is held out: none is left to train on"};
  return held;
}

}  // namespace

Expected<json> evaluate_nb201(const Nb201EvaluateOptions& o,
                              const std::function<void(const std::string&)>& progress) {
  auto t = load_nb201_table(o.table_path);
  if (!t) return t.error();
  const auto dataset = t->dataset(o.dataset);
  if (!dataset) {
    std::string have;
    for (const auto& d : t->datasets) have += " acc_" + d;
    return Error{errc::kUsage,
                 "no data set '" + o.dataset + "' in " + o.table_path + " (it has" + have + ")"};
  }
  auto held = heldout_of(*t, o.heldout_devices);
  if (!held) return held.error();
  for (const auto& [name, t_ms] : o.contexts_at) {
    if (!t->device(name))
      return Error{errc::kUsage, "no device column '" + name + "' in " + o.table_path};
    if (!(t_ms > 0)) return Error{errc::kUsage, "T for " + name + " must be above 0 ms"};
  }
  return Evaluation(o, std::move(*t), *dataset, std::move(*held)).run(progress);
}

}  // namespace edgenas::sim
