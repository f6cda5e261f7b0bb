#include "common/search/latency_model.hpp"

#include <algorithm>
#include <cmath>

namespace edgenas::search {

Expected<CpuCalibration> fit_calibration(const std::vector<std::pair<double, double>>& points) {
  const double n = static_cast<double>(points.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& [x, y] : points) {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double var = n * sxx - sx * sx;
  if (points.size() < 2 || var <= 0)
    return Error{"calibration", "latency calibration needs networks of at least two sizes"};
  double slope = (n * sxy - sx * sy) / var;  // ms per FLOP
  double intercept = (sy - slope * sx) / n;
  if (intercept < 0) {
    intercept = 0;
    slope = sxy / sxx;
  }
  if (!(slope > 0) || !std::isfinite(slope))
    return Error{"calibration", "measured latencies do not grow with FLOPs; cannot calibrate"};
  return CpuCalibration{intercept, 1.0 / slope, static_cast<int>(points.size())};
}

double modelled_latency_ms(int64_t flops, const DeviceSpeed& device, const CpuCalibration& ref) {
  return device.overhead_ms +
         static_cast<double>(flops) / (std::max(1e-9, device.speed) * ref.flops_per_ms);
}

std::string choose_target_device(const Context& ctx, const std::vector<std::string>& usable) {
  auto can_target = [&](const std::string& name) {
    if (name == "cpu") return true;
    if (std::find(usable.begin(), usable.end(), name) == usable.end()) return false;
    const DeviceSource* d = ctx.device(name);
    return d && !d->unhealthy;
  };
  // The search is for the tightest task: its model runs where that task runs fastest. Its own
  // nodes there are busy with it, so free nodes do not rule a device out; a fault does.
  const JobTask* tightest = nullptr;
  for (const auto& t : ctx.job.tasks) {
    if (!tightest || t.latency_req_ms < tightest->latency_req_ms) tightest = &t;
  }
  if (tightest) {
    const JobRow* best = nullptr;
    for (const auto& row : tightest->rows) {
      if (can_target(row.device) && (!best || row.runtime_ms < best->runtime_ms)) best = &row;
    }
    if (best) return best->device;
  }
  for (const auto& d : ctx.source.devices) {
    if (d.device != "cpu" && can_target(d.device) && d.free_nodes > 0) return d.device;
  }
  return "cpu";
}

}  // namespace edgenas::search
