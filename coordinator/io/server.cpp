#include "coordinator/io/server.hpp"

#include "common/protocol/codec.hpp"
#include "common/util/log.hpp"
#include "common/util/ports.hpp"

namespace edgenas::coordinator {

void harden_socket(zmq::socket_t& s) {
  s.set(zmq::sockopt::maxmsgsize, limits::kMaxWireMessageBytes);
  s.set(zmq::sockopt::linger, 1000);
  s.set(zmq::sockopt::sndhwm, 200'000);
  s.set(zmq::sockopt::rcvhwm, 200'000);
  s.set(zmq::sockopt::tcp_keepalive, 1);
}

CommitWorker::CommitWorker(zmq::context_t& ctx, std::unique_ptr<TraceStore> store)
    : store_(std::move(store)),
      done_rx_(ctx, zmq::socket_type::pair),
      done_tx_(ctx, zmq::socket_type::pair) {
  const std::string ep =
      "inproc://edgenas-commit-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  done_rx_.bind(ep);
  done_tx_.connect(ep);
  thread_ = std::thread([this] { loop(); });
}

CommitWorker::~CommitWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void CommitWorker::submit(CommitBatch batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    todo_ = std::move(batch);
    busy_ = true;
  }
  cv_.notify_one();
}

std::pair<CommitBatch, Status> CommitWorker::take_result() {
  zmq::message_t m;
  (void)done_rx_.recv(m, zmq::recv_flags::dontwait);
  std::lock_guard<std::mutex> lock(mu_);
  auto r = std::move(*result_);
  result_.reset();
  busy_ = false;
  return r;
}

void CommitWorker::loop() {
  while (true) {
    CommitBatch batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return todo_.has_value() || stopping_; });
      if (!todo_) return;  // stopping with nothing to do
      batch = std::move(*todo_);
      todo_.reset();
    }
    Status s = store_->write_batch(batch.traces, batch.replies, batch.agents);
    {
      std::lock_guard<std::mutex> lock(mu_);
      result_.emplace(std::move(batch), std::move(s));
    }
    done_tx_.send(zmq::str_buffer("x"), zmq::send_flags::none);
  }
}

Server::Server(zmq::context_t& ctx, CoordinatorCore& core, AdminService& admin, ServerConfig cfg,
               IoProfile& profile, std::unique_ptr<TraceStore> writer, ZapServer* zap)
    : ctx_(ctx),
      core_(core),
      admin_(admin),
      cfg_(std::move(cfg)),
      profile_(profile),
      agents_(ctx, zmq::socket_type::router),
      admin_sock_(ctx, zmq::socket_type::router),
      zap_(zap) {
  harden_socket(agents_);
  harden_socket(admin_sock_);
  if (cfg_.curve) {
    proto::apply_server(agents_, *cfg_.curve, std::string(KeyRegistry::kAgentDomain));
    proto::apply_server(admin_sock_, *cfg_.curve, std::string(KeyRegistry::kAdminDomain));
  }
  agents_.set(zmq::sockopt::backlog, 4096);
  if (writer) worker_ = std::make_unique<CommitWorker>(ctx, std::move(writer));
}

