// The fleet's latency models: measurements pooled per device kind from the traces, a model per
// kind (its own, or transferred), the gate against the FLOPs line, the version's JSON.
#include "coordinator/predictor/latency_models.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/search/space.hpp"
#include "common/util/clock.hpp"
#include "common/util/files.hpp"
#include "coordinator/predictor/latency_service.hpp"
#include "fake_trainer.hpp"

namespace edgenas::predictor {
namespace {

const DatasetShape kDigits{10, 28, 28, 1, 1000};

// A CPU whose latency is a fixed cost per layer plus FLOPs and bytes: not a line in FLOPs.
double cpu_a(const search::LayerList& layers) {
  double ms = 0.02;
  for (const auto& l : layers)
    ms += 0.004 + static_cast<double>(l.flops) * 2e-9 + static_cast<double>(l.bytes) * 1e-9;
  return ms;
}
// Another kind: slower, and the per-layer cost weighs more.
double cpu_b(const search::LayerList& layers) {
  return 3 * std::pow(cpu_a(layers), 0.8) + 0.01 * static_cast<double>(layers.size());
}

// `n` different networks of the CNN space measured on one kind, `per_trace` per trace (search).
std::vector<Trace> traces_of(const std::string& kind, int n,
                             double (*device)(const search::LayerList&), uint64_t seed,
                             int per_trace = 20) {
  const search::SearchSpace space(Hyperparameters{6, 64, 5, Loss::cross_entropy, 1});
  std::mt19937_64 rng(seed);
  std::vector<Trace> out;
  for (int i = 0; i < n; ++i) {
    if (i % per_trace == 0) {
      out.emplace_back();
      out.back().trace_id = "t" + std::to_string(seed) + "-" + std::to_string(i);
      out.back().context.dataset = kDigits;
      out.back().outcome.measured_latency =
          LatencyMeasurements{"cpu", kind, "libtorch 1.13.1", 1, "cnn", {}};
    }
    const auto spec = space.sample(rng);
    const auto layers = search::lower(spec, {1, 28, 28, 10});
    out.back().outcome.measured_latency->samples.push_back({spec.key(), device(layers)});
  }
  return out;
}

TEST(LatencyModels, MeasurementsArePooledPerDeviceKind) {
  auto traces = traces_of("ARM Cortex-A55", 150, cpu_a, 1);
  auto b = traces_of("ARM Cortex-A72", 20, cpu_b, 2);
  traces.insert(traces.end(), b.begin(), b.end());
  traces.emplace_back();  // a trace without measurements counts for nothing
  Trace odd = b.front();
  odd.outcome.measured_latency->samples = {{"|none~0|+|none~0|none~1|", 1.0}, {"c8k3s1-h0", 0.1}};
  odd.outcome.measured_latency->space = "nb201";  // a space this build does not lower for the fleet
  traces.push_back(odd);
  Trace blind = b.front();
  blind.context.dataset.reset();  // no input shape: the keys cannot be lowered
  traces.push_back(blind);
  const auto pool = pool_latency(traces);
  EXPECT_EQ(pool.traces, 8 + 1 + 1 + 1);
  EXPECT_EQ(pool.samples, 170);
  EXPECT_EQ(pool.skipped, 2 + 20);
  ASSERT_EQ(pool.kinds.size(), 2u);
  EXPECT_EQ(pool.kinds[0].kind.label(), "ARM Cortex-A55 | libtorch 1.13.1 | 1 thread | cnn");
  EXPECT_EQ(pool.kinds[1].measurements.size(), 20u);
}

TEST(LatencyModels, AKindLearnsItsOwnModelOrTransfersAndServesOnlyWhenItBeatsFlops) {
  auto traces = traces_of("ARM Cortex-A55", 600, cpu_a, 3);
  auto b = traces_of("ARM Cortex-A72", 100, cpu_b, 4, 5);
  traces.insert(traces.end(), b.begin(), b.end());
  auto set = train_latency_models(pool_latency(traces), {}, 7, 1234);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(set->kinds.size(), 2u);
  const auto& a = set->kinds[0];
  EXPECT_EQ(a.method, "additive");
  EXPECT_TRUE(a.serves) << a.why;
  EXPECT_LT(a.error_pct, 2.0);
  EXPECT_GT(a.flops_error_pct, a.error_pct);
  const auto& t = set->kinds[1];
  EXPECT_EQ(t.method, "transfer");
  ASSERT_TRUE(t.transfer.has_value());
  EXPECT_GT(t.heldout, 0);
  EXPECT_GT(t.spearman, 0.95);
  EXPECT_TRUE(t.serves) << t.why;
  // The margin a bound needs covers the held-out errors: 1 − e^−p95(|log error|).
  EXPECT_GT(t.margin, 0);
  EXPECT_LT(t.margin, 0.5);
  EXPECT_GE(t.margin, 1 - std::exp(-std::log(1 + t.error_pct / 100)) - 1e-9);

  // The version's JSON gives back the same predictions; a broken one is refused, saying why.
  const auto j = to_json(*set);
  auto back = latency_models_from_json(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  const auto layers =
      search::lower(*search::ArchSpec::from_key("c16k3s2b-c32k5s1brh-h64"), {1, 28, 28, 10});
  const auto f = search::latency_features(layers);
  EXPECT_DOUBLE_EQ(back->kinds[0].predict(f), set->kinds[0].predict(f));
  EXPECT_DOUBLE_EQ(back->kinds[1].predict(f), set->kinds[1].predict(f));
  EXPECT_EQ(back->version, 7);
  auto orphan = j;
  orphan["kinds"][1]["transfer"]["sources"][0] = "a kind nobody trained";
  auto bad = latency_models_from_json(orphan);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("a kind nobody trained"), std::string::npos);
  auto narrow = j;
  narrow["kinds"][0]["additive"]["weights"].erase(0);
  EXPECT_FALSE(latency_models_from_json(narrow).ok());
  EXPECT_FALSE(latency_models_from_json(nlohmann::json::object()).ok());
  auto no_margin = j;
  no_margin["kinds"][0]["heldout_margin"] = 1.5;
  EXPECT_FALSE(latency_models_from_json(no_margin).ok());

  // What the agents are sent: the kinds that serve and the kinds they transfer from. A kind
  // that does not serve and nobody transfers from stays home.
  auto partly = *set;
  partly.kinds[1].serves = false;
  EXPECT_EQ(servable(partly).kinds.size(), 1u);  // A55 serves on its own
  partly.kinds[0].serves = false;
  EXPECT_TRUE(servable(partly).kinds.empty());
  partly = *set;
  partly.kinds[0].serves = false;  // A72 transfers from A55: both go, A55 marked not serving
  const auto sent = servable(partly);
  ASSERT_EQ(sent.kinds.size(), 2u);
  EXPECT_FALSE(sent.kinds[0].serves);
  auto read = latency_models_from_json(to_json(sent));
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_DOUBLE_EQ(read->kinds[1].predict(f), set->kinds[1].predict(f));
  EXPECT_EQ(read->find("ARM Cortex-A72", "cnn"), &read->kinds[1]);
  EXPECT_EQ(read->find("ARM Cortex-A72", "cnn", "libtorch 1.13.1", 1), &read->kinds[1]);
  EXPECT_EQ(read->find("ARM Cortex-A72", "cnn", "libtorch 2.0", 1), nullptr);
  EXPECT_EQ(read->find("ARM Cortex-A72", "nb201"), nullptr);
}

// A model is gated on searches it did not learn from: measurements of one search, however
// many, show nothing of how it does on the next search's networks, so it does not serve.
TEST(LatencyModels, AKindMeasuredByOneSearchDoesNotServeYet) {
  auto traces = traces_of("ARM Cortex-A55", 600, cpu_a, 3);
  auto one = traces_of("ARM Cortex-A72", 100, cpu_b, 4, 100);
  traces.insert(traces.end(), one.begin(), one.end());
  auto set = train_latency_models(pool_latency(traces), {}, 1, 0);
  ASSERT_TRUE(set.ok()) << set.error().message;
  const auto* a72 = set->find("ARM Cortex-A72", "cnn");
  ASSERT_NE(a72, nullptr);  // it has a model (transferred), which does not serve
  EXPECT_FALSE(a72->serves);
  EXPECT_NE(a72->why.find("held-out searches"), std::string::npos) << a72->why;
}

TEST(LatencyModels, NoMeasurementsNoModels) {
  EXPECT_FALSE(train_latency_models({}, {}, 1, 0).ok());
  // A kind with too few measurements gets no model; without a kind to transfer from, none.
  auto few = pool_latency(traces_of("ARM Cortex-A53", 3, cpu_a, 5));
  auto set = train_latency_models(few, {}, 1, 0);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->kinds.empty());
}

// The coordinator's side: a training starts after enough new traces carry measurements, its
// file becomes the serving version, predictions come only from kinds past their gate, a failed
// training changes nothing, and a restarted coordinator serves the newest ready version.
TEST(LatencyService, TrainsInAChildServesWhatPassedTheGateAndSurvivesARestart) {
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + "/latency-svc-" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto store = coordinator::TraceStore::open(dir + "/c.db");
  ASSERT_TRUE(store.ok());
  auto traces = traces_of("ARM Cortex-A55", 600, cpu_a, 6);
  auto b = traces_of("ARM Cortex-A72", 40, cpu_b, 7);
  traces.insert(traces.end(), b.begin(), b.end());
  std::vector<coordinator::TraceRecord> records;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    traces[i].trace_id = "t" + std::to_string(i);
    traces[i].policy = "manual";
    records.push_back({"box", static_cast<int64_t>(i), traces[i]});
  }
  ASSERT_TRUE((*store)->write_batch(records, {}, {}).ok());
  ManualClock clock;
  FakeTrainer trainer;
  const LatencyConfig cfg{dir + "/latency", "/usr/bin/edgenas-predictor", dir + "/c.db", 5, 0};
  LatencyService svc(clock, **store, cfg, trainer);
  ASSERT_TRUE(svc.start().ok());
  EXPECT_FALSE(svc.predict({{"arch", "c8k3s1-h0"}}).ok());  // nothing serves yet

