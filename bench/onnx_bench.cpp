// edgenas-onnx-bench: the ONNX export's cost and fidelity, and OpenCV's DNN module beside
// edgenas's own batch-1 inference on one network, as JSON (docs/BENCHMARKS.md, "ONNX export").
//  - export: the time onnx_model_bytes takes (build, ONNX checker, serialize) and the largest
//    |difference| of OpenCV's logits from edgenas's on rendered meter digits, relative to the
//    logits' scale, over networks sampled across the whole search space;
//  - latency: batch-1 medians of edgenas's deployed plan (InferenceNet) and of OpenCV's
//    cv::dnn::Net on the same network, one thread each, alternating for `rounds` rounds.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <random>

#include "common/ml/infer.hpp"
#include "common/ml/onnx_check.hpp"
#include "common/ml/onnx_export.hpp"
#include "common/ml/threads.hpp"
#include "common/model/model.hpp"
#include "common/search/space.hpp"
#include "simulations/meter/meter.hpp"

using namespace edgenas;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr search::InputShape kDigit{1, 28, 28, 10};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

ml::Net trained_like(const search::ArchSpec& spec, uint64_t seed) {
  ml::Net net(spec, kDigit);
  ml::init_weights(net, seed);
  net->eval();
  return net;
}

// Export time and the largest difference over `samples` networks of the whole space.
json export_fidelity(int samples, uint64_t seed, const data::ImageSet& digits) {
  const search::SearchSpace space(
      {hp::kMaxLayers, hp::kMaxFilters, hp::kMaxKernel, Loss::cross_entropy, 1});
  std::mt19937_64 rng(seed);
  std::vector<double> export_ms;
  double worst = 0;
  for (int i = 0; i < samples; ++i) {
    const auto spec = space.sample(rng);
    auto net = trained_like(spec, seed + static_cast<uint64_t>(i));
    const auto t0 = Clock::now();
    auto bytes = ml::onnx_model_bytes(net, spec, kDigit);
    export_ms.push_back(ms_since(t0));
    if (!bytes) throw std::runtime_error(spec.key() + ": " + bytes.error().message);
    worst = std::max(worst, ml::onnx_max_difference(*bytes, net, digits));
  }
  return {{"networks", samples},
          {"export_ms_median", median(export_ms)},
          {"export_ms_max", *std::max_element(export_ms.begin(), export_ms.end())},
          {"max_difference", worst}};
}

// Batch-1 medians of both runtimes on one network, alternating rounds.
json latency(const search::ArchSpec& spec, int runs, int rounds) {
  auto net = trained_like(spec, 1);
  auto bytes = ml::onnx_model_bytes(net, spec, kDigit);
  if (!bytes) throw std::runtime_error(bytes.error().message);
  const auto plan = ml::InferenceNet::compile(net, kDigit);
  auto cv_net = cv::dnn::readNetFromONNX(bytes->data(), bytes->size());
  const int dims[] = {1, 1, 28, 28};
  cv::Mat blob(4, dims, CV_32F, cv::Scalar(128));
  auto opencv_ms = [&] {
    std::vector<double> ms;
    for (int i = 0; i < runs + 20; ++i) {
      const auto t0 = Clock::now();
      cv_net.setInput(blob, "pixels");
      (void)cv_net.forward();
      if (i >= 20) ms.push_back(ms_since(t0));  // after 20 warm-up runs
    }
    return median(ms);
  };
  std::vector<double> ours, theirs;
  for (int r = 0; r < rounds; ++r) {
    ours.push_back(ml::measure_latency_ms(plan, kDigit, {20, runs}));
    theirs.push_back(opencv_ms());
  }
  return {{"arch", spec.key()},
          {"flops", search::cost_of(spec, kDigit).flops},
          {"plan", ml::InferenceNet::name(plan.layout())},
          {"edgenas_ms", median(ours)},
          {"opencv_ms", median(theirs)},
          {"ratio_opencv_over_edgenas", median(theirs) / median(ours)},
          {"rounds", rounds}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgenas-onnx-bench: ONNX export time and fidelity; OpenCV vs edgenas batch-1"};
  std::string arch = "c16k5s2r-c64k3s1rh-c4k3s2r-c64k3s2br-c32k5s1br-h32";
  int samples = 12, runs = 500, rounds = 5;
  uint64_t seed = 11;
  app.add_option("--arch", arch, "the network of the latency comparison (an ArchSpec key)")
      ->capture_default_str();
  app.add_option("--samples", samples, "networks sampled for export time and difference")
      ->capture_default_str();
  app.add_option("--runs", runs, "batch-1 runs per round and runtime")->capture_default_str();
  app.add_option("--rounds", rounds, "alternating rounds (median of their medians)")
      ->capture_default_str();
  app.add_option("--seed", seed)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const auto spec = search::ArchSpec::from_key(arch);
  if (!spec) return std::cerr << "not an architecture key: " << arch << "\n", 2;
  ml::set_threads(1);
  cv::setNumThreads(1);
  auto gen = meter::Generator::create();
  if (!gen) return std::cerr << gen.error().message << "\n", 1;
  auto digits = meter::digit_crops(*gen, 8, 100);
  if (!digits) return std::cerr << digits.error().message << "\n", 1;
  try {
    std::cout << json{{"export", export_fidelity(samples, seed, *digits)},
                      {"latency", latency(*spec, runs, rounds)}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
