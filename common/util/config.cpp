#include "common/util/config.hpp"
#include "common/util/errors.hpp"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

namespace edgenas::config {

Status check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                  std::string_view where) {
  for (const auto& [key, node] : table) {
    bool known = false;
    for (auto a : allowed) known = known || key.str() == a;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Error{errc::kBadConfig, std::string(where) + ": unknown key '" +
                                         std::string(key.str()) + "' (known keys: " + list + ")"};
    }
  }
  return ok_status();
}

Expected<int64_t> parse_duration_ms(std::string_view text) {
  double value = 0;
  auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (res.ec != std::errc() || value < 0) {
    return Error{"bad_duration",
                 "'" + std::string(text) + "' is not a duration (e.g. 500ms, 5s, 10m, 2h)"};
  }
  std::string_view unit(res.ptr, text.data() + text.size() - res.ptr);
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m" || unit == "min") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return Error{"bad_duration", "'" + std::string(text) + "': unknown unit '" + std::string(unit) +
                                     "' (use ms, s, m or h)"};
  }
  return static_cast<int64_t>(value * scale);
}

namespace {
std::string name(std::string_view where, std::string_view key) {
  return std::string(where) + "." + std::string(key);
}
}  // namespace

Expected<std::optional<std::string>> get_string(const toml::table& t, std::string_view key,
                                                std::string_view where) {
  const auto* node = t.get(key);
  if (!node) return std::optional<std::string>{};
  if (!node->is_string()) return Error{errc::kBadConfig, name(where, key) + " must be a string"};
  return std::optional<std::string>{node->as_string()->get()};
}

Expected<std::optional<int64_t>> get_int(const toml::table& t, std::string_view key,
                                         std::string_view where, int64_t min, int64_t max) {
  const auto* node = t.get(key);
  if (!node) return std::optional<int64_t>{};
  if (!node->is_integer()) return Error{errc::kBadConfig, name(where, key) + " must be an integer"};
  int64_t v = node->as_integer()->get();
  if (v < min || v > max) {
    return Error{errc::kBadConfig, name(where, key) + " = " + std::to_string(v) +
                                       " is out of range [" + std::to_string(min) + ", " +
                                       std::to_string(max) + "]"};
  }
  return std::optional<int64_t>{v};
}

Expected<std::optional<double>> get_double(const toml::table& t, std::string_view key,
                                           std::string_view where, double min, double max) {
  const auto* node = t.get(key);
  if (!node) return std::optional<double>{};
  double v = 0;
  if (node->is_floating_point()) {
    v = node->as_floating_point()->get();
  } else if (node->is_integer()) {
    v = static_cast<double>(node->as_integer()->get());
  } else {
    return Error{errc::kBadConfig, name(where, key) + " must be a number"};
  }
  if (!(v >= min && v <= max)) {
    return Error{errc::kBadConfig, name(where, key) + " = " + std::to_string(v) +
                                       " is out of range [" + std::to_string(min) + ", " +
                                       std::to_string(max) + "]"};
  }
  return std::optional<double>{v};
}

Expected<std::optional<bool>> get_bool(const toml::table& t, std::string_view key,
                                       std::string_view where) {
  const auto* node = t.get(key);
  if (!node) return std::optional<bool>{};
  if (!node->is_boolean())
    return Error{errc::kBadConfig, name(where, key) + " must be true or false"};
  return std::optional<bool>{node->as_boolean()->get()};
}

Expected<std::optional<int64_t>> get_duration_ms(const toml::table& t, std::string_view key,
                                                 std::string_view where) {
  const auto* node = t.get(key);
  if (!node) return std::optional<int64_t>{};
  if (node->is_integer()) {
    int64_t v = node->as_integer()->get();
    if (v < 0) return Error{errc::kBadConfig, name(where, key) + " must not be negative"};
    return std::optional<int64_t>{v};
  }
  if (!node->is_string()) {
    return Error{errc::kBadConfig, name(where, key) + " must be a duration such as \"5s\""};
  }
  auto d = parse_duration_ms(node->as_string()->get());
  if (!d) return Error{errc::kBadConfig, name(where, key) + ": " + d.error().message};
  return std::optional<int64_t>{*d};
}

Expected<toml::table> parse_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return Error{errc::kBadConfig,
                 "cannot open config file '" + path + "': " + std::strerror(errno)};
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return toml::parse(ss.str(), path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Error{errc::kBadConfig, msg.str()};
  }
}

}  // namespace edgenas::config
