// The SearchRunner with a fake process launcher, a real SQLite run store and a ManualClock.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "agent/core/search_runner.hpp"
#include "agent/store/agent_store.hpp"
#include "common/protocol/codec.hpp"
#include "common/search/latency_set.hpp"
#include "common/util/files.hpp"

namespace edgenas::agent {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

class FakeLauncher final : public ChildLauncher {
 public:
  struct Proc {
    ChildSpec spec;
    std::vector<std::string> lines;
    std::optional<ChildExit> exit;
    std::vector<int> signals;
  };
  Expected<int> spawn(const ChildSpec& spec) override {
    if (fail_spawn) return Error{"spawn", "no such file"};
    procs[next] = {spec, {}, std::nullopt, {}};
    return next++;
  }
  std::optional<int> adopt(int pid, const std::string&) override {
    if (!alive_pids.count(pid)) return std::nullopt;
    procs[pid] = {};
    return pid;
  }
  void signal(int h, int sig) override { procs[h].signals.push_back(sig); }
  std::optional<ChildExit> poll(int h) override { return procs[h].exit; }
  std::vector<std::string> take_lines(int h) override {
    auto out = std::move(procs[h].lines);
    procs[h].lines.clear();
    return out;
  }
  std::string limits_applied(int) const override { return "fake"; }

  Proc& last() { return procs.rbegin()->second; }
  int last_handle() const { return procs.rbegin()->first; }
  std::map<int, Proc> procs;
  std::set<int> alive_pids;
  bool fail_spawn = false;
  int next = 100;
};

Context box_context() {
  Context c;
  c.source.devices = {{"cpu", 3, 2000}};
  c.source.power_w = 12;
  c.job.tasks = {{"ocr", 5.0, {{"cpu", 2, 0.1, 1}}}};
  return c;
}

// The link as the runner sees it: every request and cancel recorded, a reply once reply_ready,
// traces validated and kept in the real store.
class FakeLink final : public SearchLink {
 public:
  std::vector<Context> requested;
  std::vector<std::string> cancelled;
  std::vector<Trace> traces;
  std::vector<int> latency_versions;               // what each request said the box holds
  std::optional<proto::LatencyModelsOffer> offer;  // sent with every reply when set
  bool reply_ready = false;
  AgentStore* store = nullptr;

  Context context() const override { return box_context(); }
  std::string request_hparams(const Context& c, int latency_version) override {
    requested.push_back(c);
    latency_versions.push_back(latency_version);
    return "req-" + std::to_string(requested.size());
  }
  std::optional<proto::HparamReply> take_hparam_reply(const std::string& id) override {
    if (!reply_ready) return std::nullopt;
    proto::HparamReply r;
    r.request_id = id;
    r.hparams = {3, 16, 3, Loss::focal, 42};
    r.policy = "predictor";
    r.predictor_version = 7;
    r.latency = offer;
    return r;
  }
  void cancel_hparam_request(const std::string& id) override { cancelled.push_back(id); }
  Status submit_trace(const Trace& t) override {
    if (auto s = t.validate(); !s) return s;
    traces.push_back(t);
    return store->add(t);
  }
};

class SearchRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("runner-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*AgentStore::open(dir_ + "/agent.db", 100, OutboxFullPolicy::drop_oldest));
    link_.store = store_.get();
    settings_.binary = "/usr/bin/edgenas-search";
    settings_.data = "folder:/data/digits";
    settings_.runs_dir = dir_ + "/searches";
    settings_.budget_ms = 60'000;
    settings_.stop_grace_ms = 5'000;
    settings_.hparams_timeout_ms = 10'000;
  }
  std::unique_ptr<SearchRunner> make() {
    return std::make_unique<SearchRunner>(clock_, settings_, launcher_, *store_, link_, "box1");
  }
  // Drives a run to the point where edgenas-search runs.
  std::string start_running(SearchRunner& r) {
    auto id = r.start("local", json::object());
    EXPECT_TRUE(id.ok()) << id.error().message;
    launcher_.last().lines = {
        R"({"classes":10,"image_h":28,"image_w":28,"channels":1,"samples":600})"};
    launcher_.last().exit = ChildExit{0, 0};
    r.tick();
    reply_ready = true;
    r.tick();
    return *id;
  }
  void write_results(const std::string& run_id, double acc, bool met,
                     const json& progress = json()) {
    json res{{"status", "ok"},
             {"elapsed_s", 55.0},
             {"trials", 17},
             {"best",
              {{"test_accuracy", acc},
               {"latency_ms", 0.4},
               {"latency_modelled", false},
               {"energy_mj", 4.8},
               {"energy_modelled", true},
               {"met_latency", met},
               {"latency_device", "cpu"}}}};
    if (!progress.is_null()) res["progress"] = progress;
    std::ofstream(settings_.runs_dir + "/" + run_id + "/out/results.json") << res.dump();
  }

