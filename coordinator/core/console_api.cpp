#include "coordinator/core/console_api.hpp"

#include "common/util/utf8.hpp"

namespace edgenas::coordinator {
namespace {

using nlohmann::json;

http::Response reply(int status, const json& body) {
  http::Response r;
  r.status = status;
  r.body = utf8::json_text(body);
  r.headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
  return r;
}

http::Response failure(int status, std::string_view code, const std::string& message) {
  return reply(status, json{{"ok", false}, {"code", code}, {"message", message}});
}

http::Response refused(const ConsoleAuth::Refusal& r) {
  if (r.reason == Denied::csrf) return failure(403, "csrf", r.message);
  return failure(401, "unauthorized", r.message);
}

// The HTTP status of an admin error code.
int status_of(std::string_view code) {
  if (code == proto::err::kNotFound || code == proto::err::kUnknownOp) return 404;
  if (code == proto::err::kForbidden) return 403;
  if (code == proto::err::kUnavailable) return 503;
  if (code == proto::err::kInternal) return 500;
  return 400;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decoded(std::string_view s) {
  std::string out;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '+') {
      out += ' ';
    } else if (s[k] != '%') {
      out += s[k];
    } else {
      if (k + 2 >= s.size()) return std::nullopt;
      const int hi = hex_digit(s[k + 1]), lo = hex_digit(s[k + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      k += 2;
    }
  }
  if (!utf8::valid(out)) return std::nullopt;
  return out;
}

// A POST's arguments: its body, a JSON object (or nothing).
std::optional<json> body_args(const http::Request& req) {
  if (req.body.empty()) return json::object();
  json args = json::parse(req.body, nullptr, false);
  if (args.is_discarded() || !args.is_object()) return std::nullopt;
  return args;
}

http::Response session_reply(const ConsoleAuth::Session& s) {
  return reply(200, json{{"ok", true},
                         {"result",
                          {{"logged_in", true},
                           {"admin", s.admin},
                           {"csrf_token", s.csrf_token},
                           {"expires_ms", s.expires_ms}}}});
}

http::Response logged_out(const std::string& why) {
  return reply(200, json{{"ok", true}, {"result", {{"logged_in", false}, {"reason", why}}}});
}

std::string session_cookie(const std::string& id, int64_t max_age_s) {
  return std::string(ConsoleApi::kCookie) + "=" + id + "; Path=/; HttpOnly; SameSite=Strict; " +
         "Max-Age=" + std::to_string(max_age_s);
}

}  // namespace

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto end = header.find(';');
    auto part = header.substr(0, end);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return "";
}

std::optional<json> query_args(std::string_view query) {
  json args = json::object();
  while (!query.empty()) {
    const auto end = query.find('&');
    const auto part = query.substr(0, end);
    if (!part.empty()) {
      const auto eq = part.find('=');
      auto key = percent_decoded(part.substr(0, eq));
      auto value = percent_decoded(eq == std::string_view::npos ? "" : part.substr(eq + 1));
      if (!key || !value || key->empty()) return std::nullopt;
      args[*key] = *value;
    }
    if (end == std::string_view::npos) break;
    query.remove_prefix(end + 1);
  }
  return args;
}

const std::set<std::string, std::less<>>& ConsoleApi::read_ops() {
  static const std::set<std::string, std::less<>> ops = {
      "status",      "agents.list",   "agents.page",    "agents.show",    "fleet.summary",
      "traces.list", "traces.export", "predictor.list", "predictor.show", "predictor.fleet",
      "keys.list",   "latency.list",  "latency.show",   "console.tokens"};
  return ops;
}

void ConsoleApi::handle(const http::Request& req, std::vector<Outgoing>& agent_out, Done done) {
  auto routed = route(req);
  if (auto* answer = std::get_if<http::Response>(&routed)) return done(std::move(*answer));
  constexpr std::string_view kOps = "/api/v1/";
  call(req, *std::get<const ConsoleAuth::Session*>(routed), req.path.substr(kOps.size()), agent_out,
       std::move(done));
}

http::Response ConsoleApi::handle(const http::Request& req, std::vector<Outgoing>& agent_out) {
  std::optional<http::Response> answer;
  handle(req, agent_out, [&answer](http::Response r) { answer = std::move(r); });
  if (!answer) return failure(500, "internal", "a deferred answer was asked for at once");
  return std::move(*answer);
}

std::variant<http::Response, const ConsoleAuth::Session*> ConsoleApi::route(
    const http::Request& req) {
  const bool post = req.method == "POST";
  if (req.path == "/api/login") {
    if (!post) return failure(405, "method", "log in with POST {\"token\": ...}");
    return login(req);
  }
  const auto session_id = cookie_value(req.cookie, kCookie);
  // The page asks whether it is logged in before it shows the login form: that answer is no
  // refusal (nothing is read), so it is 200 either way; a stale cookie is still counted.
  const bool probe = req.path == "/api/session" && req.method == "GET";
  if (probe && session_id.empty()) return logged_out("not logged in");
  auto checked = auth_.check(session_id, req.csrf_token, post);
  if (auto* no = std::get_if<ConsoleAuth::Refusal>(&checked))
    return probe ? logged_out(no->message) : refused(*no);
  const auto& session = *std::get<const ConsoleAuth::Session*>(checked);
  if (probe) return session_reply(session);
  if (req.path == "/api/logout" && post) {
    auth_.logout(session_id);
    auto r = reply(200, json{{"ok", true}, {"result", json::object()}});
    r.headers.emplace_back("Set-Cookie", session_cookie("", 0));
    return r;
  }
  if (req.path.rfind("/api/v1/", 0) != 0)
    return failure(404, "not_found", "no API path '" + utf8::printable(req.path) + "'");
  return &session;
}

http::Response ConsoleApi::login(const http::Request& req) {
  auto args = body_args(req);
  if (!args || !(*args).value("token", json()).is_string())
    return failure(400, "bad_request", "log in with a JSON body {\"token\": \"...\"}");
  auto result = auth_.login((*args)["token"].get<std::string>());
  if (auto* no = std::get_if<ConsoleAuth::Refusal>(&result)) return refused(*no);
  const auto& in = std::get<ConsoleAuth::Login>(result);
  auto r = session_reply(in.session);
  r.headers.emplace_back("Set-Cookie", session_cookie(in.session_id, in.max_age_s));
  return r;
}

void ConsoleApi::call(const http::Request& req, const ConsoleAuth::Session& s,
                      const std::string& op, std::vector<Outgoing>& agent_out, Done done) {
  const bool post = req.method == "POST";
  if (!post && req.method != "GET")
    return done(failure(405, "method", "API calls are GET (reads) or POST"));
  if (!post && !read_ops().contains(op))
    return done(failure(405, "method",
                        "'" + utf8::printable(op) +
                            "' changes state or takes a JSON "
                            "object: call it with POST"));
  auto args = post ? body_args(req) : query_args(req.query);
  if (!args)
    return done(failure(400, "bad_request",
                        post ? "the body must be a JSON object" : "the query string is malformed"));
  proto::AdminRequest admin_req;
  admin_req.op = op;
  admin_req.args = std::move(*args);
  admin_.handle(admin_req, agent_out, {"console:" + s.admin, true},
                [done = std::move(done)](proto::AdminResponse resp) {
                  if (!resp.ok) return done(failure(status_of(resp.code), resp.code, resp.message));
                  done(reply(200, json{{"ok", true}, {"result", resp.result}}));
                });
}

}  // namespace edgenas::coordinator
