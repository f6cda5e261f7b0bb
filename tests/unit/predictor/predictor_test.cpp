// The torch-free predictor: features, grid, model files, rewards, the MLP search space, and the
// service (serving, exploration, training orchestration with a fake trainer, the gate,
// promote/rollback, a corrupt model file, a restart).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/search/mlp_space.hpp"
#include "coordinator/predictor/explore.hpp"
#include "coordinator/predictor/pool.hpp"
#include "coordinator/predictor/service.hpp"
#include "coordinator/predictor/targets.hpp"
#include "fake_trainer.hpp"
#include "synthetic.hpp"

namespace edgenas::predictor {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

Context ctx(double t_ms, int cpu_free, int npus = 0) {
  Context c;
  c.source.devices = {{"cpu", cpu_free, 2048}};
  for (int i = 0; i < npus; ++i) c.source.devices.push_back({"npu" + std::to_string(i), 2, 4096});
  c.job.tasks = {{"a", t_ms, {{"cpu", 10, 0.1, 1}}}, {"b", t_ms * 3, {{"cpu", 20, 0.2, 2}}}};
  return c;
}

TEST(Features, FixedLengthWhateverTheQueueAndDevices) {
  const std::size_t n = feature_names().size();
  EXPECT_EQ(featurize(Context{}).size(), n);
  EXPECT_EQ(featurize(ctx(5, 2)).size(), n);
  EXPECT_EQ(featurize(ctx(5, 2, 3)).size(), n);
  // Two NPUs are summed into one slot; the order of the tasks does not matter.
  Context a = ctx(5, 2, 2), b = a;
  std::swap(b.job.tasks[0], b.job.tasks[1]);
  EXPECT_EQ(featurize(a), featurize(b));
  EXPECT_NE(featurize(ctx(5, 2, 1)), featurize(ctx(5, 2, 2)));
  // An empty queue says so, with the documented default T.
  const auto f = featurize(Context{});
  const auto idx = [&](const std::string& name) {
    return std::find(feature_names().begin(), feature_names().end(), name) -
           feature_names().begin();
  };
  EXPECT_EQ(f[static_cast<std::size_t>(idx("queue_empty"))], 1.0f);
  EXPECT_FLOAT_EQ(f[static_cast<std::size_t>(idx("t_min_log10"))], 3.0f);
}

TEST(Features, NormalisationAndItsVersion) {
  std::vector<std::vector<float>> rows{featurize(ctx(5, 1)), featurize(ctx(500, 8))};
  auto norm = FeatureNorm::fit(rows);
  auto x = norm.apply(rows[0]);
  ASSERT_TRUE(x.ok());
  auto back = FeatureNorm::from_json(norm.to_json());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back->apply(rows[0]), *x);
  norm.version = kFeatureVersion + 1;
  auto refused = norm.apply(rows[0]);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("feature spec v"), std::string::npos);
  EXPECT_FALSE(back->apply({1.0f, 2.0f}).ok());
}

TEST(Grid, RoundTripsAndNearestPoints) {
  EXPECT_EQ(Grid::points(), 10 * 6 * 3 * 3);
  for (int f = 0; f < Grid::points(); ++f) {
    const Choice c = Grid::at(f);
    EXPECT_EQ(Grid::flat(c), f);
    EXPECT_EQ(Grid::nearest(Grid::hparams(c, 1)), c);
  }
  const Choice c = Grid::nearest({4, 48, 9, Loss::focal, 0});  // off the ladders
  EXPECT_EQ(Grid::hparams(c, 0).filters, 64);  // 48 is nearer 64 than 32 on a log scale
  EXPECT_EQ(Grid::hparams(c, 0).kernel, 7);
  EXPECT_DOUBLE_EQ(Grid::distance(c, c), 0);
}

TEST(Rewards, AccuracyUnderTheConstraintsMinusSearchCost) {
  Trace t;
  t.context = ctx(10, 2);
  t.outcome.status = TraceStatus::ok;
  t.outcome.accuracy = 0.9;
  t.outcome.latency_ms = 5;
  EXPECT_DOUBLE_EQ(trace_reward(t), 0.9);
  t.outcome.latency_ms = 20;  // twice too slow: half
  EXPECT_DOUBLE_EQ(trace_reward(t), 0.45);
  t.outcome.latency_ms = 5;
  t.outcome.energy_mj = 200;  // the tightest task's estimate is 0.1 J = 100 mJ
  t.outcome.device = "cpu";
  EXPECT_DOUBLE_EQ(trace_reward(t), 0.45);
  t.outcome.energy_mj = 1;
  t.outcome.search_time_s = 3600;
  EXPECT_DOUBLE_EQ(trace_reward(t), 0.9 - kSearchCostPerHour);
  t.outcome.status = TraceStatus::failed;
  EXPECT_DOUBLE_EQ(trace_reward(t), 0);
}

