#include "simulations/fleet/meter_latency.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "common/search/learned_latency.hpp"
#include "common/search/space.hpp"
#include "common/util/errors.hpp"
#include "common/util/rank_stats.hpp"
#include "simulations/fleet/fleet_latency.hpp"
#include "simulations/fleet/parallel.hpp"
#include "simulations/fleet/report_files.hpp"
#include "simulations/fleet/roofline.hpp"
#include "simulations/fleet/world.hpp"
#include "simulations/nb201/table.hpp"

namespace edgenas::sim {
namespace {

// The space the fleet's networks come from and the searches run in: the bounds of the
// hand-set search of issue 22 (6 layers, 64 filters, kernel 5).
const Hyperparameters kSpace{6, 64, 5, Loss::cross_entropy, 0};

struct Network {
  search::ArchSpec spec;
  search::LayerList layers;
  std::vector<double> features;
  double flops = 0;
};

struct Pool {
  std::vector<Network> nets;
  search::FeatureScale scale;
};

Network describe(const search::ArchSpec& spec) {
  Network n{spec, search::lower(spec, kTableInput), {}, 0};
  n.features = search::latency_features(n.layers);
  n.flops = static_cast<double>(search::cost_of(spec, kTableInput).flops);
  return n;
}

// Distinct networks sampled from the space.
Pool sample_pool(int n, uint64_t seed) {
  search::SearchSpace space(kSpace);
  std::mt19937_64 rng(seed);
  Pool p;
  std::set<std::string> seen;
  for (int tries = 0; static_cast<int>(p.nets.size()) < n && tries < 50 * n; ++tries) {
    auto spec = space.sample(rng);
    if (seen.insert(spec.key()).second) p.nets.push_back(describe(spec));
  }
  std::vector<std::vector<double>> features;
  for (const auto& net : p.nets) features.push_back(net.features);
  p.scale = search::FeatureScale::of(features);
  return p;
}

// A device of the world with a truth: its latency model kind (the profile's, or
// profile:device), the truth and the profile's FLOPs line.
struct Kind {
  std::string kind, profile, device;
  Roofline roofline;
  search::DeviceSpeed speed;
  std::vector<double> truth;  // per pool network
};

std::vector<Kind> kinds_of(const World& w, const Pool& pool) {
  std::vector<Kind> kinds;
  for (const auto& [name, profile] : w.profiles)
    for (const auto& d : profile.devices) {
      if (!d.roofline.given()) continue;
      Kind k{latency_kind(profile, d),           name, d.device, d.roofline,
             {d.device, d.speed, d.overhead_ms}, {}};
      for (const auto& net : pool.nets) k.truth.push_back(roofline_ms(d.roofline, net.layers));
      kinds.push_back(std::move(k));
    }
  return kinds;
}

double flops_line_ms(const Kind& k, double flops, const World& w) {
  return search::modelled_latency_ms(static_cast<int64_t>(flops), k.speed,
                                     w.surrogate->calibration());
}

// What a box measures: the truth give or take the measurement's spread.
search::Measurement measure(const Kind& k, const Pool& pool, std::size_t i, double noise,
                            std::mt19937_64& rng) {
  std::normal_distribution<double> spread(0, noise);
  return {pool.nets[i].features, k.truth[i] * std::exp(spread(rng))};
}

// Every kind's kernel-additive model from all its measured networks: the fleet's sources.
Expected<std::vector<search::AdditiveLatencyModel>> fit_sources(const std::vector<Kind>& kinds,
                                                                const Pool& pool,
                                                                const MeterLatencyOptions& o) {
  std::vector<search::AdditiveLatencyModel> models;
  for (std::size_t j = 0; j < kinds.size(); ++j) {
    std::mt19937_64 rng(mix(o.seed, 1000 + j));
    std::vector<search::Measurement> data;
    for (std::size_t i = 0; i < pool.nets.size(); ++i)
      data.push_back(measure(kinds[j], pool, i, o.noise, rng));
    auto m = search::fit_additive(kinds[j].kind, pool.scale, data);
    if (!m) return m.error();
    models.push_back(std::move(*m));
  }
  return models;
}

struct Score {
  double rho = 0, median_error_pct = 0, within_10pct = 0;
};

// Predictions against the truth over the networks not in `skip`.
Score score(const std::vector<double>& predicted, const std::vector<double>& truth,
            const std::set<std::size_t>& skip) {
  std::vector<double> p, t, err;
  int within = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (skip.count(i)) continue;
    p.push_back(predicted[i]);
    t.push_back(truth[i]);
    const double e = std::abs(predicted[i] / truth[i] - 1);
    err.push_back(100 * e);
    within += e <= 0.1 ? 1 : 0;
  }
  return {spearman(p, t), median(err), static_cast<double>(within) / static_cast<double>(t.size())};
}

nlohmann::json score_json(const Score& s) {
  return {{"spearman", s.rho},
          {"median_abs_error_pct", s.median_error_pct},
          {"within_10pct", s.within_10pct}};
}

// A context of a box of `profile` whose tightest task asks for T.
Context context_with_t(const World& w, const std::string& profile, double t_ms, uint64_t seed) {
  SimBox box("meter-latency", w.profiles.at(profile), *w.scenario, seed);
  Context ctx = box.context(3'600'000);
  if (ctx.job.tasks.empty()) {
    JobTask task;
    task.task_id = "task-t";
    for (const auto& d : w.profiles.at(profile).devices)
      task.rows.push_back({d.device, 10, 0.1, 1});
    ctx.job.tasks.push_back(task);
  }
  for (auto& task : ctx.job.tasks) task.latency_req_ms = t_ms;
  return ctx;
}

// What a box knows of the held-out kind from k measured networks: the fleet's transfer model,
// and the FLOPs line fitted on the same k (what it could do without the fleet).
struct Known {
  search::TransferLatencyModel learned;
  search::CpuCalibration line;
  double line_ms(double flops) const { return line.overhead_ms + flops / line.flops_per_ms; }
};

struct Study {
  const World& w;
  const Pool& pool;
  const std::vector<Kind>& kinds;
  const std::vector<search::AdditiveLatencyModel>& models;
  const MeterLatencyOptions& o;

