#include "common/util/settings.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace edgenas::config::detail {

Error flag_error(const std::string& flag, const std::string& message) {
  return Error{errc::kUsage, flag + ": " + message};
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += quoted(names[i]);
  }
  return out;
}

Expected<int64_t> parse_integer(const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    return Error{errc::kUsage, "'" + text + "' is not an integer"};
  if (v < min || v > max)
    return Error{errc::kUsage, text + " is out of range [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "]"};
  return v;
}

Expected<double> parse_number(const std::string& text, double min, double max) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    return Error{errc::kUsage, "'" + text + "' is not a number"};
  if (v < min || v > max)
    return Error{errc::kUsage,
                 text + " is out of range [" + show_number(min) + ", " + show_number(max) + "]"};
  return v;
}

std::string show_number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

std::string show_duration(int64_t ms) {
  if (ms == 0) return "0";
  const std::pair<const char*, int64_t> units[] = {{"h", 3'600'000}, {"m", 60'000}, {"s", 1000}};
  for (const auto& [unit, scale] : units)
    if (ms % scale == 0) return std::to_string(ms / scale) + unit;
  return std::to_string(ms) + "ms";
}

std::vector<std::string> sections_of(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows)
    if (std::find(out.begin(), out.end(), r.section) == out.end()) out.push_back(r.section);
  return out;
}

namespace {
std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}
}  // namespace

Status check_sections(const toml::table& file, const std::string& path,
                      const std::vector<std::string>& known) {
  for (const auto& [key, node] : file) {
    const std::string name(key.str());
    if (std::find(known.begin(), known.end(), name) == known.end())
      return Error{errc::kBadConfig,
                   path + ": unknown key '" + name + "' (known keys: " + listed(known) + ")"};
  }
  return ok_status();
}

Status check_section_keys(const toml::table& section, const std::string& where,
                          const std::vector<Row>& rows, const std::string& name) {
  std::vector<std::string> keys;
  for (const auto& r : rows)
    if (r.section == name) keys.push_back(r.key);
  for (const auto& [key, node] : section) {
    const std::string k(key.str());
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      return Error{errc::kBadConfig,
                   where + ": unknown key '" + k + "' (known keys: " + listed(keys) + ")"};
  }
  return ok_status();
}

std::string reference_table(const std::vector<Row>& rows) {
  std::string out = "| key | flag | type | default | what it sets |\n|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    out += "| `[" + r.section + "] " + r.key + "` | " + (r.flag.empty() ? "" : "`" + r.flag + "`") +
           " | " + r.type + " | " +
           (r.shown.empty() || r.shown == "\"\"" ? "" : "`" + r.shown + "`") + " | " + r.help +
           " |\n";
  }
  return out;
}

}  // namespace edgenas::config::detail
