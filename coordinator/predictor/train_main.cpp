// edgenas-predictor: trains one predictor version from the coordinator's traces. The
// coordinator starts it in the background (docs/ARCHITECTURE.md, "The predictor"); it can also
// be run by hand. Writes OUT/model.edgenasp and OUT/metrics.json (the held-out scores the
// coordinator's gate compares). `latency` trains the fleet's latency models per device kind
// from the measurements the traces carry (docs/ARCHITECTURE.md, "Learned latency").
// Exit codes: 0 ok, 1 failed (e.g. too few traces), 2 usage.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/util/config.hpp"
#include "common/util/daemon.hpp"
#include "common/util/files.hpp"
#include "coordinator/predictor/latency_models.hpp"
#include "coordinator/predictor/pool.hpp"
#include "coordinator/predictor/trainer.hpp"
#include "coordinator/store/trace_store.hpp"

using namespace edgenas;
using nlohmann::json;

namespace {

// `latency`: a version of the fleet's latency models from the measurements the traces carry.
struct LatencyCommand {
  CLI::App* cmd = nullptr;
  std::string db, out;
  int version = 1;
  int64_t max_traces = 5'000;
  predictor::LatencyTrainOptions o;
};

void add_latency(CLI::App& app, LatencyCommand& c) {
  c.cmd = app.add_subcommand(
      "latency",
      "train the fleet's latency models, one per device kind, from the candidates' latencies "
      "the traces carry, and gate each against the FLOPs line on held-out architectures");
  c.cmd->add_option("--db", c.db, "the coordinator's SQLite store")->required();
  c.cmd->add_option("--out", c.out, "the version's file (JSON: models, metrics, gate)")->required();
  c.cmd->add_option("--version", c.version, "the version number to write")->capture_default_str();
  c.cmd->add_option("--max-traces", c.max_traces, "use the newest N traces that carry latencies")
      ->capture_default_str();
  c.cmd
      ->add_option("--min-additive", c.o.min_additive,
                   "a kind's own measurements for a model of its own; fewer: transfer from the "
                   "others")
      ->capture_default_str();
}

int run_latency(const LatencyCommand& c) {
  if (!std::filesystem::exists(c.db))
    return std::cerr << "edgenas-predictor: no store at " << c.db << "\n", 2;
  auto store = coordinator::TraceStore::open(c.db);
  if (!store) return std::cerr << "edgenas-predictor: " << store.error().message << "\n", 1;
  auto records = (*store)->recent_latency_traces(c.max_traces);
  if (!records) return std::cerr << "edgenas-predictor: " << records.error().message << "\n", 1;
  std::vector<Trace> traces;
  for (auto& r : *records) traces.push_back(std::move(r.trace));
  const auto pool = predictor::pool_latency(traces);
  std::cerr << "latency models v" << c.version << ": " << pool.samples << " measurements of "
            << pool.kinds.size() << " device kinds from " << pool.traces << " traces ("
            << pool.skipped << " not usable)\n";
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto set = predictor::train_latency_models(pool, c.o, c.version, now);
  if (!set) return std::cerr << "edgenas-predictor: " << set.error().message << "\n", 1;
  for (const auto& k : set->kinds)
    std::cerr << "  " << k.kind.label() << ": " << k.method << " on " << k.samples
              << ", held-out error " << k.error_pct << " % (FLOPs line " << k.flops_error_pct
              << " %), " << (k.serves ? "serves" : "does not serve") << ": " << k.why << "\n";
  if (auto s = files::write_json_atomic(c.out, search::to_json(*set)); !s)
    return std::cerr << "edgenas-predictor: " << s.error().message << "\n", 1;
  std::cerr << "wrote " << c.out << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "edgenas-predictor: trains a predictor version (NAS hyperparameters from Job and "
      "Source) on the traces in a coordinator store.\nExit codes: 0 ok, 1 failed, 2 usage."};
  app.require_subcommand(1);
  auto* train = app.add_subcommand("train", "train a version and score it on held-out traces");
  std::string db, out, budget = "2m", targets = "knn", baseline_path;
  predictor::TrainerOptions o;
  int64_t max_traces = 20'000;
  train->add_option("--db", db, "the coordinator's SQLite store")->required();
  train->add_option("--out", out, "directory for model.edgenasp and metrics.json")->required();
  train->add_option("--version", o.version, "the version number to write")->required();
  train->add_option("--budget", budget, "wall clock for the predictor's own NAS")
      ->capture_default_str();
  train->add_option("--trials", o.max_trials, "stop the NAS after this many trials");
  train
      ->add_option("--targets", targets,
                   "knn (best of similar contexts), outcome (argmax of a learned reward "
                   "model) or progress (outcome, preferring spaces whose searches get there "
                   "sooner)")
      ->capture_default_str()
      ->check(CLI::IsMember(predictor::kTargetKinds));
  train->add_flag("--compare", o.compare, "also train with the other targets and report both");
  train->add_option("--baseline", baseline_path, "the serving version's model, scored alongside");
  std::string pool_path;
  train->add_option("--pool", pool_path,
                    "also train (never score) on these traces: a JSON Lines file such as the "
                    "warm start's pool.jsonl");
  std::string rule = "latency-model";
  train
      ->add_option("--cold-start-rule", rule,
                   "the cold-start rule the held-out scores compare with: latency-model or "
                   "size-score")
      ->capture_default_str()
      ->check(CLI::IsMember({"latency-model", "size-score"}));
  train->add_option("--max-traces", max_traces, "use at most the newest N traces")
      ->capture_default_str();
  train->add_option("--seed", o.seed, "seed of the split and the NAS")->capture_default_str();
  train->add_option("--workers", o.workers, "NAS trials in parallel")->capture_default_str();
  LatencyCommand latency;
  add_latency(app, latency);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (latency.cmd->parsed()) return run_latency(latency);
  auto b = config::parse_duration_ms(budget);
  if (!b) return std::cerr << "edgenas-predictor: --budget: " << b.error().message << "\n", 2;
  o.budget_ms = *b;
  o.targets = targets;
  o.cold_start_rule = *coordinator::cold_start_rule_from_string(rule);
  if (!std::filesystem::exists(db))
    return std::cerr << "edgenas-predictor: no store at " << db << "\n", 2;
  auto store = coordinator::TraceStore::open(db);
  if (!store) return std::cerr << "edgenas-predictor: " << store.error().message << "\n", 1;
  auto records = (*store)->recent_traces(max_traces);
  if (!records) return std::cerr << "edgenas-predictor: " << records.error().message << "\n", 1;
  std::vector<Trace> traces;
  for (auto& r : *records) {
    o.agent_ids.push_back(r.agent_id);
    o.received_ms.push_back(r.received_ms);
    traces.push_back(std::move(r.trace));
  }
  if (!pool_path.empty()) {
    auto pool = predictor::read_trace_pool(pool_path);
    if (!pool) return std::cerr << "edgenas-predictor: " << pool.error().message << "\n", 1;
    o.pool = std::move(*pool);
  }
  std::optional<predictor::PredictorModel> baseline;
  if (!baseline_path.empty()) {
    auto m = predictor::load_predictor(baseline_path);
    if (!m) {
      std::cerr << "edgenas-predictor: baseline not scored: " << m.error().message << "\n";
    } else {
      baseline = std::move(*m);
      o.baseline = &*baseline;
    }
  }
  daemon::SignalWatcher signals;
  o.stop = &signals.stop_requested();
  o.progress = [](const json& e) { std::cout << e.dump() << std::endl; };
  std::cerr << "training predictor v" << o.version << " on " << traces.size() << " traces"
            << (o.pool.empty() ? "" : " and " + std::to_string(o.pool.size()) + " pooled") << " ("
            << targets << " targets, NAS budget " << budget << ")\n";
  auto result = predictor::train_predictor(traces, o);
  if (!result) return std::cerr << "edgenas-predictor: " << result.error().message << "\n", 1;
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (auto s = predictor::save_predictor(out + "/model.edgenasp", result->model); !s)
    return std::cerr << "edgenas-predictor: " << s.error().message << "\n", 1;
  if (auto s = files::write_json_atomic(out + "/metrics.json", result->metrics); !s)
    return std::cerr << "edgenas-predictor: " << s.error().message << "\n", 1;
  const auto& h = result->metrics["heldout"];
  std::cerr << "v" << o.version << ": " << result->metrics["architecture_key"].get<std::string>()
            << "; held-out regret " << h["new"]["regret"] << " (cold start "
            << h["cold_start"]["regret"] << ")"
            << "; wrote " << out << "\n";
  return 0;
}
