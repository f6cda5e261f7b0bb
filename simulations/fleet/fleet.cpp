#include "simulations/fleet/fleet.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <set>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "agent/core/agent_core.hpp"
#include "common/protocol/admin_client.hpp"
#include "common/protocol/curve.hpp"
#include "common/util/loopback.hpp"
#include "common/util/process.hpp"
#include "common/util/procstat.hpp"
#include "simulations/fleet/world.hpp"

namespace edgenas::sim {
namespace fs = std::filesystem;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {

// From a Prometheus histogram on a /metrics page, summed over its series (every message type's):
// the message count and, per quantile, the upper bound of the bucket it falls in (milliseconds).
json histogram_bounds(const std::string& page, const std::string& name) {
  std::map<double, double> sums;  // le in s → cumulative count
  std::istringstream in(page);
  const std::string prefix = name + "_bucket{", le_key = "le=\"";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    const auto at = line.find(le_key);
    const auto q = at == std::string::npos ? at : line.find('"', at + le_key.size());
    if (q == std::string::npos) continue;
    const std::string le = line.substr(at + le_key.size(), q - at - le_key.size());
    const double bound = le == "+Inf" ? INFINITY : std::stod(le);
    sums[bound] += std::stod(line.substr(line.rfind(' ') + 1));
  }
  const std::vector<std::pair<double, double>> buckets(sums.begin(), sums.end());
  if (buckets.empty() || buckets.back().second <= 0) return json();
  const double total = buckets.back().second;
  json out{{"count", total}};
  for (auto [key, q] : {std::pair{"p50_le_ms", 0.5}, std::pair{"p99_le_ms", 0.99}}) {
    for (const auto& [bound, cum] : buckets) {
      if (cum >= q * total) {
        out[key] = std::isinf(bound) ? json("inf") : json(bound * 1000);
        break;
      }
    }
  }
  return out;
}

// A binary of this project: beside edgenas-sim when installed, or at its build-tree place.
std::string sibling(const std::string& build_tree_path, const std::string& name) {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (const auto& p : {self / name, self / ".." / build_tree_path}) {
    if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  return "";
}

int64_t real_ms(Steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t0).count();
}

// The simulated agents' outbox: in memory (a real agent's is SQLite; 10,000 database files
// would measure the disk, not the protocol). Bounded like the real one.
class MemoryOutbox final : public agent::Outbox {
 public:
  Status add(const Trace& t) override {
    for (const auto& q : q_)
      if (q.trace_id == t.trace_id) return ok_status();
    if (q_.size() >= 1000) {
      q_.pop_front();
      ++dropped_;
    }
    q_.push_back(t);
    return ok_status();
  }
  Expected<std::vector<Trace>> pending(std::size_t max) override {
    return std::vector<Trace>(q_.begin(), q_.begin() + static_cast<long>(std::min(max, q_.size())));
  }
  Status ack(const std::vector<std::string>& ids) override {
    for (const auto& id : ids)
      q_.erase(
          std::remove_if(q_.begin(), q_.end(), [&](const Trace& t) { return t.trace_id == id; }),
          q_.end());
    return ok_status();
  }
  int64_t depth() override { return static_cast<int64_t>(q_.size()); }
  int64_t dropped() override { return dropped_; }

