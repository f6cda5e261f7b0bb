#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <tuple>
#include <vector>

#include "common/search/latency_model.hpp"
#include "common/search/space.hpp"
#include "coordinator/core/cold_start_policy.hpp"

namespace edgenas::coordinator {
namespace {

// One core of the machine the latency model is calibrated on does about 1e8 FLOP/ms on batch-1
// small CNNs (the surrogate's 512 measured networks, simulations/surrogate/table.csv: 0.99e8
// FLOP/ms, 0.033 ms per call). The boxes' devices relative to it, from the device profiles
// (simulations/profiles/*.toml, each with its reasoning; the ARM CPUs' checked against
// NAS-Bench-201 latencies measured on a Raspberry Pi 4 and phone CPUs, docs/BENCHMARKS.md): CPU
// cores 0.012 (Pi Zero 2 W) to 0.8 (x86 edge server), the Atlas 200 DK's Ascend 310 6.0, the
// Jetson Nano's GPU 0.9. The rule takes the slow end of the boxes edgenas is for (0.014, the
// Atlas 200 DK's Cortex-A55), so a space it gives fits T on them.
constexpr double kReferenceFlopsPerMs = 1e8;
constexpr ColdStartPolicy::DeviceModel kCpu{0.014 * kReferenceFlopsPerMs, 0.05};
constexpr ColdStartPolicy::DeviceModel kNpu{6.0 * kReferenceFlopsPerMs, 0.3};
constexpr ColdStartPolicy::DeviceModel kGpu{0.9 * kReferenceFlopsPerMs, 0.4};
// Architectures sampled per space for its typical one (a fixed seed: the answer is a function
// of the context alone).
constexpr int kTypicalSamples = 33;
constexpr uint64_t kTypicalSeed = 1;

search::InputShape input_of(const Context& ctx) {
  if (!ctx.dataset) return {};
  const auto& d = *ctx.dataset;
  return {d.channels, d.image_h, d.image_w, d.classes};
}

int64_t median_sampled_flops(const Hyperparameters& space, const search::InputShape& input) {
  search::SearchSpace s(space);
  std::mt19937_64 rng(kTypicalSeed);
  std::vector<int64_t> flops;
  for (int i = 0; i < kTypicalSamples; ++i)
    flops.push_back(search::cost_of(s.sample(rng), input).flops);
  std::nth_element(flops.begin(), flops.begin() + kTypicalSamples / 2, flops.end());
  return flops[kTypicalSamples / 2];
}

// Every candidate space, computed once per input shape (a copy: the memo may be cleared).
struct Candidate {
  Hyperparameters space;
  int64_t flops = 0;
};
std::vector<Candidate> candidates(const search::InputShape& input) {
  static std::mutex mu;
  static std::map<std::tuple<int, int, int, int>, std::vector<Candidate>> memo;
  std::lock_guard<std::mutex> lock(mu);
  if (memo.size() >= 64) memo.clear();  // agents choose their shapes: keep the memo bounded
  auto& list = memo[{input.channels, input.height, input.width, input.classes}];
  if (!list.empty()) return list;
  for (int layers = hp::kMinLayers; layers <= hp::kMaxLayers; ++layers) {
    for (int filters : ColdStartPolicy::kFilterLadder) {
      for (int kernel : ColdStartPolicy::kKernels) {
        const Hyperparameters h{layers, filters, kernel, Loss::cross_entropy, 0};
        list.push_back({h, median_sampled_flops(h, input)});
      }
    }
  }
  return list;
}

// The device the box's search will target, any of its devices being usable.
std::string target_device(const Context& ctx) {
  std::vector<std::string> names;
  for (const auto& d : ctx.source.devices) names.push_back(d.device);
  if (names.empty()) names.push_back("cpu");
  return search::choose_target_device(ctx, names);
}

// The size-score rule (ColdStartRule::size_score): one size in [0, 1], the smallest of a latency
// score and the geometric mean of a compute and a memory score; layers, filters and kernel
// grow with it. One accelerator core counts as four CPU cores; 16 effective nodes and 4 GB are
// "as much as it gets".
Hyperparameters size_score_space(const Context& ctx, double& size) {
  double nodes = 0;
  int64_t memory_mb = 0;
  for (const auto& d : ctx.source.devices) {
    nodes += d.device == "cpu" ? d.free_nodes : 4.0 * d.free_nodes;
    if (d.device == "cpu") memory_mb = d.free_memory_mb;
  }
  const double compute = std::clamp(std::log2(1 + nodes) / std::log2(17.0), 0.0, 1.0);
  const double memory = std::clamp(static_cast<double>(memory_mb) / 4096.0, 0.0, 1.0);
  size = std::min(ColdStartPolicy::latency_score(ctx), std::sqrt(compute * memory));
  Hyperparameters h;
  h.layers =
      std::clamp(1 + static_cast<int>(std::lround(9 * size)), hp::kMinLayers, hp::kMaxLayers);
  const int ladder = static_cast<int>(std::size(ColdStartPolicy::kFilterLadder));
  h.filters = ColdStartPolicy::kFilterLadder[std::clamp(
      static_cast<int>(std::lround((ladder - 1) * size)), 0, ladder - 1)];
  h.kernel = size < 0.34 ? 3 : (size < 0.67 ? 5 : 7);
  return h;
}

}  // namespace

std::string_view to_string(ColdStartRule r) {
  return r == ColdStartRule::size_score ? "size-score" : "latency-model";
}

std::optional<ColdStartRule> cold_start_rule_from_string(std::string_view s) {
  if (s == "latency-model") return ColdStartRule::latency_model;
  if (s == "size-score") return ColdStartRule::size_score;
  return std::nullopt;
}

std::string ColdStartPolicy::describe() const {
  return rule_ == ColdStartRule::latency_model
             ? std::string(kPolicyName)
             : std::string(kPolicyName) + " (" + std::string(to_string(rule_)) + " rule)";
}

ColdStartPolicy::DeviceModel ColdStartPolicy::device_model(std::string_view device) {
  if (device.rfind("npu", 0) == 0) return kNpu;
  if (device.rfind("gpu", 0) == 0) return kGpu;
  return kCpu;
}

int64_t ColdStartPolicy::typical_flops(const Hyperparameters& space, const Context& ctx) {
  return median_sampled_flops(space, input_of(ctx));
}

double ColdStartPolicy::latency_score(const Context& ctx) {
  const double t_ms = ctx.min_latency_req_ms().value_or(kDefaultLatencyReqMs);
  return std::clamp(std::log10(std::max(t_ms, 0.1) / 0.1) / 3.0, 0.05, 1.0);
}

ColdStartPolicy::Answer ColdStartPolicy::largest_space(const Context& ctx) {
  Answer a;
  a.t_ms = ctx.min_latency_req_ms().value_or(kDefaultLatencyReqMs);
  a.device = target_device(ctx);
  const DeviceModel m = device_model(a.device);
  const auto latency = [&](int64_t flops) {
    return m.overhead_ms + static_cast<double>(flops) / m.flops_per_ms;
  };
  // The smallest space when nothing fits; else the fitting space with the most FLOPs in its
  // typical architecture (ties: more layers, then wider filters, as enumerated).
  const auto all = candidates(input_of(ctx));
  const Candidate* best = &all.front();
  for (const auto& c : all) {
    if (latency(c.flops) <= a.t_ms && (latency(best->flops) > a.t_ms || c.flops >= best->flops))
      best = &c;
  }
  a.space = best->space;
  a.typical_flops = best->flops;
  a.typical_ms = latency(best->flops);
  return a;
}

proto::HparamReply ColdStartPolicy::choose(std::string_view agent_id,
                                           const proto::HparamRequest& req) {
  proto::HparamReply reply;
  reply.request_id = req.request_id;
  reply.policy = std::string(kPolicyName);
  reply.predictor_version = 0;
  reply.explore = false;
  char buf[200];
  if (rule_ == ColdStartRule::size_score) {
    double size = 0;
    reply.hparams = size_score_space(req.context, size);
    std::snprintf(buf, sizeof buf, "cold-start rule (size score): size %.2f", size);
  } else {
    const Answer a = largest_space(req.context);
    reply.hparams = a.space;
    std::snprintf(buf, sizeof buf,
                  "cold-start rule: typical network %.2f MFLOP, %.3g ms on %s (modelled) within "
                  "T %.3g ms",
                  static_cast<double>(a.typical_flops) / 1e6, a.typical_ms, a.device.c_str(),
                  a.t_ms);
  }
  reply.reason = buf;
  Hyperparameters& h = reply.hparams;
  // Many classes: label smoothing regularises the wide head; otherwise plain cross-entropy.
  const bool many_classes = req.context.dataset && req.context.dataset->classes >= 20;
  h.loss = many_classes ? Loss::label_smoothing_ce : Loss::cross_entropy;
  h.seed = request_seed(agent_id, req.request_id);
  return reply;
}

}  // namespace edgenas::coordinator
