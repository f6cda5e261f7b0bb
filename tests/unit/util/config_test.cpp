#include "common/util/config.hpp"

#include <gtest/gtest.h>

namespace edgenas::config {
namespace {

TEST(Config, Durations) {
  EXPECT_EQ(*parse_duration_ms("250ms"), 250);
  EXPECT_EQ(*parse_duration_ms("5s"), 5000);
  EXPECT_EQ(*parse_duration_ms("5"), 5000);
  EXPECT_EQ(*parse_duration_ms("10m"), 600000);
  EXPECT_EQ(*parse_duration_ms("2h"), 7200000);
  EXPECT_EQ(*parse_duration_ms("1.5s"), 1500);
  EXPECT_FALSE(parse_duration_ms("5 parsecs").ok());
  EXPECT_FALSE(parse_duration_ms("-1s").ok());
  EXPECT_FALSE(parse_duration_ms("").ok());
  EXPECT_FALSE(parse_duration_ms("s").ok());
}

TEST(Config, UnknownKeysAreNamed) {
  auto t = toml::parse("heartbeat_interval = '5s'\nheartbeat_intreval = '1s'\n");
  auto s = check_keys(t, {"heartbeat_interval"}, "x.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("heartbeat_intreval"), std::string::npos);
}

TEST(Config, TypedReads) {
  auto t = toml::parse("n = 5\ns = 'x'\nd = '2s'\nf = 1.5\nb = true\n");
  EXPECT_EQ(**get_int(t, "n", "w", 0, 10), 5);
  EXPECT_FALSE(get_int(t, "n", "w", 6, 10).ok());
  EXPECT_FALSE(get_int(t, "s", "w", 0, 10).ok());
  EXPECT_FALSE((*get_int(t, "missing", "w", 0, 10)).has_value());
  EXPECT_EQ(**get_string(t, "s", "w"), "x");
  EXPECT_EQ(**get_duration_ms(t, "d", "w"), 2000);
  EXPECT_EQ(**get_duration_ms(t, "n", "w"), 5);
  EXPECT_DOUBLE_EQ(**get_double(t, "f", "w", 0, 2), 1.5);
  EXPECT_DOUBLE_EQ(**get_double(t, "n", "w", 0, 10), 5.0);
  EXPECT_TRUE(**get_bool(t, "b", "w"));
  EXPECT_FALSE(get_bool(t, "n", "w").ok());
}

TEST(Config, ParseErrorsHaveLineNumbers) {
  const std::string path = testing::TempDir() + "/bad.toml";
  FILE* f = fopen(path.c_str(), "w");
  fputs("[agent]\nid = \n", f);
  fclose(f);
  auto t = parse_file(path);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find(":2:"), std::string::npos) << t.error().message;
  EXPECT_FALSE(parse_file("/nonexistent/x.toml").ok());
}

}  // namespace
}  // namespace edgenas::config
