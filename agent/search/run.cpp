#include "agent/search/run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "agent/search/report.hpp"
#include "agent/search/run_support.hpp"
#include "common/data/dataset.hpp"
#include "common/ml/onnx_export.hpp"
#include "common/ml/threads.hpp"
#include "common/ml/torch_evaluator.hpp"
#include "common/model/profile.hpp"
#include "common/protocol/codec.hpp"
#include "common/search/paired.hpp"
#include "common/search/search.hpp"
#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::searchcli {
namespace {

using nlohmann::json;

template <class T>
Expected<T> read_json_as(const std::string& path, const char* what) {
  auto j = files::read_json(path);
  if (!j) return j.error();
  return proto::from_json<T>(*j, what);
}

// The fleet's model of a device kind from --latency-models, when one passed its gate (for this
// binary's runtime and trial threads); its version goes with it.
struct FleetModel {
  search::KindModel model;
  int version = 0;
};
Expected<std::optional<FleetModel>> fleet_model(const RunOptions& o, const std::string& kind) {
  using Found = std::optional<FleetModel>;
  if (o.latency_models_path.empty() || kind.empty()) return Found{};
  auto j = files::read_json(o.latency_models_path);
  if (!j) return j.error();
  auto set = search::latency_models_from_json(*j);
  if (!set) return Error{errc::kUsage, o.latency_models_path + ": " + set.error().message};
  const auto* k = set->find(kind, "cnn", ml::runtime_name(), ml::kTrialThreads);
  if (!k || !k->serves) return Found{};
  return Found{FleetModel{*k, set->version}};
}

// The device the search measures or models latency for, and its power: --device (or, for
// auto, the queue's tightest task's fastest usable device: this CPU, and the profile's
// accelerators that carry a latency model). A device this machine cannot measure is predicted
// by the fleet's model of its kind (--latency-models) when one serves, else modelled from its
// speed in --profile.
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
    auto fleet = fleet_model(o, d ? d->kind : "");
    if (!fleet) return fleet.error();
    if (*fleet) {
      target.predicted = std::move((*fleet)->model);
      target.predicted_version = (*fleet)->version;
    } else if (!d || d->speed <= 0) {
      return Error{errc::kUsage, "no latency model for device '" + target.name +
                                     "': pass --profile with a profile whose " + target.name +
                                     " has speed and overhead_ms"};
    } else {
      target.modelled = search::DeviceSpeed{target.name, d->speed, d->overhead_ms};
    }
  }
  target.power_w = ctx.source.power_w > 0 ? ctx.source.power_w : (profile ? profile->max_w : 10);
  return target;
}

// One run: its inputs read and checked, the workers it may use, and the clock its budget is
// kept by.
struct Run {
  Hyperparameters hp;
  Context ctx;
  std::size_t samples = 0;  // in the data set, before the split
  data::Split parts;
  std::string test_source;  // where parts.test comes from, for results.json
  search::InputShape input;
  ml::TargetDevice target;
  double t_ms = 0;
  // What a latency must stay within to count as meeting T: T itself, or T·(1 − margin) when the
  // fleet's model predicts it (the margin its held-out error needs).
  double bound_ms = 0;
  int free_cores = 1, workers = 1;
  int64_t search_ms = 0;  // the search's share of a time budget; 0 without one
  std::string trials_dir;
  SystemClock clock;  // steady, the clock of ml::steady_now_ms
  int64_t start_ms = 0;

  bool modelled() const { return !target.measured(); }  // modelled or predicted
  double elapsed_s() const { return static_cast<double>(clock.now_ms() - start_ms) / 1000; }
};