  nlohmann::json kind_row(std::size_t held) const;
  Expected<Known> learn(std::size_t held, const std::set<std::size_t>& measured,
                        uint64_t seed) const;
  nlohmann::json searches(std::size_t held, const std::vector<Known>& known) const;
};

Expected<Known> Study::learn(std::size_t held, const std::set<std::size_t>& measured,
                             uint64_t seed) const {
  std::vector<search::AdditiveLatencyModel> sources;
  for (std::size_t j = 0; j < kinds.size(); ++j)
    if (j != held && kinds[j].kind != kinds[held].kind) sources.push_back(models[j]);
  std::mt19937_64 rng(seed);
  std::vector<search::Measurement> data;
  std::vector<std::pair<double, double>> flops_ms;
  for (std::size_t i : measured) {
    data.push_back(measure(kinds[held], pool, i, o.noise, rng));
    flops_ms.emplace_back(pool.nets[i].flops, data.back().ms);
  }
  auto learned = search::fit_transfer(kinds[held].kind, std::move(sources), data);
  if (!learned) return learned.error();
  auto line = search::fit_calibration(flops_ms);
  if (!line) return line.error();
  return Known{std::move(*learned), *line};
}

double median_of(const std::vector<Score>& v, double Score::*field) {
  std::vector<double> x;
  for (const auto& s : v) x.push_back(s.*field);
  return x.empty() ? 0.0 : median(x);
}

nlohmann::json median_json(const std::vector<Score>& v) {
  return score_json({median_of(v, &Score::rho), median_of(v, &Score::median_error_pct),
                     median_of(v, &Score::within_10pct)});
}

nlohmann::json Study::kind_row(std::size_t held) const {
  const Kind& k = kinds[held];
  std::vector<double> profile_ms;
  for (const auto& net : pool.nets) profile_ms.push_back(flops_line_ms(k, net.flops, w));
  nlohmann::json by_k = nlohmann::json::array();
  std::vector<Known> for_searches;
  for (int samples : o.samples) {
    std::vector<Score> learned, line, profile;
    std::vector<double> margins;
    for (int d = 0; d < o.draws; ++d) {
      std::mt19937_64 rng(mix(mix(o.seed, held), mix(samples, d)));
      std::set<std::size_t> measured;
      while (static_cast<int>(measured.size()) < std::min<int>(samples, pool.nets.size() / 2))
        measured.insert(rng() % pool.nets.size());
      auto known = learn(held, measured, rng());
      if (!known) continue;
      std::vector<double> predicted, by_line;
      for (const auto& net : pool.nets) {
        predicted.push_back(known->learned.predict(net.features));
        by_line.push_back(known->line_ms(net.flops));
      }
      learned.push_back(score(predicted, k.truth, measured));
      line.push_back(score(by_line, k.truth, measured));
      profile.push_back(score(profile_ms, k.truth, measured));
      margins.push_back(known->learned.margin());
      if (samples == o.searches_k) for_searches.push_back(std::move(*known));
    }
    by_k.push_back({{"k", samples},
                    {"fits", learned.size()},
                    {"learned", median_json(learned)},
                    {"flops_line_k", median_json(line)},
                    {"flops_profile", median_json(profile)},
                    {"margin", margins.empty() ? 0.0 : median(margins)}});
  }
  nlohmann::json row{{"kind", k.kind},
                     {"profile", k.profile},
                     {"device", k.device},
                     {"roofline",
                      {{"fixed_ms", k.roofline.fixed_ms},
                       {"per_layer_us", 1000 * k.roofline.per_layer_ms},
                       {"gflops", k.roofline.gflops},
                       {"gbs", k.roofline.gbs}}},
                     {"by_k", by_k}};
  if (o.searches > 0 && !for_searches.empty()) row["searches"] = searches(held, for_searches);
  return row;
}

using LatencyOf = std::function<double(const search::ArchSpec&)>;

// The ways a box may see the held-out device's latency, with the bound it holds them to.
std::vector<std::tuple<std::string, LatencyOf, double>> estimates(const Kind& k, const World& w,
                                                                  const Known& known,
                                                                  const LatencyOf& truth) {
  auto flops = [](const search::ArchSpec& s) {
    return static_cast<double>(search::cost_of(s, kTableInput).flops);
  };
  return {
      {"measured", truth, 1.0},
      {"flops_profile", [&k, &w, flops](auto& s) { return flops_line_ms(k, flops(s), w); }, 1.0},
      {"flops_line_k", [&known, flops](auto& s) { return known.line_ms(flops(s)); }, 1.0},
      {"learned",
       [&known](auto& s) {
         return known.learned.predict(search::latency_features(search::lower(s, kTableInput)));
       },
       1 - known.learned.margin()}};
}

nlohmann::json Study::searches(std::size_t held, const std::vector<Known>& known) const {
  const Kind& k = kinds[held];
  const LatencyOf truth = [&](const search::ArchSpec& s) {
    return roofline_ms(k.roofline, search::lower(s, kTableInput));
  };
  struct Tally {
    int searches = 0, feasible = 0, met = 0, nothing_within_bound = 0;
    double given_up = 0;
  };
  std::map<std::string, Tally> tally;
  for (std::size_t q = 0; q < o.t_quantiles.size(); ++q) {
    const double t_ms = quantile(k.truth, o.t_quantiles[q]);
    for (std::size_t d = 0; d < known.size(); ++d) {
      for (int r = 0; r < o.searches; ++r) {
        const uint64_t seed = mix(mix(o.seed, held), mix(100 + q, mix(d, r)));
        const Context ctx = context_with_t(w, k.profile, t_ms, seed);
        Hyperparameters hp = kSpace;
        hp.seed = static_cast<uint32_t>(seed);
        double reference = 0;
        for (const auto& [name, estimate, bound] : estimates(k, w, known[d], truth)) {
          SimSearchOptions so = w.expected;
          so.latency = SimSearchOptions::Latency{k.device, estimate, truth, bound};
          const auto out =
              simulate_search(*w.surrogate, w.profiles.at(k.profile), ctx, hp, seed, so);
          auto& t = tally[name];
          ++t.searches;
          if (name == "measured") {
            reference = out.accuracy;
            if (!out.met_latency) break;  // no network within T found in the budget: not counted
          }
          ++t.feasible;
          if (!out.met_latency) {
            // Found nothing within its own bound, or was wrong about what it found.
            if (out.estimated_ms > t_ms * bound) ++t.nothing_within_bound;
            continue;
          }
          ++t.met;
          t.given_up += 100 * (reference - out.accuracy);
        }
      }
    }
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, t] : tally)
    out[name] = {{"searches", t.searches},
                 {"counted", t.feasible},
                 {"met_t", static_cast<double>(t.met) / std::max(1, t.feasible)},
                 {"missed_finding_nothing_within_bound",
                  static_cast<double>(t.nothing_within_bound) / std::max(1, t.feasible)},
                 {"points_given_up_when_met", t.met > 0 ? t.given_up / t.met : 0.0}};
  return out;
}

