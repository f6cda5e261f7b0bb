// IDX data set files (MNIST format).
#include "common/data/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)edgenas::data::parse_idx(std::vector<uint8_t>(data, data + size), "fuzz.idx");
  return 0;
}
