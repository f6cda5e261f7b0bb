#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/core/coordinator_core.hpp"

#include <gtest/gtest.h>

#include <map>

#include "../test_support.hpp"

namespace edgenas::coordinator {
namespace {
using namespace testing_support;

class CoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_db("core");
    open();
  }
  void open() {
    core_.reset();
    store_.reset();
    auto s = TraceStore::open(path_);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    CoreConfig cfg;
    cfg.heartbeat_interval_ms = 1000;
    cfg.dead_after_missed = 3;
    cfg.epoch = "e" + std::to_string(++epochs_);
    core_ = std::make_unique<CoordinatorCore>(clock_, *store_, policy_, cfg);
    ASSERT_TRUE(core_->start().ok());
  }
  template <class T>
  std::vector<proto::Envelope> send(const T& body, const std::string& agent = "a1",
                                    const std::string& route = "r1") {
    proto::Header h;
    h.msg_id = ++msg_id_;
    h.agent_id = agent;
    h.ts_ms = 1;
    return deliver(route, proto::encode(h, body));
  }
  std::vector<proto::Envelope> deliver(const std::string& route, std::string_view bytes) {
    std::vector<Outgoing> out;
    core_->on_message(route, bytes, out);
    EXPECT_TRUE(core_->flush(out).ok());
    std::vector<proto::Envelope> envs;
    for (auto& o : out) {
      EXPECT_EQ(o.routing_id, route);
      auto d = proto::decode_envelope(o.bytes);
      EXPECT_TRUE(std::holds_alternative<proto::Envelope>(d));
      envs.push_back(std::move(std::get<proto::Envelope>(d)));
    }
    return envs;
  }
  static std::string error_code(const std::vector<proto::Envelope>& envs) {
    if (envs.size() != 1 || envs[0].header.type != proto::MsgType::error) return "<no error>";
    return proto::decode_body<proto::ErrorMsg>(envs[0])->code;
  }
  proto::Register reg() {
    proto::Register r;
    r.hostname = "h";
    r.devices = {{"cpu", 4, 1000, "procfs"}};
    r.power_source = "model";
    return r;
  }

  ManualClock clock_;
  ColdStartPolicy policy_;
  std::string path_;
  std::unique_ptr<TraceStore> store_;
  std::unique_ptr<CoordinatorCore> core_;
  uint64_t msg_id_ = 0;
  int epochs_ = 0;
};

TEST_F(CoreTest, RegisterGetsWelcomeWithTheAssignedInterval) {
  auto out = send(reg());
  ASSERT_EQ(out.size(), 1u);
  auto w = proto::decode_body<proto::Welcome>(out[0]);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->heartbeat_interval_ms, 1000);
  EXPECT_EQ(w->dead_after_missed, 3);
  EXPECT_FALSE(w->restored);
  EXPECT_EQ(store_->counts()->agents, 1);  // registration is durable at once
}

TEST_F(CoreTest, MessagesBeforeRegistrationAreRefused) {
  EXPECT_EQ(error_code(send(proto::Heartbeat{1, context().source, 0, 0, "idle", std::nullopt})),
            proto::err::kNotRegistered);
  EXPECT_EQ(error_code(send(trace("t1"))), proto::err::kNotRegistered);
  EXPECT_EQ(store_->counts()->traces, 0);
}

TEST_F(CoreTest, TraceIsAckedOnlyAfterCommitAndStoredOnce) {
  send(reg());
  std::vector<Outgoing> out;
  proto::Header h{proto::kProtocolVersion, proto::MsgType::trace, 1, "a1", 1};
  core_->on_message("r1", proto::encode(h, trace("t1")), out);
  EXPECT_TRUE(out.empty());  // no Ack before the commit
  EXPECT_EQ(store_->counts()->traces, 0);
  ASSERT_TRUE(core_->flush(out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(store_->counts()->traces, 1);
  auto ack = proto::decode_body<proto::Ack>(
      std::get<proto::Envelope>(proto::decode_envelope(out[0].bytes)));
  EXPECT_EQ(ack->trace_ids, std::vector<std::string>{"t1"});

  // A resend (the Ack was lost) is acked again and not stored twice.
  auto again = send(trace("t1"));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].header.type, proto::MsgType::ack);
  EXPECT_EQ(store_->counts()->traces, 1);
}

