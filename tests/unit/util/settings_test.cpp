// Settings declared once: the reader, the strict key check, the flags (CLI11) and the reference
// all come from one list.
#include <gtest/gtest.h>

#include "common/util/settings_cli.hpp"

namespace edgenas::config {
namespace {

enum class Mode { fast, careful };

struct Box {
  struct Inner {
    int64_t retries = 3;
  } inner;
  std::string name = "box";
  bool secure = true;
  double share = 0.5;
  int64_t interval_ms = 5000;
  std::string budget = "2m";
  Mode mode = Mode::fast;
};

const Settings<Box>& settings() {
  static const Settings<Box> all{
      text<Box>(
          "box", "name", "--name", [](Box & b) -> auto& { return b.name; }, "its name"),
      boolean<Box>(
          "box", "secure", "--insecure", false, [](Box & b) -> auto& { return b.secure; },
          "encrypt"),
      number<Box>(
          "box", "share", "--share", 0, 1, [](Box & b) -> auto& { return b.share; }, "a share"),
      duration<Box>(
          "box", "interval", "--interval", 100, [](Box & b) -> auto& { return b.interval_ms; },
          "how often"),
      integer<Box>(
          "retry", "retries", "", 1, 10, [](Box & b) -> auto& { return b.inner.retries; },
          "how many times"),
      duration_text<Box>(
          "retry", "budget", "--budget", [](Box & b) -> auto& { return b.budget; },
          "passed on as written"),
      choice<Box>(
          "retry", "mode", "--mode", {{"fast", Mode::fast}, {"careful", Mode::careful}},
          [](Box & b) -> auto& { return b.mode; }, "how"),
  };
  return all;
}

Status read(const std::string& text, Box& b) {
  return read_settings(toml::parse(text), "f.toml", settings(), {"extra"}, b);
}

TEST(Settings, TheFileSetsWhatItNamesAndNothingElse) {
  Box b;
  ASSERT_TRUE(
      read("[box]\nname = 'x'\nsecure = false\ninterval = '2s'\n"
           "[retry]\nretries = 7\nmode = 'careful'\nbudget = '30s'\n[extra]\nanything = 1\n",
           b)
          .ok());
  EXPECT_EQ(b.name, "x");
  EXPECT_FALSE(b.secure);
  EXPECT_EQ(b.interval_ms, 2000);
  EXPECT_EQ(b.inner.retries, 7);
  EXPECT_EQ(b.mode, Mode::careful);
  EXPECT_EQ(b.budget, "30s");
  EXPECT_DOUBLE_EQ(b.share, 0.5);  // absent: the default
}

TEST(Settings, MistakesNameTheKeyAndWhatWasExpected) {
  auto error = [](const std::string& text) {
    Box b;
    auto s = read(text, b);
    return s ? std::string("no error") : s.error().message;
  };
  EXPECT_NE(error("[bx]\n").find("unknown key 'bx' (known keys: box, retry, extra)"),
            std::string::npos);
  EXPECT_NE(error("[box]\nnmae = 1\n").find("f.toml: [box]: unknown key 'nmae'"),
            std::string::npos);
  EXPECT_NE(error("[retry]\nretries = 11\n").find("retries"), std::string::npos);
  EXPECT_NE(error("[box]\nshare = 'half'\n").find("share"), std::string::npos);
  EXPECT_NE(error("[box]\ninterval = '50ms'\n").find("interval must be at least 100ms"),
            std::string::npos);
  EXPECT_NE(error("[retry]\nmode = 'lazy'\n")
                .find("[retry].mode must be \"fast\" or \"careful\", not \"lazy\""),
            std::string::npos);
  EXPECT_NE(error("[retry]\nbudget = 'soon'\n").find("budget must be a duration"),
            std::string::npos);
}

TEST(Settings, FlagsWinOverTheFileAndSayTheirDefaults) {
  CLI::App app;
  SettingFlags<Box> flags(app, settings(), Box{});
  std::vector<std::string> argv{"--insecure", "--share", "0.25", "--mode", "careful"};
  std::reverse(argv.begin(), argv.end());
  app.parse(argv);
  Box b;
  ASSERT_TRUE(read("[box]\nshare = 0.75\nsecure = true\n", b).ok());
  ASSERT_TRUE(apply_flags(flags.given(), settings(), b).ok());
  EXPECT_FALSE(b.secure);
  EXPECT_DOUBLE_EQ(b.share, 0.25);
  EXPECT_EQ(b.mode, Mode::careful);
  EXPECT_EQ(b.name, "box");  // not given
  EXPECT_NE(app.help().find("(number 0..1; default 0.5; file: [box] share)"), std::string::npos)
      << app.help();

  for (auto [flag, value, needle] :
       {std::tuple{"--share", "2", "--share: 2 is out of range [0, 1]"},
        std::tuple{"--interval", "10ms", "--interval: must be at least 100ms"},
        std::tuple{"--mode", "lazy", "--mode: must be \"fast\" or \"careful\""}}) {
    Box c;
    auto s = apply_flags({{flag, value}}, settings(), c);
    ASSERT_FALSE(s.ok()) << flag;
    EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
  }
}

TEST(Settings, TheReferenceListsEverySettingWithItsDefault) {
  const std::string ref = reference(settings(), Box{});
  EXPECT_NE(
      ref.find("| `[retry] mode` | `--mode` | one of \"fast\" or \"careful\" | `\"fast\"` | how |"),
      std::string::npos)
      << ref;
  EXPECT_NE(ref.find("| `[retry] retries` |  | integer 1..10 | `3` |"), std::string::npos) << ref;
  EXPECT_EQ(std::count(ref.begin(), ref.end(), '\n'), 2 + 7);
}

}  // namespace
}  // namespace edgenas::config