  std::string dir_;
  static inline int counter_ = 0;
  ManualClock clock_;
  FakeLauncher launcher_;
  std::unique_ptr<AgentStore> store_;
  SearchSettings settings_;
  FakeLink link_;
  std::vector<Context>& requested = link_.requested;
  std::vector<std::string>& cancelled = link_.cancelled;
  std::vector<Trace>& traces = link_.traces;
  bool& reply_ready = link_.reply_ready;
};

TEST_F(SearchRunnerTest, InspectsAsksRunsInsideTheLimitsAndDeliversATrace) {
  auto r = make();
  auto id = r->start("command:c1", json{{"trials", 20}});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(launcher_.last().spec.argv[1], "inspect");
  EXPECT_EQ(r->progress()->phase, "inspecting");
  launcher_.last().lines = {
      R"({"classes":10,"image_h":28,"image_w":28,"channels":1,"samples":600})"};
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();
  ASSERT_EQ(requested.size(), 1u);  // hyperparameters are asked for with the data set's shape
  ASSERT_TRUE(requested[0].dataset.has_value());
  EXPECT_EQ(requested[0].dataset->samples, 600);
  EXPECT_EQ(r->progress()->phase, "requesting");
  r->tick();  // no reply yet
  EXPECT_EQ(launcher_.procs.size(), 1u);
  reply_ready = true;
  r->tick();
  ASSERT_EQ(launcher_.procs.size(), 2u);
  const auto& spec = launcher_.last().spec;
  auto has = [&](const std::string& flag, const std::string& value) {
    for (std::size_t i = 0; i + 1 < spec.argv.size(); ++i)
      if (spec.argv[i] == flag && spec.argv[i + 1] == value) return true;
    return false;
  };
  EXPECT_TRUE(has("--workers", "3"));  // the Source matrix has 3 free CPU nodes
  EXPECT_TRUE(has("--trials", "20"));
  EXPECT_TRUE(has("--budget", "60000ms"));
  EXPECT_TRUE(has("--progress", "json"));
  EXPECT_EQ(spec.limits.cpus, 3);
  EXPECT_EQ(spec.limits.memory_mb, 1600);  // 80 % of 2000 MB free
  auto hp = json::parse(std::ifstream(settings_.runs_dir + "/" + *id + "/hparams.json"));
  EXPECT_EQ(hp["loss"], "focal");

  launcher_.last().lines = {
      "not json",
      R"({"event":5})",
      R"({"event":"trial","trials_done":"x"})",
      R"([1,2])",
      R"({"event":"start","budget_s":60})",
      R"({"event":"trial","trials_done":4,"best_accuracy":0.91,"best_latency_ms":0.3,"elapsed_s":12})"};
  r->tick();
  ASSERT_TRUE(r->progress().has_value());
  EXPECT_EQ(r->progress()->trials, 4);
  EXPECT_DOUBLE_EQ(r->progress()->best_accuracy, 0.91);

  // The search's progress goes into the trace; steps a child garbled are skipped.
  write_results(*id, 0.985, true,
                {{"compute_s", 300.0},
                 {"points", {{2.0, 0.5}, "junk", {10.0}, {20.0, 0.9}, {30.0, 0.8}, {44.0, 0.97}}}});
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();
  EXPECT_FALSE(r->busy());
  ASSERT_EQ(traces.size(), 1u);
  const Trace& t = traces[0];
  ASSERT_TRUE(t.outcome.progress.has_value());
  EXPECT_DOUBLE_EQ(t.outcome.progress->compute_s, 300);
  ASSERT_EQ(t.outcome.progress->points.size(), 3u);  // 30 s did not improve on 20 s
  EXPECT_DOUBLE_EQ(t.outcome.progress->points[2].reward, 0.97);
  EXPECT_TRUE(t.validate().ok());
  EXPECT_EQ(t.trace_id, *id);  // resubmitting after a crash stays idempotent
  EXPECT_EQ(t.outcome.status, TraceStatus::ok);
  EXPECT_DOUBLE_EQ(t.outcome.accuracy, 0.985);
  EXPECT_TRUE(t.outcome.met_latency);
  EXPECT_EQ(t.outcome.trials, 17);
  EXPECT_EQ(t.policy, "predictor");
  EXPECT_EQ(t.predictor_version, 7);
  EXPECT_EQ(t.hparams.loss, Loss::focal);
  EXPECT_TRUE(t.context.dataset.has_value());
  EXPECT_EQ(r->searches_run(), 1);
  EXPECT_EQ(r->last_predictor_version(), 7);
  EXPECT_TRUE(store_->unfinished_runs()->empty());
}

