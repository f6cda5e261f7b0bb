#include "simulations/fleet/fleet.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
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
#include <tuple>
#include <zmq.hpp>

#include "agent/core/agent_core.hpp"
#include "common/protocol/admin_client.hpp"
#include "common/protocol/curve.hpp"
#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "common/util/loopback.hpp"
#include "common/util/process.hpp"
#include "common/util/procstat.hpp"
#include "simulations/fleet/fleet_latency.hpp"
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
  bool measures_accelerators = false;  // has the vendor's runtime (FleetOptions::measure_share)
  std::shared_ptr<const search::LatencyModelSet> latency;  // the fleet's, as last sent (or none)
  int latency_version = 0;
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
  // by_latency: "<cpu|accelerator> <measured|predicted|modelled>" (fleet_latency.hpp)
  std::map<std::string, ProfileStats> by_profile, by_policy, by_latency;
  json to_json() const {
    json p = json::object(), q = json::object(), l = json::object();
    for (const auto& [k, s] : by_profile) p[k] = s.to_json();
    for (const auto& [k, s] : by_policy) q[k] = s.to_json();
    for (const auto& [k, s] : by_latency) l[k] = s.to_json();
    return {{"registered", registered}, {"left", left},          {"out", messages_out},
            {"in", messages_in},        {"acked", traces_acked}, {"errors", errors},
            {"latency", latency_ms},    {"profiles", p},         {"policies", q},
            {"latency_seen", l}};
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

// The profile of agent n of the fleet: by the mix, in deterministic proportions.
std::string profile_of(const FleetOptions& o, int n) {
  const double pick = (n + 0.5) / std::max(1, o.agents);
  double acc = 0;
  for (const auto& [name, share] : o.mix) {
    acc += share;
    if (pick < acc) return name;
  }
  return o.mix.back().first;
}

// One worker process's agents, each woken every 250 ms by a timer and whenever its socket has
// something to read.
class WorkerLoop {
 public:
  WorkerLoop(const FleetOptions& o, const WorldSetup& world, std::string endpoint,
             std::string server_key, int first, int count, Steady::time_point t0)
      : o_(o),
        world_(world),
        endpoint_(std::move(endpoint)),
        server_key_(std::move(server_key)),
        first_(first),
        t0_(t0),
        rng_(o.seed * 7919 + static_cast<uint64_t>(first)),
        scale_(world.scenario.time_scale),
        agents_(static_cast<std::size_t>(count)),
        ep_(epoll_create1(0)) {
    ctx_.set(zmq::ctxopt::max_sockets, count + 16);
    for (int i = 0; i < count; ++i) init_agent(i);
  }
  ~WorkerLoop() { close(ep_); }
  WorkerLoop(const WorkerLoop&) = delete;
  WorkerLoop& operator=(const WorkerLoop&) = delete;

  WorkerOut run() {
    std::vector<epoll_event> ready(512);
    while (real_ms(t0_) < o_.duration_ms) {
      const int64_t now = real_ms(t0_);
      while (!timers_.empty() && timers_.top().first <= now) {
        const uint32_t i = timers_.top().second;
        timers_.pop();
        on_timer(agents_[i], i, now);
      }
      const int64_t wait =
          timers_.empty() ? 5 : std::clamp<int64_t>(timers_.top().first - real_ms(t0_), 0, 5);
      const int n =
          epoll_wait(ep_, ready.data(), static_cast<int>(ready.size()), static_cast<int>(wait));
      for (int k = 0; k < n; ++k) pump(agents_[ready[static_cast<std::size_t>(k)].data.u32]);
    }
    for (auto& a : agents_) {
      w_.registered += a.core->stats().registrations > 0;
      w_.traces_acked += a.core->stats().traces_acked;
      w_.errors += a.core->stats().bad_messages_in + a.core->stats().errors_from_coordinator;
    }
    return w_;
  }

 private:
  void init_agent(int i) {
    auto& a = agents_[static_cast<std::size_t>(i)];
    const int n = first_ + i;
    const std::string profile = profile_of(o_, n);
    a.id = "sim-" + profile + "-" + std::to_string(n);
    a.box = std::make_unique<SimBox>(a.id, world_.profiles.at(profile), world_.scenario, rng_());
    proto::Register reg;
    reg.agent_version = "edgenas-sim";
    reg.hostname = "edgenas-sim";
    reg.devices = a.box->devices();
    reg.power_source = "simulated";
    reg.profile = profile;
    std::set<std::string> names;
    for (const auto& d : reg.devices) names.insert(d.name);
    a.queue = std::make_unique<agent::TaskQueue>(names);
    a.core = std::make_unique<agent::AgentCore>(clock_, a.outbox, *a.queue, a.id, reg, rng_());
    // Evenly spread over the fleet, so every profile has its share.
    a.measures_accelerators =
        std::floor((n + 1) * o_.measure_share) > std::floor(n * o_.measure_share);
    a.keys = *proto::generate_keypair();  // run() checked that key generation works
    // Join: most at the start (spread over 5 s), late starters per the scenario's join rate.
    std::uniform_real_distribution<double> u(0, 1);
    const double horizon_h = o_.duration_ms * scale_ / 3.6e6;
    a.join_ms = u(rng_) < world_.scenario.join_per_hour * horizon_h
                    ? static_cast<int64_t>(u(rng_) * o_.duration_ms)
                    : static_cast<int64_t>(5000.0 * i / std::max<std::size_t>(1, agents_.size()));
    if (u(rng_) < world_.scenario.leave_per_hour * horizon_h)
      a.leave_ms = a.join_ms + static_cast<int64_t>(u(rng_) * (o_.duration_ms - a.join_ms));
    a.next_search_sim_ms = next_search_gap();
    timers_.push({a.join_ms, static_cast<uint32_t>(i)});
  }

  int64_t next_search_gap() {
    return static_cast<int64_t>(
        std::exponential_distribution<double>(1.0 / world_.scenario.search_every_ms)(rng_));
  }

  void drop_socket(SimAgent& a) {
    if (a.sock) epoll_ctl(ep_, EPOLL_CTL_DEL, a.sock->get(zmq::sockopt::fd), nullptr);
    a.sock.reset();
  }

  // The agent's box moves on: it joins or leaves, samples its Source, delivers a finished
  // search's trace, asks for hyperparameters when its next search is due, keeps its link.
  void on_timer(SimAgent& a, uint32_t i, int64_t now) {
    if (a.left) return;
    if (now >= a.leave_ms) {  // the box goes away: socket closed, the coordinator sees it die
      drop_socket(a);
      a.left = true;
      w_.left++;
      return;
    }
    const int64_t sim_now = static_cast<int64_t>(static_cast<double>(now) * scale_);
    if (!a.sock) connect(a, ctx_, endpoint_, server_key_, ep_, i);
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
      a.next_search_sim_ms = sim_now + next_search_gap();
    }
    if (a.pending_request.empty() && !a.trace_due && sim_now >= a.next_search_sim_ms &&
        a.core->state() == agent::LinkState::registered) {
      a.request_context = a.box->context(sim_now);
      a.pending_request = a.core->request_hparams(a.request_context, a.latency_version);
      a.request_sent = Steady::now();
    }
    a.core->tick();
    if (a.core->link_lost()) drop_socket(a);
    if (!a.sock && a.core->link_lost() && clock_.now_ms() >= a.core->reconnect_at_ms())
      connect(a, ctx_, endpoint_, server_key_, ep_, i);
    pump(a);
    timers_.push({now + 250, i});
  }

  // The reply to the agent's request, when it has come: its search is simulated and its trace
  // falls due when the search would have ended.
  void take_reply(SimAgent& a) {
    if (a.pending_request.empty()) return;
    const auto reply = a.core->take_hparam_reply(a.pending_request);
    if (!reply) return;
    w_.latency_ms.push_back(
        std::chrono::duration<double, std::milli>(Steady::now() - a.request_sent).count());
    if (reply->latency) keep_latency_models(a, *reply->latency);
    const uint64_t seed = std::hash<std::string>{}(a.pending_request);
    const auto& profile = a.box->profile();
    const std::string device = simulated_target_device(profile, a.request_context);
    const SearchLatency latency(profile, device, a.measures_accelerators, a.latency.get(),
                                a.latency_version, world_.surrogate->calibration(), seed);
    SimSearchOptions options;
    options.budget_ms = world_.scenario.search_budget_ms;
    options.trial_images = 4000;
    options.latency = latency.options();
    const auto outcome = simulate_search(*world_.surrogate, profile, a.request_context,
                                         reply->hparams, seed, options);
    a.trace_due =
        outcome_trace(a.pending_request, a.request_context, *reply, outcome, clock_.wall_ms());
    latency.report(*a.trace_due);
    w_.by_latency[(device == "cpu" ? "cpu " : "accelerator ") + latency.source()].add(*reply,
                                                                                      outcome);
    a.trace_at_ms = real_ms(t0_) + static_cast<int64_t>(outcome.search_s * 1000 / scale_);
    a.core->set_activity("searching");
    w_.by_profile[a.box->profile().name].add(*reply, outcome);
    w_.by_policy[reply->policy].add(*reply, outcome);
    a.pending_request.clear();
  }

  // The fleet's latency models sent with a reply, read once per version for the whole worker (a
  // real agent keeps them in a file: agent/core/kept_latency_models.hpp). Unreadable ones are
  // counted as errors and the agent keeps what it had.
  void keep_latency_models(SimAgent& a, const proto::LatencyModelsOffer& offer) {
    auto& kept = latency_models_[offer.version];
    if (!kept) {
      auto set = search::latency_models_from_json(offer.models);
      if (!set) {
        w_.errors++;
        latency_models_.erase(offer.version);
        return;
      }
      kept = std::make_shared<const search::LatencyModelSet>(std::move(*set));
    }
    a.latency = kept;
    a.latency_version = offer.version;
  }

  // Everything queued on the socket, then what the core has to say. ZMQ_FD is edge-triggered:
  // a send can consume the notification, so the socket is read again after every send.
  void pump(SimAgent& a) {
    for (int round = 0; round < 4 && a.sock; ++round) {
      zmq::message_t m;
      bool got = false;
      while (a.sock && a.sock->recv(m, zmq::recv_flags::dontwait)) {
        got = true;
        w_.messages_in++;
        a.core->on_message(m.to_string_view());
      }
      take_reply(a);
      const auto out = a.core->take_outgoing();
      for (const auto& bytes : out) {
        if (a.sock && a.sock->send(zmq::buffer(bytes), zmq::send_flags::dontwait))
          w_.messages_out++;
      }
      if (!got && out.empty()) break;
    }
  }

  using Event = std::pair<int64_t, uint32_t>;
  const FleetOptions& o_;
  const WorldSetup& world_;
  const std::string endpoint_, server_key_;
  const int first_;
  const Steady::time_point t0_;
  WorkerOut w_;
  SystemClock clock_;
  zmq::context_t ctx_{1};
  std::mt19937_64 rng_;
  const double scale_;
  std::vector<SimAgent> agents_;  // after ctx_: their sockets close before it
  std::map<int, std::shared_ptr<const search::LatencyModelSet>> latency_models_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> timers_;
  const int ep_;
};

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
    if (eq == std::string::npos) return Error{errc::kUsage, "'" + item + "' is not PROFILE=SHARE"};
    std::string share = item.substr(eq + 1);
    const bool percent = !share.empty() && share.back() == '%';
    if (percent) share.pop_back();
    double v = 0;
    try {
      std::size_t used = 0;
      v = std::stod(share, &used);
      if (used != share.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return Error{errc::kUsage, "'" + item + "': the share is not a number"};
    }
    if (percent) v /= 100;
    if (v <= 0) return Error{errc::kUsage, "'" + item + "': shares must be positive"};
    out.emplace_back(item.substr(0, eq), v);
    total += v;
  }
  if (out.empty()) return Error{errc::kUsage, "the mix is empty"};
  if (std::abs(total - 1) > 0.011)
    return Error{errc::kUsage,
                 "the shares add up to " + std::to_string(total * 100) + " %, not 100 %"};
  for (auto& [n, v] : out) v /= total;
  return out;
}

