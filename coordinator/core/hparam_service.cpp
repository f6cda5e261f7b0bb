#include "coordinator/core/hparam_service.hpp"

namespace edgenas::coordinator {

uint32_t request_seed(std::string_view agent_id, std::string_view request_id) {
  uint32_t h = 2166136261u;
  for (auto s : {agent_id, std::string_view("/"), request_id}) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 16777619u;
    }
  }
  return h;
}

}  // namespace edgenas::coordinator
