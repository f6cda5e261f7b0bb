#pragma once
// The agent's local API, behind `edgenas-agent status|task|trace|hparams|search|probe` and the
// local workloads that queue tasks: one method per operation over the agent's core, the way the
// coordinator's AdminService serves edgenasctl. Results are JSON values (docs/PROTOCOL.md,
// "Local operations"); the daemon carries them over its local socket.
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/agent_core.hpp"
#include "agent/core/search_runner.hpp"
#include "agent/core/task_queue.hpp"
#include "common/protocol/schema.hpp"

namespace edgenas::agent {

// What status and probe say about the box beyond the core: the coordinator's endpoint, where
// the power reading comes from, the simulated profile (if any), and its devices probed now.
struct BoxFacts {
  std::string coordinator;
  std::string power_source;
  std::string profile;
  std::function<std::vector<DeviceInfo>()> devices;
};

// A response now, or (hparams.request) a request whose reply the caller waits for, at most
// wait_ms.
struct LocalAnswer {
  proto::AdminResponse response;
  std::optional<std::string> wait_for;
  int64_t wait_ms = 0;
};

class LocalApi {
 public:
  // config_task_ids: the tasks the config file lists (they cannot be finished locally).
  LocalApi(const Clock& clock, AgentCore& core, TaskQueue& queue, TaskStore& tasks, Outbox& outbox,
           SearchRunner& search, BoxFacts box, std::set<std::string> config_task_ids);
  LocalAnswer handle(const proto::AdminRequest& req);

 private:
  Expected<nlohmann::json> status() const;
  Expected<nlohmann::json> task_submit(const nlohmann::json& args);
  Expected<nlohmann::json> task_done(const nlohmann::json& args);
  Expected<nlohmann::json> task_list() const;
  Expected<nlohmann::json> trace_submit(const nlohmann::json& args);
  LocalAnswer hparams_request(const nlohmann::json& args);
  Expected<nlohmann::json> search_start(const nlohmann::json& args);
  Expected<nlohmann::json> search_cancel();
  Expected<nlohmann::json> probe() const;

  const Clock& clock_;
  AgentCore& core_;
  TaskQueue& queue_;
  TaskStore& tasks_;
  Outbox& outbox_;
  SearchRunner& search_;
  BoxFacts box_;
  std::set<std::string> config_task_ids_;
  uint64_t trace_counter_ = 0;
};

}  // namespace edgenas::agent
