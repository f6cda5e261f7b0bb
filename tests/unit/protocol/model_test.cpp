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

TEST(Model, ParetoKeepsTheNonDominatedFastestFirstAndThinsToTheLimit) {
  EXPECT_FALSE(make_pareto({}).has_value());
  EXPECT_FALSE(make_pareto({{"c8k3s1-h0", NAN, 1}, {"bad key!", 0.5, 1}}).has_value());
  // (0.7, 3 ms) is beaten by (0.8, 2 ms); at equal latency only the more accurate stays.
  auto p = make_pareto({{"a", 0.7, 3},
                        {"b", 0.8, 2},
                        {"c", 0.6, 1},
                        {"d", 0.9, 5},
                        {"e", 0.85, 5},
                        {"f", 0.5, INFINITY},
                        {"g", 1.5, 9}});
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->points.size(), 4u);
  EXPECT_EQ(p->points[0].arch, "c");
  EXPECT_EQ(p->points[1].arch, "b");
  EXPECT_EQ(p->points[2].arch, "d");
  EXPECT_EQ(p->points[3].arch, "g");
  EXPECT_DOUBLE_EQ(p->points[3].accuracy, 1.0);  // clamped
  EXPECT_TRUE(p->validate().ok());

  std::vector<ParetoPoint> many;
  for (int i = 0; i < 1000; ++i) many.push_back({"c8k3s1-h0", i / 1000.0, i * 0.5});
  auto thin = make_pareto(many);
  ASSERT_TRUE(thin.has_value());
  ASSERT_EQ(thin->points.size(), limits::kMaxParetoPoints);
  EXPECT_DOUBLE_EQ(thin->points.front().latency_ms, 0);          // the fastest stays
  EXPECT_DOUBLE_EQ(thin->points.back().accuracy, 999 / 1000.0);  // and the most accurate
  EXPECT_TRUE(thin->validate().ok());

  ParetoFront bad{{{"a", 0.8, 1}, {"b", 0.8, 2}}};
  EXPECT_FALSE(bad.validate().ok());  // slower but no more accurate
  bad = ParetoFront{{{"a", 0.8, 2}, {"b", 0.9, 1}}};
  EXPECT_FALSE(bad.validate().ok());  // not fastest first
}

}  // namespace
}  // namespace edgenas
