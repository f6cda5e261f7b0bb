#include "common/ml/torch_evaluator.hpp"
#include "common/ml/threads.hpp"
#include "common/util/errors.hpp"

#include <cstdio>
#include <random>

namespace edgenas::ml {

TorchEvaluator::TorchEvaluator(const data::ImageSet& train, const data::ImageSet& validation,
                               TorchEvaluatorOptions options)
    : train_(train), validation_(validation), options_(std::move(options)) {
  input_ = {train.channels, train.height, train.width, train.classes};
}

LatencyResult target_latency(const InferenceNet& net, const search::ArchSpec& spec,
                             const search::InputShape& input, const TargetDevice& target,
                             const LatencyOptions& options) {
  LatencyResult r;
  r.cpu_latency_ms = measure_latency_ms(net, input, options);
  r.modelled = !target.measured();
  r.latency_ms = r.modelled ? target.estimate_ms(spec, input) : r.cpu_latency_ms;
  return r;
}

const char* TargetDevice::latency_source() const {
  return predicted ? "predicted" : modelled ? "modelled" : "measured";
}

double TargetDevice::estimate_ms(const search::ArchSpec& spec,
                                 const search::InputShape& input) const {
  if (predicted) return predicted->predict(search::latency_features(search::lower(spec, input)));
  return search::modelled_latency_ms(search::cost_of(spec, input).flops, *modelled, calibration);
}

namespace {
InferenceNet quick_plan(Net& net, const search::InputShape& input) {
  try {
    return InferenceNet::compile(net, input, false, InferenceNet::Layout::onednn);
  } catch (const std::runtime_error&) {
    return InferenceNet::compile(net, input, false);
  }
}
}  // namespace

search::Evaluation TorchEvaluator::evaluate(const search::ArchSpec& spec,
                                            const search::Fidelity& fidelity, uint64_t seed) {
  search::Evaluation e;
  try {
    set_threads(kTrialThreads);
    const auto cost = search::cost_of(spec, input_);
    e.params = cost.params;
    e.flops = cost.flops;
    auto turned_away = wont_finish(cost.flops, fidelity);
    if (!turned_away) turned_away = too_large_for_budget(cost.flops);
    if (turned_away) {
      e.ok = false;
      e.out_of_time = true;
      e.error = *turned_away;
      return e;
    }
    Net net(spec, input_);
    init_weights(net, seed);
    if (options_.prune_latency_ms > 0) {
      // A quick look before training: a few forward passes (or the model, for a modelled target)
      // of the oneDNN plan, which is built without timing anything and is what the deployed
      // plan usually is; ATen's untuned plan when oneDNN cannot build one.
      std::lock_guard<std::mutex> lock(latency_mu_);
      const auto quick =
          target_latency(quick_plan(net, input_), spec, input_, options_.target, {1, 3});
      if (quick.latency_ms > options_.prune_latency_ms) {
        e.ok = false;
        e.latency_ms = quick.latency_ms;
        e.latency_modelled = quick.modelled;
        char why[160];
        std::snprintf(why, sizeof why, "pruned: latency %.3g ms > %.3g ms, not trained",
                      quick.latency_ms, options_.prune_latency_ms);
        e.error = why;
        return e;
      }
    }
    TrainOptions t;
    t.loss = options_.loss;
    t.epochs = fidelity.epochs;
    t.data_fraction = fidelity.data_fraction;
    t.batch_size = options_.batch_size;
    t.seed = seed;
    t.cutoff_ms = trial_cutoff_ms();
    t.stop = options_.stop;
    TrainStats stats;
    {
      struct Unlist {  // also when training throws
        TorchEvaluator& ev;
        std::list<Running>::iterator it;
        ~Unlist() { ev.end_running(it); }
      } listed{*this, start_running(spec.key())};
      t.progress = &listed.it->progress;
      t.progress->epochs = fidelity.epochs;  // shown from the start, before the first batch
      stats = train(net, train_, t);
    }
    e.train_time_s = stats.seconds;
    if (stats.stopped) {
      e.ok = false;
      e.error = "stopped: the search was asked to stop";
      return e;
    }
    if (stats.cut) {
      record_rate(cost.flops, stats);  // what it trained says how fast this box trains
      e.ok = false;
      e.out_of_time = true;
      e.error = "cut at " +
                std::string(options_.deadline_ms > 0 && t.cutoff_ms == options_.deadline_ms
                                ? "the search's deadline"
                                : "the longest a trial may take") +
                " after " + std::to_string(stats.images_seen) + " images of training";
      return e;
    }
    record_rate(cost.flops, stats);
    e.accuracy = accuracy(net, validation_);
    {
      std::lock_guard<std::mutex> lock(latency_mu_);
      const auto lat = target_latency(InferenceNet::compile(net, input_), spec, input_,
                                      options_.target, options_.latency);
      e.latency_ms = lat.latency_ms;
      e.latency_modelled = lat.modelled;
      e.cpu_latency_ms = lat.cpu_latency_ms;
    }
    e.energy_mj = options_.target.power_w * e.latency_ms;  // W × ms = mJ
    e.energy_modelled = true;
    if (!options_.models_dir.empty()) {
      torch::serialize::OutputArchive archive;
      net->save(archive);
      archive.save_to(options_.models_dir + "/" + std::to_string(seed) + ".pt");
    }
  } catch (const std::exception& ex) {
    e.ok = false;
    e.error = ex.what();
  }
  return e;
}

TrainingNow training_now(const std::string& key, int64_t started_ms, const TrainProgress& p) {
  const auto per_epoch = p.images_per_epoch.load();
  return {key, p.epoch.load() + 1, p.epochs.load(),
          per_epoch > 0 ? static_cast<double>(p.images_done.load()) / per_epoch : 0.0,
          static_cast<double>(steady_now_ms() - started_ms) / 1000};
}

std::list<TorchEvaluator::Running>::iterator TorchEvaluator::start_running(const std::string& key) {
  std::lock_guard<std::mutex> lock(running_mu_);
  running_.emplace_back();
  running_.back().key = key;
  running_.back().started_ms = steady_now_ms();
  return std::prev(running_.end());
}

void TorchEvaluator::end_running(std::list<Running>::iterator it) {
  std::lock_guard<std::mutex> lock(running_mu_);
  running_.erase(it);
}

std::vector<TrainingNow> TorchEvaluator::running() const {
  std::lock_guard<std::mutex> lock(running_mu_);
  std::vector<TrainingNow> out;
  for (const auto& r : running_) out.push_back(training_now(r.key, r.started_ms, r.progress));
  return out;
}

int64_t TorchEvaluator::trial_cutoff_ms() const {
  if (options_.max_trial_ms <= 0) return options_.deadline_ms;
  const int64_t cap = steady_now_ms() + options_.max_trial_ms;
  return options_.deadline_ms > 0 ? std::min(cap, options_.deadline_ms) : cap;
}

double TorchEvaluator::fastest_rate() {
  std::lock_guard<std::mutex> lock(rate_mu_);
  return fastest_rate_;
}

std::optional<std::string> TorchEvaluator::wont_finish(int64_t flops,
                                                       const search::Fidelity& fidelity) {
  if (options_.deadline_ms <= 0) return std::nullopt;
  const double left_s = static_cast<double>(options_.deadline_ms - steady_now_ms()) / 1000;
  const double rate = fastest_rate();
  const double images =
      fidelity.epochs * std::max(1.0, fidelity.data_fraction * static_cast<double>(train_.size()));
  const double needs_s = rate * static_cast<double>(flops) * images;
  if (left_s > 0 && needs_s <= left_s) return std::nullopt;
  char why[160];
  std::snprintf(why, sizeof why,
                "not started: its training needs about %.0f s, %.0f s are left before the "
                "search's deadline",
                needs_s, std::max(0.0, left_s));
  return std::string(why);
}

std::optional<std::string> TorchEvaluator::too_large_for_budget(int64_t flops) {
  const auto& f = options_.final_share;
  const double rate = fastest_rate();
  if (f.seconds <= 0 || rate <= 0) return std::nullopt;
  // One thread's pace spread over the final training's threads, as run's final plan counts it.
  const double epoch_s = rate * static_cast<double>(flops) * static_cast<double>(train_.size()) /
                         std::max(1, f.threads);
  const double epochs = f.seconds / std::max(1e-9, epoch_s);
  if (epochs >= f.min_epochs) return std::nullopt;
  char why[200];
  std::snprintf(why, sizeof why,
                "not started: too large for this budget: the final training's %.0f s would give "
                "it about %.1f of the %d epochs it needs",
                f.seconds, epochs, f.min_epochs);
  return std::string(why);
}

void TorchEvaluator::record_rate(int64_t flops, const TrainStats& stats) {
  if (flops <= 0 || flops < options_.rate_min_flops || stats.images_seen <= 0 || stats.seconds <= 0)
    return;
  const double rate =
      stats.seconds / (static_cast<double>(flops) * static_cast<double>(stats.images_seen));
  std::lock_guard<std::mutex> lock(rate_mu_);
  if (fastest_rate_ == 0 || rate < fastest_rate_) fastest_rate_ = rate;
}

Expected<Net> TorchEvaluator::trial_model(const search::ArchSpec& spec, uint64_t seed) const {
  if (options_.models_dir.empty()) return Error{"internal", "trial models are not kept"};
  const std::string path = options_.models_dir + "/" + std::to_string(seed) + ".pt";
  try {
    Net net(spec, input_);
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    net->load(archive);
    return net;
  } catch (const std::exception& e) {
    return Error{errc::kIo, "cannot load trial weights " + path + ": " + e.what()};
  }
}

Expected<search::CpuCalibration> calibrate_cpu(const search::InputShape& input, uint64_t seed,
                                               int networks) {
  const search::SearchSpace space({6, 64, 5, Loss::cross_entropy, 0});
  std::mt19937_64 rng(seed);
  std::vector<std::pair<double, double>> points;
  for (int i = 0; i < networks; ++i) {
    const auto spec = space.sample(rng);
    Net net(spec, input);
    init_weights(net, seed + static_cast<uint64_t>(i));
    const auto plan = InferenceNet::compile(net, input);
    points.emplace_back(static_cast<double>(search::cost_of(spec, input).flops),
                        measure_latency_ms(plan, input, {5, 30}));
  }
  return search::fit_calibration(points);
}

}  // namespace edgenas::ml
