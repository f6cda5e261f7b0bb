// edgenas-sim: a whole heterogeneous fleet on one machine, and the evidence that the method
// works.
//   run        a real coordinator and N simulated agents (real protocol, real sockets)
//   evaluate   predictor vs default space vs random vs cold start vs oracle, with a report
//   warm-start the predictor a new coordinator serves first, trained on a simulated fleet
//   surrogate  how well the NAS surrogate predicts held-out real trainings
//   calibrate  the device profiles' latency model against latencies measured on real devices
//   latency    the learned latency models against real measurements, a held-out device at a time
// Exit codes: 0 ok, 1 failed, 2 usage or input error.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/util/config.hpp"
#include "common/util/errors.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/targets.hpp"
#include "simulations/fleet/closed_loop.hpp"
#include "simulations/fleet/evaluate.hpp"
#include "simulations/fleet/fleet.hpp"
#include "simulations/fleet/meter_latency.hpp"
#include "simulations/fleet/warm_start.hpp"
#include "simulations/nb201/calibrate.hpp"
#include "simulations/nb201/evaluate.hpp"
#include "simulations/nb201/latency_eval.hpp"
#include "simulations/surrogate/surrogate.hpp"

using namespace edgenas;

namespace {

// The repository's simulations/ directory: beside the binary's source tree, or installed.
std::string data_dir() {
  for (const char* p : {EDGENAS_SOURCE_DIR "/simulations", "/usr/share/edgenas"}) {
    if (std::filesystem::exists(std::string(p) + "/profiles")) return p;
  }
  return "simulations";
}

}  // namespace

