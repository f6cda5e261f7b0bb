// The command lines: exit codes scripts can trust, clear errors for bad input.
#include "harness.hpp"

namespace edgenas::it {
namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

TEST(Cli, EdgenasctlExitCodes) {
  const std::string dir = temp_dir("cli-ctl");
  Coordinator c;
  c.dir = dir;
  c.start();
  const std::string ctl = EDGENAS_CTL_BIN;

  auto [ok_code, status] = run(c.ctl({"status"}));
  EXPECT_EQ(ok_code, 0) << status;
  EXPECT_NE(status.find("agents"), std::string::npos);

  auto [json_code, json_out] = run(c.ctl({"--json", "agents", "list"}));
  EXPECT_EQ(json_code, 0);
  EXPECT_TRUE(nlohmann::json::accept(json_out)) << json_out;

  EXPECT_EQ(run(c.ctl({"agents", "show", "nobody"})).first, 1);
  EXPECT_EQ(run({ctl, "--admin", "tcp://127.0.0.1:1", "--key", dir + "/admin.key", "--server-key",
                 c.public_key_file(), "--timeout", "300ms", "status"})
                .first,
            3);
  EXPECT_EQ(run({ctl, "frobnicate"}).first, 2);
  EXPECT_EQ(run({ctl, "--help"}).first, 0);

  const std::string ctx =
      write(dir, "ctx.json", R"({"job": {"tasks": [{"task_id": "t", "latency_req_ms": 10,
      "rows": [{"device": "cpu", "runtime_ms": 5, "energy_j": 0.1, "nodes": 1}]}]},
      "source": {"devices": [{"device": "cpu", "free_nodes": 2, "free_memory_mb": 1024}],
                 "power_w": 5, "power_modelled": true, "window_ms": 5000}})");
  auto [ask_code, ask_out] = run(c.ctl({"hparams", "ask", ctx}));
  EXPECT_EQ(ask_code, 0) << ask_out;
  EXPECT_NE(ask_out.find("layers"), std::string::npos);
  EXPECT_EQ(run(c.ctl({"hparams", "ask", write(dir, "bad.json", "{not json")})).first, 2);
  auto [inv_code, inv_out] =
      run(c.ctl({"hparams", "ask",
                 write(dir, "inv.json", R"({"job": {"tasks": []}, "source": {"devices": []}})")}));
  EXPECT_EQ(inv_code, 1) << inv_out;

  auto [exp_code, exp_out] = run(c.ctl({"traces", "export", "--format", "csv"}));
  EXPECT_EQ(exp_code, 0) << exp_out;
}

