// The agent's TOML config file.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/io/agent_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("edgenas-fuzz-agent-" + std::to_string(::getpid()) + ".toml"))
                                      .string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  edgenas::agent::AgentConfig cfg;
  (void)edgenas::agent::load_agent_config(path, cfg);
  return 0;
}