// The scenario, the profiles of the mix and the surrogate fitted on its table.
Expected<WorldSetup> load_world(const FleetOptions& o) {
  WorldSetup world;
  auto sc = load_scenario(o.scenario_path);
  if (!sc) return Error{errc::kUsage, sc.error().message};
  world.scenario = *sc;
  for (const auto& [name, share] : o.mix) {
    auto p = load_profile(o.profiles_dir + "/" + name + ".toml");
    if (!p) return Error{errc::kUsage, p.error().message};
    world.profiles[name] = *p;
  }
  auto rows = load_table(o.table_path);
  if (!rows) return Error{errc::kUsage, rows.error().message};
  auto s = Surrogate::fit(*rows);
  if (!s) return Error{errc::kUsage, s.error().message};
  world.surrogate = std::move(*s);
  return world;
}

// Which fleet latency models serve at the end, per kind: how its held-out error compares with
// the FLOPs line's (the gate).
void print_latency_models(const json& models, double measure_share) {
  std::printf(
      "  latency models      %s (boxes measuring their accelerators: %.0f %%; device "
      "truths modelled)\n",
      models.is_object() ? ("v" + models["version"].dump() + " serving").c_str() : "none serving",
      100 * measure_share);
  if (!models.is_object()) return;
  for (const auto& [kind, k] : models["kinds"].items())
    std::printf("    %-26s %5d measured, %-8s held-out error %5.1f %% (FLOPs line %5.1f %%), %s\n",
                kind.c_str(), k["samples"].get<int>(), k["method"].get<std::string>().c_str(),
                k["heldout_error_pct"].get<double>(), k["flops_heldout_error_pct"].get<double>(),
                k["serves"].get<bool>() ? "serves" : "does not serve");
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
  std::printf("  policy serving      %s\n",
              s["hparam_policy"].is_string() ? s["hparam_policy"].get<std::string>().c_str() : "?");
  print_latency_models(s["latency_models"], s["measure_share"].get<double>());
  for (const auto& [title, key, width] :
       {std::tuple{"PROFILE", "profiles", 12}, std::tuple{"POLICY", "policies", 12},
        std::tuple{"LATENCY SEEN", "latency_seen", 22}}) {
    std::printf("  %-*s %9s %8s %11s %9s %12s %12s\n", width, title, "SEARCHES", "MEETS_T",
                "MEAN_REWARD", "MEAN_ACC", "MEAN_LAYERS", "MEAN_FILTERS");
    for (const auto& [k, p] : s[key].items())
      std::printf("  %-*s %9d %7.1f%% %11.3f %9.4f %12.1f %12.0f\n", width, k.c_str(),
                  p["searches"].get<int>(), 100 * p["met_T"].get<double>(),
                  p["mean_reward"].get<double>(), p["mean_accuracy"].get<double>(),
                  p["mean_layers"].get<double>(), p["mean_filters"].get<double>());
    std::printf("\n");
  }
  std::printf("\n  summary: %s/summary.json\n", out_dir.c_str());
}

