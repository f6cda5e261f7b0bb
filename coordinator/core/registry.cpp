#include "coordinator/core/registry.hpp"

#include <algorithm>

namespace edgenas::coordinator {

std::string_view to_string(Liveness l) {
  switch (l) {
    case Liveness::alive:
      return "alive";
    case Liveness::dead:
      return "dead";
    case Liveness::offline:
      return "offline";
  }
  return "?";
}

void Registry::load(std::vector<StoredAgent> agents) {
  for (auto& a : agents) {
    std::string id = a.agent_id;
    auto [it, inserted] = agents_.try_emplace(id);
    if (inserted) counts_[static_cast<std::size_t>(Liveness::offline)]++;
    set_liveness(it->second, Liveness::offline);
    it->second.stored = std::move(a);
  }
}

AgentEntry& Registry::admit(const std::string& agent_id, const std::string& routing_id,
                            const proto::Register& reg, bool& known) {
  auto [it, inserted] = agents_.try_emplace(agent_id);
  AgentEntry& e = it->second;
  known = !inserted;
  if (inserted) {
    counts_[static_cast<std::size_t>(e.liveness)]++;
    e.stored.agent_id = agent_id;
    e.stored.first_seen_ms = clock_.wall_ms();
  }
  e.stored.registration = reg;
  e.stored.registrations += 1;
  e.stored.last_seen_ms = clock_.wall_ms();
  e.routing_id = routing_id;
  e.registered_via = routing_id;
  e.heartbeat_seq.reset();
  e.last_seen_mono_ms = clock_.now_ms();
  set_liveness(e, Liveness::alive);
  mark_dirty(e);
  return e;
}

bool Registry::repeats_registration(const std::string& agent_id,
                                    const std::string& routing_id) const {
  const AgentEntry* e = find(agent_id);
  return e && e->liveness == Liveness::alive && !e->registered_via.empty() &&
         e->registered_via == routing_id;
}

Admission Registry::on_register(const std::string& agent_id, const std::string& routing_id,
                                const proto::Register& reg) {
  bool known = false;
  AgentEntry& e = admit(agent_id, routing_id, reg, known);
  // A fresh start of the agent process: its queue starts empty until it reports one.
  e.stored.state = proto::AgentState{};
  e.queue_revision = 0;
  return known ? Admission::known_agent : Admission::new_agent;
}

Admission Registry::on_reregister(const std::string& agent_id, const std::string& routing_id,
                                  const proto::Reregister& rr) {
  bool known = false;
  AgentEntry& e = admit(agent_id, routing_id, rr.registration, known);
  // The agent is authoritative about its own queue and resources: take them as sent.
  e.stored.state = rr.state;
  e.queue_revision = 0;
  return known ? Admission::restored : Admission::new_agent;
}

AgentEntry* Registry::session(const std::string& agent_id) {
  auto it = agents_.find(agent_id);
  if (it == agents_.end() || it->second.liveness == Liveness::offline) return nullptr;
  return &it->second;
}

void Registry::seen(AgentEntry& entry, const std::string& routing_id) {
  entry.last_seen_mono_ms = clock_.now_ms();
  entry.stored.last_seen_ms = clock_.wall_ms();
  set_liveness(entry, Liveness::alive);
  entry.routing_id = routing_id;
}

void Registry::set_liveness(AgentEntry& e, Liveness l) {
  counts_[static_cast<std::size_t>(e.liveness)]--;
  counts_[static_cast<std::size_t>(l)]++;
  e.liveness = l;
}

std::vector<std::string> Registry::sweep(std::size_t visits) {
  std::vector<std::string> died;
  visits = std::min(visits, agents_.size());
  auto it = agents_.upper_bound(cursor_);
  for (std::size_t n = 0; n < visits; ++n) {
    if (it == agents_.end()) it = agents_.begin();
    visit(it->first, it->second, died);
    cursor_ = it->first;
    ++it;
  }
  return died;
}

void Registry::visit(const std::string& id, AgentEntry& e, std::vector<std::string>& died) {
  if (e.liveness == Liveness::alive &&
      clock_.now_ms() - e.last_seen_mono_ms > interval_ms_ * dead_after_) {
    set_liveness(e, Liveness::dead);
    mark_dirty(e);
    died.push_back(id);
  }
  if (write_back_left_ > 0) {
    write_back_left_--;
    if (e.stale) mark_dirty(e);
  }
}

void Registry::mark_dirty(AgentEntry& e) {
  if (e.dirty) return;
  e.dirty = true;
  dirty_.push_back(e.stored.agent_id);
}

std::vector<StoredAgent> Registry::take_dirty(std::size_t max) {
  std::vector<StoredAgent> out;
  while (out.size() < max && !dirty_.empty()) {
    auto it = agents_.find(dirty_.front());
    dirty_.pop_front();
    if (it == agents_.end() || !it->second.dirty) continue;
    out.push_back(it->second.stored);
    it->second.dirty = false;
    it->second.stale = false;
  }
  return out;
}

void Registry::mark_dirty(const std::vector<StoredAgent>& rows) {
  for (const auto& row : rows) {
    auto it = agents_.find(row.agent_id);
    if (it != agents_.end()) mark_dirty(it->second);
  }
}

const AgentEntry* Registry::find(const std::string& agent_id) const {
  auto it = agents_.find(agent_id);
  return it == agents_.end() ? nullptr : &it->second;
}

}  // namespace edgenas::coordinator