// Latency models of one kind (an additive model: 0.5 ms plus a little per scaled feature).
json latency_models(int version) {
  const auto width = search::latency_feature_names().size();
  search::LatencyModelSet set;
  set.version = version;
  set.scale = {std::vector<double>(width, 0.0), std::vector<double>(width, 1.0)};
  search::KindModel k;
  k.kind = {"ARM Cortex-A72", "libtorch 1.13.1", 1, "cnn"};
  k.method = "additive";
  k.additive = {k.kind.label(), set.scale, 0.5, std::vector<double>(width, 1e-3), 0.01};
  k.serves = true;
  set.kinds.push_back(k);
  return search::to_json(set);
}

std::optional<std::string> flag_value(const std::vector<std::string>& argv,
                                      const std::string& flag) {
  const auto it = std::find(argv.begin(), argv.end(), flag);
  if (it == argv.end() || it + 1 == argv.end()) return std::nullopt;
  return *(it + 1);
}

// Newer latency models that come with a reply are kept in one file; the box says which version
// it holds with every request, passes the file to edgenas-search, and keeps it across restarts.
// A version that does not read as latency models is refused and the kept one stays.
TEST_F(SearchRunnerTest, LatencyModelsFromAReplyAreKeptAndGivenToTheSearch) {
  settings_.latency_models = dir_ + "/latency-models.json";
  auto r = make();
  link_.offer = proto::LatencyModelsOffer{2, latency_models(2)};
  auto id = start_running(*r);
  EXPECT_EQ(link_.latency_versions, std::vector<int>{0});
  EXPECT_EQ(flag_value(launcher_.last().spec.argv, "--latency-models"), settings_.latency_models);
  auto kept = files::read_json(settings_.latency_models);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ((*kept)["version"], 2);
  // The run's record keeps the hyperparameters, not the models.
  auto saved = store_->unfinished_runs();
  ASSERT_TRUE(saved.ok() && saved->size() == 1u);
  ASSERT_TRUE(saved->front().reply.has_value());
  EXPECT_FALSE(saved->front().reply->latency.has_value());
  write_results(id, 0.98, true);
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();

  // A bad version: refused, v2 stays and is still what the search reads.
  link_.offer = proto::LatencyModelsOffer{3, json{{"version", 3}, {"kinds", "garbage"}}};
  reply_ready = false;
  id = start_running(*r);
  EXPECT_EQ(link_.latency_versions.back(), 2);
  EXPECT_EQ((*files::read_json(settings_.latency_models))["version"], 2);
  EXPECT_EQ(flag_value(launcher_.last().spec.argv, "--latency-models"), settings_.latency_models);
  write_results(id, 0.98, true);
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();

  // A restarted agent knows what it holds.
  link_.offer.reset();
  reply_ready = false;
  auto restarted = make();
  start_running(*restarted);
  EXPECT_EQ(link_.latency_versions.back(), 2);
}