void Server::commit_round(std::vector<Outgoing>& out) {
  if (!worker_) {
    const auto t0 = std::chrono::steady_clock::now();
    const bool writes = core_.has_pending_writes();
    (void)core_.flush(out);  // failures are logged and counted by the core; nothing is acked
    if (writes) {
      commit_seconds_.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return;
  }
  if (!worker_->busy() && core_.has_pending_writes()) {
    commit_started_ = std::chrono::steady_clock::now();
    auto batch = core_.take_batch();
    commit_sizes_ = {batch.traces.size(), batch.replies.size(), batch.agents.size()};
    worker_->submit(std::move(batch));
  }
}

Status Server::bind() {
  for (auto [sock, ep] :
       {std::pair{&agents_, cfg_.agent_endpoint}, std::pair{&admin_sock_, cfg_.admin_endpoint}}) {
    auto attempt = [sock = sock, &ep = ep]() -> Status {
      try {
        sock->bind(ep);
        return ok_status();
      } catch (const zmq::error_t& e) {
        return Error{"bind", "cannot listen on " + ep + ": " + e.what()};
      }
    };
    if (auto s = net::bind_with_retry(attempt, ep, cfg_.bind_retry_ms); !s) return s;
  }
  log::info("listening", {{"agents", cfg_.agent_endpoint}, {"admin", cfg_.admin_endpoint}});
  return ok_status();
}

void Server::drain_agents(std::vector<Outgoing>& out) {
  for (std::size_t n = 0; n < limits::kMaxMessagesPerRound; ++n) {
    std::vector<zmq::message_t> frames;
    zmq::recv_result_t r;
    const auto t0 = IoProfile::Clock::now();
    try {
      r = zmq::recv_multipart(agents_, std::back_inserter(frames), zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& e) {
      log::warn("receive failed", {{"error", e.what()}});
      return;
    }
    const auto t1 = IoProfile::Clock::now();
    profile_.add(IoPhase::recv, t1 - t0);
    if (!r) return;
    profile_.count_messages(1);
    if (frames.size() != 2) {
      // A DEALER sends [routing id (added by ROUTER), payload]; anything else is not ours.
      if (frames.size() > 2) {
        core_.refuse(frames.front().to_string(), proto::err::kMalformed,
                     "a message is one frame; this one had " + std::to_string(frames.size() - 1),
                     out);
      } else if (!frames.empty()) {
        core_.on_message(frames.front().to_string(), std::string_view(), out);
      }
      continue;
    }
    // With CURVE, the ZAP handler set the peer's public key as the message's User-Id.
    std::string peer_key;
    if (cfg_.curve) {
      try {
        peer_key = frames[1].gets("User-Id");
      } catch (const zmq::error_t&) {
      }
    }
    const auto type =
        core_.on_message(frames[0].to_string(), frames[1].to_string_view(), out, peer_key);
    round_reads_.push_back({t1, request_kind(type)});
    profile_.add(IoPhase::handle, IoProfile::Clock::now() - t1);
  }
}

void Server::write_metrics(prom::Text& t) const {
  t.family("edgenas_request_seconds", "histogram",
           "Agent message read to its immediate reply sent, by type (hparam_request, heartbeat, "
           "register, other); the wait before the read is in edgenas_io_round_seconds");
  for (std::size_t k = 0; k < kRequestKinds.size(); ++k)
    request_seconds_[k].write(t, {{"type", std::string(kRequestKinds[k])}});
  t.family("edgenas_commit_seconds", "histogram",
           "One group commit of traces, replies and registry rows (the Acks wait for it)");
  commit_seconds_.write(t);
  t.family("edgenas_console_request_seconds", "histogram",
           "A web console API call handed over by the HTTP thread to its answer handed back "
           "(the wait for the io thread included; reading and writing the HTTP are not)");
  console_seconds_.write(t);
  profile_.write(t);
}

std::string Server::admin_name(const std::string& public_key) const {
  if (public_key.empty()) return "admin port";  // no CURVE: anyone who reaches the port
  const auto it = cfg_.admin_names.find(public_key);
  return it != cfg_.admin_names.end() ? it->second : "admin:" + public_key.substr(0, 8);
}

void Server::read_traces_with(std::unique_ptr<TraceStore> reader) {
  reader_ = std::make_unique<TraceReader>(ctx_, std::move(reader));
  admin_.attach_trace_reads(reader_.get());
}

void Server::send_admin_reply(const std::vector<std::string>& route,
                              const proto::AdminResponse& resp) {
  proto::send_admin(admin_sock_, route, resp, admin_msg_id_++, core_.clock().wall_ms());
}

void Server::drain_admin(std::vector<Outgoing>& agent_out) {
  for (int n = 0; n < 64; ++n) {
    auto call = proto::recv_admin(admin_sock_);
    if (!call) return;
    if (!call->request) {
      send_admin_reply(call->route, proto::admin_error(call->request.error()));
      continue;
    }
    try {
      const AdminCaller caller{admin_name(call->peer_key), false};
      admin_.handle(*call->request, agent_out, caller,
                    [this, route = call->route](proto::AdminResponse resp) {
                      send_admin_reply(route, resp);
                    });
    } catch (const std::exception& e) {  // the request fails, the coordinator serves on
      log::error("admin request failed", {{"op", call->request->op}, {"error", e.what()}});
      send_admin_reply(call->route,
                       proto::admin_error({std::string(proto::err::kInternal), e.what()}));
    }
  }
}

void Server::drain_console(std::vector<Outgoing>& agent_out) {
  for (auto& call : console_bridge_->take()) {
    // The answer, when it is ready (a trace page may be read on the reader thread).
    auto answer = [this, reply = call.reply, queued = call.queued](http::Response r) {
      reply(std::move(r));
      console_seconds_.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - queued).count());
    };
    try {
      console_api_->handle(call.request, agent_out, answer);
    } catch (const std::exception& e) {  // the request fails, the coordinator serves on
      log::error("console request failed", {{"path", call.request.path}, {"error", e.what()}});
      http::Response r;
      r.status = 500;
      r.body = R"({"ok":false,"code":"internal","message":"see the coordinator's log"})";
      answer(std::move(r));
    }
  }
}

