#include "simulations/meter/meter.hpp"

#include <gtest/gtest.h>

#include <map>

namespace edgenas::meter {
namespace {

const Damage kClean{0, 0, 0, 0, 0, 0};

TEST(Meter, DeterministicFromTheSeed) {
  auto gen = Generator::create();
  ASSERT_TRUE(gen.ok()) << gen.error().message;
  for (Style st : {Style::seven_segment, Style::odometer}) {
    auto a = gen->render(42, st), b = gen->render(42, st), c = gen->render(43, st);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(a->image.pixels, b->image.pixels);
    EXPECT_EQ(a->reading, b->reading);
    EXPECT_NE(a->image.pixels, c->image.pixels);
    ASSERT_EQ(a->digits.size(), 6u);
    ASSERT_EQ(a->labels.size(), 6u);
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(a->reading[i], '0' + a->labels[i]);
    EXPECT_EQ(a->digits[0].width, 28);
  }
}

// Decodes a clean 7-segment digit by sampling the seven segment positions inside the box of
// the faint unlit "8" drawn behind every digit.
int decode_seven_segment(const data::Image& cell) {
  auto at = [&](int x, int y) { return cell.pixels[static_cast<size_t>(y) * cell.width + x]; };
  int bg = 0;
  for (int x = 0; x < cell.width; ++x) bg = std::max<int>(bg, at(x, 0));
  int x0 = cell.width, x1 = 0, y0 = cell.height, y1 = 0;
  for (int y = 0; y < cell.height; ++y) {
    for (int x = 0; x < cell.width; ++x) {
      if (at(x, y) < bg - 8) {
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
    }
  }
  const double w = x1 - x0, h = y1 - y0;
  auto lit = [&](double fx, double fy) {
    const int cx = x0 + static_cast<int>(fx * w), cy = y0 + static_cast<int>(fy * h);
    int darkest = 255;
    for (int j = -1; j <= 1; ++j)
      for (int i = -1; i <= 1; ++i)
        darkest = std::min<int>(darkest, at(std::clamp(cx + i, 0, cell.width - 1),
                                            std::clamp(cy + j, 0, cell.height - 1)));
    return darkest < 110;
  };
  // a b c d e f g
  const int pattern = lit(0.5, 0.04) << 6 | lit(0.92, 0.27) << 5 | lit(0.92, 0.73) << 4 |
                      lit(0.5, 0.96) << 3 | lit(0.08, 0.73) << 2 | lit(0.08, 0.27) << 1 |
                      lit(0.5, 0.5);
  static const std::map<int, int> kDigits = {{0b1111110, 0}, {0b0110000, 1}, {0b1101101, 2},
                                             {0b1111001, 3}, {0b0110011, 4}, {0b1011011, 5},
                                             {0b1011111, 6}, {0b1110000, 7}, {0b1110010, 7},
                                             {0b1111111, 8}, {0b1111011, 9}};
  auto it = kDigits.find(pattern);
  return it == kDigits.end() ? -1 : it->second;
}

TEST(Meter, RenderedSevenSegmentDigitsDecodeToTheirLabels) {
  auto gen = Generator::create();
  ASSERT_TRUE(gen.ok());
  std::set<int> seen;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    auto s = gen->render(seed, Style::seven_segment, kClean);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 6; ++i) {
      // A 128×128 resampling of the 40×64 cell.
      auto cell = crop_digit(s->image, gen->layout(), i, 128);
      EXPECT_EQ(decode_seven_segment(cell), s->labels[static_cast<size_t>(i)])
          << "seed " << seed << " digit " << i << " reading " << s->reading;
      seen.insert(s->labels[static_cast<size_t>(i)]);
    }
  }
  EXPECT_EQ(seen.size(), 10u);  // every digit was checked
}

// read-meter crops digits with common/data's layout, without the generator: it must be the
// layout the generator draws.
TEST(Meter, TheReadersLayoutIsTheOneTheGeneratorDraws) {
  auto gen = Generator::create();
  ASSERT_TRUE(gen.ok());
  auto s = gen->render(3, Style::odometer, kClean);
  ASSERT_TRUE(s.ok());
  const auto layout = data::meter_layout(gen->digits());
  EXPECT_EQ(s->image.width, layout.width);
  EXPECT_EQ(s->image.height, layout.height);
  EXPECT_EQ(layout.digits, 6);
}

TEST(Meter, OdometerRollingDigitIsLabelledByTheMajority) {
  auto gen = Generator::create();
  ASSERT_TRUE(gen.ok());
  int rolling = 0, turned = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    auto s = gen->render(seed, Style::odometer, kClean);
    ASSERT_TRUE(s.ok());
    // The last cell: a rolling drum shows ink in its top and bottom edge rows.
    const auto cell = crop_digit(s->image, gen->layout(), 5, 64);
    int top = 0, bottom = 0;
    for (int x = 0; x < 64; ++x) {
      top = std::max<int>(top, cell.pixels[static_cast<size_t>(x)]);
      bottom = std::max<int>(bottom, cell.pixels[63 * 64 + static_cast<size_t>(x)]);
    }
    const bool shows_two = top > 150 && bottom > 150;
    rolling += shows_two;
    // How far it turned is recorded for the last drum alone, in the generator's (0.1, 0.9).
    ASSERT_EQ(s->turned.size(), s->labels.size());
    for (size_t i = 0; i + 1 < s->turned.size(); ++i) EXPECT_EQ(s->turned[i], 0);
    if (shows_two) {
      EXPECT_GT(s->turned.back(), 0.1) << "seed " << seed;
    }
    EXPECT_LT(s->turned.back(), 0.9);
    turned += s->turned.back() > 0;
  }
  EXPECT_GT(rolling, 5);  // about 40 % of odometers have a rolling last drum
  EXPECT_GE(turned, rolling);
}

