#include "coordinator/io/coordinator_config.hpp"

#include "coordinator/predictor/targets.hpp"

namespace edgenas::coordinator {

namespace {

using C = CoordinatorConfig;
using namespace config;

Settings<C> make_settings() {
  const std::string co = "coordinator", pr = "predictor", se = "security";
  std::vector<std::pair<std::string, std::string>> targets;
  for (const auto& t : predictor::kTargetKinds) targets.emplace_back(t, t);
  return {
      text<C>(
          co, "agent_endpoint", "--listen", [](C & c) -> auto& { return c.server.agent_endpoint; },
          "the endpoint agents connect to (ZeroMQ ROUTER)"),
      text<C>(
          co, "admin_endpoint", "--admin", [](C & c) -> auto& { return c.server.admin_endpoint; },
          "the endpoint edgenasctl talks to"),
      text<C>(
          co, "database", "--db", [](C & c) -> auto& { return c.database; },
          "the SQLite trace store"),
      duration<C>(
          co, "heartbeat_interval", "--heartbeat-interval", 100,
          [](C & c) -> auto& { return c.heartbeat_interval_ms; },
          "the heartbeat interval assigned to agents"),
      integer<C>(
          co, "dead_after_missed", "--dead-after", 1, 1000,
          [](C & c) -> auto& { return c.dead_after_missed; },
          "missed heartbeats before an agent counts as dead"),
      text<C>(
          co, "log_level", "--log-level", [](C & c) -> auto& { return c.log_level; },
          "debug, info, warn or error"),
      text<C>(
          co, "metrics_endpoint", "--metrics", [](C & c) -> auto& { return c.metrics_endpoint; },
          "HOST:PORT serving /metrics (Prometheus) and /healthz; empty: off"),
      boolean<C>(
          co, "console", "--no-console", false, [](C & c) -> auto& { return c.console; },
          "serve the web console and its JSON API (/ and /api/) beside /metrics, for holders "
          "of a token from `edgenasctl console token` (the flag: /metrics and /healthz only)"),
      duration<C>(
          co, "bind_retry", "--bind-retry", 0,
          [](C & c) -> auto& { return c.server.bind_retry_ms; },
          "how long a taken port is retried at start, e.g. just after a restart (0: "
          "give up at once)"),
      duration<C>(
          co, "slow_round", "--slow-round", 0,
          [](C & c) -> auto& { return c.server.slow_round_ms; },
          "an io-thread round at least this long is logged with its phases"),
      integer<C>(
          co, "io_threads", "--io-threads", 1, 64, [](C & c) -> auto& { return c.io_threads; },
          "ZeroMQ I/O threads; agents' connections (and their CURVE work) are spread over "
          "them (more only helps a coordinator with cores to spare)"),
      boolean<C>(
          pr, "enabled", "--no-predictor", false,
          [](C & c) -> auto& { return c.predictor_enabled; },
          "train and serve a predictor (the flag: serve the cold-start policy only)"),
      text<C>(
          pr, "trainer", "--trainer", [](C & c) -> auto& { return c.predictor.trainer; },
          "the edgenas-predictor binary (empty: the one beside the coordinator)"),
      text<C>(
          pr, "dir", "", [](C & c) -> auto& { return c.predictor.dir; },
          "where versions are written (empty: beside the database)"),
      number<C>(
          pr, "explore", "--explore", 0, 1, [](C & c) -> auto& { return c.predictor.explore; },
          "share of hyperparameter replies that explore"),
      number<C>(
          pr, "explore_wide", "", 0, 1, [](C & c) -> auto& { return c.predictor.explore_wide; },
          "of the exploring replies, the share that explore the whole grid"),
      duration<C>(
          pr, "retrain_every", "", 0, [](C & c) -> auto& { return c.predictor.retrain_every_ms; },
          "retrain on this schedule (0: no schedule)"),
      integer<C>(
          pr, "retrain_after_traces", "--retrain-after", 0, 100'000'000,
          [](C & c) -> auto& { return c.predictor.retrain_after_traces; },
          "retrain after this many new traces (0: not on trace count)"),
      integer<C>(
          pr, "min_traces", "", 25, 100'000'000,
          [](C & c) -> auto& { return c.predictor.min_traces; },
          "no training starts below this many traces"),
      number<C>(
          pr, "gate_margin", "", -1, 1, [](C & c) -> auto& { return c.predictor.gate.margin; },
          "a new version must also be this much better in held-out regret"),
      number<C>(
          pr, "gate_tolerance", "", 0, 10,
          [](C & c) -> auto& { return c.predictor.gate.tolerance; },
          "a new version serves unless its held-out regret is above the serving one's by more "
          "than this many standard errors (0: it must be better)"),
      boolean<C>(
          pr, "auto_promote", "", true, [](C & c) -> auto& { return c.predictor.auto_promote; },
          "promote a version that passes the gate without an admin"),
      duration_text<C>(
          pr, "train_budget", "--train-budget",
          [](C & c) -> auto& { return c.predictor.train_budget; },
          "the predictor trainer's own NAS budget"),
      duration<C>(
          pr, "train_timeout", "", 1000,
          [](C & c) -> auto& { return c.predictor.train_timeout_ms; },
          "a training running longer is killed"),
      choice<C>(
          pr, "targets", "", targets, [](C & c) -> auto& { return c.predictor.targets; },
          "what the trainer fits: the nearest traces' choices, outcomes or progress"),
      text<C>(
          pr, "warm_start", "--warm-start", [](C & c) -> auto& { return c.warm_start; },
          "the predictor a new store serves first, trained in simulation: auto (the one "
          "shipped with the coordinator), off (the cold-start rule), or a directory written "
          "by edgenas-sim warm-start"),
      choice<C>(
          pr, "cold_start_rule", "--cold-start-rule",
          {{"latency-model", ColdStartRule::latency_model},
           {"size-score", ColdStartRule::size_score}},
          [](C & c) -> auto& { return c.predictor.cold_start_rule; },
          "the rule that serves when no predictor does (size-score: the rule before "
          "2026-12-01, a deliberately poor start for experiments)"),
      integer<C>(
          pr, "latency_retrain_after", "", 0, 100'000'000,
          [](C & c) -> auto& { return c.latency_retrain_after; },
          "retrain the fleet's latency models after this many new traces carry measured "
          "latencies (0: only when asked, edgenasctl latency train)"),
      boolean<C>(
          pr, "train_idle", "", true, [](C & c) -> auto& { return c.predictor.train_idle; },
          "run trainings at SCHED_IDLE (only on CPU time nobody else wants) instead of "
          "nice 10"),
      number<C>(
          pr, "rollout_margin", "", 0, 1, [](C & c) -> auto& { return c.predictor.rollout_margin; },
          "a canary whose mean reward is below the baseline's by more is rolled back"),
      integer<C>(
          pr, "rollout_min_traces", "", 1, 1'000'000,
          [](C & c) -> auto& { return c.predictor.rollout_min_traces; },
          "traces each side needs before a canary is judged"),
      boolean<C>(
          se, "curve", "--insecure", false, [](C & c) -> auto& { return c.curve; },
          "CURVE on both ports (the flag: plaintext, any client; experiments only)"),
      boolean<C>(
          se, "auto_accept", "--auto-accept", true, [](C & c) -> auto& { return c.auto_accept; },
          "accept unknown agent keys (no enrolment step)"),
      text<C>(
          se, "key_dir", "--key-dir", [](C & c) -> auto& { return c.key_dir; },
          "coordinator.key, admin.key and admin_keys/ (empty: beside the database)"),
  };
}

}  // namespace

const config::Settings<CoordinatorConfig>& coordinator_settings() {
  static const auto all = make_settings();
  return all;
}

Status load_coordinator_config(const std::string& path, CoordinatorConfig& cfg) {
  auto t = config::parse_file(path);
  if (!t) return t.error();
  return config::read_settings(*t, path, coordinator_settings(), {}, cfg);
}

Status validate(const CoordinatorConfig& cfg) {
  if (cfg.warm_start.empty())
    return Error{errc::kBadConfig, "predictor.warm_start must be \"auto\", \"off\" or a directory"};
  return ok_status();
}

}  // namespace edgenas::coordinator