 private:
  std::deque<Trace> q_;
  int64_t dropped_ = 0;
};

struct SimAgent {
  std::string id;
  std::unique_ptr<SimBox> box;
  std::unique_ptr<agent::TaskQueue> queue;
  MemoryOutbox outbox;
  std::unique_ptr<agent::AgentCore> core;
  std::unique_ptr<zmq::socket_t> sock;
  proto::CurveKeyPair keys;  // each simulated box has its own CURVE identity, as a real one
  int64_t next_sample_ms = 0, next_search_sim_ms = 0, trace_at_ms = 0;
  Steady::time_point request_sent;
  std::string pending_request;
  Context request_context;
  std::optional<Trace> trace_due;
  int64_t join_ms = 0, leave_ms = INT64_MAX;
  bool left = false;
};

struct ProfileStats {
  int searches = 0, met = 0;
  double reward = 0, accuracy = 0, layers = 0, filters = 0;
  void add(const proto::HparamReply& reply, const SearchOutcome& outcome) {
    searches++;
    met += outcome.met_latency;
    reward += outcome.reward;
    accuracy += outcome.accuracy;
    layers += reply.hparams.layers;
    filters += reply.hparams.filters;
  }
  json to_json() const {
    return {{"searches", searches}, {"met", met},       {"reward", reward},
            {"accuracy", accuracy}, {"layers", layers}, {"filters", filters}};
  }
  void add(const json& j) {
    searches += j["searches"].get<int>();
    met += j["met"].get<int>();
    reward += j["reward"].get<double>();
    accuracy += j["accuracy"].get<double>();
    layers += j["layers"].get<double>();
    filters += j["filters"].get<double>();
  }
  json means() const {
    const double n = std::max(1, searches);
    return {{"searches", searches},      {"met_T", met / n},
            {"mean_reward", reward / n}, {"mean_accuracy", accuracy / n},
            {"mean_layers", layers / n}, {"mean_filters", filters / n}};
  }
};

struct WorkerOut {
  int registered = 0, left = 0;
  int64_t messages_out = 0, messages_in = 0, traces_acked = 0, errors = 0;
  std::vector<double> latency_ms;
  std::map<std::string, ProfileStats> by_profile, by_policy;
  json to_json() const {
    json p = json::object(), q = json::object();
    for (const auto& [k, s] : by_profile) p[k] = s.to_json();
    for (const auto& [k, s] : by_policy) q[k] = s.to_json();
    return {{"registered", registered}, {"left", left},          {"out", messages_out},
            {"in", messages_in},        {"acked", traces_acked}, {"errors", errors},
            {"latency", latency_ms},    {"profiles", p},         {"policies", q}};
  }
};

struct WorldSetup {
  Scenario scenario;
  std::map<std::string, DeviceProfile> profiles;
  std::optional<Surrogate> surrogate;
};

void connect(SimAgent& a, zmq::context_t& ctx, const std::string& endpoint,
             const std::string& server_key, int ep, uint32_t index) {
  a.sock = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
  a.sock->set(zmq::sockopt::linger, 0);
  a.sock->set(zmq::sockopt::maxmsgsize, limits::kMaxWireMessageBytes);
  proto::apply_client(*a.sock, {server_key, a.keys});
  a.sock->connect(endpoint);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = index;
  epoll_ctl(ep, EPOLL_CTL_ADD, a.sock->get(zmq::sockopt::fd), &ev);
  a.core->on_connected();
}

// Mirrors the box's scenario queue into the agent's Job queue.
void sync_queue(SimAgent& a) {
  const auto& want = a.box->queue().tasks;
  std::set<std::string> ids;
  bool changed = false;
  for (const auto& t : want) {
    ids.insert(t.task_id);
    if (!a.queue->contains(t.task_id)) changed |= a.queue->submit(t).ok();
  }
  for (const auto& t : a.queue->matrix().tasks) {
    if (!ids.count(t.task_id)) changed |= a.queue->done(t.task_id).ok();
  }
  if (changed) a.core->queue_changed();
}

WorkerOut run_worker(const FleetOptions& o, const WorldSetup& world, const std::string& endpoint,
                     const std::string& server_key, int first, int count, Steady::time_point t0) {
  WorkerOut w;
  SystemClock clock;
  zmq::context_t ctx(1);
  ctx.set(zmq::ctxopt::max_sockets, count + 16);
  std::mt19937_64 rng(o.seed * 7919 + static_cast<uint64_t>(first));
  const double scale = world.scenario.time_scale;
  std::vector<SimAgent> agents(static_cast<std::size_t>(count));
  using Event = std::pair<int64_t, uint32_t>;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> timers;
  const int ep = epoll_create1(0);
  for (int i = 0; i < count; ++i) {
    auto& a = agents[static_cast<std::size_t>(i)];
    const int n = first + i;
    // Profile by the mix, in deterministic proportions.
    double pick = (n + 0.5) / std::max(1, o.agents), acc = 0;
    std::string profile = o.mix.back().first;
    for (const auto& [name, share] : o.mix) {
      acc += share;
      if (pick < acc) {
        profile = name;
        break;
      }
    }
    a.id = "sim-" + profile + "-" + std::to_string(n);
    a.box = std::make_unique<SimBox>(a.id, world.profiles.at(profile), world.scenario, rng());
    std::set<std::string> names;
    proto::Register reg;
    reg.agent_version = "edgenas-sim";
    reg.hostname = "edgenas-sim";
    reg.devices = a.box->devices();
    reg.power_source = "simulated";
    reg.profile = profile;
    for (const auto& d : reg.devices) names.insert(d.name);
    a.queue = std::make_unique<agent::TaskQueue>(names);
    a.core = std::make_unique<agent::AgentCore>(clock, a.outbox, *a.queue, a.id, reg, rng());
    a.keys = *proto::generate_keypair();  // run() checked that key generation works
    // Join: most at the start (spread over 5 s), late starters per the scenario's join rate.
    std::uniform_real_distribution<double> u(0, 1);
    const double horizon_h = o.duration_ms * scale / 3.6e6;
    a.join_ms = u(rng) < world.scenario.join_per_hour * horizon_h
                    ? static_cast<int64_t>(u(rng) * o.duration_ms)
                    : static_cast<int64_t>(5000.0 * i / std::max(1, count));
    if (u(rng) < world.scenario.leave_per_hour * horizon_h)
      a.leave_ms = a.join_ms + static_cast<int64_t>(u(rng) * (o.duration_ms - a.join_ms));
    a.next_search_sim_ms = static_cast<int64_t>(
        std::exponential_distribution<double>(1.0 / world.scenario.search_every_ms)(rng));
    timers.push({a.join_ms, static_cast<uint32_t>(i)});
  }
  // Everything queued on the socket, then what the core has to say. ZMQ_FD is edge-triggered:
  // a send can consume the notification, so the socket is read again after every send.
  auto pump = [&](SimAgent& a) {
    for (int round = 0; round < 4 && a.sock; ++round) {
      zmq::message_t m;
      bool got = false;
      while (a.sock && a.sock->recv(m, zmq::recv_flags::dontwait)) {
        got = true;
        w.messages_in++;
        a.core->on_message(m.to_string_view());
      }
      if (!a.pending_request.empty()) {
        if (auto reply = a.core->take_hparam_reply(a.pending_request)) {
          w.latency_ms.push_back(
              std::chrono::duration<double, std::milli>(Steady::now() - a.request_sent).count());
          const uint64_t seed = std::hash<std::string>{}(a.pending_request);
          const auto outcome =
              simulate_search(*world.surrogate, a.box->profile(), a.request_context, reply->hparams,
                              seed, {world.scenario.search_budget_ms, "evolution", 4000});
          a.trace_due =
              outcome_trace(a.pending_request, a.request_context, *reply, outcome, clock.wall_ms());
          a.trace_at_ms = real_ms(t0) + static_cast<int64_t>(outcome.search_s * 1000 / scale);
          a.core->set_activity("searching");
          w.by_profile[a.box->profile().name].add(*reply, outcome);
          w.by_policy[reply->policy].add(*reply, outcome);
          a.pending_request.clear();
        }
      }
      const auto out = a.core->take_outgoing();
      for (const auto& bytes : out) {
        if (a.sock && a.sock->send(zmq::buffer(bytes), zmq::send_flags::dontwait)) w.messages_out++;
      }
      if (!got && out.empty()) break;
    }
  };
  std::vector<epoll_event> ready(512);
  while (real_ms(t0) < o.duration_ms) {
    const int64_t now = real_ms(t0);
    const int64_t sim_now = static_cast<int64_t>(static_cast<double>(now) * scale);
    while (!timers.empty() && timers.top().first <= now) {
      const uint32_t i = timers.top().second;
      timers.pop();
      auto& a = agents[i];
      if (a.left) continue;
      if (now >= a.leave_ms) {  // the box goes away: socket closed, the coordinator sees it die
        if (a.sock) epoll_ctl(ep, EPOLL_CTL_DEL, a.sock->get(zmq::sockopt::fd), nullptr);
        a.sock.reset();
        a.left = true;
        w.left++;
        continue;
      }
      if (!a.sock) connect(a, ctx, endpoint, server_key, ep, i);
      a.box->advance(sim_now);
      sync_queue(a);
      if (now >= a.next_sample_ms) {
        a.core->set_source(a.box->source(sim_now));
        a.next_sample_ms = now + 5000;
      }
      if (a.trace_due && now >= a.trace_at_ms) {
        (void)a.core->submit_trace(*a.trace_due);
        a.trace_due.reset();
        a.core->set_activity("idle");
        a.next_search_sim_ms = sim_now + static_cast<int64_t>(std::exponential_distribution<double>(
                                             1.0 / world.scenario.search_every_ms)(rng));
      }
      if (a.pending_request.empty() && !a.trace_due && sim_now >= a.next_search_sim_ms &&
          a.core->state() == agent::LinkState::registered) {
        a.request_context = a.box->context(sim_now);
        a.pending_request = a.core->request_hparams(a.request_context);
        a.request_sent = Steady::now();
      }
      a.core->tick();
      if (a.core->link_lost() && a.sock) {
        epoll_ctl(ep, EPOLL_CTL_DEL, a.sock->get(zmq::sockopt::fd), nullptr);
        a.sock.reset();
      }
      if (!a.sock && a.core->link_lost() && clock.now_ms() >= a.core->reconnect_at_ms())
        connect(a, ctx, endpoint, server_key, ep, i);
      pump(a);
      timers.push({now + 250, i});
    }
    const int64_t wait =
        timers.empty() ? 5 : std::clamp<int64_t>(timers.top().first - real_ms(t0), 0, 5);
    const int n =
        epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), static_cast<int>(wait));
    for (int k = 0; k < n; ++k) {
      auto& a = agents[ready[static_cast<std::size_t>(k)].data.u32];
      pump(a);
    }
  }
  for (auto& a : agents) {
    w.registered += a.core->stats().registrations > 0;
    w.traces_acked += a.core->stats().traces_acked;
    w.errors += a.core->stats().bad_messages_in + a.core->stats().errors_from_coordinator;
  }
  close(ep);
  return w;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

}  // namespace