// The hyperparameters, the context, the target device and the data set, split; every error here
// is the caller's (a usage or input error).
Expected<Run> prepare(const RunOptions& o) {
  Run r;
  auto hp = read_json_as<Hyperparameters>(o.hparams_path, "hparams");
  if (!hp) return hp.error();
  r.hp = *hp;
  auto ctx = read_json_as<Context>(o.context_path, "context");
  if (!ctx) return ctx.error();
  r.ctx = *ctx;
  if (o.final_share < 0 || o.final_share > 0.9)
    return Error{errc::kUsage, "--final-share must be in [0, 0.9]"};
  auto target = choose_target(o, r.ctx);
  if (!target) return target.error();
  r.target = std::move(*target);
  auto parts = load_split(o.data_spec, o.test_spec, r.samples, r.test_source);
  if (!parts) return parts.error();
  r.parts = std::move(*parts);
  r.trials_dir = o.out_dir + "/trials";
  std::error_code ec;
  std::filesystem::create_directories(r.trials_dir, ec);
  if (ec) return Error{errc::kUsage, "cannot create " + o.out_dir + ": " + ec.message()};
  r.t_ms = r.ctx.min_latency_req_ms().value_or(1000.0);
  r.bound_ms = r.t_ms * (r.target.predicted ? 1 - r.target.predicted->margin : 1);
  // Trials in parallel, one torch thread each, never more than the Source matrix has free
  // (and this machine has).
  const DeviceSource* cpu = r.ctx.device("cpu");
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  r.free_cores = std::min(hw, cpu ? std::max(1, cpu->free_nodes) : 1);
  r.workers = std::clamp(o.workers, 1, r.free_cores);
  const auto& train = r.parts.train;
  r.input = {train.channels, train.height, train.width, train.classes};
  if (o.budget_ms > 0)
    r.search_ms = static_cast<int64_t>(static_cast<double>(o.budget_ms) * (1 - o.final_share));
  return r;
}

// How the target's latency is had, for every output: measured here, modelled from FLOPs, or
// predicted by the fleet's model of its kind (with the version and how it did at its gate).
json latency_origin(const Run& r) {
  json j{{"latency_modelled", r.modelled()}, {"latency_source", r.target.latency_source()}};
  if (const auto& k = r.target.predicted)
    j["latency_model"] = {{"version", r.target.predicted_version},
                          {"kind", k->kind.label()},
                          {"method", k->method},
                          {"heldout_error_pct", k->error_pct},
                          {"margin", k->margin},
                          {"bound_ms", r.bound_ms}};
  return j;
}

// The same in words: "measured", "modelled", "predicted by fleet latency model v3".
std::string latency_words(const Run& r) {
  if (!r.target.predicted) return r.target.latency_source();
  return "predicted by fleet latency model v" + std::to_string(r.target.predicted_version);
}

// A modelled target's latency model is scaled by this CPU's measured speed.
Status calibrate_modelled_target(Run& r) {
  if (!r.target.modelled) return ok_status();
  auto cal = ml::calibrate_cpu(r.input, r.hp.seed);
  if (!cal) return cal.error();
  r.target.calibration = *cal;
  return ok_status();
}

// Fewer epochs than this from the seed do not beat a trial's own weights trained on.
constexpr int kMinScratchEpochs = 5;

// Candidates slower than 3 T are not trained (their reward is under a third of their accuracy;
// in a wide space they are also the ones that would eat the budget). No trial runs past the
// search's share of a time budget, nor longer than a third of it, so the final training always
// gets its own; and no candidate is trained that the final training could not train for
// kMinScratchEpochs epochs (FinalShare).
ml::TorchEvaluatorOptions evaluator_options(const Run& r, const RunOptions& o,
                                            const std::atomic<bool>& stop) {
  ml::TorchEvaluatorOptions e;
  e.loss = r.hp.loss;
  e.target = r.target;
  e.latency = {10, 50};
  e.models_dir = r.trials_dir;
  e.prune_latency_ms = 3 * r.t_ms;
  e.stop = &stop;
  if (r.search_ms <= 0) return e;
  e.deadline_ms = r.start_ms + r.search_ms;
  e.max_trial_ms = r.search_ms / 3;
  const int64_t final_ms = training_deadline(r.start_ms, o.budget_ms) - e.deadline_ms;
  if (o.final_share > 0 && final_ms > 0)
    e.final_share = {static_cast<double>(final_ms) / 1000, r.workers, kMinScratchEpochs};
  return e;
}

// Energy per inference: the flag, else the tightest task's energy estimate on the target.
search::Constraints constraints_of(const Run& r, const RunOptions& o) {
  search::Constraints c{r.bound_ms, r.ctx.energy_budget_mj(r.target.name)};
  if (o.energy_budget_mj > 0) c.energy_budget_mj = o.energy_budget_mj;
  return c;
}

