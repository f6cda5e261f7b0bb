#pragma once
// Synthetic meter readings for training and testing the digit reader (the worked example).
// Two display styles:
//   seven_segment: an LCD register, dark segments on a grey-green glass, faint unlit segments;
//   odometer:      white digits on black drums; the last drum may be rolling between two values
//                  (its label is the digit showing more than half).
// Then photometric and geometric damage: uneven lighting, glare, small rotation and
// perspective, blur, sensor noise. Everything derives from the seed: same seed, same image.
#include <cstdint>
#include <string>
#include <vector>

#include "common/data/dataset.hpp"
#include "common/data/images.hpp"
#include "common/data/meter_layout.hpp"
#include "common/util/expected.hpp"

namespace edgenas::meter {

enum class Style { seven_segment, odometer };

struct Damage {
  double noise_sigma = 8;  // grey levels
  int blur_passes = 1;     // 3×3 box blur passes
  double max_rotation_deg = 3;
  double max_keystone = 0.04;  // top edge shrinks by up to this fraction (perspective)
  double lighting = 0.35;      // strength of a linear illumination gradient
  double glare = 0.5;          // probability of a glare spot

  // Every strength times `scale` (0: clean; 1: these defaults; 2.5: a camera in poor light):
  // lighting at most 0.9, glare a probability, blur passes rounded.
  Damage scaled(double scale) const;
};

struct MeterSample {
  data::Image image;                // the whole meter (grey)
  std::string reading;              // e.g. "004271"
  std::vector<data::Image> digits;  // one crop per digit, crop_size × crop_size, grey
  std::vector<int> labels;          // the digit each crop shows
  // Per crop, how far its drum has turned from the digit it left toward the next one, in (0, 1);
  // 0 when it is not rolling. The label flips at 0.5, so a drum turned near half is hard to read
  // even for a person (bench/digit_errors.py counts a reader's errors by this distance).
  std::vector<double> turned;
  Style style = Style::seven_segment;
};

struct Fonts {
  std::string seven_segment = "/usr/share/fonts/truetype/dseg/DSEG7Classic-Regular.ttf";
  std::string odometer = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf";
};

class Generator {
 public:
  // Fails with a clear error when a font file is missing or unreadable.
  static Expected<Generator> create(const Fonts& fonts = {}, int digits = 6, int crop_size = 28);
  Generator(Generator&&) noexcept;
  ~Generator();
  Expected<MeterSample> render(uint64_t seed, Style style, const Damage& damage = {}) const;
  int digits() const { return digits_; }
  int crop_size() const { return crop_; }

  // Where each digit sits in an undamaged meter image (common/data/meter_layout).
  using Layout = data::MeterLayout;
  Layout layout() const { return data::meter_layout(digits_); }

 private:
  Generator() = default;
  struct Impl;
  Impl* impl_ = nullptr;
  int digits_ = 6, crop_ = 28;
};

using data::crop_digit;

// The digit crops of `meters` rendered meters (seeds first_seed, first_seed + 1, ...; the two
// styles alternate), as a labelled image set: a small real-looking test set.
Expected<data::ImageSet> digit_crops(const Generator& gen, int meters, uint64_t first_seed);

}  // namespace edgenas::meter
