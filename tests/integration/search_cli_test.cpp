// edgenas-meter-gen and edgenas-search as processes: a tiny search end to end, and bad input.
#include <sstream>

#include "common/search/latency_set.hpp"
#include "common/search/paired.hpp"
#include "common/search/space.hpp"
#include "harness.hpp"

namespace edgenas::it {
namespace {

// Generated meters in DIR/data and a search's two JSON inputs: DIR/hp.json (as given) and
// DIR/ctx.json (one task of latency T on a CPU with 2 free cores).
void search_inputs(const std::string& dir, int meters, int seed, const std::string& hp,
                   double t_ms) {
  auto [g, go] = run({EDGENAS_METER_GEN_BIN, "-o", dir + "/data", "-n", std::to_string(meters),
                      "--seed", std::to_string(seed)});
  ASSERT_EQ(g, 0) << go;
  std::ofstream(dir + "/hp.json") << hp;
  std::ofstream(dir + "/ctx.json")
      << R"({"job": {"tasks": [{"task_id": "ocr", "latency_req_ms": )" << t_ms << R"(,
      "rows": [{"device": "cpu", "runtime_ms": 1, "energy_j": 0.01, "nodes": 1}]}]},
      "source": {"devices": [{"device": "cpu", "free_nodes": 2, "free_memory_mb": 1024}],
                 "power_w": 8, "power_modelled": true, "window_ms": 5000}})";
}

TEST(SearchCli, TinySearchWritesAModelThatReadsMetersAndExportsAsOnnx) {
  const std::string dir = temp_dir("search-cli");
  ASSERT_NO_FATAL_FAILURE(search_inputs(
      dir, 40, 5, R"({"layers": 2, "filters": 8, "kernel": 3, "loss": "focal", "seed": 3})", 5));
  auto [r, ro] =
      run({EDGENAS_SEARCH_BIN, "run", "--hparams", dir + "/hp.json", "--context", dir + "/ctx.json",
           "--data", "folder:" + dir + "/data/digits", "--trials", "3", "--budget", "5m",
           "--final-max-epochs", "5", "--export-onnx", "--out", dir + "/out"});
  ASSERT_EQ(r, 0) << ro;
  auto results = nlohmann::json::parse(std::ifstream(dir + "/out/results.json"));
  EXPECT_EQ(results["onnx"]["file"], dir + "/out/best.onnx") << results["onnx"].dump();
  EXPECT_TRUE(std::filesystem::exists(dir + "/out/best.onnx"));
  EXPECT_EQ(results["trials"], 3);
  EXPECT_EQ(results["hparams"]["loss"], "focal");
  EXPECT_LE(results["best"]["spec"]["blocks"].size(), 2u);  // inside the pushed bounds
  EXPECT_TRUE(std::filesystem::exists(dir + "/out/pareto.svg"));
  auto [m, mo] = run({EDGENAS_SEARCH_BIN, "read-meter", "--json", "--model",
                      dir + "/out/best.edgenas", dir + "/data/meters/000000.png"});
  ASSERT_EQ(m, 0) << mo;
  auto read = nlohmann::json::parse(mo);
  EXPECT_EQ(read[0]["reading"].get<std::string>().size(), 6u);
  EXPECT_EQ(read[0]["confidence"].size(), 6u);

  // The delivered model as ONNX (its contents are checked against OpenCV in onnx_test); a file
  // that is not a model, or a format we do not write, is refused with a usage error.
  auto [e, eo] = run({EDGENAS_SEARCH_BIN, "export", "--model", dir + "/out/best.edgenas", "-o",
                      dir + "/out/best.onnx"});
  ASSERT_EQ(e, 0) << eo;
  EXPECT_NE(eo.find("ONNX opset 13"), std::string::npos) << eo;
  EXPECT_GT(std::filesystem::file_size(dir + "/out/best.onnx"), 1000u);
  std::ofstream(dir + "/bad.edgenas") << "not a model";
  auto [b, bo] =
      run({EDGENAS_SEARCH_BIN, "export", "--model", dir + "/bad.edgenas", "-o", dir + "/bad.onnx"});
  EXPECT_EQ(b, 2) << bo;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.onnx"));
  auto [f, fo] = run({EDGENAS_SEARCH_BIN, "export", "--model", dir + "/out/best.edgenas",
                      "--format", "tflite", "-o", dir + "/m.tflite"});
  EXPECT_EQ(f, 2) << fo;
}

