// edgenasctl: the admin's command line for a running edgenas-coordinator.
//
// Exit codes: 0 success; 1 the coordinator refused the request (not found, bad request, ...);
// 2 usage or input-file error; 3 the coordinator could not be reached.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include "common/protocol/admin_client.hpp"
#include "common/protocol/curve.hpp"
#include "common/util/config.hpp"
#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "common/util/table.hpp"
#include "common/util/utf8.hpp"

using nlohmann::json;
using namespace edgenas;

namespace {

constexpr int kExitRefused = 1, kExitUsage = 2, kExitUnreachable = 3;

struct Globals {
  std::string admin = "tcp://127.0.0.1:7701";
  bool json_out = false;
  std::string timeout = "5s";
  std::string key, server_key;  // CURVE: our admin key pair, the coordinator's public key
  bool insecure = false;
};

// The values of the subcommands' options and arguments.
struct Args {
  std::string keygen_out;
  std::string who;  // keys accept/reject/revoke
  std::string agent_id, action, cmd_args = "{}";
  std::string t_agent, t_since, format = "jsonl", out_path;  // traces
  int64_t t_limit = 50;
  std::string ctx_file;  // hparams ask
  int version = 0;       // predictor
  std::string canary = "10%";
  std::string reason = "edgenasctl";
  std::string arch, kind, input = "1x28x28/10";  // latency predict
  std::string ttl = "12h", token_id;             // console
};

struct Subcommands {
  CLI::App *keygen, *keys_list, *keys_accept, *keys_reject, *keys_revoke, *status, *agents_list,
      *agents_show, *agents_cmd, *traces_list, *traces_export, *hp_ask, *pred_list, *pred_show,
      *pred_train, *pred_promote, *pred_rollback, *pred_rollout, *fleet_status, *lat_list,
      *lat_show, *lat_train, *lat_predict, *console_token, *console_tokens, *console_revoke;
};

// The first existing of the candidates (env var, then the coordinator's own directory).
std::string first_existing(const char* env, const std::string& fallback) {
  if (const char* v = std::getenv(env); v && *v) return v;
  return std::filesystem::exists(fallback) ? fallback : "";
}

int fail(const Error& e) {
  std::cerr << "edgenasctl: " << e.message;
  if (!e.code.empty()) std::cerr << " [" << e.code << "]";
  std::cerr << "\n";
  return e.code == proto::kUnreachable ? kExitUnreachable : kExitRefused;
}

std::string fmt(double v, int prec = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

// A value for a table cell or a line of plain output: text from agents is escaped (invalid
// UTF-8 and control bytes as \xNN), so a hostile hostname cannot garble the admin's terminal.
std::string str(const json& j) {
  if (j.is_string()) return utf8::printable(j.get<std::string>(), 4096);
  if (j.is_null()) return "-";
  if (j.is_number_float()) return fmt(j.get<double>());
  if (j.is_array()) {
    std::string out;
    for (const auto& x : j) out += (out.empty() ? "" : ",") + str(x);
    return out;
  }
  return utf8::json_text(j);
}

// The newest training failure, when the last training failed (predictor list, fleet status).
void print_last_failure(const json& r) {
  const json& f = r.value("last_failure", json());
  if (f.is_null()) return;
  std::cout << "last training FAILED: v" << f["version"] << " on " << f["traces"]
            << " traces: " << str(f["note"])
            << " (the next starts when new traces arrive, or by `predictor train`)\n";
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "--since 1h" (ago) or "--since @1700000000000" (absolute ms).
Expected<int64_t> parse_since(const std::string& s) {
  if (s.empty()) return int64_t{0};
  if (s[0] == '@') {
    try {
      return static_cast<int64_t>(std::stoll(s.substr(1)));
    } catch (const std::exception&) {
      return Error{errc::kUsage, "--since @MS needs milliseconds since the epoch"};
    }
  }
  auto d = config::parse_duration_ms(s);
  if (!d) return Error{errc::kUsage, "--since: " + d.error().message};
  return now_ms() - *d;
}

std::string csv_cell(const json& j) {
  std::string s = j.is_string() ? utf8::repaired(j.get<std::string>())
                                : (j.is_null() ? "" : utf8::json_text(j));
  if (s.find_first_of(",\"\n") != std::string::npos) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  return s;
}

// Flattens a full trace for CSV: context and nested objects become dotted columns.
void flatten(const json& j, const std::string& prefix, json& out) {
  for (const auto& [k, v] : j.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object() && key != "context") {
      flatten(v, key, out);
    } else {
      out[key] = v;
    }
  }
}

void print_json(const json& j) {
  std::cout << utf8::json_text(j, 2) << "\n";
}

// The global flags and every subcommand, their values bound to g and opt.
Subcommands define_cli(CLI::App& app, Globals& g, Args& opt) {
  app.require_subcommand(1);
  if (const char* env = std::getenv("EDGENAS_ADMIN")) g.admin = env;
  app.add_option("--admin", g.admin, "coordinator admin endpoint (env EDGENAS_ADMIN)")
      ->capture_default_str();
  app.add_flag("--json", g.json_out, "print JSON instead of tables");
  app.add_option("--timeout", g.timeout, "how long to wait for an answer")->capture_default_str();
  app.add_option("--key", g.key,
                 "admin key pair (env EDGENAS_ADMIN_KEY; default /var/lib/edgenas/admin.key, which "
                 "the coordinator creates)");
  app.add_option("--server-key", g.server_key,
                 "the coordinator's public key or coordinator.pub (env EDGENAS_SERVER_KEY; default "
                 "/var/lib/edgenas/coordinator.pub)");
  app.add_flag("--insecure", g.insecure, "talk plaintext (a coordinator started with --insecure)");

  Subcommands sc{};
  sc.keygen = app.add_subcommand(
      "keygen", "create an admin key pair; its .pub goes into the coordinator's admin_keys/");
  sc.keygen->add_option("-o,--out", opt.keygen_out, "the key pair file (0600)")->required();

  auto* keys =
      app.add_subcommand("keys", "agent key enrolment (pending, accepted, rejected, revoked)");
  keys->require_subcommand(1);
  sc.keys_list = keys->add_subcommand("list", "every agent key and its state");
  sc.keys_accept = keys->add_subcommand("accept", "let this key connect");
  sc.keys_reject = keys->add_subcommand("reject", "refuse a pending key");
  sc.keys_revoke = keys->add_subcommand("revoke", "refuse an accepted key from now on");
  for (auto* cmd : {sc.keys_accept, sc.keys_reject, sc.keys_revoke})
    cmd->add_option("WHO", opt.who,
                    "a key, a key prefix (6+ characters) or an agent id; a key that begins with "
                    "\"-\" goes after \"--\" (keys accept -- -jg=P1...)")
        ->required();

  sc.status = app.add_subcommand("status", "coordinator health: agents, store, counters");

  auto* agents = app.add_subcommand("agents", "the registered agents");
  agents->require_subcommand(1);
  sc.agents_list = agents->add_subcommand("list", "one line per known agent");
  sc.agents_show = agents->add_subcommand("show", "everything known about one agent");
  sc.agents_show->add_option("ID", opt.agent_id, "agent id")->required();
  sc.agents_cmd = agents->add_subcommand("command", "send a command to a connected agent");
  sc.agents_cmd->add_option("ID", opt.agent_id, "agent id")->required();
  sc.agents_cmd->add_option("ACTION", opt.action, "start_search | cancel | reload_config")
      ->required();
  sc.agents_cmd->add_option("--args", opt.cmd_args, "command arguments as a JSON object");

  auto* traces = app.add_subcommand("traces", "traces stored from NAS runs");
  traces->require_subcommand(1);
  sc.traces_list = traces->add_subcommand("list", "recent traces, oldest first");
  sc.traces_export = traces->add_subcommand("export", "every matching trace, complete");
  for (auto* cmd : {sc.traces_list, sc.traces_export}) {
    cmd->add_option("--agent", opt.t_agent, "only this agent's traces");
    cmd->add_option("--since", opt.t_since, "received within this long (e.g. 1h, 2d) or @epoch_ms");
  }
  sc.traces_list->add_option("--limit", opt.t_limit, "at most this many rows")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sc.traces_export->add_option("--format", opt.format, "csv or jsonl")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->capture_default_str();
  sc.traces_export->add_option("-o,--output", opt.out_path, "write to this file instead of stdout");

  auto* hparams = app.add_subcommand("hparams", "hyperparameter service");
  hparams->require_subcommand(1);
  sc.hp_ask = hparams->add_subcommand("ask", "send a Job/Source context and print the reply");
  sc.hp_ask
      ->add_option("FILE", opt.ctx_file,
                   "JSON file: {\"job\": {...}, \"source\": {...}, \"dataset\": {...}}")
      ->required();

  auto* pred = app.add_subcommand("predictor", "the learned hyperparameter predictor");
  pred->require_subcommand(1);
  sc.pred_list = pred->add_subcommand("list", "every version: status, held-out regret, serving");
  sc.pred_show = pred->add_subcommand("show", "one version with its metrics");
  sc.pred_show->add_option("VERSION", opt.version, "version (default: the serving one)");
  sc.pred_train = pred->add_subcommand("train", "start a training now (runs in the background)");
  sc.pred_promote = pred->add_subcommand("promote", "serve this version");
  sc.pred_promote->add_option("VERSION", opt.version, "version")
      ->required()
      ->check(CLI::Range(1, 1 << 30));
  sc.pred_rollback =
      pred->add_subcommand("rollback", "serve the previously promoted version (or the cold start)");
  sc.pred_rollout = pred->add_subcommand(
      "rollout",
      "serve VERSION to a stable, hash-chosen share of the agents (a canary); `promote VERSION` "
      "widens it to all, `rollback` takes it back; it is rolled back automatically when its "
      "traces' reward falls below the baseline's by more than the configured margin");
  sc.pred_rollout->add_option("VERSION", opt.version, "version")
      ->required()
      ->check(CLI::Range(1, 1 << 30));
  sc.pred_rollout->add_option("--canary", opt.canary, "share of the agents, e.g. 10% or 0.1")
      ->capture_default_str();
  for (auto* cmd : {sc.pred_train, sc.pred_promote, sc.pred_rollout})
    cmd->add_option("--reason", opt.reason, "recorded with it");
  auto* fleet = app.add_subcommand("fleet", "the fleet as the predictor sees it");
  fleet->require_subcommand(1);
  sc.fleet_status = fleet->add_subcommand("status",
                                          "which predictor version serves how many agents, and how "
                                          "each does (traces, mean reward, share meeting T)");

  auto* lat = app.add_subcommand(
      "latency", "the fleet's latency models, one per device kind, learned from measured trials");
  lat->require_subcommand(1);
  sc.lat_list =
      lat->add_subcommand("list", "every version: status, kinds, how many passed the gate");
  sc.lat_show = lat->add_subcommand("show",
                                    "one version: per kind its method, held-out error "
                                    "against the FLOPs line's, and the gate");
  sc.lat_show->add_option("VERSION", opt.version, "version (default: the serving one)");
  sc.lat_train = lat->add_subcommand("train", "train a version now (runs in the background)");
  sc.lat_train->add_option("--reason", opt.reason, "recorded with it");
  sc.lat_predict = lat->add_subcommand(
      "predict",
      "a network's batch-1 latency on a device kind, as the serving version predicts it");
  sc.lat_predict->add_option("ARCH", opt.arch, "the network's key, e.g. c16k3s2b-c32k5s1brh-h64")
      ->required();
  sc.lat_predict->add_option("--kind", opt.kind, "the device kind, e.g. \"ARM Cortex-A55\"")
      ->required();
  sc.lat_predict->add_option("--input", opt.input, "CxHxW/CLASSES")->capture_default_str();

  auto* console = app.add_subcommand(
      "console", "logins for the web console the coordinator serves beside /metrics");
  console->require_subcommand(1);
  sc.console_token = console->add_subcommand(
      "token", "mint a login token (printed once; the coordinator keeps only its hash)");
  sc.console_token->add_option("--ttl", opt.ttl, "how long it is valid (1m to 30d)")
      ->capture_default_str();
  sc.console_tokens = console->add_subcommand("tokens", "every token: who minted it, its state");
  sc.console_revoke =
      console->add_subcommand("revoke", "end a token and every session opened with it");
  sc.console_revoke->add_option("ID", opt.token_id, "the token's id (console tokens)")->required();
  return sc;
}

int keygen(const Args& opt) {
  if (std::filesystem::exists(opt.keygen_out)) {
    std::cerr << "edgenasctl: " << opt.keygen_out << " exists; not overwriting it\n";
    return kExitUsage;
  }
  auto pair = proto::load_or_create_keypair(opt.keygen_out);
  if (!pair) return fail(pair.error());
  std::cout << pair->public_key << "\n";
  std::cerr << "wrote " << opt.keygen_out << " and "
            << std::filesystem::path(opt.keygen_out).replace_extension(".pub").string()
            << "; copy the .pub into the coordinator's admin_keys/ and restart it\n";
  return 0;
}

// The CURVE keys to talk to the coordinator with (none with --insecure).
Expected<std::optional<proto::CurveClient>> curve_keys(const Globals& g) {
  if (g.insecure) return std::optional<proto::CurveClient>();
  const std::string key =
      g.key.empty() ? first_existing("EDGENAS_ADMIN_KEY", "/var/lib/edgenas/admin.key") : g.key;
  const std::string server =
      g.server_key.empty()
          ? first_existing("EDGENAS_SERVER_KEY", "/var/lib/edgenas/coordinator.pub")
          : g.server_key;
  if (key.empty() || server.empty()) {
    return Error{errc::kUsage,
                 std::string("no ") +
                     (key.empty() ? "admin key (--key)" : "coordinator key (--server-key)") +
                     "; the coordinator writes admin.key and coordinator.pub beside its "
                     "database (or use --insecure for a coordinator started with "
                     "--insecure)"};
  }
  auto pair = proto::load_keypair(key);
  if (!pair) return pair.error();
  auto server_pub = proto::load_public_key(server);
  if (!server_pub) return server_pub.error();
  return std::optional<proto::CurveClient>(proto::CurveClient{*server_pub, *pair});
}

// One method per subcommand that talks to the coordinator.
struct Session {
  proto::AdminClient& client;
  const Globals& g;
  const Args& opt;

  int status() {
    auto r = client.call("status");
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    const json& s = *r;
    std::cout << "coordinator   epoch " << str(s["epoch"]) << ", up "
              << fmt(s["uptime_s"].get<double>(), 0) << " s, protocol " << s["protocol_version"]
              << "\n"
              << "agents        " << s["agents"]["alive"] << " alive, " << s["agents"]["dead"]
              << " dead, " << s["agents"]["offline"] << " offline (" << s["agents"]["known"]
              << " known)\n"
              << "store         " << s["store"]["traces"] << " traces, "
              << s["store"]["hparam_replies"] << " hparam replies, schema v"
              << s["store"]["schema_version"] << "\n"
              << "heartbeat     every " << s["heartbeat_interval_ms"] << " ms, dead after "
              << s["dead_after_missed"] << " missed\n"
              << "hparams       policy " << str(s["hparam_policy"]) << ", " << s["hparam_replies"]
              << " replies since start\n"
              << "messages in   " << utf8::json_text(s["messages_in"]) << "\n"
              << "errors        " << utf8::json_text(s["errors"]) << "\n";
    return 0;
  }

  int agents_list() {
    auto r = client.call("agents.list");
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : (*r)["agents"]) {
      std::string activity = a.value("activity", "");
      if (a.contains("search")) {  // e.g. "running 12 trials, acc 0.981"
        const auto& p = a["search"];
        activity = str(p["phase"]) + " " + str(p["trials"]) + " trials, acc " +
                   fmt(p["best_accuracy"].get<double>(), 3);
      }
      rows.push_back({str(a["agent_id"]), str(a["liveness"]), str(a["hostname"]),
                      a.value("machine", "").empty() ? "-" : str(a["machine"]), str(a["devices"]),
                      str(a["cpu_free_nodes"]), str(a["free_memory_mb"]),
                      fmt(a["power_w"].get<double>(), 1), str(a["queued_tasks"]),
                      str(a["outbox_depth"]), activity.empty() ? "-" : activity,
                      fmt(a["last_seen_s_ago"].get<double>(), 1) + "s"});
    }
    print_table(std::cout,
                {"AGENT", "STATE", "HOST", "ARCH", "DEVICES", "CPU_FREE", "MEM_FREE_MB", "POWER_W",
                 "QUEUE", "OUTBOX", "ACTIVITY", "SEEN"},
                rows);
    return 0;
  }

  int agents_show() {
    auto r = client.call("agents.show", {{"agent_id", opt.agent_id}});
    if (!r) return fail(r.error());
    print_json(*r);
    return 0;
  }

  int agents_command() {
    json args;
    try {
      args = json::parse(opt.cmd_args);
    } catch (const std::exception& e) {
      std::cerr << "edgenasctl: --args is not JSON: " << e.what() << "\n";
      return kExitUsage;
    }
    auto r = client.call("agents.command",
                         {{"agent_id", opt.agent_id}, {"action", opt.action}, {"args", args}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << "sent " << opt.action << " to " << opt.agent_id << " (command "
              << str((*r)["command_id"]) << ")\n";
    return 0;
  }

  int traces(bool full) {
    auto since = parse_since(opt.t_since);
    if (!since) {
      std::cerr << "edgenasctl: " << since.error().message << "\n";
      return kExitUsage;
    }
    json args{
        {"agent_id", opt.t_agent}, {"since_ms", *since}, {"limit", full ? 1000 : opt.t_limit}};
    std::ofstream file;
    if (!opt.out_path.empty()) {
      file.open(opt.out_path);
      if (!file) {
        std::cerr << "edgenasctl: cannot write " << opt.out_path << "\n";
        return kExitUsage;
      }
    }
    std::ostream& os = opt.out_path.empty() ? std::cout : file;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> csv_columns;
    json all = json::array();
    int64_t count = 0;
    while (true) {
      auto r = client.call(full ? "traces.export" : "traces.list", args);
      if (!r) return fail(r.error());
      for (const auto& t : (*r)["traces"]) {
        ++count;
        if (!full) {
          if (g.json_out) {
            all.push_back(t);
          } else {
            rows.push_back(
                {str(t["trace_id"]), str(t["agent_id"]), str(t["status"]),
                 str(t["policy"]) +
                     (t["predictor_version"].get<int>() ? " v" + str(t["predictor_version"]) : ""),
                 str(t["layers"]) + "/" + str(t["filters"]) + "/" + str(t["kernel"]) + "/" +
                     str(t["loss"]),
                 fmt(t["accuracy"].get<double>(), 4), fmt(t["latency_ms"].get<double>(), 3),
                 t["met_latency"].get<bool>() ? "yes" : "NO",
                 fmt(t["energy_mj"].get<double>(), 3)});
          }
        } else if (opt.format == "jsonl") {
          os << utf8::json_text(t) << "\n";
        } else {
          json flat = json::object();
          flatten(t, "", flat);
          if (csv_columns.empty()) {
            for (const auto& [k, v] : flat.items()) csv_columns.push_back(k);
            for (std::size_t i = 0; i < csv_columns.size(); ++i)
              os << (i ? "," : "") << csv_columns[i];
            os << "\n";
          }
          for (std::size_t i = 0; i < csv_columns.size(); ++i) {
            os << (i ? "," : "")
               << (flat.contains(csv_columns[i]) ? csv_cell(flat[csv_columns[i]]) : "");
          }
          os << "\n";
        }
        if (!full && count >= opt.t_limit) break;
      }
      const json& next = (*r)["next"];
      if (next.is_null() || (!full && count >= opt.t_limit)) break;
      args["since_ms"] = next["since_ms"];
      args["after_trace_id"] = next["after_trace_id"];
    }
    if (!full) {
      if (g.json_out) {
        print_json(json{{"traces", all}});
      } else {
        print_table(
            std::cout,
            {"TRACE", "AGENT", "STATUS", "POLICY", "L/F/K/LOSS", "ACC", "LAT_MS", "MET_T", "E_MJ"},
            rows);
      }
    } else if (!opt.out_path.empty()) {
      std::cerr << "exported " << count << " traces to " << opt.out_path << "\n";
    }
    return 0;
  }

  int keys_list() {
    auto r = client.call("keys.list");
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::vector<std::vector<std::string>> rows;
    const int64_t now = now_ms();
    for (const auto& k : (*r)["keys"]) {
      rows.push_back({str(k["key"]), str(k["state"]),
                      k["agent_id"].get<std::string>().empty() ? "-" : str(k["agent_id"]),
                      str(k["address"]),
                      fmt((now - k["last_seen_ms"].get<int64_t>()) / 1000.0, 0) + "s ago"});
    }
    print_table(std::cout, {"KEY", "STATE", "AGENT", "ADDRESS", "LAST_SEEN"}, rows);
    std::cout << ((*r)["auto_accept"].get<bool>()
                      ? "unknown keys are accepted automatically\n"
                      : "unknown keys wait for `edgenasctl keys accept`\n");
    return 0;
  }

  int keys_change(const std::string& op) {
    auto r = client.call(op, {{"who", opt.who}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << str((*r)["key"]) << " ("
              << ((*r)["agent_id"].get<std::string>().empty() ? "no agent yet"
                                                              : str((*r)["agent_id"]))
              << "): " << str((*r)["state"]) << "\n";
    return 0;
  }

  int predictor_list() {
    auto r = client.call("predictor.list");
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : (*r)["versions"]) {
      std::string heads;
      if (v.contains("head_accuracy")) {
        for (const char* h : {"layers", "filters", "kernel", "loss"})
          heads += (heads.empty() ? "" : "/") + fmt(v["head_accuracy"].value(h, 0.0), 2);
      }
      rows.push_back(
          {std::to_string(v["version"].get<int>()) + (v["serving"].get<bool>() ? " *" : ""),
           str(v["status"]), v.value("trained_in", std::string("fleet")), str(v["training_traces"]),
           v.contains("regret") ? fmt(v["regret"].get<double>(), 4) : "-",
           v.contains("normalised_reward") ? fmt(v["normalised_reward"].get<double>(), 3) : "-",
           heads.empty() ? "-" : heads, str(v["note"])});
    }
    print_table(std::cout,
                {"VERSION", "STATUS", "TRAINED_IN", "TRACES", "REGRET", "NORM_REWARD",
                 "ACC L/F/K/LOSS", "NOTE"},
                rows);
    std::cout << "serving: " << str((*r)["serving"]) << "; explore share " << (*r)["explore"]
              << "\n";
    print_last_failure(*r);
    return 0;
  }

  int latency_list() {
    auto r = client.call("latency.list");
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : (*r)["versions"])
      rows.push_back(
          {std::to_string(v["version"].get<int>()) + (v["serving"].get<bool>() ? " *" : ""),
           str(v["status"]), str(v["kinds"]), str(v["passed_gate"]), str(v["note"])});
    print_table(std::cout, {"VERSION", "STATUS", "KINDS", "PASSED_GATE", "NOTE"}, rows);
    std::cout << "serving: " << str((*r)["serving"]) << "\n";
    return 0;
  }

  int latency_show() {
    auto r = client.call("latency.show", {{"version", opt.version}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::vector<std::vector<std::string>> rows;
    for (const auto& k : (*r)["kinds"])
      rows.push_back({str(k["kind"]["kind"]) + " | " + str(k["kind"]["runtime"]) + " | " +
                          str(k["kind"]["threads"]) + " | " + str(k["kind"]["space"]),
                      str(k["method"]), str(k["samples"]), str(k["heldout"]),
                      fmt(k["heldout_error_pct"].get<double>(), 1) + " %",
                      fmt(k["flops_heldout_error_pct"].get<double>(), 1) + " %",
                      fmt(100 * k["heldout_margin"].get<double>(), 1) + " %",
                      k["serves"].get<bool>() ? "yes" : "no: " + str(k["why"])});
    print_table(
        std::cout,
        {"KIND", "METHOD", "SAMPLES", "HELD_OUT", "ERROR", "FLOPS_ERROR", "MARGIN", "SERVES"},
        rows);
    std::cout << "version " << str((*r)["version"]) << "\n";
    return 0;
  }

  int console_token() {
    auto ttl = config::parse_duration_ms(opt.ttl);
    if (!ttl) return std::cerr << "edgenasctl: --ttl: " << ttl.error().message << "\n", kExitUsage;
    auto r = client.call("console.token", {{"ttl_s", *ttl / 1000}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << str((*r)["token"]) << "\n";
    std::cerr << "console token " << str((*r)["id"]) << " for " << str((*r)["admin"])
              << ", valid for " << opt.ttl
              << ": open the coordinator's HTTP port (its metrics_endpoint, e.g. "
                 "http://127.0.0.1:9464/) and paste it; it is not shown again\n";
    return 0;
  }

  int console_tokens() {
    auto r = client.call("console.tokens");
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : (*r)["tokens"]) {
      const auto left_s = (t["expires_ms"].get<int64_t>() - now_ms()) / 1000;
      rows.push_back({str(t["id"]), str(t["admin"]), str(t["state"]),
                      left_s > 0 ? fmt(left_s / 3600.0, 1) + " h" : "-", str(t["sessions"])});
    }
    print_table(std::cout, {"ID", "MINTED_BY", "STATE", "LEFT", "SESSIONS"}, rows);
    return 0;
  }

  int console_revoke() {
    auto r = client.call("console.revoke", {{"id", opt.token_id}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << str((*r)["id"]) << ": revoked; its sessions are closed\n";
    return 0;
  }

  int latency_train() {
    auto r = client.call("latency.train", {{"reason", opt.reason}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << "training latency models v" << (*r)["version"] << " from " << (*r)["traces"]
              << " traces (see `edgenasctl latency list`)\n";
    return 0;
  }

  int latency_predict() {
    int c = 0, h = 0, w = 0, classes = 0;
    char tail = 0;
    if (std::sscanf(opt.input.c_str(), "%dx%dx%d/%d%c", &c, &h, &w, &classes, &tail) != 4) {
      std::cerr << "edgenasctl: --input must look like 1x28x28/10 (channels x height x width / "
                   "classes)\n";
      return kExitUsage;
    }
    auto r = client.call(
        "latency.predict",
        {{"arch", opt.arch},
         {"kind", opt.kind},
         {"input", {{"channels", c}, {"image_h", h}, {"image_w", w}, {"classes", classes}}}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << fmt((*r)["latency_ms"].get<double>(), 4) << " ms (predicted by latency models v"
              << (*r)["version"] << ", " << str((*r)["method"]) << ", held-out error "
              << fmt((*r)["heldout_error_pct"].get<double>(), 1) << " %)\n";
    return 0;
  }

  int predictor_show() {
    auto r = client.call("predictor.show", {{"version", opt.version}});
    if (!r) return fail(r.error());
    print_json(*r);
    return 0;
  }

  int predictor_train() {
    auto r = client.call("predictor.train", {{"reason", opt.reason}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << "training predictor v" << (*r)["version"] << " on " << (*r)["traces"]
              << " traces (see `edgenasctl predictor list`)\n";
    return 0;
  }

  int predictor_rollout() {
    double share = -1;
    try {
      std::size_t used = 0;
      share = std::stod(opt.canary, &used);
      if (used < opt.canary.size() && opt.canary.substr(used) == "%")
        share /= 100;
      else if (used != opt.canary.size())
        share = -1;
    } catch (const std::exception&) {
    }
    if (!(share > 0 && share <= 1)) {
      std::cerr << "edgenasctl: --canary must be a share like 10% or 0.1 (more than 0, at most "
                   "100%)\n";
      return kExitUsage;
    }
    auto r = client.call("predictor.rollout",
                         {{"version", opt.version}, {"share", share}, {"reason", opt.reason}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << "v" << opt.version << " serves " << fmt(share * 100, 1)
              << " % of the agents (canary); "
              << "the others keep "
              << ((*r)["baseline"].get<int>() ? "v" + str((*r)["baseline"])
                                              : std::string("the cold start"))
              << ". Watch it with `edgenasctl fleet status`.\n";
    return 0;
  }

  int fleet_status() {
    auto r = client.call("predictor.fleet");
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    auto cell = [&](const json& v, int digits) {
      return v.is_null() ? std::string("-") : fmt(v.get<double>(), digits);
    };
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : (*r)["versions"]) {
      rows.push_back({v["version"].get<int>() ? "v" + str(v["version"]) : std::string("cold-start"),
                      str(v["role"]), str(v["agents"]),
                      v.contains("traces") ? str(v["traces"]) : "-",
                      v.contains("mean_reward") ? cell(v["mean_reward"], 4) : "-",
                      v.contains("met_latency") ? cell(v["met_latency"], 3) : "-"});
    }
    print_table(std::cout, {"VERSION", "ROLE", "AGENTS", "TRACES", "MEAN_REWARD", "MEETS_T"}, rows);
    const json& ro = (*r)["rollout"];
    if (ro.is_null()) {
      std::cout << "no rollout running\n";
    } else {
      std::cout << "rollout: v" << ro["version"] << " to "
                << fmt(ro["share"].get<double>() * 100, 1) << " % of the agents against "
                << (ro["baseline"].get<int>() ? "v" + str(ro["baseline"])
                                              : std::string("the cold start"))
                << "; rolled back automatically if its mean reward falls more than "
                << fmt(ro["margin"].get<double>(), 3) << " below the baseline's (after "
                << ro["min_traces"] << " traces each)\n";
    }
    for (const auto& p : (*r)["past_rollouts"])
      std::cout << "past: v" << p["version"] << " " << str(p["state"]) << ": " << str(p["note"])
                << "\n";
    print_last_failure(*r);
    return 0;
  }

  int hparams_ask() {
    auto ctx = files::read_json(opt.ctx_file);
    if (!ctx) return std::cerr << "edgenasctl: " << ctx.error().message << "\n", kExitUsage;
    auto r = client.call("hparams.ask", {{"context", *ctx}});
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    const json& h = (*r)["hparams"];
    std::cout << "layers   " << h["layers"] << "\nfilters  " << h["filters"] << "\nkernel   "
              << h["kernel"] << "\nloss     " << str(h["loss"]) << "\nseed     " << h["seed"]
              << "\npolicy   " << str((*r)["policy"]) << " (predictor version "
              << (*r)["predictor_version"] << ")\nreason   " << str((*r)["reason"]) << "\n";
    return 0;
  }

  int predictor_serve(bool promote) {
    auto r = promote ? client.call("predictor.promote",
                                   {{"version", opt.version}, {"reason", opt.reason}})
                     : client.call("predictor.rollback");
    if (!r) return fail(r.error());
    if (g.json_out) return print_json(*r), 0;
    std::cout << "serving: " << str((*r)["serving"]) << "\n";
    return 0;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  Args opt;
  CLI::App app{
      "edgenasctl: inspect and drive an edgenas coordinator.\n"
      "Exit codes: 0 ok, 1 refused by the coordinator, 2 usage error, 3 unreachable."};
  const Subcommands sc = define_cli(app, g, opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  auto timeout = config::parse_duration_ms(g.timeout);
  if (!timeout) {
    std::cerr << "edgenasctl: --timeout: " << timeout.error().message << "\n";
    return kExitUsage;
  }
  if (sc.keygen->parsed()) return keygen(opt);
  auto curve = curve_keys(g);
  if (!curve) return std::cerr << "edgenasctl: " << curve.error().message << "\n", kExitUsage;
  proto::AdminClient client(g.admin, *timeout, *curve);
  Session s{client, g, opt};
  const std::pair<CLI::App*, std::function<int()>> commands[] = {
      {sc.status, [&] { return s.status(); }},
      {sc.agents_list, [&] { return s.agents_list(); }},
      {sc.agents_show, [&] { return s.agents_show(); }},
      {sc.agents_cmd, [&] { return s.agents_command(); }},
      {sc.traces_list, [&] { return s.traces(false); }},
      {sc.traces_export, [&] { return s.traces(true); }},
      {sc.keys_list, [&] { return s.keys_list(); }},
      {sc.keys_accept, [&] { return s.keys_change("keys.accept"); }},
      {sc.keys_reject, [&] { return s.keys_change("keys.reject"); }},
      {sc.keys_revoke, [&] { return s.keys_change("keys.revoke"); }},
      {sc.pred_list, [&] { return s.predictor_list(); }},
      {sc.pred_show, [&] { return s.predictor_show(); }},
      {sc.pred_train, [&] { return s.predictor_train(); }},
      {sc.pred_rollout, [&] { return s.predictor_rollout(); }},
      {sc.pred_promote, [&] { return s.predictor_serve(true); }},
      {sc.pred_rollback, [&] { return s.predictor_serve(false); }},
      {sc.fleet_status, [&] { return s.fleet_status(); }},
      {sc.lat_list, [&] { return s.latency_list(); }},
      {sc.lat_show, [&] { return s.latency_show(); }},
      {sc.lat_train, [&] { return s.latency_train(); }},
      {sc.lat_predict, [&] { return s.latency_predict(); }},
      {sc.hp_ask, [&] { return s.hparams_ask(); }},
      {sc.console_token, [&] { return s.console_token(); }},
      {sc.console_tokens, [&] { return s.console_tokens(); }},
      {sc.console_revoke, [&] { return s.console_revoke(); }},
  };
  for (const auto& [cmd, run] : commands)
    if (cmd->parsed()) return run();
  return kExitUsage;
}
