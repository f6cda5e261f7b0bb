// NAS-Bench-201 tables (CSV: any header, any rows).
#include <sstream>

#include "simulations/nb201/table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  (void)edgenas::sim::parse_nb201_table(in, "fuzz.csv");
  return 0;
}
