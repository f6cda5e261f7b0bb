// edgenas-agent: the edge-box daemon (`run`) and the local commands that talk to it.
//
// Exit codes: 0 ok; 1 the agent refused the request or failed; 2 usage or config error;
// 3 the agent (or, for `hparams`, the coordinator) could not be reached.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>
#include <tuple>

#include "agent/io/agent_daemon.hpp"
#include "common/protocol/admin_client.hpp"
#include "common/protocol/codec.hpp"
#include "common/protocol/curve.hpp"
#include "common/util/daemon.hpp"
#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "common/util/http_status.hpp"
#include "common/util/log.hpp"
#include "common/util/settings_cli.hpp"
#include "common/util/table.hpp"
#include "common/util/utf8.hpp"

using namespace edgenas;
using nlohmann::json;

namespace {

constexpr int kExitFailed = 1, kExitUsage = 2, kExitUnreachable = 3;

int report(const Error& e) {
  std::cerr << "edgenas-agent: " << e.message << (e.code.empty() ? "" : " [" + e.code + "]")
            << "\n";
  return e.code == proto::kUnreachable ? kExitUnreachable : kExitFailed;
}

// "cpu:40:0.5:1" → {device cpu, runtime 40 ms, energy 0.5 J, 1 node}
Expected<JobRow> parse_row(const std::string& s) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == ':') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  if (parts.size() != 4)
    return Error{errc::kUsage, "--row '" + s + "' must be DEVICE:RUNTIME_MS:ENERGY_J:NODES"};
  try {
    return JobRow{parts[0], std::stod(parts[1]), std::stod(parts[2]), std::stoi(parts[3])};
  } catch (const std::exception&) {
    return Error{errc::kUsage, "--row '" + s + "': runtime, energy and nodes must be numbers"};
  }
}

// The values of every subcommand's flags and arguments.
struct Args {
  std::string config_path, local_override;
  // run (its other flags come from agent::agent_settings()), keygen, probe
  std::string state_dir, profile;
  bool config_reference = false;
  // task submit / done
  std::string task_id, task_file;
  double t_ms = 0;
  std::vector<std::string> rows;
  std::string trace_file;                       // trace submit
  std::string dataset_file;                     // hparams
  std::string s_budget, s_strategy, s_hparams;  // search start
  int s_trials = 0;
  bool json_out = false;
};

struct Subcommands {
  CLI::App *run, *keygen, *probe, *status, *submit, *done, *list, *tsubmit, *hparams, *sstart,
      *scancel, *sstatus;
  std::unique_ptr<config::SettingFlags<agent::AgentConfig>> run_flags;  // over the config file
};

