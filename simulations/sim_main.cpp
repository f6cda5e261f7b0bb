// edgenas-sim: a whole heterogeneous fleet on one machine, and the evidence that the method
// works.
//   run        a real coordinator and N simulated agents (real protocol, real sockets)
//   evaluate   predictor vs default space vs random vs cold start vs oracle, with a report
//   warm-start the predictor a new coordinator serves first, trained on a simulated fleet
//   surrogate  how well the NAS surrogate predicts held-out real trainings
// Exit codes: 0 ok, 1 failed, 2 usage or input error.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "common/util/config.hpp"
#include "coordinator/core/hparam_service.hpp"
#include "coordinator/predictor/targets.hpp"
#include "simulations/fleet/closed_loop.hpp"
#include "simulations/fleet/evaluate.hpp"
#include "simulations/fleet/fleet.hpp"
#include "simulations/fleet/warm_start.hpp"
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "edgenas-sim: a heterogeneous edge fleet on one machine, and the evaluation of the "
      "method.\nExit codes: 0 ok, 1 failed, 2 usage or input error."};
  app.require_subcommand(1);
  const std::string base = data_dir();

  auto* surrogate = app.add_subcommand("surrogate",
                                       "quality of the NAS surrogate on held-out "
                                       "real trainings (rank correlation, error)");
  std::string table = base + "/surrogate/table.csv";
  surrogate->add_option("--table", table, "the table of real trainings")->capture_default_str();

  auto* eval = app.add_subcommand("evaluate",
                                  "compare the predictor with the default space, "
                                  "random, the cold start and the oracle");
  sim::EvaluateOptions eo;
  eo.profiles_dir = base + "/profiles";
  eo.scenario_path = base + "/scenarios/meter-day.toml";
  eo.table_path = table;
  std::string predictor_budget = "10m";
  eval->add_option("--out", eo.out_dir, "directory for report.md, summary.json and the plots")
      ->required();
  eval->add_option("--seed", eo.seed, "everything derives from it")->capture_default_str();
  eval->add_option("--scenario", eo.scenario_path, "workload scenario (TOML)")
      ->capture_default_str();
  eval->add_option("--profiles", eo.profiles_dir, "device profile directory")
      ->capture_default_str();
  eval->add_option("--table", eo.table_path, "surrogate table")->capture_default_str();
  eval->add_option("--contexts", eo.contexts, "held-out contexts")->capture_default_str();
  eval->add_option("--traces", eo.traces, "simulated training traces")->capture_default_str();
  eval->add_option("--curve", eo.curve, "learning-curve points (numbers of traces), e.g. 100,300")
      ->delimiter(',')
      ->capture_default_str();
  eval->add_option("--seeds", eo.seeds, "searches per (context, hyperparameters)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  eval->add_option("--compute-seeds", eo.compute_seeds,
                   "longer searches per (context, method) whose median is the compute to 95 %")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  eval->add_option("--heldout-profile", eo.heldout_profile, "a profile kept out of training")
      ->capture_default_str();
  eval->add_option(
          "--predictor-budget", predictor_budget,
          "a wall-clock cap on the predictor's own NAS (binding makes runs load-dependent)")
      ->capture_default_str();
  eval->add_option("--predictor-trials", eo.predictor_trials,
                   "trials of the predictor's own NAS (0: the budget alone)")
      ->capture_default_str();
  eval->add_option("--targets", eo.targets, "the predictor's training targets")
      ->check(CLI::IsMember(predictor::kTargetKinds))
      ->capture_default_str();
  eval->add_option("--grid-stride", eo.grid_stride,
                   "search only every k-th grid point (quick runs)")
      ->capture_default_str();
  eval->add_option("--threads", eo.threads, "parallel simulations")->capture_default_str();
  eval->add_option("--warm-start", eo.warm_start_model,
                   "also score this predictor as \"warm-start\" (e.g. "
                   "build/release/warm-start/model.edgenasp); with --closed-loop, start the loop "
                   "on it and pool the pool.jsonl beside it");
  sim::ClosedLoopOptions lo;
  bool closed = false;
  eval->add_flag("--closed-loop", closed,
                 "the loop as a fleet runs it: start on a cold-start rule (--start-rule), pool "
                 "only the "
                 "served replies' traces, retrain every --round traces up to --traces "
                 "(closed_loop.md)");
  std::string start_rule = "size-score";
  eval->add_option("--start-rule", start_rule,
                   "closed loop without a warm start: the rule that serves first, size-score "
                   "(the deliberately poor pre-2026-12-01 rule) or latency-model (today's)")
      ->capture_default_str()
      ->check(CLI::IsMember({"latency-model", "size-score"}));
  eval->add_option("--round", lo.round, "closed loop: traces pooled between trainings")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  eval->add_option("--explore", lo.explore.share, "closed loop: share of replies that explore")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  eval->add_option("--explore-wide", lo.explore.wide,
                   "closed loop: share of the exploring replies that explore the whole grid")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));

  WarmStartCommand warm;
  add_warm_start(app, eo, warm);

  auto* run = app.add_subcommand("run", "a real coordinator and N simulated agents");
  sim::FleetOptions fo;
  fo.profiles_dir = base + "/profiles";
  fo.scenario_path = base + "/scenarios/meter-day.toml";
  fo.table_path = table;
  std::string mix = "atlas200dk=40%,jetson-nano=30%,rpi4=30%", duration = "60s";
  run->add_option("--agents", fo.agents, "simulated agents")->capture_default_str();
  run->add_option("--mix", mix, "profile shares, e.g. atlas200dk=40%,rpi4=60%")
      ->capture_default_str();
  run->add_option("--scenario", fo.scenario_path, "workload scenario (TOML)")
      ->capture_default_str();
  run->add_option("--duration", duration, "how long to run (real time)")->capture_default_str();
  run->add_option("--out", fo.out_dir, "directory for the coordinator's store, logs, summary")
      ->required();
  run->add_option("--real-search", fo.real_search,
                  "this many agents are real edgenas-agent processes running real edgenas-search")
      ->capture_default_str();
  run->add_option("--coordinator", fo.coordinator_bin, "edgenas-coordinator binary");
  run->add_option("--coordinator-arg", fo.coordinator_args,
                  "a flag for the coordinator, repeatable (e.g. --coordinator-arg=--retrain-after "
                  "--coordinator-arg=200)");
  run->add_option("--seed", fo.seed, "seed")->capture_default_str();
  run->add_option("--procs", fo.procs, "agent processes (0: one per 2,500 agents)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto progress = [](const std::string& m) { std::cerr << "edgenas-sim: " << m << std::endl; };

  if (surrogate->parsed()) {
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
  if (warm.cmd->parsed()) return run_warm_start(warm, progress);
  if (eval->parsed()) {
    auto b = config::parse_duration_ms(predictor_budget);
    if (!b) return std::cerr << "edgenas-sim: --predictor-budget: " << b.error().message << "\n", 2;
    eo.predictor_budget_ms = *b;
    lo.cold_start_rule = *coordinator::cold_start_rule_from_string(start_rule);
    if (closed) return run_closed_loop(lo, eo, progress);
    auto r = sim::evaluate(eo, progress);
    if (!r) {
      std::cerr << "edgenas-sim: " << r.error().message << "\n";
      return r.error().code == "bad_table" || r.error().code == "bad_profile" ||
                     r.error().code == "bad_scenario" || r.error().code == "not_found"
                 ? 2
                 : 1;
    }
    const auto& m = (*r)["methods"];
    std::printf("%-11s %14s %9s %16s\n", "method", "reward/oracle", "meets T", "compute to 95%");
    for (const char* k : {"predictor", "warm-start", "default", "random", "cold-start", "oracle"}) {
      if (!m.contains(k)) continue;
      const auto& c = m[k]["compute_to_95_median_s"];
      std::printf("%-11s %14.3f %8.1f%% %14s\n", k, m[k]["normalised_reward"].get<double>(),
                  100 * m[k]["met_T"].get<double>(),
                  c.is_null() ? "never"
                              : (std::to_string(static_cast<int>(c.get<double>())) + " s").c_str());
    }
    std::printf("predictor/default compute to 95%% of the oracle: %.3f\nreport: %s/report.md\n",
                (*r)["compute_ratio_predictor_vs_default"].get<double>(), eo.out_dir.c_str());
    return 0;
  }
  // run
  auto d = config::parse_duration_ms(duration);
  if (!d) return std::cerr << "edgenas-sim: --duration: " << d.error().message << "\n", 2;
  fo.duration_ms = *d;
  auto m = sim::parse_mix(mix);
  if (!m) return std::cerr << "edgenas-sim: --mix: " << m.error().message << "\n", 2;
  fo.mix = *m;
  auto r = sim::run_fleet(fo, progress);
  if (!r) {
    std::cerr << "edgenas-sim: " << r.error().message << "\n";
    return r.error().code == "usage" ? 2 : 1;
  }
  return 0;
}