namespace {

using Progress = std::function<void(const std::string&)>;

// The coordinator of a run: a real process on loopback, with CURVE as in production; the
// simulated boxes' keys are accepted on first contact (--auto-accept) since nobody is there to
// enrol ten thousand of them by hand.
struct CoordinatorRun {
  int handle = -1;
  std::string endpoint, admin, key_dir, server_key;
  int metrics_port = 0;
  std::optional<proto::AdminClient> client;
};

std::vector<std::string> coordinator_argv(const FleetOptions& o, const std::string& binary,
                                          const CoordinatorRun& c, const std::string& admin) {
  std::vector<std::string> argv{binary,
                                "--listen",
                                c.endpoint,
                                "--admin",
                                admin,
                                "--db",
                                o.out_dir + "/coordinator.db",
                                "--key-dir",
                                c.key_dir,
                                "--auto-accept",
                                "--metrics",
                                "127.0.0.1:" + std::to_string(c.metrics_port),
                                "--log-level",
                                "warn"};
  argv.insert(argv.end(), o.coordinator_args.begin(), o.coordinator_args.end());
  return argv;
}

// Started, and answering `status` on its admin socket (10 s at most).
Expected<CoordinatorRun> start_coordinator(const FleetOptions& o, const std::string& binary,
                                           ProcessLauncher& launcher) {
  CoordinatorRun c;
  c.endpoint = "tcp://127.0.0.1:" + std::to_string(net::free_port());
  c.admin = "tcp://127.0.0.1:" + std::to_string(net::free_port());
  const std::string& admin = c.admin;
  c.metrics_port = net::free_port();
  c.key_dir = o.out_dir + "/keys";
  if (auto k = proto::generate_keypair(); !k) return k.error();
  auto h = launcher.spawn({coordinator_argv(o, binary, c, admin),
                           o.out_dir + "/coordinator.log",
                           {0, 0},
                           "coordinator"});
  if (!h) return h.error();
  c.handle = *h;
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    if (!c.client) {
      auto pub = proto::load_public_key(c.key_dir + "/coordinator.pub");
      auto pair = proto::load_keypair(c.key_dir + "/admin.key");
      if (pub && pair) {
        c.server_key = *pub;
        c.client.emplace(admin, 1000, proto::CurveClient{c.server_key, *pair});
      }
    }
    up = c.client && c.client->call("status").ok();
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!up) {
    launcher.signal(c.handle, SIGKILL);
    return Error{errc::kFailed,
                 "the coordinator did not start; see " + o.out_dir + "/coordinator.log"};
  }
  return c;
}

