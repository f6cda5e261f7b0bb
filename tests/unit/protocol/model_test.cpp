#include "common/model/model.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace edgenas {
namespace {

TEST(Model, DeviceNames) {
  EXPECT_TRUE(valid_device_name("cpu"));
  EXPECT_TRUE(valid_device_name("npu0"));
  EXPECT_TRUE(valid_device_name("gpu12"));
  EXPECT_FALSE(valid_device_name("npu"));
  EXPECT_FALSE(valid_device_name("npu123"));
  EXPECT_FALSE(valid_device_name("tpu0"));
  EXPECT_FALSE(valid_device_name("npux"));
}

TEST(Model, LossNamesRoundTrip) {
  for (Loss l : kAllLosses) EXPECT_EQ(loss_from_string(to_string(l)), l);
  EXPECT_FALSE(loss_from_string("mse").has_value());
}

TEST(Model, ContextValidation) {
  Context c;
  c.source.devices = {{"cpu", 2, 100}};
  EXPECT_TRUE(c.validate().ok());
  EXPECT_FALSE(c.min_latency_req_ms().has_value());
  c.job.tasks = {{"a", 30, {{"cpu", 1, 1, 1}}}, {"b", 10, {{"cpu", 1, 1, 1}}}};
  EXPECT_DOUBLE_EQ(*c.min_latency_req_ms(), 10);
  c.source.devices.push_back({"cpu", 1, 1});
  EXPECT_FALSE(c.validate().ok());  // cpu twice
  c.source.devices = {{"npu0", 2, 100}};
  EXPECT_FALSE(c.validate().ok());  // cpu must come first
}

TEST(Model, FailedTraceMustSayWhy) {
  Trace t;
  t.trace_id = "x";
  t.policy = "manual";
  t.context.source.devices = {{"cpu", 1, 1}};
  t.outcome.status = TraceStatus::failed;
  EXPECT_FALSE(t.validate().ok());
  t.outcome.error = "search process was killed (OOM)";
  EXPECT_TRUE(t.validate().ok());
}

TEST(Model, ProgressKeepsImprovementsAndThinsToTheLimit) {
  EXPECT_FALSE(make_progress({}, 10).has_value());
  EXPECT_FALSE(make_progress({{NAN, 0.5}, {1, INFINITY}}, 10).has_value());
  // Non-improving and non-finite points go; rewards are clamped; the total covers the points.
  auto p = make_progress({{1, 0.2}, {2, 0.2}, {3, NAN}, {4, 0.5}, {5, 0.4}, {6, 1.5}}, 3);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->points.size(), 3u);
  EXPECT_DOUBLE_EQ(p->points[1].compute_s, 4);
  EXPECT_DOUBLE_EQ(p->points[2].reward, 1.0);
  EXPECT_DOUBLE_EQ(p->compute_s, 6);  // 3 was less than the last point's compute
  EXPECT_TRUE(p->validate().ok());
  EXPECT_DOUBLE_EQ(p->reward_at(0.5), 0);
  EXPECT_DOUBLE_EQ(p->reward_at(4.5), 0.5);
  EXPECT_DOUBLE_EQ(p->reward_at(100), 1.0);

  std::vector<ProgressPoint> many;
  for (int i = 0; i < 1000; ++i) many.push_back({i * 2.0, i / 1000.0});
  auto thin = make_progress(many, 5000);
  ASSERT_TRUE(thin.has_value());
  ASSERT_EQ(thin->points.size(), limits::kMaxProgressPoints);
  EXPECT_DOUBLE_EQ(thin->points.front().compute_s, 0);
  EXPECT_DOUBLE_EQ(thin->points.back().compute_s, 1998);  // the last point stays
  EXPECT_DOUBLE_EQ(thin->compute_s, 5000);
  EXPECT_TRUE(thin->validate().ok());

  ProgressCurve bad{10, {{1, 0.5}, {2, 0.4}}};
  EXPECT_FALSE(bad.validate().ok());  // the best reward cannot fall
  bad = ProgressCurve{1, {{1, 0.5}, {2, 0.6}}};
  EXPECT_FALSE(bad.validate().ok());  // the total must cover the points
}

}  // namespace
}  // namespace edgenas