TEST(MlpSpace, EveryCandidateRespectsDepthTenAndWidthThreeHundred) {
  search::MlpSpace space;
  std::mt19937_64 rng(1);
  int deep = 0;
  for (int i = 0; i < 3000; ++i) {
    auto s = space.sample(rng);
    for (int j = 0; j < 5; ++j) s = space.mutate(s, rng);
    ASSERT_TRUE(space.contains(s)) << s.key();
    ASSERT_LE(s.hidden.size(), 10u);
    for (int w : s.hidden) ASSERT_LE(w, 300);
    deep += s.hidden.size() > 6;
  }
  EXPECT_GT(deep, 0);  // the deep end of the space is reached too
  EXPECT_FALSE(space.contains({{301}, search::MlpActivation::relu, 0, 1e-3}));
  EXPECT_FALSE(space.contains({std::vector<int>(11, 64), search::MlpActivation::relu, 0, 1e-3}));
}

// A model that always answers `choice` (through its biases).
PredictorModel fixed_model(const Choice& choice, int version) {
  PredictorModel m;
  m.version = version;
  const std::size_t n = feature_names().size();
  m.norm.mean.assign(n, 0.0f);
  m.norm.scale.assign(n, 1.0f);
  Dense trunk{static_cast<int>(n), 4, std::vector<float>(n * 4, 0.01f), std::vector<float>(4, 0)};
  m.mlp.trunk = {trunk};
  for (int h = 0; h < kHeads; ++h) {
    Dense d{4, Grid::size(h), std::vector<float>(static_cast<std::size_t>(4 * Grid::size(h)), 0.0f),
            std::vector<float>(static_cast<std::size_t>(Grid::size(h)), 0.0f)};
    d.b[static_cast<std::size_t>(choice.index[static_cast<std::size_t>(h)])] = 5;
    m.mlp.heads.push_back(d);
  }
  return m;
}

TEST(Split, AlwaysHoldsSomethingOutAndSaysHow) {
  // Diverse contexts: split by context.
  std::vector<Example> varied;
  for (const auto& t : synthetic::traces(60, 2, 3)) varied.push_back(make_example(t, "box"));
  auto s = split_for_training(varied, 0.2, 1);
  EXPECT_EQ(s.method, "context");
  EXPECT_GE(s.heldout.size(), kMinHeldoutExamples);
  // A fleet whose contexts are all alike (one context cell): by agent, then at random.
  std::vector<Example> alike;
  for (int i = 0; i < 200; ++i) {
    Trace t = synthetic::traces(1, 1, 9)[0];
    t.trace_id = "same-" + std::to_string(i);
    alike.push_back(make_example(t, "agent-" + std::to_string(i % 8)));
  }
  EXPECT_TRUE(split_by_context(alike, 0.2, 1).heldout.empty() ||
              split_by_context(alike, 0.2, 1).train.empty());  // what failed the trainings
  s = split_for_training(alike, 0.2, 1);
  EXPECT_EQ(s.method, "agent");
  EXPECT_GE(s.heldout.size(), kMinHeldoutExamples);
  EXPECT_GE(s.train.size(), kMinTrainExamples);
  std::set<std::string> held_agents, train_agents;  // held-out boxes are new
  for (const auto& e : s.heldout) held_agents.insert(e.agent_id);
  for (const auto& e : s.train) train_agents.insert(e.agent_id);
  for (const auto& a : held_agents) EXPECT_FALSE(train_agents.count(a)) << a;
  for (auto& e : alike) e.agent_id = "one-box";
  s = split_for_training(alike, 0.2, 1);
  EXPECT_EQ(s.method, "random");
  EXPECT_GE(s.heldout.size(), kMinHeldoutExamples);
}