void report_start(const Run& r, const RunOptions& o, const std::string& strategy, double fraction,
                  Progress& progress) {
  const auto& hp = r.hp;
  char intro[512];
  std::snprintf(
      intro, sizeof intro,
      "searching (%s): <=%d layers, <=%d filters, kernel <=%d, loss %s, seed %u; T = %.3g ms on "
      "%s (latency %s); %zu train (%.0f%% per trial epoch) / %zu validation / %zu test images; %d "
      "worker(s); budget %.0fs "
      "(%.0f%% for the final training)%s",
      strategy.c_str(), hp.layers, hp.filters, hp.kernel, std::string(to_string(hp.loss)).c_str(),
      hp.seed, r.t_ms, r.target.name.c_str(), latency_words(r).c_str(), r.parts.train.size(),
      fraction * 100, r.parts.validation.size(), r.parts.test.size(), r.workers,
      static_cast<double>(o.budget_ms) / 1000, o.final_share * 100,
      o.max_trials ? (", or " + std::to_string(o.max_trials) + " trials").c_str() : "");
  json start{{"event", "start"},          {"message", intro},
             {"device", r.target.name},   {"t_ms", r.t_ms},
             {"workers", r.workers},      {"budget_s", static_cast<double>(o.budget_ms) / 1000},
             {"max_trials", o.max_trials}};
  start.update(latency_origin(r));
  progress.event(start);
}

// With a predicted target, what meeting T means: a prediction within T less the model's margin.
void report_bound(const Run& r, Progress& progress) {
  if (!r.target.predicted) return;
  char text[256];
  std::snprintf(text, sizeof text,
                "meeting T = %.3g ms on %s means a prediction within %.3g ms: T less the fleet "
                "model's margin (%.1f %%, from its held-out error)",
                r.t_ms, r.target.name.c_str(), r.bound_ms, r.target.predicted->margin * 100);
  progress.event({{"event", "latency_bound"}, {"message", text}, {"bound_ms", r.bound_ms}});
}

void report_trial(const Run& r, const RunOptions& o, const search::TrialResult& t,
                  const search::SearchResult& so_far, Progress& progress) {
  const auto& b = so_far.best;
  const double elapsed = r.elapsed_s();
  progress.event({{"event", "trial"},
                  {"trial", t.trial.id},
                  {"ok", t.eval.ok},
                  {"accuracy", t.eval.accuracy},
                  {"latency_ms", t.eval.latency_ms},
                  {"trials_done", so_far.trials.size()},
                  {"trials_total", o.max_trials ? "/" + std::to_string(o.max_trials) : ""},
                  {"best_accuracy", b ? b->eval.accuracy : 0.0},
                  {"best_latency_ms", b ? b->eval.latency_ms : 0.0},
                  {"latency_modelled", r.modelled()},
                  {"latency_source", r.target.latency_source()},
                  {"t_ms", r.t_ms},
                  {"elapsed_s", elapsed},
                  {"left_s", std::max(0.0, static_cast<double>(r.search_ms) / 1000 - elapsed)}});
}

void report_no_trial(const search::SearchResult& result) {
  std::cerr << "edgenas-search: no trial succeeded (" << result.trials.size() << " tried)";
  for (const auto& t : result.trials)
    if (!t.eval.ok) std::cerr << "; trial " << t.trial.id << ": " << t.eval.error;
  std::cerr << "\n";
}

// The final training on all workers' threads. With a time budget it fills the rest of it,
// planned by time (ml::TrainOptions::until_deadline) so it ends at the deadline whatever the
// machine's speed does meanwhile: when at least five epochs should fit at the best trial's pace,
// the best architecture again from its seed, cosine decay over the time; when fewer fit, the best
// trial's own weights trained on at a lower rate, decayed to 0 (the budget is then used instead
// of left idle). With a trial budget alone (--budget 0), --final-epochs epochs from the seed, so
// that a seed gives the same model. The caller keeps the result only if validation agrees.
struct FinalPlan {
  bool from_scratch = true;
  int threads = 1;
  int64_t deadline_ms = 0;  // 0: by epochs
  int epochs = 0;           // by time: at most this many
  double expected_epochs = 0;
  std::string message;
};

