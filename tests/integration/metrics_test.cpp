// /metrics and /healthz on a real coordinator and agent: the pages pass `promtool check
// metrics` (Debian's prometheus package) and count what happened.
#include <fstream>

#include "harness.hpp"

namespace edgenas::it {
namespace {

using net::http_get;

// Runs promtool on the page; returns its exit code and output.
std::pair<int, std::string> promtool(const std::string& dir, const std::string& page) {
  const std::string f = dir + "/page.prom";
  std::ofstream(f) << page;
  return run({"/bin/sh", "-c", "promtool check metrics < " + f});
}

double value_of(const std::string& page, const std::string& series) {
  const auto p = page.find("\n" + series + " ");
  if (p == std::string::npos) return -1;
  return std::stod(page.substr(p + series.size() + 2));
}

TEST(Metrics, CoordinatorAndAgentPagesPassPromtoolAndCount) {
  const std::string dir = temp_dir("metrics");
  Coordinator c;
  c.dir = dir;
  const int cport = free_port();
  c.extra = {"--metrics", "127.0.0.1:" + std::to_string(cport)};
  c.start();
  Agent a;
  a.id = "m-1";
  a.dir = dir + "/m-1";
  const int aport = free_port();
  std::ofstream(dir + "/agent.toml")
      << "[agent]\nmetrics_endpoint = \"127.0.0.1:" << aport << "\"\n";
  a.config = dir + "/agent.toml";
  a.start(c, "rpi4");
  proto::AdminClient local(a.local(), 10'000);
  ASSERT_TRUE(local.call("hparams.request", {{"timeout_ms", 5000}}).ok());

  // The coordinator: agents, messages by type, replies by policy, the latency histogram.
  std::string page;
  ASSERT_TRUE(wait_for(
      [&] {
        auto [code, body] = http_get(cport, "/metrics");
        page = body;
        return code == 200 && page.find("policy=\"cold-start\"") != std::string::npos;
      },
      10'000))
      << page;
  auto [rc, out] = promtool(dir, page);
  EXPECT_EQ(rc, 0) << out << page;
  EXPECT_EQ(value_of(page, "edgenas_agents{state=\"alive\"}"), 1) << page;
  EXPECT_GE(value_of(page, "edgenas_messages_received_total{type=\"hparam_request\"}"), 1);
  EXPECT_EQ(value_of(page, "edgenas_agent_keys{state=\"accepted\"}"), 1);
  EXPECT_GE(value_of(page, "edgenas_request_seconds_count{type=\"hparam_request\"}"), 1);
  EXPECT_GE(value_of(page, "edgenas_request_seconds_count{type=\"register\"}"), 1);
  EXPECT_GE(value_of(page, "edgenas_io_round_seconds_count"), 2);
  EXPECT_GE(value_of(page, "edgenas_io_phase_seconds_count{phase=\"policy\"}"), 1);
  EXPECT_EQ(http_get(cport, "/healthz"), (std::pair<int, std::string>{200, "ok\n"}));
  EXPECT_EQ(http_get(cport, "/nope").first, 404);

  // The agent: link up, probe values per device, outbox depth.
  ASSERT_TRUE(wait_for(
      [&] {
        auto [code, body] = http_get(aport, "/metrics");
        page = body;
        // Rendered once a second: wait for a page from after the reply.
        return code == 200 && value_of(page, "edgenas_agent_link_up") == 1 &&
               value_of(page, "edgenas_agent_hparam_replies_total") == 1;
      },
      10'000))
      << page;
  std::tie(rc, out) = promtool(dir, page);
  EXPECT_EQ(rc, 0) << out << page;
  EXPECT_NE(page.find("edgenas_agent_free_nodes{device=\"cpu\"}"), std::string::npos) << page;
  EXPECT_EQ(value_of(page, "edgenas_agent_outbox_depth"), 0);
  EXPECT_EQ(http_get(aport, "/healthz").first, 200);

  // A busy port is a clear error at start, not a silent daemon without metrics: after its
  // retries, naming the process that holds the port.
  auto [brc, bout] =
      run({EDGENAS_COORDINATOR_BIN, "--listen", "tcp://127.0.0.1:" + std::to_string(free_port()),
           "--admin", "tcp://127.0.0.1:" + std::to_string(free_port()), "--db", dir + "/second.db",
           "--metrics", "127.0.0.1:" + std::to_string(cport), "--bind-retry", "300ms"},
          10);
  EXPECT_EQ(brc, 1) << bout;
  EXPECT_NE(bout.find("cannot serve /metrics"), std::string::npos) << bout;
  EXPECT_NE(bout.find("held by pid " + std::to_string(c.proc.pid()) + " (edgenas-coordin"),
            std::string::npos)
      << bout;
  EXPECT_NE(bout.find("port in use; retrying"), std::string::npos) << bout;
}

}  // namespace
}  // namespace edgenas::it
