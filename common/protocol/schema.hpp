#pragma once
// The edgenas wire schema: every message that crosses a socket. docs/PROTOCOL.md is the
// normative description of these structs; change both together and bump kProtocolVersion
// when a change is not backward compatible (adding an optional field is compatible).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/model/model.hpp"

namespace edgenas::proto {

inline constexpr int kProtocolVersion = 1;

enum class MsgType {
  register_agent,
  reregister,
  welcome,
  heartbeat,
  heartbeat_ack,
  queue_report,
  hparam_request,
  hparam_reply,
  trace,
  ack,
  command,
  error,
  admin_request,
  admin_response,
};
std::string_view to_string(MsgType t);
std::optional<MsgType> msg_type_from_string(std::string_view s);

// Error codes carried by Error and AdminResponse (see docs/PROTOCOL.md, "Error codes").
namespace err {
inline constexpr std::string_view kMalformed = "malformed";       // not msgpack / not an envelope
inline constexpr std::string_view kBadVersion = "bad_version";    // protocol version mismatch
inline constexpr std::string_view kUnknownType = "unknown_type";  // type not in MsgType
inline constexpr std::string_view kBadField = "bad_field";        // missing/wrong type/out of range
inline constexpr std::string_view kInvalid = "invalid";           // fields inconsistent together
inline constexpr std::string_view kTooLarge = "too_large";        // over an unpack limit
inline constexpr std::string_view kNotRegistered = "not_registered";  // send Register/Reregister
inline constexpr std::string_view kUnexpected = "unexpected";         // valid type, wrong direction
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kUnknownOp = "unknown_op";
inline constexpr std::string_view kBadRequest = "bad_request";
inline constexpr std::string_view kInternal = "internal";
inline constexpr std::string_view kUnavailable = "unavailable";
inline constexpr std::string_view kRevoked = "revoked";      // the sender's key is not accepted
inline constexpr std::string_view kForbidden = "forbidden";  // the key belongs to another agent
}  // namespace err

// agent → coordinator: first message on a fresh start.
struct Register {
  std::string agent_version;
  std::string hostname;
  std::vector<DeviceInfo> devices;  // devices[0] is the CPU
  std::string power_source;         // "rapl" (measured), "model" or "simulated"
  std::string profile;              // device profile name when simulated, else ""
  std::string machine;              // the box's CPU architecture (uname -m: x86_64, aarch64)

  template <class V>
  void fields(V& v) {
    v.str("agent_version", agent_version, nullptr, "");
    v.str("hostname", hostname, nullptr, "");
    v.list("devices", devices, 1, limits::kMaxDevices);
    v.str("power_source", power_source, nullptr, "");
    v.opt_str("profile", profile);
    v.opt_str("machine", machine);
  }
  // As a Context's Source matrix: devices[0] is the CPU, no device twice.
  Status validate() const;
};

// The agent's state that a restarted coordinator has lost and gets back in Reregister.
struct AgentState {
  JobMatrix queue;
  SourceMatrix source;
  int64_t outbox_depth = 0;
  int64_t searches_run = 0;
  int last_predictor_version = 0;
  int64_t uptime_s = 0;

  template <class V>
  void fields(V& v) {
    v.obj("queue", queue);
    v.obj("source", source);
    v.num("outbox_depth", outbox_depth, int64_t{0}, INT64_MAX);
    v.num("searches_run", searches_run, int64_t{0}, INT64_MAX);
    v.num("last_predictor_version", last_predictor_version, 0, 1'000'000'000);
    v.num("uptime_s", uptime_s, int64_t{0}, INT64_MAX);
  }
};

// agent → coordinator: after the coordinator said not_registered (it restarted) or after the
// agent lost the link; carries what the agent knows so nothing is lost.
struct Reregister {
  Register registration;
  AgentState state;

