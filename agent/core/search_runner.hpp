#pragma once
// The agent's NAS runs as a pure state machine: a trigger (a coordinator Command, the local CLI,
// a schedule) starts a run; the runner inspects the data set with `edgenas-search inspect`, asks
// the coordinator for hyperparameters with the current Job and Source (and the data set's
// shape), starts `edgenas-search run` as a child inside limits taken from the Source matrix,
// relays its progress, and turns the outcome into a Trace. A crashed, killed or cancelled child
// becomes a failed Trace (or, when it kept a best model, an ok one); the agent keeps running.
//
//   idle → inspecting → requesting → running → idle        (cancel from any phase)
//
// Processes, the hyperparameter link and persistence are behind small interfaces so unit tests
// drive the runner with fakes and a ManualClock. Every phase change is saved; a run a previous
// agent process left behind is finished by recover() (its results.json, or a failed Trace).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/box_model.hpp"
#include "agent/core/kept_latency_models.hpp"
#include "agent/core/search_link.hpp"
#include "common/protocol/schema.hpp"
#include "common/util/clock.hpp"
#include "common/util/expected.hpp"
#include "common/util/process.hpp"

namespace edgenas::agent {

struct SearchSettings {
  std::string binary;          // edgenas-search; empty: this agent runs no searches
  std::string data;            // data spec of the local data set (idx:… or folder:…)
  std::string test_data;       // a separate test set (same spec forms); empty: held out of `data`
  std::string runs_dir;        // one directory per run
  std::string model_dir;       // the box's model (BoxModel); empty: none is kept
  std::string latency_models;  // the fleet's latency models (KeptLatencyModels); empty: none
  int64_t budget_ms = 600'000;
  int max_trials = 0;
  std::string strategy = "evolution";
  std::string device = "auto";
  std::string profile;       // device profile: latency model of devices not on this machine
  bool model_cpu = false;    // the box is simulated: its CPU latency is modelled too
  bool export_onnx = false;  // the search also writes its model as ONNX (out/best.onnx)
  double energy_budget_mj = 0;
  double memory_fraction = 0.8;  // of the free memory the child may use
  int64_t min_memory_mb = 512;
  int max_cpus = 0;      // 0: as many as the Source matrix has free
  int64_t every_ms = 0;  // local schedule; 0: off
  int64_t hparams_timeout_ms = 300'000;
  int64_t inspect_timeout_ms = 600'000;
  int64_t stop_grace_ms = 30'000;  // SIGTERM, then SIGKILL after this long
  int keep_runs = 5;               // finished run directories kept
  // This machine's CPU as the probes name it (CpuProbe::model_name): the device kind of the
  // candidates' latencies a trace carries. Empty: traces carry none.
  std::string cpu_kind;
  bool enabled() const { return !binary.empty(); }
};

ChildLimits plan_limits(const SourceMatrix& source, const SearchSettings& settings);

// One run, as persisted.
struct SearchRun {
  std::string run_id;
  std::string trigger;  // "command:<id>", "local", "schedule"
  std::string phase;    // inspecting, requesting, running, stopping
  std::string dir;
  int64_t started_wall_ms = 0;
  int pid = 0;
  std::string request_id;
  Context context;
  std::optional<proto::HparamReply> reply;
  nlohmann::json overrides = nlohmann::json::object();  // budget, trials, strategy
  std::string cancel_reason;
};
nlohmann::json to_json(const SearchRun& run);
Expected<SearchRun> search_run_from_json(const nlohmann::json& j);

class RunStore {
 public:
  virtual ~RunStore() = default;
  virtual Status save_run(const SearchRun& run) = 0;
  virtual Status finish_run(const std::string& run_id, const std::string& outcome) = 0;
  virtual Expected<std::vector<SearchRun>> unfinished_runs() = 0;
  virtual int64_t runs_finished() = 0;
};

// Builds the Trace of a finished run from edgenas-search's results.json (null when there is
// none) and how the child ended; a finished run's trace carries its candidates' measured CPU
// latencies when cpu_kind names this machine's CPU. Pure; tested on its own.
Trace make_search_trace(const SearchRun& run, const nlohmann::json* results,
                        const std::optional<ChildExit>& exit, const std::string& failure,
                        int trials_seen, int64_t now_wall_ms, const std::string& cpu_kind);
// The candidates' latencies results.json's all_trials measured on this machine's CPU (never
// a modelled one), the first limits::kMaxLatencySamples; nullopt when there are none, the
// runtime is not named, or cpu_kind is empty. Malformed trials are skipped.
std::optional<LatencyMeasurements> measured_latency(const nlohmann::json& results,
                                                    const std::string& cpu_kind);
// The search's accuracy/latency Pareto front: the all_trials that results.json's pareto_trials
// names (search-time validation accuracy, latency on the search's device); nullopt when there
// is none. Malformed entries are skipped.
std::optional<ParetoFront> pareto_of(const nlohmann::json& results);

class SearchRunner {
 public:
  SearchRunner(const Clock& clock, SearchSettings settings, ChildLauncher& launcher,
               RunStore& store, SearchLink& link, std::string agent_id);

  // Starts a run; refused when searches are not configured, one is running, or an override
  // is unknown or malformed.
  Expected<std::string> start(const std::string& trigger, const nlohmann::json& overrides);
  Status cancel(const std::string& reason);
  void tick();
  // Finishes what a previous agent process left (call once at start-up).
  Status recover();
  // Stops a running child for an agent shutdown; returns once it ended or the grace passed.
  void shutdown(const std::function<void(int64_t)>& sleep_ms);

  bool busy() const { return run_.has_value(); }
  std::optional<proto::SearchProgress> progress() const;
  nlohmann::json status() const;
  int64_t searches_run() const { return searches_run_; }
  int last_predictor_version() const { return last_predictor_version_; }

 private:
  void save();
  void start_inspect();
  void on_inspected(const std::optional<ChildExit>& exit);
  void start_pinned();
  void start_child();
  void read_progress();
  void finish(const std::optional<ChildExit>& exit, const std::string& failure);
  void abandon(const std::string& why);  // a run that never reached edgenas-search: no Trace
  void keep_better_model(const nlohmann::json& results);
  void keep_latency_models(proto::HparamReply& reply);
  void prune_runs();

  const Clock& clock_;
  SearchSettings settings_;
  ChildLauncher& launcher_;
  RunStore& store_;
  SearchLink& link_;
  std::string agent_id_;

  std::optional<SearchRun> run_;
  int handle_ = -1;
  int64_t phase_started_ms_ = 0;
  int64_t stop_sent_ms_ = -1;
  std::vector<std::string> inspect_out_;
  proto::SearchProgress progress_;
  int64_t searches_run_ = 0;
  int last_predictor_version_ = 0;
  int64_t next_scheduled_ms_ = 0;
  std::string last_outcome_;
  std::string limits_applied_;
  BoxModel box_model_;
  KeptLatencyModels latency_models_;
  std::string last_model_update_;
};

}  // namespace edgenas::agent
