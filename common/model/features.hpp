#pragma once
// The predictor's input: a fixed-length feature vector from X = {Job, Source} (+ the data set's
// shape when the agent knows it), whatever the number of queued tasks and devices.
//
// Device slots (a documented maximum): cpu, npu (every npuN summed), gpu (every gpuN summed);
// other accelerator kinds are not featurised. Per slot: present, free nodes, free memory, and
// the queue's aggregates over the tasks with a row on that slot (count, sum/max/mean of
// runtime, energy and nodes). Then the latency requirements (min and mean T, queue length),
// the average power (and whether it is modelled), and the data set (present, classes, image
// pixels, channels, samples). Counts and magnitudes enter as log1p; T as log10 of ms.
//
// The vector is unnormalised; FeatureNorm (fitted on training data, stored with a model)
// standardises it. The spec has a version; a model refuses features of another version.
#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/model/model.hpp"

namespace edgenas {

inline constexpr int kFeatureVersion = 1;
inline constexpr std::array<const char*, 3> kFeatureSlots = {"cpu", "npu", "gpu"};
// Latency requirement assumed for an empty queue (no task constrains latency).
inline constexpr double kNoTaskLatencyReqMs = 1000;

// Names of the features, in order (for documentation and the model file).
const std::vector<std::string>& feature_names();
std::vector<float> featurize(const Context& ctx);

// z-score per feature; features constant in the training data get scale 1.
struct FeatureNorm {
  int version = kFeatureVersion;
  std::vector<float> mean, scale;

  static FeatureNorm fit(const std::vector<std::vector<float>>& rows);
  Expected<std::vector<float>> apply(const std::vector<float>& features) const;
  nlohmann::json to_json() const;
  static Expected<FeatureNorm> from_json(const nlohmann::json& j);
};

}  // namespace edgenas
