// The agent's local API over a real core, queue and SQLite store, a ManualClock and no child
// processes: what each operation answers, what it changes, and its errors.
#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "agent/core/local_api.hpp"
#include "agent/store/agent_store.hpp"
#include "common/protocol/codec.hpp"

namespace edgenas::agent {
namespace {
using namespace testing_support;
using nlohmann::json;

class NoChildren final : public ChildLauncher {
 public:
  Expected<int> spawn(const ChildSpec&) override { return Error{"spawn", "not in this test"}; }
  std::optional<int> adopt(int, const std::string&) override { return std::nullopt; }
  void signal(int, int) override {}
  std::optional<ChildExit> poll(int) override { return std::nullopt; }
  std::vector<std::string> take_lines(int) override { return {}; }
  std::string limits_applied(int) const override { return "none"; }
};

class LocalApiTest : public ::testing::Test {
 protected:
  LocalApiTest()
      : store_(
            std::move(*AgentStore::open(temp_db("local-api"), 100, OutboxFullPolicy::drop_oldest))),
        queue_({"cpu"}),
        core_(clock_, *store_, queue_, "box1", registration(), 1),
        search_(clock_, SearchSettings{}, launcher_, *store_, core_, "box1"),
        api_(clock_, core_, queue_, *store_, *store_, search_,
             {"tcp://coordinator:5555", "model", "",
              [] {
                return std::vector<DeviceInfo>{{"cpu", 4, 2048, "procfs"}};
              }},
             {"from-config"}) {
    EXPECT_TRUE(queue_.submit(task("from-config")).ok());
    core_.set_source(context().source);  // the daemon samples the probes at its start
  }
  static proto::Register registration() {
    proto::Register r;
    r.devices = {{"cpu", 4, 2048, "procfs"}};
    return r;
  }
  static JobTask task(const std::string& id) { return {id, 5.0, {{"cpu", 2, 0.1, 1}}}; }
  LocalAnswer call(const std::string& op, json args = json::object()) {
    return api_.handle({op, std::move(args)});
  }

  ManualClock clock_;
  std::unique_ptr<AgentStore> store_;
  TaskQueue queue_;
  AgentCore core_;
  NoChildren launcher_;
  SearchRunner search_;
  LocalApi api_;
};

TEST_F(LocalApiTest, TasksAreQueuedKeptAndFinishedButNotTheConfigFilesOwn) {
  auto a = call("task.submit", {{"task", proto::to_json(task("ocr"))}});
  ASSERT_TRUE(a.response.ok) << a.response.message;
  EXPECT_EQ(a.response.result["queued_tasks"], 2);
  ASSERT_EQ(store_->load_tasks()->size(), 1u);  // kept for the next start
  EXPECT_FALSE(call("task.submit", {{"task", proto::to_json(task("ocr"))}}).response.ok);

  const auto list = call("task.list").response.result["tasks"];
  ASSERT_EQ(list.size(), 2u);
  for (const auto& t : list) EXPECT_EQ(t["from_config"], t["task_id"] == "from-config");

  auto refused = call("task.done", {{"task_id", "from-config"}}).response;
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.code, "bad_request");
  EXPECT_NE(refused.message.find("remove it there"), std::string::npos);
  EXPECT_TRUE(call("task.done", {{"task_id", "ocr"}}).response.ok);
  EXPECT_TRUE(store_->load_tasks()->empty());
  EXPECT_EQ(call("task.done", {{"task_id", "ocr"}}).response.ok, false);  // not queued any more
}

TEST_F(LocalApiTest, ATraceGetsItsIdTimeAndContextFromTheAgent) {
  json t = proto::to_json(trace("ignored"));
  t.erase("trace_id");
  t.erase("created_ms");
  t.erase("context");
  auto a = call("trace.submit", {{"trace", t}});
  ASSERT_TRUE(a.response.ok) << a.response.message;
  EXPECT_EQ(a.response.result["trace_id"].get<std::string>().rfind("box1-", 0), 0u);
  EXPECT_EQ(a.response.result["outbox_depth"], 1);
  const auto kept = store_->pending(10);
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ(kept->at(0).created_ms, clock_.wall_ms());
  EXPECT_EQ(kept->at(0).context.job.tasks.size(), 1u);  // the queue as it is now
  EXPECT_EQ(call("trace.submit", {{"trace", 7}}).response.code, "bad_request");
}

TEST_F(LocalApiTest, HparamsAreWaitedForWithinAClampedTimeout) {
  auto a = call("hparams.request", {{"timeout_ms", 5}});
  ASSERT_TRUE(a.wait_for.has_value());
  EXPECT_EQ(a.wait_ms, 100);
  EXPECT_EQ(core_.pending_hparam_requests(), 1u);
  EXPECT_EQ(call("hparams.request", {{"timeout_ms", 3'600'000}}).wait_ms, 600'000);
  auto bad = call("hparams.request", {{"dataset", {{"classes", "ten"}}}});
  EXPECT_FALSE(bad.wait_for.has_value());
  EXPECT_FALSE(bad.response.ok);
}

TEST_F(LocalApiTest, StatusProbeSearchesAndUnknownOperations) {
  auto st = call("status").response;
  ASSERT_TRUE(st.ok);
  EXPECT_EQ(st.result["agent_id"], "box1");
  EXPECT_EQ(st.result["coordinator"], "tcp://coordinator:5555");
  EXPECT_EQ(st.result["queued_tasks"], 1);
  EXPECT_EQ(st.result["power_source"], "model");
  EXPECT_EQ(call("probe").response.result["devices"][0]["total_nodes"], 4);
  auto search = call("search.start").response;  // this agent runs no searches
  EXPECT_FALSE(search.ok);
  EXPECT_EQ(search.code, "unavailable");
  auto unknown = call("frobnicate").response;
  EXPECT_EQ(unknown.code, "unknown_op");
  EXPECT_NE(unknown.message.find("search.status, probe"), std::string::npos);
}

}  // namespace
}  // namespace edgenas::agent
