#include "common/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace edgenas {

std::string_view to_string(Loss loss) {
  switch (loss) {
    case Loss::cross_entropy:
      return "cross_entropy";
    case Loss::label_smoothing_ce:
      return "label_smoothing_ce";
    case Loss::focal:
      return "focal";
  }
  return "cross_entropy";
}

std::optional<Loss> loss_from_string(std::string_view s) {
  for (Loss l : kAllLosses) {
    if (to_string(l) == s) return l;
  }
  return std::nullopt;
}

std::string_view to_string(TraceStatus s) {
  return s == TraceStatus::ok ? "ok" : "failed";
}

std::optional<TraceStatus> trace_status_from_string(std::string_view s) {
  if (s == "ok") return TraceStatus::ok;
  if (s == "failed") return TraceStatus::failed;
  return std::nullopt;
}

bool valid_device_name(std::string_view name) {
  if (name == "cpu") return true;
  for (std::string_view kind : {"npu", "gpu"}) {
    if (name.size() > kind.size() && name.size() <= kind.size() + 2 &&
        name.substr(0, kind.size()) == kind) {
      auto digits = name.substr(kind.size());
      return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    }
  }
  return false;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > limits::kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '@' || c == '-';
  });
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 128) return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool valid_arch_key(std::string_view key) {
  if (key.empty() || key.size() > 512) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '|' ||
           c == '~' || c == '+' || c == '_' || c == '.' || c == '-';
  });
}

Status Hyperparameters::validate() const {
  if (kernel % 2 == 0) {
    return Error{"out_of_range", "hparams.kernel = " + std::to_string(kernel) + " must be odd"};
  }
  return ok_status();
}

bool operator==(const Hyperparameters& a, const Hyperparameters& b) {
  return a.layers == b.layers && a.filters == b.filters && a.kernel == b.kernel &&
         a.loss == b.loss && a.seed == b.seed;
}

const DeviceSource* Context::device(std::string_view name) const {
  for (const auto& d : source.devices) {
    if (d.device == name) return &d;
  }
  return nullptr;
}

std::optional<double> Context::min_latency_req_ms() const {
  std::optional<double> best;
  for (const auto& t : job.tasks) {
    if (!best || t.latency_req_ms < *best) best = t.latency_req_ms;
  }
  return best;
}

std::optional<double> Context::energy_budget_mj(std::string_view device) const {
  const JobTask* tightest = nullptr;
  for (const auto& t : job.tasks) {
    if (!tightest || t.latency_req_ms < tightest->latency_req_ms) tightest = &t;
  }
  if (!tightest) return std::nullopt;
  for (const auto& r : tightest->rows) {
    if (r.device == device && r.energy_j > 0) return r.energy_j * 1000.0;
  }
  return std::nullopt;
}

Status Context::validate() const {
  std::set<std::string_view> devices;
  for (const auto& d : source.devices) {
    if (!devices.insert(d.device).second) {
      return Error{"invalid", "source.devices: device '" + d.device + "' is listed twice"};
    }
  }
  if (source.devices.empty() || source.devices.front().device != "cpu") {
    return Error{"invalid", "source.devices: the first device must be 'cpu'"};
  }
  std::set<std::string_view> task_ids;
  for (const auto& t : job.tasks) {
    if (!task_ids.insert(t.task_id).second) {
      return Error{"invalid", "job.tasks: task '" + t.task_id + "' is listed twice"};
    }
    std::set<std::string_view> row_devices;
    for (const auto& r : t.rows) {
      if (!devices.count(r.device)) {
        return Error{"invalid", "job.tasks[" + t.task_id + "]: device '" + r.device +
                                    "' is not in the Source matrix"};
      }
      if (!row_devices.insert(r.device).second) {
        return Error{"invalid",
                     "job.tasks[" + t.task_id + "]: device '" + r.device + "' has two rows"};
      }
    }
  }
  return ok_status();
}

