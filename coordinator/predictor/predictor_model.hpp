#pragma once
// A trained predictor as the coordinator serves it, without libtorch: the feature
// normalisation, a dense trunk and one linear head per hyperparameter, evaluated with plain
// loops (a few hundred thousand multiply-adds; microseconds).
//
// File: "EDGENASP" | format version (u32 LE) | header length (u32 LE) | header JSON
//   {predictor_version, feature_norm, trunk:{widths, activation}, heads:[sizes], meta}
// | float32 LE weights: per trunk layer W (out×in, row-major) then b, then per head W, b.
// Loading checks the magic, version, header and that the weights are exactly the size the
// header implies; anything else is refused with a clear error.
#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/model/features.hpp"
#include "common/model/mlp.hpp"
#include "coordinator/predictor/grid.hpp"

namespace edgenas::predictor {

struct PredictorModel {
  int version = 0;
  FeatureNorm norm;
  Mlp mlp;  // kHeads heads of Grid::size(h) classes
  nlohmann::json meta = nlohmann::json::object();

  // Softmax per head for a context; an error when the features do not fit the model.
  Expected<std::array<std::vector<float>, kHeads>> probabilities(const Context& ctx) const;
  Expected<Choice> predict(const Context& ctx) const;  // argmax per head
};

// A version trained on simulated traces (the warm start, `edgenas-sim warm-start`) says so in
// its file's meta; its replies carry the policy "warm-start".
inline constexpr const char* kTrainedInKey = "trained_in";
inline constexpr const char* kTrainedInSimulation = "simulation";
inline constexpr const char* kWarmStartPolicy = "warm-start";
bool trained_in_simulation(const PredictorModel& m);

std::array<std::vector<float>, kHeads> softmax_heads(const std::vector<std::vector<float>>& logits);

Status save_predictor(const std::string& path, const PredictorModel& model);
Expected<PredictorModel> load_predictor(const std::string& path);
// The same for an in-memory file (and the fuzz target).
Expected<PredictorModel> parse_predictor(const std::string& bytes, const std::string& what);

}  // namespace edgenas::predictor
