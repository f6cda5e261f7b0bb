// The web console's API takes requests from a browser: any method, path, query, cookie, CSRF
// header and body must get a JSON answer with a known status and valid UTF-8, never an
// exception. Input: "METHOD\nPATH\nQUERY\nCOOKIE\nCSRF\nBODY"; a COOKIE of "S" or a CSRF of "C"
// stands for the live session's, so the fuzzer reaches the operations behind the login.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>

#include "common/util/utf8.hpp"
#include "coordinator/core/console_api.hpp"
#include "coordinator_world.hpp"

using namespace edgenas;
using namespace edgenas::coordinator;

namespace {

struct World : fuzz::CoordinatorWorld {
  std::unique_ptr<ConsoleAuth> auth;
  std::unique_ptr<AdminService> admin;
  std::unique_ptr<ConsoleApi> api;
  std::string cookie, csrf;
  World() : CoordinatorWorld("console") {
    auth = std::make_unique<ConsoleAuth>(clock, *store);
    admin = std::make_unique<AdminService>(*core, nullptr, nullptr, nullptr, auth.get());
    api = std::make_unique<ConsoleApi>(*admin, *auth);
  }
  // A live session, made again when an input logged out or revoked it.
  void ensure_session() {
    if (auth->sessions() > 0) return;
    std::vector<Outgoing> out;
    auto minted = admin->handle({"console.token", {{"ttl_s", 3600}}}, out, {"fuzz", false});
    auto in = auth->login(minted.result["token"].get<std::string>());
    const auto& l = std::get<ConsoleAuth::Login>(in);
    cookie = std::string(ConsoleApi::kCookie) + "=" + l.session_id;
    csrf = l.session.csrf_token;
  }
};

std::vector<std::string> fields(std::string_view in, std::size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    const auto nl = in.find('\n');
    if (nl == std::string_view::npos) break;
    out.emplace_back(in.substr(0, nl));
    in.remove_prefix(nl + 1);
  }
  out.emplace_back(in);
  out.resize(n);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  w.ensure_session();
  auto f = fields(std::string_view(reinterpret_cast<const char*>(data), size), 6);
  http::Request req{f[0], f[1], f[2], f[3] == "S" ? w.cookie : f[3], f[4] == "C" ? w.csrf : f[4],
                    f[5]};
  std::vector<Outgoing> out;
  const auto r = w.api->handle(req, out);
  static const std::set<int> known = {200, 400, 401, 403, 404, 405, 500, 503};
  if (!known.contains(r.status)) std::abort();
  if (!utf8::valid(r.body)) std::abort();
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.contains("ok")) std::abort();
  if (r.status == 500) std::abort();  // an operation failed inside: a finding
  return 0;
}
