// edgenas-coordinator: the cloud side. Registers agents, tracks their liveness, answers
// hyperparameter requests, stores traces durably, serves the admin API for edgenasctl.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <set>
#include <tuple>

#include "common/util/config.hpp"
#include "common/util/daemon.hpp"
#include "common/util/errors.hpp"
#include "common/util/http_status.hpp"
#include "common/util/log.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/io/metrics.hpp"
#include "coordinator/io/server.hpp"
#include "coordinator/predictor/service.hpp"
#include "coordinator/predictor/targets.hpp"

using namespace edgenas;

namespace {

struct Options {
  std::string config_path;
  coordinator::ServerConfig server;
  std::string database = "/var/lib/edgenas/coordinator.db";
  int64_t heartbeat_interval_ms = limits::kDefaultHeartbeatIntervalMs;
  int dead_after_missed = limits::kDeadAfterMissedHeartbeats;
  std::string log_level = "info";
  std::string metrics_endpoint;  // HOST:PORT for /metrics and /healthz; empty: off
  int io_threads = 1;            // ZeroMQ's I/O threads (CURVE, TCP); connections spread over them
  predictor::PredictorConfig predictor;
  bool predictor_enabled = true;
  std::string warm_start = "auto";  // [predictor] warm_start: auto | off | a directory
  // [security]
  bool curve = true;
  bool auto_accept = false;
  std::string key_dir;  // default: beside the database
};

// edgenas-predictor installed beside the coordinator, or in the build tree's layout.
std::string default_trainer() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& p :
       {self / "edgenas-predictor", self / ".." / "predictor" / "edgenas-predictor"}) {
    if (std::filesystem::exists(p, ec)) return std::filesystem::weakly_canonical(p, ec).string();
  }
  return "";
}

// The warm start shipped with the coordinator: installed beside it, or in the build tree
// (built by edgenas-sim warm-start). "" when there is none.
std::string default_warm_start() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& p :
       {self / ".." / "share" / "edgenas" / "warm-start", self / ".." / ".." / "warm-start"}) {
    if (std::filesystem::exists(p / "model.edgenasp", ec))
      return std::filesystem::weakly_canonical(p, ec).string();
  }
  return "";
}

// warm_start: "auto" (the shipped one, if any), "off", or a directory.
std::string resolve_warm_start(const std::string& setting) {
  if (setting == "off") return "";
  if (setting != "auto") return setting;
  const auto found = default_warm_start();
  if (found.empty())
    log::warn(
        "no warm start found beside the coordinator; the cold-start rule serves until a "
        "version is trained");
  return found;
}

