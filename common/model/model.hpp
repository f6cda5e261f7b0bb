#pragma once
// The data model of the method: Job matrix, Source matrix, Hyperparameters, Trace.
// Each struct lists its fields once in fields(v); the protocol codec and the JSON
// conversion are generated from that list, with the ranges given here enforced on decode.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/constants.hpp"
#include "common/util/expected.hpp"

namespace edgenas {

// --- Losses the NAS may be told to use (named list, fixed per run) ----------------------------
enum class Loss { cross_entropy, label_smoothing_ce, focal };
inline constexpr Loss kAllLosses[] = {Loss::cross_entropy, Loss::label_smoothing_ce, Loss::focal};
std::string_view to_string(Loss loss);
std::optional<Loss> loss_from_string(std::string_view s);

// Device names: "cpu", or an accelerator kind with an index ("npu0", "npu1", "gpu0", ...).
bool valid_device_name(std::string_view name);
// Identifiers (agent ids, task ids, trace ids): 1..128 bytes of [A-Za-z0-9._:@-].
bool valid_id(std::string_view id);
// Names people read (a CPU's model, a runtime): 1..128 bytes of printable ASCII.
bool valid_label(std::string_view label);
// A network in its search space's key form ("c16k3s2b-h64", NAS-Bench-201's "|nor_conv_3x3~0|+
// ..."): 1..512 bytes of [A-Za-z0-9|~+_.-].
bool valid_arch_key(std::string_view key);

// Hyperparameter bounds (the predictor's output space and the NAS search bounds).
namespace hp {
inline constexpr int kMinLayers = 1, kMaxLayers = 10;
inline constexpr int kMinFilters = 4, kMaxFilters = 512;
inline constexpr int kMinKernel = 1, kMaxKernel = 11;  // odd only
}  // namespace hp

// One Job-matrix row: the estimate for running one queued task on one device.
struct JobRow {
  std::string device;
  double runtime_ms = 0;
  double energy_j = 0;
  int nodes = 0;  // compute nodes (cores, NPU cores) the task occupies on that device

  template <class V>
  void fields(V& v) {
    v.str("device", device, valid_device_name, "a device name (cpu, npu0, gpu0, ...)");
    v.num("runtime_ms", runtime_ms, 0.0, limits::kMaxRuntimeMs);
    v.num("energy_j", energy_j, 0.0, limits::kMaxEnergyJ);
    v.num("nodes", nodes, 0, limits::kMaxNodesPerDevice);
  }
};

// One queued task: its per-device rows and its latency requirement T.
struct JobTask {
  std::string task_id;
  double latency_req_ms = 0;  // T: the task must answer within this many milliseconds
  std::vector<JobRow> rows;

  template <class V>
  void fields(V& v) {
    v.str("task_id", task_id, valid_id, "an id of [A-Za-z0-9._:@-]");
    v.num("latency_req_ms", latency_req_ms, 0.001, limits::kMaxLatencyMs);
    v.list("rows", rows, 1, limits::kMaxDevices);
  }
};

struct JobMatrix {
  std::vector<JobTask> tasks;

  template <class V>
  void fields(V& v) {
    v.list("tasks", tasks, 0, limits::kMaxQueuedTasks);
  }
};

// One Source-matrix row: what a device has free now.
struct DeviceSource {
  std::string device;
  int free_nodes = 0;
  int64_t free_memory_mb = 0;
  bool unhealthy = false;  // present but cannot run work (a probe reported a fault)

  template <class V>
  void fields(V& v) {
    v.str("device", device, valid_device_name, "a device name (cpu, npu0, gpu0, ...)");
    v.num("free_nodes", free_nodes, 0, limits::kMaxNodesPerDevice);
    v.num("free_memory_mb", free_memory_mb, int64_t{0}, limits::kMaxMemoryMb);
    v.opt_flag("unhealthy", unhealthy);
  }
};

struct SourceMatrix {
  std::vector<DeviceSource> devices;  // devices[0] is the CPU (empty only before a first sample)
  double power_w = 0;                 // average power of the box over the last window
  bool power_modelled = false;        // true when power comes from a model, not a meter (RAPL)
  int64_t window_ms = 0;              // the averaging window

  template <class V>
  void fields(V& v) {
    v.list("devices", devices, 0, limits::kMaxDevices);
    v.num("power_w", power_w, 0.0, limits::kMaxPowerW);
    v.flag("power_modelled", power_modelled);
    v.num("window_ms", window_ms, int64_t{0}, int64_t{86'400'000});
  }
};

struct Hyperparameters {
  int layers = 4;
  int filters = 32;
  int kernel = 3;
  Loss loss = Loss::cross_entropy;
  uint32_t seed = 0;