struct FinalTraining {
  bool trained = false;
  ml::Net net{nullptr};
  int epochs = 0;  // whole epochs completed
  double validation_accuracy = 0;
  std::string note;
};

// Seconds one pass over the whole training split takes on one thread, at the best trial's pace.
double one_thread_epoch_s(const search::TrialResult& best) {
  const auto& f = best.trial.fidelity;
  return best.eval.train_time_s / std::max(1, f.epochs) / f.data_fraction;
}

// Passes over the whole training split that fit in the time left, at the best trial's pace
// (one thread) spread over `threads` threads.
double epochs_that_fit(const search::TrialResult& best, int threads, double left_s) {
  return left_s / std::max(1e-3, one_thread_epoch_s(best) / std::max(1, threads));
}

// None when there is nothing to do (no time left, or no final epochs asked for).
std::optional<FinalPlan> plan_final(const search::TrialResult& best, const RunOptions& o,
                                    int threads, int64_t deadline_ms) {
  FinalPlan p;
  p.threads = threads;
  const std::string on = " on " + std::to_string(threads) + " thread(s)";
  if (deadline_ms == 0) {
    if (o.final_epochs <= 0) return std::nullopt;
    p.epochs = p.expected_epochs = o.final_epochs;
    p.message = "final training: " + best.trial.spec.key() + " from its seed for " +
                std::to_string(p.epochs) + " epochs" + on;
    return p;
  }
  const double left_s = static_cast<double>(deadline_ms - ml::steady_now_ms()) / 1000;
  if (left_s <= 1) return std::nullopt;
  const double fit = epochs_that_fit(best, threads, left_s);
  const double trial_epochs = best.trial.fidelity.epochs * best.trial.fidelity.data_fraction;
  // From the seed only when several epochs fit: a few epochs from scratch do not beat the
  // trial's own weights, which then train on instead (the demo's crowded boxes got ~1 epoch from
  // scratch and kept their 1-epoch trial weights).
  p.from_scratch =
      o.final_max_epochs >= kMinScratchEpochs && fit >= kMinScratchEpochs && fit > trial_epochs;
  p.deadline_ms = deadline_ms;
  p.epochs = o.final_max_epochs;
  p.expected_epochs = std::min<double>(fit, o.final_max_epochs);
  p.message = "final training: " + best.trial.spec.key() +
              (p.from_scratch ? " from its seed" : " from its trial weights") + " for the " +
              std::to_string(static_cast<int>(left_s)) + " s left (~" +
              std::to_string(static_cast<int>(p.expected_epochs)) + " epochs)" + on;
  return p;
}

std::string final_note(bool from_scratch, const ml::TrainStats& stats) {
  char note[160];
  if (from_scratch) {
    std::snprintf(note, sizeof note, "%d epochs of final training%s", stats.epochs,
                  stats.epochs == 0 ? " (one epoch, part done)" : "");
  } else {
    std::snprintf(note, sizeof note, "the best trial's weights trained on for %lld images",
                  static_cast<long long>(stats.images_seen));
  }
  return note;
}

// Seconds per training image of `spec` on `threads` threads, from a throwaway copy trained for
// at most `probe_ms` (0 when nothing was trained in that time).
double training_pace(const search::ArchSpec& spec, const Run& r, int threads, int64_t probe_ms) {
  ml::Net probe(spec, r.input);
  ml::init_weights(probe, 0);
  ml::TrainOptions to;
  to.cutoff_ms = ml::steady_now_ms() + probe_ms;
  ml::set_threads(threads);
  const auto stats = ml::train(probe, r.parts.train, to);
  ml::set_threads(1);
  return stats.images_seen > 0 ? stats.seconds / static_cast<double>(stats.images_seen) : 0;
}

// Threads for the final training: all the workers' when they train faster than one thread did
// in the trials, else one. On cores shared with other work (the demo's four boxes on two
// cores) two threads wait for each other's time slices at every parallel step: a final training
// on two threads got through 1 472 images in 35 s where one thread trains thousands, and the
// boxes that had two workers delivered their best trial's one-epoch weights.
int final_threads(const search::TrialResult& best, const Run& r) {
  if (r.workers <= 1) return 1;
  if (best.eval.train_time_s <= 0 || r.parts.train.size() == 0) return r.workers;
  const double one_thread = one_thread_epoch_s(best) / static_cast<double>(r.parts.train.size());
  const double pace = training_pace(best.trial.spec, r, r.workers, 2000);
  return pace > 0 && pace < one_thread ? r.workers : 1;
}