void write_real_agent_config(const FleetOptions& o, const CoordinatorRun& c, const std::string& dir,
                             const std::string& profile, int i, const std::string& search_bin) {
  std::ofstream(dir + "/agent.toml")
      << "[agent]\nid = \"real-" << profile << "-" << i << "\"\ncoordinator = \"" << c.endpoint
      << "\"\ncoordinator_key = \"" << c.key_dir << "/coordinator.pub\"\nstate_dir = \"" << dir
      << "\"\nsample_interval = \"1s\"\n[probes]\nmode = "
      << "\"simulated\"\nprofile = \"" << o.profiles_dir << "/" << profile << ".toml\"\n"
      << "[search]\nbinary = \"" << search_bin << "\"\ndata = \"folder:" << o.out_dir
      << "/data/digits\"\nbudget = \"" << std::max<int64_t>(20, o.duration_ms / 2000)
      << "s\"\n[[task]]\ntask_id = \"meter-ocr\"\nlatency_req_ms = 5.0\nrows = [{ device = "
      << "\"cpu\", runtime_ms = 4.0, energy_j = 0.05, nodes = 1 }]\n";
}

std::string real_agent_dir(const FleetOptions& o, std::size_t i) {
  return o.out_dir + "/real-" + std::to_string(i);
}

