#pragma once
// The agent process: one thread polling the DEALER to the coordinator and the local ROUTER
// (ipc://) that local workloads and `edgenas-agent task …` talk to. Probes are sampled every
// sample_interval; the AgentCore decides what goes on the wire.
#include <atomic>
#include <memory>
#include <set>

#include <zmq.hpp>

#include "agent/core/agent_core.hpp"
#include "agent/core/local_api.hpp"
#include "agent/core/search_runner.hpp"
#include "agent/io/agent_config.hpp"
#include "agent/probes/sampler.hpp"
#include "agent/store/agent_store.hpp"
#include "common/protocol/admin_server.hpp"
#include "common/protocol/curve.hpp"
#include "common/util/http_status.hpp"
#include "common/util/process.hpp"

namespace edgenas::agent {

class AgentDaemon {
 public:
  // Opens the store, loads persisted and configured tasks, builds the sampler.
  static Expected<std::unique_ptr<AgentDaemon>> create(const AgentConfig& cfg, const Clock& clock);
  ~AgentDaemon();
  Status bind_local();
  void run(const std::atomic<bool>& stop);
  // Renders /metrics into `board` once a second from the loop (and so keeps /healthz green).
  void publish_status_to(http::StatusBoard* board) { board_ = board; }
  std::string render_metrics() const;

 private:
  AgentDaemon(const AgentConfig& cfg, const Clock& clock);
  void connect();
  void sample();
  void drain_coordinator();
  void drain_local();
  void answer_local(const std::vector<std::string>& route, const proto::AdminResponse& resp);
  void flush_outgoing();
  void handle_commands();
  void settle_waiting_requests();
  void update_search();

  AgentConfig cfg_;
  const Clock& clock_;
  std::unique_ptr<AgentStore> store_;
  std::unique_ptr<SourceSampler> sampler_;
  std::unique_ptr<TaskQueue> queue_;
  std::unique_ptr<AgentCore> core_;
  std::unique_ptr<ProcessLauncher> launcher_;
  std::unique_ptr<SearchRunner> search_;
  std::unique_ptr<LocalApi> local_api_;

  std::optional<proto::CurveClient> curve_;
  zmq::context_t ctx_{1};
  std::unique_ptr<zmq::socket_t> link_;
  class LinkMonitor;  // handshake events of link_ (a refused key is otherwise silent)
  std::unique_ptr<LinkMonitor> monitor_;
  void check_handshake();
  zmq::socket_t local_{ctx_, zmq::socket_type::router};
  int64_t next_sample_ms_ = 0;
  http::StatusBoard* board_ = nullptr;
  int64_t next_publish_ms_ = 0;
  uint64_t local_msg_id_ = 1;

  struct Waiting {
    std::vector<std::string> route;
    std::string request_id;
    int64_t deadline_ms;
  };
  std::vector<Waiting> waiting_;
};

// Builds the sampler the config asks for (real probes, or a simulated device profile).
Expected<std::unique_ptr<SourceSampler>> make_sampler(const AgentConfig& cfg, const Clock& clock);

}  // namespace edgenas::agent
