#include "common/util/log.hpp"

#include "common/util/utf8.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace edgenas::log {
namespace {

// One line per write(2) on stderr, under a mutex so lines from threads never interleave.
// (A hand-written writer rather than spdlog: the agent's footprint budget is a few MB and
// logfmt lines need nothing spdlog adds.)
std::mutex g_mu;
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::string g_component = "edgenas";

void append_quoted(std::string& out, std::string_view raw) {
  const std::string s = utf8::repaired(raw);  // a field may hold an agent's bytes
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

void append_timestamp(std::string& out) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out += buf;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

void init(std::string_view comp, std::string_view level) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_component = std::string(comp);
  }
  set_level(level);
}

bool set_level(std::string_view level) {
  static constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; ++i) {
    if (level == kNames[i]) {
      g_level = i;
      return true;
    }
  }
  return false;
}

void write(Level level, std::string_view msg, Fields fields) {
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  if (static_cast<int>(level) < g_level.load()) return;
  std::string line;
  line.reserve(160);
  append_timestamp(line);
  line += " level=";
  line += kNames[static_cast<int>(level)];
  std::lock_guard<std::mutex> lock(g_mu);
  line += " comp=" + g_component + " msg=";
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
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace edgenas::log