// A trial budget alone (--budget 0) is reproducible: two trials at a time, the same seed gives
// the same trials, the same best architecture and the same delivered model (its final epochs
// counted, not timed); another seed gives other trials. T is far above every candidate's
// latency, so the measured latency (which varies) decides nothing.
TEST(SearchCli, ATrialBudgetAndASeedGiveTheSameTrialsAndTheSameModel) {
  const std::string dir = temp_dir("search-repro");
  ASSERT_NO_FATAL_FAILURE(search_inputs(
      dir, 200, 6,
      R"({"layers": 3, "filters": 16, "kernel": 5, "loss": "cross_entropy", "seed": 5})", 1000));
  auto search = [&](const std::string& out, const std::string& hp) {
    auto [r, ro] = run({EDGENAS_SEARCH_BIN, "run", "--hparams", hp, "--context", dir + "/ctx.json",
                        "--data", "folder:" + dir + "/data/digits", "--budget", "0", "--trials",
                        "6", "--workers", "2", "--final-epochs", "3", "--out", dir + "/" + out},
                       300);
    EXPECT_EQ(r, 0) << ro;
    return nlohmann::json::parse(std::ifstream(dir + "/" + out + "/results.json"));
  };
  auto trials = [](const nlohmann::json& res) {
    std::vector<std::tuple<std::string, double, uint64_t>> t;
    for (const auto& x : res["all_trials"])
      t.emplace_back(x["spec"].dump(), x["accuracy"].get<double>(), x["seed"].get<uint64_t>());
    return t;
  };
  const auto a = search("a", dir + "/hp.json"), b = search("b", dir + "/hp.json");
  ASSERT_EQ(a["trials"], 6);
  EXPECT_EQ(trials(a), trials(b));
  EXPECT_EQ(a["best"]["key"], b["best"]["key"]);
  EXPECT_EQ(a["best"]["final_epochs"], 3) << a["best"].dump(1);
  EXPECT_EQ(a["best"]["validation_accuracy"], b["best"]["validation_accuracy"]);
  EXPECT_EQ(a["best"]["test_accuracy"], b["best"]["test_accuracy"]);

  std::ofstream(dir + "/hp6.json")
      << R"({"layers": 3, "filters": 16, "kernel": 5, "loss": "cross_entropy", "seed": 6})";
  EXPECT_NE(trials(search("c", dir + "/hp6.json")), trials(a));

  auto [u, uo] =
      run({EDGENAS_SEARCH_BIN, "run", "--hparams", dir + "/hp.json", "--context", dir + "/ctx.json",
           "--data", "folder:" + dir + "/data/digits", "--final-epochs", "2", "--out", dir + "/d"});
  EXPECT_EQ(u, 2) << uo;
  EXPECT_NE(uo.find("--final-epochs is for a trial budget alone"), std::string::npos) << uo;
}

