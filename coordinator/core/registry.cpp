#include "coordinator/core/registry.hpp"

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
    AgentEntry e;
    e.liveness = Liveness::offline;
    std::string id = a.agent_id;
    e.stored = std::move(a);
    agents_[id] = std::move(e);
  }
}

AgentEntry& Registry::admit(const std::string& agent_id, const std::string& routing_id,
                            const proto::Register& reg, bool& known) {
  auto [it, inserted] = agents_.try_emplace(agent_id);
  AgentEntry& e = it->second;
  known = !inserted;
  if (inserted) {
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
  e.liveness = Liveness::alive;
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
  entry.liveness = Liveness::alive;
  entry.routing_id = routing_id;
}

std::vector<std::string> Registry::sweep() {
  std::vector<std::string> died;
  const int64_t limit = interval_ms_ * dead_after_;
  const int64_t now = clock_.now_ms();
  for (auto& [id, e] : agents_) {
    if (e.liveness == Liveness::alive && now - e.last_seen_mono_ms > limit) {
      e.liveness = Liveness::dead;
      mark_dirty(e);
      died.push_back(id);
    }
  }
  return died;
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

void Registry::mark_stale_dirty() {
  for (auto& [id, e] : agents_) {
    if (e.stale) mark_dirty(e);
  }
}

const AgentEntry* Registry::find(const std::string& agent_id) const {
  auto it = agents_.find(agent_id);
  return it == agents_.end() ? nullptr : &it->second;
}

int Registry::count(Liveness l) const {
  int n = 0;
  for (const auto& [id, e] : agents_) n += e.liveness == l ? 1 : 0;
  return n;
}

}  // namespace edgenas::coordinator
