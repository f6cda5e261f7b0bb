// Device profile TOML files.
#include "agent/probes/profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)edgenas::agent::parse_profile(std::string(reinterpret_cast<const char*>(data), size),
                                      "fuzz.toml");
  return 0;
}
