#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "agent/store/agent_store.hpp"

namespace edgenas::agent {
namespace {
using namespace testing_support;

TEST(Outbox, KeepsTracesAcrossReopenUntilAcked) {
  const auto path = temp_db("outbox-reopen");
  {
    auto s = AgentStore::open(path, 100, OutboxFullPolicy::drop_oldest);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->add(trace("t1")).ok());
    ASSERT_TRUE((*s)->add(trace("t2")).ok());
    ASSERT_TRUE((*s)->add(trace("t1")).ok());  // same id: kept once
    EXPECT_EQ((*s)->depth(), 2);
  }
  auto s = AgentStore::open(path, 100, OutboxFullPolicy::drop_oldest);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->depth(), 2);
  auto p = (*s)->pending(10);
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].trace_id, "t1");  // oldest first
  ASSERT_TRUE((*s)->ack({"t1", "unknown"}).ok());
  EXPECT_EQ((*s)->depth(), 1);
  EXPECT_EQ((*s)->pending(10)->at(0).trace_id, "t2");
}

TEST(Outbox, DropOldestAtTheBoundCountsTheLoss) {
  auto s = AgentStore::open(temp_db("outbox-drop"), 3, OutboxFullPolicy::drop_oldest);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*s)->add(trace("t" + std::to_string(i))).ok());
  EXPECT_EQ((*s)->depth(), 3);
  EXPECT_EQ((*s)->dropped(), 2);
  EXPECT_EQ((*s)->pending(10)->at(0).trace_id, "t2");
}

TEST(Outbox, RejectNewAtTheBoundRefusesAndCounts) {
  const auto path = temp_db("outbox-reject");
  {
    auto s = AgentStore::open(path, 2, OutboxFullPolicy::reject_new);
    ASSERT_TRUE((*s)->add(trace("a")).ok());
    ASSERT_TRUE((*s)->add(trace("b")).ok());
    auto r = (*s)->add(trace("c"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "outbox_full");
    EXPECT_EQ((*s)->dropped(), 1);
  }
  auto s = AgentStore::open(path, 2, OutboxFullPolicy::reject_new);
  EXPECT_EQ((*s)->dropped(), 1);  // the count is durable too
}

TEST(Outbox, ARowThatNoLongerDecodesIsQuarantinedNotBlocking) {
  const auto path = temp_db("outbox-poison");
  auto s = AgentStore::open(path, 100, OutboxFullPolicy::drop_oldest);
  ASSERT_TRUE((*s)->add(trace("good1")).ok());
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "INSERT INTO outbox (trace_id, body) VALUES ('rotten', x'c1c1c1')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  ASSERT_TRUE((*s)->add(trace("good2")).ok());
  auto p = (*s)->pending(10);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[1].trace_id, "good2");
  EXPECT_EQ((*s)->quarantined(), 1);
  EXPECT_EQ((*s)->pending(10)->size(), 2u);  // the bad row is gone from the outbox
}

TEST(Outbox, TasksPersist) {
  const auto path = temp_db("outbox-tasks");
  {
    auto s = AgentStore::open(path, 10, OutboxFullPolicy::drop_oldest);
    ASSERT_TRUE((*s)->save_task({"x", 10, {{"cpu", 1, 1, 1}}}).ok());
    ASSERT_TRUE((*s)->save_task({"y", 20, {{"cpu", 1, 1, 1}}}).ok());
    ASSERT_TRUE((*s)->delete_task("x").ok());
  }
  auto s = AgentStore::open(path, 10, OutboxFullPolicy::drop_oldest);
  auto tasks = (*s)->load_tasks();
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].task_id, "y");
}

}  // namespace
}  // namespace edgenas::agent
