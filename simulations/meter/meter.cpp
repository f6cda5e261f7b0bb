#include "simulations/meter/meter.hpp"
#include "common/util/errors.hpp"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <random>

namespace edgenas::meter {
namespace {

// The cell sizes of data::meter_layout, which the glyphs are drawn to fit.
constexpr data::MeterLayout kCells = data::meter_layout();
constexpr int kCellW = kCells.cell_w, kCellH = kCells.cell_h;

struct Canvas {
  int w, h;
  std::vector<float> px;
  Canvas(int w_, int h_, float v) : w(w_), h(h_), px(static_cast<size_t>(w_) * h_, v) {}
  float& at(int x, int y) { return px[static_cast<size_t>(y) * w + x]; }
  float get(int x, int y) const {
    return px[static_cast<size_t>(std::clamp(y, 0, h - 1)) * w + std::clamp(x, 0, w - 1)];
  }
  float bilinear(double x, double y) const {
    const int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
    const float fx = static_cast<float>(x - x0), fy = static_cast<float>(y - y0);
    return (1 - fy) * ((1 - fx) * get(x0, y0) + fx * get(x0 + 1, y0)) +
           fy * ((1 - fx) * get(x0, y0 + 1) + fx * get(x0 + 1, y0 + 1));
  }
  void fill(int x, int y, int w_, int h_, float v) {
    for (int j = std::max(0, y); j < std::min(h, y + h_); ++j)
      for (int i = std::max(0, x); i < std::min(w, x + w_); ++i) at(i, j) = v;
  }
};

using Mat3 = std::array<double, 9>;
Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return r;
}
std::pair<double, double> apply(const Mat3& m, double x, double y) {
  const double w = m[6] * x + m[7] * y + m[8];
  return {(m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w};
}

}  // namespace

struct Generator::Impl {
  FT_Library lib = nullptr;
  FT_Face seven = nullptr, odo = nullptr;
  mutable std::mutex mu;  // FreeType faces are not thread-safe
  ~Impl() {
    if (seven) FT_Done_Face(seven);
    if (odo) FT_Done_Face(odo);
    if (lib) FT_Done_FreeType(lib);
  }
  // Blends glyph c into the cell whose top-left is (x, y), vertically offset by dy, clipped to
  // the cell; ink is the glyph's grey level. Glyphs share the pen position and baseline of '8'
  // (centred in the cell), as on a real display: a '1' sits on the right-hand segments.
  void draw(Canvas& cv, FT_Face face, char c, int x, int y, int dy, float ink) const {
    if (FT_Load_Char(face, '8', FT_LOAD_RENDER)) return;
    const int left8 = face->glyph->bitmap_left, top8 = face->glyph->bitmap_top;
    const int w8 = static_cast<int>(face->glyph->bitmap.width),
              h8 = static_cast<int>(face->glyph->bitmap.rows);
    if (FT_Load_Char(face, static_cast<FT_ULong>(c), FT_LOAD_RENDER)) return;
    const FT_Bitmap& bm = face->glyph->bitmap;
    const int gx = x + (kCellW - w8) / 2 + (face->glyph->bitmap_left - left8);
    const int gy = y + (kCellH - h8) / 2 + (top8 - face->glyph->bitmap_top) + dy;
    for (unsigned r = 0; r < bm.rows; ++r) {
      for (unsigned col = 0; col < bm.width; ++col) {
        const int px = gx + static_cast<int>(col), py = gy + static_cast<int>(r);
        if (px < x || px >= x + kCellW || py < y || py >= y + kCellH || px >= cv.w || py >= cv.h)
          continue;
        const float a = bm.buffer[r * static_cast<unsigned>(bm.pitch) + col] / 255.0f;
        cv.at(px, py) = cv.at(px, py) * (1 - a) + ink * a;
      }
    }
  }
};

Expected<Generator> Generator::create(const Fonts& fonts, int digits, int crop_size) {
  if (digits < 1 || digits > 12) return Error{errc::kUsage, "a meter has 1..12 digits"};
  Generator g;
  g.impl_ = new Impl;
  g.digits_ = digits;
  g.crop_ = crop_size;
  if (FT_Init_FreeType(&g.impl_->lib)) return Error{"font", "FreeType failed to initialise"};
  for (auto [path, face] : {std::pair{fonts.seven_segment, &g.impl_->seven},
                            std::pair{fonts.odometer, &g.impl_->odo}}) {
    if (FT_New_Face(g.impl_->lib, path.c_str(), 0, face)) {
      return Error{"font",
                   "cannot load font '" + path + "' (install fonts-dseg and fonts-dejavu-core)"};
    }
  }
  FT_Set_Pixel_Sizes(g.impl_->seven, 0, static_cast<FT_UInt>(kCellH * 0.72));
  FT_Set_Pixel_Sizes(g.impl_->odo, 0, static_cast<FT_UInt>(kCellH * 0.78));
  return g;
}

Generator::Generator(Generator&& o) noexcept : impl_(o.impl_), digits_(o.digits_), crop_(o.crop_) {
  o.impl_ = nullptr;
}
Generator::~Generator() {
  delete impl_;
}

Damage Damage::scaled(double scale) const {
  Damage d = *this;
  d.noise_sigma *= scale;
  d.blur_passes = static_cast<int>(std::lround(blur_passes * scale));
  d.max_rotation_deg *= scale;
  d.max_keystone *= scale;
  d.lighting = std::min(0.9, lighting * scale);
  d.glare = std::min(1.0, glare * scale);
  return d;
}

Expected<MeterSample> Generator::render(uint64_t seed, Style style, const Damage& dmg) const {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const Layout L = layout();
  MeterSample s;
  s.style = style;
  Canvas cv(L.width, L.height, static_cast<float>(120 + 50 * u(rng)));  // the meter's panel
  const bool lcd = style == Style::seven_segment;
  const float glass =
      lcd ? static_cast<float>(175 + 40 * u(rng)) : static_cast<float>(15 + 25 * u(rng));
  cv.fill(L.x0 - 6, L.y0 - 6, digits_ * kCellW + 12, kCellH + 12, glass);
  std::vector<int> value(static_cast<size_t>(digits_));
  for (auto& d : value) d = static_cast<int>(u(rng) * 10) % 10;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (int i = 0; i < digits_; ++i) {
      const int x = L.x0 + i * kCellW, y = L.y0;
      const int d = value[static_cast<size_t>(i)];
      if (lcd) {
        impl_->draw(cv, impl_->seven, '8', x, y, 0, glass - 18);  // unlit segments show faintly
        impl_->draw(cv, impl_->seven, static_cast<char>('0' + d), x, y, 0, 35);
        s.labels.push_back(d);
        s.turned.push_back(0);
      } else {
        cv.fill(x + kCellW - 2, y, 2, kCellH, glass + 60);  // drum separator
        const bool rolling = i == digits_ - 1 && u(rng) < 0.4;
        if (rolling) {
          // Between d and d+1: d moves up by f of a cell and d+1 comes in from below.
          const double f = 0.1 + 0.8 * u(rng);
          const int off = static_cast<int>(f * kCellH);
          impl_->draw(cv, impl_->odo, static_cast<char>('0' + d), x, y, -off, 235);
          impl_->draw(cv, impl_->odo, static_cast<char>('0' + (d + 1) % 10), x, y, kCellH - off,
                      235);
          s.labels.push_back(f < 0.5 ? d : (d + 1) % 10);
          s.turned.push_back(f);
        } else {
          impl_->draw(cv, impl_->odo, static_cast<char>('0' + d), x, y, 0, 235);
          s.labels.push_back(d);
          s.turned.push_back(0);
        }
      }
    }
  }
  for (int l : s.labels) s.reading += static_cast<char>('0' + l);

