// edgenas-latency-fit-bench: the learned latency models' costs on real measurements (a
// NAS-Bench-201 table): the time to train a device kind's models on N measurements (its
// kernel-additive model, then its transfer model over the other columns' models), and the time
// to serve one architecture (lowering to layers, features, prediction), p50 / p99 / max over
// every cell of the table.
// Usage: edgenas-latency-fit-bench TABLE [DEVICE] [N]   (defaults help_raspi4, 10000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "common/search/layers.hpp"
#include "common/search/learned_latency.hpp"
#include "simulations/nb201/table.hpp"

using namespace edgenas;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double at(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return std::fprintf(stderr, "usage: %s TABLE [DEVICE] [N]\n", argv[0]), 2;
  auto t = sim::load_nb201_table(argv[1]);
  if (!t) return std::fprintf(stderr, "%s\n", t.error().message.c_str()), 2;
  const auto column = t->device(argc > 2 ? argv[2] : "help_raspi4");
  if (!column) return std::fprintf(stderr, "no such device column\n"), 2;
  const std::size_t n = argc > 3 ? std::stoul(argv[3]) : 10'000;

  std::vector<std::vector<double>> features;
  for (const auto& cell : t->cells)
    features.push_back(search::latency_features(search::lower(cell)));
  const auto scale = search::FeatureScale::of(features);
  std::vector<std::size_t> rows(t->rows());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  std::shuffle(rows.begin(), rows.end(), std::mt19937_64(1));
  rows.resize(std::min(n, rows.size()));
  auto measured = [&](std::size_t c) {
    std::vector<search::Measurement> m;
    for (auto r : rows) m.push_back({features[r], t->latency_ms[c][r]});
    return m;
  };

  std::vector<search::AdditiveLatencyModel> others;
  for (std::size_t c = 0; c < t->devices.size(); ++c)
    if (static_cast<int>(c) != *column)
      others.push_back(*search::fit_additive(t->devices[c], scale, measured(c)));
  const auto own = measured(static_cast<std::size_t>(*column));
  auto start = Clock::now();
  auto additive = search::fit_additive(t->devices[static_cast<std::size_t>(*column)], scale, own);
  const double additive_ms = ms_since(start);
  start = Clock::now();
  auto transfer = search::fit_transfer(t->devices[static_cast<std::size_t>(*column)], others, own);
  const double transfer_ms = ms_since(start);
  if (!additive || !transfer) return std::fprintf(stderr, "fit failed\n"), 1;
  std::printf(
      "train on %zu measurements of %s: additive %.0f ms, transfer over %zu kinds %.0f ms\n",
      own.size(), t->devices[static_cast<std::size_t>(*column)].c_str(), additive_ms, others.size(),
      transfer_ms);

  std::vector<double> serve_ms;
  double sink = 0;
  for (const auto& cell : t->cells) {
    const auto s = Clock::now();
    sink += transfer->predict(search::latency_features(search::lower(cell)));
    serve_ms.push_back(ms_since(s));
  }
  std::printf(
      "serve one architecture (lower, features, predict) over %zu cells: p50 %.4f ms, "
      "p99 %.4f ms, max %.4f ms (checksum %.1f)\n",
      serve_ms.size(), at(serve_ms, 0.5), at(serve_ms, 0.99), at(serve_ms, 1.0), sink);
  return 0;
}
