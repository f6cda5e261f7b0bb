#pragma once
// Answers HparamRequests. The cold-start policy is the first implementation; the trained
// predictor (a later component) implements the same interface and falls back to it.
#include <string>
#include <string_view>

#include "common/protocol/schema.hpp"

namespace edgenas::coordinator {

class HparamService {
 public:
  virtual ~HparamService() = default;
  virtual proto::HparamReply choose(std::string_view agent_id, const proto::HparamRequest& req) = 0;
};

// Rule-based policy from the Source matrix and the queue's tightest latency requirement
// (docs/ARCHITECTURE.md, "Cold-start policy"): the scarcest of latency budget, compute and
// memory sets the size of the search space.
class ColdStartPolicy final : public HparamService {
 public:
  static constexpr std::string_view kPolicyName = "cold-start";
  // Ladder of filter counts the policy picks from (the NAS searches channels up to it).
  static constexpr int kFilterLadder[] = {8, 16, 32, 64, 128, 256};
  // T assumed when the queue is empty (no task constrains latency).
  static constexpr double kDefaultLatencyReqMs = 1000;

  proto::HparamReply choose(std::string_view agent_id, const proto::HparamRequest& req) override;

  // The size score in [0, 1] and its parts, exposed for tests and the reply's reason.
  struct Score {
    double latency = 0, compute = 0, memory = 0, size = 0;
  };
  static Score score(const Context& ctx);
};

}  // namespace edgenas::coordinator