// Real agents running real edgenas-search on generated meter images, when asked for.
Expected<std::vector<int>> start_real_agents(const FleetOptions& o, const CoordinatorRun& c,
                                             ProcessLauncher& launcher, const Progress& progress) {
  std::vector<int> handles;
  if (o.real_search <= 0) return handles;
  const std::string agent_bin = sibling("agent/io/edgenas-agent", "edgenas-agent");
  const std::string search_bin = sibling("agent/search/edgenas-search", "edgenas-search");
  const std::string gen_bin = sibling("simulations/meter/edgenas-meter-gen", "edgenas-meter-gen");
  if (agent_bin.empty() || search_bin.empty() || gen_bin.empty())
    return Error{errc::kUsage,
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
    const std::string dir = real_agent_dir(o, static_cast<std::size_t>(i));
    std::error_code ec;
    fs::create_directories(dir, ec);
    write_real_agent_config(o, c, dir, profile, i, search_bin);
    auto h = launcher.spawn(
        {{agent_bin, "run", "-c", dir + "/agent.toml"}, dir + "/agent.log", {0, 0}, "real-agent"});
    if (!h) return h.error();
    handles.push_back(*h);
    proto::AdminClient local("ipc://" + dir + "/agent.sock", 1000);
    bool started = false;
    for (int k = 0; k < 100 && !started; ++k) {
      started = local.call("search.start").ok();
      if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    progress(std::string("real agent real-") + profile + "-" + std::to_string(i) +
             (started ? ": edgenas-search started" : ": could not start its search"));
  }
  return handles;
}

// A worker process and the pipe it sends its WorkerOut (JSON) back on.
struct WorkerProcess {
  pid_t pid;
  int fd;
};

// The simulated agents, in forked worker processes of at most 2 500 agents each.
Expected<std::vector<WorkerProcess>> start_workers(const FleetOptions& o, const WorldSetup& world,
                                                   const CoordinatorRun& c, Steady::time_point t0) {
  const int procs =
      o.agents == 0 ? 0 : (o.procs > 0 ? o.procs : std::max(1, (o.agents + 2499) / 2500));
  std::vector<WorkerProcess> workers;
  const pid_t parent = getpid();
  for (int p = 0; p < procs; ++p) {
    int fds[2];
    if (pipe(fds) != 0) return Error{errc::kFailed, "pipe"};
    const int first = o.agents * p / procs, count = o.agents * (p + 1) / procs - first;
    const pid_t pid = fork();
    if (pid == 0) {
      // A worker dies with the simulator however it ends (its only output is the pipe to it);
      // the signal comes when the forking thread ends, and this one is the simulator's main.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      close(fds[0]);
      const std::string out =
          WorkerLoop(o, world, c.endpoint, c.server_key, first, count, t0).run().to_json().dump();
      for (std::size_t off = 0; off < out.size();) {
        const ssize_t n = write(fds[1], out.data() + off, out.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      _exit(0);
    }
    close(fds[1]);
    workers.push_back({pid, fds[0]});
  }
  return workers;
}

// The coordinator's CPU and RSS over the run, and a progress line every 5 s.
struct CoordinatorUse {
  ProcSample start, end;
  int64_t peak_rss_kb = 0;
};

CoordinatorUse watch(const FleetOptions& o, const WorldSetup& world, CoordinatorRun& c,
                     Steady::time_point t0, const Progress& progress) {
  CoordinatorUse use;
  use.start = sample_proc(c.handle);
  use.peak_rss_kb = use.start.rss_kb;
  while (real_ms(t0) < o.duration_ms) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min<int64_t>(5000, o.duration_ms - real_ms(t0) + 1)));
    use.peak_rss_kb = std::max(use.peak_rss_kb, sample_proc(c.handle).rss_kb);
    auto st = c.client->call("status");
    if (!st) continue;
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
  use.end = sample_proc(c.handle);
  return use;
}

void add_worker(WorkerOut& total, const json& j) {
  total.registered += j["registered"].get<int>();
  total.left += j["left"].get<int>();
  total.messages_out += j["out"].get<int64_t>();
  total.messages_in += j["in"].get<int64_t>();
  total.traces_acked += j["acked"].get<int64_t>();
  total.errors += j["errors"].get<int64_t>();
  for (double v : j["latency"]) total.latency_ms.push_back(v);
  for (const auto& [k, v] : j["profiles"].items()) total.by_profile[k].add(v);
  for (const auto& [k, v] : j["policies"].items()) total.by_policy[k].add(v);
  for (const auto& [k, v] : j["latency_seen"].items()) total.by_latency[k].add(v);
}

// Every worker's result, summed.
Expected<WorkerOut> collect_workers(const std::vector<WorkerProcess>& workers) {
  WorkerOut total;
  for (const auto& [pid, fd] : workers) {
    std::string data;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<std::size_t>(n));
    close(fd);
    waitpid(pid, nullptr, 0);
    auto j = json::parse(data, nullptr, false);
    if (j.is_discarded()) return Error{errc::kFailed, "a worker process returned no result"};
    add_worker(total, j);
  }
  return total;
}

