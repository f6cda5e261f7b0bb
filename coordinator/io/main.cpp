// edgenas-coordinator: the cloud side. Registers agents, tracks their liveness, answers
// hyperparameter requests, stores traces durably, serves the admin API for edgenasctl.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <set>
#include <tuple>

#include "common/util/daemon.hpp"
#include "common/util/errors.hpp"
#include "common/util/http_status.hpp"
#include "common/util/log.hpp"
#include "common/util/settings_cli.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/io/console_pages.hpp"
#include "coordinator/io/coordinator_config.hpp"
#include "coordinator/io/metrics.hpp"
#include "coordinator/io/server.hpp"
#include "coordinator/predictor/latency_service.hpp"
#include "coordinator/predictor/service.hpp"
#include "coordinator/predictor/targets.hpp"

using namespace edgenas;

namespace {

using Options = coordinator::CoordinatorConfig;

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
  auto found = default_warm_start();
  if (found.empty())
    log::warn(
        "no warm start found beside the coordinator; the cold-start rule serves until a "
        "version is trained");
  return found;
}

// The admin public keys and their names for the record: the coordinator's own admin.key is
// "admin", admin_keys/NAME.pub is NAME.
Expected<std::map<std::string, std::string>> admin_keys_named(const std::string& key_dir,
                                                              const std::string& own) {
  std::map<std::string, std::string> named{{own, "admin"}};
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(key_dir + "/admin_keys", ec)) {
    if (e.path().extension() != ".pub") continue;
    auto k = proto::load_public_key(e.path().string());
    if (!k) return k.error();
    named.emplace(*k, e.path().stem().string());
  }
  return named;
}

// /metrics, /healthz and the console's routes, when metrics_endpoint is set (else null).
// healthz turns 503 when the io loop has not rendered for three heartbeat intervals (≥ 5 s).
Expected<std::unique_ptr<http::StatusServer>> start_http(const Options& o,
                                                         const http::StatusBoard& board,
                                                         int64_t heartbeat_ms,
                                                         std::vector<http::Route> routes) {
  if (o.metrics_endpoint.empty()) return std::unique_ptr<http::StatusServer>();
  const bool console = !routes.empty();
  auto h = http::StatusServer::start(
      o.metrics_endpoint, board,
      std::chrono::milliseconds(std::max<int64_t>(5000, 3 * heartbeat_ms)), o.server.bind_retry_ms,
      std::move(routes));
  if (!h) return h.error();
  log::info(
      console ? "serving /metrics, /healthz and the web console" : "serving /metrics and /healthz",
      {{"endpoint", o.metrics_endpoint}});
  return std::move(*h);
}

}  // namespace

