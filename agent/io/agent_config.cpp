#include "agent/io/agent_config.hpp"

#include <sstream>

#include "common/protocol/codec.hpp"
#include "common/util/errors.hpp"
#include "common/util/settings.hpp"

namespace edgenas::agent {

namespace {

using A = AgentConfig;
using namespace config;

Settings<A> make_settings() {
  const std::string ag = "agent", pb = "probes", np = "npu", se = "search";
  return {
      text<A>(
          ag, "id", "--id", [](A & c) -> auto& { return c.agent_id; },
          "this box's agent id (empty: the hostname)"),
      text<A>(
          ag, "coordinator", "--coordinator", [](A & c) -> auto& { return c.coordinator; },
          "the coordinator's agent endpoint, e.g. tcp://10.0.0.5:7700"),
      text<A>(
          ag, "state_dir", "--state-dir", [](A & c) -> auto& { return c.state_dir; },
          "where the outbox, queued tasks, searches and agent.key are kept"),
      text<A>(
          ag, "local_socket", "", [](A & c) -> auto& { return c.local_endpoint; },
          "the local socket for edgenas-agent commands (empty: ipc://<state_dir>/agent.sock)"),
      text<A>(
          ag, "log_level", "--log-level", [](A & c) -> auto& { return c.log_level; },
          "debug, info, warn or error"),
      duration<A>(
          ag, "sample_interval", "--sample-interval", 100,
          [](A & c) -> auto& { return c.sample_interval_ms; }, "how often probes are read"),
      integer<A>(
          ag, "outbox_max_traces", "", 1, 100'000'000,
          [](A & c) -> auto& { return c.outbox_max_traces; },
          "traces kept for the coordinator at most"),
      choice<A>(
          ag, "outbox_full_policy", "",
          {{"drop_oldest", OutboxFullPolicy::drop_oldest},
           {"reject_new", OutboxFullPolicy::reject_new}},
          [](A & c) -> auto& { return c.outbox_full_policy; },
          "what a full outbox does with a new trace"),
      text<A>(
          ag, "coordinator_key", "--coordinator-key",
          [](A & c) -> auto& { return c.coordinator_key; },
          "the coordinator's CURVE public key, or its coordinator.pub file"),
      text<A>(
          ag, "key_file", "", [](A & c) -> auto& { return c.key_file; },
          "this agent's key pair, created on first start (empty: <state_dir>/agent.key)"),
      boolean<A>(
          ag, "insecure", "--insecure", true, [](A & c) -> auto& { return c.insecure; },
          "plaintext link, no CURVE (experiments only)"),
      text<A>(
          ag, "metrics_endpoint", "--metrics", [](A & c) -> auto& { return c.metrics_endpoint; },
          "HOST:PORT serving /metrics (Prometheus) and /healthz; empty: off"),
      duration<A>(
          ag, "bind_retry", "--bind-retry", 0, [](A & c) -> auto& { return c.bind_retry_ms; },
          "how long a taken port is retried at start (0: give up at once)"),
      choice<A>(
          pb, "mode", "", {{"linux", "linux"}, {"simulated", "simulated"}},
          [](A & c) -> auto& { return c.probe_mode; },
          "probe this Linux box, or simulate a device profile (--profile sets both)"),
      text<A>(
          pb, "profile", "", [](A & c) -> auto& { return c.profile_path; },
          "the device profile a simulated box follows"),
      boolean<A>(
          pb, "rapl", "", true, [](A & c) -> auto& { return c.use_rapl; },
          "read the power from RAPL when the box has it"),
      number<A>(
          pb, "power_idle_w", "", 0, limits::kMaxPowerW,
          [](A & c) -> auto& { return c.power_idle_w; },
          "the power model's idle watts (without RAPL)"),
      number<A>(
          pb, "power_max_w", "", 0, limits::kMaxPowerW,
          [](A & c) -> auto& { return c.power_max_w; },
          "the power model's watts at full load (without RAPL)"),
      choice<A>(
          np, "plugin", "", {{"none", "none"}, {"npu-smi", "npu-smi"}},
          [](A & c) -> auto& { return c.npu_plugin; }, "how NPUs are found and read"),
      text<A>(
          np, "command", "", [](A & c) -> auto& { return c.npu_command; },
          "the npu-smi command line"),
      integer<A>(
          np, "cores_per_chip", "", 1, 1024, [](A & c) -> auto& { return c.npu_cores_per_chip; },
          "AI cores per NPU chip"),
      text<A>(
          se, "binary", "", [](A & c) -> auto& { return c.search.binary; },
          "edgenas-search (empty, with data: this agent runs no searches)"),
      text<A>(
          se, "data", "", [](A & c) -> auto& { return c.search.data; },
          "the local data set (idx:IMAGES,LABELS or folder:DIR)"),
      text<A>(
          se, "test", "", [](A & c) -> auto& { return c.search.test_data; },
          "a separate test set (empty: a share of data is held out)"),
      text<A>(
          se, "runs_dir", "", [](A & c) -> auto& { return c.search.runs_dir; },
          "one directory per run (empty: <state_dir>/searches)"),
      text<A>(
          se, "model_dir", "", [](A & c) -> auto& { return c.search.model_dir; },
          "the box's model: the better of each search's and the one kept before (empty: "
          "<state_dir>/model)"),
      duration<A>(
          se, "budget", "", 0, [](A & c) -> auto& { return c.search.budget_ms; },
          "a search's wall-clock budget"),
      integer<A>(
          se, "trials", "", 0, 1'000'000, [](A & c) -> auto& { return c.search.max_trials; },
          "stop a search after this many trials (0: time only)"),
      choice<A>(
          se, "strategy", "", {{"random", "random"}, {"evolution", "evolution"}, {"sh", "sh"}},
          [](A & c) -> auto& { return c.search.strategy; }, "the search strategy"),
      text<A>(
          se, "device", "", [](A & c) -> auto& { return c.search.device; },
          "the target device: auto (from the Job and Source matrices), cpu, npu0, ..."),
      text<A>(
          se, "profile", "", [](A & c) -> auto& { return c.search.profile; },
          "the device profile whose latency model targets devices not on this machine"),
      boolean<A>(
          se, "export_onnx", "", true, [](A & c) -> auto& { return c.search.export_onnx; },
          "also write each search's model as ONNX (out/best.onnx) for other runtimes: an NPU's "
          "compiler, TensorRT, OpenCV"),
      number<A>(
          se, "energy_budget_mj", "", 0, 1e9,
          [](A & c) -> auto& { return c.search.energy_budget_mj; },
          "energy per inference the model must stay under (0: the tightest task's)"),
      number<A>(
          se, "memory_fraction", "", 0.05, 1,
          [](A & c) -> auto& { return c.search.memory_fraction; },
          "of the free memory, the share a search may use"),
      integer<A>(
          se, "min_memory_mb", "", 64, limits::kMaxMemoryMb,
          [](A & c) -> auto& { return c.search.min_memory_mb; },
          "a search gets at least this much memory"),
      integer<A>(
          se, "max_cpus", "", 0, 4096, [](A & c) -> auto& { return c.search.max_cpus; },
          "a search uses at most this many cores (0: the free ones)"),
      duration<A>(
          se, "every", "", 0, [](A & c) -> auto& { return c.search.every_ms; },
          "start a search on this schedule (0: off; at least 1m)"),
      duration<A>(
          se, "hparams_timeout", "", 0, [](A & c) -> auto& { return c.search.hparams_timeout_ms; },
          "how long a search waits for the coordinator's hyperparameters"),
      duration<A>(
          se, "stop_grace", "", 0, [](A & c) -> auto& { return c.search.stop_grace_ms; },
          "how long a stopped search may take to keep its best model"),
      integer<A>(
          se, "keep_runs", "", 0, 100'000, [](A & c) -> auto& { return c.search.keep_runs; },
          "finished runs' directories kept"),
  };
}

// [[task]] entries: TOML → JSON → the same validating reader the wire uses.
Status read_tasks(const toml::table& t, const std::string& path, AgentConfig& cfg) {
  const auto* tasks = t.get_as<toml::array>("task");
  if (!tasks) return ok_status();
  int i = 0;
  for (const auto& node : *tasks) {
    const std::string w = path + ": [[task]] #" + std::to_string(++i);
    if (!node.is_table()) return Error{errc::kBadConfig, w + " must be a table"};
    std::ostringstream js;
    js << toml::json_formatter{*node.as_table()};
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(js.str());
    } catch (const std::exception& e) {
      return Error{errc::kBadConfig, w + ": " + e.what()};
    }
    auto task = proto::from_json<JobTask>(j, "task");
    if (!task) return Error{errc::kBadConfig, w + ": " + task.error().message};
    cfg.tasks.push_back(std::move(*task));
  }
  return ok_status();
}

}  // namespace

