#pragma once
// The reading side of the worked example: where each digit sits in a meter image of the layout
// edgenas-meter-gen draws, and the crop a digit model reads. The generator (simulations/meter)
// draws from the same layout; `edgenas-search read-meter` needs only this, not the generator.
#include "common/data/images.hpp"

namespace edgenas::data {

struct MeterLayout {
  int digits, width, height, cell_w, cell_h, x0, y0;
};

// The layout of an undamaged meter image with `digits` digit cells.
constexpr MeterLayout meter_layout(int digits = 6) {
  constexpr int kCellW = 40, kCellH = 64, kX0 = 24, kY0 = 20;
  return {digits, 2 * kX0 + digits * kCellW, 2 * kY0 + kCellH, kCellW, kCellH, kX0, kY0};
}

// Digit i of a meter image laid out as `layout` (scaled to the image, which may have been
// resized), as a crop_size × crop_size crop (bilinear).
Image crop_digit(const Image& meter, const MeterLayout& layout, int i, int crop_size);

}  // namespace edgenas::data