FinalTraining train_final(const search::TrialResult& best, const FinalPlan& plan,
                          const ml::TorchEvaluator& evaluator, const Run& r,
                          const std::atomic<bool>& stop, Progress& progress,
                          ml::TrainProgress& train_progress) {
  FinalTraining f;
  ml::TrainOptions to;
  to.loss = r.hp.loss;
  to.epochs = plan.epochs;
  to.cosine_decay = true;
  to.seed = best.trial.seed;
  to.stop = &stop;
  to.deadline_ms = plan.deadline_ms;
  to.until_deadline = plan.deadline_ms > 0;
  to.progress = &train_progress;
  if (plan.from_scratch) {
    f.net = ml::Net(best.trial.spec, r.input);
    ml::init_weights(f.net, best.trial.seed);
  } else {
    auto trial_net = evaluator.trial_model(best.trial.spec, best.trial.seed);  // a copy to train
    if (!trial_net) return f;
    f.net = *trial_net;
    to.learning_rate /= 4;  // tuning trained weights, not learning from nothing
  }
  progress.event({{"event", "final"},
                  {"epochs_expected", plan.expected_epochs},
                  {"threads", plan.threads},
                  {"message", plan.message}});
  ml::set_threads(plan.threads);
  const auto stats = ml::train(f.net, r.parts.train, to);
  ml::set_threads(1);
  if (stats.stopped || stats.images_seen == 0) return f;
  f.trained = true;
  f.epochs = stats.epochs;
  f.validation_accuracy = ml::accuracy(f.net, r.parts.validation);
  f.note = final_note(plan.from_scratch, stats) + " on " + std::to_string(plan.threads) +
           (plan.threads == 1 ? " thread" : " threads");
  return f;
}

// The delivered network: the best trial's weights, or the final training's when validation
// agrees it did better.
struct Delivered {
  ml::Net net{nullptr};
  int final_epochs = 0;  // 0: the trial's weights
  std::string note = "the best trial's weights";
};

Expected<Delivered> deliver(const Run& r, const RunOptions& o, const search::TrialResult& best,
                            const ml::TorchEvaluator& evaluator, const std::atomic<bool>& stop,
                            Progress& progress, Ticker& ticker) {
  auto trial_net = evaluator.trial_model(best.trial.spec, best.trial.seed);
  if (!trial_net) return trial_net.error();
  Delivered d;
  d.net = *trial_net;
  if (stop.load() || (o.budget_ms > 0 && o.final_share <= 0)) return d;
  const int64_t deadline = o.budget_ms > 0 ? training_deadline(r.start_ms, o.budget_ms) : 0;
  const int threads = deadline > 0 ? final_threads(best, r) : r.workers;
  const auto plan = plan_final(best, o, threads, deadline);
  if (!plan) return d;
  ml::TrainProgress final_progress;
  const int64_t started = ml::steady_now_ms();
  ticker.watch("final", [&] {
    return std::vector{ml::training_now(best.trial.spec.key(), started, final_progress)};
  });
  const FinalTraining f = train_final(best, *plan, evaluator, r, stop, progress, final_progress);
  ticker.watch("", nullptr);
  if (f.trained && f.validation_accuracy >= best.eval.accuracy) {
    d.net = f.net;
    d.final_epochs = f.epochs;
    d.note = f.note;
  }
  return d;
}

// The delivered network on the test split (used once, here), and its latency and energy on
// the target.
struct Measured {
  double test_accuracy = 0, validation_accuracy = 0;
  std::vector<bool> validation_right;  // per validation image (the incumbent's comparison)
  double latency_ms = 0, cpu_latency_ms = 0;
  int cpu_threads = 1;
  double energy_mj = 0;
  bool energy_modelled = true;
  bool met_latency = false, met_energy = false;
  search::Cost cost;
};

