#include "agent/core/agent_core.hpp"

#include <algorithm>

#include "common/util/log.hpp"

namespace edgenas::agent {
namespace {
// Traces sent per pump and unacked at once; the rest wait for Acks (bounded bursts).
constexpr std::size_t kOutboxWindow = 64;
constexpr int64_t kOutboxPumpEveryMs = 1000;
constexpr int64_t kRegisterRetryMinMs = 1000;
}  // namespace

std::string_view to_string(LinkState s) {
  switch (s) {
    case LinkState::disconnected:
      return "disconnected";
    case LinkState::registering:
      return "registering";
    case LinkState::registered:
      return "registered";
  }
  return "?";
}

AgentCore::AgentCore(const Clock& clock, Outbox& outbox, TaskQueue& queue, std::string agent_id,
                     proto::Register registration, uint64_t rng_seed)
    : clock_(clock),
      outbox_(outbox),
      queue_(queue),
      agent_id_(std::move(agent_id)),
      registration_(std::move(registration)),
      rng_(rng_seed),
      started_ms_(clock.now_ms()) {}

template <class T>
void AgentCore::send(const T& body, uint64_t* msg_id) {
  proto::Header h;
  h.msg_id = next_msg_id_++;
  h.agent_id = agent_id_;
  h.ts_ms = clock_.wall_ms();
  if (msg_id) *msg_id = h.msg_id;
  outgoing_.push_back(proto::encode(h, body));
  stats_.messages_out++;
}

std::vector<std::string> AgentCore::take_outgoing() {
  std::vector<std::string> out;
  out.swap(outgoing_);
  return out;
}

int64_t AgentCore::backoff_ms(int attempt) {
  int64_t base = limits::kReconnectBackoffMinMs << std::min(attempt, 16);
  base = std::min(base, limits::kReconnectBackoffMaxMs);
  std::uniform_int_distribution<int64_t> jitter(0, base / 5);
  return base + jitter(rng_);
}

void AgentCore::on_connected() {
  link_lost_ = false;
  state_ = LinkState::registering;
  register_attempts_ = 0;
  last_heard_ms_ = clock_.now_ms();
  send_registration();
}

void AgentCore::send_registration() {
  if (welcomed_once_) {
    proto::Reregister rr;
    rr.registration = registration_;
    rr.state.queue = queue_.matrix();
    rr.state.source = source_;
    rr.state.outbox_depth = outbox_.depth();
    rr.state.searches_run = searches_run_;
    rr.state.last_predictor_version = last_predictor_version_;
    rr.state.uptime_s = (clock_.now_ms() - started_ms_) / 1000;
    send(rr);
  } else {
    send(registration_);
  }
  next_register_ms_ =
      clock_.now_ms() + std::max(kRegisterRetryMinMs, backoff_ms(register_attempts_));
  register_attempts_++;
}

void AgentCore::on_key_refused(const std::string& detail) {
  // Said once as an error; the retries that follow (every 15 s at full backoff) at debug.
  if (detail != last_refusal_) {
    log::error(
        "the coordinator refuses this agent's key; an admin must accept it "
        "(edgenasctl keys list; edgenasctl keys accept KEY)",
        {{"detail", detail}});
    last_refusal_ = detail;
  } else {
    log::debug("key still refused", {{"detail", detail}});
  }
  if (state_ != LinkState::disconnected) lose_link("key refused");
}

void AgentCore::lose_link(const char* why) {
  log::warn("link to coordinator lost; reconnecting",
            {{"why", why}, {"attempt", reconnect_attempts_ + 1}});
  state_ = LinkState::disconnected;
  link_lost_ = true;
  stats_.link_losses++;
  reconnect_at_ms_ = clock_.now_ms() + backoff_ms(reconnect_attempts_);
  reconnect_attempts_++;
  outgoing_.clear();  // the socket goes away with whatever it had not sent
  in_flight_.clear();
  for (auto& [id, r] : requests_) r.sent_ms = -1;
}

void AgentCore::on_message(std::string_view bytes) {
  auto decoded = proto::decode_envelope(bytes);
  if (auto* bad = std::get_if<proto::EnvelopeError>(&decoded)) {
    stats_.bad_messages_in++;
    log::warn("bad message from coordinator",
              {{"code", bad->error.code}, {"error", bad->error.message}});
    return;
  }
  const auto& env = std::get<proto::Envelope>(decoded);
  stats_.messages_in++;
  last_heard_ms_ = clock_.now_ms();
  using proto::MsgType;
  switch (env.header.type) {
    case MsgType::welcome: {
      auto w = proto::decode_body<proto::Welcome>(env);
      if (!w) {
        stats_.bad_messages_in++;
        log::warn("bad welcome", {{"error", w.error().message}});
        return;
      }
      if (state_ == LinkState::registered && w->coordinator_epoch == epoch_) return;  // duplicate
      const bool restart = !epoch_.empty() && epoch_ != w->coordinator_epoch;
      epoch_ = w->coordinator_epoch;
      heartbeat_interval_ms_ = w->heartbeat_interval_ms;
      dead_after_missed_ = w->dead_after_missed;
      trace_resend_ms_ = w->trace_resend_ms;
      max_message_bytes_ = w->max_message_bytes;
      state_ = LinkState::registered;
      welcomed_once_ = true;
      reconnect_attempts_ = 0;
      stats_.registrations++;
      last_refusal_.clear();
      log::info("registered with coordinator", {{"epoch", epoch_},
                                                {"coordinator_restarted", restart},
                                                {"heartbeat_interval_ms", heartbeat_interval_ms_},
                                                {"outbox_depth", outbox_.depth()}});
      next_heartbeat_ms_ = clock_.now_ms();  // first heartbeat at once: it carries the Source
      reported_queue_revision_ = 0;
      send_queue_report();
      pump_outbox(true);
      pump_requests(true);
      return;
    }
    case MsgType::heartbeat_ack:
      return;  // liveness was refreshed above
    case MsgType::ack: {
      auto ack = proto::decode_body<proto::Ack>(env);
      if (!ack) {
        stats_.bad_messages_in++;
        return;
      }
      if (auto s = outbox_.ack(ack->trace_ids); !s) {
        log::error("cannot mark traces acked", {{"error", s.error().message}});
        return;
      }
      for (const auto& id : ack->trace_ids) {
        if (in_flight_.erase(id)) stats_.traces_acked++;
      }
      pump_outbox(false);
      return;
    }
    case MsgType::hparam_reply: {
      auto r = proto::decode_body<proto::HparamReply>(env);
      if (!r) {
        stats_.bad_messages_in++;
        log::warn("bad hparam reply", {{"error", r.error().message}});
        return;
      }
      if (requests_.erase(r->request_id)) {
        stats_.hparam_replies++;
        replies_[r->request_id] = std::move(*r);
      }
      return;
    }
    case MsgType::command: {
      auto c = proto::decode_body<proto::Command>(env);
      if (!c) {
        stats_.bad_messages_in++;
        log::warn("bad command", {{"error", c.error().message}});
        return;
      }
      stats_.commands++;
      commands_.push_back(std::move(*c));
      return;
    }
    case MsgType::error: {
      auto e = proto::decode_body<proto::ErrorMsg>(env);
      if (!e) {
        stats_.bad_messages_in++;
        return;
      }
      handle_error(*e);
      return;
    }
    default:
      stats_.bad_messages_in++;
      log::warn("unexpected message type from coordinator",
                {{"type", std::string(proto::to_string(env.header.type))}});
  }
}

void AgentCore::handle_error(const proto::ErrorMsg& e) {
  stats_.errors_from_coordinator++;
  if (e.code == proto::err::kNotRegistered) {
    if (state_ != LinkState::registering) {
      log::info("coordinator does not know us (restarted?); reregistering", {{"epoch", epoch_}});
      state_ = LinkState::registering;
      register_attempts_ = 0;
      send_registration();
    }
    return;
  }
  if (e.code == proto::err::kRevoked || e.code == proto::err::kForbidden) {
    on_key_refused(e.code + ": " + e.message);
    return;
  }
  // A trace the coordinator refuses as invalid would be refused forever: drop it, loudly.
  for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
    if (it->second.msg_id == e.ref_msg_id && e.ref_msg_id != 0 &&
        (e.code == proto::err::kBadField || e.code == proto::err::kInvalid)) {
      log::error("coordinator rejected a trace; removing it from the outbox",
                 {{"trace_id", it->first}, {"code", e.code}, {"error", e.message}});
      (void)outbox_.ack({it->first});
      stats_.traces_rejected++;
      in_flight_.erase(it);
      return;
    }
  }
  log::warn("coordinator reported an error",
            {{"code", e.code}, {"error", e.message}, {"ref", e.ref_msg_id}});
}

