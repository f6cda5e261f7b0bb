#pragma once
// A blocking request/response client for admin-style endpoints (the coordinator's admin port,
// the agent's local socket). One DEALER, one request at a time, with a timeout.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas::proto {

class AdminClient {
 public:
  AdminClient(std::string endpoint, int64_t timeout_ms);
  ~AdminClient();
  // Sends {op, args}; returns the result, or an Error with the server's code, or
  // code "unreachable" when no answer came within the timeout.
  Expected<nlohmann::json> call(const std::string& op,
                                const nlohmann::json& args = nlohmann::json::object());

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

inline constexpr std::string_view kUnreachable = "unreachable";

}  // namespace edgenas::proto