TEST(KeptLatencyModels, AVersionThatSaysAnotherIsRefusedAndNoPathKeepsNothing) {
  const std::string path = ::testing::TempDir() + "/kept-" + std::to_string(::getpid()) + ".json";
  std::filesystem::remove(path);
  KeptLatencyModels kept(path);
  EXPECT_EQ(kept.version(), 0);
  EXPECT_FALSE(kept.keep({5, latency_models(4)}).ok());  // the reply and the models disagree
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(kept.keep({4, latency_models(4)}).ok());
  EXPECT_EQ(kept.version(), 4);
  std::ofstream(path) << "{ not json";
  EXPECT_EQ(KeptLatencyModels(path).version(), 0);  // unreadable: asked for again
  KeptLatencyModels none("");
  EXPECT_TRUE(none.keep({4, latency_models(4)}).ok());
  EXPECT_EQ(none.version(), 0);
}

// `[search] export_onnx` asks each search for an ONNX copy of its model; without it, none.
bool asks_for_onnx(const std::vector<std::string>& argv) {
  return std::find(argv.begin(), argv.end(), "--export-onnx") != argv.end();
}

TEST_F(SearchRunnerTest, TheSearchWritesNoOnnxUnlessTheBoxAsks) {
  auto r = make();
  start_running(*r);
  EXPECT_FALSE(asks_for_onnx(launcher_.last().spec.argv));
}

TEST_F(SearchRunnerTest, TheSearchWritesOnnxWhenTheBoxAsks) {
  settings_.export_onnx = true;
  auto r = make();
  start_running(*r);
  EXPECT_TRUE(asks_for_onnx(launcher_.last().spec.argv));
}

