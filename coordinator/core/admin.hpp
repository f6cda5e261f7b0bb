#pragma once
// The admin API behind edgenasctl: operations over the registry and the store. Results are
// JSON values carried as msgpack maps (docs/PROTOCOL.md, "Admin operations").
#include <functional>
#include <vector>

#include "coordinator/core/console_auth.hpp"
#include "coordinator/core/coordinator_core.hpp"
#include "coordinator/core/fleet_views.hpp"
#include "coordinator/core/keys.hpp"

namespace edgenas::coordinator {

// A page of traces (traces.list, traces.export): the query parsed from the call's arguments,
// and the page made from the store's rows (pure: a reader thread may make it).
struct TraceQuery {
  TraceFilter filter;
  bool full = false;  // whole traces (export), or one summary row each (list)
};
nlohmann::json trace_page(const std::vector<TraceRecord>& rows, const TraceQuery& q);

// Where trace pages are read. Unattached, the io thread reads them from its own store
// connection; the server attaches a reader thread with a connection of its own
// (coordinator/io/trace_reader), so a slow disk stalls the page and not the agents.
class TraceReads {
 public:
  using Done = std::function<void(Expected<nlohmann::json>)>;
  virtual ~TraceReads() = default;
  // `done` runs later on the thread that drains the reads (the io thread), with the page.
  virtual void read(TraceQuery q, Done done) = 0;
};

// Who made an admin call: an admin key on the admin port, or a console session.
struct AdminCaller {
  std::string name;      // "admin:<key prefix>", "admin port" (no CURVE) or "console:<admin>"
  bool console = false;  // console sessions cannot mint console tokens
};

class AdminService {
 public:
  // predictor: the predictor's admin side, or null when this coordinator has none; keys: the
  // agent key registry, or null when the coordinator runs without CURVE; console: the web
  // console's logins, or null when it is off.
  AdminService(CoordinatorCore& core, PredictorControl* predictor = nullptr,
               KeyRegistry* keys = nullptr, LatencyControl* latency = nullptr,
               ConsoleAuth* console = nullptr)
      : core_(core),
        predictor_(predictor),
        keys_(keys),
        latency_(latency),
        console_(console),
        views_(core.registry(), core.clock()) {}
  // agent_out receives messages to agents (agents.command).
  proto::AdminResponse handle(const proto::AdminRequest& req, std::vector<Outgoing>& agent_out,
                              const AdminCaller& caller = {"admin port", false});
  // The same for callers that can wait: with trace reads attached, a trace page is delivered
  // when the reader has it; every other answer (and every error) at once.
  using Deliver = std::function<void(proto::AdminResponse)>;
  void handle(const proto::AdminRequest& req, std::vector<Outgoing>& agent_out,
              const AdminCaller& caller, Deliver deliver);
  void attach_trace_reads(TraceReads* reads) { reads_ = reads; }

 private:
  Expected<nlohmann::json> status();
  Expected<nlohmann::json> agents_list();
  Expected<nlohmann::json> agents_page(const nlohmann::json& args);
  Expected<nlohmann::json> fleet_summary();
  Expected<nlohmann::json> count_fleet();
  Expected<nlohmann::json> console_op(const std::string& op, const nlohmann::json& args,
                                      const AdminCaller& caller);
  Expected<nlohmann::json> agents_show(const nlohmann::json& args);
  Expected<nlohmann::json> traces_page(const nlohmann::json& args, bool full);
  static Expected<TraceQuery> trace_query(const nlohmann::json& args, bool full);
  Expected<nlohmann::json> hparams_ask(const nlohmann::json& args);
  Expected<nlohmann::json> agents_command(const nlohmann::json& args, std::vector<Outgoing>& out);
  Expected<nlohmann::json> predictor_op(const std::string& op, const nlohmann::json& args);
  Expected<nlohmann::json> keys_op(const std::string& op, const nlohmann::json& args);
  Expected<nlohmann::json> latency_op(const std::string& op, const nlohmann::json& args);

  CoordinatorCore& core_;
  PredictorControl* predictor_;
  KeyRegistry* keys_;
  LatencyControl* latency_;
  ConsoleAuth* console_;
  TraceReads* reads_ = nullptr;
  FleetViews views_;        // agents.page's orderings, kept a second
  nlohmann::json summary_;  // fleet.summary's last answer, and when it was made
  std::optional<int64_t> summary_made_ms_;
};

}  // namespace edgenas::coordinator