// A roofline fitted on measured latencies, against the FLOPs line fitted on the same ones (and
// a given roofline, when there is one).
nlohmann::json grounding_row(const std::string& what, const std::vector<search::LayerList>& nets,
                             const std::vector<double>& ms, const Roofline* given) {
  nlohmann::json row{{"measured", what}, {"networks", ms.size()}};
  auto fitted = fit_roofline(nets, ms);
  if (!fitted) return row["error"] = fitted.error().message, row;
  std::vector<std::pair<double, double>> flops_ms;
  for (std::size_t i = 0; i < nets.size(); ++i)
    flops_ms.emplace_back(search::model_flops(nets[i]), ms[i]);
  auto line = search::fit_calibration(flops_ms);
  std::vector<double> roof, flops;
  for (std::size_t i = 0; i < nets.size(); ++i) {
    roof.push_back(roofline_ms(*fitted, nets[i]));
    flops.push_back(line ? line->overhead_ms + flops_ms[i].first / line->flops_per_ms : 0.0);
  }
  row["roofline_fitted"] = score_json(score(roof, ms, {}));
  row["roofline_fitted"]["parameters"] = {{"fixed_ms", fitted->fixed_ms},
                                          {"per_layer_us", 1000 * fitted->per_layer_ms},
                                          {"gflops", fitted->gflops},
                                          {"gbs", fitted->gbs}};
  row["flops_line_fitted"] = score_json(score(flops, ms, {}));
  if (given) {
    std::vector<double> g;
    for (const auto& n : nets) g.push_back(roofline_ms(*given, n));
    row["roofline_of_the_profile"] = score_json(score(g, ms, {}));
  }
  return row;
}

