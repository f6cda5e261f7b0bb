#pragma once
// A box's Source and Job matrices over time, as the web console charts them: the few numbers
// its Box page draws, sampled from its heartbeats at most once a step, the last kCapacity
// samples (an hour). Kept in memory only: a restarted coordinator starts them afresh, and the
// traces keep each search's full context in the store. 24 bytes a sample: ~15 MB at 10 000 boxes.
#include <cstdint>
#include <vector>

#include "common/protocol/schema.hpp"

namespace edgenas::coordinator {

// The tightest latency requirement T over an agent's queue (0 when the queue is empty).
double tightest_t_ms(const proto::AgentState& st);

struct StateSample {
  int64_t wall_ms = 0;
  int32_t cpu_free_nodes = 0;
  int32_t cpu_free_memory_mb = 0;  // ≤ limits::kMaxMemoryMb, which fits
  int32_t queued_tasks = 0;
  float tightest_t_ms = 0;  // 0: an empty queue
};

class StateHistory {
 public:
  static constexpr std::size_t kCapacity = 60;
  static constexpr int64_t kStepMs = 60'000;

  // Samples the state when a step has passed since the last sample (or there is none); a
  // clock that went back counts as a step.
  void record(int64_t wall_ms, const proto::AgentState& st);
  // Oldest first.
  std::vector<StateSample> samples() const;

 private:
  std::vector<StateSample> ring_;  // grows to kCapacity, then next_ is the oldest
  std::size_t next_ = 0;
};

}  // namespace edgenas::coordinator
