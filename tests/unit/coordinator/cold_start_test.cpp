#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "coordinator/core/cold_start_policy.hpp"

namespace edgenas::coordinator {
namespace {
using namespace testing_support;

Hyperparameters ask(const Context& c, const std::string& req = "r") {
  ColdStartPolicy p;
  return p.choose("agent", proto::HparamRequest{req, c}).hparams;
}

int64_t typical(const Hyperparameters& h, const Context& c) {
  return ColdStartPolicy::typical_flops(h, c);
}

TEST(ColdStart, TighterLatencyGivesASmallerSpace) {
  const auto loose = ask(context(4, 2048, 1000)), mid = ask(context(4, 2048, 10)),
             tight = ask(context(4, 2048, 0.5));
  const auto c = context();
  EXPECT_GT(typical(loose, c), typical(mid, c));
  EXPECT_GT(typical(mid, c), typical(tight, c));
  // A second of latency allows the largest space there is.
  EXPECT_EQ(loose.layers, hp::kMaxLayers);
  EXPECT_EQ(loose.filters, 256);
}

// Busy cores mean fewer workers for the search, not a space that cannot learn the task (the old
// rule gave a box with no free core 1 layer of 8 filters).
TEST(ColdStart, BusyCoresDoNotShrinkTheSpace) {
  for (double t : {1.0, 5.0, 50.0}) {
    const auto idle = ask(context(8, 4096, t)), busy = ask(context(0, 256, t));
    EXPECT_EQ(idle.layers, busy.layers) << t;
    EXPECT_EQ(idle.filters, busy.filters) << t;
    EXPECT_EQ(idle.kernel, busy.kernel) << t;
  }
  EXPECT_GE(ask(context(0, 256, 1)).layers, 3);  // T = 1 ms on a slow core still allows depth
}

// The answer is the space with the most work in its typical network that still fits T under the
// rule's latency model: no space of more typical FLOPs fits.
TEST(ColdStart, TheTypicalNetworkFitsTAndNoLargerOneDoes) {
  for (double t : {0.2, 0.5, 1.0, 2.0, 5.0, 20.0, 100.0}) {
    const Context c = context(2, 2048, t);
    const auto a = ColdStartPolicy::largest_space(c);
    EXPECT_EQ(a.device, "cpu");
    const auto m = ColdStartPolicy::device_model("cpu");
    auto ms = [&](int64_t flops) {
      return m.overhead_ms + static_cast<double>(flops) / m.flops_per_ms;
    };
    EXPECT_NEAR(a.typical_ms, ms(a.typical_flops), 1e-9);
    EXPECT_LE(a.typical_ms, t) << t;
    for (int l = hp::kMinLayers; l <= hp::kMaxLayers; ++l) {
      for (int f : ColdStartPolicy::kFilterLadder) {
        for (int k : ColdStartPolicy::kKernels) {
          const int64_t flops = typical({l, f, k, Loss::cross_entropy, 0}, c);
          if (flops > a.typical_flops) {
            EXPECT_GT(ms(flops), t) << l << "/" << f << "/" << k;
          }
        }
      }
    }
  }
}

// The search targets the NPU when the tightest task runs fastest there; the rule models that
// device, which allows a larger space for the same T.
TEST(ColdStart, AnAcceleratorAllowsALargerSpaceAtTheSameT) {
  Context cpu_only = context(2, 2048, 2);
  Context with_npu = context(2, 2048, 2, 2);
  with_npu.job.tasks[0].rows.push_back({"npu0", 5, 0.2, 1});
  const auto a = ColdStartPolicy::largest_space(with_npu);
  EXPECT_EQ(a.device, "npu0");
  EXPECT_GT(a.typical_flops, ColdStartPolicy::largest_space(cpu_only).typical_flops);
  const auto reply = ColdStartPolicy().choose("agent", proto::HparamRequest{"r", with_npu});
  EXPECT_NE(reply.reason.find("on npu0 (modelled)"), std::string::npos) << reply.reason;
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
  EXPECT_DOUBLE_EQ(ColdStartPolicy::latency_score(c), 1.0);  // T defaults to 1 s
  EXPECT_DOUBLE_EQ(ColdStartPolicy::largest_space(c).t_ms, ColdStartPolicy::kDefaultLatencyReqMs);
}

}  // namespace
}  // namespace edgenas::coordinator
