#pragma once
// The fleet's latency models (docs/ARCHITECTURE.md, "Learned latency"): the candidates'
// latencies the traces carry (Trace.outcome.measured_latency, always measured), pooled per
// device kind; a model per kind (kernel-additive with enough of its own measurements, else
// transferred from the others); and a gate per kind: a model serves only when its error on
// held-out architectures is below that of the FLOPs line fitted on the same measurements.
// Torch-free; `edgenas-predictor latency` runs it on a coordinator's store.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/model.hpp"
#include "common/search/latency_set.hpp"
#include "common/search/layers.hpp"
#include "common/search/learned_latency.hpp"
#include "common/util/expected.hpp"

namespace edgenas::predictor {

using search::DeviceKind;
using search::KindModel;
using search::latency_models_from_json;
using search::LatencyModelSet;
using search::lower_key;
using search::servable;

struct KindSamples {
  DeviceKind kind;
  std::vector<std::string>
      archs;  // per measurement: the key and its input, e.g. "c8k3s1-h0@1x28x28"
  std::vector<std::string> searches;  // per measurement: the trace (search) that measured it
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

struct LatencyTrainOptions {
  int min_additive = 200;        // a kind's own measurements for an additive model
  int min_samples = 5;           // fewer: the kind gets no model
  int min_heldout = 3;           // fewer held-out measurements: the kind cannot pass the gate
  int min_heldout_searches = 2;  // nor from fewer searches
  // Of the searches (traces), chosen by a hash of the trace id: a model is gated on networks
  // of searches it did not learn from, as it will be used (a network measured by both sides'
  // searches is held out only).
  double heldout_share = 0.2;
  int max_per_kind = 10'000;  // the newest measurements beyond this are not used
};
Expected<LatencyModelSet> train_latency_models(const LatencyPool& pool,
                                               const LatencyTrainOptions& o, int version,
                                               int64_t now_ms);

}  // namespace edgenas::predictor
