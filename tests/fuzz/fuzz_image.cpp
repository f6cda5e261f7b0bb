// Image files of image-folder data sets (PNG through libpng, PGM by our parser).
#include "common/data/images.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)edgenas::data::decode_image(std::vector<uint8_t>(data, data + size), "fuzz.img");
  return 0;
}
