#include "agent/search/run.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "agent/search/report.hpp"
#include "common/data/dataset.hpp"
#include "common/ml/evaluator.hpp"
#include "common/ml/threads.hpp"
#include "common/model/profile.hpp"
#include "common/protocol/codec.hpp"
#include "common/search/search.hpp"
#include "common/util/rapl.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::searchcli {
namespace {

using nlohmann::json;
constexpr int kExitFailed = 1, kExitUsage = 2;

int usage_error(const std::string& msg) {
  std::cerr << "edgenas-search: " << msg << "\n";
  return kExitUsage;
}

template <class T>
Expected<T> read_json_as(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) return Error{"usage", "cannot read " + path};
  try {
    return proto::from_json<T>(json::parse(in), what);
  } catch (const std::exception& e) {
    return Error{"usage", path + " is not JSON: " + e.what()};
  }
}

// Progress for a person (one rewritten line on a terminal, log lines otherwise) or for the
// agent (JSON lines on stdout, one object per event; docs/ARCHITECTURE.md lists the events).
class Progress {
 public:
  explicit Progress(ProgressMode mode) : mode_(mode) {
    if (mode_ == ProgressMode::auto_detect)
      mode_ = isatty(STDERR_FILENO) ? ProgressMode::tty : ProgressMode::log;
  }
  bool json_mode() const { return mode_ == ProgressMode::json; }
  void event(const json& e) {
    if (json_mode()) {
      std::cout << utf8::json_text(e) << std::endl;  // flushed: the agent reads it line by line
      return;
    }
    if (mode_ == ProgressMode::tty && e["event"] != "trial" && in_line_) {
      std::fprintf(stderr, "\n");
      in_line_ = false;
    }
    if (e["event"] == "trial") {
      char line[256];
      std::snprintf(line, sizeof line,
                    "trial %d%s  best acc %.4f  lat %.3f ms%s (T %.3g)  elapsed %.0fs  left %.0fs",
                    e["trials_done"].get<int>(), e["trials_total"].get<std::string>().c_str(),
                    e["best_accuracy"].get<double>(), e["best_latency_ms"].get<double>(),
                    e["latency_modelled"].get<bool>() ? " modelled" : "", e["t_ms"].get<double>(),
                    e["elapsed_s"].get<double>(), e["left_s"].get<double>());
      if (mode_ == ProgressMode::tty) {
        std::fprintf(stderr, "\r%-110s", line);
        in_line_ = true;
      } else {
        std::fprintf(stderr, "%s  [trial %d: %s acc %.4f lat %.3f ms]\n", line,
                     e["trial"].get<int>(), e["ok"].get<bool>() ? "ok" : "failed",
                     e["accuracy"].get<double>(), e["latency_ms"].get<double>());
      }
    } else if (e.contains("message")) {
      std::fprintf(stderr, "%s\n", e["message"].get<std::string>().c_str());
    }
  }
  void finish_line() {
    if (in_line_) std::fprintf(stderr, "\n");
    in_line_ = false;
  }

 private:
  ProgressMode mode_;
  bool in_line_ = false;
};

// The fastest batch-1 latency on this CPU with 1..max_threads torch threads (a deployment
// picks its thread count the same way; tiny networks are often fastest on one thread).
std::pair<double, int> best_cpu_latency(const ml::InferenceNet& net,
                                        const search::InputShape& input, int max_threads) {
  double best = 0;
  int best_threads = 1;
  for (int t = 1; t <= max_threads; ++t) {
    ml::set_threads(t);
    const double ms = ml::measure_latency_ms(net, input, {20, 200});
    if (t == 1 || ms < best) {
      best = ms;
      best_threads = t;
    }
  }
  ml::set_threads(1);
  return {best, best_threads};
}

// Package energy of one inference from RAPL, over `runs` back-to-back inferences on an
// otherwise idle search (nothing else of ours runs now). Includes the package's idle share.
std::optional<double> rapl_energy_mj(const ml::InferenceNet& net, const search::InputShape& input,
                                     int threads) {
  auto rapl = RaplCounter::open();
  if (!rapl) return std::nullopt;
  ml::set_threads(threads);
  auto x = torch::rand({1, input.channels, input.height, input.width});
  const int runs = 2000;
  (void)rapl->joules_since_last();
  for (int i = 0; i < runs; ++i) (void)net.forward(x);
  auto joules = rapl->joules_since_last();
  ml::set_threads(1);
  if (!joules) return std::nullopt;
  return *joules * 1000.0 / runs;
}