// The context rule's cells are cut in the normalisation of the examples it was fitted on, so
// they move as the fleet grows: a trace a later split holds out may have trained the version
// an earlier split made. The rule, recorded and read back, says which ones.
TEST(Split, TheRecordedRuleNamesTheTracesAnEarlierVersionTrainedOn) {
  std::vector<Example> early, grown;
  for (const auto& t : synthetic::traces(150, 2, 3))
    early.push_back(make_example(t, "box-" + std::to_string(early.size() % 9)));
  grown = early;
  for (auto t : synthetic::traces(300, 3, 4)) {
    t.trace_id = "later-" + t.trace_id;
    grown.push_back(make_example(t, "box-" + std::to_string(grown.size() % 13)));
  }
  const auto then = split_for_training(early, 0.2, 1);
  ASSERT_EQ(then.method, "context");
  auto rule = SplitRule::from_json(json::parse(then.rule.to_json().dump()));
  ASSERT_TRUE(rule.ok()) << rule.error().message;
  std::set<std::string> trained_then;
  for (const auto& e : then.train) trained_then.insert(e.trace_id);
  for (const auto& e : early) EXPECT_EQ(rule->holds_out(e), !trained_then.count(e.trace_id));
  const auto now = split_for_training(grown, 0.2, 1);
  int leaked = 0;
  for (const auto& e : now.heldout) leaked += trained_then.count(e.trace_id) > 0;
  EXPECT_GT(leaked, 0);  // what favoured the serving version at the gate
  // The agent and random rules are the same from any set of examples.
  for (const char* m : {"agent", "random"}) {
    const SplitRule r{m, 0.2, 7, {}};
    const auto a = split_with(early, r), b = split_with(grown, r);
    std::set<std::string> held_b;
    for (const auto& e : b.heldout) held_b.insert(e.trace_id);
    for (const auto& e : a.heldout) EXPECT_TRUE(held_b.count(e.trace_id)) << m;
  }
  EXPECT_FALSE(
      SplitRule::from_json(json{{"method", "dice"}, {"heldout_share", 0.2}, {"seed", 1}}).ok());
  EXPECT_FALSE(SplitRule::from_json(json{{"method", "context"}, {"heldout_share", 0.2}}).ok());
}

// The gate weighs the paired difference of two policies' held-out regrets against its noise: a
// version a little worse than the serving one, within the estimate's standard error, serves
// (it learned from more of the fleet); one worse by several standard errors does not.
TEST(Gate, ANewVersionServesUnlessItIsWorseByMoreThanTheEstimateCanTell) {
  PolicyScore fresh, serving;
  fresh.earned = {0.5, 0.9, 0.1, 0.7};
  serving.earned = {0.6, 0.7, 0.3, 0.7};
  const auto p = paired_regret(fresh, serving);
  EXPECT_NEAR(p.difference, 0.025, 1e-12);                          // (0.1 − 0.2 + 0.2 + 0) / 4
  EXPECT_NEAR(p.standard_error, std::sqrt(0.0875 / 3 / 4), 1e-12);  // sample variance / n
  auto metrics = [](double fresh_regret, double serving_regret, double se) {
    return json{{"heldout",
                 {{"new", {{"regret", fresh_regret}}},
                  {"baseline", {{"regret", serving_regret}}},
                  {"new_vs_baseline",
                   {{"difference", fresh_regret - serving_regret}, {"standard_error", se}}}}}};
  };
  EXPECT_TRUE(judge(metrics(0.12, 0.11, 0.02), "baseline", {}).passes);       // within 1 SE
  EXPECT_FALSE(judge(metrics(0.12, 0.11, 0.02), "baseline", {0, 0}).passes);  // the old rule
  EXPECT_TRUE(judge(metrics(0.10, 0.11, 0.02), "baseline", {0, 0}).passes);
  EXPECT_FALSE(judge(metrics(0.20, 0.11, 0.02), "baseline", {}).passes);         // 4.5 SE worse
  EXPECT_FALSE(judge(metrics(0.10, 0.11, 0.02), "baseline", {0.05, 0}).passes);  // margin
  EXPECT_FALSE(judge(metrics(0.10, 0.11, 0.02), "cold_start", {}).passes);       // not scored
  const auto v = judge(metrics(0.12, 0.11, 0.02), "baseline", {});
  EXPECT_EQ(v.fresh, 0.12);
  EXPECT_EQ(v.against, 0.11);
  EXPECT_EQ(v.standard_error, 0.02);
}

