#pragma once
// Labelled image sets loaded from files, validated, and split deterministically.
// Every loader gives a clear Error (naming the file and what is wrong) for a missing path, a
// corrupt or truncated file, inconsistent shapes or labels, and classes without samples.
#include <cstdint>
#include <string>
#include <vector>

#include "common/util/expected.hpp"

namespace edgenas::data {

struct ImageSet {
  int channels = 1, height = 0, width = 0;
  int classes = 0;
  std::vector<uint8_t> pixels;  // n × channels × height × width, row-major
  std::vector<int> labels;      // n labels in [0, classes)
  std::size_t size() const { return labels.size(); }
  std::size_t image_bytes() const { return static_cast<std::size_t>(channels) * height * width; }
};

// IDX (the MNIST format, http://yann.lecun.com/exdb/mnist/): unsigned-byte tensors, optionally
// gzip-compressed (detected from the content, not the name).
Expected<ImageSet> load_idx(const std::string& images_path, const std::string& labels_path);
// Parses IDX bytes already in memory (the fuzz target's entry).
struct IdxTensor {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;
};
Expected<IdxTensor> parse_idx(const std::vector<uint8_t>& bytes, const std::string& what);

// A folder of PNG or PGM images and a CSV of `file,label` lines (a header line is allowed;
// labels are integers or class names, mapped to 0.. in sorted order). All images must have
// the same size; colour images are converted to grey when the first one is grey.
Expected<ImageSet> load_image_folder(const std::string& dir, const std::string& labels_csv);

// "idx:IMAGES,LABELS" or "folder:DIR[,LABELS.csv]" (default DIR/labels.csv).
Expected<ImageSet> load_spec(const std::string& spec);

// Every class in [0, classes) has at least one sample; shapes agree.
Status validate(const ImageSet& set, const std::string& what);

struct Split {
  ImageSet train, validation, test;
};
// Stratified by class, shuffled with seed: the same inputs give the same split. The test part
// is for final reporting only; a search must use train and validation.
Expected<Split> split(const ImageSet& set, double validation_fraction, double test_fraction,
                      uint64_t seed);

// Reads a whole file, gunzipping it when it starts with the gzip magic.
Expected<std::vector<uint8_t>> read_maybe_gzip(const std::string& path);

}  // namespace edgenas::data
