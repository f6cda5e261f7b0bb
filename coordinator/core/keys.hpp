#pragma once
// Enrolment of agent keys, as admins know it from Salt or Puppet: an agent with an unknown
// CURVE key is refused and its key listed as pending until an admin accepts it (or the config
// auto-accepts); rejected and revoked keys are refused. The first agent id an accepted key
// registers with is bound to it: a key cannot speak for another agent, and an agent id cannot
// move to another key without an admin. Admin keys (a separate list) open the admin port only.
// The ZAP handler (coordinator/io) asks authenticate(); the core asks authorize_sender() for
// every message. States live in the store; pending keys are capped (a flood of unknown keys
// costs memory, not the database).
#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/clock.hpp"
#include "coordinator/store/trace_store.hpp"

namespace edgenas::coordinator {

enum class KeyState { pending, accepted, rejected, revoked };
std::string_view to_string(KeyState s);

class KeyRegistry {
 public:
  static constexpr std::size_t kMaxPending = 10'000;
  static constexpr std::string_view kAgentDomain = "agents";
  static constexpr std::string_view kAdminDomain = "admin";

  KeyRegistry(const Clock& clock, TraceStore& store, bool auto_accept,
              std::set<std::string> admin_keys);
  Status load();

  struct Decision {
    bool allow = false;
    std::string reason;  // for the ZAP reply and the log
  };
  Decision authenticate(std::string_view domain, const std::string& public_key,
                        const std::string& address);
  // A message from `public_key` claiming to be `agent_id`.
  Status authorize_sender(const std::string& public_key, const std::string& agent_id);

  // Admin operations; `who` is a key, a unique key prefix (≥ 6 characters) or an agent id.
  Expected<nlohmann::json> list() const;
  std::map<std::string, int64_t> counts_by_state() const;  // every state, zeros included
  Expected<nlohmann::json> set_state(const std::string& who, KeyState state);
  // Writes the rows authenticate() and authorize_sender() changed, in one transaction (an
  // enrolment storm costs one commit per io round, not one per key); the io loop calls it once
  // a round. Admin changes (set_state) are written at once. On failure the rows stay queued.
  Status flush_saves();

 private:
  struct Record {
    KeyState state = KeyState::pending;
    std::string agent_id, address;
    int64_t first_seen_ms = 0, last_seen_ms = 0;
  };
  Expected<std::string> resolve(const std::string& who) const;
  Status save(const std::string& key);
  StoredKey row(const std::string& key) const;
  void queue_save(const std::string& key);

  const Clock& clock_;
  TraceStore& store_;
  bool auto_accept_;
  std::set<std::string> admin_keys_;
  std::map<std::string, Record> keys_;
  std::map<std::string, std::string> agent_key_;  // agent id → bound key
  // Keys by KeyState (pending is checked on every unknown key's handshake; all of them on every
  // /metrics page, so they are counted as they change, not by a pass over the keys).
  std::array<int64_t, 4> by_state_{};
  std::vector<std::string> unsaved_;  // keys whose row changed since flush_saves()
  std::set<std::string> unsaved_set_;
};

}  // namespace edgenas::coordinator