TEST(Meter, SevenSegmentDigitsNeverRoll) {
  auto gen = Generator::create();
  ASSERT_TRUE(gen.ok());
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto s = gen->render(seed, Style::seven_segment, kClean);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->turned, std::vector<double>(s->labels.size(), 0.0));
  }
}

TEST(Meter, DamageScalesEveryStrengthWithinItsBounds) {
  const Damage d;
  const auto clean = d.scaled(0);
  EXPECT_EQ(clean.noise_sigma, 0);
  EXPECT_EQ(clean.blur_passes, 0);
  EXPECT_EQ(clean.max_rotation_deg, 0);
  EXPECT_EQ(clean.lighting, 0);
  EXPECT_EQ(clean.glare, 0);
  const auto same = d.scaled(1);
  EXPECT_EQ(same.noise_sigma, d.noise_sigma);
  EXPECT_EQ(same.blur_passes, d.blur_passes);
  const auto hard = d.scaled(3);
  EXPECT_EQ(hard.noise_sigma, 3 * d.noise_sigma);
  EXPECT_EQ(hard.blur_passes, 3);
  EXPECT_DOUBLE_EQ(hard.max_keystone, 3 * d.max_keystone);
  EXPECT_EQ(hard.lighting, 0.9);  // a gradient stronger than this would black out a side
  EXPECT_EQ(hard.glare, 1.0);     // a probability
  // Harder damage moves the pixels further from the clean image.
  auto gen = Generator::create({}, 6, 28);
  ASSERT_TRUE(gen.ok());
  auto distance = [&](const Damage& dmg) {
    auto a = gen->render(5, Style::seven_segment, d.scaled(0));
    auto b = gen->render(5, Style::seven_segment, dmg);
    EXPECT_EQ(a->image.pixels.size(), b->image.pixels.size());
    double sum = 0;
    for (std::size_t i = 0; i < std::min(a->image.pixels.size(), b->image.pixels.size()); ++i)
      sum += std::abs(a->image.pixels[i] - b->image.pixels[i]);
    return sum / static_cast<double>(a->image.pixels.size());
  };
  EXPECT_LT(distance(d.scaled(1)), distance(d.scaled(3)));
}

TEST(Meter, MissingFontIsAClearError) {
  Fonts f;
  f.seven_segment = "/nonexistent/DSEG7.ttf";
  auto gen = Generator::create(f);
  ASSERT_FALSE(gen.ok());
  EXPECT_NE(gen.error().message.find("/nonexistent/DSEG7.ttf"), std::string::npos);
}

}  // namespace
}  // namespace edgenas::meter
