// edgenas-loadgen: N simulated agents against a real coordinator, speaking the real protocol.
//
// Each agent has its own DEALER socket. Agents are split over --procs worker processes (one
// process holds at most ~9,000 file descriptors: a DEALER needs a TCP socket and a mailbox),
// each of which drives its slice from one thread. Every agent registers, then
// heartbeats at the interval the Welcome assigned (phases spread), sends an HparamRequest every
// --hparam-every and a Trace every --trace-every. The parent measures HparamRequest→Reply
// latency (merged across workers) and samples the coordinator's RSS and CPU from /proc.
// Workers wait on the sockets' ZMQ_FDs with epoll and keep timers in a heap, so their cost
// grows with the traffic, not with the number of sockets.
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <queue>
#include <random>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "common/protocol/codec.hpp"
#include "common/protocol/curve.hpp"
#include "common/util/procstat.hpp"

using namespace edgenas;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string endpoint = "tcp://127.0.0.1:7700";
  int agents = 1000;
  int procs = 0;  // 0: one per 2,500 agents
  double duration_s = 60;
  double warmup_s = 10;
  double hparam_every_s = 30;
  double trace_every_s = 60;
  int coordinator_pid = 0;
  std::string prefix = "lg";
  std::string server_key;  // CURVE: the coordinator's public key (file or key); empty: plaintext
  std::string per_minute;  // CSV: latency quantiles, RSS and CPU per minute of the window
};

int64_t ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double wall_ms_fine() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Context agent_context(std::mt19937_64& rng) {
  Context c;
  std::uniform_int_distribution<int> cores(0, 8);
  std::uniform_int_distribution<int64_t> mem(256, 8192);
  c.source.devices.push_back({"cpu", cores(rng), mem(rng)});
  if (rng() % 2) c.source.devices.push_back({"npu0", static_cast<int>(rng() % 3), 4096});
  c.source.power_w = 5 + static_cast<double>(rng() % 150) / 10;
  c.source.power_modelled = true;
  c.source.window_ms = 5000;
  c.job.tasks.push_back(
      {"meter-ocr", 5.0 + static_cast<double>(rng() % 200), {{"cpu", 30, 0.4, 1}}});
  return c;
}

struct WorkerResult {
  int64_t registered = 0, messages_out = 0, messages_in = 0, errors = 0, traces_acked = 0;
  std::vector<double> hparam_latency_ms;  // measured after warm-up
  // The same requests cut in two at the reply's header timestamp (the coordinator's wall clock
  // when it encoded the reply, whole ms; the same clock on loopback): request sent → reply
  // made, and reply made → reply read here. Each half is off by up to 1 ms.
  std::vector<double> to_reply_ms, reply_to_read_ms;
  std::vector<double> read_at_s;  // when each was read, seconds into the measured window
};

struct SimAgent {
  std::unique_ptr<zmq::socket_t> sock;
  std::string id;
  bool welcomed = false;
  int64_t interval_ms = 5000;
  int64_t next_heartbeat = 0, next_hparam = 0, next_trace = 0, next_register = 0;
  uint64_t seq = 0, msg_id = 0, req = 0, traces = 0;
  struct Sent {
    Clock::time_point at;
    double wall_ms;
  };
  std::map<std::string, Sent> pending;  // request id → send time
  Context ctx;
};

template <class T>
void send(SimAgent& a, const T& body, WorkerResult& r) {
  proto::Header h;
  h.msg_id = ++a.msg_id;
  h.agent_id = a.id;
  h.ts_ms = wall_ms();
  auto bytes = proto::encode(h, body);
  if (a.sock->send(zmq::buffer(bytes), zmq::send_flags::dontwait)) r.messages_out++;
}

