#pragma once
// /metrics and /healthz over HTTP (Boost.Beast on its own Boost.Asio thread) for the daemons.
// The serving loop owns every counter; once per tick it renders the Prometheus page and
// publishes it to a StatusBoard, which also records that the loop is alive. The HTTP thread
// only copies the last page out: it never touches the daemon's state.
//   GET /metrics  200, the last page (text/plain; version=0.0.4)
//   GET /healthz  200 "ok" while the loop published within `stale_after`, else 503 with why
//   other paths 404, other methods 405; requests over 8 KiB or slower than 5 s are dropped.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/util/expected.hpp"

namespace edgenas::http {

class StatusBoard {
 public:
  void publish(std::string page);
  // The last page, and how long ago it was published (max when never).
  std::pair<std::string, std::chrono::milliseconds> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::string page_;
  std::chrono::steady_clock::time_point at_{};
  bool published_ = false;
};

class StatusServer {
 public:
  // endpoint: "HOST:PORT" (PORT 0: any free port). Binds now: a busy port is an error.
  static Expected<std::unique_ptr<StatusServer>> start(const std::string& endpoint,
                                                       const StatusBoard& board,
                                                       std::chrono::milliseconds stale_after,
                                                       int64_t bind_retry_ms = 0);
  ~StatusServer();
  int port() const;

 private:
  struct Impl;
  explicit StatusServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgenas::http