Status load_config(const std::string& path, Options& o) {
  auto t = config::parse_file(path);
  if (!t) return t.error();
  if (auto s = config::check_keys(*t, {"coordinator", "predictor", "security"}, path); !s) return s;
  if (const auto* sec = t->get_as<toml::table>("security")) {
    const std::string w = path + ": [security]";
    if (auto s = config::check_keys(*sec, {"curve", "auto_accept", "key_dir"}, w); !s) return s;
    EDGENAS_CONFIG_READ(config::get_bool(*sec, "curve", w), o.curve);
    EDGENAS_CONFIG_READ(config::get_bool(*sec, "auto_accept", w), o.auto_accept);
    EDGENAS_CONFIG_READ(config::get_string(*sec, "key_dir", w), o.key_dir);
  }
  if (const auto* p = t->get_as<toml::table>("predictor")) {
    const std::string w = path + ": [predictor]";
    if (auto s = config::check_keys(
            *p,
            {"enabled", "trainer", "dir", "explore", "explore_wide", "retrain_every",
             "retrain_after_traces", "min_traces", "gate_margin", "auto_promote", "train_budget",
             "train_timeout", "targets", "rollout_margin", "rollout_min_traces", "warm_start",
             "cold_start_rule", "train_idle"},
            w);
        !s)
      return s;
    auto& P = o.predictor;
    EDGENAS_CONFIG_READ(config::get_bool(*p, "enabled", w), o.predictor_enabled);
    EDGENAS_CONFIG_READ(config::get_string(*p, "trainer", w), P.trainer);
    EDGENAS_CONFIG_READ(config::get_string(*p, "dir", w), P.dir);
    EDGENAS_CONFIG_READ(config::get_double(*p, "explore", w, 0, 1), P.explore);
    EDGENAS_CONFIG_READ(config::get_double(*p, "explore_wide", w, 0, 1), P.explore_wide);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*p, "retrain_every", w), P.retrain_every_ms);
    EDGENAS_CONFIG_READ(config::get_int(*p, "retrain_after_traces", w, 0, 100'000'000),
                        P.retrain_after_traces);
    EDGENAS_CONFIG_READ(config::get_int(*p, "min_traces", w, 25, 100'000'000), P.min_traces);
    EDGENAS_CONFIG_READ(config::get_double(*p, "gate_margin", w, -1, 1), P.gate_margin);
    EDGENAS_CONFIG_READ(config::get_bool(*p, "auto_promote", w), P.auto_promote);
    EDGENAS_CONFIG_READ(config::get_string(*p, "train_budget", w), P.train_budget);
    EDGENAS_CONFIG_READ(config::get_string(*p, "targets", w), P.targets);
    EDGENAS_CONFIG_READ(config::get_string(*p, "warm_start", w), o.warm_start);
    if (o.warm_start.empty())
      return Error{errc::kBadConfig, w + ".warm_start must be \"auto\", \"off\" or a directory"};
    std::string rule(to_string(P.cold_start_rule));
    EDGENAS_CONFIG_READ(config::get_string(*p, "cold_start_rule", w), rule);
    if (auto r = coordinator::cold_start_rule_from_string(rule)) {
      P.cold_start_rule = *r;
    } else {
      return Error{errc::kBadConfig,
                   w + ".cold_start_rule must be \"latency-model\" or \"size-score\""};
    }
    if (!predictor::valid_targets(P.targets))
      return Error{
          "bad_config",
          w + ".targets must be \"knn\", \"outcome\" or \"progress\", not \"" + P.targets + "\""};
    EDGENAS_CONFIG_READ(config::get_duration_ms(*p, "train_timeout", w), P.train_timeout_ms);
    EDGENAS_CONFIG_READ(config::get_bool(*p, "train_idle", w), P.train_idle);
    EDGENAS_CONFIG_READ(config::get_double(*p, "rollout_margin", w, 0, 1), P.rollout_margin);
    EDGENAS_CONFIG_READ(config::get_int(*p, "rollout_min_traces", w, 1, 1'000'000),
                        P.rollout_min_traces);
    if (!config::parse_duration_ms(P.train_budget))
      return Error{errc::kBadConfig, w + ".train_budget must be a duration like \"2m\""};
  }
  const auto* c = t->get_as<toml::table>("coordinator");
  if (!c) return ok_status();
  const std::string where = path + ": [coordinator]";
  if (auto s = config::check_keys(*c,
                                  {"agent_endpoint", "admin_endpoint", "database",
                                   "heartbeat_interval", "dead_after_missed", "log_level",
                                   "metrics_endpoint", "bind_retry", "slow_round", "io_threads"},
                                  where);
      !s) {
    return s;
  }
  EDGENAS_CONFIG_READ(config::get_string(*c, "agent_endpoint", where), o.server.agent_endpoint);
  EDGENAS_CONFIG_READ(config::get_string(*c, "admin_endpoint", where), o.server.admin_endpoint);
  EDGENAS_CONFIG_READ(config::get_string(*c, "database", where), o.database);
  EDGENAS_CONFIG_READ(config::get_duration_ms(*c, "heartbeat_interval", where),
                      o.heartbeat_interval_ms);
  std::optional<int64_t> dead;
  EDGENAS_CONFIG_READ(config::get_int(*c, "dead_after_missed", where, 1, 1000), dead);
  if (dead) o.dead_after_missed = static_cast<int>(*dead);
  EDGENAS_CONFIG_READ(config::get_string(*c, "log_level", where), o.log_level);
  EDGENAS_CONFIG_READ(config::get_string(*c, "metrics_endpoint", where), o.metrics_endpoint);
  EDGENAS_CONFIG_READ(config::get_duration_ms(*c, "bind_retry", where), o.server.bind_retry_ms);
  EDGENAS_CONFIG_READ(config::get_duration_ms(*c, "slow_round", where), o.server.slow_round_ms);
  std::optional<int64_t> io_threads;
  EDGENAS_CONFIG_READ(config::get_int(*c, "io_threads", where, 1, 64), io_threads);
  if (io_threads) o.io_threads = static_cast<int>(*io_threads);
  return ok_status();
}

}  // namespace