  template <class V>
  void fields(V& v) {
    v.obj("registration", registration);
    v.obj("state", state);
  }
};

// coordinator → agent: answer to Register/Reregister; assigns timing and limits.
struct Welcome {
  std::string coordinator_epoch;  // changes on every coordinator start
  int64_t heartbeat_interval_ms = 0;
  int dead_after_missed = 0;
  int64_t max_message_bytes = 0;
  int64_t trace_resend_ms = 0;
  bool restored = false;  // true when a Reregister restored a known agent

  template <class V>
  void fields(V& v) {
    v.str("coordinator_epoch", coordinator_epoch, nullptr, "");
    v.num("heartbeat_interval_ms", heartbeat_interval_ms, int64_t{100}, int64_t{3'600'000});
    v.num("dead_after_missed", dead_after_missed, 1, 1000);
    v.num("max_message_bytes", max_message_bytes, int64_t{1024}, int64_t{1} << 30);
    v.num("trace_resend_ms", trace_resend_ms, int64_t{100}, int64_t{86'400'000});
    v.flag("restored", restored);
  }
};

// Where the agent's current NAS run is (relayed from edgenas-search's progress events).
struct SearchProgress {
  std::string run_id;
  std::string phase;  // "inspecting", "requesting", "running", "stopping"
  int trials = 0;     // trials finished
  double best_accuracy = 0;
  double best_latency_ms = 0;
  double elapsed_s = 0;
  double budget_s = 0;

  template <class V>
  void fields(V& v) {
    v.str("run_id", run_id, valid_id, "an id of [A-Za-z0-9._:@-]");
    v.str("phase", phase, nullptr, "");
    v.num("trials", trials, 0, 100'000'000);
    v.num("best_accuracy", best_accuracy, 0.0, 1.0);
    v.num("best_latency_ms", best_latency_ms, 0.0, limits::kMaxLatencyMs);
    v.num("elapsed_s", elapsed_s, 0.0, 1e9);
    v.num("budget_s", budget_s, 0.0, 1e9);
  }
};

inline bool valid_activity(std::string_view a) {
  return a == "idle" || a == "searching";
}

struct Heartbeat {
  uint64_t seq = 0;
  SourceMatrix source;
  int queued_tasks = 0;
  int64_t outbox_depth = 0;
  std::string activity;                  // "idle" or "searching"
  std::optional<SearchProgress> search;  // while a NAS run is under way

  template <class V>
  void fields(V& v) {
    v.num("seq", seq, uint64_t{0}, UINT64_MAX);
    v.obj("source", source);
    v.num("queued_tasks", queued_tasks, 0, static_cast<int>(limits::kMaxQueuedTasks));
    v.num("outbox_depth", outbox_depth, int64_t{0}, INT64_MAX);
    v.str("activity", activity, valid_activity, "\"idle\" or \"searching\"");
    v.opt_obj("search", search);
  }
};

struct HeartbeatAck {
  uint64_t seq = 0;

  template <class V>
  void fields(V& v) {
    v.num("seq", seq, uint64_t{0}, UINT64_MAX);
  }
};

// agent → coordinator: the whole Job matrix, sent whenever it changes.
struct QueueReport {
  uint64_t revision = 0;  // increases with every change; older revisions are ignored
  JobMatrix job;

  template <class V>
  void fields(V& v) {
    v.num("revision", revision, uint64_t{0}, UINT64_MAX);
    v.obj("job", job);
  }
};

struct HparamRequest {
  std::string request_id;
  Context context;
  int latency_version = 0;  // the fleet latency models the agent holds (0: none; optional)

  template <class V>
  void fields(V& v) {
    v.str("request_id", request_id, valid_id, "an id of [A-Za-z0-9._:@-]");
    v.obj("context", context);
    v.opt_num("latency_version", latency_version, 0, 1'000'000'000);
  }
};

// The fleet's latency models (common/search/latency_set.hpp, JSON form), sent with a reply when
// the coordinator serves a newer version than the request says the agent holds. `models` is
// checked by its reader (search::latency_models_from_json), not here.
struct LatencyModelsOffer {
  int version = 0;
  nlohmann::json models = nlohmann::json::object();