// The final training, inside the rest of the budget (up to `deadline`) on all workers' threads.
// When at least two epochs fit: the best architecture again from its seed, as many epochs as fit
// (at most --final-max-epochs; fractions of the split per epoch when a whole last one does not
// fit), cosine decay. When fewer fit: the best trial's own weights trained
// on, over the whole training split, until the deadline, at a lower rate, decayed to 0; the budget
// is then used instead of left idle. The caller keeps the result only if validation agrees.
struct FinalTraining {
  bool trained = false;
  ml::Net net{nullptr};
  int epochs = 0;  // whole epochs completed
  double validation_accuracy = 0;
  std::string note;
};

FinalTraining train_final(const search::TrialResult& best, const ml::TorchEvaluator& evaluator,
                          const Hyperparameters& hp, const search::InputShape& input,
                          const data::Split& parts, const RunOptions& o, int workers,
                          int64_t deadline, const std::atomic<bool>& stop, Progress& progress) {
  const double per_epoch_s = best.eval.train_time_s / std::max(1, best.trial.fidelity.epochs) /
                             best.trial.fidelity.data_fraction / std::max(1, workers);
  const double left_s = static_cast<double>(deadline - ml::steady_now_ms()) / 1000;
  // Passes over the whole training split that fit in the time left.
  const double fit = left_s / std::max(1e-3, per_epoch_s);
  const double trial_epochs = best.trial.fidelity.epochs * best.trial.fidelity.data_fraction;
  FinalTraining f;
  if (left_s <= 1) return f;
  const bool from_scratch = o.final_max_epochs >= 2 && fit >= 2 && fit > trial_epochs;
  ml::TrainOptions to;
  to.loss = hp.loss;
  to.cosine_decay = true;
  to.seed = best.trial.seed;
  to.stop = &stop;
  to.deadline_ms = deadline;
  to.cutoff_ms = deadline;  // one long epoch must not overrun the budget either
  if (from_scratch) {
    f.net = ml::Net(best.trial.spec, input);
    ml::init_weights(f.net, best.trial.seed);
    // Up to the cap; when a last whole epoch would not fit, every epoch sees the same share of
    // the split instead, so the training ends at the deadline rather than an epoch before it.
    to.epochs = std::min(o.final_max_epochs, static_cast<int>(std::ceil(fit)));
    to.data_fraction = std::min(1.0, fit / to.epochs);
  } else {
    auto trial_net = evaluator.trial_model(best.trial.spec, best.trial.seed);  // a copy to train
    if (!trial_net) return f;
    f.net = *trial_net;
    to.epochs = 1;
    to.learning_rate /= 4;  // tuning trained weights, not learning from nothing
    to.data_fraction = std::clamp(fit, 0.05, 1.0);
  }
  progress.event(
      {{"event", "final"},
       {"epochs", to.epochs},
       {"message", "final training: " + best.trial.spec.key() +
                       (from_scratch ? " for " + std::to_string(to.epochs) + " epochs"
                                     : std::string(" from its trial weights for the ") +
                                           std::to_string(static_cast<int>(left_s)) + " s left") +
                       " on " + std::to_string(workers) + " thread(s)"}});
  ml::set_threads(workers);
  const auto stats = ml::train(f.net, parts.train, to);
  ml::set_threads(1);
  if (stats.stopped || (from_scratch ? stats.epochs == 0 : stats.images_seen == 0)) return f;
  f.trained = true;
  f.epochs = stats.epochs;
  f.validation_accuracy = ml::accuracy(f.net, parts.validation);
  char note[160];
  if (from_scratch) {
    std::snprintf(note, sizeof note, "%d epochs of final training%s", stats.epochs,
                  to.data_fraction < 1 ? " (each on a share of the split)" : "");
  } else {
    std::snprintf(note, sizeof note, "the best trial's weights trained on for %lld images",
                  static_cast<long long>(stats.images_seen));
  }
  f.note = note;
  return f;
}

// The device the search measures or models latency for, and its power: --device (or, for
// auto, the queue's tightest task's fastest usable device: this CPU, and the profile's
// accelerators that carry a latency model). A modelled device needs its speed in --profile.
Expected<ml::TargetDevice> choose_target(const RunOptions& o, const Context& ctx) {
  std::optional<DeviceProfile> profile;
  if (!o.profile_path.empty()) {
    auto p = load_profile(o.profile_path);
    if (!p) return p.error();
    profile = std::move(*p);
  }
  std::vector<std::string> usable{"cpu"};
  if (profile) {
    for (const auto& d : profile->devices)
      if (d.device != "cpu" && d.speed > 0) usable.push_back(d.device);
  }
  ml::TargetDevice target;
  target.name = o.device == "auto" ? search::choose_target_device(ctx, usable) : o.device;
  if (target.name != "cpu" || o.model_cpu) {  // modelled: another board's CPU, an accelerator
    const auto* d = profile ? profile->find(target.name) : nullptr;
    if (!d || d->speed <= 0) {
      return Error{"usage", "no latency model for device '" + target.name +
                                "': pass --profile with a profile whose " + target.name +
                                " has speed and overhead_ms"};
    }
    target.modelled = search::DeviceSpeed{target.name, d->speed, d->overhead_ms};
  }
  target.power_w = ctx.source.power_w > 0 ? ctx.source.power_w : (profile ? profile->max_w : 10);
  return target;
}

}  // namespace