namespace {

// `evaluate --closed-loop`: the loop from the cold start, its curve printed and reported.
int run_closed_loop(sim::ClosedLoopOptions lo, const sim::EvaluateOptions& eo,
                    const std::function<void(const std::string&)>& progress) {
  lo.world = eo;
  lo.traces = eo.traces;
  if (!eo.warm_start_model.empty())
    lo.warm_start = std::filesystem::path(eo.warm_start_model).parent_path().string();
  auto r = sim::closed_loop(lo, progress);
  if (!r) return std::cerr << "edgenas-sim: " << r.error().message << "\n", 1;
  for (const auto& p : (*r)["curve"])
    std::printf("%6d traces  serving %-10s  reward/oracle %.3f\n", p["traces"].get<int>(),
                p["serving"].get<std::string>().c_str(), p["served_reward"].get<double>());
  std::printf("report: %s/closed_loop.md\n", eo.out_dir.c_str());
  return 0;
}

// `warm-start`: its options (the world's files are evaluate's defaults).
struct WarmStartCommand {
  CLI::App* cmd = nullptr;
  sim::WarmStartOptions o;
};

void add_warm_start(CLI::App& app, const sim::EvaluateOptions& defaults, WarmStartCommand& w) {
  w.cmd = app.add_subcommand(
      "warm-start",
      "train the predictor a new coordinator serves before its fleet has any traces, on a "
      "simulated fleet (writes model.edgenasp, metrics.json, pool.jsonl)");
  w.o.world = defaults;
  w.o.world.predictor_budget_ms = 3'600'000;  // the trials decide; the clock is only a cap
  w.cmd->add_option("--out", w.o.out_dir, "directory for the version")->required();
  w.cmd->add_option("--seed", w.o.world.seed, "everything derives from it")->capture_default_str();
  w.cmd->add_option("--traces", w.o.world.traces, "simulated searches to train on")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  w.cmd->add_option("--profiles", w.o.world.train_profiles, "device profiles of the fleet")
      ->delimiter(',')
      ->capture_default_str();
  w.cmd
      ->add_option("--predictor-trials", w.o.world.predictor_trials,
                   "trials of the predictor's own NAS")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  w.cmd->add_option("--threads", w.o.world.threads, "parallel simulations and trials")
      ->capture_default_str();
}

int run_warm_start(const WarmStartCommand& w,
                   const std::function<void(const std::string&)>& progress) {
  auto r = sim::build_warm_start(w.o, progress);
  if (!r) return std::cerr << "edgenas-sim: " << r.error().message << "\n", 1;
  const auto& h = (*r)["heldout"];
  std::printf(
      "warm start: %d simulated traces, predictor %s\nheld-out regret %.4f (cold-start rule "
      "%.4f)\nwrote %s/{model.edgenasp,metrics.json,pool.jsonl}\n",
      (*r)["traces"].get<int>(), (*r)["architecture"].get<std::string>().c_str(),
      h["new"]["regret"].get<double>(), h["cold_start"]["regret"].get<double>(),
      w.o.out_dir.c_str());
  return 0;
}

// `surrogate`: how well the surrogate predicts held-out real trainings.
struct SurrogateCommand {
  CLI::App* cmd = nullptr;
  std::string table;
};

void add_surrogate(CLI::App& app, const std::string& base, SurrogateCommand& c) {
  c.cmd = app.add_subcommand("surrogate",
                             "quality of the NAS surrogate on held-out "
                             "real trainings (rank correlation, error)");
  c.table = base + "/surrogate/table.csv";
  c.cmd->add_option("--table", c.table, "the table of real trainings")->capture_default_str();
}

int run_surrogate(const SurrogateCommand& c) {
  const std::string& table = c.table;
  auto rows = sim::load_table(table);
  if (!rows) return std::cerr << "edgenas-sim: " << rows.error().message << "\n", 2;
  // Held out: every fifth architecture (all its rows), so scores are on unseen networks.
  std::vector<sim::TableRow> train, test;
  for (const auto& r : *rows)
    (std::hash<std::string>{}(r.spec.key()) % 5 == 0 ? test : train).push_back(r);
  const auto q = sim::Surrogate::evaluate(train, test);
  auto fitted = sim::Surrogate::fit(*rows);
  if (!fitted) return std::cerr << "edgenas-sim: " << fitted.error().message << "\n", 1;
  std::printf("table %s: %zu rows (%zu for fitting, %zu held-out rows of unseen architectures)\n",
              table.c_str(), rows->size(), train.size(), test.size());
  std::printf("held-out: Spearman rank correlation %.3f, mean absolute error %.4f (n = %d)\n",
              q.spearman, q.mae, q.n);
  std::printf("seed-to-seed noise (repeated architectures): sigma %.4f\n", fitted->noise_sigma());
  std::printf("CPU calibration: %.4f ms + FLOPs / %.3g per ms (%d networks)\n",
              fitted->calibration().overhead_ms, fitted->calibration().flops_per_ms,
              fitted->calibration().points);
  return 0;
}

// `evaluate`: its options, and the closed loop's.
struct EvaluateCommand {
  CLI::App* cmd = nullptr;
  sim::EvaluateOptions eo;
  std::string predictor_budget = "10m";
  sim::ClosedLoopOptions lo;
  bool closed = false;
  std::string start_rule = "size-score";
  std::string world = "meter";  // or nb201:PATH
  std::vector<std::string> at;  // nb201: DEVICE=T_MS
  sim::Nb201EvaluateOptions nb;
};

// The NAS-Bench-201 world's own options (`--world nb201:PATH`).
void add_nb201_options(EvaluateCommand& e) {
  e.cmd
      ->add_option("--world", e.world,
                   "meter (the generated meter digits: surrogate + device profiles), or "
                   "nb201:PATH (a NAS-Bench-201 table of measured latencies, e.g. "
                   "nb201:../shared/data/nb201/nb201_latency.csv)")
      ->capture_default_str();
  e.cmd
      ->add_option("--dataset", e.nb.dataset,
                   "nb201: the accuracy column (cifar10, cifar100, imagenet16-120, or a column "
                   "name such as acc_c10_test)")
      ->capture_default_str();
  e.cmd
      ->add_option("--heldout-devices", e.nb.heldout_devices,
                   "nb201: device columns never in training, e.g. help_raspi4,help_pixel3 "
                   "(default: every fourth column from the fourth)")
      ->delimiter(',');
  e.cmd
      ->add_option("--at", e.at,
                   "nb201: held-out contexts at DEVICE=T_MS instead, repeatable (e.g. "
                   "help_pixel2=14 for a published search's setting)")
      ->delimiter(',');
  e.cmd
      ->add_option("--contexts-per-device", e.nb.contexts_per_device,
                   "nb201: held-out contexts per device")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  e.cmd->add_option("--queries", e.nb.search.queries, "nb201: a box's query budget per search")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  e.cmd
      ->add_option("--noise", e.nb.search.noise_points,
                   "nb201: seed-to-seed noise of a query's accuracy (standard deviation, points)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  e.cmd
      ->add_option("--prune-factor", e.nb.search.prune_factor,
                   "nb201: candidates measured over this many T are not trained (edgenas-search: "
                   "3); 0: a box that cannot measure before training")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  e.cmd
      ->add_option("--long-seeds", e.nb.long_seeds,
                   "nb201: longer searches per (context, method) for the queries to 0.5 points")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

void add_evaluate(CLI::App& app, const std::string& base, EvaluateCommand& e) {
  e.cmd = app.add_subcommand("evaluate",
                             "compare the predictor with the default space, "
                             "random, the cold start and the oracle");
  e.eo.profiles_dir = base + "/profiles";
  e.eo.scenario_path = base + "/scenarios/meter-day.toml";
  e.eo.table_path = base + "/surrogate/table.csv";
  e.cmd->add_option("--out", e.eo.out_dir, "directory for report.md, summary.json and the plots")
      ->required();
  e.cmd->add_option("--seed", e.eo.seed, "everything derives from it")->capture_default_str();
  e.cmd->add_option("--scenario", e.eo.scenario_path, "workload scenario (TOML)")
      ->capture_default_str();
  e.cmd->add_option("--profiles", e.eo.profiles_dir, "device profile directory")
      ->capture_default_str();
  e.cmd->add_option("--table", e.eo.table_path, "surrogate table")->capture_default_str();
  e.cmd->add_option("--contexts", e.eo.contexts, "held-out contexts")->capture_default_str();
  e.cmd->add_option("--traces", e.eo.traces, "simulated training traces")->capture_default_str();
  e.cmd
      ->add_option("--curve", e.eo.curve, "learning-curve points (numbers of traces), e.g. 100,300")
      ->delimiter(',')
      ->capture_default_str();
  e.cmd->add_option("--seeds", e.eo.seeds, "searches per (context, hyperparameters)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  e.cmd
      ->add_option("--compute-seeds", e.eo.compute_seeds,
                   "longer searches per (context, method) whose median is the compute to 95 %")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  e.cmd->add_option("--heldout-profile", e.eo.heldout_profile, "a profile kept out of training")
      ->capture_default_str();
  e.cmd
      ->add_option(
          "--predictor-budget", e.predictor_budget,
          "a wall-clock cap on the predictor's own NAS (binding makes runs load-dependent)")
      ->capture_default_str();
  e.cmd
      ->add_option("--predictor-trials", e.eo.predictor_trials,
                   "trials of the predictor's own NAS (0: the budget alone)")
      ->capture_default_str();
  e.cmd->add_option("--targets", e.eo.targets, "the predictor's training targets")
      ->check(CLI::IsMember(predictor::kTargetKinds))
      ->capture_default_str();
  e.cmd
      ->add_option("--grid-stride", e.eo.grid_stride,
                   "search only every k-th grid point (quick runs)")
      ->capture_default_str();
  e.cmd->add_option("--threads", e.eo.threads, "parallel simulations")->capture_default_str();
  e.cmd->add_option("--warm-start", e.eo.warm_start_model,
                    "also score this predictor as \"warm-start\" (e.g. "
                    "build/release/warm-start/model.edgenasp); with --closed-loop, start the loop "
                    "on it and pool the pool.jsonl beside it");
  e.cmd->add_flag("--closed-loop", e.closed,
                  "the loop as a fleet runs it: start on a cold-start rule (--start-rule), pool "
                  "only the "
                  "served replies' traces, retrain every --round traces up to --traces "
                  "(closed_loop.md)");
  e.cmd
      ->add_option("--start-rule", e.start_rule,
                   "closed loop without a warm start: the rule that serves first, size-score "
                   "(the deliberately poor pre-2026-12-01 rule) or latency-model (today's)")
      ->capture_default_str()
      ->check(CLI::IsMember({"latency-model", "size-score"}));
  e.cmd->add_option("--round", e.lo.round, "closed loop: traces pooled between trainings")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  e.cmd->add_option("--explore", e.lo.explore.share, "closed loop: share of replies that explore")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  e.cmd
      ->add_option("--gate-tolerance", e.lo.gate.tolerance,
                   "closed loop: a new version serves unless its held-out regret is above the "
                   "serving one's by more than this many standard errors (the coordinator's "
                   "[predictor] gate_tolerance; 0: it must be better)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  e.cmd
      ->add_option("--explore-wide", e.lo.explore.wide,
                   "closed loop: share of the exploring replies that explore the whole grid")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  add_nb201_options(e);
}

// `evaluate --world nb201:PATH`: the shared options carried over, the meter world's refused.
int run_evaluate_nb201(EvaluateCommand& e,
                       const std::function<void(const std::string&)>& progress) {
  for (const char* only : {"--scenario", "--profiles", "--table", "--contexts", "--compute-seeds",
                           "--heldout-profile", "--grid-stride", "--warm-start", "--closed-loop"}) {
    if (e.cmd->count(only) > 0)
      return std::cerr << "edgenas-sim: " << only << " is an option of the meter world\n", 2;
  }
  auto& nb = e.nb;
  nb.table_path = e.world.substr(6);
  nb.out_dir = e.eo.out_dir;
  nb.seed = e.eo.seed;
  nb.traces = e.eo.traces;
  nb.threads = e.eo.threads;
  nb.targets = e.eo.targets;
  nb.predictor_trials = e.eo.predictor_trials;
  nb.predictor_budget_ms = e.eo.predictor_budget_ms;
  if (e.cmd->count("--seeds") > 0) nb.seeds = e.eo.seeds;
  if (e.cmd->count("--curve") > 0) nb.curve = e.eo.curve;
  for (const auto& text : e.at) {
    const auto eq = text.find('=');
    char* end = nullptr;
    const double t_ms = eq == std::string::npos ? 0 : std::strtod(text.c_str() + eq + 1, &end);
    if (eq == std::string::npos || end == text.c_str() + eq + 1 || *end != '\0')
      return std::cerr << "edgenas-sim: --at: expected DEVICE=T_MS, got '" << text << "'\n", 2;
    nb.contexts_at.emplace_back(text.substr(0, eq), t_ms);
  }
  auto r = sim::evaluate_nb201(nb, progress);
  if (!r) {
    std::cerr << "edgenas-sim: " << r.error().message << "\n";
    const auto& c = r.error().code;
    return c == errc::kBadTable || c == errc::kNotFound || c == errc::kUsage ? 2 : 1;
  }
  const auto& m = (*r)["methods"];
  std::printf("%-11s %14s %9s %14s %18s\n", "method", "reward/oracle", "meets T", "median regret",
              "queries to 0.5 pt");
  for (const char* k : {"predictor", "widest", "random", "cold-start", "oracle"}) {
    const auto& q = m[k]["median_queries_to_half_point"];
    std::printf("%-11s %14.3f %8.1f%% %11.2f pt %18s\n", k, m[k]["normalised_reward"].get<double>(),
                100 * m[k]["met_T"].get<double>(), m[k]["median_regret_points"].get<double>(),
                q.is_null() ? "never" : std::to_string(static_cast<int>(q.get<double>())).c_str());
  }
  std::printf("report: %s/report.md\n", e.eo.out_dir.c_str());
  return 0;
}

int run_evaluate(EvaluateCommand& e, const std::function<void(const std::string&)>& progress) {
  auto b = config::parse_duration_ms(e.predictor_budget);
  if (!b) return std::cerr << "edgenas-sim: --predictor-budget: " << b.error().message << "\n", 2;
  e.eo.predictor_budget_ms = *b;
  e.lo.cold_start_rule = *coordinator::cold_start_rule_from_string(e.start_rule);
  if (e.world.rfind("nb201:", 0) == 0 && e.world.size() > 6) return run_evaluate_nb201(e, progress);
  if (e.world != "meter")
    return std::cerr << "edgenas-sim: --world: meter or nb201:PATH, not '" << e.world << "'\n", 2;
  if (e.closed) return run_closed_loop(e.lo, e.eo, progress);
  auto r = sim::evaluate(e.eo, progress);
  if (!r) {
    std::cerr << "edgenas-sim: " << r.error().message << "\n";
    return r.error().code == errc::kBadTable || r.error().code == errc::kBadProfile ||
                   r.error().code == errc::kBadScenario || r.error().code == errc::kNotFound
               ? 2
               : 1;
  }
  const auto& m = (*r)["methods"];
  std::printf("%-11s %14s %9s %16s\n", "method", "reward/oracle", "meets T", "compute to 95%");
  for (const char* k : {"predictor", "warm-start", "default", "random", "cold-start", "oracle"}) {
    if (!m.contains(k)) continue;
    const auto& c = m[k]["compute_to_95_median_s"];
    std::printf(
        "%-11s %14.3f %8.1f%% %14s\n", k, m[k]["normalised_reward"].get<double>(),
        100 * m[k]["met_T"].get<double>(),
        c.is_null() ? "never" : (std::to_string(static_cast<int>(c.get<double>())) + " s").c_str());
  }
  std::printf("predictor/default compute to 95%% of the oracle: %.3f\nreport: %s/report.md\n",
              (*r)["compute_ratio_predictor_vs_default"].get<double>(), e.eo.out_dir.c_str());
  return 0;
}

// `calibrate`: the device profiles' latency model against measured latencies.
struct CalibrateCommand {
  CLI::App* cmd = nullptr;
  sim::CalibrateOptions co;
  std::vector<std::string> pairs;
  std::string json_out;
};

void add_calibrate(CLI::App& app, const std::string& base, CalibrateCommand& c) {
  c.cmd = app.add_subcommand(
      "calibrate",
      "the device profiles' latency model (speed x FLOPs + overhead) against latencies measured "
      "on real devices (a NAS-Bench-201 table)");
  c.co.profiles_dir = base + "/profiles";
  c.co.surrogate_table = base + "/surrogate/table.csv";
  c.cmd
      ->add_option("--table", c.co.table_path,
                   "the table, e.g. ../shared/data/nb201/nb201_latency.csv")
      ->required();
  c.cmd->add_option("--pair", c.pairs,
                    "PROFILE[:DEVICE]=COLUMN, repeatable (default: rpi4=help_raspi4, and "
                    "atlas200dk and jetson-nano against each phone CPU column)");
  c.cmd->add_option("--profiles", c.co.profiles_dir, "device profile directory")
      ->capture_default_str();
  c.cmd
      ->add_option("--surrogate-table", c.co.surrogate_table,
                   "the trainings whose latencies calibrate the reference core")
      ->capture_default_str();
  c.cmd->add_option("--json", c.json_out, "also write the numbers to this file");
}

int run_calibrate(CalibrateCommand& c) {
  if (!c.pairs.empty()) c.co.pairs.clear();
  for (const auto& text : c.pairs) {
    auto p = sim::parse_calibration_pair(text);
    if (!p) return std::cerr << "edgenas-sim: --pair: " << p.error().message << "\n", 2;
    c.co.pairs.push_back(*p);
  }
  auto r = sim::calibrate_profiles(c.co);
  if (!r) {
    std::cerr << "edgenas-sim: " << r.error().message << "\n";
    return r.error().code == errc::kFailed ? 1 : 2;
  }
  std::printf("%-22s %-20s %6s %9s %9s %9s | %8s %9s %9s %9s\n", "profile:device", "column", "rho",
              "|err| %", "prec. T", "speed", "fit spd", "fit ovh", "|err| %", "prec. T");
  for (const auto& p : (*r)["pairs"]) {
    const auto& f = p.value("fitted", nlohmann::json::object());
    std::printf("%-22s %-20s %6.3f %9.1f %9.3f %9.3f | %8.3f %9.3f %9.1f %9.3f\n",
                (p["profile"].get<std::string>() + ":" + p["device"].get<std::string>()).c_str(),
                p["column"].get<std::string>().c_str(), p["spearman"].get<double>(),
                p["median_abs_error_pct"].get<double>(), p["within_t_truly_within"].get<double>(),
                p["speed"].get<double>(), f.value("speed", 0.0), f.value("overhead_ms", 0.0),
                f.value("median_abs_error_pct", 0.0), f.value("within_t_truly_within", 0.0));
  }
  if (!c.json_out.empty()) std::ofstream(c.json_out) << r->dump(2) << "\n";
  return 0;
}

// `latency`: the learned latency models against measured latencies.
struct LatencyCommand {
  CLI::App* cmd = nullptr;
  sim::LatencyEvalOptions o;
};

void add_latency(CLI::App& app, LatencyCommand& c) {
  c.cmd = app.add_subcommand(
      "latency",
      "the learned latency models against latencies measured on real devices (a NAS-Bench-201 "
      "table): each device held out in turn, learned from k of its measurements plus the "
      "others'; beside the FLOPs model fitted on the same k");
  c.cmd
      ->add_option("--data", c.o.table_path,
                   "the table, e.g. ../shared/data/nb201/nb201_latency.csv (every *_ms column "
                   "is a device)")
      ->required();
  c.cmd->add_option("--out", c.o.out_dir, "directory for latency.md and latency.json");
  c.cmd->add_option("--k", c.o.samples, "measured cells of the held-out device, e.g. 5,10,900")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.cmd->add_option("--draws", c.o.draws, "random draws of the k cells per (device, k)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.cmd->add_option("--seed", c.o.seed, "seed of the draws")->capture_default_str();
  c.cmd->add_option("--device", c.o.devices, "hold out only these columns (repeatable)");
  c.cmd
      ->add_option("--sources", c.o.sources,
                   "learn only from these columns (comma-separated; \"help\": HELP's nine "
                   "meta-training devices)")
      ->delimiter(',');
  c.cmd
      ->add_option("--source-samples", c.o.source_samples,
                   "measured cells per source column (0: all; HELP meta-trains on 900)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c.cmd
      ->add_option("--batch-suffixes", c.o.batch_suffixes,
                   "columns named STEM_N for these N are one device at batch N, held out together")
      ->delimiter(',')
      ->capture_default_str();
  c.cmd->add_option("--threads", c.o.threads, "devices evaluated in parallel")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.cmd
      ->add_option("--searches", c.o.loop_seeds,
                   "also search each held-out device as a box that cannot measure it (latency "
                   "measured / from the FLOPs line / predicted): this many searches per T "
                   "quantile (5 of them) and draw, and report how many deliver a network that "
                   "truly meets T (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c.cmd->add_option("--searches-k", c.o.loop_k, "measured cells of the device those searches know")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

// The searches on devices the box cannot measure, pooled over the devices.
void print_searches(const nlohmann::json& summary) {
  for (const auto& s : summary) {
    if (!s.contains("searches")) continue;
    std::printf(
        "\nsearches on a device the box cannot measure (k = %d): delivered network truly "
        "meets T\n",
        s["k"].get<int>());
    for (const char* name : {"measured", "flops", "learned"}) {
      const auto& x = s["searches"][name];
      std::printf("%10s %6.1f%% of %d searches (worst device %.1f%%), %.2f points given up\n", name,
                  100 * x["met_t"].get<double>(), x["searches"].get<int>(),
                  100 * x["worst_device_met_t"].get<double>(),
                  x["regret_points_when_met"].get<double>());
    }
  }
}

int run_latency(LatencyCommand& c, const std::function<void(const std::string&)>& progress) {
  auto r = sim::evaluate_latency(c.o, progress);
  if (!r) {
    std::cerr << "edgenas-sim: " << r.error().message << "\n";
    return r.error().code == errc::kFailed ? 1 : 2;
  }
  std::printf("%6s %12s %10s %14s %22s\n", "k", "rho learned", "rho FLOPs", "within 10 %",
              "within T truly within");
  for (const auto& s : (*r)["summary"])
    std::printf("%6d %12.3f %10.3f %13.1f%% %21.1f%%\n", s["k"].get<int>(),
                s["median_spearman_learned"].get<double>(),
                s["median_spearman_flops"].get<double>(),
                100 * s["median_within_10pct_learned"].get<double>(),
                100 * s["median_within_t_truly_within_at_margin"].get<double>());
  print_searches((*r)["summary"]);
  if (!c.o.out_dir.empty()) std::printf("report: %s/latency.md\n", c.o.out_dir.c_str());
  return 0;
}

// `latency-meter`: the learned latency models in the meter world.
struct MeterLatencyCommand {
  CLI::App* cmd = nullptr;
  sim::MeterLatencyOptions o;
};

void add_latency_meter(CLI::App& app, const std::string& base, MeterLatencyCommand& c) {
  c.cmd = app.add_subcommand(
      "latency-meter",
      "the learned latency models in the meter world: every device of the profiles with a "
      "roofline (its modelled truth) held out in turn, learned from k of its measurements plus "
      "the other kinds', beside the profile's FLOPs line; and searches on a box that cannot "
      "measure it");
  c.o.profiles_dir = base + "/profiles";
  c.o.scenario_path = base + "/scenarios/meter-day.toml";
  c.o.table_path = base + "/surrogate/table.csv";
  c.cmd->add_option("--out", c.o.out_dir, "directory for meter-latency.md and meter-latency.json");
  c.cmd->add_option("--k", c.o.samples, "measured networks of the held-out kind, e.g. 10,100")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.cmd->add_option("--networks", c.o.networks, "networks every other kind has measured")
      ->capture_default_str()
      ->check(CLI::Range(20, 100'000));
  c.cmd->add_option("--draws", c.o.draws, "random draws of the k networks")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.cmd
      ->add_option(
          "--searches", c.o.searches,
          "simulated searches per T quantile (5), draw and way of seeing latency (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c.cmd->add_option("--searches-k", c.o.searches_k, "the k those searches know")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.cmd
      ->add_option("--t-quantiles", c.o.t_quantiles,
                   "the searches' T: these quantiles of the device's latencies over the networks")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c.cmd->add_option("--noise", c.o.noise, "a measurement's spread around the truth (log σ)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c.cmd->add_option("--seed", c.o.seed, "seed")->capture_default_str();
  c.cmd->add_option("--threads", c.o.threads, "kinds evaluated in parallel")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.cmd->add_option("--profile", c.o.profiles, "the profiles of the world (repeatable)")
      ->capture_default_str();
  c.cmd->add_option("--profiles", c.o.profiles_dir, "device profile directory")
      ->capture_default_str();
  c.cmd->add_option("--data", c.o.nb201_path,
                    "a NAS-Bench-201 latency table: also fit a roofline to one of its columns "
                    "(the truths' grounding), e.g. ../shared/data/nb201/nb201_latency.csv");
  c.cmd->add_option("--column", c.o.nb201_column, "that column")->capture_default_str();
}

int run_latency_meter(MeterLatencyCommand& c,
                      const std::function<void(const std::string&)>& progress) {
  auto r = sim::evaluate_meter_latency(c.o, progress);
  if (!r) {
    std::cerr << "edgenas-sim: " << r.error().message << "\n";
    return r.error().code == errc::kFailed ? 1 : 2;
  }
  std::printf("%-28s %5s %9s %9s   searches truly within T: %s\n", "kind", "k", "rho lrnd",
              "rho FLOPs", "counted / profile FLOPs / line on k / learned");
  for (const auto& row : (*r)["kinds"]) {
    for (const auto& b : row["by_k"]) {
      std::printf("%-28s %5d %9.3f %9.3f", row["kind"].get<std::string>().c_str(),
                  b["k"].get<int>(), b["learned"]["spearman"].get<double>(),
                  b["flops_line_k"]["spearman"].get<double>());
      if (row.contains("searches") && b["k"] == (*r)["searches_k"]) {
        std::printf(" %3d/%-3d", row["searches"]["measured"]["counted"].get<int>(),
                    row["searches"]["measured"]["searches"].get<int>());
        for (const char* e : {"flops_profile", "flops_line_k", "learned"})
          std::printf(" %6.1f%%", 100 * row["searches"][e]["met_t"].get<double>());
      }
      std::printf("\n");
    }
  }
  if (!c.o.out_dir.empty()) std::printf("report: %s/meter-latency.md\n", c.o.out_dir.c_str());
  return 0;
}

// `run`: a real coordinator and simulated agents.
struct RunCommand {
  CLI::App* cmd = nullptr;
  sim::FleetOptions fo;
  std::string mix = "atlas200dk=40%,jetson-nano=30%,rpi4=30%", duration = "60s";
};

void add_run(CLI::App& app, const std::string& base, RunCommand& f) {
  f.cmd = app.add_subcommand("run", "a real coordinator and N simulated agents");
  f.fo.profiles_dir = base + "/profiles";
  f.fo.scenario_path = base + "/scenarios/meter-day.toml";
  f.fo.table_path = base + "/surrogate/table.csv";
  f.cmd->add_option("--agents", f.fo.agents, "simulated agents")->capture_default_str();
  f.cmd->add_option("--mix", f.mix, "profile shares, e.g. atlas200dk=40%,rpi4=60%")
      ->capture_default_str();
  f.cmd->add_option("--scenario", f.fo.scenario_path, "workload scenario (TOML)")
      ->capture_default_str();
  f.cmd->add_option("--duration", f.duration, "how long to run (real time)")->capture_default_str();
  f.cmd->add_option("--out", f.fo.out_dir, "directory for the coordinator's store, logs, summary")
      ->required();
  f.cmd
      ->add_option("--real-search", f.fo.real_search,
                   "this many agents are real edgenas-agent processes running real edgenas-search")
      ->capture_default_str();
  f.cmd->add_option("--coordinator", f.fo.coordinator_bin, "edgenas-coordinator binary");
  f.cmd->add_option(
      "--coordinator-arg", f.fo.coordinator_args,
      "a flag for the coordinator, repeatable (e.g. --coordinator-arg=--retrain-after "
      "--coordinator-arg=200)");
  f.cmd->add_option("--seed", f.fo.seed, "seed")->capture_default_str();
  f.cmd->add_option("--procs", f.fo.procs, "agent processes (0: one per 2,500 agents)");
  f.cmd
      ->add_option("--measure-share", f.fo.measure_share,
                   "share of the boxes that can measure their accelerators' latency (the "
                   "vendor's runtime installed); the others predict it with the fleet's latency "
                   "models once one serves their kind, else model it from FLOPs")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
}

int run_run(RunCommand& f, const std::function<void(const std::string&)>& progress) {
  auto d = config::parse_duration_ms(f.duration);
  if (!d) return std::cerr << "edgenas-sim: --duration: " << d.error().message << "\n", 2;
  f.fo.duration_ms = *d;
  auto m = sim::parse_mix(f.mix);
  if (!m) return std::cerr << "edgenas-sim: --mix: " << m.error().message << "\n", 2;
  f.fo.mix = *m;
  auto r = sim::run_fleet(f.fo, progress);
  if (!r) {
    std::cerr << "edgenas-sim: " << r.error().message << "\n";
    return r.error().code == errc::kUsage ? 2 : 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "edgenas-sim: a heterogeneous edge fleet on one machine, and the evaluation of the "
      "method.\nExit codes: 0 ok, 1 failed, 2 usage or input error."};
  app.require_subcommand(1);
  const std::string base = data_dir();
  SurrogateCommand surrogate;
  add_surrogate(app, base, surrogate);
  EvaluateCommand evaluate;
  add_evaluate(app, base, evaluate);
  WarmStartCommand warm;
  add_warm_start(app, evaluate.eo, warm);
  RunCommand run;
  add_run(app, base, run);
  CalibrateCommand calibrate;
  add_calibrate(app, base, calibrate);
  LatencyCommand latency;
  add_latency(app, latency);
  MeterLatencyCommand latency_meter;
  add_latency_meter(app, base, latency_meter);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto progress = [](const std::string& m) { std::cerr << "edgenas-sim: " << m << std::endl; };
  if (surrogate.cmd->parsed()) return run_surrogate(surrogate);
  if (warm.cmd->parsed()) return run_warm_start(warm, progress);
  if (evaluate.cmd->parsed()) return run_evaluate(evaluate, progress);
  if (calibrate.cmd->parsed()) return run_calibrate(calibrate);
  if (latency.cmd->parsed()) return run_latency(latency, progress);
  if (latency_meter.cmd->parsed()) return run_latency_meter(latency_meter, progress);
  return run_run(run, progress);
}
