// The simulator's pieces: scenarios and profiles parse (and refuse bad files), the surrogate
// loads its table (and refuses a corrupt one) and is deterministic, boxes produce valid
// contexts, simulated searches are reproducible, the fleet mix parses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "common/model/profile.hpp"
#include "common/search/layers.hpp"
#include "common/search/space.hpp"
#include "simulations/fleet/fleet.hpp"
#include "simulations/fleet/fleet_latency.hpp"
#include "simulations/fleet/meter_latency.hpp"
#include "simulations/fleet/roofline.hpp"
#include "simulations/fleet/world.hpp"

namespace edgenas::sim {
namespace {

const std::string kSim = std::string(EDGENAS_SOURCE_DIR) + "/simulations";

TEST(Scenario, ShippedOnesParseAndMistakesAreNamed) {
  for (const char* name : {"meter-day", "busy-evening"}) {
    auto s = load_scenario(kSim + "/scenarios/" + name + ".toml");
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->name, name);
    EXPECT_GT(s->search_budget_ms, 0);
  }
  auto expect_error = [](const std::string& text, const std::string& needle) {
    auto s = parse_scenario(text, "test.toml");
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
  };
  expect_error("name = 'x'\n[tasks]\narivals_per_hour = 3\n", "arivals_per_hour");
  expect_error("[tasks]\n", "name");
  expect_error("name = 'x'\n[tasks]\nlatency_req_ms = { min = 10.0, max = 1.0 }\n",
               "latency_req_ms");
  expect_error("name = 'x'\n[search]\nbudget = 'soon'\n", "budget");
  expect_error("name = 'x'\n[fleet]\ntime_scale = -1.0\n", "time_scale");
  expect_error("name = = 'x'\n", "test.toml:1");
  EXPECT_FALSE(load_scenario("/nonexistent.toml").ok());
}

TEST(Profiles, EveryShippedDeviceHasALatencyModel) {
  for (const auto& e : std::filesystem::directory_iterator(kSim + "/profiles")) {
    auto p = load_profile(e.path().string());
    ASSERT_TRUE(p.ok()) << p.error().message;
    for (const auto& d : p->devices) {
      EXPECT_GT(d.speed, 0) << p->name << " " << d.device;
      EXPECT_GT(d.overhead_ms, 0) << p->name << " " << d.device;
    }
  }
  auto bad = parse_profile(
      "name = 'x'\n[cpu]\ncores = 2\nmemory_mb = 10\nspeed = -1.0\n[power]\nidle_w = 1.0\nmax_w = "
      "2.0\n",
      "p.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("speed"), std::string::npos);
}

TEST(Surrogate, TheShippedTableFitsAndACorruptOneIsRefused) {
  auto rows = load_table(kSim + "/surrogate/table.csv");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_GE(rows->size(), 50u);
  auto s = Surrogate::fit(*rows);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_GT(s->calibration().flops_per_ms, 0);
  EXPECT_GT(s->noise_sigma(), 0);
  const auto& r = (*rows)[3];
  const double a = s->accuracy(r.spec, r.epochs);
  EXPECT_GE(a, 0);
  EXPECT_LE(a, 1);
  EXPECT_GT(s->train_seconds(r.spec, 2, 4000), s->train_seconds(r.spec, 1, 4000));

  const std::string dir = ::testing::TempDir() + "/surr-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/bad.csv") << kTableHeader
                                  << "\n0,c8k3s1-h0,1,4000,5,1,0.9,0.1,1.0,100,1000\n"
                                  << "1,not-an-arch,1,4000,5,1,0.9,0.1,1.0,100,1000\n";
  auto bad = load_table(dir + "/bad.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad.csv:3"), std::string::npos) << bad.error().message;
  std::vector<TableRow> few(rows->begin(), rows->begin() + 5);
  EXPECT_FALSE(Surrogate::fit(few).ok());
}

