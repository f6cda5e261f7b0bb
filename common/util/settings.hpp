#pragma once
// A daemon's settings, each declared once. A Setting names its key in the TOML config file
// ([section] key), the command-line flag that overrides it (if any), its type and range, and
// its help; the strict reader of the config file (an unknown section or key is an error), the
// flags' parsing and the reference table (docs/CONFIG.md, printed by the daemons'
// --config-reference) all come from one list of them. A setting's default is the config
// struct's own initial value, so it too is written once.
//
//   const Settings<Options> kSettings{
//       integer<Options>("coordinator", "dead_after_missed", "--dead-after", 1, 1000,
//                        [](Options& o) -> auto& { return o.dead_after_missed; },
//                        "missed heartbeats before an agent counts as dead"),
//       ...};
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/util/config.hpp"
#include "common/util/errors.hpp"

namespace edgenas::config {

template <class Cfg>
struct Setting {
  std::string section, key;
  std::string flag;  // "--db"; empty: the config file only
  std::string type;  // for the reference: "string", "integer 1..1000", "duration", ...
  std::string help;
  // From the section's table, `where` being "FILE: [section]"; an absent key leaves cfg alone.
  std::function<Status(const toml::table&, const std::string& where, Cfg&)> read;
  // From the flag's text (a switch's text is empty: it sets its value).
  std::function<Status(const std::string&, Cfg&)> parse;
  std::function<std::string(const Cfg&)> show;  // the value as the reference prints it
  bool is_switch = false;
};

template <class Cfg>
using Settings = std::vector<Setting<Cfg>>;

namespace detail {

template <class Cfg, class Get>
using ValueOf = std::remove_reference_t<std::invoke_result_t<Get, Cfg&>>;

// The accessor on a const struct: every accessor only reads a member.
template <class Cfg, class Get>
const ValueOf<Cfg, Get>& value(const Get& get, const Cfg& c) {
  return get(const_cast<Cfg&>(c));
}

Error flag_error(const std::string& flag, const std::string& message);
std::string quoted(const std::string& s);
std::string one_of(const std::vector<std::string>& names);  // "\"a\", \"b\" or \"c\""
Expected<int64_t> parse_integer(const std::string& text, int64_t min, int64_t max);
Expected<double> parse_number(const std::string& text, double min, double max);
std::string show_number(double v);
std::string show_duration(int64_t ms);  // "2h", "10m", "5s" or "250ms"

}  // namespace detail

namespace detail {
template <class Cfg>
Setting<Cfg> head(std::string section, std::string key, std::string flag, std::string type,
                  std::string help) {
  Setting<Cfg> s;
  s.section = std::move(section);
  s.key = std::move(key);
  s.flag = std::move(flag);
  s.type = std::move(type);
  s.help = std::move(help);
  return s;
}
}  // namespace detail

template <class Cfg, class Get>
Setting<Cfg> text(std::string section, std::string key, std::string flag, Get get,
                  std::string help) {
  auto s = detail::head<Cfg>(section, key, flag, "string", std::move(help));
  s.read = [key, get](const toml::table& t, const std::string& w, Cfg& c) -> Status {
    EDGENAS_CONFIG_READ(get_string(t, key, w), get(c));
    return ok_status();
  };
  s.parse = [get](const std::string& v, Cfg& c) -> Status {
    get(c) = v;
    return ok_status();
  };
  s.show = [get](const Cfg& c) { return detail::quoted(detail::value(get, c)); };
  return s;
}

// A switch flag (`--insecure`) sets the value `when_flagged`; the file may set either.
template <class Cfg, class Get>
Setting<Cfg> boolean(std::string section, std::string key, std::string flag, bool when_flagged,
                     Get get, std::string help) {
  auto s = detail::head<Cfg>(section, key, flag, "true or false", std::move(help));
  s.read = [key, get](const toml::table& t, const std::string& w, Cfg& c) -> Status {
    EDGENAS_CONFIG_READ(get_bool(t, key, w), get(c));
    return ok_status();
  };
  s.parse = [get, when_flagged](const std::string&, Cfg& c) -> Status {
    get(c) = when_flagged;
    return ok_status();
  };
  s.show = [get](const Cfg& c) { return std::string(detail::value(get, c) ? "true" : "false"); };
  s.is_switch = !flag.empty();
  return s;
}

template <class Cfg, class Get>
Setting<Cfg> integer(std::string section, std::string key, std::string flag, int64_t min,
                     int64_t max, Get get, std::string help) {
  using T = detail::ValueOf<Cfg, Get>;
  auto s = detail::head<Cfg>(section, key, flag,
                             "integer " + std::to_string(min) + ".." + std::to_string(max),
                             std::move(help));
  s.read = [key, get, min, max](const toml::table& t, const std::string& w, Cfg& c) -> Status {
    std::optional<int64_t> v;
    EDGENAS_CONFIG_READ(get_int(t, key, w, min, max), v);
    if (v) get(c) = static_cast<T>(*v);
    return ok_status();
  };
  s.parse = [flag, get, min, max](const std::string& text, Cfg& c) -> Status {
    auto v = detail::parse_integer(text, min, max);
    if (!v) return detail::flag_error(flag, v.error().message);
    get(c) = static_cast<T>(*v);
    return ok_status();
  };
  s.show = [get](const Cfg& c) {
    return std::to_string(static_cast<int64_t>(detail::value(get, c)));
  };
  return s;
}

template <class Cfg, class Get>
Setting<Cfg> number(std::string section, std::string key, std::string flag, double min, double max,
                    Get get, std::string help) {
  auto s = detail::head<Cfg>(section, key, flag,
                             "number " + detail::show_number(min) + ".." + detail::show_number(max),
                             std::move(help));
  s.read = [key, get, min, max](const toml::table& t, const std::string& w, Cfg& c) -> Status {
    EDGENAS_CONFIG_READ(get_double(t, key, w, min, max), get(c));
    return ok_status();
  };
  s.parse = [flag, get, min, max](const std::string& text, Cfg& c) -> Status {
    auto v = detail::parse_number(text, min, max);
    if (!v) return detail::flag_error(flag, v.error().message);
    get(c) = *v;
    return ok_status();
  };
  s.show = [get](const Cfg& c) { return detail::show_number(detail::value(get, c)); };
  return s;
}

// Milliseconds, written "500ms", "5s", "10m", "2h" (or an integer number of ms in the file);
// at least min_ms.
template <class Cfg, class Get>
Setting<Cfg> duration(std::string section, std::string key, std::string flag, int64_t min_ms,
                      Get get, std::string help) {
  auto s = detail::head<Cfg>(
      section, key, flag,
      min_ms > 0 ? "duration, at least " + std::to_string(min_ms) + "ms" : "duration",
      std::move(help));
  s.read = [key, get, min_ms](const toml::table& t, const std::string& w, Cfg& c) -> Status {
    std::optional<int64_t> v;
    EDGENAS_CONFIG_READ(get_duration_ms(t, key, w), v);
    if (!v) return ok_status();
    if (*v < min_ms)
      return Error{errc::kBadConfig,
                   w + "." + key + " must be at least " + std::to_string(min_ms) + "ms"};
    get(c) = *v;
    return ok_status();
  };
  s.parse = [flag, get, min_ms](const std::string& text, Cfg& c) -> Status {
    auto v = parse_duration_ms(text);
    if (!v) return detail::flag_error(flag, v.error().message);
    if (*v < min_ms)
      return detail::flag_error(flag, "must be at least " + std::to_string(min_ms) + "ms");
    get(c) = *v;
    return ok_status();
  };
  s.show = [get](const Cfg& c) { return detail::show_duration(detail::value(get, c)); };
  return s;
}

// A duration kept as its text (passed on to a child process as written), checked here.
template <class Cfg, class Get>
Setting<Cfg> duration_text(std::string section, std::string key, std::string flag, Get get,
                           std::string help) {
  auto s = detail::head<Cfg>(section, key, flag, "duration", std::move(help));
  s.read = [key, get](const toml::table& t, const std::string& w, Cfg& c) -> Status {
    std::optional<std::string> v;
    EDGENAS_CONFIG_READ(get_string(t, key, w), v);
    if (!v) return ok_status();
    if (!parse_duration_ms(*v))
      return Error{errc::kBadConfig, w + "." + key + " must be a duration like \"2m\""};
    get(c) = *v;
    return ok_status();
  };
  s.parse = [flag, get](const std::string& text, Cfg& c) -> Status {
    if (!parse_duration_ms(text)) return detail::flag_error(flag, "must be a duration like 2m");
    get(c) = text;
    return ok_status();
  };
  s.show = [get](const Cfg& c) { return detail::value(get, c); };
  return s;
}

// One of a few names, each standing for a value (an enum, or the name itself).
template <class Cfg, class Get>
Setting<Cfg> choice(std::string section, std::string key, std::string flag,
                    std::vector<std::pair<std::string, detail::ValueOf<Cfg, Get>>> values, Get get,
                    std::string help) {
  std::vector<std::string> names;
  for (const auto& [n, v] : values) names.push_back(n);
  auto s =
      detail::head<Cfg>(section, key, flag, "one of " + detail::one_of(names), std::move(help));
  auto set = [values, names, get](const std::string& name, Cfg& c) -> std::optional<std::string> {
    for (const auto& [n, v] : values) {
      if (n != name) continue;
      get(c) = v;
      return std::nullopt;
    }
    return "must be " + detail::one_of(names) + ", not " + detail::quoted(name);
  };
  s.read = [key, set](const toml::table& t, const std::string& w, Cfg& c) -> Status {
    std::optional<std::string> name;
    EDGENAS_CONFIG_READ(get_string(t, key, w), name);
    if (!name) return ok_status();
    if (auto wrong = set(*name, c)) return Error{errc::kBadConfig, w + "." + key + " " + *wrong};
    return ok_status();
  };
  s.parse = [flag, set](const std::string& text, Cfg& c) -> Status {
    if (auto wrong = set(text, c)) return detail::flag_error(flag, *wrong);
    return ok_status();
  };
  s.show = [values, get](const Cfg& c) {
    for (const auto& [n, v] : values)
      if (v == detail::value(get, c)) return detail::quoted(n);
    return std::string("?");
  };
  return s;
}

// Reads every setting present in the file. Top-level sections are the settings' sections and
// `other_sections` (read by the caller, e.g. the agent's [[task]] array); any other section or
// key is an error naming it and the known ones.
template <class Cfg>
Status read_settings(const toml::table& file, const std::string& path, const Settings<Cfg>& all,
                     const std::vector<std::string>& other_sections, Cfg& cfg);

// Applies the flags given on the command line (flag → its text; a switch's text is ignored),
// after the file: flags win.
template <class Cfg>
Status apply_flags(const std::vector<std::pair<std::string, std::string>>& given,
                   const Settings<Cfg>& all, Cfg& cfg);

// The settings as a Markdown table (section, key, flag, type, default, help), defaults read
// from `defaults`.
template <class Cfg>
std::string reference(const Settings<Cfg>& all, const Cfg& defaults);

// --- implementation of the three above, on the type-free parts ---

namespace detail {
struct Row {
  std::string section, key, flag, type, shown, help;
};
std::vector<std::string> sections_of(const std::vector<Row>& rows);
Status check_sections(const toml::table& file, const std::string& path,
                      const std::vector<std::string>& known);
Status check_section_keys(const toml::table& section, const std::string& where,
                          const std::vector<Row>& rows, const std::string& name);
std::string reference_table(const std::vector<Row>& rows);

template <class Cfg>
std::vector<Row> rows_of(const Settings<Cfg>& all, const Cfg* values) {
  std::vector<Row> rows;
  for (const auto& s : all)
    rows.push_back({s.section, s.key, s.flag, s.type, values ? s.show(*values) : "", s.help});
  return rows;
}
}  // namespace detail

template <class Cfg>
Status read_settings(const toml::table& file, const std::string& path, const Settings<Cfg>& all,
                     const std::vector<std::string>& other_sections, Cfg& cfg) {
  const auto rows = detail::rows_of<Cfg>(all, nullptr);
  auto known = detail::sections_of(rows);
  known.insert(known.end(), other_sections.begin(), other_sections.end());
  if (auto s = detail::check_sections(file, path, known); !s) return s;
  for (const auto& name : detail::sections_of(rows)) {
    const auto* section = file.get_as<toml::table>(name);
    if (!section) continue;
    const std::string where = path + ": [" + name + "]";
    if (auto s = detail::check_section_keys(*section, where, rows, name); !s) return s;
    for (const auto& setting : all) {
      if (setting.section != name) continue;
      if (auto s = setting.read(*section, where, cfg); !s) return s;
    }
  }
  return ok_status();
}

template <class Cfg>
Status apply_flags(const std::vector<std::pair<std::string, std::string>>& given,
                   const Settings<Cfg>& all, Cfg& cfg) {
  for (const auto& [flag, text] : given) {
    for (const auto& s : all) {
      if (s.flag != flag) continue;
      if (auto st = s.parse(text, cfg); !st) return st;
    }
  }
  return ok_status();
}

template <class Cfg>
std::string reference(const Settings<Cfg>& all, const Cfg& defaults) {
  return detail::reference_table(detail::rows_of(all, &defaults));
}

}  // namespace edgenas::config
