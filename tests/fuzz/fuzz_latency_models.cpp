// The fleet's latency model files (the coordinator loads the newest at start and after each
// training; edgenas-predictor writes them, but a file on disk is outside bytes) and the models an
// agent is sent in a hyperparameter reply (bytes from the network, read by the agent and by
// edgenas-search).
#include <nlohmann/json.hpp>

#include "common/search/latency_set.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  auto set = edgenas::search::latency_models_from_json(j);
  if (set) {
    const std::vector<double> features(set->scale.mean.size(), 1.0);
    for (const auto& k : set->kinds) (void)k.predict(features);
  }
  return 0;
}
