#pragma once
// Single-image codecs: PNG (libpng) and PGM (P5 binary, P2 text), decoded to grey or RGB bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "common/util/expected.hpp"

namespace edgenas::data {

struct Image {
  int width = 0, height = 0, channels = 1;  // 1 = grey, 3 = RGB
  std::vector<uint8_t> pixels;              // height × width × channels (interleaved)
};

Expected<Image> decode_pgm(const std::vector<uint8_t>& bytes, const std::string& what);
Expected<Image> decode_png(const std::vector<uint8_t>& bytes, const std::string& what);
// By content: PNG signature or "P5"/"P2".
Expected<Image> decode_image(const std::vector<uint8_t>& bytes, const std::string& what);

Status write_pgm(const std::string& path, const Image& img);  // grey only
Status write_png(const std::string& path, const Image& img);

// Luma (ITU-R BT.601) of an RGB image; grey images are returned unchanged.
Image to_grey(const Image& img);

// The rectangle (x, y, w, h) of img, in pixels and possibly fractional or partly outside (edges
// repeat), resampled bilinearly to out_w × out_h grey pixels.
Image crop_resize(const Image& img, double x, double y, double w, double h, int out_w, int out_h);

}  // namespace edgenas::data
