#pragma once
// Structured logs: one line per event in logfmt (ts=… level=… comp=… msg="…" key=value),
// on stderr, so journald and log shippers can parse them without a schema.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace edgenas::log {

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v), quote(true) {}
  Field(std::string_view k, const char* v) : key(k), value(v), quote(true) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v), quote(true) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
  std::string_view key;
  std::string value;
  bool quote = false;
};
using Fields = std::initializer_list<Field>;

enum class Level { debug, info, warn, error };

// component names the process ("coordinator", "agent"); level is debug|info|warn|error.
void init(std::string_view component, std::string_view level = "info");
bool set_level(std::string_view level);
void write(Level level, std::string_view msg, Fields fields);

inline void debug(std::string_view msg, Fields f = {}) {
  write(Level::debug, msg, f);
}
inline void info(std::string_view msg, Fields f = {}) {
  write(Level::info, msg, f);
}
inline void warn(std::string_view msg, Fields f = {}) {
  write(Level::warn, msg, f);
}
inline void error(std::string_view msg, Fields f = {}) {
  write(Level::error, msg, f);
}

}  // namespace edgenas::log
