#pragma once
// `edgenas-sim run`: a real edgenas-coordinator process and N simulated agents speaking the
// real protocol over real ZeroMQ sockets (one DEALER each; agents share worker processes, one
// thread each, waiting on the sockets with epoll, like the load generator). Each simulated
// agent is the agent's own pure core (AgentCore: registration, heartbeats, queue reports,
// hparam requests, the outbox, resends) fed by a SimBox (its device profile's simulated probes,
// the scenario's task queue) and an in-memory outbox; its NAS runs are simulated with the
// surrogate and take their simulated time (scaled by the scenario's time_scale). With
// --real-search K, K more agents are real edgenas-agent processes (simulated probes of a mixed
// profile) that run real edgenas-search on generated meter images.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas::sim {

struct FleetOptions {
  int agents = 50;
  std::vector<std::pair<std::string, double>> mix;  // profile → share (sums to 1)
  std::string profiles_dir, scenario_path, table_path, out_dir;
  int64_t duration_ms = 60'000;
  int real_search = 0;
  std::string coordinator_bin;  // default: found beside edgenas-sim (build tree or installed)
  std::vector<std::string> coordinator_args;  // more flags for it (e.g. --retrain-after 200)
  uint64_t seed = 1;
  int procs = 0;  // 0: one per 2,500 agents
  // The share of boxes that can measure their accelerators (the vendor's runtime installed);
  // the others predict them with the fleet's latency models or model them (fleet_latency.hpp).
  double measure_share = 0.25;
};

// "atlas200dk=40%,rpi4=60%" (or fractions); shares must be positive and add up to 100 %.
Expected<std::vector<std::pair<std::string, double>>> parse_mix(const std::string& text);

Expected<nlohmann::json> run_fleet(const FleetOptions& o,
                                   const std::function<void(const std::string&)>& progress);

}  // namespace edgenas::sim
