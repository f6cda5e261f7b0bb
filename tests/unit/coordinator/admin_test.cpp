#include "coordinator/core/admin.hpp"

#include <gtest/gtest.h>

#include "../test_support.hpp"

namespace edgenas::coordinator {
namespace {
using namespace testing_support;
using nlohmann::json;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TraceStore::open(temp_db("admin"));
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    core_ = std::make_unique<CoordinatorCore>(clock_, *store_, policy_, CoreConfig{});
    ASSERT_TRUE(core_->start().ok());
    admin_ = std::make_unique<AdminService>(*core_);
    proto::Register r;
    r.hostname = "h";
    r.devices = {{"cpu", 4, 1000, "procfs"}};
    deliver(r);
    for (int i = 0; i < 25; ++i) deliver(trace("t" + std::to_string(100 + i)));
  }
  template <class T>
  void deliver(const T& body) {
    std::vector<Outgoing> out;
    core_->on_message(
        "r", proto::encode(proto::Header{1, proto::MsgType::error, 1, "box1", 1}, body), out);
    ASSERT_TRUE(core_->flush(out).ok());
  }
  proto::AdminResponse call(const std::string& op, json args = json::object()) {
    std::vector<Outgoing> out;
    return admin_->handle({op, std::move(args)}, out);
  }

  ManualClock clock_;
  ColdStartPolicy policy_;
  std::unique_ptr<TraceStore> store_;
  std::unique_ptr<CoordinatorCore> core_;
  std::unique_ptr<AdminService> admin_;
};

TEST_F(AdminTest, Status) {
  auto r = call("status");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.result["agents"]["alive"], 1);
  EXPECT_EQ(r.result["store"]["traces"], 25);
  EXPECT_EQ(r.result["protocol_version"], proto::kProtocolVersion);
}

TEST_F(AdminTest, AgentsListAndShow) {
  auto l = call("agents.list");
  ASSERT_EQ(l.result["agents"].size(), 1u);
  EXPECT_EQ(l.result["agents"][0]["agent_id"], "box1");
  auto s = call("agents.show", {{"agent_id", "box1"}});
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.result["registration"]["hostname"], "h");
  auto missing = call("agents.show", {{"agent_id", "nope"}});
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.code, proto::err::kNotFound);
}

TEST_F(AdminTest, TracesPageWithACursor) {
  std::set<std::string> seen;
  json args{{"limit", 10}};
  for (int page = 0; page < 5; ++page) {
    auto r = call("traces.export", args);
    ASSERT_TRUE(r.ok) << r.message;
    for (const auto& t : r.result["traces"])
      EXPECT_TRUE(seen.insert(t["trace_id"].get<std::string>()).second);
    if (r.result["next"].is_null()) break;
    args["since_ms"] = r.result["next"]["since_ms"];
    args["after_trace_id"] = r.result["next"]["after_trace_id"];
  }
  EXPECT_EQ(seen.size(), 25u);
  auto list = call("traces.list", {{"agent_id", "nobody"}});
  EXPECT_TRUE(list.result["traces"].empty());
}

TEST_F(AdminTest, HparamsAskValidatesTheContext) {
  auto ok = call("hparams.ask", {{"context", proto::to_json(context())}});
  ASSERT_TRUE(ok.ok) << ok.message;
  EXPECT_EQ(ok.result["policy"], "cold-start");
  auto bad_ctx = proto::to_json(context());
  bad_ctx["source"]["devices"][0]["free_memory_mb"] = -1;
  auto bad = call("hparams.ask", {{"context", bad_ctx}});
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.message.find("free_memory_mb"), std::string::npos);
  EXPECT_FALSE(call("hparams.ask").ok);
}

TEST_F(AdminTest, BadRequestsAreClear) {
  EXPECT_EQ(call("drop.tables").code, proto::err::kUnknownOp);
  EXPECT_EQ(call("traces.list", {{"limit", "ten"}}).code, proto::err::kBadRequest);
  EXPECT_EQ(call("traces.list", {{"limit", 0}}).code, proto::err::kBadRequest);
  EXPECT_EQ(call("agents.command", {{"agent_id", "box1"}, {"action", "explode"}}).code,
            proto::err::kBadRequest);
}

}  // namespace
}  // namespace edgenas::coordinator