// Receives everything queued on one agent's socket. ZMQ_FD is edge-triggered: after it fires,
// and after every send (which may consume the notification), the socket is drained fully.
void drain(SimAgent& a, const Options& o, Clock::time_point t0, std::mt19937_64& rng,
           WorkerResult& r) {
  zmq::message_t m;
  while (a.sock->recv(m, zmq::recv_flags::dontwait)) {
    r.messages_in++;
    auto d = proto::decode_envelope(m.to_string_view());
    auto* env = std::get_if<proto::Envelope>(&d);
    if (!env) {
      r.errors++;
      continue;
    }
    switch (env->header.type) {
      case proto::MsgType::welcome: {
        auto w = proto::decode_body<proto::Welcome>(*env);
        if (w && !a.welcomed) {
          a.welcomed = true;
          r.registered++;
          a.interval_ms = w->heartbeat_interval_ms;
          const int64_t t = ms_since(t0);
          std::uniform_real_distribution<double> phase(0, 1);
          a.next_heartbeat =
              t + static_cast<int64_t>(phase(rng) * static_cast<double>(a.interval_ms));
          a.next_hparam = t + static_cast<int64_t>(phase(rng) * o.hparam_every_s * 1000);
          a.next_trace = t + static_cast<int64_t>(phase(rng) * o.trace_every_s * 1000);
        }
        break;
      }
      case proto::MsgType::hparam_reply: {
        auto rep = proto::decode_body<proto::HparamReply>(*env);
        if (!rep) break;
        auto it = a.pending.find(rep->request_id);
        if (it != a.pending.end()) {
          if (ms_since(t0) >= static_cast<int64_t>(o.warmup_s * 1000)) {
            r.hparam_latency_ms.push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - it->second.at).count());
            const auto made = static_cast<double>(env->header.ts_ms);
            r.to_reply_ms.push_back(made - it->second.wall_ms);
            r.reply_to_read_ms.push_back(wall_ms_fine() - made);
            r.read_at_s.push_back(static_cast<double>(ms_since(t0)) / 1000 - o.warmup_s);
          }
          a.pending.erase(it);
        }
        break;
      }
      case proto::MsgType::ack:
        r.traces_acked +=
            static_cast<int64_t>(proto::decode_body<proto::Ack>(*env)->trace_ids.size());
        break;
      case proto::MsgType::error:
        r.errors++;
        break;
      default:
        break;
    }
  }
}

int64_t next_event(const SimAgent& a) {
  if (!a.sock || !a.welcomed) return a.next_register;
  return std::min({a.next_heartbeat, a.next_hparam, a.next_trace});
}

WorkerResult run_worker(const Options& o, int first, int count, Clock::time_point t0) {
  WorkerResult r;
  zmq::context_t ctx(1);
  ctx.set(zmq::ctxopt::max_sockets, count + 16);
  std::mt19937_64 rng(static_cast<uint64_t>(first) * 7919 + 1);
  std::vector<SimAgent> agents(static_cast<size_t>(count));
  const int64_t total_ms = static_cast<int64_t>((o.warmup_s + o.duration_s) * 1000);
  // Connect gradually over the first quarter of the warm-up (a fleet does not start at once).
  const int64_t ramp_ms = static_cast<int64_t>(o.warmup_s * 250);
  using Event = std::pair<int64_t, int>;  // (due ms, agent index)
  std::priority_queue<Event, std::vector<Event>, std::greater<>> timers;
  for (int i = 0; i < count; ++i) {
    auto& a = agents[static_cast<size_t>(i)];
    a.id = o.prefix + "-" + std::to_string(first + i);
    a.ctx = agent_context(rng);
    a.next_register = ramp_ms * i / std::max(1, count);
    timers.push({a.next_register, i});
  }
  const int ep = epoll_create1(0);
  proto::Register reg;
  reg.agent_version = "loadgen";
  reg.hostname = "loadgen";
  reg.power_source = "simulated";
  reg.devices = {{"cpu", 8, 8192, "simulated:loadgen"}};
  std::vector<epoll_event> ready(256);

  while (ms_since(t0) < total_ms) {
    int64_t now = ms_since(t0);
    while (!timers.empty() && timers.top().first <= now) {
      const int i = timers.top().second;
      timers.pop();
      auto& a = agents[static_cast<size_t>(i)];
      if (!a.sock) {
        a.sock = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
        a.sock->set(zmq::sockopt::linger, 0);
        if (!o.server_key.empty()) {
          // Each simulated agent has its own key pair, so the coordinator pays the full
          // per-connection CURVE handshake and per-message encryption, as with real boxes.
          auto pair = proto::generate_keypair();
          if (pair) proto::apply_client(*a.sock, {o.server_key, *pair});
        }
        a.sock->connect(o.endpoint);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<uint32_t>(i);
        epoll_ctl(ep, EPOLL_CTL_ADD, a.sock->get(zmq::sockopt::fd), &ev);
      }
      if (!a.welcomed) {
        if (now >= a.next_register) {
          send(a, reg, r);
          a.next_register = now + 2000;
        }
      } else {
        if (now >= a.next_heartbeat) {
          send(a, proto::Heartbeat{++a.seq, a.ctx.source, 1, 0, "idle", std::nullopt}, r);
          a.next_heartbeat += a.interval_ms;
        }
        if (now >= a.next_hparam) {
          proto::HparamRequest q{a.id + "-q" + std::to_string(++a.req), a.ctx};
          a.pending[q.request_id] = {Clock::now(), wall_ms_fine()};
          send(a, q, r);
          a.next_hparam += static_cast<int64_t>(o.hparam_every_s * 1000);
        }
        if (now >= a.next_trace) {
          Trace t;
          t.trace_id = a.id + "-t" + std::to_string(++a.traces);
          t.created_ms = wall_ms();
          t.context = a.ctx;
          t.policy = "cold-start";
          t.outcome.accuracy = 0.95;
          t.outcome.latency_ms = 2;
          t.outcome.met_latency = true;
          send(a, t, r);
          a.next_trace += static_cast<int64_t>(o.trace_every_s * 1000);
        }
      }
      drain(a, o, t0, rng, r);
      timers.push({next_event(a), i});
    }
    now = ms_since(t0);
    const int64_t wait = timers.empty() ? 5 : std::clamp<int64_t>(timers.top().first - now, 0, 5);
    const int n =
        epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), static_cast<int>(wait));
    for (int k = 0; k < n; ++k) {
      auto& a = agents[ready[static_cast<size_t>(k)].data.u32];
      const bool was_welcomed = a.welcomed;
      drain(a, o, t0, rng, r);
      if (!was_welcomed && a.welcomed)
        timers.push({next_event(a), static_cast<int>(ready[static_cast<size_t>(k)].data.u32)});
    }
  }
  close(ep);
  return r;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

