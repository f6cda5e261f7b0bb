// edgenas-surrogate-collect: the ground truth the fleet simulator's surrogate is fitted on, as
// NAS-Bench-201/301 do it: real trainings (the edgenas-search evaluator, libtorch) of
// architectures sampled across the search spaces the predictor can choose, at several
// fidelities, on the synthetic meter digits. One CSV row per trial, appended and flushed as
// each finishes; rerunning the same command resumes after the last row (so it can run for an
// hour in the background, be stopped, and go on). Every tenth architecture is one trained
// before, again with another seed: the rows the surrogate's noise model comes from.
//
// --remeasure-latency: only the cpu_latency_ms column again, for every row, with the current
// deployed inference plan (ml::InferenceNet) and one thread on an otherwise idle machine; the
// trainings are kept. Run it when the inference path changes, so the simulator's latency model
// stays calibrated to what edgenas-search measures.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "common/data/dataset.hpp"
#include "common/ml/infer.hpp"
#include "common/ml/threads.hpp"
#include "common/ml/torch_evaluator.hpp"
#include "common/search/search.hpp"
#include "common/util/config.hpp"
#include "common/util/daemon.hpp"
#include "common/util/files.hpp"
#include "simulations/surrogate/surrogate.hpp"

using namespace edgenas;

namespace {

// The planned trials, in order, from row `first` on.
class PlannedTrials final : public search::Strategy {
 public:
  PlannedTrials(uint64_t seed, int first, int count)
      : seed_(seed), next_(first), end_(first + count) {}
  std::string name() const override { return "planned"; }
  std::optional<search::Trial> next() override {
    if (next_ >= end_) return std::nullopt;
    auto p = sim::planned_trial(seed_, next_);
    return search::Trial{next_++, p.spec, {p.epochs, 1.0}, p.train_seed};
  }
  void report(const search::TrialResult&) override {}

 private:
  uint64_t seed_;
  int next_, end_;
};

// Rewrites the table's latency column (through a temporary file and a rename: a crash leaves
// the old table).
int remeasure_latency(const std::string& path) {
  auto rows = sim::load_table(path);
  if (!rows) return std::cerr << rows.error().message << "\n", 2;
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  std::ostringstream out;
  out << header << "\n";
  ml::set_threads(1);
  const search::InputShape shape = sim::kTableInput;
  std::map<std::string, double> measured;  // per architecture (repeated rows share it)
  std::size_t i = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto& row = (*rows)[i++];
    const std::string key = row.spec.key();
    if (!measured.count(key)) {
      ml::Net net(row.spec, shape);
      ml::init_weights(net, row.seed);
      measured[key] =
          ml::measure_latency_ms(ml::InferenceNet::compile(net, shape), shape, {10, 50});
    }
    // cpu_latency_ms is the 8th column.
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", measured[key]);
    cells.at(7) = buf;
    for (std::size_t c = 0; c < cells.size(); ++c) out << (c ? "," : "") << cells[c];
    out << "\n";
    if (i % 50 == 0) std::cerr << "row " << i << "/" << rows->size() << "\n";
  }
  if (auto s = files::write_atomic(path, out.str()); !s)
    return std::cerr << s.error().message << "\n", 1;
  std::cerr << "remeasured " << measured.size() << " architectures in " << rows->size()
            << " rows\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "edgenas-surrogate-collect: real trainings of sampled architectures for the NAS "
      "surrogate (resumable)"};
  std::string data, out, budget = "1h";
  int rows = 2000, workers = 2, train_images = 8000;
  uint64_t seed = 1;
  bool remeasure = false;
  app.add_flag("--remeasure-latency", remeasure,
               "only measure every row's batch-1 latency again with the current inference plan");
  app.add_option("--data", data, "folder:DIR of meter digits (edgenas-meter-gen)");
  app.add_option("--out", out, "the CSV table (appended to; resumed from)")->required();
  app.add_option("--rows", rows, "stop once the table has this many rows")->capture_default_str();
  app.add_option("--budget", budget, "stop after this long")->capture_default_str();
  app.add_option("--workers", workers, "trainings in parallel")->capture_default_str();
  app.add_option("--train-images", train_images, "training images per epoch")
      ->capture_default_str();
  app.add_option("--seed", seed, "the sampling sequence")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (remeasure) return remeasure_latency(out);
  if (data.empty()) return std::cerr << "--data is required to collect trainings\n", 2;
  auto budget_ms = config::parse_duration_ms(budget);
  if (!budget_ms) return std::cerr << "--budget: " << budget_ms.error().message << "\n", 2;

  auto set = data::load_spec(data);
  if (!set) return std::cerr << set.error().message << "\n", 2;
  auto parts = data::split(*set, 0.15, 0.15, 1);
  if (!parts) return std::cerr << parts.error().message << "\n", 2;
  // A fixed training subset: every row trains on the same images per epoch.
  data::ImageSet train = parts->train;
  if (static_cast<int>(train.size()) > train_images) {
    train.labels.resize(static_cast<std::size_t>(train_images));
    train.pixels.resize(static_cast<std::size_t>(train_images) * train.image_bytes());
  }
  auto existing = sim::load_table(out);
  const int have = existing ? static_cast<int>(existing->size()) : 0;
  if (have >= rows) {
    std::cerr << out << " already has " << have << " rows\n";
    return 0;
  }
  const bool fresh = !std::filesystem::exists(out);
  std::ofstream table(out, std::ios::app);
  if (fresh) table << sim::kTableHeader << "\n";
  std::cerr << "collecting rows " << have << ".." << rows - 1 << " into " << out << " ("
            << train.size() << " training images, " << parts->validation.size() << " validation)\n";
  ml::set_threads(1);
  ml::TargetDevice cpu;
  ml::TorchEvaluator evaluator(train, parts->validation,
                               {Loss::cross_entropy, 64, cpu, {5, 30}, ""});
  PlannedTrials planned(seed, have, rows - have);
  daemon::SignalWatcher signals;
  SystemClock clock;
  search::SearchOptions opts{workers, {*budget_ms / 1000, 0}, {1e9, std::nullopt}};
  auto result = search::run_search(
      planned, evaluator, opts, clock, &signals.stop_requested(),
      [&](const search::TrialResult& t, const search::SearchResult&) {
        table << sim::table_row(t, static_cast<int>(train.size())) << std::endl;
        if (t.trial.id % 25 == 0)
          std::cerr << "row " << t.trial.id << " acc " << t.eval.accuracy << "\n";
      });
  std::cerr << "stopped (" << result.stop_reason << ") after " << result.trials.size()
            << " rows this run\n";
  return 0;
}
