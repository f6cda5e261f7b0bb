#include "coordinator/core/keys.hpp"

#include "common/protocol/curve_key.hpp"
#include "common/util/errors.hpp"
#include "common/util/log.hpp"

namespace edgenas::coordinator {

std::string_view to_string(KeyState s) {
  switch (s) {
    case KeyState::pending:
      return "pending";
    case KeyState::accepted:
      return "accepted";
    case KeyState::rejected:
      return "rejected";
    case KeyState::revoked:
      return "revoked";
  }
  return "?";
}

namespace {
std::optional<KeyState> state_from(std::string_view s) {
  for (auto k : {KeyState::pending, KeyState::accepted, KeyState::rejected, KeyState::revoked})
    if (to_string(k) == s) return k;
  return std::nullopt;
}
}  // namespace

KeyRegistry::KeyRegistry(const Clock& clock, TraceStore& store, bool auto_accept,
                         std::set<std::string> admin_keys)
    : clock_(clock), store_(store), auto_accept_(auto_accept), admin_keys_(std::move(admin_keys)) {}

Status KeyRegistry::load() {
  auto rows = store_.agent_keys();
  if (!rows) return rows.error();
  for (const auto& r : *rows) {
    auto st = state_from(r.state);
    if (!st) continue;
    auto [it, inserted] = keys_.insert_or_assign(
        r.public_key, Record{*st, r.agent_id, r.address, r.first_seen_ms, r.last_seen_ms});
    if (inserted) by_state_[static_cast<std::size_t>(*st)]++;
    if (!r.agent_id.empty() && *st == KeyState::accepted) agent_key_[r.agent_id] = r.public_key;
  }
  return ok_status();
}

StoredKey KeyRegistry::row(const std::string& key) const {
  const auto& r = keys_.at(key);
  return {key,           std::string(to_string(r.state)), r.agent_id, r.address, r.first_seen_ms,
          r.last_seen_ms};
}

Status KeyRegistry::save(const std::string& key) {
  return store_.save_agent_key(row(key));
}

void KeyRegistry::queue_save(const std::string& key) {
  if (unsaved_set_.insert(key).second) unsaved_.push_back(key);
}

Status KeyRegistry::flush_saves() {
  if (unsaved_.empty()) return ok_status();
  std::vector<StoredKey> rows;
  rows.reserve(unsaved_.size());
  for (const auto& k : unsaved_) rows.push_back(row(k));
  if (auto s = store_.save_agent_keys(rows); !s) {
    log::warn("saving agent keys failed; retried next round",
              {{"keys", rows.size()}, {"error", s.error().message}});
    return s;
  }
  unsaved_.clear();
  unsaved_set_.clear();
  return ok_status();
}

KeyRegistry::Decision KeyRegistry::authenticate(std::string_view domain, const std::string& key,
                                                const std::string& address) {
  if (domain == kAdminDomain) {
    if (admin_keys_.count(key)) return {true, "admin key"};
    return {false, "not an admin key"};
  }
  if (domain != kAgentDomain) return {false, "unknown domain"};
  const int64_t now = clock_.wall_ms();
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    if (by_state_[static_cast<std::size_t>(KeyState::pending)] >=
            static_cast<int64_t>(kMaxPending) &&
        !auto_accept_)
      return {false, "too many pending keys"};
    Record r;
    r.state = auto_accept_ ? KeyState::accepted : KeyState::pending;
    by_state_[static_cast<std::size_t>(r.state)]++;
    r.address = address;
    r.first_seen_ms = r.last_seen_ms = now;
    it = keys_.emplace(key, r).first;
    queue_save(key);
    if (auto_accept_) {
      log::info("agent key auto-accepted", {{"key", key.substr(0, 8)}, {"address", address}});
    } else {
      log::info("unknown agent key is pending; accept it with `edgenasctl keys accept`",
                {{"key", key.substr(0, 8)}, {"address", address}});
    }
  }
  it->second.last_seen_ms = now;
  switch (it->second.state) {
    case KeyState::accepted:
      return {true, "accepted"};
    case KeyState::pending:
      return {false, "key pending acceptance"};
    case KeyState::rejected:
      return {false, "key rejected"};
    case KeyState::revoked:
      return {false, "key revoked"};
  }
  return {false, "?"};
}

