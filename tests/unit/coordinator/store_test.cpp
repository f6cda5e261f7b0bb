#include "coordinator/store/trace_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "../test_support.hpp"

namespace edgenas::coordinator {
namespace {
using namespace testing_support;

TEST(TraceStore, BatchesAreIdempotentOnTraceId) {
  auto store = TraceStore::open(temp_db("store-idem"));
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->write_batch({{"a1", 1, trace("t1")}, {"a1", 2, trace("t2")}}, {}, {}).ok());
  ASSERT_TRUE((*store)->write_batch({{"a1", 3, trace("t2")}, {"a1", 4, trace("t3")}}, {}, {}).ok());
  EXPECT_EQ((*store)->counts()->traces, 3);
  EXPECT_EQ((*store)->trace_count().value(), 3);  // the skipped resend took no rowid
  auto rows = (*store)->list_traces({"", 0, "", 100});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1].received_ms, 2);  // the first copy of t2 is kept
  EXPECT_EQ((*rows)[1].trace.context.job.tasks[0].task_id, "task-a");
}

TEST(TraceStore, FiltersAndPagesByCursor) {
  auto store = TraceStore::open(temp_db("store-page"));
  ASSERT_TRUE(store.ok());
  std::vector<TraceRecord> batch;
  for (int i = 0; i < 10; ++i)
    batch.push_back({i % 2 ? "odd" : "even", 100 + i / 3, trace("t" + std::to_string(i))});
  ASSERT_TRUE((*store)->write_batch(batch, {}, {}).ok());
  EXPECT_EQ((*store)->list_traces({"odd", 0, "", 100})->size(), 5u);
  EXPECT_EQ((*store)->list_traces({"", 102, "", 100})->size(), 4u);
  // Page through 3 at a time with the (received_ms, trace_id) cursor: every row exactly once.
  std::set<std::string> seen;
  TraceFilter f{"", 0, "", 3};
  for (int page = 0; page < 10; ++page) {
    auto rows = (*store)->list_traces(f);
    ASSERT_TRUE(rows.ok());
    if (rows->empty()) break;
    for (const auto& r : *rows) EXPECT_TRUE(seen.insert(r.trace.trace_id).second);
    f.since_ms = rows->back().received_ms;
    f.after_trace_id = rows->back().trace.trace_id;
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST(TraceStore, AgentsAndRepliesSurviveReopen) {
  const auto path = temp_db("store-reopen");
  {
    auto store = TraceStore::open(path);
    ASSERT_TRUE(store.ok());
    StoredAgent a;
    a.agent_id = "box1";
    a.registration.hostname = "h";
    a.registration.devices = {{"cpu", 4, 1000, "procfs"}};
    a.state.queue = context().job;
    a.registrations = 2;
    proto::HparamReply r{"req1", {2, 8, 3, Loss::focal, 5}, "cold-start", 0, false, ""};
    ASSERT_TRUE((*store)->write_batch({}, {{"box1", 10, context(), r}}, {a}).ok());
  }
  auto store = TraceStore::open(path);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->schema_version(), TraceStore::kSchemaVersion);
  auto agents = (*store)->load_agents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ((*agents)[0].registrations, 2);
  EXPECT_EQ((*agents)[0].state.queue.tasks.size(), 1u);
  EXPECT_EQ((*store)->counts()->replies, 1);
}

TEST(TraceStore, TracesWithMeasuredLatenciesAreFoundAmongTheOthers) {
  auto store = TraceStore::open(temp_db("store-latency"));
  ASSERT_TRUE(store.ok());
  Trace measured = trace("m1");
  measured.outcome.measured_latency = LatencyMeasurements{
      "cpu", "ARM Cortex-A55", "libtorch 1.13.1", 1, "cnn", {{"c8k3s1-h0", 0.5}}};
  ASSERT_TRUE(
      (*store)
          ->write_batch({{"a", 1, trace("t1")}, {"a", 2, measured}, {"a", 3, trace("t3")}}, {}, {})
          .ok());
  auto rows = (*store)->recent_latency_traces(10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_TRUE((*rows)[0].trace.outcome.measured_latency.has_value());
  EXPECT_EQ((*rows)[0].trace.outcome.measured_latency->samples[0].arch, "c8k3s1-h0");
  EXPECT_EQ((*store)->recent_traces(10)->size(), 3u);
}

TEST(TraceStore, CorruptDatabaseIsAClearError) {
  const auto path = temp_db("store-corrupt");
  std::ofstream(path) << "this is not an sqlite database, it is a text file";
  auto store = TraceStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find(path), std::string::npos);
}

}  // namespace
}  // namespace edgenas::coordinator
