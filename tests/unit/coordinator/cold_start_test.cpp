#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "coordinator/core/hparam_service.hpp"

namespace edgenas::coordinator {
namespace {
using namespace testing_support;

Hyperparameters ask(const Context& c, const std::string& req = "r") {
  ColdStartPolicy p;
  return p.choose("agent", proto::HparamRequest{req, c}).hparams;
}

TEST(ColdStart, FewerResourcesAndTighterLatencyGiveASmallerSpace) {
  auto big = ask(context(16, 8192, 1000, 2));
  auto mid = ask(context(4, 2048, 100));
  auto tight = ask(context(4, 2048, 1));  // 1 ms: a third of the latency range
  auto starved = ask(context(1, 256, 100));
  EXPECT_GT(big.layers, mid.layers);
  EXPECT_GE(big.filters, mid.filters);
  EXPECT_GT(mid.layers, tight.layers);
  EXPECT_GT(mid.layers, starved.layers);
  EXPECT_LE(tight.filters, mid.filters);
}

TEST(ColdStart, AlwaysInsideTheHyperparameterBounds) {
  for (int cpu : {0, 1, 2, 8, 64, 4096}) {
    for (int64_t mem : {0, 100, 4096, 1 << 20}) {
      for (double t : {0.001, 1.0, 50.0, 1e6}) {
        auto h = ask(context(cpu, mem, t));
        EXPECT_GE(h.layers, hp::kMinLayers);
        EXPECT_LE(h.layers, hp::kMaxLayers);
        EXPECT_GE(h.filters, hp::kMinFilters);
        EXPECT_LE(h.filters, hp::kMaxFilters);
        EXPECT_TRUE(h.validate().ok());
      }
    }
  }
}

TEST(ColdStart, SeedIsStablePerRequestAndDiffersAcrossRequests) {
  auto c = context();
  EXPECT_EQ(ask(c, "r1").seed, ask(c, "r1").seed);
  EXPECT_NE(ask(c, "r1").seed, ask(c, "r2").seed);
}

TEST(ColdStart, ManyClassesUseLabelSmoothing) {
  auto c = context();
  EXPECT_EQ(ask(c).loss, Loss::cross_entropy);
  c.dataset = DatasetShape{100, 32, 32, 3, 50000};
  EXPECT_EQ(ask(c).loss, Loss::label_smoothing_ce);
}

TEST(ColdStart, EmptyQueueUsesTheDefaultLatency) {
  auto c = context();
  c.job.tasks.clear();
  auto s = ColdStartPolicy::score(c);
  EXPECT_DOUBLE_EQ(s.latency, 1.0);  // T defaults to 1 s
}

}  // namespace
}  // namespace edgenas::coordinator
