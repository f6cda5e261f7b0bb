#pragma once
// The coordinator's message handling, free of sockets: bytes and a routing id in, replies out.
// The io layer drains a round of messages into on_message() and sends what it produced at
// once; then it calls flush(), which commits the round's traces (and hparam replies and
// registry changes) in one transaction and only then produces the Acks: an Ack always means
// "on disk", and nothing but an Ack waits for the disk.
#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/protocol/codec.hpp"
#include "common/util/clock.hpp"
#include "coordinator/core/hparam_service.hpp"
#include "coordinator/core/registry.hpp"
#include "coordinator/store/trace_store.hpp"

namespace edgenas::coordinator {

struct Outgoing {
  std::string routing_id;
  std::string bytes;
};

struct CoreConfig {
  int64_t heartbeat_interval_ms = limits::kDefaultHeartbeatIntervalMs;
  int dead_after_missed = limits::kDeadAfterMissedHeartbeats;
  int64_t trace_resend_ms = limits::kTraceResendAfterMs;
  std::string epoch;  // unique per coordinator start
};

struct Metrics {
  std::array<int64_t, 16> messages_in{};  // by MsgType
  std::map<std::string, int64_t> errors;  // by error code
  int64_t traces_committed = 0;           // acked traces (duplicates included)
  int64_t batches_committed = 0;
  int64_t commit_failures = 0;
  int64_t hparam_replies = 0;
  std::map<std::pair<int, std::string>, int64_t> hparam_replies_by;  // (version, policy)
  int64_t agents_died = 0;
  int64_t commands_sent = 0;
  int64_t repeated_registrations = 0;    // answered, not counted as registrations
  int64_t repeated_hparam_requests = 0;  // a request_id answered before: the same reply again
  int64_t latency_models_sent = 0;       // replies that carried newer latency models
};

// Everything one group commit writes, and whom to ack afterwards.
struct CommitBatch {
  std::vector<TraceRecord> traces;
  std::vector<std::string> trace_routes;  // routing id per trace, for its Ack
  std::vector<ReplyRecord> replies;
  std::vector<StoredAgent> agents;
  bool empty() const { return traces.empty() && replies.empty() && agents.empty(); }
};

class CoordinatorCore {
 public:
  CoordinatorCore(const Clock& clock, TraceStore& store, HparamService& hparams, CoreConfig cfg);

  // Loads known agents from the store (as offline until they reregister).
  Status start();
  // peer_key: the sender's CURVE public key (Z85) when the link is encrypted, else "".
  // Never throws: a fault while handling one message is an `internal` error for that message.
  // Returns the message's type (nullopt: it did not decode).
  std::optional<proto::MsgType> on_message(const std::string& routing_id, std::string_view bytes,
                                           std::vector<Outgoing>& out,
                                           const std::string& peer_key = "");
  // Refuses what the io layer could not hand over as one message (e.g. several frames).
  void refuse(const std::string& routing_id, std::string_view code, const std::string& message,
              std::vector<Outgoing>& out) {
    reply_error(routing_id, "", code, message, 0, out);
  }
  // Checks every message's key against the agent id it claims (KeyRegistry::authorize_sender).
  void set_authorizer(std::function<Status(const std::string&, const std::string&)> f) {
    authorize_ = std::move(f);
  }
  // The fleet's latency models: a reply carries them when they are newer than the agent's.
  void set_latency_models(const LatencyControl* latency) { latency_ = latency; }
  // Group commit in two halves, so the io layer can run the write on another thread:
  // take_batch() hands over everything pending; committed() turns the result into Acks (on
  // failure nothing is acked, registry rows are marked dirty again, agents resend traces).
  CommitBatch take_batch();
  void committed(const CommitBatch& batch, const Status& result, std::vector<Outgoing>& out);
  bool has_pending_writes() const { return has_pending() || registry_.has_dirty(); }
  // Both halves at once on this thread, against store().
  Status flush(std::vector<Outgoing>& out);
  // Liveness sweep and the periodic write-back of heartbeat state, spread over the calls: each
  // visits the share of the agents that the time since the last call is of the sweep period
  // (a quarter heartbeat interval). Call often (the io thread does every ~10 ms).
  void tick();
  int64_t sweep_period_ms() const { return std::max<int64_t>(50, cfg_.heartbeat_interval_ms / 4); }
  bool has_pending() const { return !pending_traces_.empty() || !pending_replies_.empty(); }

  // Sends a Command to a connected agent.
  Status send_command(const std::string& agent_id, const proto::Command& cmd,
                      std::vector<Outgoing>& out);
  // Answers an hparam question without recording it (edgenasctl hparams ask).
  proto::HparamReply ask(const proto::HparamRequest& req) {
    return hparams_.choose("edgenasctl", req);
  }

  std::string hparam_policy() const { return hparams_.describe(); }
  const Registry& registry() const { return registry_; }
  const Metrics& metrics() const { return metrics_; }
  const CoreConfig& config() const { return cfg_; }
  TraceStore& store() { return store_; }
  int64_t started_ms() const { return started_wall_ms_; }
  const Clock& clock() const { return clock_; }

 private:
  template <class T>
  std::string encode_to(const std::string& agent_id, const T& body);
  void reply_error(const std::string& routing_id, const std::string& agent_id,
                   std::string_view code, const std::string& message, uint64_t ref,
                   std::vector<Outgoing>& out);
  void dispatch(const std::string& routing_id, const proto::Envelope& env,
                std::vector<Outgoing>& out, const std::string& peer_key);
  proto::Welcome welcome(bool restored) const;
  std::size_t sweep_visits(int64_t now);

  const Clock& clock_;
  TraceStore& store_;
  HparamService& hparams_;
  CoreConfig cfg_;
  Registry registry_;
  Metrics metrics_;
  uint64_t next_msg_id_ = 1;
  int64_t started_wall_ms_ = 0;
  int64_t next_registry_flush_ms_ = 0;
  int64_t last_sweep_ms_ = 0;

  struct PendingTrace {
    TraceRecord record;
    std::string routing_id;
  };
  std::vector<PendingTrace> pending_traces_;
  std::vector<ReplyRecord> pending_replies_;
  // Replies by (agent id, request id) for a few minutes: a resent request gets the same answer
  // and is recorded once.
  std::unordered_map<std::string, proto::HparamReply> recent_replies_;
  std::deque<std::pair<int64_t, std::string>> recent_order_;  // (when, key), oldest first
  const proto::HparamReply* recent_reply(const std::string& key);
  void remember_reply(const std::string& key, const proto::HparamReply& reply);
  // The reply as sent: with the latency models when the agent holds an older version.
  std::string encode_reply(const std::string& agent_id, const proto::HparamReply& reply,
                           int agent_latency_version);
  const LatencyControl* latency_ = nullptr;
  std::function<Status(const std::string&, const std::string&)> authorize_;
};

}  // namespace edgenas::coordinator
