#pragma once
// Builders shared by the unit tests.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/model/model.hpp"

namespace edgenas::testing_support {

inline std::string temp_db(const std::string& name) {
  std::string p = ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
  return p;
}

inline Context context(int cpu_free = 2, int64_t mem_mb = 2048, double t_ms = 50,
                       int npu_free = -1) {
  Context c;
  c.source.devices.push_back({"cpu", cpu_free, mem_mb});
  if (npu_free >= 0) c.source.devices.push_back({"npu0", npu_free, 4096});
  c.source.power_w = 10;
  c.source.window_ms = 5000;
  c.job.tasks.push_back({"task-a", t_ms, {{"cpu", 20, 0.5, 1}}});
  return c;
}

inline Trace trace(const std::string& id, double accuracy = 0.99) {
  Trace t;
  t.trace_id = id;
  t.created_ms = 1700000000000;
  t.context = context();
  t.hparams = {4, 32, 3, Loss::cross_entropy, 1};
  t.policy = "cold-start";
  t.outcome.accuracy = accuracy;
  t.outcome.latency_ms = 0.9;
  t.outcome.met_latency = true;
  t.outcome.trials = 10;
  return t;
}

}  // namespace edgenas::testing_support
