#pragma once
// Small loopback helpers shared by the simulator, the benchmarks and the integration tests:
// a free TCP port, and plain HTTP/1.0 requests (the daemons' /metrics, /healthz, the console).
#include <string>
#include <utility>
#include <vector>

namespace edgenas::net {

// A free TCP port on 127.0.0.1 (bound, read, released). Throws std::runtime_error when no
// socket can be bound (before: a failed bind went unnoticed and port 0 was returned).
int free_port();

// GET http://127.0.0.1:port/path; {status code, body}, or {-1, ""} when it fails. Waits at most
// timeout_s for the answer.
std::pair<int, std::string> http_get(int port, const std::string& path, int timeout_s = 5);

// Any HTTP/1.0 request to 127.0.0.1:port; status -1 when it fails.
struct HttpAnswer {
  int status = -1;
  std::string headers;  // the header lines, as sent
  std::string body;
  std::string header(const std::string& name) const;  // the first one so named ("" if none)
};
HttpAnswer http_call(int port, const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                     const std::string& body = "", int timeout_s = 5);

}  // namespace edgenas::net
