#pragma once
// Small loopback helpers shared by the simulator, the benchmarks and the integration tests:
// a free TCP port, and a plain HTTP/1.0 GET (for the daemons' /metrics and /healthz).
#include <string>
#include <utility>

namespace edgenas::net {

// A free TCP port on 127.0.0.1 (bound, read, released). Throws std::runtime_error when no
// socket can be bound (before: a failed bind went unnoticed and port 0 was returned).
int free_port();

// GET http://127.0.0.1:port/path; {status code, body}, or {-1, ""} when it fails. Waits at most
// timeout_s for the answer.
std::pair<int, std::string> http_get(int port, const std::string& path, int timeout_s = 5);

}  // namespace edgenas::net