TEST(Explore, WideExplorationStaysWithinTheLatencyBoundAndPrefersThinCoverage) {
  const Context tight = ctx(1, 2), loose = ctx(500, 8);
  std::mt19937_64 rng(5);
  const Choice tiny = Grid::nearest({1, 8, 3, Loss::cross_entropy, 0});
  double largest_tight = 0;
  std::set<int> seen_loose;
  for (int i = 0; i < 3000; ++i) {
    const Choice a = explore_wide(tiny, tight, {}, rng);
    EXPECT_TRUE(within_latency_bound(a, tight));
    largest_tight = std::max(largest_tight, space_size(a));
    seen_loose.insert(Grid::flat(explore_wide(tiny, loose, {}, rng)));
  }
  // T = 1 ms: latency score 1/3, so spaces up to size 0.67 (and the walk reaches them); a
  // loose T opens the whole grid (180 points of one loss).
  EXPECT_GT(largest_tight, 0.6);
  EXPECT_LE(largest_tight, 0.68);
  EXPECT_EQ(seen_loose.size(), 180u);
  // A grid point the pool already covers 100 times is drawn far less often than an empty one.
  Coverage coverage(static_cast<std::size_t>(Grid::points()), 100);
  const Choice empty = Grid::nearest({6, 64, 5, Loss::cross_entropy, 0});
  coverage[static_cast<std::size_t>(Grid::flat(empty))] = 0;
  int hits = 0;
  for (int i = 0; i < 3000; ++i) hits += explore_wide(tiny, loose, coverage, rng) == empty;
  EXPECT_GT(hits, 3000 * 8 / 180);  // ~10x its uniform share (1/180)
  // The shares: 10 % of replies explore, half of those widely.
  int near = 0, wide = 0;
  for (int i = 0; i < 10000; ++i) {
    Exploration how;
    (void)maybe_explore(tiny, loose, {}, {0.1, 0.5}, rng, how);
    near += how == Exploration::near;
    wide += how == Exploration::wide;
  }
  EXPECT_NEAR(near, 500, 90);
  EXPECT_NEAR(wide, 500, 90);
}

TEST(ModelFile, RoundTripAndRefusals) {
  const std::string dir = ::testing::TempDir() + "/pm-" + std::to_string(::getpid());
  fs::create_directories(dir);
  const Choice c = Grid::at(123);
  auto m = fixed_model(c, 7);
  m.meta = {{"targets", "knn"}};
  ASSERT_TRUE(save_predictor(dir + "/m.edgenasp", m).ok());
  auto back = load_predictor(dir + "/m.edgenasp");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->version, 7);
  EXPECT_EQ(*back->predict(ctx(5, 2)), c);
  std::ifstream in(dir + "/m.edgenasp", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (const std::string& bad : {bytes.substr(0, bytes.size() - 3), bytes + "xx",
                                 std::string("EDGENASM") + bytes.substr(8), std::string("junk")}) {
    auto r = parse_predictor(bad, "test");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "bad_model");
  }
  EXPECT_EQ(load_predictor(dir + "/missing").error().code, "not_found");
}

