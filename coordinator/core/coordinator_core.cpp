#include "coordinator/core/coordinator_core.hpp"

#include <algorithm>

#include "common/util/log.hpp"

namespace edgenas::coordinator {

CoordinatorCore::CoordinatorCore(const Clock& clock, TraceStore& store, HparamService& hparams,
                                 CoreConfig cfg)
    : clock_(clock),
      store_(store),
      hparams_(hparams),
      cfg_(std::move(cfg)),
      registry_(clock, cfg_.heartbeat_interval_ms, cfg_.dead_after_missed) {}

Status CoordinatorCore::start() {
  auto agents = store_.load_agents();
  if (!agents) return agents.error();
  log::info("loaded known agents", {{"count", agents->size()}});
  registry_.load(std::move(*agents));
  started_wall_ms_ = clock_.wall_ms();
  next_registry_flush_ms_ = clock_.now_ms() + limits::kRegistryFlushIntervalMs;
  last_sweep_ms_ = clock_.now_ms();
  return ok_status();
}

template <class T>
std::string CoordinatorCore::encode_to(const std::string& agent_id, const T& body) {
  proto::Header h;
  h.msg_id = next_msg_id_++;
  h.agent_id = agent_id;
  h.ts_ms = clock_.wall_ms();
  return proto::encode(h, body);
}

void CoordinatorCore::reply_error(const std::string& routing_id, const std::string& agent_id,
                                  std::string_view code, const std::string& message, uint64_t ref,
                                  std::vector<Outgoing>& out) {
  metrics_.errors[std::string(code)]++;
  log::debug("rejected message", {{"agent", agent_id}, {"code", code}, {"error", message}});
  proto::ErrorMsg e{std::string(code), message, ref};
  out.push_back({routing_id, encode_to(agent_id, e)});
}

const proto::HparamReply* CoordinatorCore::recent_reply(const std::string& key) {
  const int64_t now = clock_.now_ms();
  while (!recent_order_.empty() && (now - recent_order_.front().first > limits::kReplyMemoryMs ||
                                    recent_order_.size() > limits::kReplyMemoryEntries)) {
    recent_replies_.erase(recent_order_.front().second);
    recent_order_.pop_front();
  }
  auto it = recent_replies_.find(key);
  return it == recent_replies_.end() ? nullptr : &it->second;
}

std::string CoordinatorCore::encode_reply(const std::string& agent_id,
                                          const proto::HparamReply& reply,
                                          int agent_latency_version) {
  auto offer = latency_ ? latency_->offer(agent_latency_version) : std::nullopt;
  if (!offer) return encode_to(agent_id, reply);
  metrics_.latency_models_sent++;
  auto sent = reply;
  sent.latency = std::move(offer);
  return encode_to(agent_id, sent);
}

void CoordinatorCore::remember_reply(const std::string& key, const proto::HparamReply& reply) {
  recent_replies_[key] = reply;
  recent_order_.emplace_back(clock_.now_ms(), key);
}

proto::Welcome CoordinatorCore::welcome(bool restored) const {
  proto::Welcome w;
  w.coordinator_epoch = cfg_.epoch;
  w.heartbeat_interval_ms = cfg_.heartbeat_interval_ms;
  w.dead_after_missed = cfg_.dead_after_missed;
  w.max_message_bytes = limits::kMaxMessageBytes;
  w.trace_resend_ms = cfg_.trace_resend_ms;
  w.restored = restored;
  return w;
}

std::optional<proto::MsgType> CoordinatorCore::on_message(const std::string& routing_id,
                                                          std::string_view bytes,
                                                          std::vector<Outgoing>& out,
                                                          const std::string& peer_key) {
  auto decoded = proto::decode_envelope(bytes);
  if (auto* bad = std::get_if<proto::EnvelopeError>(&decoded)) {
    const auto agent = bad->partial_header ? bad->partial_header->agent_id : std::string();
    const auto ref = bad->partial_header ? bad->partial_header->msg_id : 0;
    reply_error(routing_id, agent, bad->error.code, bad->error.message, ref, out);
    return std::nullopt;
  }
  auto& env = std::get<proto::Envelope>(decoded);
  metrics_.messages_in[static_cast<std::size_t>(env.header.type)]++;
  try {
    dispatch(routing_id, env, out, peer_key);
  } catch (const std::exception& e) {
    log::error("handling a message failed", {{"agent", env.header.agent_id},
                                             {"type", proto::to_string(env.header.type)},
                                             {"error", e.what()}});
    reply_error(routing_id, env.header.agent_id, proto::err::kInternal,
                std::string("the coordinator could not handle this message: ") + e.what(),
                env.header.msg_id, out);
  }
  return env.header.type;
}

void CoordinatorCore::dispatch(const std::string& routing_id, const proto::Envelope& env,
                               std::vector<Outgoing>& out, const std::string& peer_key) {
  using proto::MsgType;
  const auto& agent_id = env.header.agent_id;
  const auto ref = env.header.msg_id;
  auto fail = [&](const Error& e) {
    reply_error(routing_id, agent_id, e.code, e.message, ref, out);
  };

  if (agent_id.empty()) {
    return fail(
        {std::string(proto::err::kBadField), "agent_id: is missing (required on agent messages)"});
  }
  if (authorize_ && !peer_key.empty()) {
    if (auto s = authorize_(peer_key, agent_id); !s) return fail(s.error());
  }

  const bool registration =
      env.header.type == MsgType::register_agent || env.header.type == MsgType::reregister;
  if (registration && registry_.repeats_registration(agent_id, routing_id)) {
    // Queued during an outage or resent while the agent waited: the session it asks for exists.
    // The same Welcome again (the agent ignores a second one); nothing changes or is counted.
    metrics_.repeated_registrations++;
    log::debug("repeated registration answered", {{"agent", agent_id}, {"msg_id", ref}});
    const bool restored = registry_.find(agent_id)->stored.registrations > 1;
    out.push_back({routing_id, encode_to(agent_id, welcome(restored))});
    return;
  }
  switch (env.header.type) {
    case MsgType::register_agent: {
      auto reg = proto::decode_body<proto::Register>(env);
      if (!reg) return fail(reg.error());
      auto how = registry_.on_register(agent_id, routing_id, *reg);
      log::info("agent registered", {{"agent", agent_id},
                                     {"known", how != Admission::new_agent},
                                     {"devices", reg->devices.size()}});
      out.push_back({routing_id, encode_to(agent_id, welcome(false))});
      return;
    }
    case MsgType::reregister: {
      auto rr = proto::decode_body<proto::Reregister>(env);
      if (!rr) return fail(rr.error());
      const auto how = registry_.on_reregister(agent_id, routing_id, *rr);
      log::info("agent reregistered", {{"agent", agent_id},
                                       {"known", how == Admission::restored},
                                       {"queued_tasks", rr->state.queue.tasks.size()},
                                       {"outbox_depth", rr->state.outbox_depth}});
      // restored: this coordinator knew the agent (its store had it), not a stranger.
      out.push_back({routing_id, encode_to(agent_id, welcome(how == Admission::restored))});
      return;
    }
    default:
      break;
  }

  AgentEntry* entry = registry_.session(agent_id);
  if (!entry) {
    return fail(
        {std::string(proto::err::kNotRegistered),
         "agent '" + agent_id + "' is not registered with this coordinator; send reregister"});
  }

  switch (env.header.type) {
    case MsgType::heartbeat: {
      auto hb = proto::decode_body<proto::Heartbeat>(env);
      if (!hb) return fail(hb.error());
      registry_.seen(*entry, routing_id);
      out.push_back({routing_id, encode_to(agent_id, proto::HeartbeatAck{hb->seq})});
      // A seq not above the last one is a late or repeated heartbeat: acked, its state older
      // than what the coordinator has.
      if (entry->heartbeat_seq && hb->seq <= *entry->heartbeat_seq) return;
      entry->heartbeat_seq = hb->seq;
      entry->stored.state.source = hb->source;
      entry->stored.state.outbox_depth = hb->outbox_depth;
      entry->activity = hb->activity;
      entry->search = hb->search;
      entry->history.record(clock_.wall_ms(), entry->stored.state);
      entry->stale = true;
      return;
    }
    case MsgType::queue_report: {
      auto qr = proto::decode_body<proto::QueueReport>(env);
      if (!qr) return fail(qr.error());
      registry_.seen(*entry, routing_id);
      if (qr->revision >= entry->queue_revision) {
        entry->queue_revision = qr->revision;
        entry->stored.state.queue = std::move(qr->job);
        registry_.mark_dirty(*entry);
      }
      return;
    }
    case MsgType::hparam_request: {
      auto req = proto::decode_body<proto::HparamRequest>(env);
      if (!req) return fail(req.error());
      registry_.seen(*entry, routing_id);
      const std::string key = agent_id + "/" + req->request_id;
      if (const auto* again = recent_reply(key)) {
        metrics_.repeated_hparam_requests++;
        out.push_back({routing_id, encode_reply(agent_id, *again, req->latency_version)});
        return;
      }
      auto reply = hparams_.choose(agent_id, *req);
      remember_reply(key, reply);
      metrics_.hparam_replies++;
      metrics_.hparam_replies_by[{reply.predictor_version, reply.policy}]++;
      out.push_back({routing_id, encode_reply(agent_id, reply, req->latency_version)});
      pending_replies_.push_back(
          {agent_id, clock_.wall_ms(), std::move(req->context), std::move(reply)});
      return;
    }
    case MsgType::trace: {
      auto trace = proto::decode_body<Trace>(env);
      if (!trace) return fail(trace.error());
      registry_.seen(*entry, routing_id);
      pending_traces_.push_back({{agent_id, clock_.wall_ms(), std::move(*trace)}, routing_id});
      return;
    }
    case MsgType::error: {
      auto e = proto::decode_body<proto::ErrorMsg>(env);
      registry_.seen(*entry, routing_id);
      if (e)
        log::warn("agent reported an error",
                  {{"agent", agent_id}, {"code", e->code}, {"error", e->message}});
      return;
    }
    default:
      return fail({std::string(proto::err::kUnexpected),
                   "message type '" + std::string(proto::to_string(env.header.type)) +
                       "' is not accepted on the agent port"});
  }
}

CommitBatch CoordinatorCore::take_batch() {
  CommitBatch b;
  b.agents = registry_.take_dirty(limits::kMaxAgentWritesPerRound);
  b.traces.reserve(pending_traces_.size());
  for (auto& p : pending_traces_) {
    b.traces.push_back(std::move(p.record));
    b.trace_routes.push_back(std::move(p.routing_id));
  }
  b.replies = std::move(pending_replies_);
  pending_traces_.clear();
  pending_replies_.clear();
  return b;
}

void CoordinatorCore::committed(const CommitBatch& b, const Status& result,
                                std::vector<Outgoing>& out) {
  if (!result) {
    metrics_.commit_failures++;
    log::error("store commit failed; traces stay unacked and will be resent",
               {{"error", result.error().message}, {"traces", b.traces.size()}});
    registry_.mark_dirty(b.agents);
    return;
  }
  metrics_.batches_committed++;
  metrics_.traces_committed += static_cast<int64_t>(b.traces.size());
  // One Ack per connection, listing every trace of this batch it sent.
  std::map<std::string, std::pair<std::string, proto::Ack>> acks;  // routing → (agent, ack)
  for (std::size_t i = 0; i < b.traces.size(); ++i) {
    auto& slot = acks[b.trace_routes[i]];
    slot.first = b.traces[i].agent_id;
    slot.second.trace_ids.push_back(b.traces[i].trace.trace_id);
  }
  for (auto& [routing, slot] : acks) out.push_back({routing, encode_to(slot.first, slot.second)});
}

Status CoordinatorCore::flush(std::vector<Outgoing>& out) {
  if (!has_pending_writes()) return ok_status();
  auto batch = take_batch();
  auto s = store_.write_batch(batch.traces, batch.replies, batch.agents);
  committed(batch, s, out);
  return s;
}

void CoordinatorCore::tick() {
  const int64_t now = clock_.now_ms();
  if (now >= next_registry_flush_ms_) {
    registry_.begin_write_back();
    next_registry_flush_ms_ = now + limits::kRegistryFlushIntervalMs;
  }
  for (const auto& id : registry_.sweep(sweep_visits(now))) {
    metrics_.agents_died++;
    log::warn("agent missed its heartbeats; marked dead", {{"agent", id}});
  }
}

// One pass over the registry per sweep period, in shares as large as the time since the last
// tick: the io thread may tick often, each time briefly (at 10,000 agents a whole pass in one
// step held it for milliseconds, which every message arriving meanwhile waited for).
std::size_t CoordinatorCore::sweep_visits(int64_t now) {
  const int64_t elapsed = std::max<int64_t>(0, now - last_sweep_ms_);
  last_sweep_ms_ = now;
  const int64_t period = sweep_period_ms();
  if (elapsed >= period) return registry_.size();
  const auto n = static_cast<int64_t>(registry_.size());
  return static_cast<std::size_t>((n * elapsed + period - 1) / period);
}

Status CoordinatorCore::send_command(const std::string& agent_id, const proto::Command& cmd,
                                     std::vector<Outgoing>& out) {
  const AgentEntry* e = registry_.find(agent_id);
  if (!e) return Error{std::string(proto::err::kNotFound), "no agent '" + agent_id + "'"};
  if (e->liveness != Liveness::alive) {
    return Error{std::string(proto::err::kUnavailable),
                 "agent '" + agent_id + "' is " + std::string(to_string(e->liveness))};
  }
  out.push_back({e->routing_id, encode_to(agent_id, cmd)});
  metrics_.commands_sent++;
  return ok_status();
}

}  // namespace edgenas::coordinator