// The box's current model (--incumbent) is scored beside the new one on the same split: the
// split does not move with the search's seed, so an earlier run's model scores in a later run
// exactly what it scored in its own; results.json says which is better. A model file that
// cannot be read is reported, not fatal.
TEST(SearchCli, TheIncumbentIsScoredOnTheSameSplitAsTheNewModel) {
  const std::string dir = temp_dir("search-incumbent");
  ASSERT_NO_FATAL_FAILURE(search_inputs(
      dir, 120, 8,
      R"({"layers": 2, "filters": 8, "kernel": 3, "loss": "cross_entropy", "seed": 5})", 1000));
  std::ofstream(dir + "/hp7.json")
      << R"({"layers": 2, "filters": 8, "kernel": 3, "loss": "cross_entropy", "seed": 7})";
  auto search = [&](const std::string& hp, const std::string& out, const std::string& incumbent) {
    std::vector<std::string> argv{EDGENAS_SEARCH_BIN,
                                  "run",
                                  "--hparams",
                                  dir + "/" + hp,
                                  "--context",
                                  dir + "/ctx.json",
                                  "--data",
                                  "folder:" + dir + "/data/digits",
                                  "--budget",
                                  "0",
                                  "--trials",
                                  "2",
                                  "--final-epochs",
                                  "1",
                                  "--out",
                                  dir + "/" + out};
    if (!incumbent.empty()) argv.insert(argv.end(), {"--incumbent", incumbent});
    auto [r, ro] = run(argv, 300);
    EXPECT_EQ(r, 0) << ro;
    return nlohmann::json::parse(std::ifstream(dir + "/" + out + "/results.json"));
  };
  const auto first = search("hp.json", "one", "");
  EXPECT_FALSE(first.contains("incumbent"));
  const auto second = search("hp7.json", "two", dir + "/one/best.edgenas");
  const auto& inc = second["incumbent"];
  ASSERT_FALSE(inc.contains("error")) << inc.dump();
  EXPECT_EQ(inc["key"], first["best"]["key"]);
  EXPECT_DOUBLE_EQ(inc["test_accuracy"].get<double>(),
                   first["best"]["test_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(inc["validation_accuracy"].get<double>(),
                   first["best"]["validation_accuracy"].get<double>());
  // The counts of disputed validation images account for the accuracies' difference, and only
  // a clear lead of the new model displaces the kept one (both meet T here).
  const search::Disagreements d{inc["validation_only_new_right"].get<int64_t>(),
                                inc["validation_only_kept_right"].get<int64_t>()};
  EXPECT_NEAR((second["best"]["validation_accuracy"].get<double>() -
               inc["validation_accuracy"].get<double>()) *
                  second["dataset"]["validation"].get<double>(),
              static_cast<double>(d.only_first - d.only_second), 1e-6);
  EXPECT_EQ(inc["better"].get<bool>(), !search::first_clearly_better(d)) << inc.dump();

  std::ofstream(dir + "/garbage.edgenas") << "not a model";
  const auto third = search("hp7.json", "three", dir + "/garbage.edgenas");
  EXPECT_FALSE(third["incumbent"]["better"].get<bool>());
  EXPECT_TRUE(third["incumbent"].contains("error"));
}

TEST(SearchCli, AnNpuTargetIsModelledFromTheProfileAndSaysSo) {
  const std::string dir = temp_dir("search-npu");
  auto [g, go] = run({EDGENAS_METER_GEN_BIN, "-o", dir + "/data", "-n", "30", "--seed", "6"});
  ASSERT_EQ(g, 0) << go;
  std::ofstream(dir + "/hp.json")
      << R"({"layers": 2, "filters": 8, "kernel": 3, "loss": "cross_entropy", "seed": 3})";
  // The tight task runs fastest on the NPU, which has free cores: auto picks npu0.
  std::ofstream(dir + "/ctx.json") << R"({"job": {"tasks": [{"task_id": "ocr", "latency_req_ms": 2,
      "rows": [{"device": "cpu", "runtime_ms": 9, "energy_j": 0.1, "nodes": 2},
               {"device": "npu0", "runtime_ms": 1, "energy_j": 0.01, "nodes": 1}]}]},
      "source": {"devices": [{"device": "cpu", "free_nodes": 2, "free_memory_mb": 1024},
                             {"device": "npu0", "free_nodes": 2, "free_memory_mb": 4096}],
                 "power_w": 15, "power_modelled": true, "window_ms": 5000}})";
  const std::string profile =
      std::string(EDGENAS_SOURCE_DIR) + "/simulations/profiles/atlas200dk.toml";
  auto [r, ro] =
      run({EDGENAS_SEARCH_BIN, "run", "--hparams", dir + "/hp.json", "--context", dir + "/ctx.json",
           "--data", "folder:" + dir + "/data/digits", "--trials", "2", "--budget", "5m",
           "--final-share", "0", "--profile", profile, "--out", dir + "/out"});
  ASSERT_EQ(r, 0) << ro;
  EXPECT_NE(ro.find("on npu0 (modelled)"), std::string::npos) << ro;
  auto res = nlohmann::json::parse(std::ifstream(dir + "/out/results.json"));
  EXPECT_EQ(res["device"], "npu0");
  EXPECT_EQ(res["best"]["latency_modelled"], true);
  EXPECT_EQ(res["best"]["energy_modelled"], true);
  EXPECT_GT(res["calibration"]["flops_per_ms"].get<double>(), 0);
  // latency = overhead + FLOPs / (speed · calibrated throughput)
  const double expect = 0.3 + res["best"]["flops"].get<double>() /
                                  (6.0 * res["calibration"]["flops_per_ms"].get<double>());
  EXPECT_NEAR(res["best"]["latency_ms"].get<double>(), expect, 1e-6);
  for (const auto& t : res["all_trials"]) EXPECT_EQ(t["latency_modelled"], true);

  // Without a profile there is no model for the NPU: a clear error, exit 2.
  auto [e, eo] = run({EDGENAS_SEARCH_BIN, "run", "--hparams", dir + "/hp.json", "--context",
                      dir + "/ctx.json", "--data", "folder:" + dir + "/data/digits", "--device",
                      "npu0", "--trials", "1", "--out", dir + "/out2"});
  EXPECT_EQ(e, 2);
  EXPECT_NE(eo.find("no latency model for device 'npu0'"), std::string::npos) << eo;
}