TEST(TracePool, RoundTripsAndABadLineRefusesTheFileWithItsNumber) {
  const std::string dir = ::testing::TempDir() + "/pool-" + std::to_string(::getpid());
  fs::create_directories(dir);
  const auto traces = synthetic::traces(5, 1, 3);
  ASSERT_TRUE(write_trace_pool(dir + "/p.jsonl", traces).ok());
  auto back = read_trace_pool(dir + "/p.jsonl");
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 5u);
  EXPECT_EQ((*back)[4].trace_id, traces[4].trace_id);
  std::ofstream(dir + "/p.jsonl", std::ios::app) << "{\"trace_id\": 7}\n";
  auto bad = read_trace_pool(dir + "/p.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "bad_pool");
  EXPECT_NE(bad.error().message.find("p.jsonl:6"), std::string::npos) << bad.error().message;
  EXPECT_EQ(read_trace_pool(dir + "/none.jsonl").error().code, "not_found");
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/svc-" + std::to_string(::getpid()) + "-" + std::to_string(n_++);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*coordinator::TraceStore::open(dir_ + "/c.db"));
    cfg_.dir = dir_ + "/predictors";
    cfg_.trainer = "/usr/bin/edgenas-predictor";
    cfg_.database = dir_ + "/c.db";
    cfg_.explore = 0.1;
    cfg_.retrain_after_traces = 40;
    cfg_.min_traces = 30;
  }
  std::unique_ptr<PredictorService> make() {
    auto s = std::make_unique<PredictorService>(clock_, *store_, cfg_, trainer_);
    EXPECT_TRUE(s->start().ok());
    return s;
  }
  void store_traces(int n) {
    std::vector<coordinator::TraceRecord> recs;
    for (auto& t : synthetic::traces(n, 1, static_cast<uint64_t>(stored_) + 1)) {
      t.trace_id += "-" + std::to_string(stored_);
      recs.push_back({"box", 1, std::move(t)});
    }
    stored_ += n;
    ASSERT_TRUE(store_->write_batch(recs, {}, {}).ok());
  }
  // What edgenas-predictor writes, with the given held-out regrets.
  void finish_fake_training(const Choice& c, double new_regret, double serving_regret) {
    const auto& argv = trainer_.specs.back().argv;
    const std::string out = argv[std::find(argv.begin(), argv.end(), "--out") - argv.begin() + 1];
    const int version =
        std::stoi(argv[std::find(argv.begin(), argv.end(), "--version") - argv.begin() + 1]);
    ASSERT_TRUE(save_predictor(out + "/model.edgenasp", fixed_model(c, version)).ok());
    std::ofstream(out + "/metrics.json") << json{
        {"training_traces", 40},
        {"heldout",
         {{"new", {{"regret", new_regret}}},
          {"baseline", {{"regret", serving_regret}}},
          {"cold_start",
           {{"regret", serving_regret}}}}}}.dump();
    trainer_.exit = ChildExit{0, 0};
  }
  proto::HparamReply ask(PredictorService& s, const std::string& id) {
    proto::HparamRequest req;
    req.request_id = id;
    req.context = ctx(20, 4);
    return s.choose("box", req);
  }

  std::string dir_;
  static inline int n_ = 0;
  int stored_ = 0;
  ManualClock clock_;
  FakeTrainer trainer_;
  std::unique_ptr<coordinator::TraceStore> store_;
  PredictorConfig cfg_;
};

TEST_F(ServiceTest, ColdStartWithAnExplorationShareThatIsFlagged) {
  auto s = make();
  EXPECT_EQ(s->describe(), "cold-start");
  int explored = 0;
  for (int i = 0; i < 2000; ++i) {
    auto r = ask(*s, "r" + std::to_string(i));
    ASSERT_TRUE(r.hparams.validate().ok());
    EXPECT_EQ(r.predictor_version, 0);
    if (r.explore) {
      ++explored;
      EXPECT_EQ(r.policy, "explore");
    } else {
      EXPECT_EQ(r.policy, "cold-start");
    }
  }
  EXPECT_GT(explored, 150);  // 10 % of 2000, with room for chance
  EXPECT_LT(explored, 250);
  // The same request gets the same answer.
  EXPECT_EQ(ask(*s, "r7").hparams, ask(*s, "r7").hparams);
}

// A store without versions imports the warm start, serves it from the first request and marks
// it; retrainings pool its simulated traces; a fleet-trained version replaces it past the gate;
// turned off, the rule serves again; an unmarked or missing warm start leaves the rule serving.
TEST_F(ServiceTest, TheWarmStartServesFirstIsMarkedPooledAndReplacedByTheGate) {
  const std::string ws = dir_ + "/warm";
  fs::create_directories(ws);
  const Choice warm = Grid::at(200);
  auto m = fixed_model(warm, 1);
  m.meta = {{kTrainedInKey, kTrainedInSimulation}};
  ASSERT_TRUE(save_predictor(ws + "/model.edgenasp", m).ok());
  std::ofstream(ws + "/metrics.json") << json{{kTrainedInKey, kTrainedInSimulation}}.dump();
  ASSERT_TRUE(write_trace_pool(ws + "/pool.jsonl", synthetic::traces(30, 1, 9)).ok());
  cfg_.warm_start = ws;
  cfg_.explore = 0;
  auto s = make();
  EXPECT_EQ(s->serving_version(), 1);
  EXPECT_NE(s->describe().find("trained in simulation"), std::string::npos) << s->describe();
  auto r = ask(*s, "first");
  EXPECT_EQ(r.policy, kWarmStartPolicy);
  EXPECT_EQ(r.predictor_version, 1);
  EXPECT_NE(r.reason.find("trained in simulation"), std::string::npos) << r.reason;
  EXPECT_EQ(Grid::nearest(r.hparams), warm);
  auto rows = *s->list();
  EXPECT_EQ(rows["versions"][0]["trained_in"], "simulation");
  // No fleet trace yet: nothing new to train on. One is enough beside the pool (below: 50).
  auto none = s->train("none");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("at least 1 (besides the warm start's pool)"),
            std::string::npos)
      << none.error().message;
  // The fleet's traces retrain, pooled with the simulated ones.
  store_traces(50);
  s->tick(50);
  ASSERT_EQ(trainer_.specs.size(), 1u);
  const auto& argv = trainer_.specs[0].argv;
  auto pool = std::find(argv.begin(), argv.end(), "--pool");
  ASSERT_NE(pool, argv.end());
  EXPECT_EQ(pool[1], cfg_.dir + "/v1/pool.jsonl");
  EXPECT_EQ(read_trace_pool(pool[1])->size(), 30u);
  const Choice fleet = Grid::at(321);
  finish_fake_training(fleet, 0.01, 0.03);
  s->tick(50);
  EXPECT_EQ(s->serving_version(), 2);
  EXPECT_EQ(ask(*s, "later").policy, "predictor");
  EXPECT_EQ((*s->list())["versions"][1]["trained_in"], "fleet");
  // Back to the warm start, then turned off: the rule serves; nothing is imported twice.
  ASSERT_TRUE(s->promote(1, "test").ok());
  cfg_.warm_start = "";
  auto off = make();
  EXPECT_EQ(off->describe(), "cold-start");
  EXPECT_EQ(ask(*off, "off").policy, "cold-start");
  EXPECT_EQ((*off->list())["versions"].size(), 2u);
}

