// Device profile TOML files.
#include "common/model/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)edgenas::parse_profile(std::string(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  return 0;
}
