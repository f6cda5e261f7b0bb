#include "common/util/prometheus.hpp"

#include <cmath>
#include <cstdio>

#include "common/util/utf8.hpp"

namespace edgenas::prom {
namespace {

// Label values must be UTF-8 (the exposition format); a value may come from an agent.
std::string escape(const std::string& raw) {
  const std::string v = utf8::repaired(raw);
  std::string o;
  o.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      o += "\\\\";
    else if (c == '"')
      o += "\\\"";
    else if (c == '\n')
      o += "\\n";
    else
      o += c;
  }
  return o;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string label_text(const Labels& labels) {
  if (labels.empty()) return "";
  std::string o = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) o += ",";
    o += labels[i].first + "=\"" + escape(labels[i].second) + "\"";
  }
  return o + "}";
}

}  // namespace

Text& Text::family(const std::string& name, const std::string& type, const std::string& help) {
  name_ = name;
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  return *this;
}

Text& Text::sample(double value, const Labels& labels) {
  out_ += name_ + label_text(labels) + " " + number(value) + "\n";
  return *this;
}

Text& Text::sample_suffixed(const std::string& suffix, double value, const Labels& labels) {
  out_ += name_ + suffix + label_text(labels) + " " + number(value) + "\n";
  return *this;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i]++;
  sum_ += v;
  count_++;
}

void Histogram::write(Text& t, const Labels& labels) const {
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    Labels l = labels;
    l.emplace_back("le", i < bounds_.size() ? number(bounds_[i]) : "+Inf");
    t.sample_suffixed("_bucket", static_cast<double>(cumulative), l);
  }
  t.sample_suffixed("_sum", sum_, labels);
  t.sample_suffixed("_count", static_cast<double>(count_), labels);
}

std::vector<double> latency_buckets() {
  return {50e-6, 100e-6, 250e-6, 500e-6, 1e-3,   2.5e-3, 5e-3,
          10e-3, 25e-3,  50e-3,  100e-3, 250e-3, 1};
}

}  // namespace edgenas::prom
