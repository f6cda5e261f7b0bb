// edgenas-predictor-bench: coordinator-side inference latency of the predictor at batch 1:
// PredictorService::choose (features, normalisation, the MLP, the heads, exploration) for the
// largest network the predictor's NAS may produce (10 hidden layers of 300) and for a typical
// one, over many different contexts. Prints p50/p99/max per network.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "coordinator/predictor/service.hpp"

using namespace edgenas;
using namespace edgenas::predictor;

namespace {

PredictorModel random_model(const std::vector<int>& hidden, std::mt19937_64& rng) {
  std::normal_distribution<float> w(0, 0.05f);
  PredictorModel m;
  m.version = 1;
  const int n = static_cast<int>(feature_names().size());
  m.norm.mean.assign(static_cast<std::size_t>(n), 0.0f);
  m.norm.scale.assign(static_cast<std::size_t>(n), 1.0f);
  auto dense = [&](int in, int out) {
    Dense d{in, out, std::vector<float>(static_cast<std::size_t>(in * out)),
            std::vector<float>(static_cast<std::size_t>(out), 0.0f)};
    for (auto& v : d.w) v = w(rng);
    return d;
  };
  int in = n;
  for (int h : hidden) {
    m.mlp.trunk.push_back(dense(in, h));
    in = h;
  }
  for (int h = 0; h < kHeads; ++h) m.mlp.heads.push_back(dense(in, Grid::size(h)));
  return m;
}

Context random_context(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  Context c;
  c.source.devices = {
      {"cpu", 1 + static_cast<int>(u(rng) * 8), 512 + static_cast<int64_t>(u(rng) * 8000)},
      {"npu0", static_cast<int>(u(rng) * 3), 4096}};
  c.source.power_w = 5 + 20 * u(rng);
  const int tasks = 1 + static_cast<int>(u(rng) * 20);
  for (int t = 0; t < tasks; ++t)
    c.job.tasks.push_back(
        {"t" + std::to_string(t),
         2 + 500 * u(rng),
         {{"cpu", 50 * u(rng), u(rng), 1}, {"npu0", 5 * u(rng), 0.1 * u(rng), 1}}});
  return c;
}

}  // namespace

int main() {
  std::mt19937_64 rng(1);
  const std::string dir = std::filesystem::temp_directory_path() / "edgenas-predictor-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = coordinator::TraceStore::open(dir + "/c.db");
  if (!store) return std::fprintf(stderr, "%s\n", store.error().message.c_str()), 1;
  std::vector<Context> contexts;
  for (int i = 0; i < 1000; ++i) contexts.push_back(random_context(rng));
  struct Case {
    const char* name;
    std::vector<int> hidden;
  };
  for (const auto& c : {Case{"largest allowed (10 x 300)", std::vector<int>(10, 300)},
                        Case{"typical (256-96-128)", {256, 96, 128}}}) {
    const std::string path = dir + "/" + std::to_string(c.hidden.size()) + ".edgenasp";
    (void)save_predictor(path, random_model(c.hidden, rng));
    coordinator::PredictorVersion v;
    v.version = static_cast<int>(c.hidden.size());
    v.status = "candidate";
    v.path = path;
    (void)(*store)->save_predictor_version(v);
    SystemClock clock;
    struct NoChildren final : ChildLauncher {
      Expected<int> spawn(const ChildSpec&) override { return Error{"x", "x"}; }
      std::optional<int> adopt(int, const std::string&) override { return std::nullopt; }
      void signal(int, int) override {}
      std::optional<ChildExit> poll(int) override { return std::nullopt; }
      std::vector<std::string> take_lines(int) override { return {}; }
      std::string limits_applied(int) const override { return ""; }
    } none;
    PredictorConfig cfg;
    cfg.explore = 0.1;
    PredictorService service(clock, **store, cfg, none);
    if (auto r = service.promote(v.version, "bench"); !r)
      return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
    std::vector<double> us;
    proto::HparamRequest req;
    for (int i = 0; i < 20'000; ++i) {
      req.request_id = "r" + std::to_string(i);
      req.context = contexts[static_cast<std::size_t>(i) % contexts.size()];
      const auto t0 = std::chrono::steady_clock::now();
      auto reply = service.choose("box", req);
      us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      if (reply.predictor_version == 0) return std::fprintf(stderr, "not served by the model\n"), 1;
    }
    std::sort(us.begin(), us.end());
    auto q = [&](double p) { return us[static_cast<std::size_t>(p * (us.size() - 1))]; };
    std::printf(
        "%-28s 20000 requests: p50 %.1f us, p99 %.1f us, max %.1f us (target p99 <= 2000 us)\n",
        c.name, q(0.5), q(0.99), us.back());
  }
  std::filesystem::remove_all(dir);
  return 0;
}