// `edgenas-search run` on DIR's search_inputs.
std::vector<std::string> search_run_argv(const std::string& dir) {
  return {EDGENAS_SEARCH_BIN, "run",
          "--hparams",        dir + "/hp.json",
          "--context",        dir + "/ctx.json",
          "--data",           "folder:" + dir + "/data/digits"};
}

// A simulated Raspberry Pi 4 (its CPU modelled from the profile) whose kind, ARM Cortex-A72, has
// a fleet latency model past its gate: the model predicts every latency instead of the FLOPs
// line, the outputs say "predicted" with the version, and T is met within T less the model's
// margin. A model that did not pass its gate is not used.
TEST(SearchCli, AFleetLatencyModelOfTheTargetsKindPredictsItAndSaysSo) {
  const std::string dir = temp_dir("search-predicted");
  search_inputs(dir, 30, 8, R"({"layers": 2, "filters": 8, "kernel": 3, "loss": "cross_entropy",
      "seed": 3})",
                20);
  const std::string profile = std::string(EDGENAS_SOURCE_DIR) + "/simulations/profiles/rpi4.toml";
  auto search = [&](const std::string& out, const std::vector<std::string>& extra) {
    auto argv = search_run_argv(dir);
    argv.insert(argv.end(), {"--trials", "2", "--budget", "5m", "--final-share", "0", "--model-cpu",
                             "--profile", profile, "--out", dir + "/" + out});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  };
  // Without models: modelled, and results.json names the runtime a model must have been
  // measured with.
  auto [m, mo] = search("modelled", {});
  ASSERT_EQ(m, 0) << mo;
  auto res = nlohmann::json::parse(std::ifstream(dir + "/modelled/results.json"));
  EXPECT_EQ(res["latency_source"], "modelled");
  const auto width = search::latency_feature_names().size();
  search::LatencyModelSet set;
  set.version = 7;
  set.scale = {std::vector<double>(width, 0.0), std::vector<double>(width, 1.0)};
  search::KindModel k;
  k.kind = {"ARM Cortex-A72", res["runtime"].get<std::string>(),
            res["trial_latency_threads"].get<int>(), "cnn"};
  k.method = "additive";
  k.additive = {k.kind.label(), set.scale, 0.5, std::vector<double>(width, 1e-4), 0.01};
  k.margin = 0.1;
  k.serves = true;
  set.kinds.push_back(k);
  std::ofstream(dir + "/models.json") << search::to_json(set).dump();

  auto [p, po] = search("predicted", {"--latency-models", dir + "/models.json"});
  ASSERT_EQ(p, 0) << po;
  EXPECT_NE(po.find("on cpu (predicted by fleet latency model v7)"), std::string::npos) << po;
  res = nlohmann::json::parse(std::ifstream(dir + "/predicted/results.json"));
  EXPECT_EQ(res["latency_source"], "predicted");
  EXPECT_EQ(res["best"]["latency_source"], "predicted");
  EXPECT_EQ(res["best"]["latency_modelled"], true);  // not measured
  EXPECT_EQ(res["latency_model"]["version"], 7);
  EXPECT_EQ(res["latency_model"]["kind"], k.kind.label());
  EXPECT_NEAR(res["latency_model"]["bound_ms"].get<double>(), 18.0, 1e-9);  // T less 10 %
  EXPECT_FALSE(res.contains("calibration"));  // nothing was timed for a FLOPs model
  const auto& best = res["best"];
  const auto& d = res["dataset"];
  const auto layers = search::lower(*search::ArchSpec::from_key(best["key"].get<std::string>()),
                                    {d["channels"].get<int>(), d["image_h"].get<int>(),
                                     d["image_w"].get<int>(), d["classes"].get<int>()});
  EXPECT_NEAR(best["latency_ms"].get<double>(), k.predict(search::latency_features(layers)), 1e-9);
  EXPECT_EQ(best["met_latency"], best["latency_ms"].get<double>() <= 18.0);

  set.kinds[0].serves = false;
  std::ofstream(dir + "/models.json") << search::to_json(set).dump();
  auto [n, no] = search("not-past-gate", {"--latency-models", dir + "/models.json"});
  ASSERT_EQ(n, 0) << no;
  res = nlohmann::json::parse(std::ifstream(dir + "/not-past-gate/results.json"));
  EXPECT_EQ(res["latency_source"], "modelled");

  std::ofstream(dir + "/models.json") << R"({"version": 7})";
  auto [b, bo] = search("bad-models", {"--latency-models", dir + "/models.json"});
  EXPECT_EQ(b, 2);
  EXPECT_NE(bo.find("models.json"), std::string::npos) << bo;
}

