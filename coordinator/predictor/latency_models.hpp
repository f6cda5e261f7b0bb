#pragma once
// The fleet's latency models (docs/ARCHITECTURE.md, "Learned latency"): the candidates'
// latencies the traces carry (Trace.outcome.measured_latency, always measured), pooled per
// device kind; a model per kind (kernel-additive with enough of its own measurements, else
// transferred from the others); and a gate per kind: a model serves only when its error on
// held-out architectures is below that of the FLOPs line fitted on the same measurements.
// Torch-free; `edgenas-predictor latency` runs it on a coordinator's store.
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

namespace edgenas::predictor {

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
std::optional<search::LayerList> lower_key(std::string_view space, std::string_view key,
                                           const DatasetShape& input);

struct KindSamples {
  DeviceKind kind;
  std::vector<std::string>
      archs;  // per measurement: the key and its input, e.g. "c8k3s1-h0@1x28x28"
  std::vector<search::Measurement> measurements;
  std::vector<double> flops;
};

struct LatencyPool {
  std::vector<KindSamples> kinds;
  int64_t traces = 0;   // traces that carried measurements
  int64_t samples = 0;  // measurements pooled
  int64_t skipped = 0;  // measurements whose key could not be lowered, or without a data set
};
LatencyPool pool_latency(const std::vector<Trace>& traces);

struct KindModel {
  DeviceKind kind;
  int samples = 0, heldout = 0;
  std::string method;  // "additive" (enough of its own) or "transfer" (from the others)
  search::AdditiveLatencyModel additive;
  std::optional<search::TransferLatencyModel> transfer;
  // On the held-out architectures: this model's and the FLOPs line's median absolute error (%)
  // and Spearman's ρ.
  double error_pct = 0, flops_error_pct = 0, spearman = 0, flops_spearman = 0;
  bool serves = false;
  std::string why;  // why it does or does not serve

  double predict(const std::vector<double>& features) const;
};

struct LatencyModelSet {
  int version = 0;
  int64_t created_ms = 0;
  search::FeatureScale scale;
  std::vector<KindModel> kinds;
};

struct LatencyTrainOptions {
  int min_additive = 200;      // a kind's own measurements for an additive model
  int min_samples = 5;         // fewer: the kind gets no model
  int min_heldout = 3;         // fewer held-out measurements: the kind cannot pass the gate
  double heldout_share = 0.2;  // of the distinct architectures, chosen by a hash of the key
  int max_per_kind = 10'000;   // the newest measurements beyond this are not used
};
Expected<LatencyModelSet> train_latency_models(const LatencyPool& pool,
                                               const LatencyTrainOptions& o, int version,
                                               int64_t now_ms);

nlohmann::json to_json(const LatencyModelSet& set);
// Strict: a missing or mistyped field, or a transfer model whose source kind is not in the set,
// is an error naming it.
Expected<LatencyModelSet> latency_models_from_json(const nlohmann::json& j);

}  // namespace edgenas::predictor
