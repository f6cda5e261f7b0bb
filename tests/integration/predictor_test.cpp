// The predictor end to end: traces arrive through agents, the coordinator retrains in the
// background (edgenas-predictor), the new version passes its gate, and the next reply names
// it; versions survive a restart; promote/rollback change what serves; a corrupt model file is
// refused while the previous version keeps serving.
#include "../unit/predictor/synthetic.hpp"
#include "common/protocol/codec.hpp"
#include "harness.hpp"

namespace edgenas::it {
namespace {
using nlohmann::json;

// A new coordinator finds the warm start built beside it ("auto"), serves it from the first
// request, and says in the reply and in `edgenasctl predictor list` that it was trained in
// simulation.
TEST(PredictorFleet, TheShippedWarmStartServesTheFirstRequestAndSaysSo) {
  if (!std::filesystem::exists(EDGENAS_WARM_START_DIR "/model.edgenasp"))
    GTEST_SKIP() << "no warm start in this build (" EDGENAS_WARM_START_DIR ")";
  const std::string dir = temp_dir("warm-start");
  Coordinator coord;
  coord.dir = dir;
  coord.extra = {"--warm-start", "auto", "--explore", "0"};
  coord.start();
  Agent agent;
  agent.id = "wbox";
  agent.dir = dir + "/agent";
  agent.start(coord);
  proto::AdminClient local(agent.local(), 15'000);
  auto reply = local.call("hparams.request", {{"timeout_ms", 10'000}});
  ASSERT_TRUE(reply.ok()) << reply.error().message << "\n" << coord.proc.log();
  EXPECT_EQ((*reply)["policy"], "warm-start");
  EXPECT_EQ((*reply)["predictor_version"], 1);
  EXPECT_NE((*reply)["reason"].get<std::string>().find("trained in simulation"), std::string::npos)
      << reply->dump(2);
  auto [rc, out] = run(coord.ctl({"predictor", "list"}));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("simulation"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/predictors/v1/pool.jsonl"));
}

TEST(PredictorFleet, TracesTriggerARetrainAndTheNextReplyNamesTheNewVersion) {
  const std::string dir = temp_dir("predictor-fleet");
  Coordinator coord;
  coord.dir = dir;
  coord.extra = {"--retrain-after", "400", "--train-budget", "8s", "--explore", "0"};
  coord.start();
  Agent agents[2];
  for (int i = 0; i < 2; ++i) {
    agents[i].id = "pbox" + std::to_string(i);
    agents[i].dir = dir + "/agent" + std::to_string(i);
    agents[i].start(coord);
  }
  auto admin = coord.client(5000);
  // 480 traces of a fleet whose best hyperparameters follow a rule the cold start does not
  // know, delivered by the agents (outbox → coordinator, acked after commit).
  const auto traces = predictor::synthetic::traces(120, 4, 7);
  for (std::size_t i = 0; i < traces.size(); ++i) {
    proto::AdminClient local(agents[i % 2].local(), 5000);
    auto r = local.call("trace.submit", {{"trace", proto::to_json(traces[i])}});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  ASSERT_TRUE(wait_for(
      [&] {
        auto s = admin.call("status");
        return s.ok() && (*s)["store"]["traces"] == static_cast<int>(traces.size());
      },
      30'000));
  // The retrain starts by itself (400 new traces) and v1 passes the gate.
  ASSERT_TRUE(wait_for(
      [&] {
        auto l = admin.call("predictor.list");
        return l.ok() && (*l)["serving_version"] == 1;
      },
      180'000))
      << coord.proc.log() << "\n"
      << (admin.call("predictor.list").ok() ? admin.call("predictor.list")->dump(2) : "");
  auto listed = *admin.call("predictor.list");
  EXPECT_EQ(listed["versions"][0]["status"], "promoted");
  EXPECT_LT(listed["versions"][0]["regret"].get<double>(), 1.0);
  // The next reply an agent gets names v1.
  proto::AdminClient local(agents[0].local(), 15'000);
  auto reply = local.call("hparams.request", {{"timeout_ms", 10'000}});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ((*reply)["policy"], "predictor");
  EXPECT_EQ((*reply)["predictor_version"], 1);
  // edgenasctl shows it.
  auto [rc, out] = run(coord.ctl({"predictor", "list"}));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("promoted"), std::string::npos) << out;

  // A second version by hand, then rollback and promote move what serves.
  auto t = admin.call("predictor.train", {{"reason", "test"}});
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_TRUE(wait_for(
      [&] {
        auto l = admin.call("predictor.list");
        return l.ok() && !l->contains("training") && (*l)["versions"].size() == 2;
      },
      180'000));
  auto [p2, p2o] = run(coord.ctl({"predictor", "promote", "2"}));
  ASSERT_EQ(p2, 0) << p2o;
  EXPECT_EQ((*admin.call("predictor.list"))["serving_version"], 2);
  auto [rb, rbo] = run(coord.ctl({"predictor", "rollback"}));
  ASSERT_EQ(rb, 0) << rbo;
  EXPECT_EQ((*admin.call("predictor.list"))["serving_version"], 1);

  // A canary rollout of v2 to half the agents: fleet status shows it; a bad share is a usage
  // error; rollback takes the canary back and v1 serves everyone.
  auto [ro, roo] = run(coord.ctl({"predictor", "rollout", "2", "--canary", "50%"}));
  ASSERT_EQ(ro, 0) << roo;
  EXPECT_NE(roo.find("v2 serves 50.0 % of the agents"), std::string::npos) << roo;
  auto [fs, fso] = run(coord.ctl({"fleet", "status"}));
  ASSERT_EQ(fs, 0) << fso;
  EXPECT_NE(fso.find("rollout: v2 to 50.0 % of the agents against v1"), std::string::npos) << fso;
  auto [badshare, bso] = run(coord.ctl({"predictor", "rollout", "2", "--canary", "150%"}));
  EXPECT_EQ(badshare, 2) << bso;
  auto [ro1, ro1o] = run(coord.ctl({"predictor", "rollout", "1"}));
  EXPECT_EQ(ro1, 1) << ro1o;  // v1 serves everyone already
  auto [rb2, rb2o] = run(coord.ctl({"predictor", "rollback"}));
  ASSERT_EQ(rb2, 0) << rb2o;
  auto [fs2, fs2o] = run(coord.ctl({"fleet", "status"}));
  EXPECT_NE(fs2o.find("past: v2 cancelled"), std::string::npos) << fs2o;
  EXPECT_EQ((*admin.call("predictor.list"))["serving_version"], 1);

  // A corrupt model file is refused with a clear error; v1 keeps serving.
  { std::ofstream(dir + "/predictors/v2/model.edgenasp", std::ios::trunc) << "not a model"; }
  auto [bad, bado] = run(coord.ctl({"predictor", "promote", "2"}));
  EXPECT_EQ(bad, 1);
  EXPECT_NE(bado.find("not an edgenas predictor file"), std::string::npos) << bado;
  EXPECT_EQ((*admin.call("predictor.list"))["serving_version"], 1);

  // Versions survive a restart of the coordinator.
  coord.proc.stop(SIGTERM);
  coord.start();
  auto admin2 = coord.client(5000);
  auto after = admin2.call("predictor.list");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["serving_version"], 1);
  EXPECT_EQ((*after)["versions"].size(), 2u);
  EXPECT_EQ((*after)["versions"][1]["status"], "failed");
}

}  // namespace
}  // namespace edgenas::it
