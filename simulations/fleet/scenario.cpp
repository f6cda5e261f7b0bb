#include "simulations/fleet/scenario.hpp"

#include <fstream>
#include <sstream>

#include "common/util/config.hpp"
#include "common/util/errors.hpp"

namespace edgenas::sim {
namespace {

Status read_range(const toml::table& t, std::string_view key, const std::string& where, double lo,
                  double hi, Range& out) {
  const auto* node = t.get(key);
  if (!node) return ok_status();
  const auto* r = node->as_table();
  const std::string w = where + "." + std::string(key);
  if (!r) return Error{errc::kBadScenario, w + " must be { min = …, max = … }"};
  if (auto s = config::check_keys(*r, {"min", "max"}, w); !s) return s;
  std::optional<double> mn, mx;
  EDGENAS_CONFIG_READ(config::get_double(*r, "min", w, lo, hi), mn);
  EDGENAS_CONFIG_READ(config::get_double(*r, "max", w, lo, hi), mx);
  if (!mn || !mx || *mn > *mx || *mn <= 0)
    return Error{errc::kBadScenario, w + " needs 0 < min <= max"};
  out = {*mn, *mx};
  return ok_status();
}

}  // namespace

Expected<Scenario> parse_scenario(const std::string& text, const std::string& origin) {
  toml::table t;
  try {
    t = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Error{errc::kBadScenario, origin + ":" + std::to_string(e.source().begin.line) + ": " +
                                         std::string(e.description())};
  }
  Scenario s;
  if (auto st = config::check_keys(t, {"name", "description", "tasks", "search", "fleet"}, origin);
      !st)
    return st.error();
  std::optional<std::string> name;
  EDGENAS_CONFIG_READ(config::get_string(t, "name", origin), name);
  if (!name || name->empty()) return Error{errc::kBadScenario, origin + ": 'name' is required"};
  s.name = *name;
  EDGENAS_CONFIG_READ(config::get_string(t, "description", origin), s.description);
  if (const auto* k = t.get_as<toml::table>("tasks")) {
    const std::string w = origin + ": [tasks]";
    if (auto st = config::check_keys(
            *k,
            {"arrivals_per_hour", "mean_lifetime", "max_queued", "latency_req_ms", "runtime_ms",
             "energy_j", "nodes", "accel_speedup"},
            w);
        !st)
      return st.error();
    EDGENAS_CONFIG_READ(config::get_double(*k, "arrivals_per_hour", w, 0, 1e5),
                        s.arrivals_per_hour);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*k, "mean_lifetime", w), s.mean_lifetime_ms);
    std::optional<int64_t> q;
    EDGENAS_CONFIG_READ(config::get_int(*k, "max_queued", w, 0, 1024), q);
    if (q) s.max_queued = static_cast<int>(*q);
    EDGENAS_CONFIG_READ(config::get_double(*k, "accel_speedup", w, 1, 1000), s.accel_speedup);
    for (auto [key, r, hi] :
         {std::tuple{"latency_req_ms", &s.latency_req_ms, 3.6e6},
          std::tuple{"runtime_ms", &s.runtime_ms, 6e8}, std::tuple{"energy_j", &s.energy_j, 1e9},
          std::tuple{"nodes", &s.nodes, 4096.0}}) {
      if (auto st = read_range(*k, key, w, 0, hi, *r); !st) return st.error();
    }
    if (s.mean_lifetime_ms <= 0) return Error{errc::kBadScenario, w + ".mean_lifetime must be > 0"};
  }
  if (const auto* k = t.get_as<toml::table>("search")) {
    const std::string w = origin + ": [search]";
    if (auto st = config::check_keys(*k, {"every", "budget"}, w); !st) return st.error();
    EDGENAS_CONFIG_READ(config::get_duration_ms(*k, "every", w), s.search_every_ms);
    EDGENAS_CONFIG_READ(config::get_duration_ms(*k, "budget", w), s.search_budget_ms);
    if (s.search_every_ms <= 0 || s.search_budget_ms <= 0)
      return Error{errc::kBadScenario, w + ": every and budget must be > 0"};
  }
  if (const auto* k = t.get_as<toml::table>("fleet")) {
    const std::string w = origin + ": [fleet]";
    if (auto st = config::check_keys(*k, {"join_per_hour", "leave_per_hour", "time_scale"}, w); !st)
      return st.error();
    EDGENAS_CONFIG_READ(config::get_double(*k, "join_per_hour", w, 0, 100), s.join_per_hour);
    EDGENAS_CONFIG_READ(config::get_double(*k, "leave_per_hour", w, 0, 100), s.leave_per_hour);
    EDGENAS_CONFIG_READ(config::get_double(*k, "time_scale", w, 0.01, 1e6), s.time_scale);
  }
  return s;
}

Expected<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{errc::kBadScenario, "cannot open scenario '" + path + "'"};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_scenario(ss.str(), path);
}

}  // namespace edgenas::sim
