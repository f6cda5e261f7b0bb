#include "common/util/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace edgenas::log {
namespace {

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto lg = spdlog::stderr_logger_mt("edgenas");
    lg->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
    return lg;
  }();
  return l;
}

std::string& component() {
  static std::string c = "edgenas";
  return c;
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += '?';
    } else {
      out += ch;
    }
  }
  out += '"';
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

void init(std::string_view comp, std::string_view level) {
  component() = std::string(comp);
  logger();
  set_level(level);
}

bool set_level(std::string_view level) {
  if (level == "debug") {
    logger()->set_level(spdlog::level::debug);
  } else if (level == "info") {
    logger()->set_level(spdlog::level::info);
  } else if (level == "warn") {
    logger()->set_level(spdlog::level::warn);
  } else if (level == "error") {
    logger()->set_level(spdlog::level::err);
  } else {
    return false;
  }
  return true;
}

void write(Level level, std::string_view msg, Fields fields) {
  static constexpr spdlog::level::level_enum kMap[] = {spdlog::level::debug, spdlog::level::info,
                                                       spdlog::level::warn, spdlog::level::err};
  auto lvl = kMap[static_cast<int>(level)];
  if (!logger()->should_log(lvl)) return;
  std::string line = "comp=" + component() + " msg=";
  append_quoted(line, msg);
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    if (f.quote) {
      append_quoted(line, f.value);
    } else {
      line += f.value;
    }
  }
  logger()->log(lvl, "{}", line);
  if (lvl >= spdlog::level::warn) logger()->flush();
}

}  // namespace edgenas::log
