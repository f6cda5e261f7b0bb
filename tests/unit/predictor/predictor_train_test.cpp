// The predictor trained with libtorch on a synthetic fleet whose best hyperparameters follow a
// known rule: it must recover the rule on contexts it never saw.
#include <gtest/gtest.h>

#include "coordinator/core/hparam_service.hpp"
#include "coordinator/predictor/trainer.hpp"
#include "synthetic.hpp"

namespace edgenas::predictor {
namespace {

TEST(PredictorTraining, RecoversTheRuleOnHeldOutContexts) {
  const auto traces = synthetic::traces(400, 6, 1);
  TrainerOptions o;
  o.budget_ms = 60'000;
  o.max_trials = 10;
  o.seed = 3;
  o.compare = true;
  auto r = train_predictor(traces, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::cerr << r->metrics.dump(2) << "\n";
  // Fresh contexts from another seed, scored against the rule itself.
  std::mt19937_64 rng(99);
  std::array<double, kHeads> exact{}, near{};
  double regret = 0, cold_regret = 0;
  coordinator::ColdStartPolicy cold;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    const Context c = synthetic::random_context(rng);
    auto p = r->model.predict(c);
    ASSERT_TRUE(p.ok());
    const Choice truth = synthetic::best_choice(c);
    for (std::size_t h = 0; h < kHeads; ++h) {
      exact[h] += p->index[h] == truth.index[h];
      near[h] += std::abs(p->index[h] - truth.index[h]) <= 1;
    }
    regret += synthetic::true_reward(c, truth) - synthetic::true_reward(c, *p);
    proto::HparamRequest req;
    req.request_id = "r";
    req.context = c;
    cold_regret += synthetic::true_reward(c, truth) -
                   synthetic::true_reward(c, Grid::nearest(cold.choose("box", req).hparams));
  }
  cold_regret /= n;
  for (auto& v : exact) v /= n;
  for (auto& v : near) v /= n;
  regret /= n;
  std::cerr << "exact " << exact[0] << " " << exact[1] << " " << exact[2] << " " << exact[3]
            << "; within one step " << near[0] << " " << near[1] << " " << near[2] << "; regret "
            << regret << " (cold start " << cold_regret << ")\n";
  EXPECT_GE(near[kLayers], 0.80);   // layers (10 classes): within one step
  EXPECT_GE(near[kFilters], 0.90);  // filters (6 classes): within one step
  EXPECT_GE(exact[kKernel], 0.75);  // kernel (3 classes)
  EXPECT_GE(exact[kLoss], 0.95);    // loss follows the class count
  EXPECT_LE(regret, 0.05);          // of a best reward of 0.99
  // It beats the cold-start rule, by the true regret and by the trainer's held-out estimate
  // (the gate's measure) alike.
  EXPECT_LT(regret, cold_regret);
  EXPECT_LT(r->metrics["heldout"]["new"]["regret"].get<double>(),
            r->metrics["heldout"]["cold_start"]["regret"].get<double>());
}

}  // namespace
}  // namespace edgenas::predictor
