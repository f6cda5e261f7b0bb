#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/probes/probes.hpp"
#include "agent/probes/sampler.hpp"
#include "common/model/profile.hpp"

namespace edgenas::agent {
namespace {
namespace fs = std::filesystem;

// A fake /proc and /sys tree.
class FakeRoot {
 public:
  FakeRoot() {
    root_ = fs::path(::testing::TempDir()) /
            ("probe-root-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    fs::remove_all(root_);
    fs::create_directories(root_ / "proc/self");
    fs::create_directories(root_ / "sys");
  }
  ~FakeRoot() { fs::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  ProbePaths paths() const { return {(root_ / "proc").string(), (root_ / "sys").string()}; }

 private:
  fs::path root_;
  static inline int n_ = 0;
};

TEST(CpuProbe, BusyFractionFromProcStatDeltas) {
  FakeRoot r;
  r.write("proc/stat",
          "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 0 0 0\ncpu1 1 0 0 0\ncpu2 1\ncpu3 1\nintr 5\n");
  r.write("proc/self/cgroup", "0::/\n");
  CpuProbe p(r.paths());
  EXPECT_EQ(p.online_cores(), 4);
  ASSERT_TRUE(p.sample_busy().ok());
  // +300 busy, +100 idle → 75 % busy of 4 cores → 1 free
  r.write("proc/stat", "cpu  250 0 250 900 0 0 0 0 0 0\ncpu0 1\ncpu1 1\ncpu2 1\ncpu3 1\n");
  auto busy = p.sample_busy();
  ASSERT_TRUE(busy.ok());
  EXPECT_DOUBLE_EQ(*busy, 0.75);
  EXPECT_EQ(p.free_nodes(*busy), 1);
}

TEST(CpuProbe, TheModelNameNamesTheDeviceKind) {
  FakeRoot r;
  EXPECT_EQ(CpuProbe(r.paths()).model_name(), "unknown CPU");  // no /proc/cpuinfo
  r.write("proc/cpuinfo",
          "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ "
          "2.20GHz\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ "
          "2.20GHz\n");
  EXPECT_EQ(CpuProbe(r.paths()).model_name(), "Intel(R) Xeon(R) CPU @ 2.20GHz");
  // An Atlas 200 DK's cores (ARM64 kernels name no model; the part number does).
  r.write("proc/cpuinfo",
          "processor\t: 0\nBogoMIPS\t: 38.40\nCPU implementer\t: 0x41\nCPU part\t: 0xd05\n\n"
          "processor\t: 1\nCPU implementer\t: 0x41\nCPU part\t: 0xd05\n");
  EXPECT_EQ(CpuProbe(r.paths()).model_name(), "ARM Cortex-A55");
  // big.LITTLE, and a part this table does not know, and another implementer.
  r.write("proc/cpuinfo",
          "CPU implementer\t: 0x41\nCPU part\t: 0xd03\nCPU implementer\t: 0x41\nCPU part\t: "
          "0xd08\nCPU implementer\t: 0x41\nCPU part\t: 0xfff\nCPU implementer\t: 0x51\nCPU "
          "part\t: 0x802\n");
  EXPECT_EQ(CpuProbe(r.paths()).model_name(),
            "ARM Cortex-A53 + ARM Cortex-A72 + ARM part 0xfff + implementer 0x51 part 0x802");
  r.write("proc/cpuinfo", "model name\t: \x01\xff\n");  // nothing printable
  EXPECT_EQ(CpuProbe(r.paths()).model_name(), "unknown CPU");
}

TEST(CpuProbe, CgroupV2QuotaCapsTheCores) {
  FakeRoot r;
  r.write("proc/stat", "cpu  0 0 0 100 0 0 0 0\ncpu0 0\ncpu1 0\ncpu2 0\ncpu3 0\n");
  r.write("proc/self/cgroup", "0::/edge.slice/agent\n");
  r.write("sys/fs/cgroup/edge.slice/agent/cpu.max", "150000 100000\n");
  CpuProbe p(r.paths());
  ASSERT_TRUE(p.quota_cores().has_value());
  EXPECT_DOUBLE_EQ(*p.quota_cores(), 1.5);
  EXPECT_DOUBLE_EQ(p.usable_cores(), 1.5);
  r.write("sys/fs/cgroup/edge.slice/agent/cpu.max", "max 100000\n");
  EXPECT_FALSE(p.quota_cores().has_value());
}

TEST(CpuProbe, CgroupV1QuotaIsReadToo) {
  FakeRoot r;
  r.write("proc/stat", "cpu  0 0 0 100\ncpu0 0\ncpu1 0\n");
  r.write("proc/self/cgroup", "4:cpu,cpuacct:/box\n0::/\n");
  r.write("sys/fs/cgroup/cpu/box/cpu.cfs_quota_us", "50000\n");
  r.write("sys/fs/cgroup/cpu/box/cpu.cfs_period_us", "100000\n");
  EXPECT_DOUBLE_EQ(CpuProbe(r.paths()).usable_cores(), 0.5);
}

TEST(MemoryProbe, MemAvailableCappedByTheCgroup) {
  FakeRoot r;
  r.write("proc/meminfo",
          "MemTotal:       8000000 kB\nMemFree:  100 kB\nMemAvailable:   4096000 kB\n");
  r.write("proc/self/cgroup", "0::/\n");
  MemoryProbe m(r.paths());
  EXPECT_EQ(*m.free_mb(), 4000);
  EXPECT_EQ(*m.total_mb(), 7812);
  r.write("proc/self/cgroup", "0::/box\n");
  r.write("sys/fs/cgroup/box/memory.max", std::to_string(1024LL << 20) + "\n");
  r.write("sys/fs/cgroup/box/memory.current", std::to_string(256LL << 20) + "\n");
  EXPECT_EQ(*m.free_mb(), 768);
  EXPECT_EQ(*m.total_mb(), 1024);
  r.write("proc/meminfo", "MemTotal: 1 kB\n");
  EXPECT_FALSE(m.free_mb().ok());
}

TEST(Rapl, PowerFromEnergyCounterDeltasWithWrap) {
  FakeRoot r;
  r.write("sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
  r.write("sys/class/powercap/intel-rapl:0/max_energy_range_uj", "10000000\n");
  r.write("sys/class/powercap/intel-rapl:0:0/energy_uj", "5\n");  // a sub-zone: not counted
  ManualClock clock;
  auto m = RaplMeter::open(clock, r.paths());
  ASSERT_NE(m, nullptr);
  clock.advance(2000);
  r.write("sys/class/powercap/intel-rapl:0/energy_uj", "9000000\n");  // +8 J in 2 s
  EXPECT_DOUBLE_EQ(m->sample_w(0), 4.0);
  clock.advance(1000);
  r.write("sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");  // wrapped: +2 J in 1 s
  EXPECT_DOUBLE_EQ(m->sample_w(0), 2.0);
  EXPECT_FALSE(m->modelled());
}

TEST(Rapl, AbsentCountersFallBackToTheModel) {
  FakeRoot r;
  ManualClock clock;
  EXPECT_EQ(RaplMeter::open(clock, r.paths()), nullptr);
  PowerModel model(5, 25);
  EXPECT_DOUBLE_EQ(model.sample_w(0.5), 15);
  EXPECT_TRUE(model.modelled());
}

// Captured from an Ascend 310 card (npu-smi 21.x layout).
const char* kNpuSmi310 =
    R"(+------------------------------------------------------------------------------+
| npu-smi 21.0.3.1                     Version: 21.0.3.1                       |
+-------------------+-----------------+----------------------------------------+
| NPU     Name      | Health          | Power(W)          Temp(C)              |
| Chip    Device    | Bus-Id          | AICore(%)         Memory-Usage(MB)     |
+===================+=================+========================================+
| 1       310       | OK              | 12.8              49                   |
| 0       0         | 0000:01:00.0    | 50                2621 / 8192          |
+-------------------+-----------------+----------------------------------------+
| 2       310       | Alarm           | 12.8              49                   |
| 0       1         | 0000:02:00.0    | 0                 100 / 8192           |
+-------------------+-----------------+----------------------------------------+
)";

// 910B layout: HBM column, "NA" power, and a process table after the device table.
const char* kNpuSmi910 =
    R"(+------------------------------------------------------------------------------------------------+
| npu-smi 24.1.0.3                 Version: 24.1.0.3                                             |
+---------------------------+---------------+----------------------------------------------------+
| NPU   Name                | Health        | Power(W)    Temp(C)           Hugepages-Usage(page)|
| Chip                      | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |
+===========================+===============+====================================================+
| 0     910B1               | OK            | NA          50                0    / 0             |
| 0                         | 0000:C1:00.0  | 25          0    / 0          35879/ 65536         |
+===========================+===============+====================================================+
+---------------------------+---------------+----------------------------------------------------+
| NPU     Chip              | Process id    | Process name             | Process memory(MB)      |
+===========================+===============+====================================================+
| No running processes found in NPU 0                                                            |
+===========================+===============+====================================================+
)";

TEST(NpuSmi, Parses310Layout) {
  auto chips = NpuSmiPlugin::parse(kNpuSmi310);
  ASSERT_TRUE(chips.ok()) << chips.error().message;
  ASSERT_EQ(chips->size(), 2u);
  EXPECT_EQ((*chips)[0].npu_id, 1);
  EXPECT_EQ((*chips)[0].name, "310");
  EXPECT_TRUE((*chips)[0].healthy);
  EXPECT_DOUBLE_EQ((*chips)[0].aicore_pct, 50);
  EXPECT_EQ((*chips)[0].memory_used_mb, 2621);
  EXPECT_EQ((*chips)[0].memory_total_mb, 8192);
  EXPECT_FALSE((*chips)[1].healthy);
}

TEST(NpuSmi, Parses910LayoutWithHbm) {
  auto chips = NpuSmiPlugin::parse(kNpuSmi910);
  ASSERT_TRUE(chips.ok()) << chips.error().message;
  ASSERT_EQ(chips->size(), 1u);
  EXPECT_EQ((*chips)[0].memory_used_mb, 35879);
  EXPECT_EQ((*chips)[0].memory_total_mb, 65536);
  EXPECT_DOUBLE_EQ((*chips)[0].aicore_pct, 25);
}

TEST(NpuSmi, SourceRowsFromThePlugin) {
  NpuSmiPlugin plugin([] { return Expected<std::string>(std::string(kNpuSmi310)); }, 2);
  auto devices = plugin.devices();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].name, "npu1");
  EXPECT_EQ(devices[0].total_nodes, 2);
  auto rows = plugin.sample();
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].free_nodes, 1);  // 50 % AI Core busy of 2 cores
  EXPECT_FALSE((*rows)[0].unhealthy);
  EXPECT_EQ((*rows)[0].free_memory_mb, 8192 - 2621);
  EXPECT_EQ((*rows)[1].free_nodes, 0);  // unhealthy chip
  EXPECT_TRUE((*rows)[1].unhealthy);
}

