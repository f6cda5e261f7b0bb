#pragma once
// Latency learned from measurements (docs/ARCHITECTURE.md, "Learned latency"), for any space
// that lowers to a LayerList:
//
// - A device kind with many measurements gets a *kernel-additive* model: latency is a weighted
//   sum of what its layers do, grouped by kind (count, FLOPs and bytes of 1x1, 3x3 and larger
//   convolutions, pooling, fully connected layers, sums, zeros, skips, and of layers whose
//   result is never used), fitted by ridge least squares on relative error.
// - A device kind with few measurements (k) is predicted by transfer: log latency is a
//   combination of the other kinds' predictions (log) plus its own features, ridge-shrunk
//   toward the average of all the others or of the few that follow its measurements most
//   closely; prior and shrinkage are chosen by exact leave-one-out error on its k
//   measurements, so 5 samples lean on the others and 900 on its own data.
//
// Pure C++ (no libtorch); fitting 10 000 measurements takes milliseconds.
#include <string>
#include <vector>

#include "common/search/layers.hpp"
#include "common/util/expected.hpp"

namespace edgenas::search {

// The fixed-length description of a network the models read (kLatencyFeatures values).
std::vector<double> latency_features(const LayerList& layers);
std::vector<std::string> latency_feature_names();

// Feature scaling shared by every model of a fleet (from the pooled networks' features), so a
// transferred model can read another kind's inputs.
struct FeatureScale {
  std::vector<double> mean, scale;
  static FeatureScale of(const std::vector<std::vector<double>>& features);
  std::vector<double> apply(const std::vector<double>& features) const;
};

struct Measurement {
  std::vector<double> features;  // latency_features(...)
  double ms = 0;                 // measured on the device
};

// Latency in ms = intercept + weights · scaled features (never below `floor_ms`).
struct AdditiveLatencyModel {
  std::string device;
  FeatureScale scale;
  double intercept = 0;
  std::vector<double> weights;
  double floor_ms = 0;

  double predict(const std::vector<double>& features) const;
};

// Needs at least two measurements with a positive latency.
Expected<AdditiveLatencyModel> fit_additive(const std::string& device, const FeatureScale& scale,
                                            const std::vector<Measurement>& data);

// A device kind predicted from the others plus its own k measurements.
struct TransferLatencyModel {
  std::string device;
  std::vector<AdditiveLatencyModel> sources;
  FeatureScale scale;
  double intercept = 0;
  std::vector<double> source_weights, own_weights;
  double lambda = 0, own_ratio = 1;  // the shrinkages leave-one-out chose
  double loo_log_p95 = 0;            // the 95th percentile of |log(measured / predicted)|, left out
  double floor_ms = 0;

  double predict(const std::vector<double>& features) const;
  // The relative margin a latency bound needs for this model's error: 1 − e^−loo_log_p95.
  double margin() const;
};

// Needs at least two measurements with a positive latency and one source.
Expected<TransferLatencyModel> fit_transfer(const std::string& device,
                                            std::vector<AdditiveLatencyModel> sources,
                                            const std::vector<Measurement>& data);

// FLOPs of the convolutions and fully connected layers, as cost_of counts them: the input of
// the FLOPs model (latency_model.hpp) the learned models are compared with.
double model_flops(const LayerList& layers);

}  // namespace edgenas::search