TEST(Surrogate, TheEvaluatorIsDeterministicPerSeed) {
  auto s = *Surrogate::fit(*load_table(kSim + "/surrogate/table.csv"));
  SurrogateEvaluator ev(s, {"npu0", 6.0, 0.3}, 0.07, 12.0);
  const auto spec = *search::ArchSpec::from_key("c16k3s2b-c32k3s2br-h64");
  const auto a = ev.evaluate(spec, {1, 1.0}, 7), b = ev.evaluate(spec, {1, 1.0}, 7);
  EXPECT_EQ(a.accuracy, b.accuracy);
  EXPECT_NE(a.accuracy, ev.evaluate(spec, {1, 1.0}, 8).accuracy);  // seed-to-seed noise
  EXPECT_TRUE(a.latency_modelled);
  EXPECT_NEAR(a.latency_ms,
              search::modelled_latency_ms(a.flops, {"npu0", 6.0, 0.3}, s.calibration()), 1e-12);
  EXPECT_GT(a.train_time_s, 0);
}

TEST(World, BoxesMakeValidContextsAndSearchesAreReproducible) {
  auto scenario = *load_scenario(kSim + "/scenarios/busy-evening.toml");
  auto profile = *load_profile(kSim + "/profiles/atlas200dk.toml");
  SimBox box("b1", profile, scenario, 5);
  for (int64_t t = 0; t < 6 * 3'600'000; t += 600'000) {
    const auto ctx = box.context(t);
    ASSERT_TRUE(ctx.validate().ok()) << ctx.validate().error().message;
    EXPECT_LE(static_cast<int>(ctx.job.tasks.size()), scenario.max_queued);
    ASSERT_TRUE(ctx.dataset.has_value());
  }
  auto s = *Surrogate::fit(*load_table(kSim + "/surrogate/table.csv"));
  const auto ctx = box.context(7 * 3'600'000);
  const Hyperparameters hp{4, 32, 5, Loss::cross_entropy, 3};
  const auto a = simulate_search(s, profile, ctx, hp, 11),
             b = simulate_search(s, profile, ctx, hp, 11);
  EXPECT_EQ(a.accuracy, b.accuracy);
  EXPECT_EQ(a.trials, b.trials);
  EXPECT_GT(a.trials, 0);
  EXPECT_GT(a.compute_s, 0);
  EXPECT_LE(a.search_s, 600 * 1.1);  // the budget, with the last trial's overrun
  EXPECT_FALSE(a.curve.empty());
  const auto trace =
      outcome_trace("t1", ctx, proto::HparamReply{"t1", hp, "cold-start", 0, false, ""}, a, 1);
  EXPECT_TRUE(trace.validate().ok());
  // The trace carries the simulated search's front, which holds the best candidate's latency.
  ASSERT_TRUE(trace.outcome.pareto.has_value());
  EXPECT_TRUE(trace.outcome.pareto->validate().ok());
  EXPECT_LE(trace.outcome.pareto->points.front().latency_ms, a.latency_ms * (1 + 1e-9));
  // The run's seed drives the search itself (not only the final accuracy's noise): without the
  // noise, other seeds still search differently.
  SimSearchOptions expected;
  expected.noisy_final = false;
  std::set<std::pair<int, double>> outcomes;
  for (uint32_t k = 1; k <= 6; ++k) {
    Hyperparameters h = hp;
    h.seed = k;
    const auto r = simulate_search(s, profile, ctx, h, k, expected);
    outcomes.insert({r.trials, r.reward});
  }
  EXPECT_GT(outcomes.size(), 1u);
}

