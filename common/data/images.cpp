#include "common/data/images.hpp"
#include "common/util/errors.hpp"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace edgenas::data {
namespace {
constexpr int kMaxSide = 16384;
Error bad(const std::string& what, const std::string& msg) {
  return Error{"bad_data", what + ": " + msg};
}
}  // namespace

Expected<Image> decode_pgm(const std::vector<uint8_t>& b, const std::string& what) {
  size_t pos = 0;
  // Header tokens, skipping whitespace and # comments.
  auto token = [&]() -> std::string {
    while (pos < b.size()) {
      if (b[pos] == '#') {
        while (pos < b.size() && b[pos] != '\n') ++pos;
      } else if (std::isspace(b[pos])) {
        ++pos;
      } else {
        break;
      }
    }
    std::string t;
    while (pos < b.size() && !std::isspace(b[pos]) && t.size() < 16)
      t += static_cast<char>(b[pos++]);
    return t;
  };
  auto number = [&](const char* name) -> Expected<int> {
    std::string t = token();
    if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string::npos) {
      return bad(what, std::string("PGM header: bad ") + name);
    }
    return std::stoi(t);
  };
  const std::string magic = token();
  if (magic != "P5" && magic != "P2") return bad(what, "not a PGM file (P5 or P2)");
  auto w = number("width");
  if (!w) return w.error();
  auto h = number("height");
  if (!h) return h.error();
  auto maxval = number("maxval");
  if (!maxval) return maxval.error();
  if (*w < 1 || *h < 1 || *w > kMaxSide || *h > kMaxSide) return bad(what, "PGM size out of range");
  if (*maxval < 1 || *maxval > 255) return bad(what, "PGM maxval must be 1..255 (8-bit)");
  Image img;
  img.width = *w;
  img.height = *h;
  img.channels = 1;
  const size_t n = static_cast<size_t>(*w) * static_cast<size_t>(*h);
  img.pixels.resize(n);
  if (magic == "P5") {
    ++pos;  // exactly one whitespace byte after maxval
    if (b.size() < pos || b.size() - pos < n) return bad(what, "PGM pixel data is truncated");
    for (size_t i = 0; i < n; ++i) img.pixels[i] = static_cast<uint8_t>(b[pos + i] * 255 / *maxval);
  } else {
    for (size_t i = 0; i < n; ++i) {
      auto v = number("pixel");
      if (!v) return bad(what, "PGM pixel data is truncated or not numbers");
      if (*v > *maxval) return bad(what, "PGM pixel above maxval");
      img.pixels[i] = static_cast<uint8_t>(*v * 255 / *maxval);
    }
  }
  return img;
}

Expected<Image> decode_png(const std::vector<uint8_t>& bytes, const std::string& what) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size())) {
    return bad(what, std::string("not a readable PNG: ") + png.message);
  }
  if (png.width < 1 || png.height < 1 || png.width > kMaxSide || png.height > kMaxSide) {
    png_image_free(&png);
    return bad(what, "PNG size out of range");
  }
  const bool grey = (png.format & PNG_FORMAT_FLAG_COLOR) == 0;
  png.format = grey ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Image img;
  img.width = static_cast<int>(png.width);
  img.height = static_cast<int>(png.height);
  img.channels = grey ? 1 : 3;
  img.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, img.pixels.data(), 0, nullptr)) {
    std::string msg = png.message;
    png_image_free(&png);
    return bad(what, "corrupt PNG: " + msg);
  }
  return img;
}

Expected<Image> decode_image(const std::vector<uint8_t>& b, const std::string& what) {
  static const uint8_t kPng[] = {0x89, 'P', 'N', 'G'};
  if (b.size() >= 4 && std::memcmp(b.data(), kPng, 4) == 0) return decode_png(b, what);
  if (b.size() >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '2')) return decode_pgm(b, what);
  return bad(what, "neither PNG nor PGM");
}

Status write_pgm(const std::string& path, const Image& img) {
  if (img.channels != 1) return Error{"bad_data", path + ": PGM holds grey images only"};
  std::ofstream out(path, std::ios::binary);
  if (!out) return Error{errc::kIo, "cannot write " + path};
  out << "P5\n" << img.width << " " << img.height << "\n255\n";
  out.write(reinterpret_cast<const char*>(img.pixels.data()),
            static_cast<std::streamsize>(img.pixels.size()));
  return out ? ok_status() : Status(Error{errc::kIo, "write failed: " + path});
}

Status write_png(const std::string& path, const Image& img) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(img.width);
  png.height = static_cast<png_uint_32>(img.height);
  png.format = img.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&png, path.c_str(), 0, img.pixels.data(), 0, nullptr)) {
    return Error{errc::kIo, "cannot write PNG " + path + ": " + png.message};
  }
  return ok_status();
}

Image to_grey(const Image& img) {
  if (img.channels == 1) return img;
  Image g;
  g.width = img.width;
  g.height = img.height;
  g.channels = 1;
  g.pixels.resize(static_cast<size_t>(img.width) * img.height);
  for (size_t i = 0; i < g.pixels.size(); ++i) {
    const uint8_t* p = &img.pixels[i * 3];
    g.pixels[i] = static_cast<uint8_t>((299 * p[0] + 587 * p[1] + 114 * p[2]) / 1000);
  }
  return g;
}

Image crop_resize(const Image& img, double x, double y, double w, double h, int out_w, int out_h) {
  const Image g = to_grey(img);
  auto px = [&](int xx, int yy) {
    return static_cast<double>(
        g.pixels[static_cast<size_t>(std::clamp(yy, 0, g.height - 1)) * g.width +
                 std::clamp(xx, 0, g.width - 1)]);
  };
  Image out;
  out.width = out_w;
  out.height = out_h;
  out.channels = 1;
  out.pixels.resize(static_cast<size_t>(out_w) * out_h);
  for (int j = 0; j < out_h; ++j) {
    for (int i = 0; i < out_w; ++i) {
      const double sx = x + (i + 0.5) * w / out_w - 0.5, sy = y + (j + 0.5) * h / out_h - 0.5;
      const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      const double fx = sx - x0, fy = sy - y0;
      const double v = (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x0 + 1, y0)) +
                       fy * ((1 - fx) * px(x0, y0 + 1) + fx * px(x0 + 1, y0 + 1));
      out.pixels[static_cast<size_t>(j) * out_w + i] =
          static_cast<uint8_t>(std::clamp(v + 0.5, 0.0, 255.0));
    }
  }
  return out;
}

}  // namespace edgenas::data
