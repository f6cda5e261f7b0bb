// A supervisor's restart: SIGKILL a daemon while its child works and start it again at once on
// the same ports and state. The daemon must come up (its child must not hold its ports), every
// descriptor it opens is close-on-exec, and the child is gone (the coordinator's training) or
// adopted cleanly (the agent's search).
#include <signal.h>

#include "../unit/predictor/synthetic.hpp"
#include "common/protocol/codec.hpp"
#include "common/util/ports.hpp"
#include "harness.hpp"

namespace edgenas::it {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A live process (gone or a zombie: not).
bool alive(int pid) {
  if (::kill(pid, 0) != 0) return false;
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

// The children of pid whose command name starts with `name`.
std::vector<int> children_named(int pid, const std::string& name) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string stat = read_text(e.path().string() + "/stat");
    const auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid && stat.compare(open + 1, name.size(), name) == 0)
      out.push_back(std::stoi(e.path().filename().string()));
  }
  return out;
}

// The descriptors of pid (from 3 up) that a child it execs would inherit.
std::vector<std::string> inheritable_fds(int pid) {
  std::vector<std::string> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string fd = e.path().filename().string();
    if (std::stoi(fd) < 3) continue;
    std::istringstream info(read_text("/proc/" + std::to_string(pid) + "/fdinfo/" + fd));
    std::string key, flags;
    while (info >> key && key != "flags:") {
    }
    info >> flags;
    if (flags.empty() || (std::stol(flags, nullptr, 8) & O_CLOEXEC) == 0) {
      std::error_code ec;
      out.push_back(fd + " -> " + fs::read_symlink(e.path(), ec).string());
    }
  }
  return out;
}

std::string holder_pid(int port) {
  const std::string h = net::port_holder(port);
  return h.substr(0, h.find(' ', 4));  // "pid N"
}

