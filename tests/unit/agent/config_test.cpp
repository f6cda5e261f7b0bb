#include <gtest/gtest.h>

#include <fstream>

#include "agent/io/agent_config.hpp"

namespace edgenas::agent {
namespace {

Status load(const std::string& text, AgentConfig& cfg) {
  const std::string path = ::testing::TempDir() + "/agent-" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << text;
  return load_agent_config(path, cfg);
}

TEST(AgentConfig, FullExampleLoads) {
  AgentConfig cfg;
  auto s = load(R"(
[agent]
id = "box-17"
coordinator = "tcp://127.0.0.1:7700"
state_dir = "/tmp/x"
sample_interval = "2s"
outbox_max_traces = 50
outbox_full_policy = "reject_new"

[probes]
mode = "linux"
power_idle_w = 3
power_max_w = 12

[[task]]
task_id = "meter-ocr"
latency_req_ms = 100
rows = [ { device = "cpu", runtime_ms = 40, energy_j = 0.5, nodes = 1 } ]
)",
                cfg);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(cfg.agent_id, "box-17");
  EXPECT_EQ(cfg.sample_interval_ms, 2000);
  EXPECT_EQ(cfg.outbox_max_traces, 50u);
  EXPECT_EQ(cfg.outbox_full_policy, OutboxFullPolicy::reject_new);
  ASSERT_EQ(cfg.tasks.size(), 1u);
  EXPECT_DOUBLE_EQ(cfg.tasks[0].rows[0].runtime_ms, 40);
  EXPECT_EQ(cfg.local(), "ipc:///tmp/x/agent.sock");
}

TEST(AgentConfig, MistakesAreNamed) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    AgentConfig cfg;
    auto s = load(text, cfg);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
  };
  expect_error("[agent]\ncoordinatr = 'tcp://x:1'\n", "coordinatr");
  expect_error("[agnet]\n", "agnet");
  expect_error("[agent]\ncoordinator = 'http://x'\n", "tcp://");
  expect_error("[agent]\noutbox_full_policy = 'panic'\n", "outbox_full_policy");
  expect_error("[agent]\nsample_interval = 'soon'\n", "sample_interval");
  expect_error("[probes]\nmode = 'simulated'\n", "profile");
  expect_error("[[task]]\ntask_id = 't'\nlatency_req_ms = -1\nrows = []\n", "latency_req_ms");
  expect_error("[agent]\nid = 'has space'\n", "agent id");
  expect_error("[search]\nbinary = '/usr/bin/edgenas-search'\n", "go together");
  expect_error("[search]\nstrategy = 'guess'\n", "strategy");
  expect_error("[search]\nevery = '10s'\n", "every");
  expect_error("[search]\nbudgett = '1m'\n", "budgett");
}

TEST(AgentConfig, SearchSettingsAndTheShippedExample) {
  AgentConfig cfg;
  ASSERT_TRUE(
      load_agent_config(std::string(EDGENAS_SOURCE_DIR) + "/deploy/config/agent.toml", cfg).ok());
  EXPECT_FALSE(cfg.search_settings().enabled());
  EXPECT_EQ(cfg.coordinator_key, "/etc/edgenas/coordinator.pub");  // CURVE on by default
  EXPECT_FALSE(cfg.insecure);
  auto s = load(R"(
[agent]
state_dir = "/tmp/box"
[probes]
mode = "simulated"
profile = "/p/atlas200dk.toml"
[search]
binary = "/usr/bin/edgenas-search"
data = "folder:/d"
budget = "2m"
every = "24h"
)",
                cfg);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto st = cfg.search_settings();
  EXPECT_TRUE(st.enabled());
  EXPECT_EQ(st.budget_ms, 120'000);
  EXPECT_EQ(st.every_ms, 86'400'000);
  EXPECT_EQ(st.runs_dir, "/tmp/box/searches");
  EXPECT_TRUE(st.model_cpu);  // a simulated box is not this machine
  EXPECT_EQ(st.profile, "/p/atlas200dk.toml");
}

}  // namespace
}  // namespace edgenas::agent