Expected<std::vector<std::pair<std::string, double>>> parse_mix(const std::string& text) {
  std::vector<std::pair<std::string, double>> out;
  std::stringstream ss(text);
  std::string item;
  double total = 0;
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) return Error{"usage", "'" + item + "' is not PROFILE=SHARE"};
    std::string share = item.substr(eq + 1);
    const bool percent = !share.empty() && share.back() == '%';
    if (percent) share.pop_back();
    double v = 0;
    try {
      std::size_t used = 0;
      v = std::stod(share, &used);
      if (used != share.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return Error{"usage", "'" + item + "': the share is not a number"};
    }
    if (percent) v /= 100;
    if (v <= 0) return Error{"usage", "'" + item + "': shares must be positive"};
    out.emplace_back(item.substr(0, eq), v);
    total += v;
  }
  if (out.empty()) return Error{"usage", "the mix is empty"};
  if (std::abs(total - 1) > 0.011)
    return Error{"usage", "the shares add up to " + std::to_string(total * 100) + " %, not 100 %"};
  for (auto& [n, v] : out) v /= total;
  return out;
}

// The scenario, the profiles of the mix and the surrogate fitted on its table.
Expected<WorldSetup> load_world(const FleetOptions& o) {
  WorldSetup world;
  auto sc = load_scenario(o.scenario_path);
  if (!sc) return Error{"usage", sc.error().message};
  world.scenario = *sc;
  for (const auto& [name, share] : o.mix) {
    auto p = load_profile(o.profiles_dir + "/" + name + ".toml");
    if (!p) return Error{"usage", p.error().message};
    world.profiles[name] = *p;
  }
  auto rows = load_table(o.table_path);
  if (!rows) return Error{"usage", rows.error().message};
  auto s = Surrogate::fit(*rows);
  if (!s) return Error{"usage", s.error().message};
  world.surrogate = std::move(*s);
  return world;
}