namespace {

// At most keep (≥ 2) of xs, evenly by index; the first and the last stay.
template <class T>
std::vector<T> thin_evenly(std::vector<T> xs, std::size_t keep) {
  const std::size_t n = xs.size();
  if (n <= keep) return xs;
  std::vector<T> out;
  for (std::size_t i = 0; i < keep; ++i) out.push_back(std::move(xs[i * (n - 1) / (keep - 1)]));
  return out;
}

}  // namespace

Status ProgressCurve::validate() const {
  for (std::size_t i = 1; i < points.size(); ++i) {
    if (points[i].compute_s < points[i - 1].compute_s || points[i].reward < points[i - 1].reward)
      return Error{"invalid", "progress points must not decrease in compute_s or reward (point " +
                                  std::to_string(i) + ")"};
  }
  if (!points.empty() && points.back().compute_s > compute_s)
    return Error{"invalid", "progress compute_s must cover its last point"};
  return ok_status();
}

double ProgressCurve::reward_at(double compute_s) const {
  double r = 0;
  for (const auto& p : points) {
    if (p.compute_s > compute_s) break;
    r = p.reward;
  }
  return r;
}

std::optional<ProgressCurve> make_progress(const std::vector<ProgressPoint>& raw,
                                           double total_compute_s) {
  std::vector<ProgressPoint> clean;
  for (auto p : raw) {
    if (!std::isfinite(p.compute_s) || !std::isfinite(p.reward)) continue;
    p.compute_s = std::clamp(p.compute_s, 0.0, 1e9);
    p.reward = std::clamp(p.reward, 0.0, 1.0);
    if (!clean.empty() && (p.compute_s < clean.back().compute_s || p.reward <= clean.back().reward))
      continue;
    clean.push_back(p);
  }
  if (clean.empty()) return std::nullopt;
  ProgressCurve out;
  out.compute_s = std::isfinite(total_compute_s)
                      ? std::clamp(total_compute_s, clean.back().compute_s, 1e9)
                      : clean.back().compute_s;
  out.points = thin_evenly(std::move(clean), limits::kMaxProgressPoints);
  return out;
}

Status ParetoFront::validate() const {
  for (std::size_t i = 1; i < points.size(); ++i) {
    if (points[i].latency_ms < points[i - 1].latency_ms ||
        points[i].accuracy <= points[i - 1].accuracy)
      return Error{"invalid", "pareto points must be fastest first with accuracy rising (point " +
                                  std::to_string(i) + ")"};
  }
  return ok_status();
}

std::optional<ParetoFront> make_pareto(std::vector<ParetoPoint> raw) {
  std::erase_if(raw, [](const ParetoPoint& p) {
    return !std::isfinite(p.accuracy) || !std::isfinite(p.latency_ms) || p.latency_ms < 0 ||
           p.latency_ms > limits::kMaxLatencyMs || !valid_arch_key(p.arch);
  });
  // Fastest first; at equal latency the most accurate first, so the others are dominated.
  std::sort(raw.begin(), raw.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
    return a.latency_ms != b.latency_ms ? a.latency_ms < b.latency_ms : a.accuracy > b.accuracy;
  });
  std::vector<ParetoPoint> front;
  for (auto& p : raw) {
    p.accuracy = std::clamp(p.accuracy, 0.0, 1.0);
    if (front.empty() || p.accuracy > front.back().accuracy) front.push_back(std::move(p));
  }
  if (front.empty()) return std::nullopt;
  return ParetoFront{thin_evenly(std::move(front), limits::kMaxParetoPoints)};
}

Status Trace::validate() const {
  if (auto s = context.validate(); !s) return s;
  if (auto s = hparams.validate(); !s) return s;
  if (outcome.status == TraceStatus::failed && outcome.error.empty()) {
    return Error{"invalid", "outcome.error must say why a failed run failed"};
  }
  const auto T = context.min_latency_req_ms();
  if (outcome.met_latency && T && outcome.latency_ms > *T * (1 + 1e-9)) {
    return Error{"invalid", "outcome.met_latency is true but latency_ms " +
                                std::to_string(outcome.latency_ms) + " exceeds the tightest T " +
                                std::to_string(*T)};
  }
  return ok_status();
}

}  // namespace edgenas
