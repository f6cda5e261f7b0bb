// Agents and the coordinator core wired through a fake network that can drop, delay and
// duplicate messages, driven by a manual clock: registration, liveness, link loss,
// coordinator restart with reregistration, and outbox resend with deduplication.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <random>

#include "../test_support.hpp"
#include "agent/core/agent_core.hpp"
#include "agent/store/agent_store.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/core/coordinator_core.hpp"

namespace edgenas {
namespace {
using namespace testing_support;

struct FakeAgent {
  std::unique_ptr<agent::AgentStore> store;
  std::unique_ptr<agent::TaskQueue> queue;
  std::unique_ptr<agent::AgentCore> core;
  bool crashed = false;  // a crashed agent neither sends nor receives
};

class FakeNet {
 public:
  explicit FakeNet(ManualClock& clock, uint64_t seed = 1) : clock_(clock), rng_(seed) {}

  double drop = 0, duplicate = 0;
  // Applied to every agent→coordinator message in flight (return the bytes to deliver).
  std::function<std::string(std::string)> tamper;
  int64_t max_delay_ms = 0;
  bool coordinator_down = false;

  void set_coordinator(coordinator::CoordinatorCore* c) {
    coord_ = c;
    // Whatever was in flight to the old process is gone with it.
    std::erase_if(packets_, [](const Packet& p) { return p.to_coordinator; });
  }
  FakeAgent& add_agent(const std::string& id, const std::string& db,
                       std::size_t outbox_max = 10'000) {
    auto a = std::make_unique<FakeAgent>();
    a->store =
        std::move(*agent::AgentStore::open(db, outbox_max, agent::OutboxFullPolicy::drop_oldest));
    a->queue = std::make_unique<agent::TaskQueue>(std::set<std::string>{"cpu"});
    proto::Register reg;
    reg.hostname = id;
    reg.devices = {{"cpu", 4, 4096, "procfs"}};
    reg.power_source = "model";
    a->core = std::make_unique<agent::AgentCore>(clock_, *a->store, *a->queue, id, reg,
                                                 agents_.size() + 1);
    a->core->set_source(context(2).source);
    a->core->on_connected();
    agents_.push_back(std::move(a));
    return *agents_.back();
  }
  FakeAgent& agent(std::size_t i) { return *agents_[i]; }

  void run_for(int64_t ms, int64_t step = 50) {
    for (int64_t t = 0; t < ms; t += step) {
      clock_.advance(step);
      round();
    }
  }

 private:
  struct Packet {
    int64_t at;
    bool to_coordinator;
    std::size_t agent;
    std::string bytes;
  };

  void post(bool to_coordinator, std::size_t agent, std::string bytes) {
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < drop) return;
    const int copies = u(rng_) < duplicate ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      int64_t delay =
          max_delay_ms ? std::uniform_int_distribution<int64_t>(0, max_delay_ms)(rng_) : 0;
      packets_.push_back({clock_.now_ms() + delay, to_coordinator, agent, bytes});
    }
  }

  void round() {
    for (std::size_t i = 0; i < agents_.size(); ++i) {
      auto& a = *agents_[i];
      if (a.crashed) continue;
      a.core->tick();
      if (a.core->link_lost() && clock_.now_ms() >= a.core->reconnect_at_ms())
        a.core->on_connected();
      for (auto& b : a.core->take_outgoing())
        post(true, i, tamper ? tamper(std::move(b)) : std::move(b));
    }
    std::vector<coordinator::Outgoing> out;
    std::deque<Packet> later;
    std::vector<Packet> to_agents;
    for (auto& p : packets_) {
      if (p.at > clock_.now_ms()) {
        later.push_back(std::move(p));
      } else if (p.to_coordinator) {
        if (!coordinator_down && coord_)
          coord_->on_message("route-" + std::to_string(p.agent), p.bytes, out);
      } else {
        to_agents.push_back(std::move(p));
      }
    }
    packets_ = std::move(later);
    if (coord_ && !coordinator_down) {
      coord_->tick();
      ASSERT_TRUE(coord_->flush(out).ok());
      for (auto& o : out) post(false, std::stoul(o.routing_id.substr(6)), std::move(o.bytes));
    }
    for (auto& p : to_agents) {
      if (!agents_[p.agent]->crashed) agents_[p.agent]->core->on_message(p.bytes);
    }
  }

  ManualClock& clock_;
  std::mt19937_64 rng_;
  coordinator::CoordinatorCore* coord_ = nullptr;
  std::vector<std::unique_ptr<FakeAgent>> agents_;
  std::deque<Packet> packets_;
};

class LinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = temp_db(std::string("link-") +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    start_coordinator();
  }
  void start_coordinator() {
    core_.reset();
    store_.reset();
    store_ = std::move(*coordinator::TraceStore::open(db_));
    coordinator::CoreConfig cfg;
    cfg.heartbeat_interval_ms = 1000;
    cfg.dead_after_missed = 3;
    cfg.trace_resend_ms = 2000;
    cfg.epoch = "epoch-" + std::to_string(++starts_);
    core_ = std::make_unique<coordinator::CoordinatorCore>(clock_, *store_, policy_, cfg);
    ASSERT_TRUE(core_->start().ok());
    net_.set_coordinator(core_.get());
  }
  FakeAgent& add(const std::string& id) { return net_.add_agent(id, temp_db(db_name(id))); }
  std::string db_name(const std::string& id) {
    return std::string("link-agent-") +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + id;
  }

  ManualClock clock_;
  FakeNet net_{clock_};
  coordinator::ColdStartPolicy policy_;
  std::string db_;
  std::unique_ptr<coordinator::TraceStore> store_;
  std::unique_ptr<coordinator::CoordinatorCore> core_;
  int starts_ = 0;
};

TEST_F(LinkTest, AgentsRegisterAndHeartbeatAtTheAssignedInterval) {
  for (int i = 0; i < 3; ++i) add("box" + std::to_string(i));
  net_.run_for(500);
  EXPECT_EQ(core_->registry().count(coordinator::Liveness::alive), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(net_.agent(i).core->state(), agent::LinkState::registered);
    EXPECT_EQ(net_.agent(i).core->heartbeat_interval_ms(), 1000);
  }
  const auto before = core_->metrics().messages_in[static_cast<int>(proto::MsgType::heartbeat)];
  net_.run_for(10'000);
  const auto beats =
      core_->metrics().messages_in[static_cast<int>(proto::MsgType::heartbeat)] - before;
  EXPECT_GE(beats, 3 * 9);
  EXPECT_LE(beats, 3 * 11);
}

TEST_F(LinkTest, CrashedAgentIsDeclaredDead) {
  add("a");
  add("b");
  net_.run_for(2000);
  net_.agent(1).crashed = true;  // its last heartbeat was within the last interval
  net_.run_for(1900);            // < 3 intervals of silence
  EXPECT_EQ(core_->registry().find("b")->liveness, coordinator::Liveness::alive);
  net_.run_for(2200);  // > 3 intervals of silence
  EXPECT_EQ(core_->registry().find("b")->liveness, coordinator::Liveness::dead);
  EXPECT_EQ(core_->registry().find("a")->liveness, coordinator::Liveness::alive);
}

TEST_F(LinkTest, AgentDetectsALostLinkAndReconnectsWithBackoff) {
  auto& a = add("a");
  net_.run_for(2000);
  net_.coordinator_down = true;
  net_.run_for(3500);
  EXPECT_TRUE(a.core->state() != agent::LinkState::registered);
  EXPECT_GE(a.core->stats().link_losses, 1);
  net_.coordinator_down = false;
  net_.run_for(20'000);
  EXPECT_EQ(a.core->state(), agent::LinkState::registered);
  EXPECT_EQ(core_->registry().find("a")->liveness, coordinator::Liveness::alive);
  // The second registration of the process was a Reregister.
  EXPECT_GE(core_->metrics().messages_in[static_cast<int>(proto::MsgType::reregister)], 1);
}

TEST_F(LinkTest, CoordinatorRestartLeadsToReregisterWithState) {
  auto& a = add("a");
  ASSERT_TRUE(a.queue->submit({"job1", 20, {{"cpu", 5, 0.1, 1}}}).ok());
  a.core->queue_changed();
  net_.run_for(2000);
  start_coordinator();  // state in memory is gone; the store remains
  EXPECT_EQ(core_->registry().find("a")->liveness, coordinator::Liveness::offline);
  net_.run_for(3000);
  const auto* e = core_->registry().find("a");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->liveness, coordinator::Liveness::alive);
  EXPECT_EQ(e->stored.state.queue.tasks.size(), 1u);  // carried by the Reregister
  EXPECT_EQ(a.core->coordinator_epoch(), "epoch-2");
  EXPECT_EQ(a.core->stats().link_losses, 0);  // no reconnect was needed: not_registered sufficed
}

TEST_F(LinkTest, OutboxResendsUntilAckedAndTheStoreDeduplicates) {
  net_.drop = 0.3;
  net_.duplicate = 0.2;
  net_.max_delay_ms = 400;
  for (int i = 0; i < 3; ++i) add("box" + std::to_string(i));
  net_.run_for(5000);
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 40; ++k) {
      ASSERT_TRUE(
          net_.agent(i)
              .core->submit_trace(trace("box" + std::to_string(i) + "-t" + std::to_string(k)))
              .ok());
    }
  }
  net_.run_for(120'000);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(net_.agent(i).store->depth(), 0) << "agent " << i;
  EXPECT_EQ(store_->counts()->traces, 120);
  EXPECT_GT(core_->metrics().traces_committed, 120);  // resends and duplicates happened
}

