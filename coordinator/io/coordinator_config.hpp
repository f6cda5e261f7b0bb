#pragma once
// The coordinator's settings: defaults (the struct), the config file's [coordinator],
// [predictor] and [security] sections and the flags that override them, all from one list of
// settings (common/util/settings.hpp; the reference is docs/CONFIG.md).
#include <string>

#include "common/util/settings.hpp"
#include "coordinator/io/server.hpp"
#include "coordinator/predictor/service.hpp"

namespace edgenas::coordinator {

struct CoordinatorConfig {
  std::string config_path;
  ServerConfig server;
  std::string database = "/var/lib/edgenas/coordinator.db";
  int64_t heartbeat_interval_ms = limits::kDefaultHeartbeatIntervalMs;
  int dead_after_missed = limits::kDeadAfterMissedHeartbeats;
  std::string log_level = "info";
  std::string metrics_endpoint;  // HOST:PORT for /metrics and /healthz; empty: off
  bool console = true;           // the web console on metrics_endpoint
  int io_threads = 1;            // ZeroMQ's I/O threads (CURVE, TCP); connections spread over them
  predictor::PredictorConfig predictor;
  bool predictor_enabled = true;
  // [predictor] latency_retrain_after: the fleet's latency models retrain after this many new
  // traces carry measured latencies (0: only when asked); versions go to <predictor dir>/latency.
  int64_t latency_retrain_after = 20;
  std::string warm_start = "auto";  // [predictor] warm_start: auto | off | a directory
  // [security]
  bool curve = true;
  bool auto_accept = false;
  std::string key_dir;  // default: beside the database
};

const config::Settings<CoordinatorConfig>& coordinator_settings();

// Reads the file's settings into cfg (absent keys keep cfg's values); unknown sections or keys,
// wrong types and values out of range are errors naming the key.
Status load_coordinator_config(const std::string& path, CoordinatorConfig& cfg);
// What no single setting can check.
Status validate(const CoordinatorConfig& cfg);

}  // namespace edgenas::coordinator
