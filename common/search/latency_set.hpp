#pragma once
// A version of the fleet's latency models as it travels (docs/ARCHITECTURE.md, "Learned
// latency"): one model per device kind, each with its gate's verdict, and the JSON form the
// coordinator writes, serves to the agents in the hyperparameter reply, and edgenas-search reads
// (--latency-models). Training is the coordinator's (coordinator/predictor/latency_models.hpp);
// this half only reads, writes and predicts. Torch-free.
#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/model/model.hpp"
#include "common/search/layers.hpp"
#include "common/search/learned_latency.hpp"
#include "common/util/expected.hpp"

namespace edgenas::search {

// What a latency model is learned per: the device's model, the runtime and threads that ran the
// network, and the space whose keys name the networks.
struct DeviceKind {
  std::string kind, runtime;
  int threads = 1;
  std::string space;
  auto operator<=>(const DeviceKind&) const = default;
  std::string label() const;  // "ARM Cortex-A55 | libtorch 1.13.1 | 1 thread | cnn"
};

// A network key of `space` on an input, lowered to layers; nullopt when the space is not one
// this build knows or the key is not one of its keys.
std::optional<LayerList> lower_key(std::string_view space, std::string_view key,
                                   const DatasetShape& input);

struct KindModel {
  DeviceKind kind;
  int samples = 0, heldout = 0;
  std::string method;  // "additive" (enough of its own) or "transfer" (from the others)
  AdditiveLatencyModel additive;
  std::optional<TransferLatencyModel> transfer;
  // On the held-out architectures: this model's and the FLOPs line's median absolute error (%)
  // and Spearman's ρ.
  double error_pct = 0, flops_error_pct = 0, spearman = 0, flops_spearman = 0;
  // The relative margin a latency bound needs for this model's error: 1 − e^−p95 of
  // |log(predicted / measured)| on the held-out architectures. A network predicted within
  // T·(1 − margin) is taken to meet T.
  double margin = 0;
  bool serves = false;
  std::string why;  // why it does or does not serve

  double predict(const std::vector<double>& features) const;
};

struct LatencyModelSet {
  int version = 0;
  int64_t created_ms = 0;
  FeatureScale scale;
  std::vector<KindModel> kinds;

  // The model of a kind (whether it serves or not); runtime and threads are matched only when
  // given. Null when the set has none.
  const KindModel* find(std::string_view kind, std::string_view space,
                        std::optional<std::string_view> runtime = std::nullopt,
                        std::optional<int> threads = std::nullopt) const;
};

// What the agents are sent: the kinds whose models passed their gate, and the kinds those
// transfer from (kept, still marked as not serving). Empty kinds when none serves.
LatencyModelSet servable(const LatencyModelSet& set);

nlohmann::json to_json(const LatencyModelSet& set);
// Strict: a missing or mistyped field, or a transfer model whose source kind is not in the set,
// is an error naming it.
Expected<LatencyModelSet> latency_models_from_json(const nlohmann::json& j);

}  // namespace edgenas::search