// The run's report on stdout, from its summary.json.
void print_summary(const json& s, const std::string& out_dir) {
  const double secs = s["duration_s"].get<double>();
  const auto& lat = s["hparam_latency_ms"];
  const auto& c = s["coordinator"];
  const auto& served = s["coordinator_request_ms"];
  std::printf("\n%d simulated agents (%d registered, %d left during the run) + %d real, %.0f s:\n",
              s["agents"].get<int>(), s["registered"].get<int>(), s["left"].get<int>(),
              s["real_search_agents"].get<int>(), secs);
  std::printf("  messages/s          %.0f to the coordinator, %.0f from it\n",
              s["messages_per_s"]["to_coordinator"].get<double>(),
              s["messages_per_s"]["from_coordinator"].get<double>());
  std::printf(
      "  HparamRequest       %zu answered, p50 %.2f ms, p99 %.2f ms (request sent to reply read, "
      "in the agents)\n",
      s["hparam_requests"].get<std::size_t>(), lat["p50"].get<double>(), lat["p99"].get<double>());
  if (served.is_object()) {
    std::printf(
        "  coordinator side    p50 <= %s ms, p99 <= %s ms over %.0f agent messages (read to "
        "reply sent; /metrics histogram bucket bounds)\n",
        served.value("p50_le_ms", json("?")).dump().c_str(),
        served.value("p99_le_ms", json("?")).dump().c_str(), served["count"].get<double>());
  }
  std::printf("  coordinator         %.1f %% of one core, RSS %.1f MB (peak %.1f MB)\n",
              c["cpu_percent"].get<double>(), c["rss_mb"].get<double>(),
              c["peak_rss_mb"].get<double>());
  const bool stored = s["store"].is_object() && s["store"].contains("traces");
  std::printf("  traces stored       %lld (acked to simulated agents: %lld)\n",
              static_cast<long long>(stored ? s["store"]["traces"].get<int64_t>() : -1),
              static_cast<long long>(s["traces_acked"].get<int64_t>()));
  std::printf("  policy serving      %s\n\n",
              s["hparam_policy"].is_string() ? s["hparam_policy"].get<std::string>().c_str() : "?");
  for (const auto& [title, key] :
       {std::pair{"PROFILE", "profiles"}, std::pair{"POLICY", "policies"}}) {
    std::printf("  %-12s %9s %8s %11s %9s %12s %12s\n", title, "SEARCHES", "MEETS_T", "MEAN_REWARD",
                "MEAN_ACC", "MEAN_LAYERS", "MEAN_FILTERS");
    for (const auto& [k, p] : s[key].items())
      std::printf("  %-12s %9d %7.1f%% %11.3f %9.4f %12.1f %12.0f\n", k.c_str(),
                  p["searches"].get<int>(), 100 * p["met_T"].get<double>(),
                  p["mean_reward"].get<double>(), p["mean_accuracy"].get<double>(),
                  p["mean_layers"].get<double>(), p["mean_filters"].get<double>());
    std::printf("\n");
  }
  std::printf("\n  summary: %s/summary.json\n", out_dir.c_str());
}