void AgentCore::tick() {
  const int64_t now = clock_.now_ms();
  if (state_ == LinkState::disconnected) return;
  if (now - last_heard_ms_ > heartbeat_interval_ms_ * dead_after_missed_) {
    lose_link("no message from the coordinator within the liveness window");
    return;
  }
  if (state_ == LinkState::registering) {
    if (now >= next_register_ms_) send_registration();
    return;
  }
  if (now >= next_heartbeat_ms_) {
    send_heartbeat();
    next_heartbeat_ms_ = now + heartbeat_interval_ms_;
  }
  if (queue_.revision() != reported_queue_revision_) send_queue_report();
  if (now >= next_outbox_pump_ms_) pump_outbox(false);
  pump_requests(false);
}

void AgentCore::send_heartbeat() {
  proto::Heartbeat hb;
  hb.seq = ++heartbeat_seq_;
  hb.source = source_;
  hb.queued_tasks = static_cast<int>(queue_.size());
  hb.outbox_depth = outbox_.depth();
  hb.activity = activity_;
  hb.search = search_;
  send(hb);
}

void AgentCore::send_queue_report() {
  proto::QueueReport qr;
  qr.revision = queue_.revision();
  qr.job = queue_.matrix();
  send(qr);
  reported_queue_revision_ = qr.revision;
}

