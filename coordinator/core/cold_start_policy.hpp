#pragma once
// The rule that answers HparamRequests when no predictor can (docs/ARCHITECTURE.md,
// "The cold-start hyperparameter policy").
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/core/hparam_service.hpp"

namespace edgenas::coordinator {

// Which rule the cold-start policy follows: the latency model (the default), or the size score
// it replaced on 2026-12-01 (the scarcest of T, free compute and free memory set one size; it gave
// busy boxes spaces that could not learn the task, 0.23 of the oracle's reward), kept as the
// deliberately poor start of the closed-loop experiments (BENCHMARKS.md).
enum class ColdStartRule { latency_model, size_score };
std::string_view to_string(ColdStartRule r);
std::optional<ColdStartRule> cold_start_rule_from_string(std::string_view s);

// The rule that answers when no predictor can (docs/ARCHITECTURE.md, "Cold-start policy"): the
// largest space whose typical architecture still answers within T on the device the box's
// search will target, by a latency model of that device's kind. Busy cores do not shrink the
// space: they give the search fewer workers, so a smaller budget in compute, while the space
// stays one that can learn the task.
class ColdStartPolicy final : public HparamService {
 public:
  static constexpr std::string_view kPolicyName = "cold-start";
  // Ladders the policy picks from (the NAS searches up to them).
  static constexpr int kFilterLadder[] = {8, 16, 32, 64, 128, 256};
  static constexpr int kKernels[] = {3, 5, 7};
  // T assumed when the queue is empty (no task constrains latency).
  static constexpr double kDefaultLatencyReqMs = 1000;

  explicit ColdStartPolicy(ColdStartRule rule = ColdStartRule::latency_model) : rule_(rule) {}
  proto::HparamReply choose(std::string_view agent_id, const proto::HparamRequest& req) override;
  std::string describe() const override;

  // What the rule knows of a device it has never measured: one node's batch-1 throughput on
  // small CNNs and the fixed cost per call, by kind (cpu, npu*, gpu*), at the slow end of the
  // boxes edgenas is for (cold_start_policy.cpp gives the sources). Modelled, never measured.
  struct DeviceModel {
    double flops_per_ms = 0;
    double overhead_ms = 0;
  };
  static DeviceModel device_model(std::string_view device);

  struct Answer {
    Hyperparameters space;  // layers, filters, kernel (loss and seed are the reply's)
    std::string device;     // the device the latency was modelled for
    int64_t typical_flops = 0;
    double typical_ms = 0;  // the space's typical architecture on that device
    double t_ms = 0;        // the T it had to meet
  };
  static Answer largest_space(const Context& ctx);

  // A space's typical architecture: the median FLOPs of what its search samples, for the
  // context's input (28x28 grey, 10 classes when the context names none).
  static int64_t typical_flops(const Hyperparameters& space, const Context& ctx);

  // T on a log scale in [0.05, 1] (0.1 ms -> 0, 1 ms -> 1/3, 100 ms or more -> 1): the
  // exploration bound's measure of how much room T leaves (coordinator/predictor/explore.hpp).
  static double latency_score(const Context& ctx);

 private:
  ColdStartRule rule_;
};

}  // namespace edgenas::coordinator
