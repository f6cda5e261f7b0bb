// The NAS-Bench-201 evaluation end to end on a table of other devices: every method and device
// is reported, the named device is held out, the oracle's bound is no worse on its own seeds
// than the widest space's, the files are written, and the seed reproduces the numbers.
#include <gtest/gtest.h>

#include <filesystem>

#include "simulations/nb201/evaluate.hpp"
#include "tests/unit/sim/nb201_fixture.hpp"

namespace edgenas::sim {
namespace {

// A small evaluation on the synthetic table of other devices, in its own directory.
Nb201EvaluateOptions small_run(const std::string& name, int traces, int queries, int trials) {
  const std::string dir = ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid());
  Nb201EvaluateOptions o;
  o.table_path = write_synthetic_nb201(dir);
  o.out_dir = dir + "/out";
  o.dataset = "digits_test";
  o.traces = traces;
  o.seeds = 1;
  o.long_seeds = 1;
  o.search.queries = queries;
  o.predictor_trials = trials;
  return o;
}

TEST(Nb201Evaluate, RunsOnATableOfOtherDevicesAndTheSeedReproduces) {
  Nb201EvaluateOptions o = small_run("nb201-eval", 120, 20, 2);
  o.heldout_devices = {"slow_cam"};
  o.contexts_per_device = 2;
  o.curve = {60, 120};
  auto quiet = [](const std::string&) {};
  auto a = evaluate_nb201(o, quiet);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ((*a)["heldout_devices"], nlohmann::json::array({"slow_cam"}));
  EXPECT_EQ((*a)["contexts"], 6);
  const auto& m = (*a)["methods"];
  for (const char* k : {"predictor", "widest", "random", "cold-start", "oracle"}) {
    for (const char* d : {"kiosk_a", "kiosk_b", "slow_cam"})
      EXPECT_EQ(m[k]["per_device"][d]["contexts"], 2) << k << " " << d;
    EXPECT_EQ(m[k]["heldout_devices"]["contexts"], 2) << k;
    EXPECT_GE(m[k]["met_T"].get<double>(), 0.0);
    EXPECT_GE(m[k]["median_regret_points"].get<double>(), -5.0);  // noise can put a run above
  }
  EXPECT_DOUBLE_EQ(m["oracle"]["normalised_reward"].get<double>(), 1.0);
  for (const char* f : {"report.md", "summary.json", "contexts.json", "regret_by_device.svg",
                        "met_T_by_device.svg", "regret_vs_queries.svg"})
    EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/" + f)) << f;
  auto b = evaluate_nb201(o, quiet);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*a)["methods"], (*b)["methods"]);
}

TEST(Nb201Evaluate, UnknownDataSetsAndDevicesAreUsageErrors) {
  const std::string dir = ::testing::TempDir() + "/nb201-eval-bad";
  Nb201EvaluateOptions o;
  o.table_path = write_synthetic_nb201(dir);
  o.out_dir = dir + "/out";
  auto quiet = [](const std::string&) {};
  auto a = evaluate_nb201(o, quiet);  // cifar10: not in this table
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("acc_digits_test"), std::string::npos) << a.error().message;
  o.dataset = "digits_test";
  o.heldout_devices = {"pixel9"};
  auto b = evaluate_nb201(o, quiet);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("pixel9"), std::string::npos);
  o.heldout_devices = {"kiosk_a", "kiosk_b", "slow_cam"};
  EXPECT_FALSE(evaluate_nb201(o, quiet).ok());
  o.heldout_devices = {};
  o.contexts_at = {{"pixel9", 5.0}};
  EXPECT_FALSE(evaluate_nb201(o, quiet).ok());
}

// Contexts at given (device, T), e.g. a published search's settings: only those are scored.
TEST(Nb201Evaluate, ContextsAtGivenDevicesAndT) {
  Nb201EvaluateOptions o = small_run("nb201-eval-at", 60, 10, 1);
  o.contexts_at = {{"kiosk_b", 1.5}, {"slow_cam", 40.0}};
  o.curve = {60};
  auto r = evaluate_nb201(o, [](const std::string&) {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["contexts"], 2);
  const auto& per_device = (*r)["methods"]["widest"]["per_device"];
  EXPECT_EQ(per_device.size(), 2u);  // kiosk_a has no context and no row
  EXPECT_TRUE(per_device.contains("slow_cam"));
}

}  // namespace
}  // namespace edgenas::sim
