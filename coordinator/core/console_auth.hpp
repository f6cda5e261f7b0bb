#pragma once
// Who may use the web console. An admin mints a token on the admin port (`edgenasctl console
// token`): 256 random bits, shown once; the store keeps only its SHA-256, who minted it and
// when it expires. The login page trades a token for a session: an id for an HttpOnly cookie
// and a CSRF token the page sends with every mutation. Sessions live in memory (a restarted
// coordinator asks for the token again) and end with their token. Every refusal is counted by
// reason for /metrics. Runs on the io thread, time from the injected clock.
#include <array>
#include <map>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/util/clock.hpp"
#include "common/util/prometheus.hpp"
#include "coordinator/store/trace_store.hpp"

namespace edgenas::coordinator {

// Why a console request was refused (401, or 403 for a missing CSRF token).
enum class Denied { missing, unknown, expired, csrf };
inline constexpr std::array<std::string_view, 4> kDeniedReasons = {"missing", "unknown", "expired",
                                                                   "csrf"};

class ConsoleAuth {
 public:
  static constexpr int64_t kDefaultTtlMs = 12 * 3600 * 1000;
  static constexpr int64_t kMaxTtlMs = 30LL * 24 * 3600 * 1000;
  static constexpr std::size_t kMaxSessions = 1000;  // the oldest ends when one more logs in

  struct Session {
    std::string admin, token_id, csrf_token;
    int64_t expires_ms = 0;
  };
  struct Refusal {
    Denied reason;
    std::string message;
  };
  struct Login {
    std::string session_id;  // for the cookie
    int64_t max_age_s = 0;   // the cookie's lifetime: until the token expires
    Session session;
  };

  ConsoleAuth(const Clock& clock, TraceStore& store) : clock_(clock), store_(store) {}
  Status load();

  // Admin operations. mint returns the token (once), its id and expiry.
  Expected<nlohmann::json> mint(const std::string& admin, int64_t ttl_ms);
  nlohmann::json list() const;
  Expected<nlohmann::json> revoke(const std::string& id);  // ends its sessions too

  std::variant<Login, Refusal> login(const std::string& token);
  // The session behind a cookie's id; a mutation also needs its CSRF token.
  std::variant<const Session*, Refusal> check(const std::string& session_id,
                                              const std::string& csrf_token, bool mutation);
  void logout(const std::string& session_id);

  std::size_t sessions() const { return sessions_.size(); }
  void write_metrics(prom::Text& t) const;

 private:
  Refusal refuse(Denied why, std::string message);
  void end_sessions_of(const std::string& token_id);

  const Clock& clock_;
  TraceStore& store_;
  std::map<std::string, ConsoleToken> tokens_;  // by SHA-256 of the token
  std::map<std::string, Session> sessions_;     // by SHA-256 of the session id
  std::array<int64_t, kDeniedReasons.size()> denied_{};
  int64_t logins_ = 0;
};

}  // namespace edgenas::coordinator