Measured measure(const Run& r, const search::ArchSpec& spec, ml::Net& net,
                 double energy_budget_mj) {
  Measured m;
  m.test_accuracy = ml::accuracy(net, r.parts.test);
  m.validation_right = ml::answers_right(net, r.parts.validation);
  m.validation_accuracy = search::share_right(m.validation_right);
  const auto plan = ml::InferenceNet::compile(net, r.input);
  std::tie(m.cpu_latency_ms, m.cpu_threads) = best_cpu_latency(plan, r.input, r.free_cores);
  m.cost = search::cost_of(spec, r.input);
  m.latency_ms = r.modelled() ? r.target.estimate_ms(spec, r.input) : m.cpu_latency_ms;
  std::optional<double> rapl_mj;
  if (!r.modelled()) rapl_mj = rapl_energy_mj(plan, r.input, m.cpu_threads);
  m.energy_modelled = !rapl_mj.has_value();
  m.energy_mj = rapl_mj.value_or(r.target.power_w * m.latency_ms);
  m.met_latency = m.latency_ms <= r.bound_ms;
  m.met_energy = energy_budget_mj <= 0 || m.energy_mj <= energy_budget_mj;
  return m;
}

// The box's current model (--incumbent) measured like this run's on the same split and target,
// and whether the box should keep it: it meets the constraints and either this run's model does
// not or it is not clearly more accurate on validation (search/paired.hpp: on the images where
// the two disagree, a lead beyond chance). Validation accuracy alone swapped demo boxes' models
// for ones that were better there by a few images and worse on test (0.9993 to 0.9985). Never
// fatal: a model that cannot be read, or was made for other images or classes, is reported as
// such and the new model is the better one.
json incumbent_json(const Run& r, const std::string& path, double energy_budget_mj,
                    const Measured& fresh) {
  json j{{"path", path}, {"better", false}};
  auto m = ml::load_model(path);
  if (!m) {
    j["error"] = m.error().message;
    return j;
  }
  const auto& in = m->input;
  if (in.channels != r.input.channels || in.height != r.input.height || in.width != r.input.width ||
      in.classes != r.input.classes) {
    j["error"] = "made for other images or classes than --data's";
    return j;
  }
  const Measured im = measure(r, m->spec, m->net, energy_budget_mj);
  const auto d = search::disagreements(fresh.validation_right, im.validation_right);
  const bool meets = im.met_latency && im.met_energy;
  const bool fresh_meets = fresh.met_latency && fresh.met_energy;
  j.update({{"key", m->spec.key()},
            {"validation_accuracy", im.validation_accuracy},
            {"test_accuracy", im.test_accuracy},
            {"latency_ms", im.latency_ms},
            {"met_latency", im.met_latency},
            {"met_energy", im.met_energy},
            {"validation_only_new_right", d.only_first},
            {"validation_only_kept_right", d.only_second},
            {"better", meets && (!fresh_meets || !search::first_clearly_better(d))},
            {"new_meets_constraints", fresh_meets}});
  return j;
}

// The delivered model as ONNX beside best.edgenas (written before results.json, like it).
json onnx_json(const Run& r, const RunOptions& o, const search::ArchSpec& spec, ml::Net& net) {
  const std::string path = o.out_dir + "/best.onnx";
  if (auto s = ml::export_onnx(path, net, spec, r.input); !s) return {{"error", s.error().message}};
  return {{"file", path}, {"opset", ml::kOnnxOpset}};
}

json dataset_json(const Run& r) {
  return {{"classes", r.input.classes},
          {"image_h", r.input.height},
          {"image_w", r.input.width},
          {"channels", r.input.channels},
          {"samples", r.samples},
          {"train", r.parts.train.size()},
          {"validation", r.parts.validation.size()},
          {"test", r.parts.test.size()},
          {"test_source", r.test_source}};
}