// The box keeps the better model: the first search's model is kept, the next search is handed
// it as --incumbent, and it stays when that search finds it better; the Trace reports the
// search's own model either way. A change of data set means no incumbent.
TEST_F(SearchRunnerTest, TheBoxKeepsTheBetterOfItsModelAndTheSearchs) {
  settings_.model_dir = dir_ + "/model";
  auto r = make();
  auto finish_with = [&](const std::string& id, double acc, const std::string& weights,
                         const json& incumbent) {
    write_results(id, acc, true);
    auto res = json::parse(std::ifstream(settings_.runs_dir + "/" + id + "/out/results.json"));
    res["best"]["validation_accuracy"] = acc;
    if (!incumbent.is_null()) res["incumbent"] = incumbent;
    std::ofstream(settings_.runs_dir + "/" + id + "/out/results.json") << res.dump();
    std::ofstream(settings_.runs_dir + "/" + id + "/out/best.edgenas") << weights;
    launcher_.last().exit = ChildExit{0, 0};
    r->tick();
  };
  auto argv_has_incumbent = [&] {
    const auto& argv = launcher_.last().spec.argv;
    return std::find(argv.begin(), argv.end(), "--incumbent") != argv.end();
  };
  auto kept_weights = [&] {
    std::ifstream in(settings_.model_dir + "/best.edgenas");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };

  const std::string first = start_running(*r);
  EXPECT_FALSE(argv_has_incumbent());  // nothing kept yet
  finish_with(first, 0.97, "model-1", nullptr);
  EXPECT_EQ(kept_weights(), "model-1");
  EXPECT_EQ(r->status()["model"]["run_id"], first);
  EXPECT_DOUBLE_EQ(r->status()["model"]["validation_accuracy"].get<double>(), 0.97);

  reply_ready = false;
  clock_.advance(1000);  // a run id of its own
  const std::string second = start_running(*r);
  EXPECT_TRUE(argv_has_incumbent());
  finish_with(second, 0.95, "model-2", {{"better", true}, {"validation_accuracy", 0.97}});
  EXPECT_EQ(kept_weights(), "model-1");  // the kept one scored better on this split
  EXPECT_NE(r->status()["last_model_update"].get<std::string>().find("kept"), std::string::npos);
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_DOUBLE_EQ(traces[1].outcome.accuracy, 0.95);  // the Trace is the search's own

  reply_ready = false;
  clock_.advance(1000);
  const std::string third = start_running(*r);
  finish_with(third, 0.99, "model-3", {{"better", false}, {"validation_accuracy", 0.97}});
  EXPECT_EQ(kept_weights(), "model-3");
  EXPECT_EQ(r->status()["model"]["run_id"], third);

  // Results a child garbled do not touch the kept model.
  BoxModel direct(settings_.model_dir);
  EXPECT_FALSE(direct.update("x", dir_, json::array({1, 2}), settings_.data, "", 0).ok());
  EXPECT_EQ(kept_weights(), "model-3");
  // Why a model is kept says which test the new one failed.
  const json misses{{"incumbent", {{"better", true}, {"new_meets_constraints", false}}}};
  auto why = direct.update("y", dir_, misses, settings_.data, "", 0);
  ASSERT_TRUE(why.ok());
  EXPECT_NE(why->find("misses T"), std::string::npos) << *why;
  const json tie{{"incumbent", {{"better", true}, {"new_meets_constraints", true}}}};
  why = direct.update("z", dir_, tie, settings_.data, "", 0);
  ASSERT_TRUE(why.ok());
  EXPECT_NE(why->find("not a clear lead"), std::string::npos) << *why;
  EXPECT_EQ(kept_weights(), "model-3");

  // Another data set: the kept model is not compared with searches on it.
  settings_.data = "folder:/data/other";
  clock_.advance(1000);
  reply_ready = false;
  auto other = make();
  ASSERT_TRUE(other->start("local", json::object()).ok());
  launcher_.last().lines = {
      R"({"classes":10,"image_h":28,"image_w":28,"channels":1,"samples":600})"};
  launcher_.last().exit = ChildExit{0, 0};
  other->tick();
  reply_ready = true;
  other->tick();
  EXPECT_EQ(launcher_.last().spec.argv[1], "run");
  EXPECT_FALSE(argv_has_incumbent());
}

TEST_F(SearchRunnerTest, AKilledChildIsAFailedTraceAndTheRunnerCarriesOn) {
  auto r = make();
  start_running(*r);
  launcher_.last().exit = ChildExit{0, SIGKILL};  // e.g. the OOM killer
  r->tick();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].outcome.status, TraceStatus::failed);
  EXPECT_NE(traces[0].outcome.error.find("signal 9"), std::string::npos);
  EXPECT_FALSE(r->busy());
  EXPECT_TRUE(r->start("local", json::object()).ok());  // the next one starts
}

TEST_F(SearchRunnerTest, ANonZeroExitCarriesTheLastLogLine) {
  auto r = make();
  const auto id = start_running(*r);
  std::ofstream(settings_.runs_dir + "/" + id + "/search.log") << "loading\nbad things happened\n";
  launcher_.last().exit = ChildExit{1, 0};
  r->tick();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_NE(traces[0].outcome.error.find("code 1: bad things happened"), std::string::npos)
      << traces[0].outcome.error;
}

TEST_F(SearchRunnerTest, CancelSendsSigtermThenSigkillAfterTheGrace) {
  auto r = make();
  const auto id = start_running(*r);
  ASSERT_TRUE(r->cancel("test").ok());
  EXPECT_EQ(launcher_.last().signals, std::vector<int>{SIGTERM});
  EXPECT_EQ(r->progress()->phase, "stopping");
  clock_.advance(settings_.stop_grace_ms + 1);
  r->tick();
  EXPECT_EQ(launcher_.last().signals, (std::vector<int>{SIGTERM, SIGKILL}));
  // It kept a best model before dying: the trace is ok.
  write_results(id, 0.9, false);
  launcher_.last().exit = ChildExit{0, SIGKILL};
  r->tick();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].outcome.status, TraceStatus::ok);
  EXPECT_FALSE(traces[0].outcome.met_latency);
}

