#pragma once
// The agent's link to the coordinator as a pure state machine: bytes in, bytes out, time from
// an injected Clock. The io layer owns the socket; this class decides what to send and when.
//
//   disconnected --on_connected()--> registering --Welcome--> registered
//        ^                               |   ^                    |
//        |      no Welcome: resend with  |   |  Error not_registered (coordinator restarted):
//        |      backoff                  |   +------ send Reregister with our state ----+
//        +---- nothing heard for dead_after_missed heartbeat intervals: link lost -------+
//
// After a link loss the io layer drops the socket and reconnects after reconnect_delay.
// The first registration of a process sends Register; every later one sends Reregister.
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agent/core/outbox.hpp"
#include "agent/core/search_link.hpp"
#include "agent/core/task_queue.hpp"
#include "common/protocol/codec.hpp"
#include "common/util/clock.hpp"

namespace edgenas::agent {

enum class LinkState { disconnected, registering, registered };
std::string_view to_string(LinkState s);

struct AgentStats {
  int64_t messages_in = 0;
  int64_t messages_out = 0;
  int64_t bad_messages_in = 0;
  int64_t errors_from_coordinator = 0;
  int64_t link_losses = 0;
  int64_t registrations = 0;  // Welcomes received
  int64_t traces_sent = 0;    // including resends
  int64_t traces_acked = 0;
  int64_t traces_rejected = 0;   // refused by the coordinator as invalid; removed, logged
  int64_t traces_too_large = 0;  // over the link's message limit: replaced by a failed trace
  int64_t hparam_replies = 0;
  int64_t commands = 0;
};

class AgentCore final : public SearchLink {
 public:
  AgentCore(const Clock& clock, Outbox& outbox, TaskQueue& queue, std::string agent_id,
            proto::Register registration, uint64_t rng_seed);

  // --- transport events ---
  void on_connected();  // a new socket is connected (or connecting): start registering
  void on_message(std::string_view bytes);
  void tick();  // timers: heartbeats, resends, liveness; call every ~100 ms
  // True once the link is declared lost; the io layer drops its socket, waits until
  // reconnect_at_ms() and calls on_connected().
  bool link_lost() const { return link_lost_; }
  // The coordinator refused our CURVE key at the handshake (pending enrolment, rejected or
  // revoked): the link is lost; retries back off up to the maximum.
  void on_key_refused(const std::string& detail);
  int64_t reconnect_at_ms() const { return reconnect_at_ms_; }

  // --- local events ---
  void set_source(const SourceMatrix& source) { source_ = source; }
  void set_activity(std::string activity) { activity_ = std::move(activity); }
  void set_search_progress(std::optional<proto::SearchProgress> p) { search_ = std::move(p); }
  void set_search_stats(int64_t searches_run, int last_predictor_version) {
    searches_run_ = searches_run;
    last_predictor_version_ = last_predictor_version;
  }
  void queue_changed();  // reports the Job matrix when registered
  // --- SearchLink ---
  Context context() const override;  // the queue's Job matrix and the last Source sample
  Status submit_trace(const Trace& trace) override;
  std::string request_hparams(const Context& context, int latency_version) override;
  std::optional<proto::HparamReply> take_hparam_reply(const std::string& request_id) override;
  void cancel_hparam_request(const std::string& request_id) override;
  std::vector<proto::Command> take_commands();

  std::vector<std::string> take_outgoing();

  LinkState state() const { return state_; }
  const AgentStats& stats() const { return stats_; }
  const std::string& agent_id() const { return agent_id_; }
  const std::string& coordinator_epoch() const { return epoch_; }
  int64_t heartbeat_interval_ms() const { return heartbeat_interval_ms_; }
  const SourceMatrix& source() const { return source_; }
  const proto::Register& registration() const { return registration_; }
  std::size_t pending_hparam_requests() const { return requests_.size(); }

 private:
  template <class T>
  void send(const T& body, uint64_t* msg_id = nullptr);
  void send_registration();
  void send_heartbeat();
  void send_queue_report();
  void pump_outbox(bool resend_all);
  // The bytes a trace takes on the link, and the trace that fits the coordinator's limit: itself
  // or a failed trace saying it did not fit.
  std::size_t encoded_size(const Trace& trace) const;
  Trace fitted(const Trace& trace);
  void pump_requests(bool resend_all);
  void lose_link(const char* why);
  int64_t backoff_ms(int attempt);
  void handle_error(const proto::ErrorMsg& e);

  const Clock& clock_;
  Outbox& outbox_;
  TaskQueue& queue_;
  std::string agent_id_;
  proto::Register registration_;
  std::mt19937_64 rng_;

  LinkState state_ = LinkState::disconnected;
  bool welcomed_once_ = false;
  bool link_lost_ = false;
  std::string last_refusal_;  // the last key refusal logged as an error
  int64_t reconnect_at_ms_ = 0;
  int reconnect_attempts_ = 0;
  int register_attempts_ = 0;
  int64_t next_register_ms_ = 0;
  int64_t last_heard_ms_ = 0;
  int64_t next_heartbeat_ms_ = 0;
  int64_t next_outbox_pump_ms_ = 0;
  uint64_t heartbeat_seq_ = 0;
  uint64_t reported_queue_revision_ = 0;
  uint64_t next_msg_id_ = 1;
  uint64_t next_request_ = 1;
  int64_t started_ms_ = 0;

  // From Welcome (defaults until then).
  std::string epoch_;
  int64_t heartbeat_interval_ms_ = limits::kDefaultHeartbeatIntervalMs;
  int dead_after_missed_ = limits::kDeadAfterMissedHeartbeats;
  int64_t trace_resend_ms_ = limits::kTraceResendAfterMs;
  int64_t max_message_bytes_ = limits::kMaxMessageBytes;  // the coordinator's, from its Welcome

  SourceMatrix source_;
  std::string activity_ = "idle";
  std::optional<proto::SearchProgress> search_;
  int64_t searches_run_ = 0;
  int last_predictor_version_ = 0;

  struct InFlight {
    uint64_t msg_id = 0;
    int64_t sent_ms = 0;
  };
  std::map<std::string, InFlight> in_flight_;  // trace_id → last send

  struct PendingRequest {
    proto::HparamRequest request;
    uint64_t msg_id = 0;
    int64_t sent_ms = -1;  // -1: not sent yet
  };
  std::map<std::string, PendingRequest> requests_;
  std::map<std::string, proto::HparamReply> replies_;
  std::vector<proto::Command> commands_;
  std::vector<std::string> outgoing_;
  AgentStats stats_;
};

}  // namespace edgenas::agent