// Every subcommand, its values bound to opt.
Subcommands define_cli(CLI::App& app, Args& opt) {
  app.require_subcommand(1);
  Subcommands sc{};
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("-c,--config", opt.config_path,
                    "TOML config (default /etc/edgenas/agent.toml if present)");
    cmd->add_option("--local", opt.local_override,
                    "the daemon's local socket (default ipc://<state_dir>/agent.sock)");
  };

  sc.run = app.add_subcommand("run", "run the agent daemon");
  add_common(sc.run);
  sc.run_flags = std::make_unique<config::SettingFlags<agent::AgentConfig>>(
      *sc.run, agent::agent_settings(), agent::AgentConfig{});
  sc.run->add_option("--profile", opt.profile,
                     "simulate this device profile (TOML) instead of probing Linux (file: [probes] "
                     "mode = \"simulated\" and profile)");
  sc.run->add_flag("--config-reference", opt.config_reference,
                   "print every setting (file key, flag, type, default) as a Markdown table");

  sc.keygen = app.add_subcommand(
      "keygen", "create this agent's CURVE key pair (if missing) and print its public key");
  add_common(sc.keygen);
  sc.keygen->add_option("--state-dir", opt.state_dir, "where agent.key lives");

  sc.probe =
      app.add_subcommand("probe", "print this box's devices and one Source sample, then exit");
  add_common(sc.probe);
  sc.probe->add_option("--profile", opt.profile, "simulate this device profile instead");

  sc.status = app.add_subcommand("status", "the running agent's link, queue and outbox");
  add_common(sc.status);

  auto* task = app.add_subcommand("task", "the local Job queue");
  task->require_subcommand(1);
  sc.submit = task->add_subcommand("submit", "queue a task (from flags or a JSON file)");
  add_common(sc.submit);
  sc.submit->add_option("--id", opt.task_id, "task id");
  sc.submit->add_option("--latency-req-ms,-T", opt.t_ms, "the task's latency requirement T in ms");
  sc.submit->add_option("--row", opt.rows,
                        "DEVICE:RUNTIME_MS:ENERGY_J:NODES, once per device (e.g. cpu:40:0.5:1)");
  sc.submit->add_option("--file", opt.task_file,
                        "JSON task {task_id, latency_req_ms, rows: [...]}");
  sc.done = task->add_subcommand("done", "remove a finished task");
  add_common(sc.done);
  sc.done->add_option("ID", opt.task_id, "task id")->required();
  sc.list = task->add_subcommand("list", "show the queue");
  add_common(sc.list);

  auto* trace = app.add_subcommand("trace", "NAS run outcomes");
  trace->require_subcommand(1);
  sc.tsubmit = trace->add_subcommand("submit", "hand a trace (JSON) to the agent for delivery");
  add_common(sc.tsubmit);
  sc.tsubmit
      ->add_option("FILE", opt.trace_file,
                   "JSON trace; trace_id, created_ms and context may be omitted")
      ->required();

  sc.hparams = app.add_subcommand(
      "hparams", "ask the coordinator for NAS hyperparameters for the current queue");
  add_common(sc.hparams);
  sc.hparams->add_option("--dataset", opt.dataset_file,
                         "JSON {classes, image_h, image_w, channels, samples}");

  auto* search = app.add_subcommand("search", "NAS runs on this box (edgenas-search)");
  search->require_subcommand(1);
  sc.sstart = search->add_subcommand(
      "start", "start a search now: inspect the data, ask for hyperparameters, run the NAS");
  add_common(sc.sstart);
  sc.sstart->add_option("--budget", opt.s_budget, "wall-clock budget (default: [search] budget)");
  sc.sstart->add_option("--trials", opt.s_trials, "stop after this many trials")
      ->check(CLI::Range(1, 1'000'000));
  sc.sstart->add_option("--strategy", opt.s_strategy, "random, evolution or sh")
      ->check(CLI::IsMember({"random", "evolution", "sh"}));
  sc.sstart->add_option(
      "--hparams", opt.s_hparams,
      "pin the space instead of asking the coordinator, as JSON: "
      "{\"layers\":2,\"filters\":8,\"kernel\":3,\"loss\":\"cross_entropy\",\"seed\":1}");
  sc.scancel = search->add_subcommand(
      "cancel", "stop the running search (its best model so far still becomes a trace)");
  add_common(sc.scancel);
  sc.sstatus = search->add_subcommand("status", "the running search and the last outcome");
  add_common(sc.sstatus);

  for (auto* cmd : {sc.status, sc.list, sc.hparams, sc.probe, sc.sstatus, sc.sstart})
    cmd->add_flag("--json", opt.json_out, "print JSON");

  return sc;
}

// The defaults, then the config file (the default one when present), then the flags; checked.
Status load_config(const Args& opt, const Subcommands& sc, agent::AgentConfig& cfg) {
  std::string path = opt.config_path;
  if (path.empty() && std::filesystem::exists("/etc/edgenas/agent.toml"))
    path = "/etc/edgenas/agent.toml";
  if (!path.empty()) {
    if (auto s = agent::load_agent_config(path, cfg); !s) return s;
  }
  if (sc.run->parsed()) {
    if (auto s = config::apply_flags(sc.run_flags->given(), agent::agent_settings(), cfg); !s)
      return s;
  }
  if (cfg.agent_id.empty()) cfg.agent_id = daemon::hostname();
  if (!opt.state_dir.empty()) cfg.state_dir = opt.state_dir;  // keygen's
  if (!opt.profile.empty()) {
    cfg.probe_mode = "simulated";
    cfg.profile_path = opt.profile;
  }
  if (!opt.local_override.empty()) cfg.local_endpoint = opt.local_override;
  return agent::validate(cfg);
}