// Real searches: given their budget to finish, then the agents are stopped (they queue their
// trace on SIGTERM at the latest). Each one's last search status.
json finish_real_agents(const FleetOptions& o, const std::vector<int>& handles,
                        ProcessLauncher& launcher, const Progress& progress) {
  json real = json::array();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    const std::string dir = real_agent_dir(o, i);
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
    launcher.signal(handles[i], SIGTERM);
  }
  for (int h : handles) {
    for (int k = 0; k < 100 && !launcher.poll(h); ++k)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return real;
}

// What the coordinator says at the end: its status and its own service time (read to reply
// sent) from its /metrics (what the agents measure adds their own loop, which the simulated
// searches keep busy). Then it is stopped.
struct CoordinatorEnd {
  Expected<json> status;
  json served;
  json latency_models;  // the serving version's kinds, or null when none serves
};

// The fleet latency models serving at the end: their version and, per kind, what its gate saw.
json serving_latency_models(proto::AdminClient& client) {
  auto set = client.call("latency.show", {{"version", 0}});
  if (!set || !set->contains("kinds")) return json();
  json kinds = json::object();
  for (const auto& k : (*set)["kinds"])
    kinds[k["kind"].value("kind", std::string("?"))] = {
        {"samples", k["samples"]},
        {"method", k["method"]},
        {"serves", k["serves"]},
        {"heldout_error_pct", k["heldout_error_pct"]},
        {"flops_heldout_error_pct", k["flops_heldout_error_pct"]},
        {"heldout_margin", k["heldout_margin"]}};
  return {{"version", (*set)["version"]}, {"kinds", kinds}};
}

