// The NAS-Bench-201 cell space: the benchmark's string form both ways, its index, parameters and
// FLOPs counted as the benchmark counts them, and the bounds the method's hyperparameters set.
#include <gtest/gtest.h>

#include <set>

#include "common/search/nb201_space.hpp"
#include "common/search/strategy.hpp"

namespace edgenas::search {
namespace {

// Rows of ../shared/data/nb201/nb201_latency.csv (NAS-Bench-201's own params and FLOPs).
struct Known {
  const char* arch;
  double params_m, flops_m;
};
constexpr Known kKnown[] = {
    {"|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~"
     "2|",
     0.129306, 15.6474},
    {"|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~"
     "2|",
     0.802426, 113.951},
    {"|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~"
     "2|",
     0.559386, 78.5619},
};

TEST(Nb201Space, CountsParametersAndFlopsAsTheBenchmark) {
  for (const auto& k : kKnown) {
    const auto c = Nb201Cell::from_key(k.arch);
    ASSERT_TRUE(c) << k.arch;
    EXPECT_EQ(c->key(), k.arch);
    const auto cost = nb201_cost(*c);
    EXPECT_NEAR(cost.params_m, k.params_m, 1e-6) << k.arch;
    EXPECT_NEAR(cost.flops_m, k.flops_m, 1e-3) << k.arch;
  }
  // The benchmark's extremes: every edge none, every edge a 3x3 convolution (index 333333 in
  // base 5); pooling is not counted, so all-pool costs what all-none does.
  EXPECT_NEAR(nb201_cost(Nb201Cell::at(0)).flops_m, 7.78305, 1e-4);
  EXPECT_NEAR(nb201_cost(Nb201Cell::at(3 * 3'906)).flops_m, 220.12, 1e-2);
  EXPECT_NEAR(nb201_cost(Nb201Cell::at(3 * 3'906)).params_m, 1.53155, 1e-5);
  EXPECT_NEAR(nb201_cost(Nb201Cell::at(15'624)).flops_m, 7.78305, 1e-4);
}

TEST(Nb201Space, StringsAndIndicesRoundTripAndBadStringsAreRefused) {
  std::set<std::string> keys;
  for (int i = 0; i < 15'625; ++i) {
    const auto c = Nb201Cell::at(i);
    EXPECT_EQ(c.index(), i);
    const auto back = Nb201Cell::from_key(c.key());
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, c);
    keys.insert(c.key());
  }
  EXPECT_EQ(keys.size(), 15'625u);
  for (const char* bad : {"", "|none~0|", "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
                          "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                          "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|x"})
    EXPECT_FALSE(Nb201Cell::from_key(bad)) << bad;
}

TEST(Nb201Space, HyperparametersBoundConvolutionEdgesAndKernel) {
  Hyperparameters hp;
  hp.layers = 3, hp.kernel = 3;
  EXPECT_EQ(Nb201Bounds::from(hp), (Nb201Bounds{2, 1}));
  hp.layers = 10, hp.kernel = 7;
  EXPECT_EQ(Nb201Bounds::from(hp), (Nb201Bounds{6, 3}));
  hp.layers = 1, hp.kernel = 5;
  EXPECT_EQ(Nb201Bounds::from(hp), (Nb201Bounds{0, 3}));
  EXPECT_EQ(Nb201Space(Nb201Bounds{6, 3}).size(), 15'625);
  EXPECT_EQ(Nb201Space(Nb201Bounds{0, 3}).size(), 729);    // none, skip, pool on every edge
  EXPECT_EQ(Nb201Space(Nb201Bounds{6, 1}).size(), 4'096);  // no 3x3 convolution
  const Nb201Space space(Nb201Bounds{2, 3});
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    const auto c = space.sample(rng);
    ASSERT_TRUE(space.contains(c));
    const auto m = space.mutate(c, rng);
    ASSERT_TRUE(space.contains(m));
    int changed = 0;
    for (int e = 0; e < kNb201Edges; ++e) changed += c.ops[e] != m.ops[e];
    EXPECT_EQ(changed, 1);
  }
}

TEST(Nb201Space, TheEncodingIsOneHotPerEdge) {
  const auto c = Nb201Cell::from_key(kKnown[1].arch);
  const auto v = Nb201Space::encode(*c);
  ASSERT_EQ(v.size(), 30u);
  float sum = 0;
  for (float x : v) sum += x;
  EXPECT_EQ(sum, 6.0f);
  EXPECT_EQ(v[0 * kNb201Ops + static_cast<int>(Nb201Op::nor_conv_3x3)], 1.0f);
  EXPECT_EQ(v[2 * kNb201Ops + static_cast<int>(Nb201Op::avg_pool_3x3)], 1.0f);
}

TEST(Nb201Space, TheSharedStrategiesSearchIt) {
  const Nb201Space space(Nb201Bounds{4, 3});
  auto s = make_strategy("evolution", space, 3, {1, 1.0});
  ASSERT_TRUE(s);
  for (int i = 0; i < 40; ++i) {
    auto t = s->next();
    ASSERT_TRUE(t);
    EXPECT_TRUE(space.contains(t->spec));
    BasicTrialResult<Nb201Cell> r{*t, {}, static_cast<double>(t->spec.conv_edges()), 0};
    s->report(r);
  }
}

}  // namespace
}  // namespace edgenas::search