// `run`: the daemon, until SIGTERM or SIGINT.
int run_daemon(const agent::AgentConfig& cfg) {
  log::init("agent", "info");
  if (!log::set_level(cfg.log_level)) {
    std::cerr << "edgenas-agent: unknown log level '" << cfg.log_level << "'\n";
    return kExitUsage;
  }
  SystemClock clock;
  auto d = agent::AgentDaemon::create(cfg, clock);
  if (!d) {
    std::cerr << "edgenas-agent: " << d.error().message << "\n";
    return d.error().code == errc::kBadConfig || d.error().code == errc::kBadProfile ? kExitUsage
                                                                                     : kExitFailed;
  }
  if (auto s = (*d)->bind_local(); !s) {
    std::cerr << "edgenas-agent: " << s.error().message << "\n";
    return kExitFailed;
  }
  http::StatusBoard board;
  std::unique_ptr<http::StatusServer> status_http;
  if (!cfg.metrics_endpoint.empty()) {
    // healthz: 503 when the agent's loop has not published for 10 s (it does every second).
    auto h = http::StatusServer::start(cfg.metrics_endpoint, board, std::chrono::seconds(10),
                                       cfg.bind_retry_ms);
    if (!h) {
      std::cerr << "edgenas-agent: " << h.error().message << "\n";
      return kExitFailed;
    }
    status_http = std::move(*h);
    (*d)->publish_status_to(&board);
  }
  daemon::SignalWatcher signals;
  log::info("agent started",
            {{"agent", cfg.agent_id}, {"coordinator", cfg.coordinator}, {"local", cfg.local()}});
  (*d)->run(signals.stop_requested());
  return 0;
}

int keygen(const agent::AgentConfig& cfg) {
  auto pair = proto::load_or_create_keypair(cfg.key_path());
  if (!pair) {
    std::cerr << "edgenas-agent: " << pair.error().message << "\n";
    return kExitFailed;
  }
  std::cout << pair->public_key << "\n";
  std::cerr << "key pair: " << cfg.key_path() << " (0600); the coordinator lists it as pending "
            << "until an admin runs `edgenasctl keys accept " << pair->public_key.substr(0, 8)
            << "`\n";
  return 0;
}

