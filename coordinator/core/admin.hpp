#pragma once
// The admin API behind edgenasctl: operations over the registry and the store. Results are
// JSON values carried as msgpack maps (docs/PROTOCOL.md, "Admin operations").
#include <vector>

#include "coordinator/core/coordinator_core.hpp"
#include "coordinator/core/keys.hpp"

namespace edgenas::coordinator {

class AdminService {
 public:
  // predictor: the predictor's admin side, or null when this coordinator has none; keys: the
  // agent key registry, or null when the coordinator runs without CURVE.
  AdminService(CoordinatorCore& core, PredictorControl* predictor = nullptr,
               KeyRegistry* keys = nullptr, LatencyControl* latency = nullptr)
      : core_(core), predictor_(predictor), keys_(keys), latency_(latency) {}
  // agent_out receives messages to agents (agents.command).
  proto::AdminResponse handle(const proto::AdminRequest& req, std::vector<Outgoing>& agent_out);

 private:
  Expected<nlohmann::json> status();
  Expected<nlohmann::json> agents_list();
  Expected<nlohmann::json> agents_show(const nlohmann::json& args);
  Expected<nlohmann::json> traces_page(const nlohmann::json& args, bool full);
  Expected<nlohmann::json> hparams_ask(const nlohmann::json& args);
  Expected<nlohmann::json> agents_command(const nlohmann::json& args, std::vector<Outgoing>& out);
  Expected<nlohmann::json> predictor_op(const std::string& op, const nlohmann::json& args);
  Expected<nlohmann::json> keys_op(const std::string& op, const nlohmann::json& args);
  Expected<nlohmann::json> latency_op(const std::string& op, const nlohmann::json& args);

  CoordinatorCore& core_;
  PredictorControl* predictor_;
  KeyRegistry* keys_;
  LatencyControl* latency_;
};

}  // namespace edgenas::coordinator