TEST_F(SearchRunnerTest, CancelBeforeTheSearchRanLeavesNoTrace) {
  auto r = make();
  ASSERT_TRUE(r->start("local", json::object()).ok());
  launcher_.last().lines = {R"({"classes":10,"image_h":28,"image_w":28,"channels":1,"samples":6})"};
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();
  ASSERT_TRUE(r->cancel("changed my mind").ok());
  EXPECT_EQ(cancelled, std::vector<std::string>{"req-1"});
  EXPECT_FALSE(r->busy());
  EXPECT_TRUE(traces.empty());
  EXPECT_FALSE(r->cancel("again").ok());
}

// Pinned hyperparameters: the coordinator is not asked, the child gets them, the trace says so.
TEST_F(SearchRunnerTest, PinnedHyperparametersAreUsedWithoutAskingTheCoordinator) {
  auto r = make();
  const json pinned{
      {"layers", 2}, {"filters", 8}, {"kernel", 3}, {"loss", "cross_entropy"}, {"seed", 5}};
  auto id = r->start("local", json{{"hparams", pinned}});
  ASSERT_TRUE(id.ok()) << id.error().message;
  launcher_.last().lines = {
      R"({"classes":10,"image_h":28,"image_w":28,"channels":1,"samples":600})"};
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();
  EXPECT_TRUE(requested.empty());
  ASSERT_EQ(launcher_.procs.size(), 2u);  // edgenas-search runs at once
  auto hp = json::parse(std::ifstream(settings_.runs_dir + "/" + *id + "/hparams.json"));
  EXPECT_EQ(hp, pinned);
  write_results(*id, 0.95, true);
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].policy, "manual");
  EXPECT_EQ(traces[0].hparams.layers, 2);
}

TEST_F(SearchRunnerTest, RefusesWhatItCannotDo) {
  auto r = make();
  EXPECT_EQ(r->start("local", json{{"colour", "blue"}}).error().code, "bad_request");
  EXPECT_EQ(r->start("local", json{{"budget", "soon"}}).error().code, "bad_request");
  EXPECT_EQ(r->start("local", json{{"strategy", "guess"}}).error().code, "bad_request");
  EXPECT_EQ(r->start("local", json{{"hparams", {{"layers", 99}}}}).error().code, "bad_request");
  ASSERT_TRUE(r->start("local", json::object()).ok());
  EXPECT_EQ(r->start("local", json::object()).error().code, "busy");
  settings_.binary.clear();
  settings_.data.clear();
  EXPECT_EQ(make()->start("local", json::object()).error().code, "unavailable");
}

TEST_F(SearchRunnerTest, UnreadableDataOrNoHyperparametersAbandonTheRun) {
  auto r = make();
  ASSERT_TRUE(r->start("local", json::object()).ok());
  launcher_.last().exit = ChildExit{2, 0};  // edgenas-search inspect: bad data
  r->tick();
  EXPECT_FALSE(r->busy());
  EXPECT_NE(r->status()["last_outcome"].get<std::string>().find("cannot be used"),
            std::string::npos);

  ASSERT_TRUE(r->start("local", json::object()).ok());
  launcher_.last().lines = {R"({"classes":10,"image_h":28,"image_w":28,"channels":1,"samples":6})"};
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();
  clock_.advance(settings_.hparams_timeout_ms + 1);
  r->tick();
  EXPECT_FALSE(r->busy());
  EXPECT_EQ(cancelled.size(), 1u);
  EXPECT_TRUE(traces.empty());
}

