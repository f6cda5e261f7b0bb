#include "common/model/profile.hpp"

#include <fstream>
#include <sstream>

#include "common/model/model.hpp"
#include "common/util/config.hpp"
#include "common/util/errors.hpp"

namespace edgenas {
namespace {

Expected<DeviceProfile::Roofline> read_roofline(const toml::table& device,
                                                const std::string& where) {
  const auto* t = device.get_as<toml::table>("roofline");
  if (!t) return Error{errc::kBadProfile, where + " must be a table"};
  if (auto s = config::check_keys(*t, {"fixed_ms", "per_layer_us", "gflops", "gbs"}, where); !s)
    return s.error();
  DeviceProfile::Roofline r;
  double per_layer_us = 0;
  EDGENAS_CONFIG_READ(config::get_double(*t, "fixed_ms", where, 0, 1e4), r.fixed_ms);
  EDGENAS_CONFIG_READ(config::get_double(*t, "per_layer_us", where, 0, 1e6), per_layer_us);
  EDGENAS_CONFIG_READ(config::get_double(*t, "gflops", where, 0, 1e6), r.gflops);
  EDGENAS_CONFIG_READ(config::get_double(*t, "gbs", where, 0, 1e4), r.gbs);
  r.per_layer_ms = per_layer_us / 1000;
  if (!r.given()) return Error{errc::kBadProfile, where + ": gflops and gbs must be above 0"};
  return r;
}

Expected<DeviceProfile::Device> read_device(const toml::table& t, const std::string& where,
                                            bool cpu) {
  DeviceProfile::Device d;
  if (auto s = config::check_keys(t,
                                  {"device", "kind", "cores", "memory_mb", "base_load",
                                   "load_swing", "speed", "overhead_ms", "roofline"},
                                  where);
      !s) {
    return s.error();
  }
  d.device = "cpu";
  if (!cpu) {
    std::optional<std::string> name;
    EDGENAS_CONFIG_READ(config::get_string(t, "device", where), name);
    if (!name || !valid_device_name(*name) || *name == "cpu") {
      return Error{errc::kBadProfile, where + ".device must name an accelerator (npu0, gpu0, ...)"};
    }
    d.device = *name;
  }
  EDGENAS_CONFIG_READ(config::get_string(t, "kind", where), d.kind);
  if (!d.kind.empty() && !valid_label(d.kind))
    return Error{errc::kBadProfile,
                 where + ".kind must be printable ASCII of at most 128 bytes (a model name)"};
  std::optional<int64_t> cores, mem;
  EDGENAS_CONFIG_READ(config::get_int(t, "cores", where, 1, limits::kMaxNodesPerDevice), cores);
  EDGENAS_CONFIG_READ(config::get_int(t, "memory_mb", where, 0, limits::kMaxMemoryMb), mem);
  if (!cores) return Error{errc::kBadProfile, where + ".cores is required"};
  if (!mem) return Error{errc::kBadProfile, where + ".memory_mb is required"};
  d.cores = static_cast<int>(*cores);
  d.memory_mb = *mem;
  EDGENAS_CONFIG_READ(config::get_double(t, "base_load", where, 0, 1), d.base_load);
  EDGENAS_CONFIG_READ(config::get_double(t, "load_swing", where, 0, 1), d.load_swing);
  EDGENAS_CONFIG_READ(config::get_double(t, "speed", where, 0, 1e6), d.speed);
  EDGENAS_CONFIG_READ(config::get_double(t, "overhead_ms", where, 0, 1e4), d.overhead_ms);
  if (t.contains("roofline")) {
    auto r = read_roofline(t, where + ".roofline");
    if (!r) return r.error();
    d.roofline = *r;
  }
  return d;
}

}  // namespace

Expected<DeviceProfile> parse_profile(const std::string& text, const std::string& origin) {
  toml::table t;
  try {
    t = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Error{errc::kBadProfile, origin + ":" + std::to_string(e.source().begin.line) + ": " +
                                        std::string(e.description())};
  }
  DeviceProfile p;
  if (auto s = config::check_keys(
          t, {"name", "description", "sources", "cpu", "accelerator", "power", "load"}, origin);
      !s) {
    return s.error();
  }
  std::optional<std::string> name;
  EDGENAS_CONFIG_READ(config::get_string(t, "name", origin), name);
  if (!name || !valid_id(*name))
    return Error{errc::kBadProfile, origin + ": 'name' is required (an id like rpi4)"};
  p.name = *name;
  EDGENAS_CONFIG_READ(config::get_string(t, "description", origin), p.description);
  if (const auto* src = t.get_as<toml::array>("sources")) {
    for (const auto& s : *src) {
      if (!s.is_string()) return Error{errc::kBadProfile, origin + ": sources must be strings"};
      p.sources.push_back(s.as_string()->get());
    }
  }
  const auto* cpu = t.get_as<toml::table>("cpu");
  if (!cpu) return Error{errc::kBadProfile, origin + ": [cpu] section is required"};
  auto c = read_device(*cpu, origin + ": [cpu]", true);
  if (!c) return c.error();
  p.devices.push_back(*c);
  if (const auto* acc = t.get_as<toml::array>("accelerator")) {
    int i = 0;
    for (const auto& node : *acc) {
      const auto* at = node.as_table();
      const std::string where = origin + ": [[accelerator]] #" + std::to_string(++i);
      if (!at) return Error{errc::kBadProfile, where + " must be a table"};
      auto d = read_device(*at, where, false);
      if (!d) return d.error();
      for (const auto& existing : p.devices) {
        if (existing.device == d->device)
          return Error{errc::kBadProfile, where + ": device '" + d->device + "' twice"};
      }
      p.devices.push_back(*d);
    }
  }
  if (p.devices.size() > limits::kMaxDevices)
    return Error{errc::kBadProfile, origin + ": too many devices"};
  const auto* power = t.get_as<toml::table>("power");
  if (!power) return Error{errc::kBadProfile, origin + ": [power] section is required"};
  const std::string pw = origin + ": [power]";
  if (auto s = config::check_keys(*power, {"idle_w", "max_w"}, pw); !s) return s.error();
  std::optional<double> idle, max;
  EDGENAS_CONFIG_READ(config::get_double(*power, "idle_w", pw, 0, limits::kMaxPowerW), idle);
  EDGENAS_CONFIG_READ(config::get_double(*power, "max_w", pw, 0, limits::kMaxPowerW), max);
  if (!idle || !max || *max < *idle)
    return Error{errc::kBadProfile, pw + ": idle_w and max_w are required, max_w >= idle_w"};
  p.idle_w = *idle;
  p.max_w = *max;
  if (const auto* load = t.get_as<toml::table>("load")) {
    const std::string lw = origin + ": [load]";
    if (auto s = config::check_keys(*load, {"swing_period", "noise"}, lw); !s) return s.error();
    EDGENAS_CONFIG_READ(config::get_duration_ms(*load, "swing_period", lw), p.swing_period_ms);
    EDGENAS_CONFIG_READ(config::get_double(*load, "noise", lw, 0, 0.5), p.noise);
    if (p.swing_period_ms <= 0)
      return Error{errc::kBadProfile, lw + ".swing_period must be positive"};
  }
  return p;
}

const DeviceProfile::Device* DeviceProfile::find(std::string_view device) const {
  for (const auto& d : devices) {
    if (d.device == device) return &d;
  }
  return nullptr;
}

Expected<DeviceProfile> load_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{errc::kBadProfile, "cannot open device profile '" + path + "'"};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_profile(ss.str(), path);
}

}  // namespace edgenas
