#include "common/data/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "common/data/images.hpp"
#include "common/util/errors.hpp"

namespace edgenas::data {
namespace {
constexpr size_t kMaxDecompressed = size_t{2}
                                    << 30;  // 2 GiB: larger is not a data set we train on here
Error bad(const std::string& what, const std::string& msg) {
  return Error{"bad_data", what + ": " + msg};
}
}  // namespace

Expected<std::vector<uint8_t>> read_maybe_gzip(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return Error{errc::kNotFound, path + ": no such file"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{errc::kIo, path + ": cannot open"};
  std::vector<uint8_t> raw((std::istreambuf_iterator<char>(in)), {});
  if (raw.size() < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return Error{errc::kIo, path + ": zlib init failed"};
  std::vector<uint8_t> out;
  zs.next_in = raw.data();
  zs.avail_in = static_cast<uInt>(raw.size());
  int rc = Z_OK;
  uint8_t buf[1 << 16];
  while (rc != Z_STREAM_END) {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return bad(path, rc == Z_BUF_ERROR ? "gzip stream is truncated" : "corrupt gzip data");
    }
    out.insert(out.end(), buf, buf + (sizeof buf - zs.avail_out));
    if (out.size() > kMaxDecompressed) {
      inflateEnd(&zs);
      return bad(path, "decompresses to more than 2 GiB");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return bad(path, "gzip stream is truncated");
    }
  }
  inflateEnd(&zs);
  return out;
}

Expected<IdxTensor> parse_idx(const std::vector<uint8_t>& b, const std::string& what) {
  if (b.size() < 4) return bad(what, "too short for an IDX header");
  if (b[0] != 0 || b[1] != 0) return bad(what, "not an IDX file (bad magic)");
  if (b[2] != 0x08)
    return bad(what, "IDX element type " + std::to_string(b[2]) + " is not unsigned byte (0x08)");
  const int ndims = b[3];
  if (ndims < 1 || ndims > 4)
    return bad(what, "IDX must have 1..4 dimensions, has " + std::to_string(ndims));
  if (b.size() < 4 + 4 * static_cast<size_t>(ndims)) return bad(what, "IDX header is truncated");
  IdxTensor t;
  uint64_t count = 1;
  for (int i = 0; i < ndims; ++i) {
    const uint8_t* p = &b[4 + 4 * static_cast<size_t>(i)];
    const uint32_t d =
        (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    t.dims.push_back(d);
    count *= d;
    if (count > kMaxDecompressed) return bad(what, "IDX dimensions are implausibly large");
  }
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (b.size() - header != count) {
    return bad(what, "IDX holds " + std::to_string(b.size() - header) +
                         " data bytes, its header promises " + std::to_string(count) +
                         (b.size() - header < count ? " (truncated)" : ""));
  }
  t.data.assign(b.begin() + static_cast<long>(header), b.end());
  return t;
}

Status validate(const ImageSet& s, const std::string& what) {
  if (s.labels.empty()) return bad(what, "no samples");
  if (s.classes < 2) return bad(what, "needs at least 2 classes, has " + std::to_string(s.classes));
  if (s.pixels.size() != s.labels.size() * s.image_bytes())
    return bad(what, "pixel data does not match the image shape");
  std::vector<int64_t> per(static_cast<size_t>(s.classes), 0);
  for (int l : s.labels) {
    if (l < 0 || l >= s.classes)
      return bad(what,
                 "label " + std::to_string(l) + " is outside 0.." + std::to_string(s.classes - 1));
    per[static_cast<size_t>(l)]++;
  }
  for (int c = 0; c < s.classes; ++c) {
    if (per[static_cast<size_t>(c)] == 0)
      return bad(what, "class " + std::to_string(c) + " has no samples");
  }
  return ok_status();
}

Expected<ImageSet> load_idx(const std::string& images_path, const std::string& labels_path) {
  auto ib = read_maybe_gzip(images_path);
  if (!ib) return ib.error();
  auto lb = read_maybe_gzip(labels_path);
  if (!lb) return lb.error();
  auto images = parse_idx(*ib, images_path);
  if (!images) return images.error();
  auto labels = parse_idx(*lb, labels_path);
  if (!labels) return labels.error();
  if (images->dims.size() != 3 && images->dims.size() != 4) {
    return bad(images_path, "images must be N×H×W or N×H×W×C");
  }
  if (labels->dims.size() != 1) return bad(labels_path, "labels must be a vector of N");
  if (labels->dims[0] != images->dims[0]) {
    return bad(labels_path, std::to_string(labels->dims[0]) + " labels for " +
                                std::to_string(images->dims[0]) + " images");
  }
  ImageSet s;
  s.height = static_cast<int>(images->dims[1]);
  s.width = static_cast<int>(images->dims[2]);
  const int c = images->dims.size() == 4 ? static_cast<int>(images->dims[3]) : 1;
  if (s.height < 1 || s.width < 1 || c < 1 || c > 4)
    return bad(images_path, "image shape out of range");
  s.channels = c;
  const size_t n = images->dims[0], hw = static_cast<size_t>(s.height) * s.width;
  s.pixels.resize(n * hw * c);
  for (size_t i = 0; i < n; ++i) {  // HWC on disk → CHW in memory
    for (size_t p = 0; p < hw; ++p) {
      for (int k = 0; k < c; ++k)
        s.pixels[(i * c + k) * hw + p] = images->data[(i * hw + p) * c + k];
    }
  }
  s.labels.assign(labels->data.begin(), labels->data.end());
  s.classes = s.labels.empty() ? 0 : *std::max_element(s.labels.begin(), s.labels.end()) + 1;
  if (auto v = validate(s, images_path); !v) return v.error();
  return s;
}

Expected<ImageSet> load_image_folder(const std::string& dir, const std::string& labels_csv) {
  std::ifstream in(labels_csv);
  if (!in) return Error{errc::kNotFound, labels_csv + ": cannot open the labels CSV"};
  std::vector<std::pair<std::string, std::string>> rows;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto comma = line.find(',');
    if (comma == std::string::npos)
      return bad(labels_csv, "line " + std::to_string(lineno) + ": expected file,label");
    std::string file = line.substr(0, comma), label = line.substr(comma + 1);
    if (lineno == 1 && (file == "file" || file == "filename" || file == "path"))
      continue;  // header
    if (file.empty() || label.empty())
      return bad(labels_csv, "line " + std::to_string(lineno) + ": empty field");
    rows.emplace_back(file, label);
  }
  if (rows.empty()) return bad(labels_csv, "no rows");
  // Labels: integers as given, or names mapped to 0.. in sorted order.
  const bool numeric = std::all_of(rows.begin(), rows.end(), [](const auto& r) {
    return r.second.size() <= 6 && r.second.find_first_not_of("0123456789") == std::string::npos;
  });
  std::map<std::string, int> names;
  if (!numeric) {
    for (const auto& r : rows) names[r.second] = 0;
    int k = 0;
    for (auto& [name, id] : names) id = k++;
  }
  ImageSet s;
  for (const auto& [file, label] : rows) {
    const std::string path = dir + "/" + file;
    auto bytes = read_maybe_gzip(path);
    if (!bytes) return bytes.error();
    auto img = decode_image(*bytes, path);
    if (!img) return img.error();
    if (s.labels.empty()) {
      s.width = img->width;
      s.height = img->height;
      s.channels = img->channels;
    }
    Image use = s.channels == 1 ? to_grey(*img) : *img;
    if (use.width != s.width || use.height != s.height || use.channels != s.channels) {
      return bad(path, std::to_string(use.width) + "x" + std::to_string(use.height) + "x" +
                           std::to_string(use.channels) + " differs from the first image's " +
                           std::to_string(s.width) + "x" + std::to_string(s.height) + "x" +
                           std::to_string(s.channels));
    }
    const size_t hw = static_cast<size_t>(s.width) * s.height;
    const size_t base = s.pixels.size();
    s.pixels.resize(base + hw * s.channels);
    for (size_t p = 0; p < hw; ++p) {
      for (int k = 0; k < s.channels; ++k)
        s.pixels[base + k * hw + p] = use.pixels[p * s.channels + k];
    }
    s.labels.push_back(numeric ? std::stoi(label) : names[label]);
  }
  s.classes = *std::max_element(s.labels.begin(), s.labels.end()) + 1;
  if (auto v = validate(s, labels_csv); !v) return v.error();
  return s;
}

Expected<ImageSet> load_spec(const std::string& spec) {
  auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon == std::string::npos ? 0 : colon);
  const std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  auto comma = rest.find(',');
  if (kind == "idx") {
    if (comma == std::string::npos)
      return Error{errc::kUsage, "data spec '" + spec + "': use idx:IMAGES,LABELS"};
    return load_idx(rest.substr(0, comma), rest.substr(comma + 1));
  }
  if (kind == "folder") {
    const std::string dir = rest.substr(0, comma);
    const std::string csv =
        comma == std::string::npos ? dir + "/labels.csv" : rest.substr(comma + 1);
    return load_image_folder(dir, csv);
  }
  return Error{errc::kUsage,
               "data spec '" + spec + "': use idx:IMAGES,LABELS or folder:DIR[,LABELS.csv]"};
}

Expected<Split> split(const ImageSet& set, double validation_fraction, double test_fraction,
                      uint64_t seed) {
  if (validation_fraction < 0 || test_fraction < 0 || validation_fraction + test_fraction >= 1) {
    return Error{errc::kUsage, "validation and test fractions must be >= 0 and sum to less than 1"};
  }
  std::vector<std::vector<size_t>> by_class(static_cast<size_t>(set.classes));
  for (size_t i = 0; i < set.size(); ++i) by_class[static_cast<size_t>(set.labels[i])].push_back(i);
  std::mt19937_64 rng(seed);
  Split out;
  for (ImageSet* part : {&out.train, &out.validation, &out.test}) {
    part->channels = set.channels;
    part->height = set.height;
    part->width = set.width;
    part->classes = set.classes;
  }
  auto take = [&](ImageSet& part, size_t i) {
    const size_t b = set.image_bytes();
    part.pixels.insert(part.pixels.end(), set.pixels.begin() + static_cast<long>(i * b),
                       set.pixels.begin() + static_cast<long>((i + 1) * b));
    part.labels.push_back(set.labels[i]);
  };
  // Stratified: each class is cut into test, validation and train shares; then each part is
  // shuffled, so any prefix of a part (a subset of its first N images) holds every class.
  std::vector<size_t> test, validation, train;
  for (auto& idx : by_class) {
    std::shuffle(idx.begin(), idx.end(), rng);
    const auto n_test =
        static_cast<size_t>(std::lround(static_cast<double>(idx.size()) * test_fraction));
    const auto n_val =
        static_cast<size_t>(std::lround(static_cast<double>(idx.size()) * validation_fraction));
    for (size_t k = 0; k < idx.size(); ++k)
      (k < n_test ? test : (k < n_test + n_val ? validation : train)).push_back(idx[k]);
  }
  for (auto [part, idx] :
       {std::pair{&out.test, &test}, {&out.validation, &validation}, {&out.train, &train}}) {
    std::shuffle(idx->begin(), idx->end(), rng);
    for (size_t i : *idx) take(*part, i);
  }
  if (out.train.size() == 0) return Error{"bad_data", "the training split is empty"};
  return out;
}

}  // namespace edgenas::data
