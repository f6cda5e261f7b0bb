#include "coordinator/core/hparam_service.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace edgenas::coordinator {
namespace {

// One accelerator core (NPU/GPU) counts as this many CPU cores for small-CNN inference.
constexpr double kAcceleratorCoreWeight = 4.0;
// Effective compute nodes and free memory at which the space is as large as it gets.
constexpr double kFullComputeNodes = 16.0;
constexpr double kFullMemoryMb = 4096.0;

}  // namespace

uint32_t request_seed(std::string_view agent_id, std::string_view request_id) {
  uint32_t h = 2166136261u;
  for (auto s : {agent_id, std::string_view("/"), request_id}) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 16777619u;
    }
  }
  return h;
}

ColdStartPolicy::Score ColdStartPolicy::score(const Context& ctx) {
  Score s;
  const double t_ms = ctx.min_latency_req_ms().value_or(kDefaultLatencyReqMs);
  // 0.1 ms → 0, 1 ms → 1/3, 10 ms → 2/3, 100 ms or more → 1, on a log scale; a floor keeps a
  // small space possible. A digit reader of a few MFLOPs runs in ~0.1 ms on an x86 core and
  // ~1 ms on a small ARM core, so a T of 1 ms already leaves room for a few layers (the first
  // scale, 1 ms → 0, gave 1-layer, 8-filter spaces that could not read meters).
  s.latency = std::clamp(std::log10(std::max(t_ms, 0.1) / 0.1) / 3.0, 0.05, 1.0);
  double nodes = 0;
  int64_t memory_mb = 0;
  for (const auto& d : ctx.source.devices) {
    nodes += d.device == "cpu" ? d.free_nodes : kAcceleratorCoreWeight * d.free_nodes;
    if (d.device == "cpu") memory_mb = d.free_memory_mb;
  }
  s.compute = std::clamp(std::log2(1 + nodes) / std::log2(1 + kFullComputeNodes), 0.0, 1.0);
  s.memory = std::clamp(static_cast<double>(memory_mb) / kFullMemoryMb, 0.0, 1.0);
  s.size = std::min(s.latency, std::sqrt(s.compute * s.memory));
  return s;
}

proto::HparamReply ColdStartPolicy::choose(std::string_view agent_id,
                                           const proto::HparamRequest& req) {
  const Score s = score(req.context);
  proto::HparamReply reply;
  reply.request_id = req.request_id;
  reply.policy = std::string(kPolicyName);
  reply.predictor_version = 0;
  reply.explore = false;

  Hyperparameters& h = reply.hparams;
  h.layers =
      std::clamp(1 + static_cast<int>(std::lround(9 * s.size)), hp::kMinLayers, hp::kMaxLayers);
  const int ladder = static_cast<int>(std::size(kFilterLadder));
  h.filters = kFilterLadder[std::clamp(static_cast<int>(std::lround((ladder - 1) * s.size)), 0,
                                       ladder - 1)];
  h.kernel = s.size < 0.34 ? 3 : (s.size < 0.67 ? 5 : 7);
  // Many classes: label smoothing regularises the wide head; otherwise plain cross-entropy.
  const bool many_classes = req.context.dataset && req.context.dataset->classes >= 20;
  h.loss = many_classes ? Loss::label_smoothing_ce : Loss::cross_entropy;
  h.seed = request_seed(agent_id, req.request_id);

  char buf[200];
  std::snprintf(buf, sizeof buf,
                "cold-start rule: latency %.2f, compute %.2f, memory %.2f -> size %.2f", s.latency,
                s.compute, s.memory, s.size);
  reply.reason = buf;
  return reply;
}

}  // namespace edgenas::coordinator
