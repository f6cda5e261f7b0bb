// The latency model of devices that are not on this machine, and the choice of target device.
#include "common/search/latency_model.hpp"

#include <gtest/gtest.h>

namespace edgenas::search {
namespace {

TEST(LatencyModel, CalibrationRecoversTheLineThroughMeasurements) {
  // 0.05 ms fixed + 2e7 FLOPs per ms.
  std::vector<std::pair<double, double>> pts;
  for (double f : {1e5, 1e6, 5e6, 2e7}) pts.emplace_back(f, 0.05 + f / 2e7);
  auto c = fit_calibration(pts);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->overhead_ms, 0.05, 1e-9);
  EXPECT_NEAR(c->flops_per_ms, 2e7, 1);
  EXPECT_EQ(c->points, 4);
  // A device 6x as fast with 0.3 ms per call.
  const DeviceSpeed npu{"npu0", 6.0, 0.3};
  EXPECT_NEAR(modelled_latency_ms(12'000'000, npu, *c), 0.3 + 12e6 / (6 * 2e7), 1e-9);
}

TEST(LatencyModel, NoiseBelowZeroAndDegenerateInputs) {
  // A negative intercept from noise is clamped; the slope is refitted through the origin.
  auto c = fit_calibration({{1e6, 0.01}, {2e6, 0.1}, {3e6, 0.13}});
  ASSERT_TRUE(c.ok());
  EXPECT_GE(c->overhead_ms, 0);
  EXPECT_GT(c->flops_per_ms, 0);
  EXPECT_FALSE(fit_calibration({{1e6, 0.1}}).ok());
  EXPECT_FALSE(fit_calibration({{1e6, 0.1}, {1e6, 0.2}}).ok());              // one size only
  EXPECT_FALSE(fit_calibration({{1e6, 0.3}, {2e6, 0.2}, {3e6, 0.1}}).ok());  // falls with FLOPs
}

Context box(int npu_free) {
  Context c;
  c.source.devices = {{"cpu", 4, 4000}, {"npu0", npu_free, 4000}, {"gpu0", 1, 1000}};
  return c;
}

TEST(LatencyModel, AutoTargetFollowsTheTightestTasksFastestUsableDevice) {
  Context c = box(2);
  c.job.tasks = {{"slow", 500, {{"cpu", 10, 1, 1}, {"gpu0", 2, 1, 1}}},
                 {"tight", 20, {{"cpu", 30, 1, 1}, {"npu0", 4, 1, 1}}}};
  EXPECT_EQ(choose_target_device(c, {"cpu", "npu0", "gpu0"}), "npu0");
  EXPECT_EQ(choose_target_device(c, {"cpu", "gpu0"}), "cpu");  // no model for the NPU
  c.job.tasks = {{"elsewhere", 20, {{"cpu", 30, 1, 1}, {"npu7", 4, 1, 1}}}};
  EXPECT_EQ(choose_target_device(c, {"cpu", "npu7"}), "cpu");  // not on this box
}

TEST(LatencyModel, AutoTargetKeepsABusyAcceleratorButNotAFaultyOne) {
  // The tightest task's own node fills the NPU: the model is for that task, so it still runs there.
  Context c = box(0);
  c.job.tasks = {{"tight", 20, {{"cpu", 30, 1, 1}, {"npu0", 4, 1, 1}}}};
  EXPECT_EQ(choose_target_device(c, {"cpu", "npu0"}), "npu0");
  c.source.devices[1].unhealthy = true;
  EXPECT_EQ(choose_target_device(c, {"cpu", "npu0"}), "cpu");
}

TEST(LatencyModel, AutoTargetWithoutAQueueTakesAFreeHealthyAccelerator) {
  Context c = box(0);
  EXPECT_EQ(choose_target_device(c, {"cpu", "npu0", "gpu0"}), "gpu0");  // the NPU has no free node
  c.source.devices[2].unhealthy = true;
  EXPECT_EQ(choose_target_device(c, {"cpu", "npu0", "gpu0"}), "cpu");
  EXPECT_EQ(choose_target_device(box(1), {"cpu"}), "cpu");
}

}  // namespace
}  // namespace edgenas::search
