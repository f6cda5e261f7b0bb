// The agent running real edgenas-search children against a real coordinator: a search started
// by a coordinator Command ends as a Trace in the coordinator's store; a killed child becomes a
// failed Trace and the agent keeps serving.
#include <signal.h>

#include <random>

#include "common/search/layers.hpp"
#include "common/search/space.hpp"
#include "coordinator/store/trace_store.hpp"
#include "harness.hpp"

namespace edgenas::it {
namespace {
using nlohmann::json;

class SearchAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto [g, go] = run({EDGENAS_METER_GEN_BIN, "-o", dir_ + "/data", "-n", "40", "--seed", "11"});
    ASSERT_EQ(g, 0) << go;
    coord_.dir = dir_;
    coord_.start();
    agent_.id = "nasbox";
    agent_.dir = dir_ + "/agent";
    agent_.config = dir_ + "/agent.toml";
    std::ofstream(agent_.config) << "[search]\nbinary = \"" << EDGENAS_SEARCH_BIN
                                 << "\"\ndata = \"folder:" << dir_ << "/data/digits\"\n"
                                 << "budget = \"20s\"\nstop_grace = \"10s\"\n"
                                 << "[[task]]\ntask_id = \"ocr\"\nlatency_req_ms = 5.0\n"
                                 << "rows = [{ device = \"cpu\", runtime_ms = 1.0, energy_j = "
                                    "0.01, nodes = 1 }]\n";
    agent_.start(coord_);
    auto c = coord_.client(2000);
    ASSERT_TRUE(wait_for(
        [&] {
          auto s = c.call("status");
          return s.ok() && (*s)["agents"]["alive"] == 1;
        },
        10'000));
  }
  json admin(const std::string& op, json args = json::object()) {
    auto c = coord_.client(3000);
    auto r = c.call(op, args);
    EXPECT_TRUE(r.ok()) << op << ": " << (r ? "" : r.error().message);
    return r ? *r : json();
  }
  json local(const std::string& op, json args = json::object()) {
    proto::AdminClient c(agent_.local(), 5000);
    auto r = c.call(op, args);
    EXPECT_TRUE(r.ok()) << op << ": " << (r ? "" : r.error().message);
    return r ? *r : json();
  }
  json stored_traces() { return admin("traces.export", {{"agent_id", "nasbox"}})["traces"]; }

  std::string dir_;
  Coordinator coord_;
  Agent agent_;
};

TEST_F(SearchAgentTest, ACommandedSearchEndsAsATraceInTheCoordinatorsStore) {
  auto cmd = admin("agents.command", {{"agent_id", "nasbox"},
                                      {"action", "start_search"},
                                      {"args", {{"trials", 4}, {"budget", "60s"}}}});
  ASSERT_TRUE(cmd.contains("command_id"));
  // While it runs, its progress reaches the coordinator with the heartbeats.
  ASSERT_TRUE(wait_for(
      [&] {
        auto a = admin("agents.show", {{"agent_id", "nasbox"}});
        return a.contains("search") || !stored_traces().empty();
      },
      60'000))
      << agent_.proc.log();
  ASSERT_TRUE(wait_for([&] { return stored_traces().size() == 1; }, 120'000)) << agent_.proc.log();
  const json t = stored_traces()[0];
  EXPECT_EQ(t["outcome"]["status"], "ok") << t.dump();
  EXPECT_EQ(t["outcome"]["trials"], 4);
  // The search's progress travelled with it: a best-so-far curve within the trials' compute.
  ASSERT_TRUE(t["outcome"].contains("progress")) << t.dump();
  const auto& curve = t["outcome"]["progress"];
  ASSERT_GE(curve["points"].size(), 1u);
  ASSERT_LE(curve["points"].size(), 4u);
  EXPECT_GT(curve["compute_s"].get<double>(), 0.0);
  EXPECT_LE(curve["points"].back()["compute_s"].get<double>(), curve["compute_s"].get<double>());
  EXPECT_GT(t["outcome"]["accuracy"].get<double>(), 0.0);
  EXPECT_GT(t["outcome"]["latency_ms"].get<double>(), 0.0);
  EXPECT_EQ(t["policy"], "cold-start");
  // The candidates' latencies measured on this CPU travelled too, with the device kind.
  ASSERT_TRUE(t["outcome"].contains("measured_latency")) << t.dump();
  const auto& measured = t["outcome"]["measured_latency"];
  EXPECT_EQ(measured["device"], "cpu");
  EXPECT_FALSE(measured["kind"].get<std::string>().empty());
  EXPECT_EQ(measured["runtime"].get<std::string>().rfind("libtorch ", 0), 0u) << measured.dump();
  ASSERT_GE(measured["samples"].size(), 1u);
  ASSERT_LE(measured["samples"].size(), 4u);
  EXPECT_GT(measured["samples"][0]["ms"].get<double>(), 0.0);
  // So did the search's accuracy/latency front, fastest first.
  ASSERT_TRUE(t["outcome"].contains("pareto")) << t.dump();
  const auto& front = t["outcome"]["pareto"]["points"];
  ASSERT_GE(front.size(), 1u);
  ASSERT_LE(front.size(), 4u);
  for (std::size_t i = 1; i < front.size(); ++i)
    EXPECT_GT(front[i]["accuracy"].get<double>(), front[i - 1]["accuracy"].get<double>());
  // The coordinator's latency training reads them from its store in a child (edgenas-predictor
  // latency); four measurements are too few for a model of the kind: a version without one.
  EXPECT_EQ(admin("latency.train", {{"reason", "test"}})["version"], 1);
  ASSERT_TRUE(wait_for(
      [&] {
        const auto v = admin("latency.list")["versions"];
        return v.size() == 1 && v[0]["status"] != "training";
      },
      60'000));
  EXPECT_EQ(admin("latency.list")["versions"][0]["status"], "ready");
  EXPECT_EQ(admin("latency.show", {{"version", 1}})["kinds"].size(), 0u);
  // The context it was asked with, including the data set's shape from `inspect`.
  EXPECT_EQ(t["context"]["dataset"]["classes"], 10);
  EXPECT_EQ(t["context"]["dataset"]["samples"], 240);
  EXPECT_EQ(t["context"]["job"]["tasks"][0]["task_id"], "ocr");
  // The agent counts it and is idle again.
  auto st = local("search.status");
  EXPECT_EQ(st["searches_run"], 1);
  EXPECT_FALSE(st.contains("run"));
  // A second start while one runs is refused, an unknown argument too (logged, nothing runs).
  proto::AdminClient c(agent_.local(), 5000);
  auto bad = c.call("search.start", {{"speed", "max"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "bad_request");
}

// `n` networks of the CNN space measured on a CPU kind whose latency is a fixed cost per layer
// plus FLOPs (not a line in FLOPs, so a kernel-additive model beats the FLOPs line), as the
// traces of other boxes would carry them.
std::vector<coordinator::TraceRecord> measured_elsewhere(const std::string& kind, int n) {
  const search::SearchSpace space(Hyperparameters{6, 64, 5, Loss::cross_entropy, 1});
  std::mt19937_64 rng(3);
  std::vector<coordinator::TraceRecord> out;
  for (int i = 0; i < n; ++i) {
    if (i % 20 == 0) {  // a search's worth: models are gated on searches they did not see
      Trace t;
      t.trace_id = "elsewhere-" + std::to_string(i);
      t.policy = "manual";
      t.context.dataset = DatasetShape{10, 28, 28, 1, 1000};
      t.context.source.devices = {{"cpu", 2, 1024}};
      t.outcome.measured_latency =
          LatencyMeasurements{"cpu", kind, "libtorch 1.13.1", 1, "cnn", {}};
      out.push_back({"otherbox", i, t});
    }
    const auto spec = space.sample(rng);
    double ms = 0.02;
    for (const auto& l : search::lower(spec, {1, 28, 28, 10}))
      ms += 0.004 + static_cast<double>(l.flops) * 2e-9;
    out.back().trace.outcome.measured_latency->samples.push_back({spec.key(), ms});
  }
  for (const auto& r : out) EXPECT_TRUE(r.trace.validate().ok());  // the child skips others
  return out;
}

// The fleet's latency models reach a box: once a version serves (trained by the real child on
// measurements other boxes sent), the next search's hyperparameter reply carries it and the
// agent keeps it; this box's own search measures its CPU and stays measured.
TEST_F(SearchAgentTest, ServedLatencyModelsReachTheAgentAndAMeasuredTargetStaysMeasured) {
  {
    auto store = coordinator::TraceStore::open(dir_ + "/coordinator.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->write_batch(measured_elsewhere("Synthetic CPU", 600), {}, {}).ok());
  }
  EXPECT_EQ(admin("latency.train", {{"reason", "test"}})["version"], 1);
  ASSERT_TRUE(wait_for([&] { return admin("latency.list")["serving"] == 1; }, 60'000))
      << admin("latency.list").dump();
  EXPECT_GE(admin("latency.list")["versions"][0]["passed_gate"].get<int>(), 1);

  auto started = local("search.start", {{"trials", 2}, {"budget", "15s"}});
  ASSERT_TRUE(started.contains("run_id"));
  ASSERT_TRUE(wait_for([&] { return stored_traces().size() == 1; }, 120'000)) << agent_.proc.log();
  auto kept = nlohmann::json::parse(std::ifstream(agent_.dir + "/latency-models.json"));
  EXPECT_EQ(kept["version"], 1);
  ASSERT_EQ(kept["kinds"].size(), 1u);
  EXPECT_EQ(kept["kinds"][0]["kind"]["kind"], "Synthetic CPU");
  EXPECT_NE(agent_.proc.log().find("latency models kept"), std::string::npos);
  const auto run_id = started["run_id"].get<std::string>();
  auto results = nlohmann::json::parse(
      std::ifstream(agent_.dir + "/searches/" + run_id + "/out/results.json"));
  EXPECT_EQ(results["latency_source"], "measured");
  EXPECT_EQ(stored_traces()[0]["outcome"].value("latency_model_version", 0), 0);
}

TEST_F(SearchAgentTest, AKilledSearchIsAFailedTraceAndTheAgentCarriesOn) {
  auto started = local("search.start", {{"budget", "5m"}});
  ASSERT_TRUE(started.contains("run_id"));
  int pid = 0;
  ASSERT_TRUE(wait_for(
      [&] {
        auto st = local("search.status");
        if (!st.contains("run") || st["run"]["phase"] != "running") return false;
        pid = st["run"]["pid"].get<int>();
        return st["run"]["trials"].get<int>() > 0;
      },
      60'000))
      << agent_.proc.log();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(wait_for([&] { return stored_traces().size() == 1; }, 30'000)) << agent_.proc.log();
  const json t = stored_traces()[0];
  EXPECT_EQ(t["trace_id"], started["run_id"]);
  EXPECT_EQ(t["outcome"]["status"], "failed");
  EXPECT_NE(t["outcome"]["error"].get<std::string>().find("signal 9"), std::string::npos)
      << t.dump();
  EXPECT_TRUE(agent_.proc.running());
  EXPECT_EQ(local("status")["link"], "registered");
}

TEST_F(SearchAgentTest, CancelKeepsTheBestModelSoFar) {
  local("search.start", {{"budget", "5m"}});
  ASSERT_TRUE(wait_for(
      [&] {
        auto st = local("search.status");  // a trial that trained (not one pruned for latency)
        return st.contains("run") && st["run"]["best_accuracy"].get<double>() > 0;
      },
      60'000))
      << agent_.proc.log();
  local("search.cancel");
  ASSERT_TRUE(wait_for([&] { return stored_traces().size() == 1; }, 60'000)) << agent_.proc.log();
  const json t = stored_traces()[0];
  EXPECT_EQ(t["outcome"]["status"], "ok") << t.dump();
  EXPECT_GE(t["outcome"]["trials"].get<int>(), 1);
}

}  // namespace
}  // namespace edgenas::it
