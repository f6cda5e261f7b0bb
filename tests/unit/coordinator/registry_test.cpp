#include "coordinator/core/registry.hpp"

#include <gtest/gtest.h>

namespace edgenas::coordinator {
namespace {

proto::Register reg() {
  proto::Register r;
  r.hostname = "h";
  r.devices = {{"cpu", 4, 1000, "procfs"}};
  return r;
}

TEST(Registry, AgentDiesAfterMissedHeartbeatsAndRevives) {
  ManualClock clock;
  Registry r(clock, 1000, 3);
  EXPECT_EQ(r.on_register("a", "route1", reg()), Admission::new_agent);
  clock.advance(3000);
  EXPECT_TRUE(r.sweep().empty());  // exactly at the limit: still alive
  clock.advance(1);
  EXPECT_EQ(r.sweep(), std::vector<std::string>{"a"});
  EXPECT_EQ(r.count(Liveness::dead), 1);
  EXPECT_TRUE(r.sweep().empty());  // reported once
  AgentEntry* e = r.session("a");
  ASSERT_NE(e, nullptr);
  r.seen(*e, "route2");
  EXPECT_EQ(r.count(Liveness::alive), 1);
  EXPECT_EQ(r.find("a")->routing_id, "route2");
}

TEST(Registry, ASweepInStepsVisitsEveryAgentOnceAndCountsStayExact) {
  ManualClock clock;
  Registry r(clock, 1000, 3);
  for (const char* id : {"a", "b", "c", "d", "e"}) r.on_register(id, id, reg());
  clock.advance(3001);
  r.seen(*r.session("c"), "c");  // c spoke in time
  // Steps of two go on where the last one stopped and wrap around: a b | d e (c alive) | -.
  EXPECT_EQ(r.sweep(2), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.count(Liveness::dead), 2);
  EXPECT_EQ(r.count(Liveness::alive), 3);
  EXPECT_EQ(r.sweep(2), (std::vector<std::string>{"d"}));  // c, d
  EXPECT_EQ(r.sweep(2), (std::vector<std::string>{"e"}));  // e, then a again (already dead)
  EXPECT_EQ(r.count(Liveness::dead), 4);
  EXPECT_EQ(r.count(Liveness::alive) + r.count(Liveness::dead) + r.count(Liveness::offline), 5);
  // A write-back covers each agent once, from wherever the cursor is.
  while (r.has_dirty()) (void)r.take_dirty(100);
  for (const char* id : {"a", "b", "c", "d", "e"}) r.session(id)->stale = true;
  r.begin_write_back();
  (void)r.sweep(3);
  EXPECT_EQ(r.take_dirty(100).size(), 3u);
  (void)r.sweep(100);  // capped at one pass
  EXPECT_EQ(r.take_dirty(100).size(), 2u);
  (void)r.sweep(100);
  EXPECT_FALSE(r.has_dirty());  // the write-back ended with its pass
}

TEST(Registry, LoadedAgentsAreOfflineUntilTheyReregister) {
  ManualClock clock;
  Registry r(clock, 1000, 3);
  StoredAgent s;
  s.agent_id = "a";
  s.registrations = 4;
  s.first_seen_ms = 42;
  r.load({s});
  EXPECT_EQ(r.count(Liveness::offline), 1);
  EXPECT_EQ(r.session("a"), nullptr);
  proto::Reregister rr{reg(), {}};
  rr.state.queue.tasks.push_back({"t", 10, {{"cpu", 1, 1, 1}}});
  EXPECT_EQ(r.on_reregister("a", "route", rr), Admission::restored);
  ASSERT_NE(r.session("a"), nullptr);
  EXPECT_EQ(r.find("a")->stored.registrations, 5);
  EXPECT_EQ(r.find("a")->stored.first_seen_ms, 42);             // history kept
  EXPECT_EQ(r.find("a")->stored.state.queue.tasks.size(), 1u);  // state restored
}

TEST(Registry, DirtyRowsAreBoundedPerTake) {
  ManualClock clock;
  Registry r(clock, 1000, 3);
  for (int i = 0; i < 10; ++i) r.on_register("a" + std::to_string(i), "x", reg());
  EXPECT_EQ(r.take_dirty(4).size(), 4u);
  EXPECT_EQ(r.take_dirty(100).size(), 6u);
  EXPECT_TRUE(r.take_dirty(100).empty());
}

// A box's Source and Job over time: one sample a step from its heartbeats, the last hour kept,
// oldest first.
TEST(StateHistory, SamplesOnceAStepAndKeepsTheLastHour) {
  proto::AgentState st;
  st.source.devices = {{"npu0", 2, 512}, {"cpu", 3, 900}};
  st.queue.tasks.push_back({"a", 40, {{"cpu", 1, 1, 1}}});
  st.queue.tasks.push_back({"b", 25.5, {{"cpu", 1, 1, 1}}});
  StateHistory h;
  EXPECT_TRUE(h.samples().empty());
  h.record(1'000, st);
  h.record(1'000 + StateHistory::kStepMs - 1, st);  // within the step: not sampled
  ASSERT_EQ(h.samples().size(), 1u);
  const auto s = h.samples()[0];
  EXPECT_EQ(s.wall_ms, 1'000);
  EXPECT_EQ(s.cpu_free_nodes, 3);  // the CPU's, not the first device's
  EXPECT_EQ(s.cpu_free_memory_mb, 900);
  EXPECT_EQ(s.queued_tasks, 2);
  EXPECT_FLOAT_EQ(s.tightest_t_ms, 25.5f);
  for (int i = 1; i <= 70; ++i) {
    st.source.devices[1].free_nodes = i;
    h.record(1'000 + i * StateHistory::kStepMs, st);
  }
  const auto all = h.samples();
  ASSERT_EQ(all.size(), StateHistory::kCapacity);
  EXPECT_EQ(all.front().cpu_free_nodes, 70 - static_cast<int>(StateHistory::kCapacity) + 1);
  EXPECT_EQ(all.back().cpu_free_nodes, 70);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].wall_ms, all[i - 1].wall_ms);
  h.record(5, st);  // the wall clock went back: sampled, not stuck until it catches up
  EXPECT_EQ(h.samples().back().wall_ms, 5);
}

}  // namespace
}  // namespace edgenas::coordinator
