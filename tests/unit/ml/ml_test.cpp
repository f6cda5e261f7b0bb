// The real evaluator on tiny data, in seconds.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/ml/net.hpp"
#include "common/ml/threads.hpp"
#include "common/ml/torch_evaluator.hpp"
#include "common/search/search.hpp"

namespace edgenas::ml {
namespace {

// 8×8 grey images: class 0 is bright on top, class 1 bright at the bottom, with noise.
data::ImageSet halves(int n, uint64_t seed) {
  data::ImageSet s;
  s.channels = 1;
  s.height = s.width = 8;
  s.classes = 2;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> noise(0, 60);
  for (int i = 0; i < n; ++i) {
    const int label = i % 2;
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) {
        const bool bright = (y < 4) == (label == 0);
        s.pixels.push_back(static_cast<uint8_t>((bright ? 180 : 20) + noise(rng)));
      }
    }
    s.labels.push_back(label);
  }
  return s;
}

class MlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ml::set_threads(1); }
};

// Trainings run side by side (the search's workers, the predictor's NAS), so the BLAS under
// libtorch must give every thread its own right answer. OpenBLAS's serial build does not: with
// it, a few hundred of these products come out wrong.
TEST_F(MlTest, BlasIsSafeAcrossThreads) {
  EXPECT_TRUE(blas_thread_safe()) << blas_config();
  torch::manual_seed(3);
  const std::vector<std::pair<torch::Tensor, torch::Tensor>> jobs = {
      {torch::rand({64, 40}), torch::rand({40, 256})},
      {torch::rand({64, 256}), torch::rand({256, 128})}};
  std::vector<torch::Tensor> want;
  for (const auto& [a, b] : jobs) want.push_back(torch::mm(a, b));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    threads.emplace_back([&, j] {
      set_threads(1);
      for (int i = 0; i < 5000; ++i)
        if (!torch::equal(torch::mm(jobs[j].first, jobs[j].second), want[j])) ++wrong;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0) << "of " << 5000 * jobs.size() << " products; BLAS: " << blas_config();
}

TEST_F(MlTest, EverySampledArchitectureBuildsAndRuns) {
  search::SearchSpace space({5, 64, 5, Loss::cross_entropy, 1});
  search::InputShape in{1, 28, 28, 10};
  std::mt19937_64 rng(1);
  for (int i = 0; i < 25; ++i) {
    auto spec = space.sample(rng);
    ASSERT_TRUE(space.contains(spec));
    Net net(spec, in);
    init_weights(net, static_cast<uint64_t>(i));
    auto out = net->forward(torch::rand({2, 1, 28, 28}));
    ASSERT_EQ(out.size(0), 2);
    ASSERT_EQ(out.size(1), 10) << spec.key();
    int64_t params = 0;
    for (const auto& p : net->parameters()) params += p.numel();
    EXPECT_EQ(params, search::cost_of(spec, in).params)
        << spec.key();  // the torch-free count agrees
  }
}

TEST_F(MlTest, LearnsATinyTaskWithEachLoss) {
  auto train_set = halves(400, 1), val = halves(100, 2);
  search::ArchSpec spec;
  spec.blocks = {{8, 3, 1, true, false, search::Activation::relu},
                 {16, 3, 2, true, false, search::Activation::hswish}};
  for (Loss loss : kAllLosses) {
    Net net(spec, search::InputShape{1, 8, 8, 2});
    init_weights(net, 3);
    TrainOptions o;
    o.loss = loss;
    o.epochs = 3;
    o.seed = 3;
    auto stats = train(net, train_set, o);
    EXPECT_EQ(stats.images_seen, 1200);
    EXPECT_TRUE(std::isfinite(stats.last_loss));
    EXPECT_GE(accuracy(net, val), 0.9) << to_string(loss);
  }
}

// Planned by time: epochs follow one another until the deadline, the last one ends there part
// done (not counted), and the progress says how many are expected to fit; without a deadline
// the epochs asked for are what runs.
TEST_F(MlTest, ATrainingPlannedByTimeEndsAtItsDeadline) {
  auto train_set = halves(400, 1);
  search::ArchSpec spec;
  spec.blocks = {{8, 3, 1, true, false, search::Activation::relu}};
  Net net(spec, search::InputShape{1, 8, 8, 2});
  init_weights(net, 3);
  TrainOptions o;
  o.epochs = 100'000;
  o.cosine_decay = true;
  o.until_deadline = true;
  TrainProgress progress;
  o.progress = &progress;
  const int64_t start = steady_now_ms();
  o.deadline_ms = start + 1500;
  const auto stats = train(net, train_set, o);
  const int64_t end = steady_now_ms();
  EXPECT_GE(end, o.deadline_ms);
  EXPECT_LT(end - o.deadline_ms, 1000);  // one batch past it at most, on a loaded machine
  EXPECT_FALSE(stats.cut);
  EXPECT_GE(stats.epochs, 2);
  EXPECT_LT(stats.epochs, o.epochs);
  EXPECT_GE(stats.images_seen, static_cast<int64_t>(stats.epochs) * 400);  // + the last, part done
  EXPECT_GT(progress.epochs.load(), 0);

  o.deadline_ms = 0;  // no deadline: by epochs
  o.epochs = 2;
  EXPECT_EQ(train(net, train_set, o).images_seen, 800);
}

TEST_F(MlTest, SameSeedSameWeightsAndSameTraining) {
  search::ArchSpec spec;
  spec.blocks = {{8, 3, 1, false, true, search::Activation::relu}};
  spec.head_width = 32;
  auto run = [&](uint64_t seed) {
    Net net(spec, search::InputShape{1, 8, 8, 2});
    init_weights(net, seed);
    TrainOptions o;
    o.seed = seed;
    return train(net, halves(128, 1), o).last_loss;
  };
  EXPECT_DOUBLE_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST_F(MlTest, ModelFilesRoundTripAndRefuseCorruptOrForeignFiles) {
  const std::string dir = ::testing::TempDir() + "/ml-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  search::ArchSpec spec;
  spec.blocks = {{8, 3, 2, true, false, search::Activation::relu}};
  spec.head_width = 32;
  search::InputShape in{1, 8, 8, 2};
  Net net(spec, in);
  init_weights(net, 9);
  train(net, halves(64, 1), TrainOptions{});
  ASSERT_TRUE(save_model(dir + "/m.edgenas", spec, in, {{"accuracy", 0.5}}, net).ok());
  auto loaded = load_model(dir + "/m.edgenas");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->spec, spec);
  EXPECT_EQ(loaded->meta["accuracy"], 0.5);
  auto x = torch::rand({3, 1, 8, 8});
  EXPECT_TRUE(torch::allclose(predict_proba(net, x), predict_proba(loaded->net, x)));

  std::string bytes;
  {
    std::ifstream in_file(dir + "/m.edgenas", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in_file), {});
  }
  std::ofstream(dir + "/trunc.edgenas", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto t = load_model(dir + "/trunc.edgenas");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "bad_model");
  std::ofstream(dir + "/foreign.pt") << "PK\x03\x04 a zip file";
  auto f = load_model(dir + "/foreign.pt");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("not an edgenas model"), std::string::npos);
  EXPECT_FALSE(load_model(dir + "/missing").ok());
}