  // Geometry: out → src homography = rotation about the centre and a keystone (perspective).
  const double cx = L.width / 2.0, cy = L.height / 2.0;
  const double theta = (2 * u(rng) - 1) * dmg.max_rotation_deg * M_PI / 180;
  const double k = (2 * u(rng) - 1) * dmg.max_keystone / L.height;
  const Mat3 t_in{1, 0, -cx, 0, 1, -cy, 0, 0, 1}, t_out{1, 0, cx, 0, 1, cy, 0, 0, 1};
  const Mat3 rot{
      std::cos(theta), -std::sin(theta), 0, std::sin(theta), std::cos(theta), 0, 0, 0, 1};
  const Mat3 keystone{1, 0, 0, 0, 1, 0, 0, k, 1};
  const Mat3 out_to_src = mul(t_out, mul(rot, mul(keystone, t_in)));
  Canvas warped(L.width, L.height, 0);
  for (int y = 0; y < L.height; ++y) {
    for (int x = 0; x < L.width; ++x) {
      auto [sx, sy] = apply(out_to_src, x, y);
      warped.at(x, y) = cv.bilinear(sx, sy);
    }
  }
  // Light: a linear gradient in a random direction, then maybe a glare spot.
  const double angle = 2 * M_PI * u(rng), strength = dmg.lighting * u(rng);
  const bool glare = u(rng) < dmg.glare;
  const double gx = L.width * u(rng), gy = L.height * u(rng), gr = 8 + 20 * u(rng),
               gv = 60 + 80 * u(rng);
  for (int y = 0; y < L.height; ++y) {
    for (int x = 0; x < L.width; ++x) {
      const double t = std::cos(angle) * (x / double(L.width) - 0.5) +
                       std::sin(angle) * (y / double(L.height) - 0.5);
      double v = warped.at(x, y) * (1 + strength * 2 * t);
      if (glare) v += gv * std::exp(-((x - gx) * (x - gx) + (y - gy) * (y - gy)) / (2 * gr * gr));
      warped.at(x, y) = static_cast<float>(v);
    }
  }
  for (int p = 0; p < dmg.blur_passes; ++p) {
    Canvas b = warped;
    for (int y = 0; y < L.height; ++y) {
      for (int x = 0; x < L.width; ++x) {
        float sum = 0;
        for (int j = -1; j <= 1; ++j)
          for (int i = -1; i <= 1; ++i) sum += warped.get(x + i, y + j);
        b.at(x, y) = sum / 9;
      }
    }
    warped = std::move(b);
  }
  std::normal_distribution<double> noise(0, std::max(1e-9, dmg.noise_sigma));
  for (auto& v : warped.px) v = std::clamp(static_cast<float>(v + noise(rng)), 0.0f, 255.0f);

