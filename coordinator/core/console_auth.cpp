#include "coordinator/core/console_auth.hpp"

#include <algorithm>
#include <tuple>

#include "common/protocol/schema.hpp"
#include "common/util/secrets.hpp"

namespace edgenas::coordinator {

using nlohmann::json;

Status ConsoleAuth::load() {
  auto rows = store_.console_tokens();
  if (!rows) return rows.error();
  for (auto& t : *rows) tokens_[t.sha256] = std::move(t);
  return ok_status();
}

Expected<json> ConsoleAuth::mint(const std::string& admin, int64_t ttl_ms) {
  if (ttl_ms < 60'000 || ttl_ms > kMaxTtlMs)
    return Error{
        std::string(proto::err::kBadRequest),
        "ttl must be from 1 minute to 30 days (" + std::to_string(ttl_ms / 1000) + " s given)"};
  const std::string token = secrets::random_hex(32);
  ConsoleToken t;
  t.sha256 = secrets::sha256_hex(token);
  t.id = t.sha256.substr(0, 12);
  t.admin = admin;
  t.created_ms = clock_.wall_ms();
  t.expires_ms = t.created_ms + ttl_ms;
  if (auto s = store_.save_console_token(t); !s) return s.error();
  tokens_[t.sha256] = t;
  return json{{"token", token}, {"id", t.id}, {"admin", admin}, {"expires_ms", t.expires_ms}};
}

json ConsoleAuth::list() const {
  const int64_t now = clock_.wall_ms();
  std::vector<const ConsoleToken*> oldest_first;
  for (const auto& [hash, t] : tokens_) oldest_first.push_back(&t);
  std::sort(oldest_first.begin(), oldest_first.end(), [](const auto* a, const auto* b) {
    return std::tie(a->created_ms, a->id) < std::tie(b->created_ms, b->id);
  });
  json rows = json::array();
  for (const auto* token : oldest_first) {
    const auto& t = *token;
    int sessions = 0;
    for (const auto& [sid, s] : sessions_) sessions += s.token_id == t.id;
    rows.push_back({{"id", t.id},
                    {"admin", t.admin},
                    {"created_ms", t.created_ms},
                    {"expires_ms", t.expires_ms},
                    {"state", t.revoked             ? "revoked"
                              : t.expires_ms <= now ? "expired"
                                                    : "valid"},
                    {"sessions", sessions}});
  }
  return json{{"tokens", rows}};
}

Expected<json> ConsoleAuth::revoke(const std::string& id) {
  for (auto& [hash, t] : tokens_) {
    if (t.id != id) continue;
    t.revoked = true;
    if (auto s = store_.save_console_token(t); !s) return s.error();
    end_sessions_of(id);
    return json{{"id", id}, {"state", "revoked"}};
  }
  return Error{std::string(proto::err::kNotFound), "no console token '" + id + "'"};
}

std::variant<ConsoleAuth::Login, ConsoleAuth::Refusal> ConsoleAuth::login(
    const std::string& token) {
  if (token.empty())
    return refuse(Denied::missing, "no token: mint one with edgenasctl console token");
  const auto it = tokens_.find(secrets::sha256_hex(token));
  if (it == tokens_.end()) return refuse(Denied::unknown, "this token is not known");
  const auto& t = it->second;
  if (t.revoked) return refuse(Denied::expired, "this token was revoked");
  if (t.expires_ms <= clock_.wall_ms()) return refuse(Denied::expired, "this token has expired");
  std::erase_if(sessions_, [now = clock_.wall_ms()](const auto& s) {
    return s.second.expires_ms <= now;  // ended with their token
  });
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto s = sessions_.begin(); s != sessions_.end(); ++s)
      if (s->second.expires_ms < oldest->second.expires_ms) oldest = s;
    sessions_.erase(oldest);
  }
  Login l;
  l.session_id = secrets::random_hex(32);
  l.max_age_s = (t.expires_ms - clock_.wall_ms()) / 1000;
  l.session = Session{t.admin, t.id, secrets::random_hex(32), t.expires_ms};
  sessions_[secrets::sha256_hex(l.session_id)] = l.session;
  ++logins_;
  return l;
}

std::variant<const ConsoleAuth::Session*, ConsoleAuth::Refusal> ConsoleAuth::check(
    const std::string& session_id, const std::string& csrf_token, bool mutation) {
  if (session_id.empty()) return refuse(Denied::missing, "not logged in");
  const auto it = sessions_.find(secrets::sha256_hex(session_id));
  if (it == sessions_.end())
    return refuse(Denied::unknown, "this session is not known (log in again)");
  if (it->second.expires_ms <= clock_.wall_ms()) {
    sessions_.erase(it);
    return refuse(Denied::expired, "the session's token has expired (log in with a new one)");
  }
  if (mutation && !secrets::equal(csrf_token, it->second.csrf_token))
    return refuse(Denied::csrf, "a change needs the session's X-CSRF-Token header");
  return &it->second;
}

void ConsoleAuth::logout(const std::string& session_id) {
  sessions_.erase(secrets::sha256_hex(session_id));
}

ConsoleAuth::Refusal ConsoleAuth::refuse(Denied why, std::string message) {
  ++denied_[static_cast<std::size_t>(why)];
  return Refusal{why, std::move(message)};
}

void ConsoleAuth::end_sessions_of(const std::string& token_id) {
  std::erase_if(sessions_, [&](const auto& s) { return s.second.token_id == token_id; });
}

void ConsoleAuth::write_metrics(prom::Text& t) const {
  t.family("edgenas_console_denied_total", "counter",
           "Web console requests refused, by reason (missing: no credentials; unknown: not a "
           "known token or session; expired: expired or revoked; csrf: a change without the "
           "session's CSRF token)");
  for (std::size_t k = 0; k < kDeniedReasons.size(); ++k)
    t.sample(static_cast<double>(denied_[k]), {{"reason", std::string(kDeniedReasons[k])}});
  t.family("edgenas_console_logins_total", "counter", "Web console logins with a valid token");
  t.sample(static_cast<double>(logins_));
  t.family("edgenas_console_sessions", "gauge", "Web console sessions open");
  t.sample(static_cast<double>(sessions_.size()));
}

}  // namespace edgenas::coordinator