TEST_F(SearchRunnerTest, ASpawnFailureAfterTheReplyIsAFailedTrace) {
  auto r = make();
  ASSERT_TRUE(r->start("local", json::object()).ok());
  launcher_.last().lines = {R"({"classes":10,"image_h":28,"image_w":28,"channels":1,"samples":6})"};
  launcher_.last().exit = ChildExit{0, 0};
  r->tick();
  launcher_.fail_spawn = true;
  reply_ready = true;
  r->tick();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].outcome.status, TraceStatus::failed);
  EXPECT_NE(traces[0].outcome.error.find("cannot start"), std::string::npos);
}

TEST_F(SearchRunnerTest, RecoverFinishesWhatAStoppedAgentLeft) {
  std::string with_results, without;
  {
    auto r = make();
    with_results = start_running(*r);
    write_results(with_results, 0.97, true);
    // the agent dies here: the run stays unfinished in the store
  }
  clock_.advance(1000);
  {
    auto r = make();
    ASSERT_TRUE(r->recover().ok());
    ASSERT_EQ(traces.size(), 1u);
    EXPECT_EQ(traces[0].trace_id, with_results);
    EXPECT_EQ(traces[0].outcome.status, TraceStatus::ok);
    without = start_running(*r);
  }
  clock_.advance(1000);
  {
    auto r = make();
    ASSERT_TRUE(r->recover().ok());
    ASSERT_EQ(traces.size(), 2u);
    EXPECT_EQ(traces[1].trace_id, without);
    EXPECT_EQ(traces[1].outcome.status, TraceStatus::failed);
    EXPECT_TRUE(store_->unfinished_runs()->empty());
  }
}

TEST_F(SearchRunnerTest, RecoverWaitsForAChildThatOutlivedTheAgent) {
  std::string id;
  {
    auto r = make();
    id = start_running(*r);
  }
  launcher_.alive_pids.insert(launcher_.last_handle());
  auto r = make();
  ASSERT_TRUE(r->recover().ok());
  EXPECT_TRUE(r->busy());
  EXPECT_TRUE(traces.empty());
  write_results(id, 0.95, true);
  launcher_.procs[launcher_.last_handle()].exit = ChildExit{0, 0};
  r->tick();
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].outcome.status, TraceStatus::ok);
}

TEST_F(SearchRunnerTest, TheScheduleStartsRuns) {
  settings_.every_ms = 3'600'000;
  auto r = make();
  r->tick();
  EXPECT_FALSE(r->busy());
  clock_.advance(3'600'000);
  r->tick();
  EXPECT_TRUE(r->busy());
  EXPECT_EQ(r->status()["run"]["trigger"], "schedule");
}