json best_json(const Run& r, const search::TrialResult& best, const Delivered& d,
               const Measured& m) {
  return {{"spec", proto::to_json(best.trial.spec)},
          {"key", best.trial.spec.key()},
          {"trial", best.trial.id},
          {"search_validation_accuracy", best.eval.accuracy},
          {"validation_accuracy", m.validation_accuracy},
          {"test_accuracy", m.test_accuracy},
          {"final_epochs", d.final_epochs},
          {"weights", d.note},
          {"latency_ms", m.latency_ms},
          {"latency_device", r.target.name},
          {"latency_modelled", r.modelled()},
          {"latency_source", r.target.latency_source()},
          {"cpu_latency_ms", m.cpu_latency_ms},
          {"cpu_threads", m.cpu_threads},
          {"energy_mj", m.energy_mj},
          {"energy_modelled", m.energy_modelled},
          {"met_latency", m.met_latency},
          {"met_energy", m.met_energy},
          {"params", m.cost.params},
          {"flops", m.cost.flops}};
}

// Every trial, the trace's progress (candidate-training core-seconds, and [core-seconds so far,
// best reward] at each improvement) and the Pareto front's trial ids.
void add_trials_json(json& summary, const search::SearchResult& result) {
  json all = json::array();
  for (const auto& t : result.trials) all.push_back(trial_json(t));
  summary["all_trials"] = all;
  if (const auto curve = search::progress_of(result)) {
    json steps = json::array();
    for (const auto& p : curve->points) steps.push_back({p.compute_s, p.reward});
    summary["progress"] = {{"compute_s", curve->compute_s}, {"points", steps}};
  }
  json front = json::array();
  for (const auto& t : result.pareto) front.push_back(t.trial.id);
  summary["pareto_trials"] = front;
}

json results_json(const Run& r, const search::SearchResult& result, const std::string& strategy,
                  double energy_budget_mj, const Delivered& d, const Measured& m) {
  json summary{{"status", "ok"},
               {"stop_reason", result.stop_reason},
               {"elapsed_s", r.elapsed_s()},
               {"search_s", result.elapsed_s},
               {"trials", result.trials.size()},
               {"strategy", strategy},
               {"hparams", proto::to_json(r.hp)},
               {"latency_req_ms", r.t_ms},
               {"energy_budget_mj", energy_budget_mj},
               {"device", r.target.name},
               {"workers", r.workers},
               {"runtime", ml::runtime_name()},
               {"trial_latency_threads", ml::kTrialThreads},
               {"dataset", dataset_json(r)},
               {"best", best_json(r, *result.best, d, m)},
               {"accuracy_splits",
                {{"search_validation_accuracy", "validation split, the best trial's weights"},
                 {"validation_accuracy", "validation split, the delivered weights"},
                 {"test_accuracy", "test split (" + r.test_source + "), the delivered weights"}}}};
  summary.update(latency_origin(r));
  if (r.target.modelled) {
    summary["calibration"] = {{"overhead_ms", r.target.calibration.overhead_ms},
                              {"flops_per_ms", r.target.calibration.flops_per_ms},
                              {"networks", r.target.calibration.points},
                              {"device_speed", r.target.modelled->speed},
                              {"device_overhead_ms", r.target.modelled->overhead_ms}};
  }
  add_trials_json(summary, result);
  return summary;
}

// The Pareto front, the model, then results.json last: its presence means a finished run.
Status write_outputs(const Run& r, const RunOptions& o, const search::SearchResult& result,
                     Delivered& d, const Measured& m, const json& summary) {
  const std::string label = "batch-1 latency on " + r.target.name + " (ms" +
                            (r.modelled() ? ", " + latency_words(r) + ")" : ")");
  write_pareto_csv(o.out_dir + "/pareto.csv", result);
  write_pareto_svg(o.out_dir + "/pareto.svg", result, r.t_ms, label);
  json meta{{"test_accuracy", m.test_accuracy},
            {"latency_ms", m.latency_ms},
            {"latency_device", r.target.name},
            {"hparams", proto::to_json(r.hp)}};
  meta.update(latency_origin(r));
  const auto& spec = result.best->trial.spec;
  if (auto s = ml::save_model(o.out_dir + "/best.edgenas", spec, r.input, meta, d.net); !s)
    return s;
  if (auto s = files::write_json_atomic(o.out_dir + "/results.json", summary); !s) return s;
  std::error_code ec;
  std::filesystem::remove_all(r.trials_dir, ec);
  return ok_status();
}

