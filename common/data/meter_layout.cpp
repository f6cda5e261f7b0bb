#include "common/data/meter_layout.hpp"

namespace edgenas::data {
Image crop_digit(const Image& meter, const MeterLayout& L, int i, int crop_size) {
  const double sx = meter.width / double(L.width), sy = meter.height / double(L.height);
  return crop_resize(meter, (L.x0 + i * L.cell_w) * sx, L.y0 * sy, L.cell_w * sx, L.cell_h * sy,
                     crop_size, crop_size);
}

}  // namespace edgenas::data