TEST(Cli, DaemonsRefuseBadConfigsClearly) {
  const std::string dir = temp_dir("cli-config");
  auto [c1, o1] = run({EDGENAS_AGENT_BIN, "run", "--config",
                       write(dir, "a.toml", "[agent]\ncoordinatr = 'tcp://x:1'\n")});
  EXPECT_EQ(c1, 2);
  EXPECT_NE(o1.find("coordinatr"), std::string::npos) << o1;

  auto [c2, o2] = run(
      {EDGENAS_AGENT_BIN, "run", "--state-dir", dir + "/s", "--profile", dir + "/missing.toml"});
  EXPECT_EQ(c2, 2);
  EXPECT_NE(o2.find("missing.toml"), std::string::npos) << o2;

  auto [c3, o3] =
      run({EDGENAS_COORDINATOR_BIN, "--config", write(dir, "c.toml", "[coordinator]\nport = 5\n")});
  EXPECT_EQ(c3, 2);
  EXPECT_NE(o3.find("port"), std::string::npos) << o3;

  auto [c3b, o3b] = run({EDGENAS_COORDINATOR_BIN, "--config",
                         write(dir, "t.toml", "[predictor]\ntargets = \"best\"\n")});
  EXPECT_EQ(c3b, 2);
  EXPECT_NE(o3b.find("targets must be"), std::string::npos) << o3b;
  auto [c3c, o3c] = run({EDGENAS_COORDINATOR_BIN, "--config",
                         write(dir, "r.toml", "[predictor]\ncold_start_rule = \"tiny\"\n")});
  EXPECT_EQ(c3c, 2);
  EXPECT_NE(o3c.find("cold_start_rule must be"), std::string::npos) << o3c;
  auto [c3d, o3d] = run({EDGENAS_COORDINATOR_BIN, "--check-config", "--config",
                         write(dir, "s.toml", "[predictor]\ncold_start_rule = \"size-score\"\n")});
  EXPECT_EQ(c3d, 0) << o3d;
  EXPECT_NE(o3d.find("cold-start rule size-score"), std::string::npos) << o3d;
  auto [c3e, o3e] = run({EDGENAS_COORDINATOR_BIN, "--check-config", "--config",
                         write(dir, "io.toml", "[coordinator]\nio_threads = 3\n")});
  EXPECT_EQ(c3e, 0) << o3e;
  EXPECT_NE(o3e.find("3 ZeroMQ I/O thread(s)"), std::string::npos) << o3e;
  auto [c3f, o3f] = run({EDGENAS_COORDINATOR_BIN, "--check-config", "--io-threads", "0"});
  EXPECT_EQ(c3f, 2) << o3f;
  auto [c3g, o3g] = run({EDGENAS_COORDINATOR_BIN, "--check-config", "--config",
                         write(dir, "io0.toml", "[coordinator]\nio_threads = 0\n")});
  EXPECT_EQ(c3g, 2) << o3g;
  EXPECT_NE(o3g.find("io_threads"), std::string::npos) << o3g;

  auto [c4, o4] =
      run({EDGENAS_COORDINATOR_BIN, "--db", write(dir, "junk.db", std::string(5000, 'j')),
           "--listen", "tcp://127.0.0.1:" + std::to_string(free_port()), "--admin",
           "tcp://127.0.0.1:" + std::to_string(free_port())});
  EXPECT_EQ(c4, 1);
  EXPECT_NE(o4.find("junk.db"), std::string::npos) << o4;

  EXPECT_EQ(run({EDGENAS_AGENT_BIN, "--help"}).first, 0);
  EXPECT_EQ(run({EDGENAS_COORDINATOR_BIN, "--help"}).first, 0);
  EXPECT_EQ(run({EDGENAS_AGENT_BIN, "status", "--local", "ipc://" + dir + "/nobody.sock"}).first,
            3);
}

TEST(Cli, AgentTaskCommandsAgainstARunningAgent) {
  const std::string dir = temp_dir("cli-agent");
  Coordinator c;
  c.dir = dir;
  c.start();
  Agent a;
  a.id = "box";
  a.dir = dir + "/a";
  a.start(c, "atlas200dk");
  const std::string bin = EDGENAS_AGENT_BIN;
  auto [s1, o1] = run({bin, "task", "submit", "--local", a.local(), "--id", "ocr", "-T", "30",
                       "--row", "cpu:20:0.3:2", "--row", "npu0:4:0.05:1"});
  EXPECT_EQ(s1, 0) << o1;
  EXPECT_EQ(run({bin, "task", "submit", "--local", a.local(), "--id", "x", "-T", "30", "--row",
                 "gpu0:1:1:1"})
                .first,
            1);
  EXPECT_EQ(run({bin, "task", "submit", "--local", a.local(), "--id", "x", "-T", "30", "--row",
                 "cpu:fast"})
                .first,
            2);
  auto [s2, o2] = run({bin, "task", "list", "--local", a.local()});
  EXPECT_EQ(s2, 0);
  EXPECT_NE(o2.find("npu0"), std::string::npos) << o2;
  EXPECT_EQ(run({bin, "task", "done", "--local", a.local(), "ocr"}).first, 0);
  EXPECT_EQ(run({bin, "task", "done", "--local", a.local(), "ocr"}).first, 1);
  auto [s3, o3] = run({bin, "hparams", "--local", a.local()});
  EXPECT_EQ(s3, 0) << o3;
  EXPECT_NE(o3.find("cold-start"), std::string::npos);
  auto [s4, o4] = run({bin, "probe", "--json"});
  EXPECT_EQ(s4, 0) << o4;
  EXPECT_EQ(nlohmann::json::parse(o4)["source"]["devices"][0]["device"], "cpu");
}

}  // namespace
}  // namespace edgenas::it