// Flags over the config file over the defaults. Returns an exit code when the process should
// end here (help, version, a usage or config error).
std::optional<int> read_options(int argc, char** argv, Options& o, bool& check_config) {
  CLI::App app{
      "edgenas-coordinator: pools traces from the edge fleet and answers hyperparameter requests.\n"
      "Agents connect to --listen (ZeroMQ DEALER→ROUTER, msgpack, docs/PROTOCOL.md); edgenasctl\n"
      "talks to --admin. Settings come from --config (TOML, section [coordinator]); flags win.\n"
      "SIGTERM/SIGINT stop cleanly: pending traces are committed before exit."};
  std::string listen, admin, db, hb, level;
  int dead = 0;
  app.add_option("-c,--config", o.config_path,
                 "TOML config file (e.g. /etc/edgenas/coordinator.toml)")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "agent endpoint (default tcp://*:7700)");
  app.add_option("--admin", admin, "admin endpoint for edgenasctl (default tcp://127.0.0.1:7701)");
  app.add_option("--db", db, "SQLite trace store (default /var/lib/edgenas/coordinator.db)");
  app.add_option("--heartbeat-interval", hb, "heartbeat interval assigned to agents (default 5s)");
  app.add_option("--dead-after", dead, "missed heartbeats before an agent is dead (default 3)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--log-level", level, "debug|info|warn|error (default info)");
  std::string trainer, train_budget;
  double explore = -1;
  int64_t retrain_after = -1;
  bool no_predictor = false;
  app.add_option("--trainer", trainer, "edgenas-predictor binary (default: found beside this one)");
  app.add_option("--explore", explore, "share of hparam replies that explore (default 0.1)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--retrain-after", retrain_after, "retrain after this many new traces (0: off)")
      ->check(CLI::Range(int64_t{0}, int64_t{100'000'000}));
  app.add_option("--train-budget", train_budget, "the predictor trainer's NAS budget (default 2m)");
  app.add_flag("--no-predictor", no_predictor, "serve the cold-start policy only, never train");
  std::string warm_start;
  app.add_option("--warm-start", warm_start,
                 "the predictor a new store serves first, trained in simulation: auto (the one "
                 "shipped with the coordinator), off (the cold-start rule), or a directory "
                 "written by edgenas-sim warm-start (default auto)");
  std::string cold_start_rule;
  app.add_option("--cold-start-rule", cold_start_rule,
                 "the rule that serves when no predictor does: latency-model (default) or "
                 "size-score (the rule before 2026-12-01, a deliberately poor start for "
                 "experiments)")
      ->check(CLI::IsMember({"latency-model", "size-score"}));
  bool insecure = false, auto_accept = false;
  std::string key_dir;
  app.add_flag("--insecure", insecure, "no CURVE: plaintext, any client (experiments only)");
  app.add_flag("--auto-accept", auto_accept, "accept unknown agent keys (no enrolment step)");
  app.add_option("--key-dir", key_dir,
                 "coordinator.key, admin.key and admin_keys/ (default: beside the database)");
  std::string metrics;
  app.add_option("--metrics", metrics,
                 "HOST:PORT serving /metrics (Prometheus) and /healthz (default: off)");
  std::string bind_retry;
  app.add_option("--bind-retry", bind_retry,
                 "how long a taken port is retried at start, e.g. just after a restart "
                 "(default 5s; 0: give up at once)");
  std::string slow_round;
  app.add_option("--slow-round", slow_round,
                 "an io-thread round at least this long is logged with its phases (default 20ms)");
  int io_threads = 0;
  app.add_option("--io-threads", io_threads,
                 "ZeroMQ I/O threads; agents' connections (and their CURVE work) are spread over "
                 "them (default 1; more only helps a coordinator with cores to spare)")
      ->check(CLI::Range(1, 64));
  app.add_flag("--check-config", check_config,
               "read the config and flags, report what is wrong (exit 2) or 'config ok' (exit 0)");
  app.set_version_flag("--version", std::string("edgenas-coordinator 0.1.0, protocol ") +
                                        std::to_string(proto::kProtocolVersion));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help, --version (0) or a usage error (2)
  }

  if (!o.config_path.empty()) {
    if (auto s = load_config(o.config_path, o); !s) {
      std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
      return 2;
    }
  }
  if (!listen.empty()) o.server.agent_endpoint = listen;
  if (!admin.empty()) o.server.admin_endpoint = admin;
  if (!db.empty()) o.database = db;
  if (!level.empty()) o.log_level = level;
  if (dead) o.dead_after_missed = dead;
  if (!trainer.empty()) o.predictor.trainer = trainer;
  if (!train_budget.empty()) o.predictor.train_budget = train_budget;
  if (explore >= 0) o.predictor.explore = explore;
  if (retrain_after >= 0) o.predictor.retrain_after_traces = retrain_after;
  if (no_predictor) o.predictor_enabled = false;
  if (!warm_start.empty()) o.warm_start = warm_start;
  if (!cold_start_rule.empty())
    o.predictor.cold_start_rule = *coordinator::cold_start_rule_from_string(cold_start_rule);
  if (insecure) o.curve = false;
  if (auto_accept) o.auto_accept = true;
  if (!key_dir.empty()) o.key_dir = key_dir;
  if (!metrics.empty()) o.metrics_endpoint = metrics;
  if (io_threads > 0) o.io_threads = io_threads;
  if (!config::parse_duration_ms(o.predictor.train_budget)) {
    std::cerr << "edgenas-coordinator: --train-budget must be a duration like 2m\n";
    return 2;
  }
  for (auto [flag, text, ms] : {std::tuple{"--bind-retry", &bind_retry, &o.server.bind_retry_ms},
                                std::tuple{"--slow-round", &slow_round, &o.server.slow_round_ms}}) {
    if (auto s = config::read_duration_flag(flag, *text, *ms); !s) {
      std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
      return 2;
    }
  }
  if (!hb.empty()) {
    auto d = config::parse_duration_ms(hb);
    if (!d || *d < 100) {
      std::cerr << "edgenas-coordinator: --heartbeat-interval: "
                << (d ? "must be at least 100ms" : d.error().message) << "\n";
      return 2;
    }
    o.heartbeat_interval_ms = *d;
  }
  return std::nullopt;
}