  svc.tick();  // 8 traces carry measurements: a training starts
  ASSERT_EQ(trainer.specs.size(), 1u);
  const auto& argv = trainer.specs[0].argv;
  EXPECT_EQ(argv[1], "latency");
  const std::string out = argv[std::find(argv.begin(), argv.end(), "--out") - argv.begin() + 1];
  EXPECT_FALSE(svc.train("again").ok());  // one at a time
  auto set = train_latency_models(pool_latency(traces), {}, 1, 0);
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(files::write_json_atomic(out, to_json(*set)).ok());
  trainer.exit = ChildExit{0, 0};
  EXPECT_FALSE(svc.offer(0).has_value());  // nothing to send before a version serves
  svc.tick();
  EXPECT_EQ(svc.serving_version(), 1);
  // Agents holding none or an older version are sent the serving one; it reads back.
  const auto offer = svc.offer(0);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->version, 1);
  EXPECT_TRUE(latency_models_from_json(offer->models).ok());
  EXPECT_FALSE(svc.offer(1).has_value());
  const nlohmann::json ask{
      {"arch", "c16k3s2b-c32k5s1brh-h64"},
      {"kind", "ARM Cortex-A55"},
      {"input", {{"channels", 1}, {"image_h", 28}, {"image_w", 28}, {"classes", 10}}}};
  auto p = svc.predict(ask);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE((*p)["predicted"].get<bool>());
  EXPECT_EQ((*p)["version"], 1);
  const auto layers =
      search::lower(*search::ArchSpec::from_key("c16k3s2b-c32k5s1brh-h64"), {1, 28, 28, 10});
  EXPECT_NEAR((*p)["latency_ms"].get<double>(), cpu_a(layers), 0.05 * cpu_a(layers));
  auto unknown = ask;
  unknown["kind"] = "Intel Xeon";
  EXPECT_EQ(svc.predict(unknown).error().code, "not_found");
  auto bad = ask;
  bad["arch"] = "not a network";
  EXPECT_EQ(svc.predict(bad).error().code, "bad_request");
  bad = ask;
  bad["input"].erase("image_w");
  EXPECT_EQ(svc.predict(bad).error().code, "bad_request");

  // A training that fails leaves the serving version; the store says why.
  ASSERT_TRUE(svc.train("by hand").ok());
  trainer.exit = ChildExit{1, 0};
  svc.tick();
  EXPECT_EQ(svc.serving_version(), 1);
  auto listed = svc.list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ((*listed)["versions"].size(), 2u);
  EXPECT_EQ((*listed)["versions"][0]["status"], "failed");
  EXPECT_EQ((*listed)["versions"][1]["status"], "ready");
  EXPECT_EQ((*listed)["versions"][1]["kinds"], 2);

  // A restarted coordinator serves the newest ready version again.
  LatencyService again(clock, **store, cfg, trainer);
  ASSERT_TRUE(again.start().ok());
  EXPECT_EQ(again.serving_version(), 1);
  EXPECT_TRUE(again.predict(ask).ok());
}

}  // namespace
}  // namespace edgenas::predictor
