#pragma once
// Batch-1 latency of a candidate network on a device that is not on this machine (an NPU, a
// GPU, another board's CPU), modelled from its FLOPs. Every number it produces is marked
// modelled wherever it appears.
//
//   latency_dev(net) = overhead_dev + FLOPs(net) / (speed_dev · throughput_ref)
//
// throughput_ref is this machine's measured batch-1 throughput on one core, fitted from the
// measured latencies of a few networks of the space (ms = overhead_ref + FLOPs / throughput_ref,
// least squares): the calibration. speed_dev and overhead_dev come from the device profile
// (simulations/profiles/*.toml, with the reasoning behind each number). No libtorch here.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/model/model.hpp"
#include "common/util/expected.hpp"

namespace edgenas::search {

struct CpuCalibration {
  double overhead_ms = 0;   // fixed cost per inference on this machine
  double flops_per_ms = 0;  // throughput of one core on small CNNs
  int points = 0;           // networks measured
};

// Least-squares line through (FLOPs, measured ms) points; needs two distinct FLOP counts.
// A negative intercept (noise) is clamped to 0 and the slope refitted through the origin.
Expected<CpuCalibration> fit_calibration(const std::vector<std::pair<double, double>>& flops_ms);

struct DeviceSpeed {
  std::string device;      // "npu0", "gpu0", "cpu" of another board, ...
  double speed = 0;        // throughput relative to one core of this machine
  double overhead_ms = 0;  // fixed cost per inference call on that device
};

double modelled_latency_ms(int64_t flops, const DeviceSpeed& device, const CpuCalibration& ref);

// The device a search targets when told "auto". `usable` lists the devices a latency can be had
// for (the CPU, and accelerators with a latency model). Of the rows of the queue's tightest-T
// task, the usable device in the Source matrix and not unhealthy with the lowest estimated
// runtime wins (busy or not: the task holds its own nodes); with an empty queue, the first
// usable healthy accelerator with free nodes; else the CPU.
std::string choose_target_device(const Context& context, const std::vector<std::string>& usable);

}  // namespace edgenas::search
