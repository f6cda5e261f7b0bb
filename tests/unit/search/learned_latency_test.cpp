// The layer-list encoding every space lowers to, and the latency models learned from it.
#include "common/search/learned_latency.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>

#include "common/search/layers.hpp"
#include "common/search/nb201_space.hpp"
#include "common/search/space.hpp"
#include "common/util/rank_stats.hpp"

namespace edgenas::search {
namespace {

int64_t sum(const LayerList& layers, int64_t Layer::*field, bool compute_only) {
  int64_t total = 0;
  for (const auto& l : layers)
    if (!compute_only || l.op == LayerOp::conv || l.op == LayerOp::linear) total += l.*field;
  return total;
}

TEST(Layers, TheMeterSpaceLowersToItsOwnCost) {
  const InputShape in{1, 28, 28, 10};
  for (const char* key : {"c16k3s2b-c32k5s1brh-h64", "c8k1s1-c8k3s1r-c64k7s2bh-h0",
                          "c4k3s1b-c4k3s1br-c4k3s1br-c128k3s2-h128"}) {
    const auto spec = ArchSpec::from_key(key);
    ASSERT_TRUE(spec) << key;
    const auto layers = lower(*spec, in);
    const auto cost = cost_of(*spec, in);
    EXPECT_EQ(sum(layers, &Layer::flops, true), cost.flops) << key;
    EXPECT_EQ(sum(layers, &Layer::params, false), cost.params) << key;
    EXPECT_EQ(model_flops(layers), static_cast<double>(cost.flops)) << key;
    for (const auto& l : layers) EXPECT_GT(l.bytes, 0) << key << " " << to_string(l.op);
  }
  // A residual adds a sum only where the shapes allow one.
  const auto layers = lower(*ArchSpec::from_key("c4k3s1r-c8k3s1r-c8k3s2r-h0"), in);
  EXPECT_EQ(std::count_if(layers.begin(), layers.end(),
                          [](const Layer& l) { return l.op == LayerOp::add; }),
            0);
  const auto with = lower(*ArchSpec::from_key("c4k3s1-c4k3s1r-h0"), in);
  EXPECT_EQ(with[2].op, LayerOp::add);
  EXPECT_EQ(with[2].inputs, 2);
}

TEST(Layers, NasBench201LowersToItsCountedFlops) {
  for (int i : {0, 1, 777, 9999, 15'624}) {
    const auto cell = Nb201Cell::at(i);
    const auto layers = lower(cell);
    // NAS-Bench-201 counts multiply-accumulates and adds the classifier's bias once per class.
    EXPECT_NEAR(model_flops(layers), 2e6 * nb201_cost(cell).flops_m - 2 * 10, 1e-3) << cell.key();
    // Stem, 2 reductions of 5 layers, 15 cells of 6 edges and 2 sums, pooling, classifier.
    EXPECT_EQ(layers.size(), 1u + 2 * 5 + 15 * 8 + 2) << cell.key();
  }
}

TEST(Layers, ANetworkWhoseCellPassesNoSignalIsDeadThroughout) {
  // Node 3 is reached only from node 2, which nothing reaches: the output is a constant.
  const auto dead =
      Nb201Cell::from_key("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|");
  ASSERT_TRUE(dead);
  for (const auto& l : lower(*dead)) EXPECT_FALSE(l.live) << to_string(l.op);
  // A 3x3 convolution into node 1 that reaches nothing is dead; the rest of the network lives.
  const auto side = Nb201Cell::from_key(
      "|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|");
  ASSERT_TRUE(side);
  const auto layers = lower(*side);
  EXPECT_TRUE(layers.front().live);  // the stem
  EXPECT_EQ(layers[1].kernel, 3);    // the first cell's edge 1←0
  EXPECT_FALSE(layers[1].live);
  EXPECT_TRUE(layers[2].live);  // 2←0, the pooling
  EXPECT_TRUE(layers.back().live);
}

// A device whose latency is exactly additive in what the layers do, and one that is not FLOPs.
double additive_device(const std::vector<double>& f) {
  double ms = 0.4;
  for (std::size_t j = 0; j < f.size(); ++j)
    ms += (0.002 + 0.0005 * static_cast<double>(j % 7)) * f[j];
  return ms;
}
double pooling_bound_device(const LayerList& layers) {
  double ms = 1;
  for (const auto& l : layers) ms += l.op == LayerOp::avg_pool ? 0.05 : l.flops * 1e-9;
  return ms;
}

struct Cells {
  std::vector<LayerList> layers;
  std::vector<std::vector<double>> features;
  FeatureScale scale;
};
const Cells& cells() {
  static const Cells c = [] {
    Cells x;
    for (int i = 0; i < 15'625; i += 5) {
      x.layers.push_back(lower(Nb201Cell::at(i)));
      x.features.push_back(latency_features(x.layers.back()));
    }
    x.scale = FeatureScale::of(x.features);
    return x;
  }();
  return c;
}

template <class Device>
std::vector<Measurement> measure(Device device, std::size_t every = 1, std::size_t offset = 0) {
  std::vector<Measurement> m;
  for (std::size_t i = offset; i < cells().features.size(); i += every)
    m.push_back({cells().features[i], device(i)});
  return m;
}

TEST(LearnedLatency, AnAdditiveDeviceIsRecoveredFromItsMeasurements) {
  auto dev = [](std::size_t i) { return additive_device(cells().features[i]); };
  auto model = fit_additive("a", cells().scale, measure(dev, 2));
  ASSERT_TRUE(model.ok()) << model.error().message;
  double worst = 0;
  for (std::size_t i = 1; i < cells().features.size(); i += 2)
    worst = std::max(worst, std::abs(model->predict(cells().features[i]) / dev(i) - 1));
  EXPECT_LT(worst, 0.01);
  EXPECT_EQ(latency_feature_names().size(), cells().features.front().size());
}

TEST(LearnedLatency, TenMeasurementsOfANewDeviceTransferFromTheOthers) {
  auto a = [](std::size_t i) { return additive_device(cells().features[i]); };
  auto b = [](std::size_t i) { return pooling_bound_device(cells().layers[i]); };
  auto ma = fit_additive("a", cells().scale, measure(a));
  auto mb = fit_additive("b", cells().scale, measure(b));
  ASSERT_TRUE(ma.ok() && mb.ok());
  // The new device: 3 × a^0.3 × b^0.7, measured on 10 cells.
  auto target = [&](std::size_t i) { return 3 * std::pow(a(i), 0.3) * std::pow(b(i), 0.7); };
  auto m = fit_transfer("new", {*ma, *mb}, measure(target, 300, 7));
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::vector<double> predicted, measured, flops;
  for (std::size_t i = 0; i < cells().features.size(); ++i) {
    predicted.push_back(m->predict(cells().features[i]));
    measured.push_back(target(i));
    flops.push_back(model_flops(cells().layers[i]));
  }
  EXPECT_GT(spearman(predicted, measured), 0.99);
  EXPECT_LT(spearman(flops, measured), 0.9);  // what the FLOPs model could reach at best
  EXPECT_GE(m->margin(), 0);
  EXPECT_LT(m->margin(), 0.1);
}

// A device that spends per layer op: its fixed cost, a cost per MFLOP and one per MB moved.
struct OpCostDevice {
  std::array<double, 7> per_layer{}, per_mflop{}, per_mb{};
  double operator()(const LayerList& layers) const {
    double ms = 0.5;
    for (const auto& l : layers) {
      const auto op = static_cast<std::size_t>(l.op);
      ms += per_layer[op] + per_mflop[op] * static_cast<double>(l.flops) / 1e6 +
            per_mb[op] * static_cast<double>(l.bytes) / 1e6;
    }
    return ms;
  }
};
OpCostDevice random_device(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> cost(0, 1.5);
  OpCostDevice d;
  for (std::size_t op = 0; op < d.per_layer.size(); ++op) {
    d.per_layer[op] = 0.01 * cost(rng);
    d.per_mflop[op] = 0.01 * cost(rng);
    d.per_mb[op] = 0.1 * cost(rng);
  }
  return d;
}

TEST(LearnedLatency, ANewDeviceLeansOnItsNearRelativeAmongManySources) {
  std::vector<OpCostDevice> devices;
  std::vector<AdditiveLatencyModel> sources;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    devices.push_back(random_device(seed));
    auto dev = [&](std::size_t i) { return devices.back()(cells().layers[i]); };
    auto m = fit_additive("d" + std::to_string(seed), cells().scale, measure(dev));
    ASSERT_TRUE(m.ok()) << m.error().message;
    sources.push_back(*m);
  }
  // The new device: twice as slow as source 5, give or take 2 %, measured on 10 cells.
  auto target = [&](std::size_t i) {
    return 2 * devices[4](cells().layers[i]) * (1 + 0.02 * std::sin(static_cast<double>(i)));
  };
  auto m = fit_transfer("new", sources, measure(target, 300, 11));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_GT(m->source_weights[4], 0.5);
  std::vector<double> predicted, measured;
  for (std::size_t i = 0; i < cells().features.size(); ++i) {
    predicted.push_back(m->predict(cells().features[i]));
    measured.push_back(target(i));
  }
  EXPECT_GT(spearman(predicted, measured), 0.97);
}

TEST(LearnedLatency, TooFewMeasurementsOrNoOtherDeviceAreRefused) {
  auto a = [](std::size_t i) { return additive_device(cells().features[i]); };
  auto one = measure(a, 100'000);
  EXPECT_EQ(one.size(), 1u);
  EXPECT_FALSE(fit_additive("a", cells().scale, one).ok());
  auto few = measure(a, 1000);
  EXPECT_FALSE(fit_transfer("a", {}, few).ok());
  few.front().ms = 0;  // a zero is no measurement
  few.resize(2);
  auto ma = fit_additive("a", cells().scale, measure(a));
  ASSERT_TRUE(ma.ok());
  EXPECT_FALSE(fit_transfer("b", {*ma}, few).ok());
}

}  // namespace
}  // namespace edgenas::search