TEST(Roofline, AFitRecoversTheParametersThatMadeTheLatencies) {
  const Roofline truth{0.2, 0.015, 12.0, 3.0};  // fixed ms, per layer ms, GFLOP/s, GB/s
  search::SearchSpace space({8, 128, 7, Loss::cross_entropy, 0});
  std::mt19937_64 rng(3);
  std::vector<search::LayerList> nets;
  std::vector<double> ms;
  for (int i = 0; i < 300; ++i) {
    nets.push_back(search::lower(space.sample(rng), kTableInput));
    ms.push_back(roofline_ms(truth, nets.back()));
  }
  auto fit = fit_roofline(nets, ms);
  ASSERT_TRUE(fit.ok()) << fit.error().message;
  EXPECT_NEAR(fit->fixed_ms, truth.fixed_ms, 0.02);
  EXPECT_NEAR(fit->per_layer_ms, truth.per_layer_ms, 0.002);
  EXPECT_NEAR(fit->gflops / truth.gflops, 1, 0.05);
  EXPECT_NEAR(fit->gbs / truth.gbs, 1, 0.2);  // the ridge point is fitted on a grid
  EXPECT_FALSE(fit_roofline({nets[0]}, {ms[0]}).ok());
}

TEST(Roofline, ProfilesGiveItAsATableAndMistakesAreNamed) {
  const std::string head = "name = 'x'\n[cpu]\ncores = 2\nmemory_mb = 10\n";
  const std::string power = "[power]\nidle_w = 1.0\nmax_w = 2.0\n";
  auto p = parse_profile(
      head + "roofline = { fixed_ms = 0.1, per_layer_us = 20, gflops = 5, gbs = 1.5 }\n" + power,
      "p.toml");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_DOUBLE_EQ(p->devices[0].roofline.per_layer_ms, 0.02);
  EXPECT_TRUE(p->devices[0].roofline.given());
  for (const char* bad :
       {"roofline = { gflops = 5, gbs = 1, speed = 2 }\n", "roofline = { gflops = 5 }\n",
        "roofline = 3\n", "roofline = { gflops = -5, gbs = 1 }\n"}) {
    auto e = parse_profile(head + bad + power, "p.toml");
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.error().message.find("roofline"), std::string::npos) << e.error().message;
  }
}

TEST(World, ASearchSeesTheEstimateAndDeliversOnTheTruth) {
  auto scenario = *load_scenario(kSim + "/scenarios/meter-day.toml");
  auto profile = *load_profile(kSim + "/profiles/atlas200dk.toml");
  auto s = *Surrogate::fit(*load_table(kSim + "/surrogate/table.csv"));
  SimBox box("b1", profile, scenario, 5);
  auto ctx = box.context(3'600'000);
  ASSERT_FALSE(ctx.job.tasks.empty());
  for (auto& t : ctx.job.tasks) t.latency_req_ms = 1.0;
  const Hyperparameters hp{6, 64, 5, Loss::cross_entropy, 3};
  // A truth twice the estimate: the search keeps its candidates within T by the estimate, and
  // the delivered network's latency is the truth's.
  auto estimate = [&](const search::ArchSpec& a) {
    return 0.1 + 0.01 * static_cast<double>(search::lower(a, kTableInput).size());
  };
  SimSearchOptions o;
  o.noisy_final = false;
  o.latency = SimSearchOptions::Latency{
      "npu0", estimate, [&](const search::ArchSpec& a) { return 2 * estimate(a); }, 0.5};
  const auto out = simulate_search(s, profile, ctx, hp, 7, o);
  EXPECT_EQ(out.device, "npu0");
  ASSERT_GT(out.trials, 0);
  EXPECT_GT(out.latency_ms, 0);
  EXPECT_LE(out.latency_ms, 2 * 0.5 + 1e-9);  // within T × 0.5 by the estimate
  EXPECT_EQ(out.met_latency, out.latency_ms <= 1.0);
}