TEST(NpuSmi, GarbageIsAnError) {
  EXPECT_FALSE(NpuSmiPlugin::parse("").ok());
  EXPECT_FALSE(NpuSmiPlugin::parse("npu-smi: command not found\n").ok());
  EXPECT_FALSE(NpuSmiPlugin::parse("| NPU Name | Health |\n| x | y |\n| z | w |\n").ok());
  // Found by fuzz_npu_smi: an NPU id too large for int threw out of the parser.
  EXPECT_FALSE(
      NpuSmiPlugin::parse("| NPU Name | Health | P |\n| 99999999999999999999 310 | OK | 1 |\n"
                          "| 0 0 | bus | 0 1 / 2 |\n")
          .ok());
  NpuSmiPlugin failing([] { return Expected<std::string>(Error{"probe", "no such tool"}); }, 2);
  EXPECT_TRUE(failing.devices().empty());
  EXPECT_FALSE(failing.sample().ok());
}

TEST(Profiles, ShippedProfilesParse) {
  for (const char* name : {"atlas200dk", "jetson-nano", "rpi4", "rpi-zero2w", "x86-edge"}) {
    auto p =
        load_profile(std::string(EDGENAS_SOURCE_DIR) + "/simulations/profiles/" + name + ".toml");
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->name, name);
    EXPECT_EQ(p->devices[0].device, "cpu");
    EXPECT_FALSE(p->sources.empty());
  }
  // The ARM boards name their CPU as the probes would: the fleet latency model kind.
  auto pi = load_profile(std::string(EDGENAS_SOURCE_DIR) + "/simulations/profiles/rpi4.toml");
  ASSERT_TRUE(pi.ok());
  EXPECT_EQ(pi->devices[0].kind, "ARM Cortex-A72");
}