TEST_F(ServiceTest, AWarmStartThatIsNotMarkedOrMissingLeavesTheRuleServing) {
  const std::string ws = dir_ + "/unmarked";
  fs::create_directories(ws);
  ASSERT_TRUE(save_predictor(ws + "/model.edgenasp", fixed_model(Grid::at(5), 1)).ok());
  std::ofstream(ws + "/metrics.json") << "{}";
  for (const std::string& dir : {ws, dir_ + "/nowhere"}) {
    cfg_.warm_start = dir;
    auto s = make();
    EXPECT_EQ(s->describe(), "cold-start") << dir;
    EXPECT_TRUE((*s->list())["versions"].empty()) << dir;
  }
}

TEST_F(ServiceTest, TrainsInTheBackgroundAndPromotesPastTheGate) {
  auto s = make();
  EXPECT_FALSE(s->train("test").ok());  // no traces yet
  store_traces(50);
  s->tick(50);  // 50 new traces ≥ 40: a training starts
  ASSERT_EQ(trainer_.specs.size(), 1u);
  EXPECT_TRUE(s->training());
  EXPECT_EQ(trainer_.specs[0].nice, 10);
  EXPECT_EQ(s->train("again").error().code, "busy");
  // Replies go on (cold start) while it trains.
  EXPECT_EQ(ask(*s, "x").predictor_version, 0);
  const Choice c = Grid::at(321);
  finish_fake_training(c, 0.01, 0.03);
  s->tick(50);
  EXPECT_FALSE(s->training());
  EXPECT_EQ(s->serving_version(), 1);
  auto rows = *s->list();
  EXPECT_EQ(rows["versions"][0]["status"], "promoted");
  // Replies now come from v1 and name it.
  cfg_.explore = 0;
  auto quiet = make();
  auto r = ask(*quiet, "after");
  EXPECT_EQ(r.policy, "predictor");
  EXPECT_EQ(r.predictor_version, 1);
  EXPECT_EQ(Grid::nearest(r.hparams), c);
}

TEST_F(ServiceTest, AFailedTrainingIsShownAndNotRepeatedWithoutNewTraces) {
  cfg_.retrain_every_ms = 1000;
  auto s = make();
  store_traces(50);
  s->tick(50);
  ASSERT_EQ(trainer_.specs.size(), 1u);
  trainer_.exit = ChildExit{1, 0};  // the trainer fails (e.g. too few traces held out)
  s->tick(50);
  EXPECT_FALSE(s->training());
  EXPECT_TRUE(s->last_training_failed());
  auto listed = s->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)["last_failure"]["version"], 1);
  EXPECT_EQ((*listed)["last_failure"]["traces"], 50);
  // The schedule fires again and again: no new training on the same 50 traces.
  for (int i = 0; i < 5; ++i) {
    clock_.advance(1500);
    s->tick(50);
  }
  EXPECT_EQ(trainer_.specs.size(), 1u);
  // New traces are new information: the next trigger trains.
  trainer_.exit.reset();
  store_traces(45);
  clock_.advance(1500);
  s->tick(95);
  EXPECT_EQ(trainer_.specs.size(), 2u);
}