Expected<json> run_fleet(const FleetOptions& o,
                         const std::function<void(const std::string&)>& progress) {
  if (o.agents < 0 || o.real_search < 0 || o.agents + o.real_search < 1)
    return Error{"usage", "no agents to run"};
  auto loaded = load_world(o);
  if (!loaded) return loaded.error();
  WorldSetup world = std::move(*loaded);
  const std::string coordinator =
      o.coordinator_bin.empty()
          ? sibling("coordinator/io/edgenas-coordinator", "edgenas-coordinator")
          : o.coordinator_bin;
  if (coordinator.empty() || !fs::exists(coordinator))
    return Error{"usage", "edgenas-coordinator not found (pass --coordinator)"};
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return Error{"usage", "cannot create " + o.out_dir + ": " + ec.message()};

  // The coordinator, a real process on loopback.
  const int port = net::free_port(), admin_port = net::free_port(), metrics_port = net::free_port();
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  const std::string admin = "tcp://127.0.0.1:" + std::to_string(admin_port);
  ProcessLauncher launcher;
  // CURVE as in production; the simulated boxes' keys are accepted on first contact
  // (--auto-accept) since nobody is there to enrol ten thousand of them by hand.
  if (auto k = proto::generate_keypair(); !k) return k.error();
  const std::string key_dir = o.out_dir + "/keys";
  std::vector<std::string> coord_argv{coordinator,
                                      "--listen",
                                      endpoint,
                                      "--admin",
                                      admin,
                                      "--db",
                                      o.out_dir + "/coordinator.db",
                                      "--key-dir",
                                      key_dir,
                                      "--auto-accept",
                                      "--metrics",
                                      "127.0.0.1:" + std::to_string(metrics_port),
                                      "--log-level",
                                      "warn"};
  coord_argv.insert(coord_argv.end(), o.coordinator_args.begin(), o.coordinator_args.end());
  auto coord = launcher.spawn({coord_argv, o.out_dir + "/coordinator.log", {0, 0}, "coordinator"});
  if (!coord) return coord.error();
  std::optional<proto::AdminClient> client_slot;
  std::string server_key;
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    if (!client_slot) {
      auto pub = proto::load_public_key(key_dir + "/coordinator.pub");
      auto pair = proto::load_keypair(key_dir + "/admin.key");
      if (pub && pair) {
        server_key = *pub;
        client_slot.emplace(admin, 1000, proto::CurveClient{server_key, *pair});
      }
    }
    up = client_slot && client_slot->call("status").ok();
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!up) {
    launcher.signal(*coord, SIGKILL);
    return Error{"failed", "the coordinator did not start; see " + o.out_dir + "/coordinator.log"};
  }
  proto::AdminClient& client = *client_slot;
  progress("coordinator up on " + endpoint + " (store " + o.out_dir + "/coordinator.db)");

  // Real agents running real edgenas-search, when asked for.
  std::vector<int> real_agents;
  if (o.real_search > 0) {
    const std::string agent_bin = sibling("agent/io/edgenas-agent", "edgenas-agent");
    const std::string search_bin = sibling("agent/search/edgenas-search", "edgenas-search");
    const std::string gen_bin = sibling("simulations/meter/edgenas-meter-gen", "edgenas-meter-gen");
    if (agent_bin.empty() || search_bin.empty() || gen_bin.empty())
      return Error{"usage",
                   "--real-search needs edgenas-agent, edgenas-search and edgenas-meter-gen"};
    if (!fs::exists(o.out_dir + "/data/digits/labels.csv")) {
      progress("generating meter images for the real searches");
      ProcessLauncher gen;
      auto g = gen.spawn({{gen_bin, "-o", o.out_dir + "/data", "-n", "300", "--seed", "3"},
                          o.out_dir + "/meter-gen.log",
                          {0, 0},
                          "gen"});
      if (!g) return g.error();
      while (!gen.poll(*g)) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (int i = 0; i < o.real_search; ++i) {
      const std::string profile = o.mix[static_cast<std::size_t>(i) % o.mix.size()].first;
      const std::string dir = o.out_dir + "/real-" + std::to_string(i);
      fs::create_directories(dir, ec);
      std::ofstream(dir + "/agent.toml")
          << "[agent]\nid = \"real-" << profile << "-" << i << "\"\ncoordinator = \"" << endpoint
          << "\"\ncoordinator_key = \"" << key_dir << "/coordinator.pub\"\nstate_dir = \"" << dir
          << "\"\nsample_interval = \"1s\"\n[probes]\nmode = "
          << "\"simulated\"\nprofile = \"" << o.profiles_dir << "/" << profile << ".toml\"\n"
          << "[search]\nbinary = \"" << search_bin << "\"\ndata = \"folder:" << o.out_dir
          << "/data/digits\"\nbudget = \"" << std::max<int64_t>(20, o.duration_ms / 2000)
          << "s\"\n[[task]]\ntask_id = \"meter-ocr\"\nlatency_req_ms = 5.0\nrows = [{ device = "
          << "\"cpu\", runtime_ms = 4.0, energy_j = 0.05, nodes = 1 }]\n";
      auto h = launcher.spawn({{agent_bin, "run", "-c", dir + "/agent.toml"},
                               dir + "/agent.log",
                               {0, 0},
                               "real-agent"});
      if (!h) return h.error();
      real_agents.push_back(*h);
      proto::AdminClient local("ipc://" + dir + "/agent.sock", 1000);
      bool started = false;
      for (int k = 0; k < 100 && !started; ++k) {
        started = local.call("search.start").ok();
        if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      progress(std::string("real agent real-") + profile + "-" + std::to_string(i) +
               (started ? ": edgenas-search started" : ": could not start its search"));
    }
  }

  // The simulated agents, in worker processes.
  const int procs =
      o.agents == 0 ? 0 : (o.procs > 0 ? o.procs : std::max(1, (o.agents + 2499) / 2500));
  const auto t0 = Steady::now();
  std::vector<std::pair<pid_t, int>> workers;
  for (int p = 0; p < procs; ++p) {
    int fds[2];
    if (pipe(fds) != 0) return Error{"failed", "pipe"};
    const int first = o.agents * p / procs, count = o.agents * (p + 1) / procs - first;
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      const std::string out =
          run_worker(o, world, endpoint, server_key, first, count, t0).to_json().dump();
      for (std::size_t off = 0; off < out.size();) {
        const ssize_t n = write(fds[1], out.data() + off, out.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      _exit(0);
    }
    close(fds[1]);
    workers.emplace_back(pid, fds[0]);
  }
  progress("started " + std::to_string(o.agents) + " simulated agents in " + std::to_string(procs) +
           " process(es), scenario " + world.scenario.name + " at " +
           std::to_string(static_cast<int>(world.scenario.time_scale)) + "x real time, for " +
           std::to_string(o.duration_ms / 1000) + " s");

  // Progress while it runs; the coordinator's CPU and RSS over the run.
  const ProcSample start = sample_proc(*coord);
  int64_t peak_rss = start.rss_kb;
  while (real_ms(t0) < o.duration_ms) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min<int64_t>(5000, o.duration_ms - real_ms(t0) + 1)));
    const auto ps = sample_proc(*coord);
    peak_rss = std::max(peak_rss, ps.rss_kb);
    if (auto st = client.call("status")) {
      char line[256];
      std::snprintf(line, sizeof line,
                    "%3llds (simulated %.0f min): %d agents alive, %lld traces stored, %lld hparam "
                    "replies, policy %s",
                    static_cast<long long>(real_ms(t0) / 1000),
                    real_ms(t0) * world.scenario.time_scale / 60000.0,
                    (*st)["agents"]["alive"].get<int>(),
                    static_cast<long long>((*st)["store"]["traces"].get<int64_t>()),
                    static_cast<long long>((*st)["hparam_replies"].get<int64_t>()),
                    (*st)["hparam_policy"].get<std::string>().c_str());
      progress(line);
    }
  }
  const ProcSample end = sample_proc(*coord);
  WorkerOut total;
  for (auto [pid, fd] : workers) {
    std::string data;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<std::size_t>(n));
    close(fd);
    waitpid(pid, nullptr, 0);
    auto j = json::parse(data, nullptr, false);
    if (j.is_discarded()) return Error{"failed", "a worker process returned no result"};
    total.registered += j["registered"].get<int>();
    total.left += j["left"].get<int>();
    total.messages_out += j["out"].get<int64_t>();
    total.messages_in += j["in"].get<int64_t>();
    total.traces_acked += j["acked"].get<int64_t>();
    total.errors += j["errors"].get<int64_t>();
    for (double v : j["latency"]) total.latency_ms.push_back(v);
    for (const auto& [k, v] : j["profiles"].items()) total.by_profile[k].add(v);
    for (const auto& [k, v] : j["policies"].items()) total.by_policy[k].add(v);
  }
  // Real searches: give them their budget to finish, then stop the agents (they queue their
  // trace on SIGTERM at the latest).
  json real = json::array();
  for (std::size_t i = 0; i < real_agents.size(); ++i) {
    const std::string dir = o.out_dir + "/real-" + std::to_string(i);
    proto::AdminClient local("ipc://" + dir + "/agent.sock", 2000);
    for (int k = 0; k < 1200; ++k) {
      auto st = local.call("search.status");
      if (!st || !st->contains("run")) break;
      if (k % 50 == 0) progress("waiting for real edgenas-search in " + dir);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the trace's delivery
    auto st = local.call("search.status");
    real.push_back({{"dir", dir}, {"search", st ? *st : json()}});
    launcher.signal(real_agents[i], SIGTERM);
  }
  for (int h : real_agents) {
    for (int k = 0; k < 100 && !launcher.poll(h); ++k)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto status = client.call("status");
  // The coordinator's own service time (read to reply sent), from its /metrics: what the agents
  // measure adds their own loop, which the simulated searches keep busy.
  const json served =
      histogram_bounds(net::http_get(metrics_port, "/metrics").second, "edgenas_request_seconds");
  launcher.signal(*coord, SIGTERM);
  for (int k = 0; k < 100 && !launcher.poll(*coord); ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));

  const double secs = static_cast<double>(o.duration_ms) / 1000;
  json profiles = json::object(), policies = json::object();
  for (const auto& [k, p] : total.by_profile) profiles[k] = p.means();
  for (const auto& [k, p] : total.by_policy) policies[k] = p.means();
  json summary{
      {"agents", o.agents},
      {"registered", total.registered},
      {"left", total.left},
      {"real_search_agents", o.real_search},
      {"duration_s", secs},
      {"messages_per_s",
       {{"to_coordinator", total.messages_out / secs},
        {"from_coordinator", total.messages_in / secs}}},
      {"hparam_requests", total.latency_ms.size()},
      {"hparam_latency_ms",
       {{"p50", percentile(total.latency_ms, 50)}, {"p99", percentile(total.latency_ms, 99)}}},
      {"coordinator_request_ms", served},
      {"traces_acked", total.traces_acked},
      {"errors", total.errors},
      {"coordinator",
       {{"cpu_percent", 100.0 * (end.cpu_s - start.cpu_s) / secs},
        {"rss_mb", static_cast<double>(end.rss_kb) / 1024},
        {"peak_rss_mb", static_cast<double>(peak_rss) / 1024}}},
      {"store", status ? (*status)["store"] : json()},
      {"hparam_policy", status ? (*status)["hparam_policy"] : json()},
      {"profiles", profiles},
      {"policies", policies},
      {"real_searches", real}};
  std::ofstream(o.out_dir + "/summary.json") << summary.dump(2) << "\n";

  print_summary(summary, o.out_dir);
  return summary;
}

}  // namespace edgenas::sim
