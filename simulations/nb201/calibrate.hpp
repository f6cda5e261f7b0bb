#pragma once
// `edgenas-sim calibrate`: the device profiles' latency model (overhead + FLOPs / (speed ×
// the calibration core's throughput), common/search/latency_model.hpp) against latencies
// measured on real devices, over every cell of a NAS-Bench-201 table (docs/BENCHMARKS.md, "The
// latency model against measured devices").
//
// Per pair (a profile's device, a table column): Spearman's ρ between modelled and measured
// latency, the median absolute error in % of the measured, and for T at the measured 10 %..90 %
// quantiles the share of the cells the model puts within T that truly meet T (and the share of
// those truly within T that the model keeps). Then the speed and overhead a least-squares fit
// to the measurements gives, beside the profile's.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/search/latency_model.hpp"
#include "common/util/expected.hpp"
#include "simulations/nb201/table.hpp"

namespace edgenas::sim {

struct CalibrationPair {
  std::string profile, device = "cpu", column;
};
// "rpi4:cpu=help_raspi4" or "rpi4=help_raspi4" (device cpu).
Expected<CalibrationPair> parse_calibration_pair(const std::string& text);

// The Raspberry Pi 4 against its measurements; the Atlas 200 DK's and the Jetson Nano's CPU
// against the phone CPUs of the table (Cortex-A class).
std::vector<CalibrationPair> default_calibration_pairs();

struct CalibrateOptions {
  std::string table_path, profiles_dir, surrogate_table, out_dir;
  std::vector<CalibrationPair> pairs = default_calibration_pairs();
};

// One pair's comparison (the profile's speed/overhead given; ref: the calibration core).
nlohmann::json compare_latency_model(const Nb201Table& t, int column,
                                     const search::DeviceSpeed& device,
                                     const search::CpuCalibration& ref);

Expected<nlohmann::json> calibrate_profiles(const CalibrateOptions& o);

}  // namespace edgenas::sim