TEST_F(CoreTest, OneRoundOfTracesIsOneCommitAndOneAck) {
  send(reg());
  std::vector<Outgoing> out;
  for (int i = 0; i < 5; ++i) {
    proto::Header h{proto::kProtocolVersion, proto::MsgType::trace, 1, "a1", 1};
    core_->on_message("r1", proto::encode(h, trace("t" + std::to_string(i))), out);
  }
  const auto batches = core_->metrics().batches_committed;
  ASSERT_TRUE(core_->flush(out).ok());
  EXPECT_EQ(core_->metrics().batches_committed, batches + 1);
  ASSERT_EQ(out.size(), 1u);
  auto ack = proto::decode_body<proto::Ack>(
      std::get<proto::Envelope>(proto::decode_envelope(out[0].bytes)));
  EXPECT_EQ(ack->trace_ids.size(), 5u);
}

TEST_F(CoreTest, HparamRequestIsAnsweredAndRecorded) {
  send(reg());
  auto out = send(proto::HparamRequest{"q1", context(2, 1024, 20)});
  ASSERT_EQ(out.size(), 1u);
  auto r = proto::decode_body<proto::HparamReply>(out[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request_id, "q1");
  EXPECT_EQ(r->policy, "cold-start");
  EXPECT_EQ(store_->counts()->replies, 1);
}

// Latency models as the LatencyService offers them: version 3, to agents holding an older one.
class OfferingV3 final : public LatencyControl {
 public:
  Expected<nlohmann::json> list() override { return nlohmann::json::object(); }
  Expected<nlohmann::json> show(int) override { return nlohmann::json::object(); }
  Expected<nlohmann::json> train(const std::string&) override { return nlohmann::json::object(); }
  Expected<nlohmann::json> predict(const nlohmann::json&) const override {
    return nlohmann::json::object();
  }
  std::optional<proto::LatencyModelsOffer> offer(int agent_holds) const override {
    if (agent_holds >= 3) return std::nullopt;
    return proto::LatencyModelsOffer{3, {{"version", 3}}};
  }
};

TEST_F(CoreTest, AReplyCarriesLatencyModelsOnlyToAnAgentHoldingOlderOnesAndStoresNone) {
  OfferingV3 latency;
  core_->set_latency_models(&latency);
  send(reg());
  auto request = proto::HparamRequest{"q1", context(2, 1024, 20)};
  auto r = proto::decode_body<proto::HparamReply>(send(request).at(0));
  ASSERT_TRUE(r.ok() && r->latency.has_value());
  EXPECT_EQ(r->latency->version, 3);
  // The same request again (its reply was lost): the models again.
  r = proto::decode_body<proto::HparamReply>(send(request).at(0));
  ASSERT_TRUE(r.ok() && r->latency.has_value());
  request = {"q2", context(2, 1024, 20), 3};
  r = proto::decode_body<proto::HparamReply>(send(request).at(0));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->latency.has_value());
  EXPECT_EQ(core_->metrics().latency_models_sent, 2);
  // What is recorded is the hyperparameters, not the models.
  std::vector<Outgoing> out;
  ASSERT_TRUE(core_->flush(out).ok());
  EXPECT_EQ(store_->counts()->replies, 2);
}

TEST_F(CoreTest, HostileInputGetsErrorsAndIsCounted) {
  send(reg());
  EXPECT_EQ(error_code(deliver("r9", "\x01\x02garbage")), proto::err::kMalformed);
  EXPECT_EQ(error_code(deliver("r9", std::string("\xdd\xff\xff\xff\xff", 5))),
            proto::err::kTooLarge);
  auto bad = context();
  bad.source.devices[0].free_nodes = -5;
  EXPECT_EQ(error_code(send(proto::HparamRequest{"q", bad})), proto::err::kBadField);
  EXPECT_EQ(error_code(send(proto::Welcome{"e", 1000, 3, 4096, 1000, false})),
            proto::err::kUnexpected);
  EXPECT_EQ(error_code(send(reg(), "")), proto::err::kBadField);  // no agent id
  EXPECT_GE(core_->metrics().errors.at(std::string(proto::err::kMalformed)), 1);
  // ...and the well-behaved agent is still served.
  auto out = send(proto::Heartbeat{1, context().source, 0, 0, "idle", std::nullopt});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.type, proto::MsgType::heartbeat_ack);
}

