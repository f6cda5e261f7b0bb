#include "simulations/nb201/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "common/model/profile.hpp"
#include "common/util/errors.hpp"
#include "common/util/rank_stats.hpp"
#include "simulations/fleet/numbers.hpp"
#include "simulations/nb201/latency_eval.hpp"
#include "simulations/surrogate/surrogate.hpp"

namespace edgenas::sim {
namespace {

// FLOPs as the latency model counts them (2 per multiply-accumulate; NAS-Bench-201 counts MACs).
int64_t model_flops(const search::Nb201Cell& c) {
  return static_cast<int64_t>(2e6 * search::nb201_cost(c).flops_m);
}

}  // namespace

Expected<CalibrationPair> parse_calibration_pair(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    return Error{errc::kUsage, "'" + text + "': expected PROFILE[:DEVICE]=COLUMN"};
  CalibrationPair p;
  p.column = text.substr(eq + 1);
  p.profile = text.substr(0, eq);
  if (const auto colon = p.profile.find(':'); colon != std::string::npos) {
    p.device = p.profile.substr(colon + 1);
    p.profile.resize(colon);
  }
  return p;
}

std::vector<CalibrationPair> default_calibration_pairs() {
  std::vector<CalibrationPair> pairs{{"rpi4", "cpu", "help_raspi4"}};
  for (const char* profile : {"atlas200dk", "jetson-nano"})
    for (const char* phone : {"help_pixel2", "help_pixel3", "help_samsung_a50", "help_samsung_s7",
                              "help_essential_ph_1"})
      pairs.push_back({profile, "cpu", phone});
  return pairs;
}

nlohmann::json compare_latency_model(const Nb201Table& t, int column,
                                     const search::DeviceSpeed& device,
                                     const search::CpuCalibration& ref) {
  const auto& measured = t.latency_ms[static_cast<std::size_t>(column)];
  std::vector<double> modelled;
  std::vector<double> abs_pct;
  std::vector<std::pair<double, double>> points;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    const int64_t flops = model_flops(t.cells[r]);
    modelled.push_back(search::modelled_latency_ms(flops, device, ref));
    if (measured[r] > 0)
      abs_pct.push_back(100 * std::abs(modelled.back() - measured[r]) / measured[r]);
    points.emplace_back(static_cast<double>(flops), measured[r]);
  }
  const auto [precision, recall] = within_t_shares(modelled, measured);
  nlohmann::json j{{"spearman", spearman(modelled, measured)},
                   {"median_abs_error_pct", median(abs_pct)},
                   {"within_t_truly_within", precision},
                   {"truly_within_t_kept", recall},
                   {"speed", device.speed},
                   {"overhead_ms", device.overhead_ms},
                   {"median_ratio_modelled_to_measured", [&] {
                      std::vector<double> ratio;
                      for (std::size_t r = 0; r < t.rows(); ++r)
                        if (measured[r] > 0) ratio.push_back(modelled[r] / measured[r]);
                      return median(ratio);
                    }()}};
  if (auto fit = search::fit_calibration(points)) {
    const search::DeviceSpeed fitted{device.device, fit->flops_per_ms / ref.flops_per_ms,
                                     fit->overhead_ms};
    std::vector<double> refit;
    for (std::size_t r = 0; r < t.rows(); ++r)
      refit.push_back(search::modelled_latency_ms(model_flops(t.cells[r]), fitted, ref));
    std::vector<double> refit_pct;
    for (std::size_t r = 0; r < t.rows(); ++r)
      if (measured[r] > 0)
        refit_pct.push_back(100 * std::abs(refit[r] - measured[r]) / measured[r]);
    const auto [p2, r2] = within_t_shares(refit, measured);
    j["fitted"] = {{"speed", fitted.speed},
                   {"overhead_ms", fitted.overhead_ms},
                   {"median_abs_error_pct", median(refit_pct)},
                   {"within_t_truly_within", p2},
                   {"truly_within_t_kept", r2}};
  }
  return j;
}

Expected<nlohmann::json> calibrate_profiles(const CalibrateOptions& o) {
  auto t = load_nb201_table(o.table_path);
  if (!t) return t.error();
  auto rows = load_table(o.surrogate_table);
  if (!rows) return rows.error();
  auto surrogate = Surrogate::fit(*rows);
  if (!surrogate) return surrogate.error();
  const auto& ref = surrogate->calibration();
  nlohmann::json out{{"table", o.table_path},
                     {"reference_flops_per_ms", ref.flops_per_ms},
                     {"reference_overhead_ms", ref.overhead_ms},
                     {"pairs", nlohmann::json::array()}};
  for (const auto& p : o.pairs) {
    auto prof = load_profile(o.profiles_dir + "/" + p.profile + ".toml");
    if (!prof) return prof.error();
    const auto* dev = prof->find(p.device);
    if (!dev || dev->speed <= 0)
      return Error{errc::kUsage, p.profile + " has no device '" + p.device + "' with a speed"};
    const auto column = t->device(p.column);
    if (!column)
      return Error{errc::kUsage, "no device column '" + p.column + "' in " + o.table_path};
    auto j = compare_latency_model(*t, *column, {p.device, dev->speed, dev->overhead_ms}, ref);
    j["profile"] = p.profile;
    j["device"] = p.device;
    j["column"] = p.column;
    out["pairs"].push_back(std::move(j));
  }
  return out;
}

}  // namespace edgenas::sim
