#include "coordinator/core/admin.hpp"
#include "common/util/utf8.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <variant>

namespace edgenas::coordinator {
namespace {

using nlohmann::json;

Error bad_request(const std::string& msg) {
  return Error{std::string(proto::err::kBadRequest), msg};
}

// A number or flag written as text (the console API's query strings carry only text).
std::optional<json> from_text(const std::string& text) {
  if (text == "true" || text == "false") return json(text == "true");
  const json parsed = json::parse(text, nullptr, false);
  if (parsed.is_number()) return parsed;
  return std::nullopt;
}

// Reads an optional argument of the given JSON type.
template <class T>
Expected<T> arg(const json& args, const char* key, T fallback) {
  if (!args.is_object() || !args.contains(key) || args[key].is_null()) return fallback;
  try {
    if constexpr (std::is_arithmetic_v<T>) {
      if (args[key].is_string()) {
        if (auto v = from_text(args[key].get<std::string>())) return v->get<T>();
        return bad_request(std::string("argument '") + key + "' must be a number");
      }
    }
    return args[key].get<T>();
  } catch (const std::exception&) {
    return bad_request(std::string("argument '") + key + "' has the wrong type");
  }
}

// A box's sampled Source and Job over time (StateHistory), oldest first.
json history_json(const StateHistory& h) {
  json samples = json::array();
  for (const auto& s : h.samples())
    samples.push_back({{"wall_ms", s.wall_ms},
                       {"cpu_free_nodes", s.cpu_free_nodes},
                       {"cpu_free_memory_mb", s.cpu_free_memory_mb},
                       {"queued_tasks", s.queued_tasks},
                       {"tightest_t_ms", std::round(s.tightest_t_ms * 1000.0) / 1000.0}});
  return {{"step_s", StateHistory::kStepMs / 1000}, {"samples", samples}};
}

json agent_row(const AgentEntry& e, int64_t now_wall) {
  const auto& st = e.stored.state;
  json devices = json::array();
  for (const auto& d : e.stored.registration.devices) devices.push_back(d.name);
  int cpu_free = 0;
  int64_t mem_free = 0;
  for (const auto& d : st.source.devices) {
    if (d.device == "cpu") {
      cpu_free = d.free_nodes;
      mem_free = d.free_memory_mb;
    }
  }
  json row{{"agent_id", e.stored.agent_id},
           {"hostname", e.stored.registration.hostname},
           {"machine", e.stored.registration.machine},
           {"liveness", std::string(to_string(e.liveness))},
           {"devices", devices},
           {"profile", e.stored.registration.profile},
           {"cpu_free_nodes", cpu_free},
           {"free_memory_mb", mem_free},
           {"power_w", st.source.power_w},
           {"queued_tasks", st.queue.tasks.size()},
           {"tightest_t_ms", tightest_t_ms(st)},
           {"outbox_depth", st.outbox_depth},
           {"activity", e.activity},
           {"last_seen_s_ago", (now_wall - e.stored.last_seen_ms) / 1000.0},
           {"registrations", e.stored.registrations}};
  if (e.search) row["search"] = proto::to_json(*e.search);
  return row;
}

proto::AdminResponse response(Expected<json> result) {
  proto::AdminResponse resp;
  if (result) {
    resp.ok = true;
    resp.result = std::move(*result);
  } else {
    resp.ok = false;
    resp.code = result.error().code;
    resp.message = result.error().message;
  }
  return resp;
}

}  // namespace

proto::AdminResponse AdminService::handle(const proto::AdminRequest& req,
                                          std::vector<Outgoing>& agent_out,
                                          const AdminCaller& caller) {
  Expected<json> result = Error{std::string(proto::err::kUnknownOp),
                                "unknown operation '" + req.op +
                                    "' (known: status, agents.list, agents.page, agents.show, "
                                    "fleet.summary, traces.list, "
                                    "traces.export, hparams.ask, agents.command, predictor.list, "
                                    "predictor.show, predictor.train, predictor.promote, "
                                    "predictor.rollback, predictor.rollout, predictor.fleet, "
                                    "keys.list, keys.accept, keys.reject, "
                                    "keys.revoke, latency.list, latency.show, latency.train, "
                                    "latency.predict, console.token, console.tokens, "
                                    "console.revoke)"};
  if (req.op == "status") {
    result = status();
  } else if (req.op == "agents.list") {
    result = agents_list();
  } else if (req.op == "agents.page") {
    result = agents_page(req.args);
  } else if (req.op == "fleet.summary") {
    result = fleet_summary();
  } else if (req.op == "agents.show") {
    result = agents_show(req.args);
  } else if (req.op == "traces.list") {
    result = traces_page(req.args, false);
  } else if (req.op == "traces.export") {
    result = traces_page(req.args, true);
  } else if (req.op == "hparams.ask") {
    result = hparams_ask(req.args);
  } else if (req.op == "agents.command") {
    result = agents_command(req.args, agent_out);
  } else if (req.op.rfind("predictor.", 0) == 0) {
    result = predictor_op(req.op, req.args);
  } else if (req.op.rfind("keys.", 0) == 0) {
    result = keys_op(req.op, req.args);
  } else if (req.op.rfind("latency.", 0) == 0) {
    result = latency_op(req.op, req.args);
  } else if (req.op.rfind("console.", 0) == 0) {
    result = console_op(req.op, req.args, caller);
  }
  return response(std::move(result));
}

void AdminService::handle(const proto::AdminRequest& req, std::vector<Outgoing>& agent_out,
                          const AdminCaller& caller, Deliver deliver) {
  const bool list = req.op == "traces.list", full = req.op == "traces.export";
  if (!reads_ || !(list || full)) return deliver(handle(req, agent_out, caller));
  auto query = trace_query(req.args, full);
  if (!query) return deliver(response(query.error()));
  reads_->read(std::move(*query), [deliver = std::move(deliver)](Expected<json> page) {
    deliver(response(std::move(page)));
  });
}

Expected<json> AdminService::status() {
  const auto& reg = core_.registry();
  const auto& m = core_.metrics();
  auto counts = core_.store().counts();
  if (!counts) return counts.error();
  json by_type = json::object();
  for (int t = 0; t <= static_cast<int>(proto::MsgType::admin_response); ++t) {
    if (m.messages_in[static_cast<std::size_t>(t)] > 0) {
      by_type[std::string(proto::to_string(static_cast<proto::MsgType>(t)))] =
          m.messages_in[static_cast<std::size_t>(t)];
    }
  }
  return json{
      {"protocol_version", proto::kProtocolVersion},
      {"epoch", core_.config().epoch},
      {"uptime_s", (core_.clock().wall_ms() - core_.started_ms()) / 1000.0},
      {"heartbeat_interval_ms", reg.heartbeat_interval_ms()},
      {"dead_after_missed", reg.dead_after_missed()},
      {"agents",
       {{"alive", reg.count(Liveness::alive)},
        {"dead", reg.count(Liveness::dead)},
        {"offline", reg.count(Liveness::offline)},
        {"known", reg.all().size()}}},
      {"store",
       {{"schema_version", core_.store().schema_version()},
        {"agents", counts->agents},
        {"traces", counts->traces},
        {"hparam_replies", counts->replies}}},
      {"messages_in", by_type},
      {"errors", m.errors},
      {"traces_acked", m.traces_committed},
      {"batches_committed", m.batches_committed},
      {"commit_failures", m.commit_failures},
      {"hparam_replies", m.hparam_replies},
      {"agents_died", m.agents_died},
      {"hparam_policy", core_.hparam_policy()},
  };
}

Expected<json> AdminService::agents_list() {
  const int64_t now = core_.clock().wall_ms();
  json rows = json::array();
  for (const auto& [id, e] : core_.registry().all()) rows.push_back(agent_row(e, now));
  return json{{"agents", rows}};
}

// One page of the agents, sorted and filtered here (FleetViews) so a console costs O(page) on
// the wire and, within a second of the last same question, on the io thread.
Expected<json> AdminService::agents_page(const json& args) {
  auto offset = arg<int64_t>(args, "offset", 0);
  auto limit = arg<int64_t>(args, "limit", 50);
  auto sort = arg<std::string>(args, "sort", "agent_id");
  auto filter = arg<std::string>(args, "filter", "");
  if (!offset) return offset.error();
  if (!limit) return limit.error();
  if (!sort) return sort.error();
  if (!filter) return filter.error();
  if (*offset < 0) return bad_request("offset must be ≥ 0");
  if (*limit < 1 || *limit > 1000) return bad_request("limit must be in [1, 1000]");
  auto order = views_.ordered(*sort, *filter);
  if (!order) return order.error();
  const auto& agents = **order;
  const auto total = static_cast<int64_t>(agents.size());
  json page = json::array();
  const int64_t now = core_.clock().wall_ms();
  // The ordering may be up to a second old; the rows are read as they are now.
  for (int64_t k = *offset; k < std::min(total, *offset + *limit); ++k)
    page.push_back(agent_row(*agents[static_cast<std::size_t>(k)], now));
  return json{
      {"total", total}, {"offset", *offset}, {"limit", *limit}, {"sort", *sort}, {"agents", page}};
}

// The fleet's counts for the console's header: by state, device, machine and predictor version.
// A pass over the fleet: kept a second (FleetViews::kMaxAgeMs), like agents.page's orderings.
Expected<json> AdminService::fleet_summary() {
  const int64_t now = core_.clock().now_ms();
  if (summary_made_ms_ && now - *summary_made_ms_ < FleetViews::kMaxAgeMs) return summary_;
  auto fresh = count_fleet();
  if (!fresh) return fresh.error();
  summary_ = std::move(*fresh);
  summary_made_ms_ = now;
  return summary_;
}

Expected<json> AdminService::count_fleet() {
  const auto& reg = core_.registry();
  std::map<std::string, int64_t> by_device, by_machine;
  int searching = 0;
  std::vector<std::string> ids;
  ids.reserve(reg.all().size());
  for (const auto& [id, e] : reg.all()) {
    ids.push_back(id);
    for (const auto& d : e.stored.registration.devices) ++by_device[d.name];
    const auto& m = e.stored.registration.machine;
    ++by_machine[m.empty() ? "unknown" : m];
    searching += e.search.has_value() && e.liveness == Liveness::alive;
  }
  json out{{"agents",
            {{"alive", reg.count(Liveness::alive)},
             {"dead", reg.count(Liveness::dead)},
             {"offline", reg.count(Liveness::offline)},
             {"known", reg.all().size()}}},
           {"searching", searching},
           {"by_device", by_device},
           {"by_machine", by_machine},
           {"hparam_policy", core_.hparam_policy()}};
  if (keys_) out["keys"] = keys_->counts_by_state();
  if (predictor_) {
    auto fleet = predictor_->fleet_status(ids);
    if (!fleet) return fleet.error();
    out["predictor"] = std::move(*fleet);
  }
  return out;
}

Expected<json> AdminService::agents_show(const json& args) {
  auto id = arg<std::string>(args, "agent_id", "");
  if (!id) return id.error();
  const AgentEntry* e = core_.registry().find(*id);
  if (!e) return Error{std::string(proto::err::kNotFound), "no agent '" + *id + "'"};
  const int64_t now = core_.clock().wall_ms();
  json out = agent_row(*e, now);
  out["registration"] = proto::to_json(e->stored.registration);
  out["state"] = proto::to_json(e->stored.state);
  out["first_seen_ms"] = e->stored.first_seen_ms;
  out["last_seen_ms"] = e->stored.last_seen_ms;
  out["history"] = history_json(e->history);
  return out;
}

Expected<TraceQuery> AdminService::trace_query(const json& args, bool full) {
  auto agent = arg<std::string>(args, "agent_id", "");
  auto since = arg<int64_t>(args, "since_ms", 0);
  auto limit = arg<int64_t>(args, "limit", 100);
  auto after = arg<std::string>(args, "after_trace_id", "");
  if (!agent) return agent.error();
  if (!since) return since.error();
  if (!limit) return limit.error();
  if (!after) return after.error();
  if (*limit < 1 || *limit > static_cast<int64_t>(limits::kAdminMaxRows)) {
    return bad_request("limit must be in [1, " + std::to_string(limits::kAdminMaxRows) + "]");
  }
  TraceQuery q;
  q.full = full;
  q.filter.agent_id = *agent;
  q.filter.since_ms = *since;
  q.filter.after_trace_id = *after;
  // Pages stay well under the message cap: stop adding rows after ~512 KiB.
  q.filter.limit = std::min<int64_t>(*limit, 1000);
  return q;
}

Expected<json> AdminService::traces_page(const json& args, bool full) {
  auto q = trace_query(args, full);
  if (!q) return q.error();
  auto rows = core_.store().list_traces(q->filter);
  if (!rows) return rows.error();
  return trace_page(*rows, *q);
}

json trace_page(const std::vector<TraceRecord>& rows, const TraceQuery& q) {
  json out = json::array();
  std::size_t bytes = 0;
  json next = nullptr;
  for (const auto& r : rows) {
    json row;
    if (q.full) {
      row = proto::to_json(r.trace);
      row["agent_id"] = r.agent_id;
      row["received_ms"] = r.received_ms;
    } else {
      const auto& t = r.trace;
      row = json{{"trace_id", t.trace_id},
                 {"agent_id", r.agent_id},
                 {"received_ms", r.received_ms},
                 {"status", std::string(to_string(t.outcome.status))},
                 {"policy", t.policy},
                 {"predictor_version", t.predictor_version},
                 {"layers", t.hparams.layers},
                 {"filters", t.hparams.filters},
                 {"kernel", t.hparams.kernel},
                 {"loss", std::string(to_string(t.hparams.loss))},
                 {"accuracy", t.outcome.accuracy},
                 {"latency_ms", t.outcome.latency_ms},
                 {"met_latency", t.outcome.met_latency},
                 {"energy_mj", t.outcome.energy_mj}};
    }
    const std::size_t size = utf8::json_text(row).size();
    if (!out.empty() && bytes + size > 512 * 1024) break;  // the rest goes on the next page
    bytes += size;
    out.push_back(std::move(row));
    next = json{{"since_ms", r.received_ms}, {"after_trace_id", r.trace.trace_id}};
  }
  // A cursor for the next page when this one may not be the last.
  const bool more = out.size() < rows.size() || static_cast<int64_t>(rows.size()) == q.filter.limit;
  return json{{"traces", out}, {"next", more ? next : json(nullptr)}};
}

Expected<json> AdminService::hparams_ask(const json& args) {
  if (!args.is_object() || !args.contains("context")) {
    return bad_request("hparams.ask needs a 'context' argument {job, source, dataset?}");
  }
  auto ctx = proto::from_json<Context>(args["context"], "context");
  if (!ctx) return Error{ctx.error().code, ctx.error().message};
  proto::HparamRequest req;
  req.request_id = "ask";
  req.context = std::move(*ctx);
  return proto::to_json(core_.ask(req));
}

Expected<json> AdminService::agents_command(const json& args, std::vector<Outgoing>& out) {
  auto id = arg<std::string>(args, "agent_id", "");
  auto action = arg<std::string>(args, "action", "");
  if (!id) return id.error();
  if (!action) return action.error();
  auto a = proto::command_action_from_string(*action);
  if (!a)
    return bad_request("unknown action '" + *action + "' (start_search, cancel, reload_config)");
  static std::atomic<uint64_t> counter{0};
  proto::Command cmd;
  cmd.command_id = "cmd-" + std::to_string(core_.started_ms()) + "-" + std::to_string(++counter);
  cmd.action = *a;
  if (args.contains("args") && args["args"].is_object()) cmd.args = args["args"];
  if (auto s = core_.send_command(*id, cmd, out); !s) return s.error();
  return json{{"command_id", cmd.command_id}, {"agent_id", *id}, {"action", *action}};
}

Expected<json> AdminService::predictor_op(const std::string& op, const json& args) {
  if (!predictor_) {
    return Error{std::string(proto::err::kUnavailable),
                 "this coordinator runs no predictor (cold-start policy only)"};
  }
  auto version = arg<int64_t>(args, "version", 0);
  if (!version) return version.error();
  auto reason = arg<std::string>(args, "reason", "edgenasctl");
  if (!reason) return reason.error();
  if (op == "predictor.list") return predictor_->list();
  if (op == "predictor.show") return predictor_->show(static_cast<int>(*version));
  if (op == "predictor.train") return predictor_->train(*reason);
  if (op == "predictor.promote") {
    if (*version < 1) return bad_request("predictor.promote needs a 'version'");
    return predictor_->promote(static_cast<int>(*version), *reason);
  }
  if (op == "predictor.rollback") return predictor_->rollback();
  if (op == "predictor.rollout") {
    auto share = arg<double>(args, "share", 0.1);
    if (!share) return share.error();
    if (*version < 1) return bad_request("predictor.rollout needs a 'version'");
    if (!(*share > 0 && *share <= 1)) return bad_request("'share' must be in (0, 1]");
    return predictor_->rollout(static_cast<int>(*version), *share, *reason);
  }
  if (op == "predictor.fleet") {
    std::vector<std::string> agents;
    for (const auto& [id, e] : core_.registry().all()) agents.push_back(id);
    return predictor_->fleet_status(agents);
  }
  return Error{std::string(proto::err::kUnknownOp),
               "unknown operation '" + op +
                   "' (predictor.list, predictor.show, predictor.train, predictor.promote, "
                   "predictor.rollback, predictor.rollout, predictor.fleet)"};
}

Expected<json> AdminService::keys_op(const std::string& op, const json& args) {
  if (!keys_) {
    return Error{std::string(proto::err::kUnavailable),
                 "this coordinator runs without CURVE (--insecure): there are no keys"};
  }
  if (op == "keys.list") return keys_->list();
  auto who = arg<std::string>(args, "who", "");
  if (!who) return who.error();
  if (who->empty()) return bad_request(op + " needs 'who': a key, a key prefix or an agent id");
  if (op == "keys.accept") return keys_->set_state(*who, KeyState::accepted);
  if (op == "keys.reject") return keys_->set_state(*who, KeyState::rejected);
  if (op == "keys.revoke") return keys_->set_state(*who, KeyState::revoked);
  return Error{std::string(proto::err::kUnknownOp),
               "unknown operation '" + op + "' (keys.list, keys.accept, keys.reject, keys.revoke)"};
}

Expected<json> AdminService::console_op(const std::string& op, const json& args,
                                        const AdminCaller& caller) {
  if (!console_) {
    return Error{std::string(proto::err::kUnavailable),
                 "the web console is off (set console = true, and metrics_endpoint)"};
  }
  if (op == "console.token") {
    if (caller.console)
      return Error{std::string(proto::err::kForbidden),
                   "console tokens are minted on the admin port (edgenasctl console token)"};
    auto ttl = arg<int64_t>(args, "ttl_s", ConsoleAuth::kDefaultTtlMs / 1000);
    if (!ttl) return ttl.error();
    return console_->mint(caller.name, *ttl * 1000);
  }
  if (op == "console.tokens") return console_->list();
  if (op == "console.revoke") {
    auto id = arg<std::string>(args, "id", "");
    if (!id) return id.error();
    return console_->revoke(*id);
  }
  return Error{std::string(proto::err::kUnknownOp),
               "unknown operation '" + op + "' (console.token, console.tokens, console.revoke)"};
}

Expected<json> AdminService::latency_op(const std::string& op, const json& args) {
  if (!latency_) {
    return Error{std::string(proto::err::kUnavailable),
                 "this coordinator runs no latency models (no predictor)"};
  }
  if (op == "latency.list") return latency_->list();
  if (op == "latency.show") {
    auto version = arg<int64_t>(args, "version", 0);
    if (!version) return version.error();
    return latency_->show(static_cast<int>(*version));
  }
  if (op == "latency.train") {
    auto reason = arg<std::string>(args, "reason", "edgenasctl");
    if (!reason) return reason.error();
    return latency_->train(*reason);
  }
  if (op == "latency.predict") return latency_->predict(args);
  return Error{std::string(proto::err::kUnknownOp),
               "unknown operation '" + op +
                   "' (latency.list, latency.show, latency.train, latency.predict)"};
}

}  // namespace edgenas::coordinator