TEST_F(ServiceTest, TheGateKeepsAWorseVersionFromServing) {
  auto s = make();
  store_traces(50);
  ASSERT_TRUE(s->train("test").ok());
  finish_fake_training(Grid::at(5), 0.05, 0.03);
  s->tick(50);
  EXPECT_EQ(s->serving_version(), 0);
  EXPECT_EQ((*s->list())["versions"][0]["status"], "rejected");
  // A failed training is recorded as failed.
  trainer_.exit.reset();
  ASSERT_TRUE(s->train("again").ok());
  trainer_.exit = ChildExit{1, 0};
  s->tick(50);
  EXPECT_EQ((*s->list())["versions"][1]["status"], "failed");
}

TEST_F(ServiceTest, PromoteRollbackCorruptFilesAndARestart) {
  auto s = make();
  store_traces(50);
  for (int v = 1; v <= 2; ++v) {
    trainer_.exit.reset();
    ASSERT_TRUE(s->train("t").ok());
    finish_fake_training(Grid::at(v * 10), 0.0, 0.01 * v);
    s->tick(50);
    ASSERT_EQ(s->serving_version(), v);
  }
  ASSERT_TRUE(s->rollback().ok());
  EXPECT_EQ(s->serving_version(), 1);
  ASSERT_TRUE(s->promote(2, "by hand").ok());
  EXPECT_EQ(s->serving_version(), 2);
  // v1's file is damaged: promoting it fails clearly and v2 keeps serving.
  { std::ofstream(cfg_.dir + "/v1/model.edgenasp", std::ios::trunc) << "EDGENASP broken"; }
  auto bad = s->promote(1, "by hand");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "bad_model");
  EXPECT_EQ(s->serving_version(), 2);
  EXPECT_EQ((*s->show(1))["status"], "failed");
  // A restarted coordinator serves what was promoted.
  auto again = make();
  EXPECT_EQ(again->serving_version(), 2);
  // Rolling back past a failed version ends at the cold start.
  ASSERT_TRUE(again->rollback().ok());
  EXPECT_EQ(again->serving_version(), 0);
  EXPECT_EQ(make()->serving_version(), 0);  // and that survives a restart too
}

TEST_F(ServiceTest, ATrainingThatHangsIsKilled) {
  cfg_.train_timeout_ms = 1000;
  auto s = make();
  store_traces(50);
  ASSERT_TRUE(s->train("t").ok());
  clock_.advance(2000);
  s->tick(50);
  EXPECT_EQ(trainer_.signals, std::vector<int>{SIGKILL});
  trainer_.exit = ChildExit{0, SIGKILL};
  s->tick(50);
  EXPECT_EQ((*s->list())["versions"][0]["status"], "failed");
}

TEST(Canary, AStableShareOfAgentsChosenByHash) {
  int in10 = 0, in30_from10 = 0;
  for (int i = 0; i < 10'000; ++i) {
    const std::string id = "box-" + std::to_string(i);
    const bool a = PredictorService::in_canary(id, 0.10);
    in10 += a;
    // Widening keeps everyone who was in.
    if (a) in30_from10 += PredictorService::in_canary(id, 0.30);
    EXPECT_EQ(a, PredictorService::in_canary(id, 0.10));  // stable
  }
  EXPECT_NEAR(in10, 1000, 150);
  EXPECT_EQ(in30_from10, in10);
  EXPECT_TRUE(PredictorService::in_canary("anything", 1.0));
}