// Flags over the config file over the defaults. Returns an exit code when the process should
// end here (help, version, a usage or config error).
std::optional<int> read_options(int argc, char** argv, Options& o, bool& check_config) {
  CLI::App app{
      "edgenas-coordinator: pools traces from the edge fleet and answers hyperparameter requests.\n"
      "Agents connect to --listen (ZeroMQ DEALER→ROUTER, msgpack, docs/PROTOCOL.md); edgenasctl\n"
      "talks to --admin. Settings come from --config (TOML; every key in docs/CONFIG.md); flags\n"
      "win. SIGTERM/SIGINT stop cleanly: pending traces are committed before exit."};
  app.add_option("-c,--config", o.config_path,
                 "TOML config file (e.g. /etc/edgenas/coordinator.toml)")
      ->check(CLI::ExistingFile);
  const auto& settings = coordinator::coordinator_settings();
  config::SettingFlags<Options> flags(app, settings, Options{});
  bool reference = false;
  app.add_flag("--config-reference", reference,
               "print every setting (file key, flag, type, default) as a Markdown table");
  app.add_flag("--check-config", check_config,
               "read the config and flags, report what is wrong (exit 2) or 'config ok' (exit 0)");
  app.set_version_flag("--version", std::string("edgenas-coordinator 0.1.0, protocol ") +
                                        std::to_string(proto::kProtocolVersion));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help, --version (0) or a usage error (2)
  }
  if (reference) {
    std::cout << config::reference(settings, Options{});
    return 0;
  }
  Status s =
      o.config_path.empty() ? ok_status() : coordinator::load_coordinator_config(o.config_path, o);
  if (s) s = config::apply_flags(flags.given(), settings, o);
  if (s) s = coordinator::validate(o);
  if (!s) {
    std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
    return 2;
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

// What the coordinator learns from its traces, when the predictor is on: the hyperparameter
// predictor and the fleet's latency models, each loaded from the store and started.
struct Learning {
  std::unique_ptr<predictor::PredictorService> predictor;
  std::unique_ptr<predictor::LatencyService> latency;
};

Expected<Learning> start_learning(const Clock& clock, coordinator::TraceStore& store,
                                  const Options& o, ChildLauncher& launcher) {
  Learning l;
  if (!o.predictor_enabled) return l;
  l.predictor = std::make_unique<predictor::PredictorService>(clock, store, o.predictor, launcher);
  if (auto s = l.predictor->start(); !s) return s.error();
  if (o.predictor.trainer.empty())
    log::warn("no edgenas-predictor found; the predictor will not be trained here");
  l.latency = std::make_unique<predictor::LatencyService>(
      clock, store,
      predictor::LatencyConfig{o.predictor.dir + "/latency", o.predictor.trainer,
                               o.predictor.database, o.latency_retrain_after, 30'000, 600'000,
                               o.predictor.train_idle},
      launcher);
  if (auto s = l.latency->start(); !s) return s.error();
  return l;
}

struct Curve {
  std::unique_ptr<coordinator::KeyRegistry> keys;
  std::unique_ptr<coordinator::ZapServer> zap;
};

// CURVE: the coordinator's own key pair, a first admin key for edgenasctl on this host, and
// the admin public keys in admin_keys/; the ZAP handler, bound before any server socket. Off:
// a warning. The exit code when it cannot start.
std::optional<int> start_curve(Options& o, Clock& clock, coordinator::TraceStore& store,
                               zmq::context_t& ctx, coordinator::CoordinatorCore& core,
                               Curve& out) {
  if (o.curve) {
    if (o.key_dir.empty()) o.key_dir = std::filesystem::absolute(o.database).parent_path().string();
    auto server_keys = proto::load_or_create_keypair(o.key_dir + "/coordinator.key");
    auto admin_key = proto::load_or_create_keypair(o.key_dir + "/admin.key");
    if (!server_keys || !admin_key) {
      std::cerr << "edgenas-coordinator: "
                << (server_keys ? admin_key.error().message : server_keys.error().message) << "\n";
      return 1;
    }
    auto named = admin_keys_named(o.key_dir, admin_key->public_key);
    if (!named) {
      std::cerr << "edgenas-coordinator: " << named.error().message << "\n";
      return 2;
    }
    o.server.admin_names = *named;
    std::set<std::string> admin_keys;
    for (const auto& [key, name] : *named) admin_keys.insert(key);
    out.keys = std::make_unique<coordinator::KeyRegistry>(clock, store, o.auto_accept, admin_keys);
    if (auto s = out.keys->load(); !s) {
      std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
      return 1;
    }
    out.zap = std::make_unique<coordinator::ZapServer>(ctx, *out.keys);
    o.server.curve = *server_keys;
    core.set_authorizer([keys = out.keys.get()](const std::string& key, const std::string& agent) {
      return keys->authorize_sender(key, agent);
    });
    log::info("CURVE on", {{"public_key", server_keys->public_key},
                           {"key_dir", o.key_dir},
                           {"admin_keys", admin_keys.size()},
                           {"auto_accept", o.auto_accept}});
  } else {
    log::warn("CURVE is off (--insecure): any client can connect and nothing is encrypted");
  }
  return std::nullopt;
}

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
  auto learning = start_learning(clock, **store, o, launcher);
  if (!learning) {
    std::cerr << "edgenas-coordinator: " << learning.error().message << "\n";
    return 1;
  }
  auto& predictor = learning->predictor;
  auto& latency = learning->latency;
  coordinator::HparamService* policy =
      predictor ? static_cast<coordinator::HparamService*>(predictor.get()) : &cold_start;
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
  zmq::context_t ctx(o.io_threads);
  Curve curve;
  if (auto exit = start_curve(o, clock, **store, ctx, core, curve)) return *exit;
  auto& keys = curve.keys;
  auto& zap = curve.zap;
  coordinator::ConsoleAuth console_auth(clock, **store);
  if (auto s = console_auth.load(); !s) {
    std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
    return 1;
  }
  const bool console_on = o.console && !o.metrics_endpoint.empty();
  coordinator::AdminService admin_service(core, predictor.get(), keys.get(), latency.get(),
                                          console_on ? &console_auth : nullptr);
  core.set_latency_models(latency.get());  // both on the io thread: replies, ticks, loads

  daemon::SignalWatcher signals;
  // A second connection for the commit thread; the first serves reads (admin) on the io thread.
  auto writer = coordinator::TraceStore::open(o.database);
  if (!writer) {
    std::cerr << "edgenas-coordinator: " << writer.error().message << "\n";
    return 1;
  }
  coordinator::Server server(ctx, core, admin_service, o.server, io_profile, std::move(*writer),
                             zap.get());
  // A third for trace pages (traces.list, traces.export: the console's box page) off the io thread.
  auto reader = coordinator::TraceStore::open(o.database);
  if (!reader) {
    std::cerr << "edgenas-coordinator: " << reader.error().message << "\n";
    return 1;
  }
  server.read_traces_with(std::move(*reader));
  // The web console: the HTTP thread hands /api/ requests to the io thread (ConsoleBridge).
  coordinator::ConsoleApi console_api(admin_service, console_auth);
  coordinator::ConsoleBridge console_bridge(ctx);
  std::vector<http::Route> routes;
  if (console_on) {
    server.serve_console(console_bridge, console_api);
    routes.push_back({"/api/", [&console_bridge](http::Request r, http::Reply reply) {
                        console_bridge.submit(std::move(r), std::move(reply));
                      }});
    routes.push_back(coordinator::console_pages_route());
  }
  auto counted = (*store)->trace_count();
  const int64_t traces_at_start = counted ? *counted : 0;
  // /metrics and /healthz: the io thread renders the page on its tick.
  http::StatusBoard board;
  auto status_http = start_http(o, board, cfg.heartbeat_interval_ms, std::move(routes));
  if (!status_http) {
    std::cerr << "edgenas-coordinator: " << status_http.error().message << "\n";
    return 1;
  }
  int64_t stored = traces_at_start;
  server.on_tick([&] {
    if (predictor) predictor->tick(traces_at_start + core.metrics().traces_committed);
    if (latency) latency->tick();
    if (!*status_http) return;
    if (auto c = (*store)->trace_count()) stored = *c;  // O(log n), resends not counted twice
    board.publish(coordinator::render_metrics(
        {core, server, keys.get(), predictor.get(), stored, console_on ? &console_auth : nullptr}));
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
  console_bridge.close();  // nothing queued may outlive the HTTP server's connections
  log::info("coordinator stopped");
  return 0;
}