// The fleet's model of the Ascend 310 as a coordinator would serve it: additive, fitted on
// measurements of the profile's NPU truth.
search::LatencyModelSet ascend_models(const DeviceProfile& profile, bool serves) {
  const search::SearchSpace space(Hyperparameters{6, 64, 5, Loss::cross_entropy, 1});
  std::mt19937_64 rng(11);
  std::vector<search::Measurement> data;
  std::vector<std::vector<double>> features;
  for (int i = 0; i < 300; ++i) {
    const auto layers = search::lower(space.sample(rng), kTableInput);
    features.push_back(search::latency_features(layers));
    data.push_back({features.back(), roofline_ms(profile.find("npu0")->roofline, layers)});
  }
  search::LatencyModelSet set;
  set.version = 4;
  set.scale = search::FeatureScale::of(features);
  search::KindModel k;
  k.kind = {"Huawei Ascend 310", kSimulatedRuntime, 1, "cnn"};
  k.method = "additive";
  k.additive = *search::fit_additive(k.kind.label(), set.scale, data);
  k.margin = 0.1;
  k.serves = serves;
  set.kinds.push_back(k);
  return set;
}

// A box of `edgenas-sim run` measures its CPU (and its accelerator when it can) and reports
// the measurements of its kind in the trace; one that cannot measure its NPU predicts it with
// the fleet's model when that serves (holding it to T less the margin), else models it from
// the profile's FLOPs line; the delivered latency is always the device truth's.
TEST(FleetLatency, ABoxMeasuresWhatItCanPredictsWithTheFleetsModelElseModels) {
  auto scenario = *load_scenario(kSim + "/scenarios/meter-day.toml");
  auto profile = *load_profile(kSim + "/profiles/atlas200dk.toml");
  auto s = *Surrogate::fit(*load_table(kSim + "/surrogate/table.csv"));
  SimBox box("b1", profile, scenario, 5);
  const auto ctx = box.context(3'600'000);
  const Hyperparameters hp{6, 64, 5, Loss::cross_entropy, 3};
  const auto serving = ascend_models(profile, true), gated_out = ascend_models(profile, false);
  const auto& cal = s.calibration();
  auto search_with = [&](const SearchLatency& l) {
    SimSearchOptions o;
    o.latency = l.options();
    auto out = simulate_search(s, profile, ctx, hp, 9, o);
    proto::HparamReply reply;
    reply.hparams = hp;
    reply.policy = "explore";
    Trace t = outcome_trace("t1", ctx, reply, out, 1'700'000'000'000);
    l.report(t);
    EXPECT_TRUE(t.validate().ok()) << t.validate().error().message;
    return std::pair{out, t};
  };
  const auto spec = *search::ArchSpec::from_key("c16k3s2b-c32k5s1brh-h64");
  const double npu_truth = device_truth_ms(*profile.find("npu0"), spec, cal);
  EXPECT_DOUBLE_EQ(npu_truth,
                   roofline_ms(profile.find("npu0")->roofline, search::lower(spec, kTableInput)));

  for (const auto& [device, kind] :
       {std::pair{"cpu", "ARM Cortex-A55"}, std::pair{"npu0", "Huawei Ascend 310"}}) {
    const SearchLatency measured(profile, device, true, &serving, 4, cal, 1);
    EXPECT_EQ(measured.source(), "measured");
    EXPECT_NEAR(measured.options().estimate(spec) / measured.options().truth(spec), 1, 0.15);
    const auto [out, t] = search_with(measured);
    ASSERT_GT(out.trials, 0);
    ASSERT_TRUE(t.outcome.measured_latency.has_value()) << device;
    const auto& m = *t.outcome.measured_latency;
    EXPECT_EQ(m.device, device);
    EXPECT_EQ(m.kind, kind);
    EXPECT_EQ(m.runtime, kSimulatedRuntime);
    EXPECT_GE(m.samples.size(), 2u);
    EXPECT_FALSE(t.outcome.latency_modelled);
  }

  const SearchLatency predicted(profile, "npu0", false, &serving, 4, cal, 1);
  EXPECT_EQ(predicted.source(), "predicted");
  EXPECT_DOUBLE_EQ(predicted.options().bound_factor, 0.9);
  EXPECT_NEAR(predicted.options().estimate(spec) / npu_truth, 1, 0.2);
  const auto [pout, pt] = search_with(predicted);
  EXPECT_EQ(pt.outcome.latency_model_version, 4);
  EXPECT_TRUE(pt.outcome.latency_modelled);
  EXPECT_FALSE(pt.outcome.measured_latency.has_value());
  // The search saw the prediction; the delivered latency is the truth's.
  ASSERT_GT(pout.trials, 0);
  EXPECT_NE(pout.estimated_ms, pout.latency_ms);
  EXPECT_NEAR(pout.estimated_ms / pout.latency_ms, 1, 0.2);

  for (const auto* fleet : {&gated_out, static_cast<const search::LatencyModelSet*>(nullptr)}) {
    const SearchLatency modelled(profile, "npu0", false, fleet, 4, cal, 1);
    EXPECT_EQ(modelled.source(), "modelled");
    const search::DeviceSpeed npu{"npu0", profile.find("npu0")->speed,
                                  profile.find("npu0")->overhead_ms};
    EXPECT_DOUBLE_EQ(
        modelled.options().estimate(spec),
        search::modelled_latency_ms(search::cost_of(spec, kTableInput).flops, npu, cal));
    const auto [mout, mt] = search_with(modelled);
    EXPECT_EQ(mt.outcome.latency_model_version, 0);
    EXPECT_TRUE(mt.outcome.latency_modelled);
  }
}