TEST_F(ServiceTest, ACanaryServesItsShareAndIsRolledBackWhenItsTracesAreWorse) {
  cfg_.explore = 0;
  cfg_.rollout_min_traces = 10;
  cfg_.rollout_margin = 0.05;
  cfg_.rollout_check_every_ms = 0;
  auto s = make();
  store_traces(50);
  for (int v = 1; v <= 2; ++v) {  // v1 promoted; v2 passes too, promoted, then rolled back
    trainer_.exit.reset();
    ASSERT_TRUE(s->train("t").ok());
    finish_fake_training(Grid::at(v * 10), 0.0, 0.01);
    s->tick(50);
  }
  ASSERT_TRUE(s->rollback().ok());
  ASSERT_EQ(s->serving_version(), 1);
  EXPECT_EQ(s->rollout(1, 0.1, "x").error().code, "bad_request");  // serves everyone already
  auto r = s->rollout(2, 0.2, "canary test");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["baseline"], 1);
  EXPECT_EQ(s->rollout(1, 0.5, "x").error().code, "bad_request");
  // Replies: canary agents get v2, the others v1, and each reply names its version.
  proto::HparamRequest req;
  req.request_id = "q";
  req.context = ctx(20, 4);
  int canary = 0;
  std::vector<std::string> agents;
  for (int i = 0; i < 500; ++i) {
    const std::string id = "box-" + std::to_string(i);
    agents.push_back(id);
    auto reply = s->choose(id, req);
    EXPECT_EQ(reply.predictor_version, PredictorService::in_canary(id, 0.2) ? 2 : 1);
    canary += reply.predictor_version == 2;
  }
  EXPECT_NEAR(canary, 100, 40);
  auto fleet = *s->fleet_status(agents);
  EXPECT_EQ(fleet["rollout"]["version"], 2);
  EXPECT_EQ(fleet["versions"].size(), 2u);
  // A restart keeps the rollout.
  auto again = make();
  EXPECT_EQ(again->rollout_version(), 2);
  // Traces come back: the canary's are clearly worse. Not enough yet: nothing happens.
  auto trace_from = [&](const std::string& id, int version, double acc) {
    Trace t = synthetic::traces(1, 1, 7)[0];
    t.trace_id = id;
    t.policy = "predictor";
    t.predictor_version = version;
    t.outcome.accuracy = acc;
    return coordinator::TraceRecord{"box", clock_.wall_ms(), t};
  };
  std::vector<coordinator::TraceRecord> recs;
  for (int i = 0; i < 5; ++i) recs.push_back(trace_from("c" + std::to_string(i), 2, 0.70));
  for (int i = 0; i < 12; ++i) recs.push_back(trace_from("b" + std::to_string(i), 1, 0.95));
  ASSERT_TRUE(store_->write_batch(recs, {}, {}).ok());
  again->tick(0);
  EXPECT_EQ(again->rollout_version(), 2);
  recs.clear();
  for (int i = 5; i < 12; ++i) recs.push_back(trace_from("c" + std::to_string(i), 2, 0.70));
  clock_.advance(10);
  ASSERT_TRUE(store_->write_batch(recs, {}, {}).ok());
  again->tick(0);
  EXPECT_EQ(again->rollout_version(), 0);  // rolled back automatically
  EXPECT_EQ(again->automatic_rollbacks(), 1);
  EXPECT_EQ(again->serving_version(), 1);
  auto past = (*again->fleet_status({}))["past_rollouts"][0];
  EXPECT_EQ(past["state"], "rolled_back");
  EXPECT_NE(past["note"].get<std::string>().find("canary mean reward"), std::string::npos);
  // Everyone gets v1 again; and that survives a restart.
  EXPECT_EQ(again->choose("box-1", req).predictor_version, 1);
  EXPECT_EQ(make()->rollout_version(), 0);
}

TEST_F(ServiceTest, PromotingTheCanaryWidensItToEveryone) {
  cfg_.explore = 0;
  cfg_.auto_promote = false;
  auto s = make();
  store_traces(50);
  ASSERT_TRUE(s->train("t").ok());
  finish_fake_training(Grid::at(10), 0.0, 0.01);
  s->tick(50);  // v1 passes the gate but waits for an admin
  ASSERT_EQ(s->serving_version(), 0);
  ASSERT_TRUE(s->rollout(1, 0.5, "try").ok());
  EXPECT_EQ((*s->fleet_status({"a"}))["rollout"]["baseline"], 0);  // against the cold start
  ASSERT_TRUE(s->promote(1, "looks good").ok());
  EXPECT_EQ(s->rollout_version(), 0);
  EXPECT_EQ(s->serving_version(), 1);
  EXPECT_EQ((*s->fleet_status({}))["past_rollouts"][0]["state"], "promoted");
  // A rollout that an admin takes back: everyone keeps v1.
  trainer_.exit.reset();
  ASSERT_TRUE(s->train("t2").ok());
  finish_fake_training(Grid::at(20), 0.0, 0.01);
  s->tick(50);
  ASSERT_TRUE(s->rollout(2, 0.1, "try").ok());
  ASSERT_TRUE(s->rollback().ok());
  EXPECT_EQ(s->rollout_version(), 0);
  EXPECT_EQ(s->serving_version(), 1);
}

}  // namespace
}  // namespace edgenas::predictor
