// The web console's API against a real coordinator (CURVE on, enrolment by hand) and a real
// agent over real sockets: no access without a login, a token from edgenasctl opens a session,
// the fleet counts equal edgenasctl's, a change needs the CSRF token, and accepting a pending key
// through the API lets that agent register.
#include "common/util/loopback.hpp"
#include "harness.hpp"

namespace edgenas::it {
namespace {
using nlohmann::json;

class ConsoleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("console");
    coord_.dir = dir_;
    coord_.auto_accept = false;
    coord_.extra = {"--metrics", "127.0.0.1:" + std::to_string(http_port_)};
    coord_.start();
  }
  net::HttpAnswer api(const std::string& method, const std::string& path,
                      const std::string& body = "", bool with_csrf = true) {
    std::vector<std::pair<std::string, std::string>> h;
    if (!cookie_.empty()) h.emplace_back("Cookie", cookie_);
    if (with_csrf && !csrf_.empty()) h.emplace_back("X-CSRF-Token", csrf_);
    if (!body.empty()) h.emplace_back("Content-Type", "application/json");
    return net::http_call(http_port_, method, path, h, body);
  }
  // The value of one series of /metrics (-1 when absent).
  double metric(const std::string& series) {
    const auto page = net::http_get(http_port_, "/metrics").second;
    const auto at = page.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::stod(page.substr(at + series.size() + 2));
  }

  std::string dir_, cookie_, csrf_;
  int http_port_ = free_port();
  Coordinator coord_;
};

TEST_F(ConsoleApiTest, ALoginFromEdgenasctlOpensTheApiAndAcceptingAKeyLetsTheAgentIn) {
  Agent a;
  a.id = "box-1";
  a.dir = dir_ + "/box-1";
  a.start(coord_);
  const std::string pub = a.public_key();
  ASSERT_FALSE(pub.empty());

  // No login: 401, counted.
  auto r = api("GET", "/api/v1/status");
  EXPECT_EQ(r.status, 401) << r.body;
  ASSERT_TRUE(wait_for(
      [&] { return metric("edgenas_console_denied_total{reason=\"missing\"}") >= 1; }, 10'000));

  // A token from edgenasctl (only its hash is stored), traded for a session.
  auto [rc, token] = run(coord_.ctl({"console", "token", "--ttl", "1h"}));
  ASSERT_EQ(rc, 0) << token;
  token = token.substr(0, token.find('\n'));
  ASSERT_EQ(token.size(), 64u) << token;
  r = api("POST", "/api/login", json{{"token", token}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  cookie_ = r.header("Set-Cookie").substr(0, r.header("Set-Cookie").find(';'));
  EXPECT_NE(r.header("Set-Cookie").find("HttpOnly"), std::string::npos);
  csrf_ = json::parse(r.body)["result"]["csrf_token"];
  EXPECT_EQ(json::parse(r.body)["result"]["admin"], "admin");  // the coordinator's admin.key

  // The fleet as the API sees it equals edgenasctl's view; the agent's key waits.
  ASSERT_TRUE(wait_for(
      [&] {
        return coord_.ctl_json({"keys", "list"})["keys"].size() == 1;
      },
      10'000));
  r = api("GET", "/api/v1/fleet.summary");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto summary = json::parse(r.body)["result"];
  const auto status = coord_.ctl_json({"status"});
  EXPECT_EQ(summary["agents"], status["agents"]);
  EXPECT_EQ(summary["keys"]["pending"], 1);

  // A change without the CSRF token is refused; with it, the key is accepted and the agent
  // registers on its own.
  const std::string accept = json{{"who", pub}}.dump();
  r = api("POST", "/api/v1/keys.accept", accept, false);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(coord_.ctl_json({"keys", "list"})["keys"][0]["state"], "pending");
  r = api("POST", "/api/v1/keys.accept", accept);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_for(
      [&] {
        auto page =
            json::parse(api("GET", "/api/v1/agents.page?filter=box-1").body, nullptr, false);
        return page.is_object() && page["result"]["total"] == 1 &&
               page["result"]["agents"][0]["liveness"] == "alive";
      },
      20'000))
      << a.proc.log() << coord_.proc.log();

  // The coordinator's own view: one session, one token minted by "admin"; a logout ends it.
  auto tokens = coord_.ctl_json({"console", "tokens"});
  ASSERT_EQ(tokens["tokens"].size(), 1u);
  EXPECT_EQ(tokens["tokens"][0]["admin"], "admin");
  EXPECT_EQ(tokens["tokens"][0]["sessions"], 1);
  EXPECT_EQ(api("POST", "/api/logout").status, 200);
  EXPECT_EQ(api("GET", "/api/v1/status").status, 401);
  EXPECT_TRUE(coord_.client().call("status").ok());
  // Every call above went through the io thread, and its time there is on /metrics.
  EXPECT_TRUE(
      wait_for([&] { return metric("edgenas_console_request_seconds_count") >= 8; }, 10'000));
}

}  // namespace
}  // namespace edgenas::it
