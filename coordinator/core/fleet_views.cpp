#include "coordinator/core/fleet_views.hpp"

#include <algorithm>
#include <variant>

namespace edgenas::coordinator {
namespace {

// What an ordering can sort by, read from an agent: a number, or text it holds (a view: the
// entries outlive the sort).
using SortKey = std::variant<double, std::string_view>;
std::optional<SortKey> sort_key(const AgentEntry& e, const std::string& field) {
  const auto& st = e.stored.state;
  const auto& cpu = st.source.devices;
  if (field == "agent_id") return std::string_view(e.stored.agent_id);
  if (field == "hostname") return std::string_view(e.stored.registration.hostname);
  if (field == "liveness") return to_string(e.liveness);
  if (field == "last_seen") return static_cast<double>(e.stored.last_seen_ms);
  if (field == "cpu_free_nodes") return cpu.empty() ? 0.0 : cpu[0].free_nodes;
  if (field == "free_memory_mb")
    return cpu.empty() ? 0.0 : static_cast<double>(cpu[0].free_memory_mb);
  if (field == "queued_tasks") return static_cast<double>(st.queue.tasks.size());
  if (field == "tightest_t_ms") return tightest_t_ms(st);
  if (field == "progress")
    return e.search && e.search->budget_s > 0 ? e.search->elapsed_s / e.search->budget_s : -1.0;
  return std::nullopt;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// `needle` (lower case) in the agent's id, hostname, state, machine, profile, devices, activity.
bool matches(const AgentEntry& e, const std::string& needle) {
  if (needle.empty()) return true;
  const auto& r = e.stored.registration;
  std::string hay = e.stored.agent_id + " " + r.hostname + " " +
                    std::string(to_string(e.liveness)) + " " + r.machine + " " + r.profile + " " +
                    e.activity;
  for (const auto& d : r.devices) hay += " " + d.name;
  return lower(hay).find(needle) != std::string::npos;
}

}  // namespace

Expected<const FleetViews::Order*> FleetViews::ordered(const std::string& sort,
                                                       const std::string& filter) {
  const int64_t now = clock_.now_ms();
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (it->sort != sort || it->filter != filter) continue;
    if (now - it->made_ms < kMaxAgeMs) return &it->agents;
    kept_.erase(it);
    break;
  }
  auto agents = order(sort, filter);
  if (!agents) return agents.error();
  kept_.push_front({sort, filter, now, std::move(*agents)});
  if (kept_.size() > kMaxKept) kept_.pop_back();
  return &kept_.front().agents;
}

Expected<FleetViews::Order> FleetViews::order(const std::string& sort,
                                              const std::string& filter) const {
  const bool descending = !sort.empty() && sort.front() == '-';
  const std::string field = descending ? sort.substr(1) : sort;
  const std::string needle = lower(filter);
  if (!sort_key(AgentEntry{}, field))
    return Error{std::string(proto::err::kBadRequest),
                 "cannot sort by '" + field +
                     "' (agent_id, hostname, liveness, last_seen, cpu_free_nodes, "
                     "free_memory_mb, queued_tasks, tightest_t_ms, progress; '-' first: "
                     "descending)"};
  Order agents;
  agents.reserve(registry_.all().size());
  for (const auto& [id, e] : registry_.all())
    if (matches(e, needle)) agents.push_back(&e);
  // The registry iterates in agent id order, and stable_sort keeps it among equal keys.
  if (field == "agent_id") {
    if (descending) std::reverse(agents.begin(), agents.end());
    return agents;
  }
  std::vector<std::pair<SortKey, const AgentEntry*>> keyed;
  keyed.reserve(agents.size());
  for (const auto* e : agents) keyed.emplace_back(*sort_key(*e, field), e);
  std::stable_sort(keyed.begin(), keyed.end(), [descending](const auto& a, const auto& b) {
    return descending ? b.first < a.first : a.first < b.first;
  });
  for (std::size_t k = 0; k < keyed.size(); ++k) agents[k] = keyed[k].second;
  return agents;
}

}  // namespace edgenas::coordinator
