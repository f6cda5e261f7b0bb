#include "agent/io/agent_config.hpp"

#include <sstream>

#include "common/protocol/codec.hpp"
#include "common/util/config.hpp"
#include "common/util/errors.hpp"

namespace edgenas::agent {

Status load_agent_config(const std::string& path, AgentConfig& cfg) {
  auto parsed = config::parse_file(path);
  if (!parsed) return parsed.error();
  const toml::table& t = *parsed;
  if (auto s = config::check_keys(t, {"agent", "probes", "npu", "task", "search"}, path); !s)
    return s;

  if (const auto* a = t.get_as<toml::table>("agent")) {
    const std::string w = path + ": [agent]";
    if (auto s = config::check_keys(
            *a,
            {"id", "coordinator", "state_dir", "local_socket", "log_level", "sample_interval",
             "outbox_max_traces", "outbox_full_policy", "coordinator_key", "key_file", "insecure",
             "metrics_endpoint", "bind_retry"},
            w);
        !s) {
      return s;
    }
    EDGENAS_CONFIG_READ(config::get_string(*a, "id", w), cfg.agent_id);
    EDGENAS_CONFIG_READ(config::get_string(*a, "coordinator", w), cfg.coordinator);
    EDGENAS_CONFIG_READ(config::get_string(*a, "state_dir", w), cfg.state_dir);
    EDGENAS_CONFIG_READ(config::get_string(*a, "local_socket", w), cfg.local_endpoint);
    EDGENAS_CONFIG_READ(config::get_string(*a, "log_level", w), cfg.log_level);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*a, "sample_interval", w), cfg.sample_interval_ms);
    EDGENAS_CONFIG_READ(config::get_string(*a, "coordinator_key", w), cfg.coordinator_key);
    EDGENAS_CONFIG_READ(config::get_string(*a, "key_file", w), cfg.key_file);
    EDGENAS_CONFIG_READ(config::get_bool(*a, "insecure", w), cfg.insecure);
    EDGENAS_CONFIG_READ(config::get_string(*a, "metrics_endpoint", w), cfg.metrics_endpoint);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*a, "bind_retry", w), cfg.bind_retry_ms);
    std::optional<int64_t> max;
    EDGENAS_CONFIG_READ(config::get_int(*a, "outbox_max_traces", w, 1, 100'000'000), max);
    if (max) cfg.outbox_max_traces = static_cast<std::size_t>(*max);
    std::optional<std::string> policy;
    EDGENAS_CONFIG_READ(config::get_string(*a, "outbox_full_policy", w), policy);
    if (policy) {
      if (*policy == "drop_oldest") {
        cfg.outbox_full_policy = OutboxFullPolicy::drop_oldest;
      } else if (*policy == "reject_new") {
        cfg.outbox_full_policy = OutboxFullPolicy::reject_new;
      } else {
        return Error{errc::kBadConfig,
                     w + ".outbox_full_policy must be \"drop_oldest\" or \"reject_new\""};
      }
    }
  }
  if (const auto* p = t.get_as<toml::table>("probes")) {
    const std::string w = path + ": [probes]";
    if (auto s =
            config::check_keys(*p, {"mode", "profile", "rapl", "power_idle_w", "power_max_w"}, w);
        !s)
      return s;
    EDGENAS_CONFIG_READ(config::get_string(*p, "mode", w), cfg.probe_mode);
    EDGENAS_CONFIG_READ(config::get_string(*p, "profile", w), cfg.profile_path);
    EDGENAS_CONFIG_READ(config::get_bool(*p, "rapl", w), cfg.use_rapl);
    EDGENAS_CONFIG_READ(config::get_double(*p, "power_idle_w", w, 0, limits::kMaxPowerW),
                        cfg.power_idle_w);
    EDGENAS_CONFIG_READ(config::get_double(*p, "power_max_w", w, 0, limits::kMaxPowerW),
                        cfg.power_max_w);
  }
  if (const auto* n = t.get_as<toml::table>("npu")) {
    const std::string w = path + ": [npu]";
    if (auto s = config::check_keys(*n, {"plugin", "command", "cores_per_chip"}, w); !s) return s;
    EDGENAS_CONFIG_READ(config::get_string(*n, "plugin", w), cfg.npu_plugin);
    EDGENAS_CONFIG_READ(config::get_string(*n, "command", w), cfg.npu_command);
    std::optional<int64_t> cores;
    EDGENAS_CONFIG_READ(config::get_int(*n, "cores_per_chip", w, 1, 1024), cores);
    if (cores) cfg.npu_cores_per_chip = static_cast<int>(*cores);
  }
  if (const auto* se = t.get_as<toml::table>("search")) {
    const std::string w = path + ": [search]";
    if (auto s = config::check_keys(
            *se,
            {"binary", "data", "test", "runs_dir", "budget", "trials", "strategy", "device",
             "profile", "energy_budget_mj", "memory_fraction", "min_memory_mb", "max_cpus", "every",
             "hparams_timeout", "stop_grace", "keep_runs"},
            w);
        !s)
      return s;
    auto& S = cfg.search;
    EDGENAS_CONFIG_READ(config::get_string(*se, "binary", w), S.binary);
    EDGENAS_CONFIG_READ(config::get_string(*se, "data", w), S.data);
    EDGENAS_CONFIG_READ(config::get_string(*se, "test", w), S.test_data);
    EDGENAS_CONFIG_READ(config::get_string(*se, "runs_dir", w), S.runs_dir);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*se, "budget", w), S.budget_ms);
    std::optional<int64_t> n;
    EDGENAS_CONFIG_READ(config::get_int(*se, "trials", w, 0, 1'000'000), n);
    if (n) S.max_trials = static_cast<int>(*n);
    EDGENAS_CONFIG_READ(config::get_string(*se, "strategy", w), S.strategy);
    EDGENAS_CONFIG_READ(config::get_string(*se, "device", w), S.device);
    EDGENAS_CONFIG_READ(config::get_string(*se, "profile", w), S.profile);
    EDGENAS_CONFIG_READ(config::get_double(*se, "energy_budget_mj", w, 0, 1e9), S.energy_budget_mj);
    EDGENAS_CONFIG_READ(config::get_double(*se, "memory_fraction", w, 0.05, 1), S.memory_fraction);
    EDGENAS_CONFIG_READ(config::get_int(*se, "min_memory_mb", w, 64, limits::kMaxMemoryMb),
                        S.min_memory_mb);
    n.reset();
    EDGENAS_CONFIG_READ(config::get_int(*se, "max_cpus", w, 0, 4096), n);
    if (n) S.max_cpus = static_cast<int>(*n);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*se, "every", w), S.every_ms);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*se, "hparams_timeout", w), S.hparams_timeout_ms);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*se, "stop_grace", w), S.stop_grace_ms);
    n.reset();
    EDGENAS_CONFIG_READ(config::get_int(*se, "keep_runs", w, 0, 100'000), n);
    if (n) S.keep_runs = static_cast<int>(*n);
  }
  if (const auto* tasks = t.get_as<toml::array>("task")) {
    int i = 0;
    for (const auto& node : *tasks) {
      const std::string w = path + ": [[task]] #" + std::to_string(++i);
      if (!node.is_table()) return Error{errc::kBadConfig, w + " must be a table"};
      // TOML → JSON → the same validating reader the wire uses.
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
  }
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
  if (cfg.probe_mode != "linux" && cfg.probe_mode != "simulated") {
    return Error{errc::kBadConfig,
                 "probes.mode must be \"linux\" or \"simulated\", not \"" + cfg.probe_mode + "\""};
  }
  if (cfg.probe_mode == "simulated" && cfg.profile_path.empty()) {
    return Error{errc::kBadConfig,
                 "probes.mode = \"simulated\" needs probes.profile (a device profile file)"};
  }
  if (cfg.npu_plugin != "none" && cfg.npu_plugin != "npu-smi") {
    return Error{errc::kBadConfig, "npu.plugin must be \"none\" or \"npu-smi\""};
  }
  if (cfg.power_max_w < cfg.power_idle_w)
    return Error{errc::kBadConfig, "probes.power_max_w must be >= power_idle_w"};
  if (cfg.sample_interval_ms < 100)
    return Error{errc::kBadConfig, "agent.sample_interval must be at least 100ms"};
  const auto& S = cfg.search;
  if (S.binary.empty() != S.data.empty())
    return Error{errc::kBadConfig,
                 "search.binary and search.data go together (set both, or neither)"};
  if (S.strategy != "random" && S.strategy != "evolution" && S.strategy != "sh")
    return Error{errc::kBadConfig, "search.strategy must be random, evolution or sh"};
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
  if (probe_mode == "simulated") {
    // The box is a profile, not this machine: its latencies come from the profile's model.
    s.model_cpu = true;
    if (s.profile.empty()) s.profile = profile_path;
  }
  return s;
}

}  // namespace edgenas::agent