void AgentCore::queue_changed() {
  if (state_ == LinkState::registered) send_queue_report();
}

std::size_t AgentCore::encoded_size(const Trace& trace) const {
  proto::Header h;
  h.msg_id = next_msg_id_;
  h.agent_id = agent_id_;
  h.ts_ms = clock_.wall_ms();
  return proto::encode(h, trace).size();
}

Trace AgentCore::fitted(const Trace& trace) {
  const std::size_t bytes = encoded_size(trace);
  if (static_cast<int64_t>(bytes) <= max_message_bytes_) return trace;
  // Resending it would never get through: it leaves as the failed trace that says why (same
  // id, so it takes the original's place), with as much of its context as fits.
  Trace t;
  t.trace_id = trace.trace_id;
  t.created_ms = trace.created_ms;
  t.context = trace.context;
  t.hparams = trace.hparams;
  t.policy = trace.policy;
  t.predictor_version = trace.predictor_version;
  t.explore = trace.explore;
  t.outcome.status = TraceStatus::failed;
  t.outcome.device = trace.outcome.device;
  t.outcome.error = "the trace was " + std::to_string(bytes) +
                    " bytes, over the coordinator's limit of " +
                    std::to_string(max_message_bytes_) + "; its outcome is dropped";
  if (static_cast<int64_t>(encoded_size(t)) > max_message_bytes_) t.context.job.tasks.clear();
  stats_.traces_too_large++;
  log::warn("trace too large for the link; sending a failed trace in its place",
            {{"trace", trace.trace_id}, {"bytes", bytes}, {"limit", max_message_bytes_}});
  return t;
}

Context AgentCore::context() const {
  Context c;
  c.job = queue_.matrix();
  c.source = source_;
  return c;
}

Status AgentCore::submit_trace(const Trace& trace) {
  if (auto s = trace.validate(); !s) return s;
  if (auto s = outbox_.add(fitted(trace)); !s) return s;
  if (state_ == LinkState::registered) pump_outbox(false);
  return ok_status();
}

void AgentCore::pump_outbox(bool resend_all) {
  const int64_t now = clock_.now_ms();
  next_outbox_pump_ms_ = now + kOutboxPumpEveryMs;
  if (state_ != LinkState::registered) return;
  if (resend_all) in_flight_.clear();
  if (outbox_.depth() == 0) return;
  auto pending = outbox_.pending(kOutboxWindow);
  if (!pending) {
    log::error("cannot read the outbox", {{"error", pending.error().message}});
    return;
  }
  for (const auto& queued : *pending) {
    auto it = in_flight_.find(queued.trace_id);
    if (it != in_flight_.end() && now - it->second.sent_ms < trace_resend_ms_) continue;
    // Queued before this coordinator's limit was known (or by an older agent).
    const Trace t = fitted(queued);
    if (t.outcome.status != queued.outcome.status) {
      (void)outbox_.ack({queued.trace_id});
      if (auto s = outbox_.add(t); !s) {
        log::error("cannot replace a trace in the outbox", {{"error", s.error().message}});
        continue;
      }
    }
    uint64_t id = 0;
    send(t, &id);
    in_flight_[t.trace_id] = {id, now};
    stats_.traces_sent++;
  }
}

std::string AgentCore::request_hparams(const Context& context, int latency_version) {
  PendingRequest p;
  p.request.latency_version = latency_version;
  p.request.request_id =
      agent_id_ + "-" + std::to_string(clock_.wall_ms()) + "-" + std::to_string(next_request_++);
  p.request.context = context;
  std::string id = p.request.request_id;
  requests_[id] = std::move(p);
  pump_requests(false);
  return id;
}

void AgentCore::pump_requests(bool resend_all) {
  if (state_ != LinkState::registered) return;
  const int64_t now = clock_.now_ms();
  for (auto& [id, p] : requests_) {
    if (resend_all || p.sent_ms < 0 || now - p.sent_ms >= limits::kHparamRequestTimeoutMs) {
      send(p.request, &p.msg_id);
      p.sent_ms = now;
    }
  }
}

std::optional<proto::HparamReply> AgentCore::take_hparam_reply(const std::string& request_id) {
  auto it = replies_.find(request_id);
  if (it == replies_.end()) return std::nullopt;
  auto r = std::move(it->second);
  replies_.erase(it);
  return r;
}

void AgentCore::cancel_hparam_request(const std::string& request_id) {
  requests_.erase(request_id);
  replies_.erase(request_id);
}

std::vector<proto::Command> AgentCore::take_commands() {
  std::vector<proto::Command> out;
  out.swap(commands_);
  return out;
}

}  // namespace edgenas::agent
