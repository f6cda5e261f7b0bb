// The web console's logins (ConsoleAuth) and its JSON API (ConsoleApi) over a real core and
// store, time from a ManualClock: no sockets, no sleeps.
#include "coordinator/core/console_api.hpp"

#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "coordinator/core/cold_start_policy.hpp"

namespace edgenas::coordinator {
namespace {
using namespace testing_support;
using nlohmann::json;

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_db("console");
    open();
  }
  void open() {
    api_.reset();
    admin_.reset();
    auth_.reset();
    core_.reset();
    store_.reset();
    auto s = TraceStore::open(path_);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    core_ = std::make_unique<CoordinatorCore>(clock_, *store_, policy_, CoreConfig{});
    ASSERT_TRUE(core_->start().ok());
    auth_ = std::make_unique<ConsoleAuth>(clock_, *store_);
    ASSERT_TRUE(auth_->load().ok());
    admin_ = std::make_unique<AdminService>(*core_, nullptr, nullptr, nullptr, auth_.get());
    api_ = std::make_unique<ConsoleApi>(*admin_, *auth_);
  }
  void add_agent(const std::string& id, const std::string& host, int free_cpu) {
    proto::Register r;
    r.hostname = host;
    r.devices = {{"cpu", 4, 1000, "procfs"}};
    proto::Header h;
    h.agent_id = id;
    h.ts_ms = 1;
    std::vector<Outgoing> out;
    h.msg_id = ++msg_id_;
    core_->on_message("r-" + id, proto::encode(h, r), out);
    h.msg_id = ++msg_id_;
    core_->on_message(
        "r-" + id,
        proto::encode(h, proto::Heartbeat{1, context(free_cpu).source, 0, 0, "idle", std::nullopt}),
        out);
    ASSERT_TRUE(core_->flush(out).ok());
  }
  std::string mint(int64_t ttl_ms = ConsoleAuth::kDefaultTtlMs) {
    std::vector<Outgoing> out;
    auto r = admin_->handle({"console.token", {{"ttl_s", ttl_ms / 1000}}}, out, {"alice", false});
    EXPECT_TRUE(r.ok) << r.message;
    return r.result.value("token", "");
  }
  http::Response send(const std::string& method, const std::string& path,
                      const std::string& body = "", const std::string& query = "") {
    http::Request req{method, path, query, cookie_, csrf_, body};
    std::vector<Outgoing> out;
    return api_->handle(req, out);
  }
  // Logs in with `token`; keeps the session's cookie and CSRF token for later calls.
  http::Response login(const std::string& token) {
    auto r = send("POST", "/api/login", json{{"token", token}}.dump());
    for (const auto& [name, value] : r.headers) {
      if (name != "Set-Cookie") continue;
      cookie_ = value.substr(0, value.find(';'));
    }
    if (r.status == 200) csrf_ = json::parse(r.body)["result"]["csrf_token"];
    return r;
  }
  static json body(const http::Response& r) { return json::parse(r.body); }
  int64_t denied(Denied why) const {
    prom::Text t;
    auth_->write_metrics(t);
    const std::string label =
        "reason=\"" + std::string(kDeniedReasons[static_cast<std::size_t>(why)]) + "\"} ";
    const auto at = t.str().find(label);
    return at == std::string::npos ? -1 : std::stoll(t.str().substr(at + label.size()));
  }

  std::string path_, cookie_, csrf_;
  uint64_t msg_id_ = 0;
  ManualClock clock_;
  ColdStartPolicy policy_;
  std::unique_ptr<TraceStore> store_;
  std::unique_ptr<CoordinatorCore> core_;
  std::unique_ptr<ConsoleAuth> auth_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<ConsoleApi> api_;
};

TEST_F(ConsoleTest, EveryCallNeedsALoginAndRefusalsAreCountedByReason) {
  EXPECT_EQ(send("GET", "/api/v1/status").status, 401);
  EXPECT_EQ(denied(Denied::missing), 1);
  cookie_ = "edgenas_session=" + std::string(64, 'a');
  EXPECT_EQ(send("GET", "/api/v1/status").status, 401);
  EXPECT_EQ(denied(Denied::unknown), 1);
  EXPECT_EQ(login("not-a-token").status, 401);
  EXPECT_EQ(denied(Denied::unknown), 2);
  EXPECT_EQ(login("").status, 401);
  EXPECT_EQ(denied(Denied::missing), 2);
  ASSERT_EQ(login(mint()).status, 200);
  auto r = send("GET", "/api/v1/status");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["result"]["protocol_version"], proto::kProtocolVersion);
  EXPECT_EQ(body(send("GET", "/api/session"))["result"]["admin"], "alice");
  cookie_ = "";  // the page's "am I logged in?" is answered, not refused
  auto probe = send("GET", "/api/session");
  EXPECT_EQ(probe.status, 200);
  EXPECT_EQ(body(probe)["result"]["logged_in"], false);
}