TEST(MeterLatency, TheFleetsModelPredictsAcceleratorsBetterThanTheirFlopsLine) {
  MeterLatencyOptions o;
  o.profiles_dir = kSim + "/profiles";
  o.scenario_path = kSim + "/scenarios/meter-day.toml";
  o.table_path = kSim + "/surrogate/table.csv";
  o.profiles = {"atlas200dk", "jetson-nano", "rpi4"};
  o.samples = {10};
  o.networks = 300;
  o.draws = 2;
  o.searches = 2;
  o.threads = 2;
  auto r = evaluate_meter_latency(o, [](const std::string&) {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ((*r)["kinds"].size(), 5u);  // three CPUs, the NPU, the GPU
  int accelerators = 0;
  for (const auto& row : (*r)["kinds"]) {
    const auto& b = row["by_k"][0];
    EXPECT_EQ(b["fits"], 2);
    if (row["device"] == "cpu") continue;
    ++accelerators;
    // The roofline's per-layer and memory costs: the FLOPs line cannot rank them, the fleet's
    // model learns them from the other kinds and 10 measurements.
    EXPECT_GT(b["learned"]["spearman"].get<double>(), b["flops_line_k"]["spearman"].get<double>())
        << row["kind"];
    const auto& s = row["searches"];
    EXPECT_GT(s["measured"]["counted"].get<int>(), 0);
    EXPECT_GE(s["learned"]["met_t"].get<double>(), s["flops_profile"]["met_t"].get<double>())
        << row["kind"];
  }
  EXPECT_EQ(accelerators, 2);
  o.searches_k = 100;
  EXPECT_FALSE(evaluate_meter_latency(o, [](const std::string&) {}).ok());
}

TEST(Fleet, TheMixParses) {
  auto m = parse_mix("atlas200dk=40%,jetson-nano=30%,rpi4=30%");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->size(), 3u);
  EXPECT_DOUBLE_EQ((*m)[0].second, 0.4);
  EXPECT_TRUE(parse_mix("rpi4=0.5,x86-edge=0.5").ok());
  EXPECT_FALSE(parse_mix("rpi4=50%").ok());
  EXPECT_FALSE(parse_mix("rpi4=abc%,x=50%").ok());
  EXPECT_FALSE(parse_mix("rpi4").ok());
  EXPECT_FALSE(parse_mix("").ok());
}

}  // namespace
}  // namespace edgenas::sim
