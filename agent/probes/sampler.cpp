#include "agent/probes/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "common/util/log.hpp"

namespace edgenas::agent {

LinuxSampler::LinuxSampler(const Clock& clock, ProbePaths paths, std::unique_ptr<PowerMeter> power,
                           std::vector<std::unique_ptr<DevicePlugin>> plugins)
    : clock_(clock),
      cpu_(paths),
      mem_(paths),
      power_(std::move(power)),
      plugins_(std::move(plugins)) {
  (void)cpu_.sample_busy();  // prime the /proc/stat delta
  last_sample_ms_ = clock_.now_ms();
}

std::vector<DeviceInfo> LinuxSampler::devices() {
  std::vector<DeviceInfo> out;
  auto total = mem_.total_mb();
  out.push_back(
      {"cpu", static_cast<int>(std::ceil(cpu_.usable_cores())), total ? *total : 0, "procfs"});
  for (auto& p : plugins_) {
    for (auto& d : p->devices()) out.push_back(d);
  }
  return out;
}

Expected<SourceMatrix> LinuxSampler::sample(const JobMatrix&) {
  SourceMatrix s;
  auto busy = cpu_.sample_busy();
  if (!busy) return busy.error();
  auto free_mb = mem_.free_mb();
  if (!free_mb) return free_mb.error();
  s.devices.push_back({"cpu", cpu_.free_nodes(*busy), *free_mb});
  for (auto& p : plugins_) {
    auto rows = p->sample();
    if (!rows) {
      // An accelerator that cannot be read has nothing free; the box keeps reporting.
      log::warn("device plugin failed", {{"plugin", p->name()}, {"error", rows.error().message}});
      for (const auto& d : p->devices()) s.devices.push_back({d.name, 0, 0});
      continue;
    }
    for (auto& r : *rows) s.devices.push_back(r);
  }
  const int64_t now = clock_.now_ms();
  s.window_ms = now - last_sample_ms_;
  last_sample_ms_ = now;
  s.power_w = power_->sample_w(*busy);
  s.power_modelled = power_->modelled();
  return s;
}

SimulatedSampler::SimulatedSampler(const Clock& clock, DeviceProfile profile, uint64_t seed)
    : clock_(clock), profile_(std::move(profile)), rng_(seed) {
  phase_ = std::uniform_real_distribution<double>(0, 2 * M_PI)(rng_);
}

std::vector<DeviceInfo> SimulatedSampler::devices() {
  std::vector<DeviceInfo> out;
  for (const auto& d : profile_.devices)
    out.push_back({d.device, d.cores, d.memory_mb, "simulated:" + profile_.name});
  return out;
}

Expected<SourceMatrix> SimulatedSampler::sample(const JobMatrix& queue) {
  SourceMatrix s;
  const double t =
      static_cast<double>(clock_.now_ms() % profile_.swing_period_ms) / profile_.swing_period_ms;
  std::normal_distribution<double> noise(0, profile_.noise);
  const auto charged = place_queued_tasks(queue, profile_);
  double weighted_util = 0, total_cores = 0;
  for (const auto& d : profile_.devices) {
    const auto it = charged.find(d.device);
    const int queued_nodes = it == charged.end() ? 0 : it->second;
    double util = d.base_load + d.load_swing * std::sin(2 * M_PI * t + phase_) + noise(rng_) +
                  static_cast<double>(queued_nodes) / std::max(1, d.cores);
    util = std::clamp(util, 0.0, 1.0);
    // Rounded, as the real probes round usable minus busy.
    const int free_nodes = static_cast<int>(std::lround(d.cores * (1 - util)));
    const double mem_util = std::clamp(0.3 + 0.5 * util, 0.0, 0.95);
    s.devices.push_back({d.device, std::max(0, free_nodes),
                         static_cast<int64_t>(static_cast<double>(d.memory_mb) * (1 - mem_util))});
    weighted_util += util * d.cores;
    total_cores += d.cores;
  }
  const double avg = total_cores > 0 ? weighted_util / total_cores : 0;
  s.power_w = profile_.idle_w + (profile_.max_w - profile_.idle_w) * avg;
  s.power_modelled = true;
  s.window_ms = limits::kProbeWindowMs;
  return s;
}

std::map<std::string, int> place_queued_tasks(const JobMatrix& queue,
                                              const DeviceProfile& profile) {
  std::vector<const JobTask*> order;
  for (const auto& task : queue.tasks) order.push_back(&task);
  std::stable_sort(order.begin(), order.end(), [](const JobTask* a, const JobTask* b) {
    return a->latency_req_ms < b->latency_req_ms;
  });
  std::map<std::string, int> charged;
  for (const JobTask* task : order) {
    const JobRow* fastest = nullptr;
    const JobRow* fastest_with_room = nullptr;
    for (const auto& row : task->rows) {
      const auto* dev = profile.find(row.device);
      if (!dev) continue;
      if (!fastest || row.runtime_ms < fastest->runtime_ms) fastest = &row;
      const bool room = charged[row.device] + row.nodes <= dev->cores;
      if (room && (!fastest_with_room || row.runtime_ms < fastest_with_room->runtime_ms))
        fastest_with_room = &row;
    }
    const JobRow* placed = fastest_with_room ? fastest_with_room : fastest;
    if (placed) charged[placed->device] += placed->nodes;
  }
  return charged;
}

}  // namespace edgenas::agent