TEST_F(MlTest, LatencyIsPositiveAndGrowsWithTheNetwork) {
  search::InputShape in{1, 28, 28, 10};
  search::ArchSpec tiny, big;
  tiny.blocks = {{4, 1, 2, false, false, search::Activation::relu}};
  for (int i = 0; i < 5; ++i)
    big.blocks.push_back({64, 5, 1, true, false, search::Activation::relu});
  Net a(tiny, in), b(big, in);
  const double ta = measure_latency_ms(InferenceNet::compile(a, in), in, {3, 15});
  const double tb = measure_latency_ms(InferenceNet::compile(b, in), in, {3, 15});
  EXPECT_GT(ta, 0);
  EXPECT_GT(tb, 4 * ta);  // ~900x the FLOPs
}

TEST_F(MlTest, TheCompiledInferenceNetComputesWhatTheTrainedNetDoes) {
  search::SearchSpace space({5, 32, 5, Loss::cross_entropy, 1});
  std::mt19937_64 rng(3);
  auto data = halves(64, 4);
  for (auto& l : data.labels) l %= 4;
  data.classes = 4;
  data.height = data.width = 8;
  for (int i = 0; i < 12; ++i) {
    auto spec = space.sample(rng);
    search::InputShape small{1, 8, 8, 4};
    Net net(spec, small);
    init_weights(net, static_cast<uint64_t>(i));
    TrainOptions o;
    o.epochs = 2;  // moves the batch-norm running statistics away from 0 and 1
    train(net, data, o);
    auto x = torch::rand({5, 1, 8, 8});
    const auto expect = predict_proba(net, x);
    for (bool tuned : {false, true}) {
      const auto plan = InferenceNet::compile(net, small, tuned);
      EXPECT_TRUE(torch::allclose(plan.predict_proba(x), expect, 1e-4, 1e-5)) << spec.key();
    }
    // The blocked layout through ATen, and the plan directly on oneDNN (batch 1 only, with
    // activations and residuals fused), compute the same.
    for (auto layout : {InferenceNet::Layout::blocked, InferenceNet::Layout::onednn}) {
      const auto plan = InferenceNet::compile(net, small, true, layout);
      ASSERT_EQ(plan.layout(), layout);
      EXPECT_TRUE(torch::allclose(plan.predict_proba(x), expect, 1e-4, 1e-5)) << spec.key();
      for (int64_t k = 0; k < x.size(0); ++k) {
        EXPECT_TRUE(torch::allclose(plan.predict_proba(x[k].unsqueeze(0)), expect[k].unsqueeze(0),
                                    1e-4, 1e-5))
            << InferenceNet::name(layout) << " " << spec.key() << " image " << k;
      }
    }
  }
}