TEST(SearchLimits, FollowTheSourceMatrixAndTheSettings) {
  SearchSettings s;
  SourceMatrix src;
  src.devices = {{"cpu", 0, 300}, {"npu0", 2, 4096}};
  auto l = plan_limits(src, s);
  EXPECT_EQ(l.cpus, 1);         // never zero
  EXPECT_EQ(l.memory_mb, 512);  // the floor
  src.devices[0] = {"cpu", 6, 10'000};
  s.max_cpus = 4;
  l = plan_limits(src, s);
  EXPECT_EQ(l.cpus, 4);
  EXPECT_EQ(l.memory_mb, 8000);
}

// The candidates' CPU latencies edgenas-search measured travel with the trace; malformed or
// unmeasured trials are skipped, and no kind or no runtime means no measurements at all.
TEST(MeasuredLatency, TheTrialsMeasuredOnThisCpuTravelWithTheTrace) {
  json results{{"status", "ok"},
               {"runtime", "libtorch 1.13.1"},
               {"trial_latency_threads", 1},
               {"best", {{"test_accuracy", 0.9}}},
               {"all_trials",
                {{{"ok", true}, {"key", "c16k3s2b-h64"}, {"cpu_latency_ms", 0.04}},
                 {{"ok", false}, {"key", "c512k11s1-h128"}, {"cpu_latency_ms", 0}},
                 {{"ok", true}, {"key", "bad key!"}, {"cpu_latency_ms", 0.2}},
                 {{"ok", true}, {"key", "c8k1s1-h0"}, {"cpu_latency_ms", "fast"}},
                 {{"ok", true}, {"key", "c8k3s1-h0"}, {"cpu_latency_ms", 0.011}},
                 "junk"}}};
  const auto m = measured_latency(results, "ARM Cortex-A55");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->kind, "ARM Cortex-A55");
  EXPECT_EQ(m->runtime, "libtorch 1.13.1");
  EXPECT_EQ(m->threads, 1);
  ASSERT_EQ(m->samples.size(), 2u);
  EXPECT_EQ(m->samples[1].arch, "c8k3s1-h0");
  EXPECT_DOUBLE_EQ(m->samples[1].ms, 0.011);
  const SearchRun run;
  const Trace t = make_search_trace(run, &results, std::nullopt, "", 5, 1, "ARM Cortex-A55");
  ASSERT_TRUE(t.outcome.measured_latency.has_value());
  EXPECT_EQ(t.outcome.measured_latency->samples.size(), 2u);
  EXPECT_FALSE(make_search_trace(run, &results, std::nullopt, "", 5, 1, "")
                   .outcome.measured_latency.has_value());
  json unnamed = results;
  unnamed.erase("runtime");
  EXPECT_FALSE(measured_latency(unnamed, "ARM Cortex-A55").has_value());
  json many = results;
  many["all_trials"] = json::array();
  for (std::size_t i = 0; i < limits::kMaxLatencySamples + 10; ++i)
    many["all_trials"].push_back({{"ok", true}, {"key", "c8k3s1-h0"}, {"cpu_latency_ms", 0.01}});
  EXPECT_EQ(measured_latency(many, "x")->samples.size(), limits::kMaxLatencySamples);
}

// The search's Pareto front travels with the trace: the trials pareto_trials names, malformed
// or failed ones skipped, ordered fastest first.
TEST(SearchPareto, TheTrialsOnTheFrontTravelWithTheTrace) {
  json results{
      {"status", "ok"},
      {"best", {{"test_accuracy", 0.9}}},
      {"pareto_trials", {7, 3, 4, 5, 99}},
      {"all_trials",
       {{{"id", 3},
         {"ok", true},
         {"key", "c16k3s2b-h64"},
         {"accuracy", 0.93},
         {"latency_ms", 0.05}},
        {{"id", 4}, {"ok", false}, {"key", "c512k11s1-h128"}, {"accuracy", 0}, {"latency_ms", 0}},
        {{"id", 5}, {"ok", true}, {"key", "c8k1s1-h0"}, {"accuracy", "high"}, {"latency_ms", 0.01}},
        {{"id", 6}, {"ok", true}, {"key", "c4k1s1-h0"}, {"accuracy", 0.95}, {"latency_ms", 0.001}},
        {{"id", 7}, {"ok", true}, {"key", "c8k3s1-h0"}, {"accuracy", 0.81}, {"latency_ms", 0.02}},
        "junk"}}};
  const auto front = pareto_of(results);
  ASSERT_TRUE(front.has_value());
  ASSERT_EQ(front->points.size(), 2u);  // 6 is not on the front the search named
  EXPECT_EQ(front->points[0].arch, "c8k3s1-h0");
  EXPECT_EQ(front->points[1].arch, "c16k3s2b-h64");
  EXPECT_DOUBLE_EQ(front->points[1].latency_ms, 0.05);
  const Trace t = make_search_trace(SearchRun{}, &results, std::nullopt, "", 5, 1, "");
  ASSERT_TRUE(t.outcome.pareto.has_value());
  EXPECT_EQ(t.outcome.pareto->points.size(), 2u);
  results.erase("pareto_trials");  // an older edgenas-search
  EXPECT_FALSE(pareto_of(results).has_value());
}

}  // namespace
}  // namespace edgenas::agent