TEST(Profiles, BadProfilesAreRefusedWithTheKey) {
  auto expect_error = [](const std::string& text, const std::string& needle) {
    auto p = parse_profile(text, "p.toml");
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_NE(p.error().message.find(needle), std::string::npos) << p.error().message;
  };
  const std::string ok =
      "name = 'x'\n[cpu]\ncores = 4\nmemory_mb = 100\n[power]\nidle_w = 1\nmax_w = 2\n";
  ASSERT_TRUE(parse_profile(ok, "p.toml").ok());
  expect_error(ok + "colour = 'red'\n", "colour");
  expect_error("name = 'x'\n[power]\nidle_w = 1\nmax_w = 2\n", "[cpu]");
  expect_error("name = 'x'\n[cpu]\ncores = -4\nmemory_mb = 100\n[power]\nidle_w = 1\nmax_w = 2\n",
               "cores");
  expect_error(ok + "[[accelerator]]\ndevice = 'tpu0'\ncores = 1\nmemory_mb = 1\n", "device");
  expect_error("name = 'x'\n[cpu]\ncores = 4\nmemory_mb = 100\n[power]\nidle_w = 5\nmax_w = 2\n",
               "max_w");
  expect_error("name = 'x'\n[cpu\n", "p.toml:2");
  expect_error(
      "name = 'x'\n[cpu]\nkind = \"\\u0007\"\ncores = 4\nmemory_mb = 100\n[power]\n"
      "idle_w = 1\nmax_w = 2\n",
      "kind");
}

