#pragma once
// What `edgenas-search run` and `train` share: progress for a person or the agent, the ticker
// that reports trainings under way, the data split (with or without a separate test set), and
// the delivered network's latency and energy on this CPU.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/search/run.hpp"
#include "common/data/dataset.hpp"
#include "common/ml/infer.hpp"
#include "common/ml/torch_evaluator.hpp"

namespace edgenas::searchcli {

inline constexpr int kExitFailed = 1, kExitUsage = 2;

// Prints "edgenas-search: MSG" and returns the usage exit code.
int usage_error(const std::string& msg);

// When a training that started its budget at start_ms (steady clock) must end so that testing,
// measuring and writing still fit: 2 % of the budget before its end, and at least 2 s (a quarter of
// a budget under 8 s).
int64_t training_deadline(int64_t start_ms, int64_t budget_ms);

// Progress for a person (one rewritten line on a terminal, log lines otherwise) or for the
// agent (JSON lines on stdout, one object per event; docs/ARCHITECTURE.md lists the events).
class Progress {
 public:
  Progress(ProgressMode mode, int64_t interval_ms);
  bool json_mode() const { return mode_ == ProgressMode::json; }
  // How often a report of the trainings under way is made: each second on a terminal, where
  // it rewrites the status line; less often in a log, or to the agent.
  std::chrono::milliseconds tick_period() const;
  void event(const nlohmann::json& e);  // from any thread
  void finish_line();

 private:
  void trial_line(const nlohmann::json& e);
  void running_line(const nlohmann::json& e);

  ProgressMode mode_;
  int64_t interval_ms_;
  std::mutex mu_;
  bool in_line_ = false;
};

// --data split 70/15/15 into train, validation and test; with --test, 85/15 into train and
// validation, and the test part is the --test set (same image shape, no class the data lacks).
// `samples` is --data's size; `test_source` says where the test part came from.
// The split is the same in every run on the same data, whatever the search's seed: a box's
// successive models are scored on the same held-out images, and a later test split never holds
// images an earlier model (the incumbent) trained on.
inline constexpr uint64_t kSplitSeed = 1;
Expected<data::Split> load_split(const std::string& data_spec, const std::string& test_spec,
                                 std::size_t& samples, std::string& test_source);

// The fastest batch-1 latency on this CPU with 1..max_threads torch threads (a deployment
// picks its thread count the same way; tiny networks are often fastest on one thread).
std::pair<double, int> best_cpu_latency(const ml::InferenceNet& net,
                                        const search::InputShape& input, int max_threads);

// Package energy of one inference from RAPL, over back-to-back inferences on an otherwise idle
// process (nothing else of ours runs then). Includes the package's idle share.
std::optional<double> rapl_energy_mj(const ml::InferenceNet& net, const search::InputShape& input,
                                     int threads);

// Reports the trainings under way every tick_period, from its own thread, until destroyed:
// progress from the first second of a run, not only when a trial ends.
class Ticker {
 public:
  using Source = std::function<std::vector<ml::TrainingNow>()>;
  Ticker(Progress& progress, std::function<double()> elapsed_s)
      : progress_(progress),
        elapsed_s_(std::move(elapsed_s)),
        thread_([this](std::stop_token st) { loop(st); }) {}
  // What to report from now on ("search", "final"); none when source is empty.
  void watch(std::string phase, Source source) {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = std::move(phase);
    source_ = std::move(source);
  }

 private:
  void loop(std::stop_token st) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> lock(m);
    while (!cv.wait_for(lock, st, progress_.tick_period(), [] { return false; }) &&
           !st.stop_requested())
      report();
  }
  void report() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!source_) return;
    const auto now = source_();
    if (now.empty()) return;
    nlohmann::json trainings = nlohmann::json::array();
    for (const auto& t : now) {
      trainings.push_back({{"key", t.key},
                           {"epoch", t.epoch},
                           {"epochs", t.epochs},
                           {"epoch_done", t.epoch_done},
                           {"elapsed_s", t.elapsed_s}});
    }
    progress_.event({{"event", "running"},
                     {"phase", phase_},
                     {"elapsed_s", elapsed_s_()},
                     {"trainings", trainings}});
  }

  Progress& progress_;
  std::function<double()> elapsed_s_;
  std::mutex mu_;
  std::string phase_;
  Source source_;
  std::jthread thread_;  // last: it starts once everything above exists, and stops first
};

}  // namespace edgenas::searchcli
