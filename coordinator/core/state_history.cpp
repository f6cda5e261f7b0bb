#include "coordinator/core/state_history.hpp"

namespace edgenas::coordinator {

double tightest_t_ms(const proto::AgentState& st) {
  double t = 0;
  for (const auto& task : st.queue.tasks)
    if (t == 0 || task.latency_req_ms < t) t = task.latency_req_ms;
  return t;
}

void StateHistory::record(int64_t wall_ms, const proto::AgentState& st) {
  if (!ring_.empty()) {
    const int64_t last = ring_[(next_ + ring_.size() - 1) % ring_.size()].wall_ms;
    if (wall_ms >= last && wall_ms - last < kStepMs) return;
  }
  StateSample s;
  s.wall_ms = wall_ms;
  for (const auto& d : st.source.devices) {
    if (d.device != "cpu") continue;
    s.cpu_free_nodes = d.free_nodes;
    s.cpu_free_memory_mb = static_cast<int32_t>(d.free_memory_mb);
  }
  s.queued_tasks = static_cast<int32_t>(st.queue.tasks.size());
  s.tightest_t_ms = static_cast<float>(tightest_t_ms(st));
  if (ring_.size() < kCapacity) {
    ring_.push_back(s);
    return;
  }
  ring_[next_] = s;
  next_ = (next_ + 1) % kCapacity;
}

std::vector<StateSample> StateHistory::samples() const {
  std::vector<StateSample> out;
  out.reserve(ring_.size());
  for (std::size_t i = 0; i < ring_.size(); ++i) out.push_back(ring_[(next_ + i) % ring_.size()]);
  return out;
}

}  // namespace edgenas::coordinator
