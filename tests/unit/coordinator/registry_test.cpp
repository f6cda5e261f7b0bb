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

}  // namespace
}  // namespace edgenas::coordinator