// A time budget is kept whatever the space holds: in a space of large networks, trials that
// cannot finish before the search's end are not started or are cut, and the final training
// ends at its own deadline. (Before, one large trial drawn late ran far past the budget.)
TEST(SearchCli, ARunEndsWithinItsTimeBudget) {
  const std::string dir = temp_dir("search-budget");
  ASSERT_NO_FATAL_FAILURE(search_inputs(
      dir, 300, 8,
      R"({"layers": 8, "filters": 256, "kernel": 7, "loss": "cross_entropy", "seed": 4})", 1000));
  const double budget_s = 30;
  auto [r, ro] =
      run({EDGENAS_SEARCH_BIN, "run", "--hparams", dir + "/hp.json", "--context", dir + "/ctx.json",
           "--data", "folder:" + dir + "/data/digits", "--budget", "30s", "--out", dir + "/out"},
          300);
  ASSERT_EQ(r, 0) << ro;
  auto res = nlohmann::json::parse(std::ifstream(dir + "/out/results.json"));
  // Within the budget (a few seconds for a batch under way at the cutoff on a loaded machine),
  // and the budget used rather than left idle.
  EXPECT_LE(res["elapsed_s"].get<double>(), budget_s + 5) << res.dump(1);
  EXPECT_GE(res["elapsed_s"].get<double>(), 0.8 * budget_s) << res.dump(1);
  EXPECT_LE(res["search_s"].get<double>(), 0.75 * budget_s + 5);
  for (const auto& t : res["all_trials"]) {
    if (t["ok"].get<bool>()) continue;
    const std::string e = t["error"];
    EXPECT_TRUE(e.find("not started") != std::string::npos ||
                e.find("cut at") != std::string::npos || e.find("pruned") != std::string::npos)
        << e;
  }
}

