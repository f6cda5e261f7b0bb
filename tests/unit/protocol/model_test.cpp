#include "common/model/model.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace edgenas