  template <class V>
  void fields(V& v) {
    v.num("version", version, 1, 1'000'000'000);
    v.any("models", models);
  }
};

struct HparamReply {
  std::string request_id;
  Hyperparameters hparams;
  std::string policy;         // "cold-start", "predictor", "explore"
  int predictor_version = 0;  // 0 when no predictor version chose them
  bool explore = false;
  std::string reason;                                        // one line: why these values
  std::optional<LatencyModelsOffer> latency = std::nullopt;  // newer models than the agent holds

  template <class V>
  void fields(V& v) {
    v.str("request_id", request_id, valid_id, "an id of [A-Za-z0-9._:@-]");
    v.obj("hparams", hparams);
    v.str("policy", policy, valid_id, "a policy name");
    v.num("predictor_version", predictor_version, 0, 1'000'000'000);
    v.flag("explore", explore);
    v.opt_str("reason", reason);
    v.opt_obj("latency", latency);
  }
};

// The body of a "trace" message is a Trace (common/model).

struct Ack {
  std::vector<std::string> trace_ids;  // durably stored (committed) traces

  template <class V>
  void fields(V& v) {
    v.id_list("trace_ids", trace_ids, limits::kMaxArrayItems);
  }
};

enum class CommandAction { start_search, cancel, reload_config };
std::string_view to_string(CommandAction a);
std::optional<CommandAction> command_action_from_string(std::string_view s);

// coordinator → agent.
struct Command {
  std::string command_id;
  CommandAction action = CommandAction::start_search;
  nlohmann::json args = nlohmann::json::object();

  template <class V>
  void fields(V& v) {
    v.str("command_id", command_id, valid_id, "an id of [A-Za-z0-9._:@-]");
    v.enumeration("action", action, command_action_from_string);
    v.any("args", args);
  }
};

struct ErrorMsg {
  std::string code;
  std::string message;
  uint64_t ref_msg_id = 0;  // msg_id of the message this answers (0 when unknown)

  template <class V>
  void fields(V& v) {
    v.str("code", code, nullptr, "");
    v.str("message", message, nullptr, "");
    v.num("ref_msg_id", ref_msg_id, uint64_t{0}, UINT64_MAX);
  }
};

// edgenasctl → coordinator admin port (and edgenas-agent task … → the agent's local socket).
struct AdminRequest {
  std::string op;  // e.g. "status", "agents.list", "traces.list"
  nlohmann::json args = nlohmann::json::object();

  template <class V>
  void fields(V& v) {
    v.str("op", op, nullptr, "");
    v.any("args", args);
  }
};

struct AdminResponse {
  bool ok = true;
  std::string code;     // error code when !ok
  std::string message;  // error message when !ok
  nlohmann::json result = nlohmann::json::object();

  template <class V>
  void fields(V& v) {
    v.flag("ok", ok);
    v.opt_str("code", code);
    v.opt_str("message", message);
    v.any("result", result);
  }
};

template <class T>
struct MsgTypeOf;
#define EDGENAS_MSG(T, t)                        \
  template <>                                    \
  struct MsgTypeOf<T> {                          \
    static constexpr MsgType value = MsgType::t; \
  }
EDGENAS_MSG(Register, register_agent);
EDGENAS_MSG(Reregister, reregister);
EDGENAS_MSG(Welcome, welcome);
EDGENAS_MSG(Heartbeat, heartbeat);
EDGENAS_MSG(HeartbeatAck, heartbeat_ack);
EDGENAS_MSG(QueueReport, queue_report);
EDGENAS_MSG(HparamRequest, hparam_request);
EDGENAS_MSG(HparamReply, hparam_reply);
EDGENAS_MSG(Trace, trace);
EDGENAS_MSG(Ack, ack);
EDGENAS_MSG(Command, command);
EDGENAS_MSG(ErrorMsg, error);
EDGENAS_MSG(AdminRequest, admin_request);
EDGENAS_MSG(AdminResponse, admin_response);
#undef EDGENAS_MSG

}  // namespace edgenas::proto
