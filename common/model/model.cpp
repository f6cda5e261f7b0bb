#include "common/model/model.hpp"

#include <algorithm>
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

Status Trace::validate() const {
  if (auto s = context.validate(); !s) return s;
  if (auto s = hparams.validate(); !s) return s;
  if (outcome.status == TraceStatus::failed && outcome.error.empty()) {
    return Error{"invalid", "outcome.error must say why a failed run failed"};
  }
  return ok_status();
}

}  // namespace edgenas
