// The io thread's cost of the web console's calls at fleet scale: a real CoordinatorCore with N
// registered agents (Register + Heartbeat through the core, a store on disk), then each call the
// fleet page makes, timed as the io thread runs it (AdminService through ConsoleApi, JSON text
// out). Prints median and p99 over the repetitions. Usage: edgenas-console-api-bench [N] [REPS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "common/protocol/codec.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/core/console_api.hpp"

using namespace edgenas;
using namespace edgenas::coordinator;

namespace {

void fill(CoordinatorCore& core, int n) {
  std::vector<Outgoing> out;
  for (int i = 0; i < n; ++i) {
    const std::string id = "box-" + std::to_string(i);
    proto::Header h;
    h.agent_id = id;
    h.ts_ms = 1;
    proto::Register r;
    r.hostname = "host-" + std::to_string(i % 97);
    r.machine = i % 3 ? "aarch64" : "x86_64";
    r.devices = {{"cpu", 4, 4096, "procfs"}};
    if (i % 2) r.devices.push_back({"npu0", 2, 8192, "npu-smi"});
    h.msg_id = 1;
    core.on_message("r" + id, proto::encode(h, r), out);
    proto::Heartbeat hb;
    hb.seq = 1;
    hb.source.devices = {{"cpu", i % 5, 100 * (i % 40)}};
    hb.source.power_w = 5;
    hb.source.window_ms = 5000;
    h.msg_id = 2;
    core.on_message("r" + id, proto::encode(h, hb), out);
    out.clear();
    if (i % 1000 == 999) (void)core.flush(out);
  }
  (void)core.flush(out);
}

void time_call(ConsoleApi& api, const http::Request& req, int reps) {
  std::vector<double> ms;
  std::size_t bytes = 0;
  for (int k = 0; k < reps; ++k) {
    std::vector<Outgoing> out;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = api.handle(req, out);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    bytes = r.body.size();
    if (r.status != 200)
      std::fprintf(stderr, "%s: %d %s\n", req.path.c_str(), r.status, r.body.c_str());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-22s %-40s median %7.3f ms  p99 %7.3f ms  %7zu bytes\n", req.path.c_str() + 8,
              req.query.c_str(), ms[ms.size() / 2],
              ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], bytes);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 50;
  const auto path = std::filesystem::temp_directory_path() / "edgenas-console-api-bench.db";
  std::filesystem::remove(path);
  SystemClock clock;
  ColdStartPolicy policy;
  auto store = TraceStore::open(path.string());
  if (!store) return std::fprintf(stderr, "%s\n", store.error().message.c_str()), 1;
  CoordinatorCore core(clock, **store, policy, CoreConfig{});
  if (!core.start()) return 1;
  fill(core, n);
  ConsoleAuth auth(clock, **store);
  AdminService admin(core, nullptr, nullptr, nullptr, &auth);
  ConsoleApi api(admin, auth);
  std::vector<Outgoing> out;
  const auto token = admin.handle({"console.token", {{"ttl_s", 3600}}}, out, {"bench", false});
  const auto in =
      std::get<ConsoleAuth::Login>(auth.login(token.result["token"].get<std::string>()));
  const std::string cookie = std::string(ConsoleApi::kCookie) + "=" + in.session_id;
  std::printf("%d agents registered (%zu in the registry), %d repetitions each\n", n,
              core.registry().all().size(), reps);
  for (const char* q : {"limit=50", "limit=50&sort=-last_seen", "limit=50&sort=hostname",
                        "offset=9950&limit=50&sort=-cpu_free_nodes", "limit=50&filter=npu0"})
    time_call(api, {"GET", "/api/v1/agents.page", q, cookie, "", ""}, reps);
  time_call(api, {"GET", "/api/v1/fleet.summary", "", cookie, "", ""}, reps);
  std::filesystem::remove(path);
  return 0;
}