CoordinatorEnd stop_coordinator(CoordinatorRun& c, ProcessLauncher& launcher) {
  CoordinatorEnd end{c.client->call("status"), json(), serving_latency_models(*c.client)};
  end.served =
      histogram_bounds(net::http_get(c.metrics_port, "/metrics").second, "edgenas_request_seconds");
  launcher.signal(c.handle, SIGTERM);
  for (int k = 0; k < 100 && !launcher.poll(c.handle); ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return end;
}

json summary_json(const FleetOptions& o, const WorkerOut& total, const CoordinatorUse& use,
                  const CoordinatorEnd& end, json real) {
  const double secs = static_cast<double>(o.duration_ms) / 1000;
  json profiles = json::object(), policies = json::object(), latency = json::object();
  for (const auto& [k, p] : total.by_profile) profiles[k] = p.means();
  for (const auto& [k, p] : total.by_policy) policies[k] = p.means();
  for (const auto& [k, p] : total.by_latency) latency[k] = p.means();
  return {{"agents", o.agents},
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
          {"coordinator_request_ms", end.served},
          {"traces_acked", total.traces_acked},
          {"errors", total.errors},
          {"coordinator",
           {{"cpu_percent", 100.0 * (use.end.cpu_s - use.start.cpu_s) / secs},
            {"rss_mb", static_cast<double>(use.end.rss_kb) / 1024},
            {"peak_rss_mb", static_cast<double>(use.peak_rss_kb) / 1024}}},
          {"store", end.status ? (*end.status)["store"] : json()},
          {"hparam_policy", end.status ? (*end.status)["hparam_policy"] : json()},
          {"profiles", profiles},
          {"policies", policies},
          {"latency_seen", latency},
          {"latency_models", end.latency_models},
          {"measure_share", o.measure_share},
          {"real_searches", std::move(real)}};
}

// The coordinator binary, found; out_dir, made.
Expected<std::string> find_coordinator(const FleetOptions& o) {
  const std::string coordinator =
      o.coordinator_bin.empty()
          ? sibling("coordinator/io/edgenas-coordinator", "edgenas-coordinator")
          : o.coordinator_bin;
  if (coordinator.empty() || !fs::exists(coordinator))
    return Error{errc::kUsage, "edgenas-coordinator not found (pass --coordinator)"};
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return Error{errc::kUsage, "cannot create " + o.out_dir + ": " + ec.message()};
  return coordinator;
}

}  // namespace

Expected<json> run_fleet(const FleetOptions& o, const Progress& progress) {
  if (o.agents < 0 || o.real_search < 0 || o.agents + o.real_search < 1)
    return Error{errc::kUsage, "no agents to run"};
  auto world = load_world(o);
  if (!world) return world.error();
  auto coordinator = find_coordinator(o);
  if (!coordinator) return coordinator.error();
  ProcessLauncher launcher;
  auto c = start_coordinator(o, *coordinator, launcher);
  if (!c) return c.error();
  progress("coordinator up on " + c->endpoint + " (admin " + c->admin + ", keys in " + c->key_dir +
           ", console http://127.0.0.1:" + std::to_string(c->metrics_port) + "/, store " +
           o.out_dir + "/coordinator.db)");
  auto real_agents = start_real_agents(o, *c, launcher, progress);
  if (!real_agents) return real_agents.error();

  const auto t0 = Steady::now();
  auto workers = start_workers(o, *world, *c, t0);
  if (!workers) return workers.error();
  progress("started " + std::to_string(o.agents) + " simulated agents in " +
           std::to_string(workers->size()) + " process(es), scenario " + world->scenario.name +
           " at " + std::to_string(static_cast<int>(world->scenario.time_scale)) +
           "x real time, for " + std::to_string(o.duration_ms / 1000) + " s");
  const CoordinatorUse use = watch(o, *world, *c, t0, progress);
  auto total = collect_workers(*workers);
  if (!total) return total.error();
  json real = finish_real_agents(o, *real_agents, launcher, progress);
  const CoordinatorEnd end = stop_coordinator(*c, launcher);

  json summary = summary_json(o, *total, use, end, std::move(real));
  if (auto s = files::write_json_atomic(o.out_dir + "/summary.json", summary); !s) return s.error();
  print_summary(summary, o.out_dir);
  return summary;
}

}  // namespace edgenas::sim