// --test scores the delivered model on a set of its own (here: meters the search never saw),
// results.json says where each accuracy comes from, and the trainings under way are reported
// while they run, not only when a trial ends.
TEST(SearchCli, ASeparateTestSetIsScoredAndTrainingsAreReportedWhileTheyRun) {
  const std::string dir = temp_dir("search-test-set");
  ASSERT_NO_FATAL_FAILURE(search_inputs(
      dir, 40, 5, R"({"layers": 2, "filters": 8, "kernel": 3, "loss": "cross_entropy", "seed": 3})",
      5));
  auto [g, go] = run({EDGENAS_METER_GEN_BIN, "-o", dir + "/test", "-n", "30", "--seed", "9"});
  ASSERT_EQ(g, 0) << go;
  auto argv = search_run_argv(dir);
  argv.insert(argv.end(), {"--test", "folder:" + dir + "/test/digits", "--trials", "2", "--budget",
                           "5m", "--final-max-epochs", "20", "--progress", "json",
                           "--progress-interval", "100ms", "--out", dir + "/out"});
  auto [r, ro] = run(argv);
  ASSERT_EQ(r, 0) << ro;
  auto res = nlohmann::json::parse(std::ifstream(dir + "/out/results.json"));
  EXPECT_EQ(res["dataset"]["test"], 180);  // 30 meters of 6 digits
  EXPECT_EQ(res["dataset"]["train"].get<int>() + res["dataset"]["validation"].get<int>(), 240);
  EXPECT_NE(res["dataset"]["test_source"].get<std::string>().find("--test folder:"),
            std::string::npos);
  EXPECT_NE(res["accuracy_splits"]["test_accuracy"].get<std::string>().find("--test"),
            std::string::npos);
  int running = 0;
  std::istringstream lines(ro);
  for (std::string line; std::getline(lines, line);) {
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.is_object() || e.value("event", "") != "running") continue;
    ++running;
    ASSERT_FALSE(e["trainings"].empty()) << line;
    EXPECT_GE(e["trainings"][0]["epoch"].get<int>(), 1) << line;
  }
  EXPECT_GT(running, 0) << ro;

  // A test set that is not there: a clear error naming the flag, exit 2.
  auto [b, bo] = run({EDGENAS_SEARCH_BIN, "run", "--hparams", dir + "/hp.json", "--context",
                      dir + "/ctx.json", "--data", "folder:" + dir + "/data/digits", "--test",
                      "folder:" + dir + "/nowhere", "--trials", "1", "--out", dir + "/out2"});
  EXPECT_EQ(b, 2);
  EXPECT_NE(bo.find("--test: "), std::string::npos) << bo;
}

