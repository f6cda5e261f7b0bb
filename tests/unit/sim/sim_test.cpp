// The simulator's pieces: scenarios and profiles parse (and refuse bad files), the surrogate
// loads its table (and refuses a corrupt one) and is deterministic, boxes produce valid
// contexts, simulated searches are reproducible, the fleet mix parses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/model/profile.hpp"
#include "simulations/fleet/fleet.hpp"
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