TEST_F(CoreTest, LivenessAndTheRegistryWriteBack) {
  send(reg());
  send(proto::Heartbeat{1, context(3).source, 0, 0, "idle", std::nullopt});
  clock_.advance(3001);
  core_->tick();
  EXPECT_EQ(core_->registry().count(Liveness::dead), 1);
  EXPECT_EQ(core_->metrics().agents_died, 1);
  send(proto::Heartbeat{2, context(1).source, 0, 0, "idle", std::nullopt});
  EXPECT_EQ(core_->registry().count(Liveness::alive), 1);
  // The heartbeat's Source reaches the store with the periodic write-back.
  clock_.advance(limits::kRegistryFlushIntervalMs);
  core_->tick();
  std::vector<Outgoing> out;
  ASSERT_TRUE(core_->flush(out).ok());
  auto agents = store_->load_agents();
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ((*agents)[0].state.source.devices[0].free_nodes, 1);
}

TEST_F(CoreTest, FrequentTicksSpreadOneSweepOverItsPeriod) {
  for (int i = 0; i < 40; ++i) send(reg(), "a" + std::to_string(i), "r" + std::to_string(i));
  const int64_t period = core_->sweep_period_ms();
  ASSERT_EQ(period, 250);
  // Ticks every 10 ms; the agents fall silent past the limit (3 × 1000 ms) at 3001 ms.
  std::map<int64_t, int> dead_at;
  for (int64_t t = 10; t <= 3000 + period + 10; t += 10) {
    clock_.advance(10);
    core_->tick();
    dead_at[t] = core_->registry().count(Liveness::dead);
  }
  EXPECT_EQ(dead_at[3000], 0);
  EXPECT_LE(dead_at[3010], 2);  // a tick visits its share: 40 × 10 / 250 = 1.6
  EXPECT_GT(dead_at[3130], 10);
  EXPECT_EQ(dead_at[3010 + period], 40);  // and a period all of them
}

TEST_F(CoreTest, RestartForgetsSessionsUntilReregister) {
  send(reg());
  send(proto::QueueReport{2, context().job});
  open();  // a new coordinator process on the same store
  EXPECT_EQ(core_->registry().count(Liveness::offline), 1);
  EXPECT_EQ(error_code(send(proto::Heartbeat{5, context().source, 0, 0, "idle", std::nullopt})),
            proto::err::kNotRegistered);
  proto::Reregister rr{reg(), {}};
  rr.state.queue = context().job;
  rr.state.source = context(7).source;
  auto out = send(rr);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(proto::decode_body<proto::Welcome>(out[0])->restored);
  const AgentEntry* e = core_->registry().find("a1");
  EXPECT_EQ(e->stored.registrations, 2);
  EXPECT_EQ(e->stored.state.source.devices[0].free_nodes, 7);
  EXPECT_EQ(send(proto::Heartbeat{6, context().source, 0, 0, "idle", std::nullopt})[0].header.type,
            proto::MsgType::heartbeat_ack);
}

TEST_F(CoreTest, RegistrationsRepeatedOnOneConnectionAreOneRegistration) {
  // After an outage the agent's queued Registers arrive together on one connection.
  send(reg());
  send(proto::QueueReport{2, context().job});
  for (int i = 0; i < 4; ++i) {
    auto out = send(reg());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].header.type, proto::MsgType::welcome);  // answered, and ignored by the agent
  }
  const AgentEntry* e = core_->registry().find("a1");
  EXPECT_EQ(e->stored.registrations, 1);
  EXPECT_EQ(e->stored.state.queue.tasks.size(), context().job.tasks.size());  // not reset
  EXPECT_EQ(core_->metrics().repeated_registrations, 4);
  // A restarted agent process connects anew: that registration counts and starts afresh.
  send(reg(), "a1", "r2");
  EXPECT_EQ(core_->registry().find("a1")->stored.registrations, 2);
  EXPECT_TRUE(core_->registry().find("a1")->stored.state.queue.tasks.empty());
  // So does one on the same connection after the agent was declared dead.
  clock_.advance(3001);
  core_->tick();
  send(reg(), "a1", "r2");
  EXPECT_EQ(core_->registry().find("a1")->stored.registrations, 3);
}