Expected<nlohmann::json> grounding(const World& w, const MeterLatencyOptions& o) {
  nlohmann::json rows = nlohmann::json::array();
  auto table = load_table(o.table_path);
  if (!table) return table.error();
  std::vector<search::LayerList> nets;
  std::vector<double> ms;
  for (const auto& r : *table)
    if (r.ok && r.cpu_latency_ms > 0)
      nets.push_back(search::lower(r.spec, kTableInput)), ms.push_back(r.cpu_latency_ms);
  rows.push_back(grounding_row(
      "this machine's CPU, one thread: the surrogate table's meter networks", nets, ms, nullptr));
  if (o.nb201_path.empty()) return rows;
  auto nb = load_nb201_table(o.nb201_path);
  if (!nb) return nb.error();
  const auto column = nb->device(o.nb201_column);
  if (!column) return Error{errc::kUsage, o.nb201_path + ": no device column " + o.nb201_column};
  nets.clear();
  ms.clear();
  for (std::size_t i = 0; i < nb->rows(); ++i) {
    nets.push_back(search::lower(nb->cells[i]));
    ms.push_back(nb->latency_ms[static_cast<std::size_t>(*column)][i]);
  }
  const Roofline* rpi4 = nullptr;
  if (auto p = w.profiles.find("rpi4");
      p != w.profiles.end() && p->second.devices[0].roofline.given())
    rpi4 = &p->second.devices[0].roofline;
  rows.push_back(grounding_row(o.nb201_column + " (NAS-Bench-201 networks)", nets, ms, rpi4));
  return rows;
}

std::string fmt(double v, int digits) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

