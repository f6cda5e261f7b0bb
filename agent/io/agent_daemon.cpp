#include "agent/io/agent_daemon.hpp"

#include "common/util/prometheus.hpp"

#include <filesystem>
#include <thread>

#include "common/util/daemon.hpp"
#include "common/util/errors.hpp"
#include "common/util/log.hpp"
#include "common/util/ports.hpp"

namespace edgenas::agent {

using nlohmann::json;

Expected<std::unique_ptr<SourceSampler>> make_sampler(const AgentConfig& cfg, const Clock& clock) {
  if (cfg.probe_mode == "simulated") {
    auto profile = load_profile(cfg.profile_path);
    if (!profile) return profile.error();
    uint64_t seed = std::hash<std::string>{}(cfg.agent_id);
    return std::unique_ptr<SourceSampler>(
        std::make_unique<SimulatedSampler>(clock, std::move(*profile), seed));
  }
  std::unique_ptr<PowerMeter> power;
  if (cfg.use_rapl) power = RaplMeter::open(clock);
  if (!power) power = std::make_unique<PowerModel>(cfg.power_idle_w, cfg.power_max_w);
  std::vector<std::unique_ptr<DevicePlugin>> plugins;
  if (cfg.npu_plugin == "npu-smi") {
    auto plugin = std::make_unique<NpuSmiPlugin>(NpuSmiPlugin::command_runner(cfg.npu_command),
                                                 cfg.npu_cores_per_chip);
    if (plugin->devices().empty()) {
      return Error{"probe",
                   "npu.plugin = \"npu-smi\" but '" + cfg.npu_command + "' reports no NPU"};
    }
    plugins.push_back(std::move(plugin));
  }
  return std::unique_ptr<SourceSampler>(
      std::make_unique<LinuxSampler>(clock, ProbePaths{}, std::move(power), std::move(plugins)));
}

AgentDaemon::AgentDaemon(const AgentConfig& cfg, const Clock& clock) : cfg_(cfg), clock_(clock) {}

// libzmq does not retry a connection whose CURVE handshake the server refused, and tells the
// application only through the socket monitor; this watches for exactly that.
class AgentDaemon::LinkMonitor : public zmq::monitor_t {
 public:
  int auth_refused = 0, protocol_failed = 0, auth_status = 0;
  void on_event_handshake_failed_auth(const zmq_event_t& e, const char*) override {
    ++auth_refused;
    auth_status = e.value;  // the ZAP status code: 400 refused, 300 temporary, 500 error
  }
  void on_event_handshake_failed_protocol(const zmq_event_t&, const char*) override {
    ++protocol_failed;
  }
};

AgentDaemon::~AgentDaemon() = default;

Expected<std::unique_ptr<AgentDaemon>> AgentDaemon::create(const AgentConfig& cfg,
                                                           const Clock& clock) {
  std::unique_ptr<AgentDaemon> d(new AgentDaemon(cfg, clock));
  std::error_code ec;
  std::filesystem::create_directories(cfg.state_dir, ec);
  if (ec)
    return Error{errc::kBadConfig,
                 "cannot create state_dir '" + cfg.state_dir + "': " + ec.message()};
  auto store = AgentStore::open(cfg.database(), cfg.outbox_max_traces, cfg.outbox_full_policy);
  if (!store) return store.error();
  d->store_ = std::move(*store);
  auto sampler = make_sampler(cfg, clock);
  if (!sampler) return sampler.error();
  d->sampler_ = std::move(*sampler);
  if (!cfg.insecure) {
    if (cfg.coordinator_key.empty()) {
      return Error{errc::kBadConfig,
                   "agent.coordinator_key is not set: give the coordinator's public key (its "
                   "coordinator.pub, or the 40 characters in it), or set agent.insecure = true"};
    }
    auto server = proto::load_public_key(cfg.coordinator_key);
    if (!server) return Error{errc::kBadConfig, "agent.coordinator_key: " + server.error().message};
    auto mine = proto::load_or_create_keypair(cfg.key_path());
    if (!mine) return Error{errc::kBadConfig, mine.error().message};
    d->curve_ = proto::CurveClient{*server, *mine};
    log::info("CURVE on", {{"public_key", mine->public_key}, {"key_file", cfg.key_path()}});
  } else {
    log::warn("CURVE is off (agent.insecure): the link is plaintext");
  }

  proto::Register reg;
  reg.agent_version = "0.1.0";
  reg.hostname = daemon::hostname();
  reg.devices = d->sampler_->devices();
  reg.power_source = d->sampler_->power_source();
  reg.profile = d->sampler_->profile();
  reg.machine = daemon::machine();
  std::set<std::string> names;
  for (const auto& dev : reg.devices) names.insert(dev.name);
  d->queue_ = std::make_unique<TaskQueue>(names);
  std::set<std::string> config_task_ids;
  for (const auto& t : cfg.tasks) {
    if (auto s = d->queue_->submit(t); !s)
      return Error{errc::kBadConfig, "[[task]] " + t.task_id + ": " + s.error().message};
    config_task_ids.insert(t.task_id);
  }
  auto stored = d->store_->load_tasks();
  if (!stored) return stored.error();
  for (const auto& t : *stored) {
    if (auto s = d->queue_->submit(t); !s) {
      log::warn("dropping a stored task that no longer fits this box",
                {{"task", t.task_id}, {"error", s.error().message}});
      (void)d->store_->delete_task(t.task_id);
    }
  }
  std::random_device rd;
  d->core_ = std::make_unique<AgentCore>(clock, *d->store_, *d->queue_, cfg.agent_id, reg, rd());
  d->sample();

  d->launcher_ = std::make_unique<ProcessLauncher>();
  auto settings = cfg.search_settings();
  settings.cpu_kind = CpuProbe{}.model_name();  // where the candidates' latencies are measured
  d->search_ = std::make_unique<SearchRunner>(clock, std::move(settings), *d->launcher_, *d->store_,
                                              *d->core_, cfg.agent_id);
  SourceSampler* probes = d->sampler_.get();
  BoxFacts box{cfg.coordinator, probes->power_source(), probes->profile(),
               [probes] { return probes->devices(); }};
  d->local_api_ = std::make_unique<LocalApi>(clock, *d->core_, *d->queue_, *d->store_, *d->store_,
                                             *d->search_, std::move(box), config_task_ids);
  if (auto s = d->search_->recover(); !s) return s.error();
  d->update_search();
  if (reg.power_source == "model") {
    // RAPL is an x86 feature: absent on the arm64 boards, in most VMs, and unreadable unless
    // root. The Source matrix's power is then modelled from the load.
    log::info("power is modelled: no readable RAPL energy counters (x86 only; none on arm64)",
              {{"rapl", cfg.use_rapl}, {"idle_w", cfg.power_idle_w}, {"max_w", cfg.power_max_w}});
  }
  log::info("agent ready", {{"agent", cfg.agent_id},
                            {"devices", reg.devices.size()},
                            {"machine", reg.machine},
                            {"power", reg.power_source},
                            {"profile", reg.profile},
                            {"queued_tasks", d->queue_->size()},
                            {"outbox_depth", d->store_->depth()}});
  return d;
}

Status AgentDaemon::bind_local() {
  local_.set(zmq::sockopt::maxmsgsize, limits::kMaxWireMessageBytes);
  local_.set(zmq::sockopt::linger, 0);
  const std::string ep = cfg_.local();
  if (ep.rfind("ipc://", 0) == 0) std::filesystem::remove(ep.substr(6));  // a stale socket file
  auto attempt = [&]() -> Status {
    try {
      local_.bind(ep);
      return ok_status();
    } catch (const zmq::error_t& e) {
      return Error{"bind", "cannot listen on " + ep + ": " + e.what()};
    }
  };
  if (auto s = net::bind_with_retry(attempt, ep, cfg_.bind_retry_ms); !s) return s;
  if (ep.rfind("ipc://", 0) == 0) {
    // Only the agent's user (and root) may queue tasks or submit traces.
    std::filesystem::permissions(
        ep.substr(6), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  return ok_status();
}

void AgentDaemon::check_handshake() {
  if (!monitor_) return;
  const int refused = monitor_->auth_refused, failed = monitor_->protocol_failed;
  while (monitor_->check_event(0)) {
  }
  if (monitor_->auth_refused > refused) {
    core_->on_key_refused("key " + curve_->keys.public_key.substr(0, 10) +
                          "… refused at the handshake (ZAP status " +
                          std::to_string(monitor_->auth_status) + ")");
  } else if (monitor_->protocol_failed > failed) {
    log::error(
        "the CURVE handshake with the coordinator failed; is coordinator_key the "
        "coordinator's public key?",
        {{"coordinator", cfg_.coordinator}});
  }
}

void AgentDaemon::connect() {
  static std::atomic<int> monitors{0};
  monitor_.reset();
  link_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  link_->set(zmq::sockopt::maxmsgsize, limits::kMaxWireMessageBytes);
  link_->set(zmq::sockopt::linger, 0);
  link_->set(zmq::sockopt::sndhwm, 1000);
  link_->set(zmq::sockopt::reconnect_ivl, static_cast<int>(limits::kReconnectBackoffMinMs));
  link_->set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(limits::kReconnectBackoffMaxMs));
  link_->set(zmq::sockopt::tcp_keepalive, 1);
  if (curve_) {
    proto::apply_client(*link_, *curve_);
    monitor_ = std::make_unique<LinkMonitor>();
    monitor_->init(*link_, "inproc://edgenas-link-monitor-" + std::to_string(monitors++),
                   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
  }
  link_->connect(cfg_.coordinator);
  core_->on_connected();
}

void AgentDaemon::sample() {
  auto s = sampler_->sample(queue_->matrix());
  if (!s) {
    log::warn("probe failed", {{"error", s.error().message}});
    return;
  }
  core_->set_source(*s);
  next_sample_ms_ = clock_.now_ms() + cfg_.sample_interval_ms;
}

void AgentDaemon::flush_outgoing() {
  if (!link_) return;
  for (auto& bytes : core_->take_outgoing()) {
    try {
      // With ZMQ_IMMEDIATE, a send while disconnected fails with EAGAIN: the core resends.
      (void)link_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      log::warn("send to coordinator failed", {{"error", e.what()}});
    }
  }
}

void AgentDaemon::drain_coordinator() {
  if (!link_) return;
  for (int i = 0; i < 256; ++i) {
    zmq::message_t msg;
    zmq::recv_result_t r;
    try {
      r = link_->recv(msg, zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& e) {
      log::warn("receive from coordinator failed", {{"error", e.what()}});
      return;
    }
    if (!r) return;
    core_->on_message(msg.to_string_view());
  }
}

void AgentDaemon::answer_local(const std::vector<std::string>& route,
                               const proto::AdminResponse& resp) {
  proto::send_admin(local_, route, resp, local_msg_id_++, clock_.wall_ms());
}

// Every request is answered now, except hparams.request: its caller waits for the reply (see
// settle_waiting_requests). A search started or cancelled takes effect before the next poll.
void AgentDaemon::drain_local() {
  for (int i = 0; i < 64; ++i) {
    auto call = proto::recv_admin(local_);
    if (!call) break;
    LocalAnswer answer;
    try {
      answer = call->request ? local_api_->handle(*call->request)
                             : LocalAnswer{proto::admin_error(call->request.error()), {}, 0};
    } catch (const std::exception& e) {  // the request fails, the agent serves on
      log::error("local request failed",
                 {{"op", call->request ? call->request->op : ""}, {"error", e.what()}});
      answer = {proto::admin_error({std::string(proto::err::kInternal), e.what()}), {}, 0};
    }
    if (answer.wait_for) {
      waiting_.push_back({call->route, *answer.wait_for, clock_.now_ms() + answer.wait_ms});
    } else {
      answer_local(call->route, answer.response);
    }
  }
  update_search();
  flush_outgoing();
}

void AgentDaemon::settle_waiting_requests() {
  const int64_t now = clock_.now_ms();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto reply = core_->take_hparam_reply(it->request_id);
    const bool expired = now >= it->deadline_ms;
    if (!reply && !expired) {
      ++it;
      continue;
    }
    const auto& route = it->route;
    if (reply) {
      answer_local(route, {true, "", "", proto::to_json(*reply)});
    } else {
      core_->cancel_hparam_request(it->request_id);
      answer_local(route, {false, "unreachable",
                           "no hyperparameters from the coordinator in time (link " +
                               std::string(to_string(core_->state())) + ")",
                           json::object()});
    }
    it = waiting_.erase(it);
  }
}

void AgentDaemon::handle_commands() {
  for (const auto& cmd : core_->take_commands()) {
    const std::string action(proto::to_string(cmd.action));
    Status result = ok_status();
    switch (cmd.action) {
      case proto::CommandAction::reload_config:
        log::info(
            "reload_config received; restart the agent (or send SIGHUP) to apply a changed file",
            {{"command", cmd.command_id}});
        break;
      case proto::CommandAction::start_search:
        if (auto r = search_->start("command:" + cmd.command_id, cmd.args); !r) result = r.error();
        break;
      case proto::CommandAction::cancel:
        result = search_->cancel("command " + cmd.command_id);
        break;
    }
    if (!result) {
      log::warn(
          "command refused",
          {{"command", cmd.command_id}, {"action", action}, {"error", result.error().message}});
    }
  }
  update_search();
}

void AgentDaemon::update_search() {
  search_->tick();
  core_->set_activity(search_->busy() ? "searching" : "idle");
  core_->set_search_progress(search_->progress());
  core_->set_search_stats(search_->searches_run(), search_->last_predictor_version());
}

std::string AgentDaemon::render_metrics() const {
  prom::Text t;
  const auto& st = core_->stats();
  t.family("edgenas_agent_link_up", "gauge", "1 while registered with the coordinator");
  t.sample(core_->state() == LinkState::registered ? 1 : 0);
  t.family("edgenas_agent_link_losses_total", "counter", "Links to the coordinator lost");
  t.sample(static_cast<double>(st.link_losses));
  t.family("edgenas_agent_messages_total", "counter", "Messages to and from the coordinator");
  t.sample(static_cast<double>(st.messages_out), {{"direction", "out"}});
  t.sample(static_cast<double>(st.messages_in), {{"direction", "in"}});
  t.family("edgenas_agent_traces_total", "counter",
           "Traces sent (resends included), acked, rejected as invalid by the coordinator, and "
           "too large for the link (sent as a failed trace in their place)");
  t.sample(static_cast<double>(st.traces_sent), {{"state", "sent"}});
  t.sample(static_cast<double>(st.traces_acked), {{"state", "acked"}});
  t.sample(static_cast<double>(st.traces_rejected), {{"state", "rejected"}});
  t.sample(static_cast<double>(st.traces_too_large), {{"state", "too_large"}});
  t.family("edgenas_agent_outbox_depth", "gauge", "Traces on disk waiting for an Ack");
  t.sample(static_cast<double>(store_->depth()));
  t.family("edgenas_agent_queued_tasks", "gauge", "Tasks in this box's Job matrix");
  t.sample(static_cast<double>(queue_->size()));
  const auto& src = core_->source();
  t.family("edgenas_agent_free_nodes", "gauge", "Free compute nodes per device (Source matrix)");
  for (const auto& d : src.devices) t.sample(d.free_nodes, {{"device", d.device}});
  t.family("edgenas_agent_free_memory_bytes", "gauge", "Free memory per device (Source matrix)");
  for (const auto& d : src.devices)
    t.sample(static_cast<double>(d.free_memory_mb) * 1024 * 1024, {{"device", d.device}});
  t.family("edgenas_agent_power_watts", "gauge",
           "Average power of the box over the sampling window (source: rapl or model)");
  t.sample(src.power_w, {{"source", src.power_modelled ? "model" : "rapl"}});
  t.family("edgenas_agent_searches_total", "counter", "NAS runs (edgenas-search) finished");
  t.sample(static_cast<double>(search_->searches_run()));
  t.family("edgenas_agent_search_running", "gauge", "1 while an edgenas-search child runs");
  t.sample(search_->progress() ? 1 : 0);
  t.family("edgenas_agent_hparam_replies_total", "counter", "Hyperparameter replies received");
  t.sample(static_cast<double>(st.hparam_replies));
  return t.str();
}

void AgentDaemon::run(const std::atomic<bool>& stop) {
  connect();
  flush_outgoing();
  while (!stop.load()) {
    zmq::pollitem_t items[2] = {{local_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, 0, ZMQ_POLLIN, 0}};
    int n = 1;
    if (link_) {
      items[1].socket = link_->handle();
      n = 2;
    }
    try {
      zmq::poll(items, n, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) log::error("poll failed", {{"error", e.what()}});
      continue;
    }
    if (items[0].revents & ZMQ_POLLIN) drain_local();
    if (n == 2 && (items[1].revents & ZMQ_POLLIN)) drain_coordinator();
    check_handshake();
    if (clock_.now_ms() >= next_sample_ms_) sample();
    core_->tick();
    if (core_->link_lost()) {
      monitor_.reset();  // before its socket
      link_.reset();     // drop the socket and whatever it still queued
      if (clock_.now_ms() >= core_->reconnect_at_ms()) connect();
    }
    handle_commands();
    settle_waiting_requests();
    flush_outgoing();
    if (board_ && clock_.now_ms() >= next_publish_ms_) {
      board_->publish(render_metrics());
      next_publish_ms_ = clock_.now_ms() + 1000;
    }
  }
  // A running search gets SIGTERM and the grace to keep its best model; its Trace goes into
  // the outbox (delivered now if the link allows, else after the next start).
  search_->shutdown([this](int64_t ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    drain_coordinator();
    core_->tick();
    flush_outgoing();
  });
  flush_outgoing();
  log::info("agent stopping", {{"outbox_depth", store_->depth()}});
}

}  // namespace edgenas::agent
