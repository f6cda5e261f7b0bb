#pragma once
// How a simulated box of `edgenas-sim run` sees its search target's latency (issue 19, item 5):
// every device of the meter world has a truth (its roofline where the profile gives one, else
// its FLOPs model; simulations/fleet/roofline.hpp; modelled). A box measures its CPU, and its
// accelerator only when it has the vendor's runtime (a share of the fleet, --measure-share);
// measured latencies are the truth give or take a measurement's spread, and go into the trace
// (Trace.outcome.measured_latency) as a real box's would, so the coordinator learns the kinds'
// latency models from them. A box that cannot measure its target predicts it with the fleet's
// model of that kind when one serves (holding the prediction to T · (1 − margin), as
// edgenas-search does), else models it from the profile's FLOPs line.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/model/model.hpp"
#include "common/model/profile.hpp"
#include "common/search/latency_model.hpp"
#include "common/search/latency_set.hpp"
#include "simulations/fleet/world.hpp"

namespace edgenas::sim {

// The runtime the simulated boxes' measurements name: they are of the modelled device truths.
inline constexpr const char* kSimulatedRuntime = "edgenas-sim device truth";

// The latency model kind of a profile's device: the kind it names, else "<profile>:<device>".
std::string latency_kind(const DeviceProfile& profile, const DeviceProfile::Device& device);

// A meter-space network's latency by the device's FLOPs model (its speed and overhead).
double flops_model_ms(const DeviceProfile::Device& device, const search::ArchSpec& spec,
                      const search::CpuCalibration& calibration);
// The device's truth for a meter-space network: its roofline if given, else its FLOPs model.
double device_truth_ms(const DeviceProfile::Device& device, const search::ArchSpec& spec,
                       const search::CpuCalibration& calibration);

// How one search sees its target's latency, and what it reports of it.
class SearchLatency {
 public:
  // `fleet`: the latency models the box holds (null: none). `seed` fixes the measurements.
  SearchLatency(const DeviceProfile& profile, const std::string& device, bool can_measure,
                const search::LatencyModelSet* fleet, int fleet_version,
                const search::CpuCalibration& calibration, uint64_t seed, double noise = 0.03);

  // Its estimate records measurements into this object: it stays where it was made.
  SearchLatency(const SearchLatency&) = delete;
  SearchLatency& operator=(const SearchLatency&) = delete;

  const SimSearchOptions::Latency& options() const { return options_; }
  // "measured", "predicted" (the fleet's model) or "modelled" (the profile's FLOPs line).
  const std::string& source() const { return source_; }
  // Into the search's trace: the measurements (when measured), whether its latency was
  // modelled, and the fleet model's version that predicted it.
  void report(Trace& trace) const;

 private:
  double measure(const search::ArchSpec& spec);
  std::string kind_, source_;
  int version_ = 0;
  uint64_t seed_;
  double noise_;
  SimSearchOptions::Latency options_;
  std::map<std::string, double> measured_;  // per candidate key: once, as a box would
};

}  // namespace edgenas::sim
