#pragma once
// The Prometheus text exposition format (version 0.0.4), written by hand: families with HELP
// and TYPE, samples with escaped labels, and a fixed-bucket histogram. No client library: the
// daemons build the page from counters they keep anyway, once per tick, on their own thread.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgenas::prom {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Text {
 public:
  // Starts a family; type is "counter", "gauge" or "histogram".
  Text& family(const std::string& name, const std::string& type, const std::string& help);
  Text& sample(double value, const Labels& labels = {});  // of the current family
  Text& sample_suffixed(const std::string& suffix, double value, const Labels& labels);
  const std::string& str() const { return out_; }

 private:
  std::string out_, name_;
};

// Cumulative buckets (upper bounds in seconds) with +Inf, sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  void write(Text& t, const Labels& labels = {}) const;  // after t.family(..., "histogram", ...)

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last one is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Bounds for request latencies: 50 µs .. 1 s.
std::vector<double> latency_buckets();

}  // namespace edgenas::prom