void write_per_minute(const std::string& path, const WorkerResult& total, ProcSample before,
                      const std::vector<ProcSample>& minute_ends) {
  std::vector<std::vector<double>> by_minute(minute_ends.size());
  for (std::size_t i = 0; i < total.read_at_s.size(); ++i) {
    const auto m = static_cast<std::size_t>(std::max(0.0, total.read_at_s[i]) / 60);
    if (m < by_minute.size()) by_minute[m].push_back(total.hparam_latency_ms[i]);
  }
  std::ofstream out(path);
  out << "minute,requests,p50_ms,p99_ms,p999_ms,max_ms,rss_mb,cpu_pct\n";
  for (std::size_t m = 0; m < by_minute.size(); ++m) {
    auto& v = by_minute[m];
    const double cpu = 100.0 * (minute_ends[m].cpu_s - before.cpu_s) / 60;
    before = minute_ends[m];
    out << m + 1 << "," << v.size() << "," << percentile(v, 50) << "," << percentile(v, 99) << ","
        << percentile(v, 99.9) << "," << (v.empty() ? 0.0 : v.back()) << ","
        << static_cast<double>(minute_ends[m].rss_kb) / 1024 << "," << cpu << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"edgenas-loadgen: simulated agents against a running edgenas-coordinator"};
  app.add_option("--endpoint", o.endpoint, "coordinator agent endpoint")->capture_default_str();
  app.add_option("--agents", o.agents, "number of agents")->capture_default_str();
  app.add_option("--procs", o.procs, "worker processes (0: one per 2,500 agents)");
  app.add_option("--duration", o.duration_s, "measured seconds")->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "seconds to register and settle before measuring")
      ->capture_default_str();
  app.add_option("--hparam-every", o.hparam_every_s, "seconds between an agent's HparamRequests")
      ->capture_default_str();
  app.add_option("--trace-every", o.trace_every_s, "seconds between an agent's Traces")
      ->capture_default_str();
  app.add_option("--coordinator-pid", o.coordinator_pid, "sample this process's RSS and CPU");
  app.add_option("--prefix", o.prefix, "agent id prefix")->capture_default_str();
  app.add_option("--per-minute", o.per_minute,
                 "write a CSV row per measured minute (requests, p50, p99, p99.9, max ms, "
                 "coordinator RSS MB and CPU %)");
  std::string server_key;
  app.add_option("--server-key", server_key,
                 "coordinator public key or key file (CURVE; the coordinator must --auto-accept)");
  CLI11_PARSE(app, argc, argv);
  if (!server_key.empty()) {
    auto k = proto::load_public_key(server_key);
    if (!k) {
      std::cerr << "edgenas-loadgen: " << k.error().message << "\n";
      return 2;
    }
    o.server_key = *k;
  }
  const int procs = o.procs > 0 ? o.procs : std::max(1, (o.agents + 2499) / 2500);

  // Workers write their counters and latency samples to a pipe each.
  std::vector<std::pair<pid_t, int>> workers;
  const auto t0 = Clock::now();
  for (int p = 0; p < procs; ++p) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const int first = o.agents * p / procs, count = o.agents * (p + 1) / procs - first;
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      auto r = run_worker(o, first, count, t0);
      std::ostringstream out;
      out << r.registered << " " << r.messages_out << " " << r.messages_in << " " << r.errors << " "
          << r.traces_acked;
      for (const auto* v :
           {&r.hparam_latency_ms, &r.to_reply_ms, &r.reply_to_read_ms, &r.read_at_s}) {
        out << " " << v->size();
        for (double x : *v) out << " " << x;
      }
      out << "\n";
      std::string s = out.str();
      for (size_t off = 0; off < s.size();) {
        ssize_t n = write(fds[1], s.data() + off, s.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      _exit(0);
    }
    close(fds[1]);
    workers.emplace_back(pid, fds[0]);
  }

  // Sample the coordinator over the measured window.
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(o.warmup_s * 1000)));
  ProcSample start = sample_proc(o.coordinator_pid);
  int64_t peak_rss = start.rss_kb;
  std::vector<ProcSample> minute_ends;  // the coordinator at the end of each measured minute
  while (ms_since(t0) < static_cast<int64_t>((o.warmup_s + o.duration_s) * 1000)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto now = sample_proc(o.coordinator_pid);
    peak_rss = std::max(peak_rss, now.rss_kb);
    if (ms_since(t0) >= static_cast<int64_t>((o.warmup_s + 60.0 * (minute_ends.size() + 1)) * 1000))
      minute_ends.push_back(now);
  }
  ProcSample end = sample_proc(o.coordinator_pid);

  WorkerResult total;
  for (auto [pid, fd] : workers) {
    std::string data;
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
    close(fd);
    waitpid(pid, nullptr, 0);
    std::istringstream in(data);
    int64_t reg, out, inn, err, acked;
    if (!(in >> reg >> out >> inn >> err >> acked)) {
      std::fprintf(stderr, "worker %d returned no result\n", pid);
      return 1;
    }
    total.registered += reg;
    total.messages_out += out;
    total.messages_in += inn;
    total.errors += err;
    total.traces_acked += acked;
    for (auto* v : {&total.hparam_latency_ms, &total.to_reply_ms, &total.reply_to_read_ms,
                    &total.read_at_s}) {
      size_t k = 0;
      in >> k;
      for (size_t i = 0; i < k; ++i) {
        double x;
        in >> x;
        v->push_back(x);
      }
    }
  }
  const double secs = o.warmup_s + o.duration_s;
  // Before the quantiles below sort the samples apart from their times.
  if (!o.per_minute.empty()) write_per_minute(o.per_minute, total, start, minute_ends);
  auto& lat = total.hparam_latency_ms;
  const double p50 = percentile(lat, 50), p99 = percentile(lat, 99), p999 = percentile(lat, 99.9);
  std::printf("agents              %d (%d worker processes)\n", o.agents, procs);
  std::printf("registered          %lld\n", static_cast<long long>(total.registered));
  std::printf("messages/s          %.0f out, %.0f in (whole run, %.0f s)\n",
              static_cast<double>(total.messages_out) / secs,
              static_cast<double>(total.messages_in) / secs, secs);
  std::printf("hparam requests     %zu measured\n", lat.size());
  std::printf("hparam latency ms   p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", p50, p99, p999,
              lat.empty() ? 0.0 : lat.back());
  for (auto [name, v] : {std::pair{"  sent -> reply made", &total.to_reply_ms},
                         std::pair{"  made -> reply read", &total.reply_to_read_ms}}) {
    std::printf("%s p50 %.1f  p99 %.1f  p99.9 %.1f (ms, +-1: the reply's stamp is whole ms)\n",
                name, percentile(*v, 50), percentile(*v, 99), percentile(*v, 99.9));
  }
  std::printf("traces acked        %lld\n", static_cast<long long>(total.traces_acked));
  std::printf("errors              %lld\n", static_cast<long long>(total.errors));
  if (o.coordinator_pid > 0) {
    std::printf("coordinator RSS     %.1f MB (peak %.1f MB)\n",
                static_cast<double>(end.rss_kb) / 1024, static_cast<double>(peak_rss) / 1024);
    std::printf("coordinator CPU     %.1f %% of one core over the measured %.0f s\n",
                100.0 * (end.cpu_s - start.cpu_s) / o.duration_s, o.duration_s);
  }
  return total.registered == o.agents ? 0 : 2;
}
