#pragma once
// A blocking request/response client for admin-style endpoints (the coordinator's admin port,
// the agent's local socket). One DEALER, one request at a time, with a timeout.
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/protocol/curve.hpp"
#include "common/util/expected.hpp"

namespace edgenas::proto {

class AdminClient {
 public:
  // curve: encrypt and authenticate with these keys (the coordinator's admin port wants an
  // admin key); unset: plaintext (the agent's local ipc socket).
  AdminClient(std::string endpoint, int64_t timeout_ms,
              std::optional<CurveClient> curve = std::nullopt);
  ~AdminClient();
  AdminClient(AdminClient&&) noexcept;
  AdminClient& operator=(AdminClient&&) noexcept;
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