int probe(const agent::AgentConfig& cfg, const Args& opt) {
  SystemClock clock;
  auto sampler = agent::make_sampler(cfg, clock);
  if (!sampler) return report(sampler.error());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a /proc/stat window
  auto s = (*sampler)->sample(JobMatrix{});
  if (!s) return report(s.error());
  json out{{"power_source", (*sampler)->power_source()},
           {"profile", (*sampler)->profile()},
           {"devices", json::array()},
           {"source", proto::to_json(*s)}};
  for (const auto& d : (*sampler)->devices()) out["devices"].push_back(proto::to_json(d));
  if (opt.json_out) {
    std::cout << utf8::json_text(out, 2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> t;
  for (size_t i = 0; i < s->devices.size(); ++i) {
    const auto& d = s->devices[i];
    const auto& info = out["devices"][i];
    t.push_back({d.device, std::to_string(info["total_nodes"].get<int>()),
                 std::to_string(d.free_nodes),
                 std::to_string(info["total_memory_mb"].get<int64_t>()),
                 std::to_string(d.free_memory_mb), info["probe"].get<std::string>()});
  }
  print_table(std::cout, {"DEVICE", "NODES", "FREE_NODES", "MEMORY_MB", "FREE_MEMORY_MB", "PROBE"},
              t);
  std::printf("power %.1f W (%s)\n", s->power_w, s->power_modelled ? "modelled" : "measured, RAPL");
  return 0;
}

// The commands that talk to a running daemon over its local socket, one method each.
class LocalSession {
 public:
  LocalSession(const agent::AgentConfig& config, const Args& options)
      : cfg(config), opt(options), client(config.local(), 15'000) {}

  int status() {
    auto r = call("status", json::object());
    if (!r) return report(r.error());
    if (opt.json_out) {
      std::cout << utf8::json_text(*r, 2) << "\n";
      return 0;
    }
    const json& s = *r;
    std::cout << "agent        " << s["agent_id"].get<std::string>() << "\n"
              << "link         " << s["link"].get<std::string>() << " to "
              << s["coordinator"].get<std::string>() << "\n"
              << "queue        " << s["queued_tasks"] << " tasks\n"
              << "outbox       " << s["outbox_depth"] << " unacked traces (" << s["outbox_dropped"]
              << " dropped at the bound)\n"
              << "power        " << s["source"].value("power_w", 0.0) << " W ("
              << s["power_source"].get<std::string>() << ")\n"
              << "stats        " << utf8::json_text(s["stats"]) << "\n";
    return 0;
  }

  int task_submit() {
    json t;
    if (!opt.task_file.empty()) {
      auto j = files::read_json(opt.task_file);
      if (!j) return std::cerr << "edgenas-agent: " << j.error().message << "\n", kExitUsage;
      t = *j;
    } else {
      if (opt.task_id.empty() || opt.t_ms <= 0 || opt.rows.empty()) {
        std::cerr << "edgenas-agent: task submit needs --id, --latency-req-ms and at least one "
                     "--row (or --file)\n";
        return kExitUsage;
      }
      JobTask jt{opt.task_id, opt.t_ms, {}};
      for (const auto& r : opt.rows) {
        auto row = parse_row(r);
        if (!row) return std::cerr << "edgenas-agent: " << row.error().message << "\n", kExitUsage;
        jt.rows.push_back(*row);
      }
      t = proto::to_json(jt);
    }
    auto r = call("task.submit", {{"task", t}});
    if (!r) return report(r.error());
    std::cout << "queued " << (*r)["task_id"].get<std::string>() << " (" << (*r)["queued_tasks"]
              << " tasks in queue)\n";
    return 0;
  }

  int task_done() {
    auto r = call("task.done", {{"task_id", opt.task_id}});
    if (!r) return report(r.error());
    std::cout << "removed " << opt.task_id << " (" << (*r)["queued_tasks"] << " tasks in queue)\n";
    return 0;
  }

  int task_list() {
    auto r = call("task.list", json::object());
    if (!r) return report(r.error());
    if (opt.json_out) {
      std::cout << utf8::json_text(*r, 2) << "\n";
      return 0;
    }
    std::vector<std::vector<std::string>> t;
    for (const auto& task_j : (*r)["tasks"]) {
      for (const auto& row : task_j["rows"]) {
        char buf[128];
        std::snprintf(buf, sizeof buf, "%.1f", row["runtime_ms"].get<double>());
        std::string rt = buf;
        std::snprintf(buf, sizeof buf, "%.3f", row["energy_j"].get<double>());
        t.push_back({task_j["task_id"].get<std::string>(),
                     std::to_string(task_j["latency_req_ms"].get<double>()),
                     row["device"].get<std::string>(), rt, buf,
                     std::to_string(row["nodes"].get<int>()),
                     task_j["from_config"].get<bool>() ? "config" : "local"});
      }
    }
    print_table(std::cout, {"TASK", "T_MS", "DEVICE", "RUNTIME_MS", "ENERGY_J", "NODES", "FROM"},
                t);
    return 0;
  }

  int trace_submit() {
    auto j = files::read_json(opt.trace_file);
    if (!j) return std::cerr << "edgenas-agent: " << j.error().message << "\n", kExitUsage;
    auto r = call("trace.submit", {{"trace", *j}});
    if (!r) return report(r.error());
    std::cout << "trace " << (*r)["trace_id"].get<std::string>() << " is in the outbox ("
              << (*r)["outbox_depth"] << " unacked)\n";
    return 0;
  }

  int search_start() {
    json args = json::object();
    if (!opt.s_budget.empty()) args["budget"] = opt.s_budget;
    if (opt.s_trials > 0) args["trials"] = opt.s_trials;
    if (!opt.s_strategy.empty()) args["strategy"] = opt.s_strategy;
    if (!opt.s_hparams.empty()) {
      args["hparams"] = json::parse(opt.s_hparams, nullptr, false);
      if (args["hparams"].is_discarded())
        return std::cerr << "edgenas-agent: --hparams is not JSON\n", kExitUsage;
    }
    auto r = call("search.start", args);
    if (!r) return report(r.error());
    if (opt.json_out) {
      std::cout << utf8::json_text(*r, 2) << "\n";
      return 0;
    }
    std::cout << "search " << (*r)["run_id"].get<std::string>()
              << " started (see `edgenas-agent search status`)\n";
    return 0;
  }

  int search_cancel() {
    auto r = call("search.cancel", json::object());
    if (!r) return report(r.error());
    std::cout << "search stopping; its outcome becomes a trace\n";
    return 0;
  }

  int search_status() {
    auto r = call("search.status", json::object());
    if (!r) return report(r.error());
    if (opt.json_out) {
      std::cout << utf8::json_text(*r, 2) << "\n";
      return 0;
    }
    const json& st = *r;
    if (!st["enabled"].get<bool>()) {
      std::cout << "searches are not configured ([search] binary and data)\n";
      return 0;
    }
    if (st.contains("run")) {
      const json& cur = st["run"];
      std::printf("run %s (%s): %s, %d trials, best accuracy %.4f at %.3f ms, %.0f/%.0f s\n",
                  cur["run_id"].get<std::string>().c_str(),
                  cur["trigger"].get<std::string>().c_str(),
                  cur["phase"].get<std::string>().c_str(), cur["trials"].get<int>(),
                  cur["best_accuracy"].get<double>(), cur["best_latency_ms"].get<double>(),
                  cur["elapsed_s"].get<double>(), cur["budget_s"].get<double>());
      if (!cur["limits"].get<std::string>().empty())
        std::printf("limits: %s\n", cur["limits"].get<std::string>().c_str());
    } else {
      std::cout << "no search running\n";
    }
    std::cout << "searches run: " << st["searches_run"] << "; last: "
              << (st["last_outcome"].get<std::string>().empty()
                      ? "-"
                      : st["last_outcome"].get<std::string>())
              << "\n";
    print_box_model(st);
    return 0;
  }

  // The model the box keeps (the better of its searches'), and what the last search did to it.
  static void print_box_model(const json& st) {
    const json& m = st.value("model", json());
    if (m.is_object()) {
      std::printf("box model: %s, test accuracy %.4f, from run %s\n", m.value("key", "?").c_str(),
                  m.value("test_accuracy", 0.0), m.value("run_id", "?").c_str());
    } else {
      std::cout << "box model: none kept yet\n";
    }
    if (st.contains("last_model_update"))
      std::cout << "last search: " << st["last_model_update"].get<std::string>() << "\n";
  }

  int hparams() {
    json args{{"timeout_ms", 10'000}};
    if (!opt.dataset_file.empty()) {
      auto j = files::read_json(opt.dataset_file);
      if (!j) return std::cerr << "edgenas-agent: " << j.error().message << "\n", kExitUsage;
      args["dataset"] = *j;
    }
    auto r = call("hparams.request", args);
    if (!r) return report(r.error());
    if (opt.json_out) {
      std::cout << utf8::json_text(*r, 2) << "\n";
      return 0;
    }
    const json& h = (*r)["hparams"];
    std::cout << "layers " << h["layers"] << ", filters " << h["filters"] << ", kernel "
              << h["kernel"] << ", loss " << h["loss"].get<std::string>() << ", seed " << h["seed"]
              << "\npolicy " << (*r)["policy"].get<std::string>() << " (predictor version "
              << (*r)["predictor_version"] << "): " << r->value("reason", "") << "\n";
    return 0;
  }

 private:
  Expected<json> call(const std::string& op, const json& args) {
    // ZeroMQ connects lazily; a missing socket file would otherwise cost the whole timeout.
    const std::string ep = cfg.local();
    if (ep.rfind("ipc://", 0) == 0 && !std::filesystem::exists(ep.substr(6))) {
      return Error{std::string(proto::kUnreachable),
                   "no agent socket at " + ep.substr(6) + " (is `edgenas-agent run` running?)"};
    }
    auto r = client.call(op, args);
    if (!r && r.error().code == proto::kUnreachable) {
      return Error{std::string(proto::kUnreachable),
                   "no agent answering on " + cfg.local() + " (is `edgenas-agent run` running?)"};
    }
    return r;
  }

  const agent::AgentConfig& cfg;
  const Args& opt;
  proto::AdminClient client;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "edgenas-agent: reports this edge box's Job queue and free resources to the edgenas\n"
      "coordinator, asks it for NAS hyperparameters and delivers the traces of NAS runs.\n"
      "`run` is the daemon; the other commands talk to a running daemon over its local socket.\n"
      "Exit codes: 0 ok, 1 refused/failed, 2 usage or config error, 3 unreachable."};
  Args opt;
  const Subcommands sc = define_cli(app, opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  agent::AgentConfig cfg;
  if (opt.config_reference) {
    std::cout << config::reference(agent::agent_settings(), agent::AgentConfig{});
    return 0;
  }
  if (auto s = load_config(opt, sc, cfg); !s) {
    std::cerr << "edgenas-agent: " << s.error().message << "\n";
    return kExitUsage;
  }
  if (sc.run->parsed()) return run_daemon(cfg);
  if (sc.keygen->parsed()) return keygen(cfg);
  if (sc.probe->parsed()) return probe(cfg, opt);
  LocalSession s(cfg, opt);
  const std::pair<CLI::App*, std::function<int()>> commands[] = {
      {sc.status, [&] { return s.status(); }},
      {sc.submit, [&] { return s.task_submit(); }},
      {sc.done, [&] { return s.task_done(); }},
      {sc.list, [&] { return s.task_list(); }},
      {sc.tsubmit, [&] { return s.trace_submit(); }},
      {sc.sstart, [&] { return s.search_start(); }},
      {sc.scancel, [&] { return s.search_cancel(); }},
      {sc.sstatus, [&] { return s.search_status(); }},
      {sc.hparams, [&] { return s.hparams(); }},
  };
  for (const auto& [cmd, run] : commands)
    if (cmd->parsed()) return run();
  return kExitUsage;
}
