#include "simulations/fleet/fleet_latency.hpp"

#include <cmath>
#include <random>

#include "common/search/layers.hpp"
#include "common/util/constants.hpp"
#include "simulations/fleet/roofline.hpp"
#include "simulations/surrogate/surrogate.hpp"

namespace edgenas::sim {

std::string latency_kind(const DeviceProfile& profile, const DeviceProfile::Device& device) {
  return device.kind.empty() ? profile.name + ":" + device.device : device.kind;
}

double flops_model_ms(const DeviceProfile::Device& device, const search::ArchSpec& spec,
                      const search::CpuCalibration& calibration) {
  const search::DeviceSpeed speed{device.device, device.speed > 0 ? device.speed : 1.0,
                                  device.overhead_ms};
  return search::modelled_latency_ms(search::cost_of(spec, kTableInput).flops, speed, calibration);
}

double device_truth_ms(const DeviceProfile::Device& device, const search::ArchSpec& spec,
                       const search::CpuCalibration& calibration) {
  if (device.roofline.given())
    return roofline_ms(device.roofline, search::lower(spec, kTableInput));
  return flops_model_ms(device, spec, calibration);
}

SearchLatency::SearchLatency(const DeviceProfile& profile, const std::string& device,
                             bool can_measure, const search::LatencyModelSet* fleet,
                             int fleet_version, const search::CpuCalibration& calibration,
                             uint64_t seed, double noise)
    : seed_(seed), noise_(noise) {
  const auto* d = profile.find(device);
  const DeviceProfile::Device fallback{};
  const DeviceProfile::Device& dev = d ? *d : fallback;
  kind_ = latency_kind(profile, dev);
  options_.device = device;
  options_.truth = [dev, calibration](const search::ArchSpec& s) {
    return device_truth_ms(dev, s, calibration);
  };
  const auto* model = fleet ? fleet->find(kind_, "cnn", kSimulatedRuntime, 1) : nullptr;
  if (device == "cpu" || can_measure) {
    source_ = "measured";
    options_.estimate = [this](const search::ArchSpec& s) { return measure(s); };
  } else if (model && model->serves) {
    source_ = "predicted";
    version_ = fleet_version;
    options_.estimate = [m = *model](const search::ArchSpec& s) {
      return m.predict(search::latency_features(search::lower(s, kTableInput)));
    };
    options_.bound_factor = 1 - model->margin;
  } else {
    source_ = "modelled";
    options_.estimate = [dev, calibration](const search::ArchSpec& s) {
      return flops_model_ms(dev, s, calibration);
    };
  }
}

// The truth give or take the measurement's spread (log-normal), the same for the same
// candidate within the search.
double SearchLatency::measure(const search::ArchSpec& spec) {
  const std::string key = spec.key();
  if (auto it = measured_.find(key); it != measured_.end()) return it->second;
  std::mt19937_64 rng(seed_ ^ std::hash<std::string>{}(key));
  std::normal_distribution<double> spread(0, noise_);
  const double ms = options_.truth(spec) * std::exp(spread(rng));
  measured_.emplace(key, ms);
  return ms;
}

void SearchLatency::report(Trace& trace) const {
  auto& out = trace.outcome;
  out.latency_modelled = source_ != "measured";
  out.latency_model_version = version_;
  if (measured_.empty()) return;
  LatencyMeasurements m;
  m.device = options_.device;
  m.kind = kind_;
  m.runtime = kSimulatedRuntime;
  m.threads = 1;
  m.space = "cnn";
  for (const auto& [key, ms] : measured_) {
    if (m.samples.size() >= limits::kMaxLatencySamples) break;
    m.samples.push_back({key, ms});
  }
  out.measured_latency = std::move(m);
}

}  // namespace edgenas::sim