  template <class V>
  void fields(V& v) {
    v.num("layers", layers, hp::kMinLayers, hp::kMaxLayers);
    v.num("filters", filters, hp::kMinFilters, hp::kMaxFilters);
    v.num("kernel", kernel, hp::kMinKernel, hp::kMaxKernel);
    v.enumeration("loss", loss, loss_from_string);
    v.num("seed", seed, uint32_t{0}, UINT32_MAX);
  }
  Status validate() const;  // cross-field rules (kernel is odd)
};
bool operator==(const Hyperparameters& a, const Hyperparameters& b);

// What the agent knows of its local data set (optional in requests and traces).
struct DatasetShape {
  int classes = 0;
  int image_h = 0;
  int image_w = 0;
  int channels = 1;
  int64_t samples = 0;

  template <class V>
  void fields(V& v) {
    v.num("classes", classes, 1, 100'000);
    v.num("image_h", image_h, 1, 16'384);
    v.num("image_w", image_w, 1, 16'384);
    v.num("channels", channels, 1, 16);
    v.num("samples", samples, int64_t{0}, int64_t{1'000'000'000});
  }
};

// X = {Job, Source} (+ data set shape): the context a hyperparameter choice is made in.
struct Context {
  JobMatrix job;
  SourceMatrix source;
  std::optional<DatasetShape> dataset;

  template <class V>
  void fields(V& v) {
    v.obj("job", job);
    v.obj("source", source);
    v.opt_obj("dataset", dataset);
  }
  Status validate() const;  // Job rows name devices of the Source matrix; no duplicates
  // The tightest latency requirement in the queue, or nullopt for an empty queue.
  std::optional<double> min_latency_req_ms() const;
  // The energy one inference may take on `device`: the tightest-T task's estimate for a run on
  // that device (its Job row), in mJ; nullopt when the task has no row there or no estimate.
  std::optional<double> energy_budget_mj(std::string_view device) const;
  const DeviceSource* device(std::string_view name) const;
};

// Static description of a device, sent at registration.
struct DeviceInfo {
  std::string name;
  int total_nodes = 0;
  int64_t total_memory_mb = 0;
  std::string probe;  // where the numbers come from: "procfs", "npu-smi", "simulated:<profile>"

  template <class V>
  void fields(V& v) {
    v.str("name", name, valid_device_name, "a device name (cpu, npu0, gpu0, ...)");
    v.num("total_nodes", total_nodes, 0, limits::kMaxNodesPerDevice);
    v.num("total_memory_mb", total_memory_mb, int64_t{0}, limits::kMaxMemoryMb);
    v.str("probe", probe, nullptr, "");
  }
};

enum class TraceStatus { ok, failed };
std::string_view to_string(TraceStatus s);
std::optional<TraceStatus> trace_status_from_string(std::string_view s);

// How a search got to its result: after compute_s core-seconds of candidate training, the best
// candidate so far had this search reward (accuracy, penalised like the search ranks its
// candidates). One point per improvement, in order, at most kMaxProgressPoints (thinned), and
// the search's whole candidate-training compute. The predictor learns from it how fast a search
// space gets near its best (docs/ARCHITECTURE.md, "The predictor").
struct ProgressPoint {
  double compute_s = 0;
  double reward = 0;

  template <class V>
  void fields(V& v) {
    v.num("compute_s", compute_s, 0.0, 1e9);
    v.num("reward", reward, 0.0, 1.0);
  }
};
struct ProgressCurve {
  double compute_s = 0;  // all candidate training of the search (≥ the last point's)
  std::vector<ProgressPoint> points;

  template <class V>
  void fields(V& v) {
    v.num("compute_s", compute_s, 0.0, 1e9);
    v.list("points", points, 1, limits::kMaxProgressPoints);
  }
  Status validate() const;  // compute and reward never decrease; compute_s covers the points
  // The best reward reached within compute_s core-seconds (0 before the first point).
  double reward_at(double compute_s) const;
};
// From a search's raw (compute, best reward) points: drops non-finite and non-improving ones,
// clamps, and thins to kMaxProgressPoints keeping the first and the last. Empty → nullopt.
std::optional<ProgressCurve> make_progress(const std::vector<ProgressPoint>& raw,
                                           double total_compute_s);

// One candidate's measured batch-1 latency.
struct LatencySample {
  std::string arch;  // the candidate's key in its space
  double ms = 0;

  template <class V>
  void fields(V& v) {
    v.str("arch", arch, valid_arch_key, "an architecture key of [A-Za-z0-9|~+_.-], 1..512 bytes");
    v.num("ms", ms, 1e-6, limits::kMaxLatencyMs);
  }
};

// What a search measured (never modelled) of its candidates' latency, and the device kind it
// holds for: the fleet learns a latency model per kind from these (ARCHITECTURE.md, "Learned
// latency"). The input shape is the context's data set.
struct LatencyMeasurements {
  std::string device = "cpu";  // the box's device the samples were measured on
  std::string kind;            // its model as the probes name it, e.g. "ARM Cortex-A55"
  std::string runtime;         // e.g. "libtorch 1.13.1"
  int threads = 1;             // intra-op threads during the measurement
  std::string space = "cnn";   // the search space the keys belong to
  std::vector<LatencySample> samples;

  template <class V>
  void fields(V& v) {
    v.str("device", device, valid_device_name, "cpu, npuN or gpuN");
    v.str("kind", kind, valid_label, "1..128 printable ASCII bytes");
    v.str("runtime", runtime, valid_label, "1..128 printable ASCII bytes");
    v.num("threads", threads, 1, limits::kMaxNodesPerDevice);
    v.str("space", space, valid_id, "a space name");
    v.list("samples", samples, 1, limits::kMaxLatencySamples);
  }
};

// One candidate of a search's accuracy/latency Pareto front: its architecture key, its
// validation accuracy during the search and its latency on the search's device (measured or
// modelled, as the outcome's latency is).
struct ParetoPoint {
  std::string arch;
  double accuracy = 0;
  double latency_ms = 0;

  template <class V>
  void fields(V& v) {
    v.str("arch", arch, valid_arch_key, "an architecture key of [A-Za-z0-9|~+_.-], 1..512 bytes");
    v.num("accuracy", accuracy, 0.0, 1.0);
    v.num("latency_ms", latency_ms, 0.0, limits::kMaxLatencyMs);
  }
};
// The candidates no other candidate of the search beat on both accuracy and latency, fastest
// first (so accuracy rises along it), at most kMaxParetoPoints (thinned).
struct ParetoFront {
  std::vector<ParetoPoint> points;

  template <class V>
  void fields(V& v) {
    v.list("points", points, 1, limits::kMaxParetoPoints);
  }
  Status validate() const;  // latency never falls and accuracy rises along the front
};
// The front of raw candidates: drops non-finite and dominated ones, orders by latency and thins
// to kMaxParetoPoints keeping the fastest and the most accurate. Empty → nullopt.
std::optional<ParetoFront> make_pareto(std::vector<ParetoPoint> raw);

// The outcome of one NAS run on a box.
struct TraceOutcome {
  TraceStatus status = TraceStatus::ok;
  double accuracy = 0;    // test accuracy of the best model, 0..1
  double latency_ms = 0;  // median batch-1 latency of the best model on its device
  bool latency_modelled = false;
  int latency_model_version = 0;  // the fleet latency model that predicted it (0: none did)
  double energy_mj = 0;           // energy per inference, millijoules
  bool energy_modelled = false;
  double search_time_s = 0;
  int trials = 0;
  bool met_latency = false;               // latency_ms <= the tightest T of the context
  std::string device;                     // where the model runs ("cpu", "npu0", ...)
  std::string error;                      // why a failed run failed
  std::optional<ProgressCurve> progress;  // absent from older agents
  std::optional<LatencyMeasurements> measured_latency;  // absent from older agents
  std::optional<ParetoFront> pareto;                    // absent from older agents

  template <class V>
  void fields(V& v) {
    v.enumeration("status", status, trace_status_from_string);
    v.num("accuracy", accuracy, 0.0, 1.0);
    v.num("latency_ms", latency_ms, 0.0, limits::kMaxLatencyMs);
    v.flag("latency_modelled", latency_modelled);
    v.opt_num("latency_model_version", latency_model_version, 0, 1'000'000'000);
    v.num("energy_mj", energy_mj, 0.0, 1e12);
    v.flag("energy_modelled", energy_modelled);
    v.num("search_time_s", search_time_s, 0.0, 1e8);
    v.num("trials", trials, 0, 100'000'000);
    v.flag("met_latency", met_latency);
    v.opt_str("device", device);
    v.opt_str("error", error);
    v.opt_obj("progress", progress);
    v.opt_obj("measured_latency", measured_latency);
    v.opt_obj("pareto", pareto);
  }
};

// One NAS run reported by an agent: context, the hyperparameters it ran with, the outcome.
struct Trace {
  std::string trace_id;    // unique per run; resends carry the same id (idempotent)
  int64_t created_ms = 0;  // wall clock at the agent when the run finished
  Context context;
  Hyperparameters hparams;
  std::string policy;         // who chose hparams: "cold-start", "predictor", "explore", "manual"
  int predictor_version = 0;  // 0 = no predictor version (cold-start or manual)
  bool explore = false;
  TraceOutcome outcome;

  template <class V>
  void fields(V& v) {
    v.str("trace_id", trace_id, valid_id, "an id of [A-Za-z0-9._:@-]");
    v.num("created_ms", created_ms, int64_t{0}, INT64_MAX);
    v.obj("context", context);
    v.obj("hparams", hparams);
    v.str("policy", policy, valid_id, "a policy name");
    v.num("predictor_version", predictor_version, 0, 1'000'000'000);
    v.flag("explore", explore);
    v.obj("outcome", outcome);
  }
  Status validate() const;
};

}  // namespace edgenas