TEST_F(LinkTest, EveryAckedTraceSurvivesACoordinatorRestartExactlyOnce) {
  net_.drop = 0.1;
  net_.duplicate = 0.1;
  net_.max_delay_ms = 200;
  for (int i = 0; i < 3; ++i) add("box" + std::to_string(i));
  net_.run_for(3000);
  int submitted = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(
          net_.agent(i)
              .core->submit_trace(trace("b" + std::to_string(i) + "-" + std::to_string(round)))
              .ok());
      ++submitted;
    }
    net_.run_for(300);
    if (round == 10) start_coordinator();  // killed mid-stream
  }
  net_.run_for(60'000);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(net_.agent(i).store->depth(), 0);
  EXPECT_EQ(store_->counts()->traces, submitted);
}

TEST_F(LinkTest, HparamRequestsAreRetriedUntilAnswered) {
  net_.drop = 0.5;
  auto& a = add("a");
  net_.run_for(5000);
  const auto id = a.core->request_hparams(context(2, 1024, 30), 0);
  std::optional<proto::HparamReply> reply;
  for (int i = 0; i < 600 && !reply; ++i) {
    net_.run_for(100);
    reply = a.core->take_hparam_reply(id);
  }
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->policy, "cold-start");
  EXPECT_EQ(a.core->pending_hparam_requests(), 0u);
}

TEST_F(LinkTest, ATraceTheCoordinatorRejectsIsRemovedNotResentForever) {
  auto& a = add("a");
  net_.run_for(1000);
  // Something between agent and coordinator (a version skew, a bug) makes one trace invalid
  // in the coordinator's eyes: it answers bad_field with the trace message's id.
  net_.tamper = [](std::string bytes) {
    auto d = proto::decode_envelope(bytes);
    auto& env = std::get<proto::Envelope>(d);
    if (env.header.type != proto::MsgType::trace) return bytes;
    auto t = proto::decode_body<Trace>(env);
    if (t->trace_id != "poison") return bytes;
    auto j = proto::to_json(*t);
    j["outcome"]["accuracy"] = 2.0;
    std::vector<uint8_t> packed = nlohmann::json::to_msgpack(j);
    return proto::encode_raw(env.header, std::string(packed.begin(), packed.end()));
  };
  ASSERT_TRUE(a.core->submit_trace(trace("poison")).ok());
  ASSERT_TRUE(a.core->submit_trace(trace("fine")).ok());
  net_.run_for(5000);
  EXPECT_EQ(a.store->depth(), 0);
  EXPECT_EQ(a.core->stats().traces_rejected, 1);
  EXPECT_EQ(store_->counts()->traces, 1);
}

TEST_F(LinkTest, ATraceTooLargeForTheLinkLeavesAsAFailedTraceThatSaysSo) {
  auto& a = add("a");
  net_.run_for(1000);
  // A valid trace over the 1 MiB payload limit: 1 024 tasks with a row on each of 16 devices.
  Trace big = trace("huge");
  big.context.source.devices.clear();
  big.context.source.devices.push_back({"cpu", 2, 2048});
  for (int d = 0; d < 15; ++d)
    big.context.source.devices.push_back({"npu" + std::to_string(d), 1, 1024});
  big.context.job.tasks.clear();
  for (int i = 0; i < 1024; ++i) {
    JobTask task{std::string(100, 't') + std::to_string(i), 1000.0, {}};
    for (const auto& d : big.context.source.devices) task.rows.push_back({d.device, 20.5, 0.25, 1});
    big.context.job.tasks.push_back(task);
  }
  big.outcome.latency_ms = 0.5;
  ASSERT_GT(proto::encode(proto::Header{}, big).size(),
            static_cast<std::size_t>(limits::kMaxMessageBytes));
  ASSERT_TRUE(a.core->submit_trace(big).ok());
  net_.run_for(5000);
  EXPECT_EQ(a.store->depth(), 0);  // acked, not resent for ever
  EXPECT_EQ(a.core->stats().traces_too_large, 1);
  auto stored = store_->list_traces({});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  const Trace& t = (*stored)[0].trace;
  EXPECT_EQ(t.trace_id, "huge");
  EXPECT_EQ(t.outcome.status, TraceStatus::failed);
  EXPECT_NE(t.outcome.error.find("over the coordinator's limit of 1048576"), std::string::npos)
      << t.outcome.error;
  EXPECT_TRUE(t.context.job.tasks.empty());  // the part that did not fit
}

}  // namespace
}  // namespace edgenas
