// The web console in headless chromium (tests/browser/console.mjs, over WebDriver) against a
// real coordinator: with `edgenas-sim run`'s simulated boxes and one real agent running real
// edgenas-search (counts, a moving progress bar, every page, 401, CSRF); and with a real agent
// whose key waits until it is accepted in the page. Screenshots: build/test-artifacts/console.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "harness.hpp"

namespace edgenas::it {
namespace {
using nlohmann::json;

std::string artifacts(const std::string& scenario) {
  return std::string(EDGENAS_BINARY_DIR) + "/test-artifacts/console/" + scenario;
}

// Runs the browser script; its output goes to the test's log.
int run_browser(const std::string& scenario, const std::string& url, const std::string& token,
                const std::vector<std::string>& ctl, int timeout_s) {
  ::setenv("EDGENAS_SCENARIO", scenario.c_str(), 1);
  ::setenv("EDGENAS_CONSOLE_URL", url.c_str(), 1);
  ::setenv("EDGENAS_CONSOLE_TOKEN", token.c_str(), 1);
  ::setenv("EDGENAS_CTL", json(ctl).dump().c_str(), 1);
  ::setenv("EDGENAS_ARTIFACTS", artifacts(scenario).c_str(), 1);
  auto [rc, out] = run(
      {"/usr/bin/node", std::string(EDGENAS_SOURCE_DIR) + "/tests/browser/console.mjs"}, timeout_s);
  std::cout << out;
  return rc;
}

std::string mint(const std::vector<std::string>& ctl) {
  auto argv = ctl;
  argv.insert(argv.end(), {"console", "token", "--ttl", "1h"});
  auto [rc, out] = run(argv);
  EXPECT_EQ(rc, 0) << out;
  return out.substr(0, out.find('\n'));
}

TEST(ConsoleBrowser, FleetPagesAgainstASimulatedFleetAndARealSearch) {
  const std::string dir = temp_dir("console-fleet");
  Process sim({EDGENAS_SIM_BIN, "run", "--agents", "40", "--real-search", "1", "--duration", "240s",
               "--out", dir + "/run", "--coordinator", EDGENAS_COORDINATOR_BIN},
              dir + "/sim.log");
  // "coordinator up on tcp://... (admin tcp://..., keys in DIR, console http://.../, ...)"
  std::smatch m;
  const std::regex up(R"(admin (tcp://[0-9.:]+), keys in ([^,]+), console (http://[0-9.:]+/))");
  std::string log;
  ASSERT_TRUE(wait_for(
      [&] {
        log = sim.log();
        return std::regex_search(log, m, up);
      },
      60'000))
      << log;
  const std::vector<std::string> ctl{EDGENAS_CTL_BIN,
                                     "--admin",
                                     m[1],
                                     "--key",
                                     m[2].str() + "/admin.key",
                                     "--server-key",
                                     m[2].str() + "/coordinator.pub"};
  const std::string url = m[3];
  EXPECT_EQ(run_browser("fleet", url, mint(ctl), ctl, 200), 0) << sim.log();
  sim.stop(SIGKILL);
  // Its workers, coordinator and real agent die with it (sim_fleet_test checks that).
  EXPECT_TRUE(wait_for([&] { return processes_naming(dir + "/run").empty(); }, 10'000));
}

TEST(ConsoleBrowser, AcceptingAPendingKeyInThePageLetsTheAgentIn) {
  const std::string dir = temp_dir("console-keys");
  const int http_port = free_port();
  Coordinator coord;
  coord.dir = dir;
  coord.auto_accept = false;
  coord.extra = {"--metrics", "127.0.0.1:" + std::to_string(http_port)};
  coord.start();
  Agent a;
  a.id = "box-1";
  a.dir = dir + "/box-1";
  a.start(coord);
  const std::string pub = a.public_key();
  ASSERT_FALSE(pub.empty());
  ::setenv("EDGENAS_PENDING_KEY", pub.c_str(), 1);
  ::setenv("EDGENAS_PENDING_AGENT", "box-1", 1);
  const auto ctl = coord.ctl({});
  EXPECT_EQ(run_browser("keys", "http://127.0.0.1:" + std::to_string(http_port) + "/", mint(ctl),
                        ctl, 90),
            0)
      << coord.proc.log();
}

}  // namespace
}  // namespace edgenas::it
