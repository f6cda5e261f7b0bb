#pragma once
// Where the agent keeps traces until the coordinator acked them. The daemon's implementation
// is SQLite (agent/store); the bound and the policy at the bound are configurable.
#include <cstdint>
#include <string>
#include <vector>

#include "common/model/model.hpp"

namespace edgenas::agent {

enum class OutboxFullPolicy { drop_oldest, reject_new };

class Outbox {
 public:
  virtual ~Outbox() = default;
  // Keeps the trace durably. At the bound: drop_oldest evicts the oldest unacked trace,
  // reject_new refuses this one; either way it is counted and logged.
  virtual Status add(const Trace& trace) = 0;
  // Oldest first.
  virtual Expected<std::vector<Trace>> pending(std::size_t max) = 0;
  virtual Status ack(const std::vector<std::string>& trace_ids) = 0;
  virtual int64_t depth() = 0;
  virtual int64_t dropped() = 0;  // traces lost to the bound since the outbox was created
  virtual int64_t quarantined() const { return 0; }  // kept rows that stopped decoding
};

}  // namespace edgenas::agent
