#pragma once
// The agent's settings: TOML file (sections [agent], [probes], [npu], [[task]]) overridden by
// flags. Every key is documented in deploy/config/agent.toml.
#include <string>
#include <vector>

#include "agent/core/outbox.hpp"
#include "agent/core/search_runner.hpp"
#include "common/model/model.hpp"
#include "common/util/settings.hpp"

namespace edgenas::agent {

struct AgentConfig {
  std::string agent_id;  // default: the hostname
  std::string coordinator = "tcp://127.0.0.1:7700";
  std::string state_dir = "/var/lib/edgenas/agent";
  std::string local_endpoint;  // default: ipc://<state_dir>/agent.sock
  std::string log_level = "info";
  int64_t sample_interval_ms = 5'000;
  std::size_t outbox_max_traces = limits::kDefaultOutboxMaxTraces;
  // CURVE: the coordinator's public key (40 characters, or a file holding it), this agent's
  // key pair (created on first start), or plaintext when insecure.
  std::string coordinator_key;
  std::string key_file;  // default: <state_dir>/agent.key
  bool insecure = false;
  std::string metrics_endpoint;  // HOST:PORT for /metrics and /healthz; empty: off
  int64_t bind_retry_ms = 5000;  // how long a taken TCP port is retried at start
  OutboxFullPolicy outbox_full_policy = OutboxFullPolicy::drop_oldest;

  // probes
  std::string probe_mode = "linux";  // "linux" or "simulated"
  std::string profile_path;          // device profile, when simulated
  bool use_rapl = true;
  double power_idle_w = 5, power_max_w = 30;  // the power model, when RAPL is unavailable
  std::string npu_plugin = "none";            // "none" or "npu-smi"
  std::string npu_command = "npu-smi info";
  int npu_cores_per_chip = 2;

  std::vector<JobTask> tasks;  // [[task]] entries: always in the queue

  // [search]: the NAS runs this box makes (binary and data empty: none). runs_dir defaults to
  // <state_dir>/searches; a simulated box models its CPU latency from its profile.
  SearchSettings search;
  SearchSettings search_settings() const;

  std::string local() const {
    return local_endpoint.empty() ? "ipc://" + state_dir + "/agent.sock" : local_endpoint;
  }
  std::string database() const { return state_dir + "/agent.db"; }
  std::string key_path() const { return key_file.empty() ? state_dir + "/agent.key" : key_file; }
};

// Every setting of the config file ([agent], [probes], [npu], [search]; [[task]] is read on its
// own), the `run` flags that override them, and the reference (docs/CONFIG.md).
const config::Settings<AgentConfig>& agent_settings();
// Reads a config file into cfg (keys absent from the file keep cfg's values).
Status load_agent_config(const std::string& path, AgentConfig& cfg);
Status validate(const AgentConfig& cfg);

}  // namespace edgenas::agent