int run_command(const RunOptions& o, const std::atomic<bool>& stop) {
  auto hp = read_json_as<Hyperparameters>(o.hparams_path, "hparams");
  if (!hp) return usage_error(hp.error().message);
  auto ctx = read_json_as<Context>(o.context_path, "context");
  if (!ctx) return usage_error(ctx.error().message);
  if (o.final_share < 0 || o.final_share > 0.9)
    return usage_error("--final-share must be in [0, 0.9]");

  auto target_or = choose_target(o, *ctx);
  if (!target_or) return usage_error(target_or.error().message);
  ml::TargetDevice target = std::move(*target_or);
  const std::string device = target.name;
  const bool modelled = target.modelled.has_value();

  auto set = data::load_spec(o.data_spec);
  if (!set) return usage_error(set.error().message);
  auto parts = data::split(*set, 0.15, 0.15, hp->seed);
  if (!parts) return usage_error(parts.error().message);
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir + "/trials", ec);
  if (ec) return usage_error("cannot create " + o.out_dir + ": " + ec.message());

  Progress progress(o.progress);
  const double t_ms = ctx->min_latency_req_ms().value_or(1000.0);
  // Trials in parallel, one torch thread each, never more than the Source matrix has free
  // (and this machine has).
  const DeviceSource* cpu = ctx->device("cpu");
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int free_cores = std::min(hw, cpu ? std::max(1, cpu->free_nodes) : 1);
  const int workers = std::clamp(o.workers, 1, free_cores);
  ml::set_threads(1);
  const search::InputShape input{parts->train.channels, parts->train.height, parts->train.width,
                                 parts->train.classes};
  if (modelled) {
    auto cal = ml::calibrate_cpu(input, hp->seed);
    if (!cal) {
      std::cerr << "edgenas-search: " << cal.error().message << "\n";
      return kExitFailed;
    }
    target.calibration = *cal;
  }

  const std::string trials_dir = o.out_dir + "/trials";
  const int64_t search_ms =
      o.budget_ms > 0 ? static_cast<int64_t>(static_cast<double>(o.budget_ms) * (1 - o.final_share))
                      : 0;
  SystemClock clock;  // steady, the clock of ml::steady_now_ms
  const int64_t start = clock.now_ms();
  // Candidates slower than 3 T are not trained (their reward is under a third of their
  // accuracy; in a wide space they are also the ones that would eat the budget). No trial runs
  // past the search's share of a time budget, so the final training always gets its own.
  ml::TorchEvaluator evaluator(parts->train, parts->validation,
                               {hp->loss,
                                64,
                                target,
                                {10, 50},
                                trials_dir,
                                3 * t_ms,
                                search_ms > 0 ? start + search_ms : 0,
                                &stop});
  search::SearchSpace space(*hp);
  // Trials rank architectures; they need not see a big data set whole (the final training does).
  const double fraction =
      std::min(1.0, static_cast<double>(o.trial_images) / static_cast<double>(parts->train.size()));
  auto strategy = search::make_strategy(o.strategy, space, hp->seed, {o.epochs, fraction});
  if (!strategy) return usage_error("unknown strategy '" + o.strategy + "'");
  // Energy per inference: the flag, else the tightest task's energy estimate on the target.
  search::Constraints constraints{t_ms, ctx->energy_budget_mj(device)};
  if (o.energy_budget_mj > 0) constraints.energy_budget_mj = o.energy_budget_mj;
  const double energy_budget = constraints.energy_budget_mj.value_or(0);
  // With a time budget, trials are reported as they finish (no worker waits for a slower
  // one); with a trial budget alone, in proposal order, so a seed gives the same search.
  search::SearchOptions opts{workers, {search_ms / 1000, o.max_trials}, constraints, search_ms > 0};

  char intro[512];
  std::snprintf(
      intro, sizeof intro,
      "searching (%s): <=%d layers, <=%d filters, kernel <=%d, loss %s, seed %u; T = %.3g ms on "
      "%s (latency %s); %zu train (%.0f%% per trial epoch) / %zu validation / %zu test images; %d "
      "worker(s); budget %.0fs "
      "(%.0f%% for the final training)%s",
      strategy->name().c_str(), hp->layers, hp->filters, hp->kernel,
      std::string(to_string(hp->loss)).c_str(), hp->seed, t_ms, device.c_str(),
      modelled ? "modelled" : "measured", parts->train.size(), fraction * 100,
      parts->validation.size(), parts->test.size(), workers,
      static_cast<double>(o.budget_ms) / 1000, o.final_share * 100,
      o.max_trials ? (", or " + std::to_string(o.max_trials) + " trials").c_str() : "");
  progress.event({{"event", "start"},
                  {"message", intro},
                  {"device", device},
                  {"latency_modelled", modelled},
                  {"t_ms", t_ms},
                  {"workers", workers},
                  {"budget_s", static_cast<double>(o.budget_ms) / 1000},
                  {"max_trials", o.max_trials}});

  auto elapsed_s = [&] { return static_cast<double>(clock.now_ms() - start) / 1000; };
  auto on_trial = [&](const search::TrialResult& t, const search::SearchResult& so_far) {
    const auto& b = so_far.best;
    progress.event(
        {{"event", "trial"},
         {"trial", t.trial.id},
         {"ok", t.eval.ok},
         {"accuracy", t.eval.accuracy},
         {"latency_ms", t.eval.latency_ms},
         {"trials_done", so_far.trials.size()},
         {"trials_total", o.max_trials ? "/" + std::to_string(o.max_trials) : ""},
         {"best_accuracy", b ? b->eval.accuracy : 0.0},
         {"best_latency_ms", b ? b->eval.latency_ms : 0.0},
         {"latency_modelled", modelled},
         {"t_ms", t_ms},
         {"elapsed_s", elapsed_s()},
         {"left_s", std::max(0.0, static_cast<double>(search_ms) / 1000 - elapsed_s())}});
  };
  auto result = search::run_search(*strategy, evaluator, opts, clock, &stop, on_trial);
  progress.finish_line();
  if (!result.best) {
    std::cerr << "edgenas-search: no trial succeeded (" << result.trials.size() << " tried)";
    for (const auto& t : result.trials)
      if (!t.eval.ok) std::cerr << "; trial " << t.trial.id << ": " << t.eval.error;
    std::cerr << "\n";
    return kExitFailed;
  }

  const auto& best = *result.best;
  auto trial_net = evaluator.trial_model(best.trial.spec, best.trial.seed);
  if (!trial_net) {
    std::cerr << "edgenas-search: " << trial_net.error().message << "\n";
    return kExitFailed;
  }
  ml::Net net = *trial_net;
  int final_epochs = 0;  // 0: the trial's weights
  std::string final_note = "the best trial's weights";
  if (!stop.load() && o.final_share > 0) {
    const double left_s = static_cast<double>(o.budget_ms) / 1000 - elapsed_s();
    // Leave ~3 % of the budget for testing, measuring and writing.
    const int64_t deadline =
        clock.now_ms() +
        static_cast<int64_t>(1000 * std::max(0.0, left_s - 0.03 * o.budget_ms / 1000.0));
    const FinalTraining f =
        train_final(best, evaluator, *hp, input, *parts, o, workers, deadline, stop, progress);
    if (f.trained && f.validation_accuracy >= best.eval.accuracy) {
      net = f.net;
      final_epochs = f.epochs;
      final_note = f.note;
    }
  }

  // The test split is used once, here.
  const double test_acc = ml::accuracy(net, parts->test);
  const double val_acc = ml::accuracy(net, parts->validation);
  const auto plan = ml::InferenceNet::compile(net, input);
  const auto [cpu_ms, threads] = best_cpu_latency(plan, input, free_cores);
  const double latency =
      modelled ? search::modelled_latency_ms(search::cost_of(best.trial.spec, input).flops,
                                             *target.modelled, target.calibration)
               : cpu_ms;
  std::optional<double> rapl_mj;
  if (!modelled) rapl_mj = rapl_energy_mj(plan, input, threads);
  const double energy_mj = rapl_mj.value_or(target.power_w * latency);
  const bool met = latency <= t_ms;
  const bool met_energy = energy_budget <= 0 || energy_mj <= energy_budget;
  const auto cost = search::cost_of(best.trial.spec, input);

  json summary{{"status", "ok"},
               {"stop_reason", result.stop_reason},
               {"elapsed_s", elapsed_s()},
               {"search_s", result.elapsed_s},
               {"trials", result.trials.size()},
               {"strategy", strategy->name()},
               {"hparams", proto::to_json(*hp)},
               {"latency_req_ms", t_ms},
               {"energy_budget_mj", energy_budget},
               {"device", device},
               {"workers", workers},
               {"dataset",
                {{"classes", input.classes},
                 {"image_h", input.height},
                 {"image_w", input.width},
                 {"channels", input.channels},
                 {"samples", set->size()},
                 {"train", parts->train.size()},
                 {"validation", parts->validation.size()},
                 {"test", parts->test.size()}}},
               {"best",
                {{"spec", proto::to_json(best.trial.spec)},
                 {"key", best.trial.spec.key()},
                 {"trial", best.trial.id},
                 {"search_validation_accuracy", best.eval.accuracy},
                 {"validation_accuracy", val_acc},
                 {"test_accuracy", test_acc},
                 {"final_epochs", final_epochs},
                 {"weights", final_note},
                 {"latency_ms", latency},
                 {"latency_device", device},
                 {"latency_modelled", modelled},
                 {"cpu_latency_ms", cpu_ms},
                 {"cpu_threads", threads},
                 {"energy_mj", energy_mj},
                 {"energy_modelled", !rapl_mj.has_value()},
                 {"met_latency", met},
                 {"met_energy", met_energy},
                 {"params", cost.params},
                 {"flops", cost.flops}}}};
  if (modelled) {
    summary["calibration"] = {{"overhead_ms", target.calibration.overhead_ms},
                              {"flops_per_ms", target.calibration.flops_per_ms},
                              {"networks", target.calibration.points},
                              {"device_speed", target.modelled->speed},
                              {"device_overhead_ms", target.modelled->overhead_ms}};
  }
  json all = json::array();
  for (const auto& t : result.trials) all.push_back(trial_json(t));
  summary["all_trials"] = all;
  // The trace's progress: candidate-training core-seconds, and [core-seconds so far, best reward]
  // at each improvement.
  if (const auto curve = search::progress_of(result)) {
    json steps = json::array();
    for (const auto& p : curve->points) steps.push_back({p.compute_s, p.reward});
    summary["progress"] = {{"compute_s", curve->compute_s}, {"points", steps}};
  }
  json front = json::array();
  for (const auto& t : result.pareto) front.push_back(t.trial.id);
  summary["pareto_trials"] = front;

  const std::string label =
      "batch-1 latency on " + device + " (ms" + (modelled ? ", modelled)" : ")");
  write_pareto_csv(o.out_dir + "/pareto.csv", result);
  write_pareto_svg(o.out_dir + "/pareto.svg", result, t_ms, label);
  json meta{{"test_accuracy", test_acc},
            {"latency_ms", latency},
            {"latency_device", device},
            {"latency_modelled", modelled},
            {"hparams", proto::to_json(*hp)}};
  if (auto s = ml::save_model(o.out_dir + "/best.edgenas", best.trial.spec, input, meta, net); !s) {
    std::cerr << "edgenas-search: " << s.error().message << "\n";
    return kExitFailed;
  }
  // results.json last, written whole under a temporary name: its presence means a finished run.
  {
    std::ofstream(o.out_dir + "/results.json.tmp") << utf8::json_text(summary, 2) << "\n";
    std::filesystem::rename(o.out_dir + "/results.json.tmp", o.out_dir + "/results.json", ec);
    if (ec) {
      std::cerr << "edgenas-search: cannot write results.json: " << ec.message() << "\n";
      return kExitFailed;
    }
  }
  std::filesystem::remove_all(trials_dir, ec);

  char line[768];
  std::snprintf(line, sizeof line,
                "best: %s\n  validation accuracy %.4f, test accuracy %.4f, latency %.3f ms on %s%s "
                "(T %.3g ms: %s), %lld params, %s\n  %zu trials in %.0f s (%s); wrote "
                "%s/{best.edgenas,results.json,pareto.csv,pareto.svg}",
                best.trial.spec.key().c_str(), val_acc, test_acc, latency, device.c_str(),
                modelled ? " (modelled)" : "", t_ms, met ? "met" : "MISSED",
                static_cast<long long>(cost.params), final_note.c_str(), result.trials.size(),
                result.elapsed_s, result.stop_reason.c_str(), o.out_dir.c_str());
  if (progress.json_mode()) {
    progress.event({{"event", "done"},
                    {"results", o.out_dir + "/results.json"},
                    {"test_accuracy", test_acc},
                    {"latency_ms", latency},
                    {"met_latency", met}});
  } else {
    std::printf("%s\n", line);
  }
  return 0;
}

}  // namespace edgenas::searchcli
