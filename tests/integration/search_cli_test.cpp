// edgenas-meter-gen and edgenas-search as processes: a tiny search end to end, and bad input.
#include "harness.hpp"

namespace edgenas::it {
namespace {

TEST(SearchCli, TinySearchWritesAModelThatReadsMeters) {
  const std::string dir = temp_dir("search-cli");
  auto [g, go] = run({EDGENAS_METER_GEN_BIN, "-o", dir + "/data", "-n", "40", "--seed", "5"});
  ASSERT_EQ(g, 0) << go;
  std::ofstream(dir + "/hp.json")
      << R"({"layers": 2, "filters": 8, "kernel": 3, "loss": "focal", "seed": 3})";
  std::ofstream(dir + "/ctx.json") << R"({"job": {"tasks": [{"task_id": "ocr", "latency_req_ms": 5,
      "rows": [{"device": "cpu", "runtime_ms": 1, "energy_j": 0.01, "nodes": 1}]}]},
      "source": {"devices": [{"device": "cpu", "free_nodes": 2, "free_memory_mb": 1024}],
                 "power_w": 8, "power_modelled": true, "window_ms": 5000}})";
  auto [r, ro] = run({EDGENAS_SEARCH_BIN, "run", "--hparams", dir + "/hp.json", "--context",
                      dir + "/ctx.json", "--data", "folder:" + dir + "/data/digits", "--trials",
                      "3", "--budget", "5m", "--out", dir + "/out"});
  ASSERT_EQ(r, 0) << ro;
  auto results = nlohmann::json::parse(std::ifstream(dir + "/out/results.json"));
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
}

}  // namespace
}  // namespace edgenas::it
