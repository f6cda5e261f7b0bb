#pragma once
// Device profiles (TOML, simulations/profiles/): the numbers a simulated box reports, and how
// fast each of its devices runs a small CNN (for the latency model of devices that are not on
// the machine running the search; common/search/latency_model.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "common/util/expected.hpp"

namespace edgenas {

struct DeviceProfile {
  struct Roofline {
    double fixed_ms = 0;      // per inference
    double per_layer_ms = 0;  // per live layer
    double gflops = 0;        // sustained arithmetic rate, 1e9 FLOP/s
    double gbs = 0;           // sustained memory bandwidth, 1e9 bytes/s
    bool given() const { return gflops > 0 && gbs > 0; }
  };
  struct Device {
    std::string device;  // "cpu", "npu0", "gpu0", ...
    // The device's model as the fleet names it (the probes' model name, "ARM Cortex-A72"): the
    // kind of the fleet's latency models that predicts its latency. Empty: none does.
    std::string kind;
    int cores = 0;  // compute nodes
    int64_t memory_mb = 0;
    double base_load = 0;   // mean utilisation from the box's own work, 0..1
    double load_swing = 0;  // amplitude of the periodic swing, 0..1
    // Batch-1 small-CNN throughput relative to one core of the calibration machine, and the
    // fixed cost of one inference call (dispatch, transfers). 0 = not modelled.
    double speed = 0;
    double overhead_ms = 0;
    // The latency a simulated box measures on this device, when the profile gives one
    // (simulations/fleet/roofline.hpp): not the FLOPs line above. gflops = 0: none given.
    Roofline roofline;
  };
  std::string name;
  std::string description;
  std::vector<std::string> sources;  // where the numbers come from
  std::vector<Device> devices;       // devices[0] is the CPU
  double idle_w = 0, max_w = 0;
  int64_t swing_period_ms = 86'400'000;
  double noise = 0.03;  // standard deviation of utilisation noise per sample

  const Device* find(std::string_view device) const;  // null when the box has no such device
};

// Strict: unknown keys, missing sections, out-of-range numbers are errors naming the key.
Expected<DeviceProfile> load_profile(const std::string& path);
Expected<DeviceProfile> parse_profile(const std::string& toml_text, const std::string& origin);

}  // namespace edgenas
