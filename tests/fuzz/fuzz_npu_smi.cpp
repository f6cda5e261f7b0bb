// Output of `npu-smi info` (a tool's text, parsed by the agent).
#include "agent/probes/probes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)edgenas::agent::NpuSmiPlugin::parse(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
