// edgenas-sim run: a real coordinator process and 50 simulated agents over real sockets for
// 30 s; every agent registers and every trace the agents had acked is in the store.
#include "harness.hpp"

namespace edgenas::it {
namespace {

TEST(SimFleet, FiftyAgentsThirtySecondsEveryAgentRegisteredEveryTraceStored) {
  const std::string dir = temp_dir("sim-fleet");
  auto [rc, out] = run({EDGENAS_SIM_BIN, "run", "--agents", "50", "--duration", "30s", "--mix",
                        "atlas200dk=40%,jetson-nano=30%,rpi4=30%", "--out", dir + "/run",
                        "--coordinator", EDGENAS_COORDINATOR_BIN},
                       120);
  ASSERT_EQ(rc, 0) << out;
  auto s = nlohmann::json::parse(std::ifstream(dir + "/run/summary.json"));
  EXPECT_EQ(s["registered"], 50) << s.dump(2);
  EXPECT_EQ(s["errors"], 0);
  EXPECT_GT(s["traces_acked"].get<int64_t>(), 0);
  // Acked means committed: every acked trace is stored (stored may be ahead: acks in flight).
  EXPECT_GE(s["store"]["traces"].get<int64_t>(), s["traces_acked"].get<int64_t>());
  EXPECT_GT(s["hparam_requests"].get<int64_t>(), 0);
  // The coordinator's own service time, read from its /metrics.
  ASSERT_TRUE(s["coordinator_request_ms"].is_object()) << s.dump(2);
  EXPECT_GT(s["coordinator_request_ms"]["count"].get<double>(), 50);
  EXPECT_TRUE(s["coordinator_request_ms"].contains("p99_le_ms"));
  for (const char* p : {"atlas200dk", "jetson-nano", "rpi4"})
    EXPECT_TRUE(s["profiles"].contains(p)) << p;
  EXPECT_NE(out.find("HparamRequest"), std::string::npos) << out;
  // A bad mix is a usage error.
  auto [bad, bado] =
      run({EDGENAS_SIM_BIN, "run", "--agents", "5", "--mix", "rpi4=50%", "--out", dir + "/bad"});
  EXPECT_EQ(bad, 2);
  EXPECT_NE(bado.find("100 %"), std::string::npos) << bado;
}

// However the simulator ends, nothing it started outlives it: its agent workers (forked), its
// coordinator and its real agent (spawned) all die with it, even on SIGKILL.
TEST(SimFleet, KillingTheSimulatorTakesEverythingItStartedDown) {
  const std::string dir = temp_dir("sim-kill");
  Process sim(
      {EDGENAS_SIM_BIN, "run", "--agents", "20", "--procs", "2", "--real-search", "1", "--duration",
       "300s", "--out", dir + "/run", "--coordinator", EDGENAS_COORDINATOR_BIN},
      dir + "/sim.log");
  // The workers fork once the coordinator is up and the real agent has been started.
  ASSERT_TRUE(wait_for([&] { return sim.log().find("process(es)") != std::string::npos; }, 60'000))
      << sim.log();
  ASSERT_GE(processes_naming(dir + "/run").size(), 2u) << sim.log();  // coordinator, real agent
  sim.stop(SIGKILL);
  EXPECT_TRUE(wait_for([&] { return processes_naming(dir + "/run").empty(); }, 10'000))
      << processes_naming(dir + "/run").size() << " left";
}

// Without the warm start, the loop leaves a poor cold start (the size-score rule, whose spaces
// are tiny): the fleet's own traces train a predictor that passes the gate and then serves
// spaces unlike the rule's, with better outcomes.
// The simulator's progress lines that say which policy serves and which version trains.
std::string policy_progress(const std::string& out) {
  std::istringstream in(out);
  std::string line, kept;
  while (std::getline(in, line))
    if (line.find("policy") != std::string::npos) kept += line + "\n";
  return kept;
}

// Versions train every 100 traces (about every 30 s here) and must pass the held-out gate
// before they serve, so a slow or loaded machine may reject one or two (seen: v1 and v3 rejected
// on a 2-core machine with one core busy, v2 serving from 80 s). The accelerators' latency
// models come later: until a kind has 200 measurements of its own to train on, it only has a
// transfer from the CPU's model, which may not beat the FLOPs line (seen in CI: latency v1-v4,
// 4.9-6.0 % held-out error against the line's 2.7-3.5 %, so no accelerator search predicted in
// 150 s; the additive models that follow beat it, 1.8-2.1 % against 3.4-4.1 %). 240 s leaves
// three more latency versions (one every 30 s) and searches after them.
TEST(SimFleet, TheFleetsOwnTracesTrainAPredictorThatServesBeyondTheColdStart) {
  const std::string dir = temp_dir("sim-loop");
  auto [rc, out] = run({EDGENAS_SIM_BIN,
                        "run",
                        "--agents",
                        "150",
                        "--duration",
                        "240s",
                        "--seed",
                        "3",
                        "--out",
                        dir + "/run",
                        "--coordinator",
                        EDGENAS_COORDINATOR_BIN,
                        "--coordinator-arg=--warm-start",
                        "--coordinator-arg=off",
                        "--coordinator-arg=--cold-start-rule",
                        "--coordinator-arg=size-score",
                        "--coordinator-arg=--retrain-after",
                        "--coordinator-arg=100",
                        "--coordinator-arg=--train-budget",
                        "--coordinator-arg=10s"},
                       360);
  ASSERT_EQ(rc, 0) << out;
  auto s = nlohmann::json::parse(std::ifstream(dir + "/run/summary.json"));
  EXPECT_NE(s["hparam_policy"].get<std::string>().find("predictor v"), std::string::npos)
      << policy_progress(out) << s.dump(2);
  const auto& p = s["policies"];
  ASSERT_TRUE(p.contains("predictor") && p.contains("cold-start")) << p.dump(2);
  // (How many replies the trained version serves depends on how fast the machine trains it.)
  EXPECT_GE(p["predictor"]["searches"].get<int>(), 5) << p.dump(2);
  // The cold start hands these boxes 1-2 layers and 8 filters; the trained versions learned
  // larger spaces from what the exploration tried, and those searches did better. Which
  // dimension grows, and how much, depends on which version serves how many replies, i.e. on
  // the load (seen: 1.85 layers and 29 filters, and 1.85 layers and 11 filters, against 1.0
  // and 8), so either clearly larger layers or clearly more filters counts.
  const double layers = p["predictor"]["mean_layers"].get<double>();
  const double filters = p["predictor"]["mean_filters"].get<double>();
  EXPECT_TRUE(layers > p["cold-start"]["mean_layers"].get<double>() + 0.5 ||
              filters > 2 * p["cold-start"]["mean_filters"].get<double>())
      << p.dump(2);
  EXPECT_GT(p["predictor"]["mean_reward"].get<double>(),
            p["cold-start"]["mean_reward"].get<double>())
      << p.dump(2);
  // The fleet's latency models come from the same traces: the boxes that can measure their
  // accelerators (a quarter) teach the others, whose searches then predict instead of
  // modelling from FLOPs.
  ASSERT_TRUE(s["latency_models"].is_object()) << s.dump(2);
  const auto& seen = s["latency_seen"];
  for (const char* k : {"cpu measured", "accelerator measured", "accelerator predicted"})
    EXPECT_GT(seen.value(k, nlohmann::json::object()).value("searches", 0), 0) << k << seen.dump(2);
}

}  // namespace
}  // namespace edgenas::it