std::string report_markdown(const nlohmann::json& out) {
  std::ostringstream md;
  md << "# Learned latency in the meter world\n\nDevice truths: each device's roofline "
        "(modelled; simulations/profiles). "
     << out["networks"] << " networks per kind, " << out["draws"] << " draws, seed " << out["seed"]
     << ", measurement spread " << out["noise"]
     << ".\n\nρ / median error / within ±10 %, medians over the draws: the fleet's model "
        "(k measured + the other kinds), the FLOPs line fitted on the same k, the profile's "
        "FLOPs model.\n\n| kind (profile:device) | k | learned | FLOPs line on k | profile's "
        "FLOPs model | margin |\n|---|---:|---:|---:|---:|---:|\n";
  auto cell = [](const nlohmann::json& x) {
    return fmt(x["spearman"], 3) + " / " + fmt(x["median_abs_error_pct"], 1) + " % / " +
           fmt(100 * x["within_10pct"].get<double>(), 0) + " %";
  };
  for (const auto& row : out["kinds"])
    for (const auto& b : row["by_k"])
      md << "| " << row["kind"].get<std::string>() << " (" << row["profile"].get<std::string>()
         << ":" << row["device"].get<std::string>() << ") | " << b["k"] << " | "
         << cell(b["learned"]) << " | " << cell(b["flops_line_k"]) << " | "
         << cell(b["flops_profile"]) << " | " << fmt(100 * b["margin"].get<double>(), 1)
         << " % |\n";
  md << "\n## Searches on a device the box cannot measure (k = " << out["searches_k"]
     << ")\n\nOf the settings (T, context, seed) in which the search that measured delivered "
        "a network within T (counted / run), the share whose delivered network is truly within "
        "T (in brackets: the accuracy points given up against the search that measured, over "
        "those that were; the share that missed because the search found nothing within its own "
        "bound).\n\n| kind | counted | profile's FLOPs model | FLOPs line on k | learned, within "
        "T·(1 − margin) |\n|---|---:|---:|---:|---:|\n";
  for (const auto& row : out["kinds"]) {
    if (!row.contains("searches")) continue;
    const auto& m = row["searches"]["measured"];
    md << "| " << row["kind"].get<std::string>() << " | " << m["counted"] << " / " << m["searches"];
    for (const char* e : {"flops_profile", "flops_line_k", "learned"}) {
      const auto& x = row["searches"][e];
      md << " | " << fmt(100 * x["met_t"].get<double>(), 1) << " % ("
         << fmt(x["points_given_up_when_met"], 2) << "; "
         << fmt(100 * x["missed_finding_nothing_within_bound"].get<double>(), 1) << " %)";
    }
    md << " |\n";
  }
  md << "\n## The truths' grounding\n\nρ, median error: a roofline fitted on real "
        "measurements (relative error), the FLOPs line fitted on them (least squares), the "
        "profile's roofline.\n\n| measured | networks | roofline fitted | FLOPs line fitted | "
        "the profile's roofline |\n|---|---:|---:|---:|---:|\n";
  auto pair = [](const nlohmann::json& x) {
    return fmt(x["spearman"], 3) + ", " + fmt(x["median_abs_error_pct"], 1) + " %";
  };
  for (const auto& g : out["grounding"]) {
    if (g.contains("error")) continue;
    md << "| " << g["measured"].get<std::string>() << " | " << g["networks"] << " | "
       << pair(g["roofline_fitted"]) << " | " << pair(g["flops_line_fitted"]) << " | "
       << (g.contains("roofline_of_the_profile") ? pair(g["roofline_of_the_profile"]) : "")
       << " |\n";
  }
  return md.str();
}

}  // namespace

Expected<nlohmann::json> evaluate_meter_latency(
    const MeterLatencyOptions& o, const std::function<void(const std::string&)>& progress) {
  if (std::find(o.samples.begin(), o.samples.end(), o.searches_k) == o.samples.end() &&
      o.searches > 0)
    return Error{errc::kUsage, "the searches' k (" + std::to_string(o.searches_k) +
                                   ") must be one of the k evaluated"};
  auto world = load_world({o.profiles_dir, o.scenario_path, o.table_path, o.profiles});
  if (!world) return world.error();
  const World& w = *world;
  progress("sampling " + std::to_string(o.networks) + " networks of the meter space");
  const Pool pool = sample_pool(o.networks, o.seed);
  const auto kinds = kinds_of(w, pool);
  if (kinds.size() < 2)
    return Error{errc::kUsage, "the profiles give fewer than two devices a roofline"};
  auto models = fit_sources(kinds, pool, o);
  if (!models) return models.error();
  auto ground = grounding(w, o);
  if (!ground) return ground.error();
  const Study study{w, pool, kinds, *models, o};
  std::vector<nlohmann::json> rows(kinds.size());
  parallel_for(static_cast<int>(kinds.size()), o.threads, [&](int i) {
    rows[static_cast<std::size_t>(i)] = study.kind_row(static_cast<std::size_t>(i));
    progress(kinds[static_cast<std::size_t>(i)].kind + " done");
  });
  nlohmann::json out{
      {"networks", pool.nets.size()}, {"draws", o.draws}, {"seed", o.seed},      {"noise", o.noise},
      {"searches_k", o.searches_k},   {"kinds", rows},    {"grounding", *ground}};
  if (!o.out_dir.empty())
    if (auto s = write_report_files(o.out_dir, "meter-latency", out, report_markdown(out)); !s)
      return s.error();
  return out;
}

}  // namespace edgenas::sim