// bench/digit_errors.py: the generator's record of rolling drums, and the report's counts
// against the model's own answers.
TEST(SearchCli, TheDigitErrorReportCountsWhatTheModelReadsWrong) {
  const std::string dir = temp_dir("digit-errors");
  for (const auto& [name, seed] : {std::pair{"train", "5"}, {"test", "9"}}) {
    auto [g, go] = run({EDGENAS_METER_GEN_BIN, "-o", dir + "/" + name, "-n", "30", "--seed", seed,
                        "--style", "odometer"});
    ASSERT_EQ(g, 0) << go;
  }
  const std::string test = dir + "/test/digits";
  std::ifstream rolling_csv(test + "/rolling.csv");
  std::string line;
  std::getline(rolling_csv, line);
  EXPECT_EQ(line, "file,turned");
  int rolling = 0;
  for (; std::getline(rolling_csv, line); ++rolling) {
    const auto comma = line.find(',');
    EXPECT_NE(line.find("_5.png,"), std::string::npos) << line;  // the last drum alone
    const double turned = std::stod(line.substr(comma + 1));
    EXPECT_GT(turned, 0.1) << line;
    EXPECT_LT(turned, 0.9) << line;
  }
  EXPECT_GT(rolling, 3);  // about 40 % of 30 odometers
  auto [t, to] = run({EDGENAS_SEARCH_BIN, "train", "--arch", "c8k3s2-h0", "--data",
                      "folder:" + dir + "/train/digits", "--budget", "2s", "--out", dir + "/m"});
  ASSERT_EQ(t, 0) << to;
  const std::string model = dir + "/m/best.edgenas";
  auto [e, eo] =
      run({"/usr/bin/python3", std::string(EDGENAS_SOURCE_DIR) + "/bench/digit_errors.py",
           EDGENAS_SEARCH_BIN, test, model, "--json", dir + "/errors.json"});
  ASSERT_EQ(e, 0) << eo;
  const auto report = nlohmann::json::parse(std::ifstream(dir + "/errors.json"));
  EXPECT_EQ(report["test"]["digits"], 180);
  EXPECT_EQ(report["test"]["rolling"], rolling);

  // The model's own answers, counted here.
  std::vector<std::string> predict{EDGENAS_SEARCH_BIN, "predict", "--model", model, "--json"};
  std::ifstream labels_csv(test + "/labels.csv");
  std::vector<int> labels;
  std::getline(labels_csv, line);
  while (std::getline(labels_csv, line)) {
    predict.push_back(test + "/" + line.substr(0, line.find(',')));
    labels.push_back(std::stoi(line.substr(line.find(',') + 1)));
  }
  auto [p, po] = run(predict);
  ASSERT_EQ(p, 0) << po;
  const auto answers = nlohmann::json::parse(po);
  int wrong = 0;
  for (size_t i = 0; i < labels.size(); ++i) wrong += answers[i]["class"] != labels[i];
  const auto& counts = report["models"][model];
  EXPECT_EQ(counts["wrong"], wrong);
  int by_position = 0, by_band = 0;
  for (const auto& [k, n] : counts["by_position"].items()) by_position += n.get<int>();
  for (const auto& [k, n] : counts["by_band"].items()) by_band += n.get<int>();
  EXPECT_EQ(by_position, wrong);
  EXPECT_EQ(by_band, wrong);
}

TEST(SearchCli, BadInputIsAClearErrorAndExitTwo) {
  const std::string dir = temp_dir("search-bad");
  std::ofstream(dir + "/hp.json")
      << R"({"layers": 40, "filters": 8, "kernel": 3, "loss": "focal", "seed": 3})";
  std::ofstream(dir + "/ctx.json") << "{}";
  auto [a, ao] = run({EDGENAS_SEARCH_BIN, "run", "--hparams", dir + "/hp.json", "--context",
                      dir + "/ctx.json", "--data", "folder:" + dir, "--out", dir + "/out"});
  EXPECT_EQ(a, 2);
  EXPECT_NE(ao.find("layers"), std::string::npos) << ao;
  std::ofstream(dir + "/junk.edgenas") << "junk";
  auto [b, bo] =
      run({EDGENAS_SEARCH_BIN, "predict", "--model", dir + "/junk.edgenas", dir + "/x.png"});
  EXPECT_EQ(b, 2);
  EXPECT_NE(bo.find("not an edgenas model"), std::string::npos) << bo;
  auto [c, co] = run({EDGENAS_SEARCH_BIN, "inspect", "--data", "folder:" + dir + "/nowhere"});
  EXPECT_EQ(c, 2);
  EXPECT_NE(co.find("nowhere"), std::string::npos) << co;
}

}  // namespace
}  // namespace edgenas::it
