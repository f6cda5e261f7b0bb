#pragma once
// Answers HparamRequests. The cold-start policy (cold_start_policy.hpp) is the first
// implementation; the predictor service implements the same interface and falls back to it.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/protocol/schema.hpp"

namespace edgenas::coordinator {

class HparamService {
 public:
  virtual ~HparamService() = default;
  virtual proto::HparamReply choose(std::string_view agent_id, const proto::HparamRequest& req) = 0;
  // What serves, for `edgenasctl status` ("cold-start", "predictor v3", ...).
  virtual std::string describe() const = 0;
};

// The seed of a run: FNV-1a of agent id and request id, so a repeated request gets the same
// seed (and the same reply) and different requests differ.
uint32_t request_seed(std::string_view agent_id, std::string_view request_id);

// The admin side of the predictor (versions, training, promotion), implemented by the
// predictor service; the admin API calls it without depending on it.
class PredictorControl {
 public:
  virtual ~PredictorControl() = default;
  virtual Expected<nlohmann::json> list() = 0;
  virtual Expected<nlohmann::json> show(int version) = 0;
  virtual Expected<nlohmann::json> train(const std::string& reason) = 0;
  virtual Expected<nlohmann::json> promote(int version, const std::string& reason) = 0;
  virtual Expected<nlohmann::json> rollback() = 0;
  // A canary rollout: `version` serves a stable hash-chosen `share` of the agents.
  virtual Expected<nlohmann::json> rollout(int version, double share,
                                           const std::string& reason) = 0;
  // Which version serves how many of `agents`, and how each is doing.
  virtual Expected<nlohmann::json> fleet_status(const std::vector<std::string>& agents) = 0;
};

// The admin side of the fleet's latency models (coordinator/predictor/latency_service.hpp).
class LatencyControl {
 public:
  virtual ~LatencyControl() = default;
  virtual Expected<nlohmann::json> list() = 0;
  virtual Expected<nlohmann::json> show(int version) = 0;  // 0: the serving version
  virtual Expected<nlohmann::json> train(const std::string& reason) = 0;
  virtual Expected<nlohmann::json> predict(const nlohmann::json& args) const = 0;
  // What an agent holding `agent_holds` (0: none) is sent: the serving version's models that
  // passed their gate (and the kinds they transfer from) when newer; nullopt otherwise.
  virtual std::optional<proto::LatencyModelsOffer> offer(int agent_holds) const = 0;
};

}  // namespace edgenas::coordinator