TEST_F(MlTest, TheOnednnPlanRefusesLayersThatDoNotChain) {
  PlanConv conv;
  conv.in_channels = 3;  // the image has 1
  conv.weight.assign(8 * 3 * 3 * 3, 0.f);
  conv.bias.assign(8, 0.f);
  conv.out_channels = 8;
  PlanLinear out;
  out.in = 8;
  out.out = 2;
  out.weight.assign(16, 0.f);
  out.bias.assign(2, 0.f);
  auto bad = OnednnPlan::build(1, 8, 8, {conv}, {out});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("do not chain"), std::string::npos);
  EXPECT_FALSE(OnednnPlan::build(1, 8, 8, {}, {}).ok());
  // A plan that chains runs: the bias of the last layer comes through a zero network.
  conv.in_channels = 1;
  conv.weight.assign(8 * 9, 0.f);
  out.bias = {0.5f, -2.f};
  auto good = OnednnPlan::build(1, 8, 8, {conv}, {out});
  ASSERT_TRUE(good.ok()) << good.error().message;
  std::vector<float> image(64, 1.f), logits(2);
  (*good)->run(image.data(), logits.data());
  EXPECT_FLOAT_EQ(logits[0], 0.5f);
  EXPECT_FLOAT_EQ(logits[1], -2.f);
}