TEST_F(ConsoleTest, TheSessionCookieIsHttpOnlyStrictAndTheTokenIsNotStored) {
  const auto token = mint();
  auto r = login(token);
  ASSERT_EQ(r.status, 200);
  std::string set_cookie;
  for (const auto& [name, value] : r.headers)
    if (name == "Set-Cookie") set_cookie = value;
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  auto rows = store_->console_tokens();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_NE((*rows)[0].sha256, token);
  EXPECT_EQ((*rows)[0].admin, "alice");
  open();  // a restart: the token still logs in, the old session does not
  EXPECT_EQ(send("GET", "/api/v1/status").status, 401);
  EXPECT_EQ(login(token).status, 200);
}

TEST_F(ConsoleTest, AChangeNeedsTheCsrfTokenAndAReadCannotChange) {
  ASSERT_EQ(login(mint()).status, 200);
  const std::string csrf = csrf_;
  csrf_ = "";
  auto r = send("POST", "/api/v1/console.revoke", R"({"id":"x"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(body(r)["code"], "csrf");
  EXPECT_EQ(denied(Denied::csrf), 1);
  csrf_ = std::string(64, '0');
  EXPECT_EQ(send("POST", "/api/v1/console.revoke", R"({"id":"x"})").status, 403);
  csrf_ = csrf;
  r = send("POST", "/api/v1/console.revoke", R"({"id":"x"})");
  EXPECT_EQ(r.status, 404);  // past the CSRF check: no such token
  EXPECT_EQ(body(r)["code"], proto::err::kNotFound);
  EXPECT_EQ(send("GET", "/api/v1/console.revoke", "", "id=x").status, 405);
  EXPECT_EQ(send("GET", "/api/v1/predictor.train").status, 405);
  EXPECT_EQ(send("POST", "/api/v1/status", "[1,2]").status, 400);  // not an object
}

TEST_F(ConsoleTest, TokensExpireAndRevokingOneEndsItsSessions) {
  const auto token = mint(60'000);
  ASSERT_EQ(login(token).status, 200);
  clock_.advance(61'000);
  EXPECT_EQ(send("GET", "/api/v1/status").status, 401);
  EXPECT_EQ(login(token).status, 401);
  EXPECT_EQ(denied(Denied::expired), 2);

  const auto second = mint();
  ASSERT_EQ(login(second).status, 200);
  std::vector<Outgoing> out;
  const auto id = auth_->list()["tokens"][1]["id"].get<std::string>();
  ASSERT_TRUE(admin_->handle({"console.revoke", {{"id", id}}}, out).ok);
  EXPECT_EQ(send("GET", "/api/v1/status").status, 401);
  EXPECT_EQ(login(second).status, 401);
  EXPECT_EQ(auth_->list()["tokens"][1]["state"], "revoked");
}

TEST_F(ConsoleTest, SessionsEndWithTheirTokensEvenWhenNeverUsedAgain) {
  ASSERT_EQ(login(mint(60'000)).status, 200);
  const auto lasting = mint();
  EXPECT_EQ(auth_->sessions(), 1u);
  clock_.advance(61'000);  // the first session is not asked about again ...
  ASSERT_EQ(login(lasting).status, 200);
  EXPECT_EQ(auth_->sessions(), 1u);  // ... and is gone once another logs in
}

// A trace read the test finishes by hand with an empty page.
struct HeldRead final : TraceReads {
  void read(TraceQuery, Done d) override { done = std::move(d); }
  Done done;
};

TEST_F(ConsoleTest, ATracePageIsAnsweredWhenItsReaderHasIt) {
  ASSERT_EQ(login(mint()).status, 200);
  HeldRead reads;
  admin_->attach_trace_reads(&reads);
  std::vector<Outgoing> out;
  std::optional<http::Response> answer;
  api_->handle({"GET", "/api/v1/traces.export", "limit=5", cookie_, csrf_, ""}, out,
               [&answer](http::Response r) { answer = std::move(r); });
  EXPECT_FALSE(answer.has_value());
  ASSERT_TRUE(reads.done);
  reads.done(json{{"traces", json::array()}, {"next", nullptr}});
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  EXPECT_TRUE(body(*answer)["result"]["traces"].empty());
  // A caller that cannot wait is told so rather than left without an answer.
  EXPECT_EQ(send("GET", "/api/v1/traces.list").status, 500);
  // A reader's failure is the call's error.
  api_->handle({"GET", "/api/v1/traces.list", "", cookie_, csrf_, ""}, out,
               [&answer](http::Response r) { answer = std::move(r); });
  reads.done(Error{std::string(proto::err::kInternal), "disk on fire"});
  EXPECT_EQ(answer->status, 500);
  EXPECT_NE(answer->body.find("disk on fire"), std::string::npos);
}

TEST_F(ConsoleTest, AConsoleSessionCannotMintTokens) {
  ASSERT_EQ(login(mint()).status, 200);
  auto r = send("POST", "/api/v1/console.token", "{}");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(body(r)["code"], proto::err::kForbidden);
  std::vector<Outgoing> out;
  EXPECT_FALSE(admin_->handle({"console.token", {{"ttl_s", 10}}}, out, {"alice", false}).ok);
}

TEST_F(ConsoleTest, AgentsArePagedSortedAndFilteredAtTheSource) {
  for (int k = 0; k < 12; ++k)
    add_agent("box" + std::to_string(10 + k), k % 3 == 0 ? "meter-" + std::to_string(k) : "pi",
              k % 4);
  ASSERT_EQ(login(mint()).status, 200);
  auto r = send("GET", "/api/v1/agents.page", "", "offset=2&limit=3&sort=-cpu_free_nodes");
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = body(r)["result"];
  EXPECT_EQ(page["total"], 12);
  ASSERT_EQ(page["agents"].size(), 3u);
  // Free CPUs 3,3,3,2,2,2,...: descending, ties by agent id, so pages never overlap.
  EXPECT_EQ(page["agents"][0]["cpu_free_nodes"], 3);
  EXPECT_EQ(page["agents"][0]["agent_id"], "box21");
  EXPECT_EQ(page["agents"][1]["cpu_free_nodes"], 2);
  EXPECT_EQ(page["agents"][1]["agent_id"], "box12");
  page = body(send("GET", "/api/v1/agents.page", "", "filter=METER&limit=10"))["result"];
  EXPECT_EQ(page["total"], 4);
  page = body(send("GET", "/api/v1/agents.page", "", "offset=50"))["result"];
  EXPECT_EQ(page["agents"].size(), 0u);
  EXPECT_EQ(send("GET", "/api/v1/agents.page", "", "sort=colour").status, 400);
  EXPECT_EQ(send("GET", "/api/v1/agents.page", "", "limit=lots").status, 400);
  EXPECT_EQ(send("GET", "/api/v1/agents.page", "", "limit=%zz").status, 400);
  auto summary = body(send("GET", "/api/v1/fleet.summary"))["result"];
  EXPECT_EQ(summary["agents"]["known"], 12);
  EXPECT_EQ(summary["by_device"]["cpu"], 12);
}

TEST_F(ConsoleTest, APagesOrderIsKeptASecondItsRowsAreRead) {
  add_agent("box10", "a", 1);
  add_agent("box11", "b", 2);
  ASSERT_EQ(login(mint()).status, 200);
  const auto page = [&] {
    return body(send("GET", "/api/v1/agents.page", "", "sort=-cpu_free_nodes"))["result"];
  };
  EXPECT_EQ(page()["total"], 2);
  add_agent("box12", "c", 3);  // a new box: the kept ordering does not have it yet ...
  EXPECT_EQ(page()["total"], 2);
  EXPECT_EQ(page()["agents"][0]["agent_id"], "box11");
  clock_.advance(FleetViews::kMaxAgeMs);  // ... a second later it does, first
  EXPECT_EQ(page()["total"], 3);
  EXPECT_EQ(page()["agents"][0]["agent_id"], "box12");
  // Another question is another ordering, made at once.
  add_agent("box13", "d", 0);
  EXPECT_EQ(body(send("GET", "/api/v1/agents.page", "", "sort=hostname"))["result"]["total"], 4);
}

TEST(ConsoleParsing, CookiesAndQueryStrings) {
  EXPECT_EQ(cookie_value("a=1; edgenas_session=abc; b=2", "edgenas_session"), "abc");
  EXPECT_EQ(cookie_value("xedgenas_session=abc", "edgenas_session"), "");
  EXPECT_EQ(cookie_value("", "edgenas_session"), "");
  auto q = query_args("agent_id=box%201&filter=a+b&empty=");
  ASSERT_TRUE(q);
  EXPECT_EQ((*q)["agent_id"], "box 1");
  EXPECT_EQ((*q)["filter"], "a b");
  EXPECT_EQ((*q)["empty"], "");
  EXPECT_FALSE(query_args("a=%4"));
  EXPECT_FALSE(query_args("=1"));
  EXPECT_FALSE(query_args("a=%ff%fe"));  // not UTF-8
}

}  // namespace
}  // namespace edgenas::coordinator
