#pragma once
// The coordinator's view of the fleet: who is registered in this coordinator epoch, when each
// agent was last heard from, and its last reported Job queue and Source matrix.
//
// Liveness: an agent with a session is alive while it was heard from within
// dead_after_missed × heartbeat_interval; after that it is dead until it speaks again.
// Agents loaded from the store at start are offline until they Register or Reregister.
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/util/clock.hpp"
#include "coordinator/core/state_history.hpp"
#include "coordinator/store/trace_store.hpp"

namespace edgenas::coordinator {

enum class Liveness { alive, dead, offline };
std::string_view to_string(Liveness l);

struct AgentEntry {
  StoredAgent stored;
  std::string routing_id;  // the ROUTER identity of its current connection
  // The connection its session was registered on: a later Register or Reregister on the same
  // connection while it is alive is a repeat (queued during an outage, resent while waiting).
  std::string registered_via;
  int64_t last_seen_mono_ms = 0;
  Liveness liveness = Liveness::offline;
  uint64_t queue_revision = 0;
  std::optional<uint64_t> heartbeat_seq;        // the last one taken in this session
  std::string activity;                         // from the last heartbeat
  std::optional<proto::SearchProgress> search;  // from the last heartbeat, while one runs
  StateHistory history;                         // sampled from heartbeats, for the console
  bool dirty = false;  // must be written to the store (registration, queue, death)
  bool stale = false;  // heartbeat state newer than the store's; written periodically
};

enum class Admission { new_agent, known_agent, restored };

class Registry {
 public:
  Registry(const Clock& clock, int64_t heartbeat_interval_ms, int dead_after_missed)
      : clock_(clock), interval_ms_(heartbeat_interval_ms), dead_after_(dead_after_missed) {}

  void load(std::vector<StoredAgent> agents);

  Admission on_register(const std::string& agent_id, const std::string& routing_id,
                        const proto::Register& reg);
  Admission on_reregister(const std::string& agent_id, const std::string& routing_id,
                          const proto::Reregister& rr);
  // Whether a (Re)register is a repeat of the registration the agent's session already has:
  // the agent is alive and registered on this same connection.
  bool repeats_registration(const std::string& agent_id, const std::string& routing_id) const;
  // The agent's entry if it has a session in this epoch (registered since start), else null.
  AgentEntry* session(const std::string& agent_id);
  // Any message from an agent with a session: refreshes liveness and its routing id.
  void seen(AgentEntry& entry, const std::string& routing_id);

  // Visits the next `visits` agents in id order, going on from where the last call stopped and
  // wrapping around, so the io thread can spread a pass over many short steps: marks dead
  // those silent past the limit (returns their ids) and, while a write-back is open, marks
  // those with newer heartbeat state dirty. The default visits every agent once.
  std::vector<std::string> sweep(std::size_t visits = SIZE_MAX);
  // The next size() visits of sweep() also schedule stale heartbeat state for the store
  // (it is written back periodically, not on every heartbeat).
  void begin_write_back() { write_back_left_ = agents_.size(); }
  // Up to max dirty entries as rows for the store; clears their flags.
  std::vector<StoredAgent> take_dirty(std::size_t max);
  // After a failed commit: the rows must be written again.
  void mark_dirty(const std::vector<StoredAgent>& rows);

  const std::map<std::string, AgentEntry>& all() const { return agents_; }
  const AgentEntry* find(const std::string& agent_id) const;
  int count(Liveness l) const { return counts_[static_cast<std::size_t>(l)]; }  // O(1)
  std::size_t size() const { return agents_.size(); }
  int64_t heartbeat_interval_ms() const { return interval_ms_; }
  int dead_after_missed() const { return dead_after_; }

 private:
  AgentEntry& admit(const std::string& agent_id, const std::string& routing_id,
                    const proto::Register& reg, bool& known);
  void set_liveness(AgentEntry& e, Liveness l);  // keeps counts_
  void visit(const std::string& id, AgentEntry& e, std::vector<std::string>& died);

 public:
  // Flags an entry for the next write to the store (O(1); the queue keeps the order).
  void mark_dirty(AgentEntry& e);
  bool has_dirty() const { return !dirty_.empty(); }

 private:
  const Clock& clock_;
  int64_t interval_ms_;
  int dead_after_;
  // Entries are never erased: FleetViews keeps pointers to them across calls.
  std::map<std::string, AgentEntry> agents_;
  std::deque<std::string> dirty_;  // ids of entries with dirty == true, oldest first
  std::array<int, 3> counts_{};    // agents by Liveness
  std::string cursor_;             // sweep(): the last id visited ("" before the first)
  std::size_t write_back_left_ = 0;
};

}  // namespace edgenas::coordinator
