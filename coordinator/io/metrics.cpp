#include "coordinator/io/metrics.hpp"

#include "common/protocol/schema.hpp"
#include "common/util/prometheus.hpp"
#include "coordinator/core/console_auth.hpp"
#include "coordinator/core/coordinator_core.hpp"
#include "coordinator/core/keys.hpp"
#include "coordinator/io/server.hpp"
#include "coordinator/predictor/service.hpp"

namespace edgenas::coordinator {

std::string render_metrics(const MetricsSources& s) {
  prom::Text t;
  const auto& reg = s.core.registry();
  const auto& m = s.core.metrics();
  t.family("edgenas_agents", "gauge", "Known agents by liveness (alive, dead, offline)");
  t.sample(reg.count(Liveness::alive), {{"state", "alive"}});
  t.sample(reg.count(Liveness::dead), {{"state", "dead"}});
  t.sample(reg.count(Liveness::offline), {{"state", "offline"}});
  if (s.keys) {
    t.family(
        "edgenas_agent_keys", "gauge",
        "Agent CURVE keys by enrolment state (pending keys wait for `edgenasctl keys accept`)");
    for (const auto& [state, n] : s.keys->counts_by_state())
      t.sample(static_cast<double>(n), {{"state", state}});
  }
  if (s.console) s.console->write_metrics(t);
  t.family("edgenas_agents_died_total", "counter", "Agents declared dead (missed heartbeats)");
  t.sample(static_cast<double>(m.agents_died));
  t.family("edgenas_registrations_repeated_total", "counter",
           "Registers repeated on a connection that already has its session (answered, not "
           "counted)");
  t.sample(static_cast<double>(m.repeated_registrations));
  t.family("edgenas_messages_received_total", "counter", "Agent messages received, by type");
  for (int i = 0; i <= static_cast<int>(proto::MsgType::admin_response); ++i) {
    const auto type = static_cast<proto::MsgType>(i);
    // Every type an agent sends is listed, so rates exist before the first one arrives.
    const int64_t n = m.messages_in[static_cast<std::size_t>(i)];
    const bool from_agents =
        type == proto::MsgType::register_agent || type == proto::MsgType::reregister ||
        type == proto::MsgType::heartbeat || type == proto::MsgType::hparam_request ||
        type == proto::MsgType::trace;
    if (n > 0 || from_agents)
      t.sample(static_cast<double>(n), {{"type", std::string(proto::to_string(type))}});
  }
  t.family("edgenas_errors_total", "counter", "Error replies sent to agents, by error code");
  for (const auto& [code, n] : m.errors) t.sample(static_cast<double>(n), {{"code", code}});
  t.family("edgenas_traces_acked_total", "counter",
           "Traces committed and acked (resends included)");
  t.sample(static_cast<double>(m.traces_committed));
  t.family("edgenas_traces_stored", "gauge", "Traces in the store");
  t.sample(static_cast<double>(s.traces_stored));
  t.family("edgenas_commits_total", "counter", "Group commits, by result");
  t.sample(static_cast<double>(m.batches_committed), {{"result", "ok"}});
  t.sample(static_cast<double>(m.commit_failures), {{"result", "failed"}});
  t.family("edgenas_hparam_replies_total", "counter",
           "Hyperparameter replies, by predictor version (0: none) and policy");
  for (const auto& [k, n] : m.hparam_replies_by)
    t.sample(static_cast<double>(n),
             {{"predictor_version", std::to_string(k.first)}, {"policy", k.second}});
  if (s.predictor) {
    t.family("edgenas_predictor_serving_version", "gauge",
             "The predictor version that serves (0: the cold-start policy)");
    t.sample(s.predictor->serving_version());
    t.family("edgenas_predictor_training", "gauge", "1 while a predictor training runs");
    t.sample(s.predictor->training() ? 1 : 0);
    t.family("edgenas_predictor_canary_version", "gauge",
             "The version in a canary rollout (0: none)");
    t.sample(s.predictor->rollout_version());
    t.family("edgenas_predictor_canary_rollbacks_total", "counter",
             "Canary rollouts rolled back automatically (worse reward than the baseline)");
    t.sample(static_cast<double>(s.predictor->automatic_rollbacks()));
    t.family("edgenas_predictor_trainings_total", "counter",
             "Predictor trainings since start, by outcome (started, failed, candidate, rejected)");
    for (const auto& [outcome, n] : s.predictor->training_runs())
      t.sample(static_cast<double>(n), {{"outcome", outcome}});
    t.family("edgenas_predictor_last_training_failed", "gauge",
             "1 while the newest predictor training failed (predictor list says why)");
    t.sample(s.predictor->last_training_failed() ? 1 : 0);
  }
  s.server.write_metrics(t);
  t.family("edgenas_uptime_seconds", "gauge", "Seconds since the coordinator started");
  t.sample(static_cast<double>(s.core.clock().wall_ms() - s.core.started_ms()) / 1000.0);
  return t.str();
}

}  // namespace edgenas::coordinator
