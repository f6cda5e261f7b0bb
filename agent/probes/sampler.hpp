#pragma once
// A SourceSampler produces the box's Source matrix and its static device list. LinuxSampler
// combines the real probes; SimulatedSampler follows a device profile and is named as such.
#include <map>
#include <memory>
#include <random>

#include "agent/probes/probes.hpp"
#include "common/model/profile.hpp"

namespace edgenas::agent {

class SourceSampler {
 public:
  virtual ~SourceSampler() = default;
  virtual std::vector<DeviceInfo> devices() = 0;
  // The queue is passed so a simulated box can make its load follow the queued work.
  virtual Expected<SourceMatrix> sample(const JobMatrix& queue) = 0;
  virtual std::string power_source() const = 0;  // "rapl", "model" or "simulated"
  virtual std::string profile() const { return ""; }
};

class LinuxSampler final : public SourceSampler {
 public:
  LinuxSampler(const Clock& clock, ProbePaths paths, std::unique_ptr<PowerMeter> power,
               std::vector<std::unique_ptr<DevicePlugin>> plugins);
  std::vector<DeviceInfo> devices() override;
  Expected<SourceMatrix> sample(const JobMatrix& queue) override;
  std::string power_source() const override { return power_->source(); }

 private:
  const Clock& clock_;
  CpuProbe cpu_;
  MemoryProbe mem_;
  std::unique_ptr<PowerMeter> power_;
  std::vector<std::unique_ptr<DevicePlugin>> plugins_;
  int64_t last_sample_ms_ = 0;
};

// Where a simulated box runs its queued tasks: each task on one device, tightest T first, on the
// fastest of its rows whose device still has the task's nodes (the box's own load aside), else on
// its fastest row. Returns the nodes charged to each device.
std::map<std::string, int> place_queued_tasks(const JobMatrix& queue, const DeviceProfile& profile);

class SimulatedSampler final : public SourceSampler {
 public:
  SimulatedSampler(const Clock& clock, DeviceProfile profile, uint64_t seed);
  std::vector<DeviceInfo> devices() override;
  Expected<SourceMatrix> sample(const JobMatrix& queue) override;
  std::string power_source() const override { return "simulated"; }
  std::string profile() const override { return profile_.name; }

 private:
  const Clock& clock_;
  DeviceProfile profile_;
  std::mt19937_64 rng_;
  double phase_ = 0;
};

}  // namespace edgenas::agent