TEST_F(MlTest, TrialWeightsAreKeptAndCalibrationMeasuresThisCpu) {
  auto train_set = halves(200, 1), val = halves(60, 2);
  const std::string dir = ::testing::TempDir() + "/trials-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  TargetDevice cpu;
  TorchEvaluator ev(train_set, val, {Loss::cross_entropy, 32, cpu, {2, 5}, dir});
  search::ArchSpec spec;
  spec.blocks = {{8, 3, 1, true, false, search::Activation::relu}};
  auto e = ev.evaluate(spec, {2, 1.0}, 77);
  ASSERT_TRUE(e.ok) << e.error;
  auto kept = ev.trial_model(spec, 77);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_NEAR(accuracy(*kept, val), e.accuracy, 1e-12);  // the same weights
  EXPECT_FALSE(ev.trial_model(spec, 78).ok());

  // Candidates too slow for the requirement are not trained.
  TorchEvaluator strict(train_set, val, {Loss::cross_entropy, 32, cpu, {2, 5}, "", 1e-6});
  auto pruned = strict.evaluate(spec, {2, 1.0}, 77);
  EXPECT_FALSE(pruned.ok);
  EXPECT_NE(pruned.error.find("pruned"), std::string::npos) << pruned.error;
  EXPECT_GT(pruned.latency_ms, 0);
  EXPECT_EQ(pruned.train_time_s, 0);

  auto cal = calibrate_cpu({1, 28, 28, 10}, 1, 6);
  ASSERT_TRUE(cal.ok()) << cal.error().message;
  EXPECT_GT(cal->flops_per_ms, 1e5);  // more than 0.1 GFLOP/s: a real measurement
  EXPECT_EQ(cal->points, 6);
  // A modelled target: latency comes from FLOPs, the CPU latency is still measured.
  TargetDevice npu;
  npu.name = "npu0";
  npu.modelled = search::DeviceSpeed{"npu0", 4.0, 0.25};
  npu.calibration = *cal;
  TorchEvaluator ev2(train_set, val, {Loss::cross_entropy, 32, npu, {2, 5}, ""});
  auto m = ev2.evaluate(spec, {1, 1.0}, 5);
  ASSERT_TRUE(m.ok);
  EXPECT_TRUE(m.latency_modelled);
  EXPECT_GT(m.cpu_latency_ms, 0);
  EXPECT_NEAR(m.latency_ms, search::modelled_latency_ms(m.flops, *npu.modelled, *cal), 1e-9);
}

