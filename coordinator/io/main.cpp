// edgenas-coordinator: the cloud side. Registers agents, tracks their liveness, answers
// hyperparameter requests, stores traces durably, serves the admin API for edgenasctl.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "common/util/config.hpp"
#include "common/util/daemon.hpp"
#include "common/util/log.hpp"
#include "coordinator/io/server.hpp"

using namespace edgenas;

namespace {

struct Options {
  std::string config_path;
  coordinator::ServerConfig server;
  std::string database = "/var/lib/edgenas/coordinator.db";
  int64_t heartbeat_interval_ms = limits::kDefaultHeartbeatIntervalMs;
  int dead_after_missed = limits::kDeadAfterMissedHeartbeats;
  std::string log_level = "info";
};

Status load_config(const std::string& path, Options& o) {
  auto t = config::parse_file(path);
  if (!t) return t.error();
  if (auto s = config::check_keys(*t, {"coordinator"}, path); !s) return s;
  const auto* c = t->get_as<toml::table>("coordinator");
  if (!c) return ok_status();
  const std::string where = path + ": [coordinator]";
  if (auto s = config::check_keys(*c,
                                  {"agent_endpoint", "admin_endpoint", "database",
                                   "heartbeat_interval", "dead_after_missed", "log_level"},
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
  return ok_status();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
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
  app.set_version_flag("--version", std::string("edgenas-coordinator 0.1.0, protocol ") +
                                        std::to_string(proto::kProtocolVersion));
  CLI11_PARSE(app, argc, argv);

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
  if (!hb.empty()) {
    auto d = config::parse_duration_ms(hb);
    if (!d || *d < 100) {
      std::cerr << "edgenas-coordinator: --heartbeat-interval: "
                << (d ? "must be at least 100ms" : d.error().message) << "\n";
      return 2;
    }
    o.heartbeat_interval_ms = *d;
  }
  log::init("coordinator", "info");
  if (!log::set_level(o.log_level)) {
    std::cerr << "edgenas-coordinator: unknown log level '" << o.log_level << "'\n";
    return 2;
  }

  std::error_code ec;
  auto parent = std::filesystem::path(o.database).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  auto store = coordinator::TraceStore::open(o.database);
  if (!store) {
    std::cerr << "edgenas-coordinator: " << store.error().message << "\n";
    return 1;
  }

  SystemClock clock;
  coordinator::ColdStartPolicy policy;
  coordinator::CoreConfig cfg;
  cfg.heartbeat_interval_ms = o.heartbeat_interval_ms;
  cfg.dead_after_missed = o.dead_after_missed;
  cfg.epoch = daemon::random_hex_id();
  coordinator::CoordinatorCore core(clock, **store, policy, cfg);
  if (auto s = core.start(); !s) {
    std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
    return 1;
  }
  coordinator::AdminService admin_service(core);

  daemon::SignalWatcher signals;
  zmq::context_t ctx(1);
  // A second connection for the commit thread; the first serves reads (admin) on the io thread.
  auto writer = coordinator::TraceStore::open(o.database);
  if (!writer) {
    std::cerr << "edgenas-coordinator: " << writer.error().message << "\n";
    return 1;
  }
  coordinator::Server server(ctx, core, admin_service, o.server, std::move(*writer));
  if (auto s = server.bind(); !s) {
    std::cerr << "edgenas-coordinator: " << s.error().message << "\n";
    return 1;
  }
  log::info("coordinator started", {{"epoch", cfg.epoch},
                                    {"database", o.database},
                                    {"heartbeat_interval_ms", cfg.heartbeat_interval_ms},
                                    {"protocol", proto::kProtocolVersion}});
  server.run(signals.stop_requested());
  log::info("coordinator stopped");
  return 0;
}