void report_done(const Run& r, const RunOptions& o, const search::SearchResult& result,
                 const Delivered& d, const Measured& m, Progress& progress) {
  if (progress.json_mode()) {
    progress.event({{"event", "done"},
                    {"results", o.out_dir + "/results.json"},
                    {"test_accuracy", m.test_accuracy},
                    {"latency_ms", m.latency_ms},
                    {"met_latency", m.met_latency}});
    return;
  }
  std::printf(
      "best: %s\n  validation accuracy %.4f, test accuracy %.4f, latency %.3f ms on %s%s "
      "(T %.3g ms: %s), %lld params, %s\n  %zu trials in %.0f s (%s); wrote "
      "%s/{best.edgenas,results.json,pareto.csv,pareto.svg}\n",
      result.best->trial.spec.key().c_str(), m.validation_accuracy, m.test_accuracy, m.latency_ms,
      r.target.name.c_str(), r.modelled() ? (" (" + latency_words(r) + ")").c_str() : "", r.t_ms,
      m.met_latency ? "met" : "MISSED", static_cast<long long>(m.cost.params), d.note.c_str(),
      result.trials.size(), result.elapsed_s, result.stop_reason.c_str(), o.out_dir.c_str());
}

int failed(const Error& e) {
  std::cerr << "edgenas-search: " << e.message << "\n";
  return kExitFailed;
}

}  // namespace

int run_command(const RunOptions& o, const std::atomic<bool>& stop) {
  auto prepared = prepare(o);
  if (!prepared) return usage_error(prepared.error().message);
  Run& r = *prepared;
  ml::set_threads(1);
  Progress progress(o.progress, o.progress_interval_ms);
  if (r.target.modelled) {
    progress.event({{"event", "calibrate"},
                    {"message", "timing networks on this CPU for the latency model of " +
                                    r.target.name + " (a few seconds)"}});
  }
  if (auto s = calibrate_modelled_target(r); !s) return failed(s.error());

  r.start_ms = r.clock.now_ms();
  ml::TorchEvaluator evaluator(r.parts.train, r.parts.validation, evaluator_options(r, o, stop));
  search::SearchSpace space(r.hp);
  // Trials rank architectures; they need not see a big data set whole (the final training does).
  const double fraction = std::min(
      1.0, static_cast<double>(o.trial_images) / static_cast<double>(r.parts.train.size()));
  auto strategy = search::make_strategy(o.strategy, space, r.hp.seed, {o.epochs, fraction});
  if (!strategy) return usage_error("unknown strategy '" + o.strategy + "'");
  const search::Constraints constraints = constraints_of(r, o);
  // With a time budget, trials are reported as they finish (no worker waits for a slower
  // one); with a trial budget alone, in proposal order, so a seed gives the same search.
  const search::SearchOptions opts{
      r.workers, {r.search_ms / 1000, o.max_trials}, constraints, r.search_ms > 0};
  report_start(r, o, strategy->name(), fraction, progress);
  Ticker ticker(progress, [&] { return r.elapsed_s(); });
  ticker.watch("search", [&] { return evaluator.running(); });
  auto on_trial = [&](const search::TrialResult& t, const search::SearchResult& so_far) {
    report_trial(r, o, t, so_far, progress);
  };
  report_bound(r, progress);
  const auto result = search::run_search(*strategy, evaluator, opts, r.clock, &stop, on_trial);
  ticker.watch("", nullptr);
  progress.finish_line();
  if (!result.best) return report_no_trial(result), kExitFailed;

  auto delivered = deliver(r, o, *result.best, evaluator, stop, progress, ticker);
  progress.finish_line();
  if (!delivered) return failed(delivered.error());
  const double energy_budget = constraints.energy_budget_mj.value_or(0);
  const Measured m = measure(r, result.best->trial.spec, delivered->net, energy_budget);
  json summary = results_json(r, result, strategy->name(), energy_budget, *delivered, m);
  if (!o.incumbent_path.empty())
    summary["incumbent"] = incumbent_json(r, o.incumbent_path, energy_budget, m);
  if (o.export_onnx) summary["onnx"] = onnx_json(r, o, result.best->trial.spec, delivered->net);
  if (auto s = write_outputs(r, o, result, *delivered, m, summary); !s) return failed(s.error());
  report_done(r, o, result, *delivered, m, progress);
  return 0;
}

}  // namespace edgenas::searchcli