namespace {

// --check-config's answer: what the coordinator would run with.
void print_config_ok(const Options& o) {
  std::cout << "config ok: agents on " << o.server.agent_endpoint << ", admin on "
            << o.server.admin_endpoint << ", store " << o.database << ", CURVE "
            << (o.curve ? "on" : "OFF") << ", warm start "
            << (o.predictor.warm_start.empty() ? "off" : o.predictor.warm_start)
            << ", cold-start rule " << to_string(o.predictor.cold_start_rule) << ", "
            << o.io_threads << " ZeroMQ I/O thread(s)\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool check_config = false;
  if (auto exit = read_options(argc, argv, o, check_config)) return *exit;
  log::init("coordinator", "info");
  if (!log::set_level(o.log_level)) {
    std::cerr << "edgenas-coordinator: unknown log level '" << o.log_level << "'\n";
    return 2;
  }
  o.predictor.warm_start = resolve_warm_start(o.warm_start);
  if (check_config) return print_config_ok(o), 0;

  std::error_code ec;
  auto parent = std::filesystem::path(o.database).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  auto store = coordinator::TraceStore::open(o.database);
  if (!store) {
    std::cerr << "edgenas-coordinator: " << store.error().message << "\n";
    return 1;
  }

  SystemClock clock;
  o.predictor.database = std::filesystem::absolute(o.database).string();
  if (o.predictor.dir.empty())
    o.predictor.dir = (std::filesystem::absolute(o.database).parent_path() / "predictors").string();
  if (o.predictor.trainer.empty()) o.predictor.trainer = default_trainer();
  ProcessLauncher launcher;
  coordinator::ColdStartPolicy cold_start(o.predictor.cold_start_rule);
  std::unique_ptr<predictor::PredictorService> predictor;
  coordinator::HparamService* policy = &cold_start;
  if (o.predictor_enabled) {
    predictor =
        std::make_unique<predictor::PredictorService>(clock, **store, o.predictor, launcher);
    if (auto s = predictor->start(); !s) {
      std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
      return 1;
    }
    policy = predictor.get();
    if (o.predictor.trainer.empty())
      log::warn("no edgenas-predictor found; the predictor will not be trained here");
  }
  coordinator::CoreConfig cfg;
  cfg.heartbeat_interval_ms = o.heartbeat_interval_ms;
  cfg.dead_after_missed = o.dead_after_missed;
  cfg.epoch = daemon::random_hex_id();
  coordinator::IoProfile io_profile(std::chrono::milliseconds(o.server.slow_round_ms));
  coordinator::TimedHparamService timed_policy(*policy, io_profile);
  coordinator::CoordinatorCore core(clock, **store, timed_policy, cfg);
  if (auto s = core.start(); !s) {
    std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
    return 1;
  }
  // CURVE: the coordinator's own key pair, a first admin key for edgenasctl on this host, and
  // the admin public keys in admin_keys/. The ZAP handler is bound before any server socket.
  zmq::context_t ctx(o.io_threads);
  std::unique_ptr<coordinator::KeyRegistry> keys;
  std::unique_ptr<coordinator::ZapServer> zap;
  if (o.curve) {
    if (o.key_dir.empty()) o.key_dir = std::filesystem::absolute(o.database).parent_path().string();
    auto server_keys = proto::load_or_create_keypair(o.key_dir + "/coordinator.key");
    auto admin_key = proto::load_or_create_keypair(o.key_dir + "/admin.key");
    if (!server_keys || !admin_key) {
      std::cerr << "edgenas-coordinator: "
                << (server_keys ? admin_key.error().message : server_keys.error().message) << "\n";
      return 1;
    }
    std::set<std::string> admin_keys{admin_key->public_key};
    std::error_code ec2;
    for (const auto& e : std::filesystem::directory_iterator(o.key_dir + "/admin_keys", ec2)) {
      if (e.path().extension() != ".pub") continue;
      auto k = proto::load_public_key(e.path().string());
      if (!k) {
        std::cerr << "edgenas-coordinator: " << k.error().message << "\n";
        return 2;
      }
      admin_keys.insert(*k);
    }
    keys = std::make_unique<coordinator::KeyRegistry>(clock, **store, o.auto_accept, admin_keys);
    if (auto s = keys->load(); !s) {
      std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
      return 1;
    }
    zap = std::make_unique<coordinator::ZapServer>(ctx, *keys);
    o.server.curve = *server_keys;
    core.set_authorizer([&](const std::string& key, const std::string& agent) {
      return keys->authorize_sender(key, agent);
    });
    log::info("CURVE on", {{"public_key", server_keys->public_key},
                           {"key_dir", o.key_dir},
                           {"admin_keys", admin_keys.size()},
                           {"auto_accept", o.auto_accept}});
  } else {
    log::warn("CURVE is off (--insecure): any client can connect and nothing is encrypted");
  }
  coordinator::AdminService admin_service(core, predictor.get(), keys.get());

  daemon::SignalWatcher signals;
  // A second connection for the commit thread; the first serves reads (admin) on the io thread.
  auto writer = coordinator::TraceStore::open(o.database);
  if (!writer) {
    std::cerr << "edgenas-coordinator: " << writer.error().message << "\n";
    return 1;
  }
  coordinator::Server server(ctx, core, admin_service, o.server, io_profile, std::move(*writer),
                             zap.get());
  auto counted = (*store)->trace_count();
  const int64_t traces_at_start = counted ? *counted : 0;
  // /metrics and /healthz: the io thread renders the page on its tick; healthz turns 503 when
  // the io loop has not rendered for three heartbeat intervals (at least 5 s).
  http::StatusBoard board;
  std::unique_ptr<http::StatusServer> status_http;
  if (!o.metrics_endpoint.empty()) {
    auto h = http::StatusServer::start(
        o.metrics_endpoint, board,
        std::chrono::milliseconds(std::max<int64_t>(5000, 3 * cfg.heartbeat_interval_ms)),
        o.server.bind_retry_ms);
    if (!h) {
      std::cerr << "edgenas-coordinator: " << h.error().message << "\n";
      return 1;
    }
    status_http = std::move(*h);
    log::info("serving /metrics and /healthz", {{"endpoint", o.metrics_endpoint}});
  }
  int64_t stored = traces_at_start;
  server.on_tick([&] {
    if (predictor) predictor->tick(traces_at_start + core.metrics().traces_committed);
    if (!status_http) return;
    if (auto c = (*store)->trace_count()) stored = *c;  // O(log n), resends not counted twice
    board.publish(coordinator::render_metrics({core, server, keys.get(), predictor.get(), stored}));
  });
  if (auto s = server.bind(); !s) {
    std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
    return 1;
  }
  log::info("coordinator started", {{"epoch", cfg.epoch},
                                    {"database", o.database},
                                    {"heartbeat_interval_ms", cfg.heartbeat_interval_ms},
                                    {"hparam_policy", policy->describe()},
                                    {"protocol", proto::kProtocolVersion}});
  server.run(signals.stop_requested());
  log::info("coordinator stopped");
  return 0;
}
