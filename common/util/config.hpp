#pragma once
// Helpers shared by the daemons' TOML config loaders: strict keys, typed reads, durations.
#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/util/expected.hpp"

namespace edgenas::config {

// Error when the table holds a key not in `allowed` (a typo must not be silently ignored).
Status check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                  std::string_view where);

// Parses "250ms", "5s", "10m", "2h" or a bare number of seconds into milliseconds.
Expected<int64_t> parse_duration_ms(std::string_view text);

// Typed optional reads: absent → nullopt, wrong type or out of range → Error naming the key.
Expected<std::optional<std::string>> get_string(const toml::table& t, std::string_view key,
                                                std::string_view where);
Expected<std::optional<int64_t>> get_int(const toml::table& t, std::string_view key,
                                         std::string_view where, int64_t min, int64_t max);
Expected<std::optional<double>> get_double(const toml::table& t, std::string_view key,
                                           std::string_view where, double min, double max);
Expected<std::optional<bool>> get_bool(const toml::table& t, std::string_view key,
                                       std::string_view where);
// A duration is either a string ("5s") or an integer number of milliseconds.
Expected<std::optional<int64_t>> get_duration_ms(const toml::table& t, std::string_view key,
                                                 std::string_view where);

// Parses a TOML file, turning parse errors into an Error with line and column.
Expected<toml::table> parse_file(const std::string& path);

}  // namespace edgenas::config

// Reads an optional value with one of the get_* functions above: on error, returns the Error
// from the enclosing function; when present, assigns it to dst; when absent, leaves dst alone.
#define EDGENAS_CONFIG_READ(expr, dst)          \
  do {                                          \
    auto edgenas_v_ = (expr);                   \
    if (!edgenas_v_) return edgenas_v_.error(); \
    if (*edgenas_v_) (dst) = **edgenas_v_;      \
  } while (0)
