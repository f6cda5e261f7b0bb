// One coordinator and three agents as real processes over tcp loopback.
#include <atomic>
#include <set>

#include "harness.hpp"

namespace edgenas::it {
namespace {
using nlohmann::json;

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    coord_.dir = dir_;
    coord_.start();
    const char* profiles[] = {"atlas200dk", "jetson-nano", ""};  // the third probes this Linux box
    for (int i = 0; i < 3; ++i) {
      agents_[i].id = "box" + std::to_string(i);
      agents_[i].dir = dir_ + "/agent" + std::to_string(i);
      agents_[i].start(coord_, profiles[i]);
    }
  }
  json admin(const std::string& op, json args = json::object()) {
    auto c = coord_.client(3000);
    auto r = c.call(op, args);
    EXPECT_TRUE(r.ok()) << op << ": " << (r ? "" : r.error().message);
    return r ? *r : json();
  }
  Expected<json> local(int i, const std::string& op, json args = json::object()) {
    proto::AdminClient c(agents_[i].local(), 15'000);
    return c.call(op, args);
  }
  int alive() { return admin("status")["agents"]["alive"].get<int>(); }
  std::set<std::string> stored_trace_ids(int64_t* rows = nullptr) {
    std::set<std::string> ids;
    int64_t n = 0;
    json args{{"limit", 1000}};
    while (true) {
      json page = admin("traces.export", args);
      for (const auto& t : page["traces"]) {
        ids.insert(t["trace_id"].get<std::string>());
        ++n;
      }
      if (page["next"].is_null()) break;
      args["since_ms"] = page["next"]["since_ms"];
      args["after_trace_id"] = page["next"]["after_trace_id"];
    }
    if (rows) *rows = n;
    return ids;
  }
  json sample_trace() {
    return json{
        {"hparams",
         {{"layers", 3}, {"filters", 16}, {"kernel", 3}, {"loss", "cross_entropy"}, {"seed", 1}}},
        {"policy", "cold-start"},
        {"predictor_version", 0},
        {"explore", false},
        {"outcome",
         {{"status", "ok"},
          {"accuracy", 0.98},
          {"latency_ms", 0.7},
          {"latency_modelled", false},
          {"energy_mj", 1.0},
          {"energy_modelled", true},
          {"search_time_s", 1.0},
          {"trials", 3},
          {"met_latency", true}}}};
  }

  std::string dir_;
  Coordinator coord_;
  Agent agents_[3];
};

TEST_F(FleetTest, AgentsRegisterReportQueuesGetHparamsAndDeliverTraces) {
  ASSERT_TRUE(wait_for([&] { return alive() == 3; }, 10'000));
  json list = admin("agents.list");
  std::map<std::string, json> by_id;
  for (const auto& a : list["agents"]) by_id[a["agent_id"]] = a;
  EXPECT_EQ(by_id["box0"]["devices"], json::array({"cpu", "npu0"}));
  EXPECT_EQ(by_id["box0"]["profile"], "atlas200dk");
  EXPECT_EQ(by_id["box1"]["devices"], json::array({"cpu", "gpu0"}));
  EXPECT_EQ(by_id["box2"]["devices"], json::array({"cpu"}));

  // The Job queue reaches the coordinator.
  auto sub =
      local(0, "task.submit",
            {{"task",
              {{"task_id", "ocr"},
               {"latency_req_ms", 20},
               {"rows",
                {{{"device", "cpu"}, {"runtime_ms", 15}, {"energy_j", 0.3}, {"nodes", 2}},
                 {{"device", "npu0"}, {"runtime_ms", 3}, {"energy_j", 0.05}, {"nodes", 1}}}}}}});
  ASSERT_TRUE(sub.ok()) << sub.error().message;
  ASSERT_TRUE(wait_for(
      [&] {
        return admin("agents.show", {{"agent_id", "box0"}})["state"]["queue"]["tasks"].size() == 1;
      },
      5000));

  // Heartbeats carry the Source matrix.
  ASSERT_TRUE(wait_for(
      [&] {
        auto s = admin("agents.show", {{"agent_id", "box1"}})["state"]["source"];
        return s.contains("devices") && s["devices"].size() == 2;
      },
      5000));

  // Hyperparameters for each box's current context.
  for (int i = 0; i < 3; ++i) {
    auto r = local(i, "hparams.request", {{"timeout_ms", 10'000}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r)["policy"], "cold-start");
    EXPECT_GE((*r)["hparams"]["layers"].get<int>(), 1);
  }
  // Replies leave before their group commit: wait for the store to catch up.
  EXPECT_TRUE(wait_for([&] { return admin("status")["store"]["hparam_replies"] == 3; }, 5000));

  // Traces are delivered and acked.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(local(i, "trace.submit", {{"trace", sample_trace()}}).ok());
  ASSERT_TRUE(wait_for([&] { return stored_trace_ids().size() == 3; }, 10'000));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(wait_for([&] { return (*local(i, "status"))["outbox_depth"] == 0; }, 5000));
  }
  // The trace got the context of the box it came from.
  json tr = admin("traces.export", {{"agent_id", "box0"}})["traces"][0];
  EXPECT_EQ(tr["context"]["job"]["tasks"][0]["task_id"], "ocr");
}

TEST_F(FleetTest, KilledCoordinatorLosesNoAckedTraceAndStoresEachOnce) {
  ASSERT_TRUE(wait_for([&] { return alive() == 3; }, 10'000));
  std::atomic<bool> stop{false};
  std::atomic<int> submitted{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < 3; ++i) {
    writers.emplace_back([&, i] {
      while (!stop) {
        // Success means the trace is in the agent's durable outbox.
        if (local(i, "trace.submit", {{"trace", sample_trace()}}).ok()) ++submitted;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ASSERT_TRUE(wait_for([&] { return stored_trace_ids().size() >= 30; }, 20'000));
  const auto before_kill = stored_trace_ids();
  EXPECT_EQ(coord_.proc.stop(SIGKILL), -SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // traces pile up in the outboxes
  coord_.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  for (auto& w : writers) w.join();

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(wait_for([&] { return (*local(i, "status"))["outbox_depth"] == 0; }, 60'000))
        << (*local(i, "status")).dump();
  }
  int64_t rows = 0;
  auto ids = stored_trace_ids(&rows);
  EXPECT_EQ(static_cast<int>(ids.size()), submitted.load());
  EXPECT_EQ(rows, static_cast<int64_t>(ids.size()));  // exactly once
  for (const auto& id : before_kill) EXPECT_TRUE(ids.count(id)) << id;
  // Every agent came back through Reregister.
  EXPECT_TRUE(wait_for([&] { return alive() == 3; }, 10'000));
  EXPECT_GE(admin("status")["messages_in"].value("reregister", 0), 3);
}

TEST_F(FleetTest, StoppedAgentIsDeclaredDeadAndCoordinatorShutsDownCleanly) {
  ASSERT_TRUE(wait_for([&] { return alive() == 3; }, 10'000));
  EXPECT_EQ(agents_[2].proc.stop(SIGTERM), 0);
  // 3 missed heartbeats at 300 ms.
  ASSERT_TRUE(wait_for([&] { return admin("status")["agents"]["dead"] == 1; }, 5000));
  EXPECT_EQ(coord_.proc.stop(SIGTERM), 0);
  EXPECT_NE(coord_.proc.log().find("server stopped"), std::string::npos);
}

TEST(PythonAgent, AnAgentWrittenFromProtocolMdAlone) {
  // tests/integration/python_agent.py uses only pyzmq + msgpack and docs/PROTOCOL.md.
  const std::string dir = temp_dir("python-agent");
  Coordinator c;
  c.dir = dir;
  c.start("500ms");
  auto [code, out] = run({"/usr/bin/python3",
                          std::string(EDGENAS_SOURCE_DIR) + "/tests/integration/python_agent.py",
                          c.endpoint(), c.public_key_file()});
  EXPECT_EQ(code, 0) << out;
  auto admin = c.client(3000);
  auto status = admin.call("status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["store"]["traces"], 1) << out;
}

}  // namespace
}  // namespace edgenas::it
