// The edge boxes are arm64: an x86-64 coordinator and the arm64 build's edgenas-agent, run under
// qemu-aarch64, over loopback with CURVE. The agent's key is enrolled by an admin, it registers
// (as aarch64), asks for hyperparameters, and runs a tiny real arm64 edgenas-search whose trace
// lands in the coordinator's store. Needs the arm64 build (`make build-arm64`; `make test` makes
// it); skipped with the reason when it is missing.
#include <sys/stat.h>

#include <fstream>

#include "harness.hpp"

namespace edgenas::it {
namespace {
using nlohmann::json;

const std::string kBuild = EDGENAS_ARM64_BUILD_DIR;
const std::string kSysroot = EDGENAS_ARM64_SYSROOT;
const std::string kQemu = "/usr/bin/qemu-aarch64";  // Debian's qemu-user

class Arm64Test : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& f :
         {agent_bin(), search_bin(), kSysroot + "/lib/ld-linux-aarch64.so.1", kQemu})
      if (!std::filesystem::exists(f))
        GTEST_SKIP() << f << " is missing: make build-arm64 makes it (with install-deps --arm64)";
    dir_ = temp_dir("arm64");
  }
  static std::string agent_bin() { return kBuild + "/agent/io/edgenas-agent"; }
  static std::string search_bin() { return kBuild + "/agent/search/edgenas-search"; }
  // The agent starts its worker by path; on this x86-64 machine the path is a script that runs
  // the arm64 edgenas-search under qemu (on a box, the binary itself).
  std::string search_launcher() const {
    std::string path = dir_ + "/edgenas-search-arm64";
    std::ofstream(path) << "#!/bin/sh\nexec " << kQemu << " -cpu cortex-a72 -L '" << kSysroot
                        << "' '" << search_bin() << "' \"$@\"\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }
  json admin(const std::string& op, json args = json::object()) {
    auto r = coord_.client(5000).call(op, args);
    EXPECT_TRUE(r.ok()) << op << ": " << (r ? "" : r.error().message);
    return r ? *r : json();
  }
  std::string dir_;
  Coordinator coord_;
};

TEST_F(Arm64Test, AnArm64AgentEnrolsRegistersAndDeliversARealSearchTrace) {
  // A few hundred generated meter digits (by the x86-64 generator; the data set is a folder).
  auto [g, go] = run({EDGENAS_METER_GEN_BIN, "-o", dir_ + "/data", "-n", "50", "--seed", "5"});
  ASSERT_EQ(g, 0) << go;
  coord_.dir = dir_;
  coord_.auto_accept = false;
  coord_.start();

  Agent a;
  a.id = "pi4-arm64";
  a.dir = dir_ + "/agent";
  a.command = {kQemu, "-cpu", "cortex-a72", "-L", kSysroot, agent_bin()};
  a.start_timeout_ms = 60'000;
  a.config = dir_ + "/agent.toml";
  std::ofstream(a.config) << "[search]\nbinary = \"" << search_launcher() << "\"\n"
                          << "data = \"folder:" << dir_ << "/data/digits\"\n"
                          << "budget = \"4m\"\nstop_grace = \"30s\"\nexport_onnx = true\n"
                          << "[[task]]\ntask_id = \"ocr\"\nlatency_req_ms = 500.0\n"
                          << "rows = [{ device = \"cpu\", runtime_ms = 1.0, energy_j = 0.01, "
                             "nodes = 1 }]\n";
  ASSERT_NO_FATAL_FAILURE(a.start(coord_));

  // Enrolment: the arm64 agent's key waits until an admin accepts it.
  auto pub = proto::load_public_key(a.dir + "/agent.pub");
  ASSERT_TRUE(pub.ok());
  // Listed once the emulated agent's first handshake has reached the coordinator.
  ASSERT_TRUE(wait_for([&] { return coord_.key_state(*pub) == "pending"; }, 60'000))
      << a.proc.log();
  auto [rc, out] = run(coord_.ctl({"keys", "accept", "--", pub->substr(0, 12)}));
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = coord_.client(2000).call("agents.show", {{"agent_id", a.id}});
        return r.ok() && (*r)["liveness"] == "alive";
      },
      60'000))
      << a.proc.log() << coord_.proc.log();
  const json shown = admin("agents.show", {{"agent_id", a.id}});
  EXPECT_EQ(shown["machine"], "aarch64") << shown.dump();

  // Hyperparameters for its Job and Source matrices over the link (a HparamRequest).
  proto::AdminClient local(a.local(), 30'000);
  auto hp = local.call("hparams.request", {{"timeout_ms", 20'000}});
  ASSERT_TRUE(hp.ok()) << hp.error().message << a.proc.log();
  EXPECT_GE((*hp)["hparams"]["layers"].get<int>(), 1);
  // Then a real arm64 search of two trials, exporting its model as ONNX. Emulation runs ~35x
  // slower than a Cortex-A55, the speed the coordinator's rule assumes: a space it picks for a
  // T the emulated box could meet would not train in minutes here. So the search gets a small
  // space pinned (`search start --hparams`; the trace's policy says "manual").
  const json tiny{
      {"layers", 2}, {"filters", 8}, {"kernel", 3}, {"loss", "cross_entropy"}, {"seed", 3}};
  auto started = local.call("search.start", {{"trials", 2}, {"budget", "3m"}, {"hparams", tiny}});
  ASSERT_TRUE(started.ok()) << started.error().message;
  json traces;
  ASSERT_TRUE(wait_for(
      [&] {
        traces = admin("traces.export", {{"agent_id", a.id}})["traces"];
        return traces.size() == 1;
      },
      280'000))
      << a.proc.log();
  const json& t = traces[0];
  EXPECT_EQ(t["outcome"]["status"], "ok") << t.dump();
  EXPECT_EQ(t["outcome"]["trials"], 2);
  EXPECT_GT(t["outcome"]["accuracy"].get<double>(), 0.0);
  EXPECT_GT(t["outcome"]["latency_ms"].get<double>(), 0.0);
  EXPECT_EQ(t["context"]["dataset"]["samples"], 300);
  EXPECT_EQ(t["policy"], "manual");
  EXPECT_EQ(t["hparams"]["filters"], 8);
  EXPECT_TRUE(a.proc.running());
}

}  // namespace
}  // namespace edgenas::it