TEST(Restart, ACoordinatorKilledDuringATrainingComesBackAtOnceOnItsPorts) {
  const std::string dir = temp_dir("restart-coord");
  const int metrics = free_port();
  Coordinator coord;
  coord.dir = dir;
  coord.extra = {"--metrics",       "127.0.0.1:" + std::to_string(metrics),
                 "--train-budget",  "5m",
                 "--retrain-after", "0"};
  coord.start();
  // Enough traces for a training, through an agent.
  Agent agent;
  agent.id = "rbox";
  agent.dir = dir + "/agent";
  agent.start(coord);
  const auto traces = predictor::synthetic::traces(30, 2, 3);
  proto::AdminClient local(agent.local(), 5000);
  for (const auto& t : traces)
    ASSERT_TRUE(local.call("trace.submit", {{"trace", proto::to_json(t)}}).ok());
  auto admin = coord.client(5000);
  ASSERT_TRUE(wait_for(
      [&] {
        auto s = admin.call("status");
        return s.ok() && (*s)["store"]["traces"] == static_cast<int>(traces.size());
      },
      30'000));
  auto started = admin.call("predictor.train", {{"reason", "restart test"}});
  ASSERT_TRUE(started.ok()) << started.error().message;
  const int version = (*started)["version"];
  std::vector<int> trainers;
  ASSERT_TRUE(wait_for(
      [&] { return !(trainers = children_named(coord.proc.pid(), "edgenas-predict")).empty(); },
      10'000));
  const int trainer = trainers[0];

  // Nothing the coordinator holds would cross an exec, and its child does not hold its port.
  EXPECT_EQ(inheritable_fds(coord.proc.pid()), std::vector<std::string>{});
  EXPECT_EQ(holder_pid(metrics), "pid " + std::to_string(coord.proc.pid()));
  EXPECT_EQ(holder_pid(coord.port), "pid " + std::to_string(coord.proc.pid()));

  // SIGKILL, and a new coordinator on the same ports and store within 100 ms.
  coord.proc.stop(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  coord.start();
  EXPECT_LT(std::chrono::steady_clock::now() - killed, std::chrono::seconds(10));
  EXPECT_TRUE(coord.proc.running()) << coord.proc.log();
  // The old training died with its parent; the new coordinator does not count on it.
  EXPECT_TRUE(wait_for([&] { return !alive(trainer); }, 2000)) << "trainer " << trainer;
  EXPECT_TRUE(children_named(coord.proc.pid(), "edgenas-predict").empty());
  auto listed = coord.client(5000).call("predictor.list");
  ASSERT_TRUE(listed.ok());
  EXPECT_FALSE(listed->contains("training")) << listed->dump();
  bool marked = false;
  for (const auto& v : (*listed)["versions"])
    if (v["version"] == version) marked = v["status"] == "failed";
  EXPECT_TRUE(marked) << listed->dump();
  auto [code, page] = net::http_get(metrics, "/healthz");
  EXPECT_EQ(code, 200) << page;
}

TEST(Restart, AnAgentKilledDuringASearchComesBackAtOnceAndAdoptsIt) {
  const std::string dir = temp_dir("restart-agent");
  auto [g, go] = run({EDGENAS_METER_GEN_BIN, "-o", dir + "/data", "-n", "40", "--seed", "5"});
  ASSERT_EQ(g, 0) << go;
  Coordinator coord;
  coord.dir = dir;
  coord.start();
  const int metrics = free_port();
  Agent agent;
  agent.id = "sbox";
  agent.dir = dir + "/agent";
  agent.config = dir + "/agent.toml";
  std::ofstream(agent.config) << "[agent]\nmetrics_endpoint = \"127.0.0.1:" << metrics << "\"\n"
                              << "[search]\nbinary = \"" << EDGENAS_SEARCH_BIN
                              << "\"\ndata = \"folder:" << dir << "/data/digits\"\n"
                              << "budget = \"20s\"\nstop_grace = \"20s\"\n"
                              << "[[task]]\ntask_id = \"ocr\"\nlatency_req_ms = 5.0\n"
                              << "rows = [{ device = \"cpu\", runtime_ms = 1.0, energy_j = "
                                 "0.01, nodes = 1 }]\n";
  agent.start(coord);
  proto::AdminClient local(agent.local(), 5000);
  auto started = local.call("search.start", {{"budget", "5m"}});
  ASSERT_TRUE(started.ok()) << started.error().message;
  int search = 0;
  ASSERT_TRUE(wait_for(
      [&] {
        auto st = local.call("search.status");
        if (!st.ok() || !st->contains("run") || (*st)["run"]["phase"] != "running") return false;
        search = (*st)["run"]["pid"].get<int>();
        return (*st)["run"]["trials"].get<int>() > 0;
      },
      60'000))
      << agent.proc.log();
  EXPECT_EQ(inheritable_fds(agent.proc.pid()), std::vector<std::string>{});
  EXPECT_EQ(holder_pid(metrics), "pid " + std::to_string(agent.proc.pid()));

  agent.proc.stop(SIGKILL);
  agent.start(coord);  // the same state dir, local socket and metrics port
  EXPECT_TRUE(agent.proc.running()) << agent.proc.log();
  EXPECT_EQ(holder_pid(metrics), "pid " + std::to_string(agent.proc.pid()));
  // The search got SIGTERM when its agent died: it stops, keeps its best model, and the new
  // agent adopts it and reports it as one trace.
  auto admin = coord.client(5000);
  json stored;
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = admin.call("traces.export", {{"agent_id", "sbox"}});
        if (!r.ok() || (*r)["traces"].empty()) return false;
        stored = (*r)["traces"];
        return true;
      },
      60'000))
      << agent.proc.log();
  EXPECT_FALSE(alive(search));
  ASSERT_EQ(stored.size(), 1u) << stored.dump();
  EXPECT_EQ(stored[0]["trace_id"], (*started)["run_id"]);
  EXPECT_EQ(stored[0]["outcome"]["status"], "ok") << stored[0].dump();
}

}  // namespace
}  // namespace edgenas::it