void Server::send_all(std::vector<Outgoing>& out) {
  if (out.empty()) return;
  const auto t0 = IoProfile::Clock::now();
  for (auto& o : out) {
    try {
      agents_.send(zmq::buffer(o.routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      agents_.send(zmq::buffer(o.bytes), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      log::warn("send failed", {{"error", e.what()}});
    }
  }
  out.clear();
  profile_.add(IoPhase::send, IoProfile::Clock::now() - t0);
}

void Server::finish_commit(std::vector<Outgoing>& out) {
  auto [batch, status] = worker_->take_result();
  commit_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - commit_started_).count());
  core_.committed(batch, status, out);
}

std::string Server::commit_state() const {
  if (!worker_) return "inline";
  if (!worker_->busy()) return "idle";
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - commit_started_)
          .count();
  char s[160];
  std::snprintf(s, sizeof s, "writing for %.1f ms: %zu traces, %zu replies, %zu agents", ms,
                commit_sizes_[0], commit_sizes_[1], commit_sizes_[2]);
  return s;
}

std::size_t Server::request_kind(std::optional<proto::MsgType> type) {
  if (!type) return 3;
  switch (*type) {
    case proto::MsgType::hparam_request:
      return 0;
    case proto::MsgType::heartbeat:
      return 1;
    case proto::MsgType::register_agent:
    case proto::MsgType::reregister:
      return 2;
    default:
      return 3;
  }
}

void Server::run(const std::atomic<bool>& stop) {
  std::vector<Outgoing> out;
  zmq::pollitem_t items[] = {
      {agents_.handle(), 0, ZMQ_POLLIN, 0},
      {admin_sock_.handle(), 0, ZMQ_POLLIN, 0},
      {worker_ ? worker_->done_socket().handle() : nullptr, worker_ ? 0 : -1, ZMQ_POLLIN, 0},
      {zap_ ? zap_->socket().handle() : nullptr, zap_ ? 0 : -1, ZMQ_POLLIN, 0},
      {console_bridge_ ? console_bridge_->wake_socket().handle() : nullptr,
       console_bridge_ ? 0 : -1, ZMQ_POLLIN, 0},
      {reader_ ? reader_->done_socket().handle() : nullptr, reader_ ? 0 : -1, ZMQ_POLLIN, 0}};
  // The core's sweep goes in small steps every kSweepStepMs; the hooks (predictor service,
  // /metrics page) run every quarter heartbeat.
  const int64_t hooks_every = core_.sweep_period_ms();
  int64_t next_sweep = core_.clock().now_ms(), next_hooks = next_sweep;
  while (!stop.load()) {
    const int64_t wait =
        std::clamp<int64_t>(std::min(next_sweep, next_hooks) - core_.clock().now_ms(), 0, 250);
    try {
      zmq::poll(items, std::size(items), std::chrono::milliseconds(wait));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      log::error("poll failed", {{"error", e.what()}});
      break;
    }
    profile_.begin_round();
    // First in the round: the hooks' metrics snapshot then holds every finished round whole
    // (a counter and its latency histogram never disagree on the page).
    if (const int64_t now = core_.clock().now_ms(); now >= next_hooks && on_tick_) {
      profile_.time(IoPhase::hooks, on_tick_);
      next_hooks = now + hooks_every;
    }
    if (items[3].revents & ZMQ_POLLIN) profile_.time(IoPhase::zap, [&] { zap_->handle(); });
    if (items[0].revents & ZMQ_POLLIN) {
      drain_agents(out);
      if (zap_) profile_.time(IoPhase::zap, [&] { zap_->flush_saves(); });  // bound agent ids
    }
    if (items[1].revents & ZMQ_POLLIN) profile_.time(IoPhase::admin, [&] { drain_admin(out); });
    if (items[4].revents & ZMQ_POLLIN) profile_.time(IoPhase::admin, [&] { drain_console(out); });
    if (items[5].revents & ZMQ_POLLIN) profile_.time(IoPhase::admin, [&] { reader_->drain(); });
    if (const int64_t now = core_.clock().now_ms(); now >= next_sweep) {
      profile_.time(IoPhase::tick, [&] { core_.tick(); });
      next_sweep = now + kSweepStepMs;
    }
    // Replies that do not depend on durability (Welcome, HeartbeatAck, HparamReply, Error)
    // leave before any commit; only Acks wait for one.
    send_all(out);
    const auto sent = std::chrono::steady_clock::now();
    for (const auto& [t, kind] : round_reads_)
      request_seconds_[kind].observe(std::chrono::duration<double>(sent - t).count());
    round_reads_.clear();
    profile_.time(IoPhase::commit_handoff, [&] {
      if (items[2].revents & ZMQ_POLLIN) finish_commit(out);
      commit_round(out);
    });
    send_all(out);
    profile_.end_round(commit_state());
  }
  // Finish the batch in flight, then commit what arrived before the stop; agents resend
  // whatever was not acked.
  if (worker_ && worker_->busy()) {
    zmq::pollitem_t done{worker_->done_socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&done, 1, std::chrono::milliseconds(-1));
    auto [batch, status] = worker_->take_result();
    core_.committed(batch, status, out);
  }
  while (core_.has_pending_writes()) {
    if (auto s = core_.flush(out); !s) {
      log::error("final commit failed", {{"error", s.error().message}});
      break;
    }
  }
  send_all(out);
  log::info("server stopped");
}
}  // namespace edgenas::coordinator
