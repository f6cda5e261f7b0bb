#include "agent/core/task_queue.hpp"

#include <gtest/gtest.h>

namespace edgenas::agent {
namespace {

TEST(TaskQueue, SubmitDoneAndRevision) {
  TaskQueue q({"cpu", "npu0"});
  const auto r0 = q.revision();
  ASSERT_TRUE(q.submit({"a", 10, {{"cpu", 5, 1, 1}, {"npu0", 1, 0.1, 1}}}).ok());
  EXPECT_GT(q.revision(), r0);
  EXPECT_EQ(q.matrix().tasks.size(), 1u);
  EXPECT_FALSE(q.submit({"a", 10, {{"cpu", 5, 1, 1}}}).ok());   // duplicate id
  EXPECT_FALSE(q.submit({"b", 10, {{"gpu0", 5, 1, 1}}}).ok());  // no such device here
  EXPECT_FALSE(q.submit({"c", 10, {{"cpu", 5, 1, 1}, {"cpu", 5, 1, 1}}}).ok());
  EXPECT_FALSE(q.submit({"bad id", 10, {{"cpu", 5, 1, 1}}}).ok());
  EXPECT_FALSE(q.submit({"d", 10, {}}).ok());
  const auto r1 = q.revision();
  ASSERT_TRUE(q.done("a").ok());
  EXPECT_GT(q.revision(), r1);
  EXPECT_EQ(q.done("a").error().code, "not_found");
}

}  // namespace
}  // namespace edgenas::agent
