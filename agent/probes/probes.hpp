#pragma once
// Probes that fill the Source matrix. Real ones read Linux (/proc, cgroups, RAPL powercap)
// and the Ascend npu-smi tool; the simulated plugin is driven by a device profile and says
// so in every output ("simulated:<profile>"). File roots are injectable for tests.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/model/model.hpp"
#include "common/util/clock.hpp"
#include "common/util/rapl.hpp"

namespace edgenas::agent {

struct ProbePaths {
  std::string proc = "/proc";
  std::string sys = "/sys";
};

// CPU: cores usable by this process (online cores, capped by the cgroup CPU quota, v2
// cpu.max or v1 cfs quota) and how many of them are free, from /proc/stat deltas.
class CpuProbe {
 public:
  explicit CpuProbe(ProbePaths paths = {}) : paths_(std::move(paths)) {}
  int online_cores() const;
  // The processor's model as /proc/cpuinfo names it: x86 "model name", on ARM the cores'
  // part numbers by name ("ARM Cortex-A55", big.LITTLE joined by " + "); "unknown CPU" else.
  // The device kind the fleet's latency models are learned per.
  std::string model_name() const;
  // Cores allowed by the cgroup quota, or nullopt when unlimited.
  std::optional<double> quota_cores() const;
  double usable_cores() const;
  // Busy fraction of the whole machine since the previous call (first call: since boot).
  Expected<double> sample_busy();
  // usable − busy cores, rounded, never negative.
  int free_nodes(double busy) const;

 private:
  ProbePaths paths_;
  uint64_t last_total_ = 0, last_idle_ = 0;
};

// Memory: MemAvailable from /proc/meminfo, capped by the cgroup limit minus its usage.
class MemoryProbe {
 public:
  explicit MemoryProbe(ProbePaths paths = {}) : paths_(std::move(paths)) {}
  Expected<int64_t> total_mb() const;
  Expected<int64_t> free_mb() const;

 private:
  std::optional<std::pair<int64_t, int64_t>> cgroup_limit_and_usage() const;  // bytes
  ProbePaths paths_;
};

// Average power over the window between samples.
class PowerMeter {
 public:
  virtual ~PowerMeter() = default;
  virtual double sample_w(double cpu_busy) = 0;
  virtual bool modelled() const = 0;
  virtual std::string source() const = 0;  // "rapl" or "model"
};

// Average power from the RAPL package energy counters (common/util/rapl.hpp).
class RaplMeter final : public PowerMeter {
 public:
  // Null when no readable package counter exists.
  static std::unique_ptr<RaplMeter> open(const Clock& clock, ProbePaths paths = {});
  double sample_w(double cpu_busy) override;
  bool modelled() const override { return false; }
  std::string source() const override { return "rapl"; }

 private:
  RaplMeter(const Clock& clock, std::unique_ptr<RaplCounter> counter)
      : clock_(clock), counter_(std::move(counter)), last_ms_(clock.now_ms()) {}
  const Clock& clock_;
  std::unique_ptr<RaplCounter> counter_;
  int64_t last_ms_;
  double last_w_ = 0;
};

// P = idle_w + (max_w − idle_w) · busy: a linear utilisation model, reported as modelled.
class PowerModel final : public PowerMeter {
 public:
  PowerModel(double idle_w, double max_w) : idle_w_(idle_w), max_w_(max_w) {}
  double sample_w(double cpu_busy) override { return idle_w_ + (max_w_ - idle_w_) * cpu_busy; }
  bool modelled() const override { return true; }
  std::string source() const override { return "model"; }

 private:
  double idle_w_, max_w_;
};

// Accelerators (NPU, GPU) come from plugins.
class DevicePlugin {
 public:
  virtual ~DevicePlugin() = default;
  virtual std::string name() const = 0;
  virtual std::vector<DeviceInfo> devices() = 0;
  virtual Expected<std::vector<DeviceSource>> sample() = 0;
};

// Ascend NPUs through `npu-smi info`: one device npuN per chip; free cores from the AI Core
// utilisation, free memory from HBM (or DDR) usage; an unhealthy chip has no free cores.
class NpuSmiPlugin final : public DevicePlugin {
 public:
  using Runner = std::function<Expected<std::string>()>;
  // cores_per_chip: DaVinci AI cores per chip (2 on the Ascend 310 of the Atlas 200 DK).
  NpuSmiPlugin(Runner runner, int cores_per_chip)
      : run_(std::move(runner)), cores_(cores_per_chip) {}
  static Runner command_runner(std::string command);
  std::string name() const override { return "npu-smi"; }
  std::vector<DeviceInfo> devices() override;
  Expected<std::vector<DeviceSource>> sample() override;

  struct Chip {
    int npu_id = 0;
    std::string name;
    bool healthy = false;
    double aicore_pct = 0;
    int64_t memory_used_mb = 0, memory_total_mb = 0;
  };
  // Parses the table `npu-smi info` prints (310 and 910-style layouts).
  static Expected<std::vector<Chip>> parse(const std::string& text);

 private:
  Runner run_;
  int cores_;
  std::vector<DeviceInfo> devices_;
};

}  // namespace edgenas::agent