  s.image.width = L.width;
  s.image.height = L.height;
  s.image.channels = 1;
  s.image.pixels.resize(warped.px.size());
  for (size_t i = 0; i < warped.px.size(); ++i)
    s.image.pixels[i] = static_cast<uint8_t>(warped.px[i]);
  // Digit crops are cut where a reader cuts them: at the nominal layout, without knowing the
  // rotation and perspective. A model trained on crops that follow the warp read only ~82 % of
  // the digits of real-layout crops (measured); trained on these, it learns the misalignment
  // it will see.
  for (int i = 0; i < digits_; ++i) s.digits.push_back(crop_digit(s.image, L, i, crop_));
  return s;
}

Expected<data::ImageSet> digit_crops(const Generator& gen, int meters, uint64_t first_seed) {
  data::ImageSet set;
  set.height = set.width = gen.crop_size();
  set.classes = 10;
  for (int i = 0; i < meters; ++i) {
    auto s = gen.render(first_seed + static_cast<uint64_t>(i),
                        i % 2 ? Style::odometer : Style::seven_segment);
    if (!s) return s.error();
    for (size_t d = 0; d < s->digits.size(); ++d) {
      set.pixels.insert(set.pixels.end(), s->digits[d].pixels.begin(), s->digits[d].pixels.end());
      set.labels.push_back(s->labels[d]);
    }
  }
  return set;
}

}  // namespace edgenas::meter