const config::Settings<AgentConfig>& agent_settings() {
  static const auto all = make_settings();
  return all;
}

Status load_agent_config(const std::string& path, AgentConfig& cfg) {
  auto parsed = config::parse_file(path);
  if (!parsed) return parsed.error();
  if (auto s = config::read_settings(*parsed, path, agent_settings(), {"task"}, cfg); !s) return s;
  if (auto s = read_tasks(*parsed, path, cfg); !s) return s;
  return validate(cfg);
}

Status validate(const AgentConfig& cfg) {
  if (!cfg.agent_id.empty() && !valid_id(cfg.agent_id)) {
    return Error{errc::kBadConfig,
                 "agent id '" + cfg.agent_id + "' must be 1..128 chars of [A-Za-z0-9._:@-]"};
  }
  if (cfg.coordinator.rfind("tcp://", 0) != 0 && cfg.coordinator.rfind("ipc://", 0) != 0) {
    return Error{errc::kBadConfig,
                 "coordinator '" + cfg.coordinator + "' must be a tcp:// or ipc:// endpoint"};
  }
  if (cfg.probe_mode == "simulated" && cfg.profile_path.empty()) {
    return Error{errc::kBadConfig,
                 "probes.mode = \"simulated\" needs probes.profile (a device profile file)"};
  }
  if (cfg.power_max_w < cfg.power_idle_w)
    return Error{errc::kBadConfig, "probes.power_max_w must be >= power_idle_w"};
  const auto& S = cfg.search;
  if (S.binary.empty() != S.data.empty())
    return Error{errc::kBadConfig,
                 "search.binary and search.data go together (set both, or neither)"};
  if (S.budget_ms <= 0 && S.max_trials <= 0)
    return Error{errc::kBadConfig, "search.budget or search.trials must be set"};
  if (S.every_ms < 0 || (S.every_ms > 0 && S.every_ms < 60'000))
    return Error{errc::kBadConfig, "search.every must be 0 (off) or at least 1m"};
  if (cfg.local().size() > 100)
    return Error{errc::kBadConfig, "local socket path is too long for ipc:// (max ~100 chars)"};
  return ok_status();
}

SearchSettings AgentConfig::search_settings() const {
  SearchSettings s = search;
  if (s.runs_dir.empty()) s.runs_dir = state_dir + "/searches";
  if (s.model_dir.empty()) s.model_dir = state_dir + "/model";
  s.latency_models = state_dir + "/latency-models.json";
  if (probe_mode == "simulated") {
    // The box is a profile, not this machine: its latencies come from the profile's model.
    s.model_cpu = true;
    if (s.profile.empty()) s.profile = profile_path;
  }
  return s;
}

}  // namespace edgenas::agent
