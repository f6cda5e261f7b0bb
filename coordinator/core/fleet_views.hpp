#pragma once
// The orders of the fleet the web console pages through (agents.page): the agents matching a
// filter, sorted by one field, kept for up to a second and shared by every console asking the
// same question. At 10 000 agents one ordering costs the io thread a few milliseconds (measured
// by bench/console_api_bench.cpp); five consoles refreshing every 2 s would pay it on every call,
// a page from a kept ordering costs a lookup per row. The rows themselves are read fresh; only
// which agents a page holds, and in what order, may be up to kMaxAgeMs old.
#include <list>
#include <string>
#include <vector>

#include "common/util/clock.hpp"
#include "common/util/expected.hpp"
#include "coordinator/core/registry.hpp"

namespace edgenas::coordinator {

class FleetViews {
 public:
  static constexpr int64_t kMaxAgeMs = 1000;
  static constexpr std::size_t kMaxKept = 16;  // orderings kept (the oldest goes first)

  FleetViews(const Registry& registry, const Clock& clock) : registry_(registry), clock_(clock) {}

  // The agents matching `filter` (case-blind substring of id, hostname, state, machine,
  // profile, devices, activity), ordered by `sort` (a field, '-' first for descending; ties by
  // agent id). An unknown field is a bad_request naming the known ones. The entries are the
  // registry's own (it never erases one), so a page reads them as they are now.
  using Order = std::vector<const AgentEntry*>;
  Expected<const Order*> ordered(const std::string& sort, const std::string& filter);

 private:
  struct Kept {
    std::string sort, filter;
    int64_t made_ms = 0;
    Order agents;
  };
  Expected<Order> order(const std::string& sort, const std::string& filter) const;

  const Registry& registry_;
  const Clock& clock_;
  std::list<Kept> kept_;  // most recently made first
};

}  // namespace edgenas::coordinator
