#pragma once
// The coordinator's sockets: a ROUTER for agents and a separate ROUTER for admin clients,
// served from one thread. Each round drains up to kMaxMessagesPerRound messages, lets the
// core handle them and sends the replies at once. Writes go to a CommitWorker thread with
// its own SQLite connection, one batch at a time: while it commits (fsync), the io thread
// keeps serving and collects the next batch (group commit). Acks leave when a batch is on
// disk.
#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/protocol/admin_server.hpp"
#include "common/protocol/curve.hpp"
#include "common/util/prometheus.hpp"

#include "coordinator/core/admin.hpp"
#include "coordinator/core/console_api.hpp"
#include "coordinator/core/coordinator_core.hpp"
#include "coordinator/io/console_bridge.hpp"
#include "coordinator/io/io_profile.hpp"
#include "coordinator/io/trace_reader.hpp"
#include "coordinator/io/zap.hpp"

namespace edgenas::coordinator {

struct ServerConfig {
  std::string agent_endpoint = "tcp://*:7700";
  std::string admin_endpoint = "tcp://127.0.0.1:7701";
  // CURVE on both ports (the ZAP handler decides who may connect); unset: plaintext.
  std::optional<proto::CurveKeyPair> curve;
  // How long a port that is still taken (e.g. just after a restart) is retried before giving up.
  int64_t bind_retry_ms = 5000;
  // An io-thread round at least this long is logged with its phases (IoProfile).
  int64_t slow_round_ms = 20;
  // Admin public keys → names for the record (who minted a console token): admin_keys/NAME.pub
  // is NAME; a key not named here is "admin:" and its first 8 characters.
  std::map<std::string, std::string> admin_names;
};

class CommitWorker {
 public:
  // Owns `store` (a connection of its own) and a thread; announces each finished batch with a
  // message on the PAIR socket returned by done_socket(), which the io thread polls.
  CommitWorker(zmq::context_t& ctx, std::unique_ptr<TraceStore> store);
  ~CommitWorker();
  bool busy() const { return busy_; }
  void submit(CommitBatch batch);  // only when !busy()
  zmq::socket_t& done_socket() { return done_rx_; }
  // After done_socket() signalled: the batch and how its commit went.
  std::pair<CommitBatch, Status> take_result();

 private:
  void loop();
  std::unique_ptr<TraceStore> store_;
  zmq::socket_t done_rx_, done_tx_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<CommitBatch> todo_;
  std::optional<std::pair<CommitBatch, Status>> result_;
  bool busy_ = false, stopping_ = false;
  std::thread thread_;
};

class Server {
 public:
  static constexpr int64_t kSweepStepMs = 10;  // how often the core's tick() runs
  // writer: a second connection to the store for the commit thread (null: commit inline).
  // zap: the authentication handler, bound before the server sockets (needed with CURVE).
  // profile: where the io thread's rounds are timed (shared with a TimedHparamService).
  Server(zmq::context_t& ctx, CoordinatorCore& core, AdminService& admin, ServerConfig cfg,
         IoProfile& profile, std::unique_ptr<TraceStore> writer = nullptr,
         ZapServer* zap = nullptr);
  Status bind();
  // Called every quarter heartbeat interval on the io thread (the predictor service's
  // retraining triggers and training child, the /metrics page).
  void on_tick(std::function<void()> f) { on_tick_ = std::move(f); }
  // The web console: requests the HTTP thread queued on `bridge` are answered by `api`.
  void serve_console(ConsoleBridge& bridge, ConsoleApi& api) {
    console_bridge_ = &bridge;
    console_api_ = &api;
  }
  // Trace pages are read on a thread with this connection of its own (TraceReader) instead of
  // on the io thread; call before run().
  void read_traces_with(std::unique_ptr<TraceStore> reader);
  // Serves until stop is set; then commits what is pending and returns.
  void run(const std::atomic<bool>& stop);
  // This thread's own families: request service time and commit time histograms.
  void write_metrics(prom::Text& t) const;

 private:
  void drain_agents(std::vector<Outgoing>& out);
  void drain_admin(std::vector<Outgoing>& agent_out);
  void drain_console(std::vector<Outgoing>& agent_out);
  void send_admin_reply(const std::vector<std::string>& route, const proto::AdminResponse& resp);
  std::string admin_name(const std::string& public_key) const;
  void send_all(std::vector<Outgoing>& out);
  void commit_round(std::vector<Outgoing>& out);
  void finish_commit(std::vector<Outgoing>& out);
  std::string commit_state() const;  // for the slow-round log line

  zmq::context_t& ctx_;
  CoordinatorCore& core_;
  AdminService& admin_;
  ServerConfig cfg_;
  // Read → immediate reply sent, per agent message (Acks wait for a commit: commit_seconds_).
  // By kind of message: request_kind() indexes kRequestKinds.
  static constexpr std::array<std::string_view, 4> kRequestKinds = {"hparam_request", "heartbeat",
                                                                    "register", "other"};
  static std::size_t request_kind(std::optional<proto::MsgType> type);
  std::array<prom::Histogram, 4> request_seconds_{
      prom::Histogram(prom::latency_buckets()), prom::Histogram(prom::latency_buckets()),
      prom::Histogram(prom::latency_buckets()), prom::Histogram(prom::latency_buckets())};
  prom::Histogram commit_seconds_{prom::latency_buckets()};
  prom::Histogram console_seconds_{prom::latency_buckets()};
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::size_t>> round_reads_;
  std::chrono::steady_clock::time_point commit_started_{};
  std::array<std::size_t, 3> commit_sizes_{};  // traces, replies, agents of the batch in flight
  IoProfile& profile_;
  zmq::socket_t agents_;
  zmq::socket_t admin_sock_;
  uint64_t admin_msg_id_ = 1;
  std::unique_ptr<CommitWorker> worker_;
  std::unique_ptr<TraceReader> reader_;
  ZapServer* zap_;
  std::function<void()> on_tick_;
  ConsoleBridge* console_bridge_ = nullptr;
  ConsoleApi* console_api_ = nullptr;
};

// Sets the options every socket that reads untrusted bytes gets (size cap, no linger).
void harden_socket(zmq::socket_t& s);

}  // namespace edgenas::coordinator
