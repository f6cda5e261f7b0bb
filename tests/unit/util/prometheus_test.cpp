#include "common/util/prometheus.hpp"

#include <gtest/gtest.h>

namespace edgenas::prom {
namespace {

TEST(Prometheus, FamiliesSamplesEscapingAndCumulativeBuckets) {
  Text t;
  t.family("x_total", "counter", "A help text").sample(3, {{"path", "a\"b\\c\nd"}});
  t.family("y", "gauge", "Y").sample(0.25);
  Histogram h({0.001, 0.01});
  for (double v : {0.0005, 0.002, 0.002, 5.0}) h.observe(v);
  t.family("lat_seconds", "histogram", "L");
  h.write(t, {{"op", "q"}});
  EXPECT_EQ(t.str(),
            "# HELP x_total A help text\n# TYPE x_total counter\n"
            "x_total{path=\"a\\\"b\\\\c\\nd\"} 3\n"
            "# HELP y Y\n# TYPE y gauge\ny 0.25\n"
            "# HELP lat_seconds L\n# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{op=\"q\",le=\"0.001\"} 1\n"
            "lat_seconds_bucket{op=\"q\",le=\"0.01\"} 3\n"
            "lat_seconds_bucket{op=\"q\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{op=\"q\"} 5.0045\n"
            "lat_seconds_count{op=\"q\"} 4\n");
}

}  // namespace
}  // namespace edgenas::prom