Status KeyRegistry::authorize_sender(const std::string& key, const std::string& agent_id) {
  auto it = keys_.find(key);
  if (it == keys_.end() || it->second.state != KeyState::accepted) {
    const std::string why =
        it == keys_.end() ? "unknown" : std::string(to_string(it->second.state));
    return Error{"revoked", "this agent's key is " + why};
  }
  auto& r = it->second;
  auto bound = agent_key_.find(agent_id);
  if (bound != agent_key_.end() && bound->second != key)
    return Error{"forbidden", "agent id '" + agent_id + "' belongs to another key"};
  if (r.agent_id.empty()) {
    r.agent_id = agent_id;
    agent_key_[agent_id] = key;
    queue_save(key);
  } else if (r.agent_id != agent_id) {
    return Error{"forbidden", "this key belongs to agent '" + r.agent_id + "'"};
  }
  return ok_status();
}

Expected<std::string> KeyRegistry::resolve(const std::string& who) const {
  if (keys_.count(who)) return who;
  std::string found;
  for (const auto& [k, r] : keys_) {
    const bool match = r.agent_id == who || (who.size() >= 6 && k.compare(0, who.size(), who) == 0);
    if (!match) continue;
    if (!found.empty()) return Error{"bad_request", "'" + who + "' matches more than one key"};
    found = k;
  }
  if (found.empty()) return Error{errc::kNotFound, "no key or agent '" + who + "'"};
  return found;
}

Expected<nlohmann::json> KeyRegistry::set_state(const std::string& who, KeyState state) {
  auto key = resolve(who);
  if (!key && proto::looks_like_curve_key(who)) {
    // A whole key the coordinator has not seen yet: enrolled (or blocked) ahead of the box's
    // first connection, as when keys are provisioned with the boxes.
    Record fresh;  // pending until the state below is set
    fresh.first_seen_ms = fresh.last_seen_ms = 0;
    key = keys_.emplace(who, fresh).first->first;
    by_state_[static_cast<std::size_t>(fresh.state)]++;
  }
  if (!key) return key.error();
  auto& r = keys_.at(*key);
  by_state_[static_cast<std::size_t>(r.state)]--;
  by_state_[static_cast<std::size_t>(state)]++;
  r.state = state;
  if (state == KeyState::accepted) {
    if (!r.agent_id.empty()) agent_key_[r.agent_id] = *key;
  } else if (!r.agent_id.empty() && agent_key_.count(r.agent_id) &&
             agent_key_[r.agent_id] == *key) {
    agent_key_.erase(r.agent_id);  // the agent id may enrol again with a new key, once accepted
  }
  if (auto s = save(*key); !s) return s.error();
  log::info("agent key state changed", {{"key", key->substr(0, 8)},
                                        {"agent", r.agent_id},
                                        {"state", std::string(to_string(state))}});
  return nlohmann::json{
      {"key", *key}, {"agent_id", r.agent_id}, {"state", std::string(to_string(state))}};
}

std::map<std::string, int64_t> KeyRegistry::counts_by_state() const {
  std::map<std::string, int64_t> n;
  for (auto s : {KeyState::pending, KeyState::accepted, KeyState::rejected, KeyState::revoked})
    n[std::string(to_string(s))] = by_state_[static_cast<std::size_t>(s)];
  return n;
}

Expected<nlohmann::json> KeyRegistry::list() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [k, r] : keys_) {
    rows.push_back({{"key", k},
                    {"state", std::string(to_string(r.state))},
                    {"agent_id", r.agent_id},
                    {"address", r.address},
                    {"first_seen_ms", r.first_seen_ms},
                    {"last_seen_ms", r.last_seen_ms}});
  }
  return nlohmann::json{
      {"keys", rows}, {"auto_accept", auto_accept_}, {"admin_keys", admin_keys_.size()}};
}

}  // namespace edgenas::coordinator