TEST_F(CoreTest, AReregisterFromAStrangerIsNotRestored) {
  proto::Reregister rr{reg(), {}};
  auto out = send(rr, "stranger");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(proto::decode_body<proto::Welcome>(out[0])->restored);
}

TEST_F(CoreTest, AResentRequestGetsTheSameReplyAndIsRecordedOnce) {
  send(reg());
  auto first = send(proto::HparamRequest{"q7", context(2, 1024, 20)});
  auto again = send(proto::HparamRequest{"q7", context(2, 1024, 20)});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(again.size(), 1u);
  auto a = proto::decode_body<proto::HparamReply>(first[0]);
  auto b = proto::decode_body<proto::HparamReply>(again[0]);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->hparams, b->hparams);
  EXPECT_EQ(a->request_id, b->request_id);
  EXPECT_EQ(core_->metrics().hparam_replies, 1);
  EXPECT_EQ(core_->metrics().repeated_hparam_requests, 1);
  EXPECT_EQ(store_->counts()->replies, 1);
  // Another agent's request with the same id is its own request.
  send(reg(), "a2", "r2");
  send(proto::HparamRequest{"q7", context(2, 1024, 20)}, "a2", "r2");
  EXPECT_EQ(core_->metrics().hparam_replies, 2);
  // After the memory window the id is answered afresh.
  clock_.advance(limits::kReplyMemoryMs + 1);
  send(proto::HparamRequest{"q7", context(2, 1024, 20)});
  EXPECT_EQ(core_->metrics().hparam_replies, 3);
}

TEST_F(CoreTest, ALateHeartbeatIsAckedButDoesNotRewindTheSource) {
  send(reg());
  send(proto::Heartbeat{5, context(3).source, 0, 0, "idle", std::nullopt});
  auto late = send(proto::Heartbeat{4, context(1).source, 0, 0, "searching", std::nullopt});
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].header.type, proto::MsgType::heartbeat_ack);
  const AgentEntry* e = core_->registry().find("a1");
  EXPECT_EQ(e->stored.state.source.devices[0].free_nodes, 3);
  EXPECT_EQ(e->activity, "idle");
  // A new session counts afresh.
  send(reg(), "a1", "r2");
  send(proto::Heartbeat{1, context(2).source, 0, 0, "idle", std::nullopt}, "a1", "r2");
  EXPECT_EQ(core_->registry().find("a1")->stored.state.source.devices[0].free_nodes, 2);
}

TEST_F(CoreTest, StaleQueueReportsAreIgnored) {
  send(reg());
  auto two = context().job;
  two.tasks.push_back({"task-b", 10, {{"cpu", 1, 1, 1}}});
  send(proto::QueueReport{5, two});
  send(proto::QueueReport{4, context().job});  // reordered, older
  EXPECT_EQ(core_->registry().find("a1")->stored.state.queue.tasks.size(), 2u);
}

TEST_F(CoreTest, CommandsGoToConnectedAgentsOnly) {
  std::vector<Outgoing> out;
  proto::Command cmd{"c1", proto::CommandAction::cancel, nlohmann::json::object()};
  EXPECT_EQ(core_->send_command("a1", cmd, out).error().code, proto::err::kNotFound);
  send(reg(), "a1", "route-x");
  ASSERT_TRUE(core_->send_command("a1", cmd, out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].routing_id, "route-x");
  clock_.advance(5000);
  core_->tick();
  EXPECT_EQ(core_->send_command("a1", cmd, out).error().code, proto::err::kUnavailable);
}

}  // namespace
}  // namespace edgenas::coordinator