DeviceProfile npu_box() {
  auto p = parse_profile(
      "name = 'box'\n[cpu]\ncores = 8\nmemory_mb = 8192\nbase_load = 0.1\n"
      "[[accelerator]]\ndevice = 'npu0'\ncores = 2\nmemory_mb = 4096\n"
      "[power]\nidle_w = 5\nmax_w = 20\n[load]\nnoise = 0\n",
      "p.toml");
  EXPECT_TRUE(p.ok()) << p.error().message;
  return *p;
}

JobTask task_on_both(const std::string& id, double t_ms, double cpu_ms, double npu_ms) {
  return {id, t_ms, {{"cpu", cpu_ms, 1, 6}, {"npu0", npu_ms, 1, 1}}};
}

TEST(SimulatedSampler, LoadFollowsTheQueueAndStaysInBounds) {
  ManualClock clock;
  SimulatedSampler s(clock, npu_box(), 7);
  EXPECT_EQ(s.devices()[1].probe, "simulated:box");
  auto idle = s.sample(JobMatrix{});
  JobMatrix busy;
  busy.tasks = {task_on_both("a", 10, 4, 1), task_on_both("b", 20, 4, 1)};
  auto loaded = s.sample(busy);
  ASSERT_TRUE(idle.ok() && loaded.ok());
  EXPECT_EQ(idle->devices[1].free_nodes, 2);
  EXPECT_EQ(loaded->devices[1].free_nodes, 0);
  // Both tasks run on the faster NPU; the CPU is not charged for them as well.
  EXPECT_EQ(idle->devices[0].free_nodes, loaded->devices[0].free_nodes);
  EXPECT_GT(loaded->power_w, idle->power_w);
  EXPECT_LE(loaded->power_w, 20.0);
  EXPECT_TRUE(loaded->power_modelled);
}

TEST(SimulatedSampler, EachQueuedTaskRunsOnOneDeviceTightestFirst) {
  JobMatrix q;
  q.tasks = {task_on_both("loose", 100, 4, 1), task_on_both("tight", 5, 4, 1),
             task_on_both("mid", 50, 4, 1)};
  auto charged = place_queued_tasks(q, npu_box());
  EXPECT_EQ(charged["npu0"], 2);  // the NPU's two nodes go to the two tightest tasks
  EXPECT_EQ(charged["cpu"], 6);   // the loosest falls back to the CPU
  q.tasks.push_back(task_on_both("more", 200, 4, 1));
  q.tasks.push_back({"cpu-only", 300, {{"cpu", 4, 1, 6}, {"gpu9", 1, 1, 1}}});
  charged = place_queued_tasks(q, npu_box());
  // No room anywhere: a task runs on its fastest device; rows for devices the box lacks are
  // ignored.
  EXPECT_EQ(charged["npu0"], 3);
  EXPECT_EQ(charged["cpu"], 12);
  EXPECT_EQ(charged.count("gpu9"), 0u);
}

}  // namespace
}  // namespace edgenas::agent
