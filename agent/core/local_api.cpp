#include "agent/core/local_api.hpp"

#include <algorithm>

#include "common/protocol/codec.hpp"
#include "common/util/log.hpp"

namespace edgenas::agent {

using nlohmann::json;

namespace {

Error bad_request(std::string message) {
  return Error{std::string(proto::err::kBadRequest), std::move(message)};
}

proto::AdminResponse error_response(const Error& e) {
  return {false, e.code, e.message, json::object()};
}

proto::AdminResponse response_of(Expected<json> result) {
  if (!result) return error_response(result.error());
  return {true, "", "", std::move(*result)};
}

}  // namespace

LocalApi::LocalApi(const Clock& clock, AgentCore& core, TaskQueue& queue, TaskStore& tasks,
                   Outbox& outbox, SearchRunner& search, BoxFacts box,
                   std::set<std::string> config_task_ids)
    : clock_(clock),
      core_(core),
      queue_(queue),
      tasks_(tasks),
      outbox_(outbox),
      search_(search),
      box_(std::move(box)),
      config_task_ids_(std::move(config_task_ids)) {}

LocalAnswer LocalApi::handle(const proto::AdminRequest& req) {
  const json& args = req.args;
  if (req.op == "hparams.request") return hparams_request(args);
  Expected<json> result = Error{std::string(proto::err::kUnknownOp),
                                "unknown operation '" + req.op +
                                    "' (status, task.submit, task.done, task.list, trace.submit, "
                                    "hparams.request, search.start, search.cancel, "
                                    "search.status, probe)"};
  if (req.op == "status") {
    result = status();
  } else if (req.op == "task.submit") {
    result = task_submit(args);
  } else if (req.op == "task.done") {
    result = task_done(args);
  } else if (req.op == "task.list") {
    result = task_list();
  } else if (req.op == "trace.submit") {
    result = trace_submit(args);
  } else if (req.op == "search.start") {
    result = search_start(args);
  } else if (req.op == "search.cancel") {
    result = search_cancel();
  } else if (req.op == "search.status") {
    result = search_.status();
  } else if (req.op == "probe") {
    result = probe();
  }
  return {response_of(std::move(result)), std::nullopt, 0};
}

Expected<json> LocalApi::status() const {
  const auto& st = core_.stats();
  return json{{"agent_id", core_.agent_id()},
              {"link", std::string(to_string(core_.state()))},
              {"coordinator", box_.coordinator},
              {"coordinator_epoch", core_.coordinator_epoch()},
              {"heartbeat_interval_ms", core_.heartbeat_interval_ms()},
              {"queued_tasks", queue_.size()},
              {"outbox_depth", outbox_.depth()},
              {"outbox_dropped", outbox_.dropped()},
              {"outbox_quarantined", outbox_.quarantined()},
              {"power_source", box_.power_source},
              {"profile", box_.profile},
              {"source", proto::to_json(core_.source())},
              {"search", search_.status()},
              {"stats",
               {{"messages_in", st.messages_in},
                {"messages_out", st.messages_out},
                {"bad_messages_in", st.bad_messages_in},
                {"link_losses", st.link_losses},
                {"registrations", st.registrations},
                {"traces_sent", st.traces_sent},
                {"traces_acked", st.traces_acked},
                {"traces_rejected", st.traces_rejected},
                {"hparam_replies", st.hparam_replies}}}};
}

Expected<json> LocalApi::task_submit(const json& args) {
  auto task = proto::from_json<JobTask>(args.value("task", json::object()), "task");
  if (!task) return task.error();
  if (auto s = queue_.submit(*task); !s) return s.error();
  if (auto s = tasks_.save_task(*task); !s) {
    (void)queue_.done(task->task_id);
    return s.error();
  }
  core_.queue_changed();
  log::info("task queued", {{"task", task->task_id}, {"latency_req_ms", task->latency_req_ms}});
  return json{{"task_id", task->task_id}, {"queued_tasks", queue_.size()}};
}

Expected<json> LocalApi::task_done(const json& args) {
  const std::string id = args.value("task_id", "");
  if (config_task_ids_.count(id))
    return bad_request("task '" + id + "' comes from the config file; remove it there");
  if (auto s = queue_.done(id); !s) return s.error();
  if (auto s = tasks_.delete_task(id); !s) return s.error();
  core_.queue_changed();
  log::info("task finished", {{"task", id}});
  return json{{"task_id", id}, {"queued_tasks", queue_.size()}};
}

Expected<json> LocalApi::task_list() const {
  json tasks = proto::to_json(queue_.matrix())["tasks"];
  for (auto& t : tasks)
    t["from_config"] = config_task_ids_.count(t["task_id"].get<std::string>()) > 0;
  return json{{"tasks", tasks}};
}

// The caller may leave out what the agent knows: id, time, and the current context.
Expected<json> LocalApi::trace_submit(const json& args) {
  json j = args.value("trace", json::object());
  if (!j.is_object()) return bad_request("args.trace must be an object");
  if (!j.contains("trace_id")) {
    j["trace_id"] = core_.agent_id() + "-" + std::to_string(clock_.wall_ms()) + "-" +
                    std::to_string(++trace_counter_);
  }
  if (!j.contains("created_ms")) j["created_ms"] = clock_.wall_ms();
  if (!j.contains("context")) j["context"] = proto::to_json(core_.context());
  auto trace = proto::from_json<Trace>(j, "trace");
  if (!trace) return trace.error();
  if (auto s = core_.submit_trace(*trace); !s) return s.error();
  return json{{"trace_id", trace->trace_id}, {"outbox_depth", outbox_.depth()}};
}

// Asks the coordinator with the box's context (and the data set's shape, when given); the
// caller answers once the reply is in or the timeout (0.1 s to 10 min, 10 s by default) passed.
LocalAnswer LocalApi::hparams_request(const json& args) {
  const int64_t timeout_ms = args.value("timeout_ms", int64_t{10'000});
  auto ctx = core_.context();
  if (args.contains("dataset")) {
    auto ds = proto::from_json<DatasetShape>(args["dataset"], "dataset");
    if (!ds) return {error_response(ds.error()), std::nullopt, 0};
    ctx.dataset = *ds;
  }
  return {{}, core_.request_hparams(ctx, 0), std::clamp<int64_t>(timeout_ms, 100, 600'000)};
}

Expected<json> LocalApi::search_start(const json& args) {
  auto run = search_.start("local", args.is_object() ? args : json::object());
  if (!run) return run.error();
  return json{{"run_id", *run}};
}

Expected<json> LocalApi::search_cancel() {
  if (auto s = search_.cancel("edgenas-agent search cancel"); !s) return s.error();
  return search_.status();
}

Expected<json> LocalApi::probe() const {
  json devices = json::array();
  for (const auto& d : box_.devices()) devices.push_back(proto::to_json(d));
  return json{{"devices", devices}, {"source", proto::to_json(core_.source())}};
}

}  // namespace edgenas::agent
