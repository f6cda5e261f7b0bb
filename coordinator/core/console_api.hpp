#pragma once
// The web console's JSON API (docs/CONSOLE.md), answered on the io thread: login and session
// calls, and /api/v1/<op>, which is an admin operation of AdminService (the same operations and
// error codes as edgenasctl, no second source of truth). Reads may be GET with text arguments
// in the query string; every operation may be POST with a JSON object body, and a POST needs
// the session's CSRF token. No sockets here: the HTTP thread hands requests over.
#include <array>
#include <functional>
#include <set>
#include <string>
#include <variant>

#include "common/util/http_status.hpp"
#include "coordinator/core/admin.hpp"
#include "coordinator/core/console_auth.hpp"

namespace edgenas::coordinator {

class ConsoleApi {
 public:
  static constexpr std::string_view kCookie = "edgenas_session";
  ConsoleApi(AdminService& admin, ConsoleAuth& auth) : admin_(admin), auth_(auth) {}
  // `done` gets the answer: at once, or, for a trace page read elsewhere (AdminService's trace
  // reads), when the page is ready.
  using Done = std::function<void(http::Response)>;
  void handle(const http::Request& req, std::vector<Outgoing>& agent_out, Done done);
  // The same for callers that cannot wait (tests, fuzzing): only without trace reads attached.
  http::Response handle(const http::Request& req, std::vector<Outgoing>& agent_out);
  // The operations a GET may call (they change nothing).
  static const std::set<std::string, std::less<>>& read_ops();

 private:
  http::Response login(const http::Request& req);
  // An answer at once (login, session, logout, refusals), or the session of an API call.
  std::variant<http::Response, const ConsoleAuth::Session*> route(const http::Request& req);
  void call(const http::Request& req, const ConsoleAuth::Session& s, const std::string& op,
            std::vector<Outgoing>& agent_out, Done done);

  AdminService& admin_;
  ConsoleAuth& auth_;
};

// The value of cookie `name` in a Cookie header ("" when absent).
std::string cookie_value(std::string_view header, std::string_view name);
// A query string's arguments, percent-decoded, as JSON strings; nullopt when malformed.
std::optional<nlohmann::json> query_args(std::string_view query);

}  // namespace edgenas::coordinator