// Progress while a training runs: the trainer keeps its epoch and images up to date, and the
// evaluator lists a trial while it trains and not after.
TEST_F(MlTest, ATrainingReportsWhereItIsAndTheEvaluatorListsItWhileItRuns) {
  auto train_set = halves(300, 1), val = halves(60, 2);
  search::ArchSpec spec;
  spec.blocks = {{8, 3, 1, true, false, search::Activation::relu}};
  Net net(spec, search::InputShape{1, 8, 8, 2});
  init_weights(net, 1);
  TrainProgress p;
  TrainOptions o;
  o.epochs = 3;
  o.data_fraction = 0.5;
  o.progress = &p;
  const auto stats = train(net, train_set, o);
  EXPECT_EQ(stats.epochs, 3);
  EXPECT_EQ(p.epoch.load(), 2);  // the last one, from 0
  EXPECT_EQ(p.epochs.load(), 3);
  EXPECT_EQ(p.images_per_epoch.load(), 150);
  EXPECT_EQ(p.images_done.load(), 150);
  const auto now = training_now("k", steady_now_ms() - 1500, p);
  EXPECT_EQ(now.epoch, 3);
  EXPECT_DOUBLE_EQ(now.epoch_done, 1.0);
  EXPECT_NEAR(now.elapsed_s, 1.5, 0.5);

  TargetDevice cpu;
  TorchEvaluator ev(train_set, val, {Loss::cross_entropy, 8, cpu, {1, 2}, ""});
  EXPECT_TRUE(ev.running().empty());
  std::atomic<bool> seen{false};
  std::thread t([&] {
    search::ArchSpec wide;
    wide.blocks = {{64, 5, 1, true, false, search::Activation::relu}};
    (void)ev.evaluate(wide, {20, 1.0}, 3);
  });
  for (int i = 0; i < 2000 && !seen; ++i) {
    const auto r = ev.running();
    if (!r.empty()) {
      seen = true;
      EXPECT_EQ(r[0].epochs, 20);
      EXPECT_GE(r[0].epoch, 1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  t.join();
  EXPECT_TRUE(seen);
  EXPECT_TRUE(ev.running().empty());
}

TEST_F(MlTest, ATinyRealSearchEndToEnd) {
  auto train_set = halves(200, 1), val = halves(60, 2);
  TargetDevice cpu;
  cpu.power_w = 10;
  TorchEvaluator ev(train_set, val, {Loss::cross_entropy, 32, cpu, {2, 5}, ""});
  search::SearchSpace space({2, 16, 3, Loss::cross_entropy, 1});
  auto st = search::make_random(space, 1, {1, 1.0});
  ManualClock clock;
  auto r = search::run_search(*st, ev, {2, {0, 4}, {50, std::nullopt}}, clock);
  ASSERT_EQ(r.trials.size(), 4u);
  for (const auto& t : r.trials) {
    ASSERT_TRUE(t.eval.ok) << t.eval.error;
    EXPECT_GE(t.eval.accuracy, 0.0);
    EXPECT_LE(t.eval.accuracy, 1.0);
    EXPECT_GT(t.eval.latency_ms, 0);
    EXPECT_TRUE(t.eval.energy_modelled);
    EXPECT_DOUBLE_EQ(t.eval.energy_mj, 10 * t.eval.latency_ms);
  }
  ASSERT_TRUE(r.best.has_value());
  EXPECT_FALSE(r.pareto.empty());
}

// A network a few hundred images train in milliseconds, and one that needs seconds an epoch.
search::ArchSpec small_net() {
  search::ArchSpec a;
  a.blocks = {{8, 3, 1, true, false, search::Activation::relu}};
  return a;
}
search::ArchSpec big_net() {
  search::ArchSpec a;
  a.blocks = {{256, 7, 1, true, false, search::Activation::relu},
              {256, 7, 1, true, false, search::Activation::relu}};
  return a;
}

// The search's deadline: a trial that cannot finish before it is not started (once a trial has
// shown the training rate), and one still training when it comes is cut; both say so.
TEST_F(MlTest, NoTrialOutlivesTheSearchsDeadline) {
  auto train_set = halves(400, 1), val = halves(60, 2);
  TargetDevice cpu;
  const search::ArchSpec small = small_net(), big = big_net();
  TorchEvaluatorOptions o{Loss::cross_entropy, 32, cpu, {2, 5}, ""};
  o.deadline_ms = steady_now_ms() + 60'000;
  o.rate_min_flops = 0;  // the tiny network may show the rate
  TorchEvaluator ev(train_set, val, o);
  ASSERT_TRUE(ev.evaluate(small, {1, 1.0}, 1).ok);  // shows the rate
  // The big one needs far more than the minute left for a thousand epochs.
  auto skipped = ev.evaluate(big, {1000, 1.0}, 2);
  EXPECT_FALSE(skipped.ok);
  EXPECT_TRUE(skipped.out_of_time);
  EXPECT_NE(skipped.error.find("not started"), std::string::npos) << skipped.error;
  EXPECT_EQ(skipped.train_time_s, 0);

  // No rate known yet, a deadline 300 ms away: the trial starts and is cut there.
  o.deadline_ms = steady_now_ms() + 300;
  TorchEvaluator fresh(train_set, val, o);
  const int64_t before = steady_now_ms();
  auto cut = fresh.evaluate(big, {1000, 1.0}, 3);
  EXPECT_FALSE(cut.ok);
  EXPECT_TRUE(cut.out_of_time);
  EXPECT_NE(cut.error.find("cut at the search's deadline"), std::string::npos) << cut.error;
  EXPECT_LT(steady_now_ms() - before, 30'000);  // not the thousand epochs asked for
}

// One trial may not take more than max_trial_ms, even long before the search's deadline (the
// first trials start before any rate is known); the cut one says which limit cut it.
TEST_F(MlTest, ATrialIsCutAtTheLongestATrialMayTake) {
  auto train_set = halves(400, 1), val = halves(60, 2);
  TargetDevice cpu;
  const search::ArchSpec big = big_net();
  TorchEvaluatorOptions o{Loss::cross_entropy, 32, cpu, {2, 5}, ""};
  o.deadline_ms = steady_now_ms() + 600'000;
  o.max_trial_ms = 300;
  TorchEvaluator ev(train_set, val, o);
  const int64_t before = steady_now_ms();
  auto cut = ev.evaluate(big, {1000, 1.0}, 3);
  EXPECT_FALSE(cut.ok);
  EXPECT_TRUE(cut.out_of_time);
  EXPECT_NE(cut.error.find("cut at the longest a trial may take"), std::string::npos) << cut.error;
  EXPECT_LT(steady_now_ms() - before, 30'000);
}

// A candidate the final training could not train for min_epochs passes over the training set is
// not trained, once a trial has shown the rate; one it can train is, and with no final share
// (a trial budget alone) nothing is turned away for it.
TEST_F(MlTest, ACandidateTheFinalTrainingCouldNotTrainIsNotStarted) {
  auto train_set = halves(400, 1), val = halves(60, 2);
  TargetDevice cpu;
  const search::ArchSpec small = small_net(), big = big_net();
  TorchEvaluatorOptions o{Loss::cross_entropy, 32, cpu, {2, 5}, ""};
  o.final_share = {2.0, 1, 5};  // 2 s of final training on one thread, at least 5 epochs
  o.rate_min_flops = 0;         // the tiny network may show the rate
  TorchEvaluator ev(train_set, val, o);
  ASSERT_TRUE(ev.evaluate(small, {1, 1.0}, 1).ok);  // shows the rate
  EXPECT_TRUE(ev.evaluate(small, {1, 1.0}, 2).ok);  // 5 epochs of it fit in 2 s
  auto skipped = ev.evaluate(big, {1, 1.0}, 3);
  EXPECT_FALSE(skipped.ok);
  EXPECT_TRUE(skipped.out_of_time);
  EXPECT_NE(skipped.error.find("too large for this budget"), std::string::npos) << skipped.error;
  EXPECT_EQ(skipped.train_time_s, 0);

  o.final_share = {};
  TorchEvaluator unlimited(train_set, val, o);
  ASSERT_TRUE(unlimited.evaluate(small, {1, 1.0}, 1).ok);
  EXPECT_EQ(unlimited.evaluate(big, {1, 1.0}, 3).error.find("too large"), std::string::npos);
}

// A network far below rate_min_flops does not show the rate (its time is overhead): a large
// candidate after it is started (and here cut at the trial cap), and the large one's own pace,
// cut or not, then turns away the next large candidate.
TEST_F(MlTest, OnlyALargeEnoughTrialShowsTheRateTheBudgetRulesUse) {
  auto train_set = halves(400, 1), val = halves(60, 2);
  TargetDevice cpu;
  const search::ArchSpec small = small_net(), big = big_net();
  TorchEvaluatorOptions o{Loss::cross_entropy, 32, cpu, {2, 5}, ""};
  o.final_share = {2.0, 1, 5};
  o.max_trial_ms = 300;
  ASSERT_LT(search::cost_of(small, {1, 8, 8, 2}).flops, o.rate_min_flops);
  ASSERT_GT(search::cost_of(big, {1, 8, 8, 2}).flops, o.rate_min_flops);
  TorchEvaluator ev(train_set, val, o);
  ASSERT_TRUE(ev.evaluate(small, {1, 1.0}, 1).ok);
  const auto started = ev.evaluate(big, {1, 1.0}, 2);
  EXPECT_NE(started.error.find("cut at the longest a trial may take"), std::string::npos)
      << started.error;
  const auto turned_away = ev.evaluate(big, {1, 1.0}, 3);
  EXPECT_NE(turned_away.error.find("too large for this budget"), std::string::npos)
      << turned_away.error;
  EXPECT_EQ(turned_away.train_time_s, 0);
}

}  // namespace
}  // namespace edgenas::ml
