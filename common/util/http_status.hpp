#pragma once
// /metrics and /healthz over HTTP (Boost.Beast on its own Boost.Asio thread) for the daemons.
// The serving loop owns every counter; once per tick it renders the Prometheus page and
// publishes it to a StatusBoard, which also records that the loop is alive. The HTTP thread
// only copies the last page out: it never touches the daemon's state.
//   GET /metrics  200, the last page (text/plain; version=0.0.4)
//   GET /healthz  200 "ok" while the loop published within `stale_after`, else 503 with why
//   other paths 404, other methods 405; requests over 8 KiB or slower than 5 s are dropped.
// A daemon may add routes (the coordinator's web console): a path under a route's prefix goes
// to its handler, which answers once, from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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

// What a route's handler sees of a request: only what the console needs.
struct Request {
  std::string method;              // GET, POST, ...
  std::string path;                // without the query
  std::string query;               // after '?', undecoded
  std::string cookie, csrf_token;  // the Cookie and X-CSRF-Token headers
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones (Set-Cookie, ...)
};

using Reply = std::function<void(Response)>;
struct Route {
  std::string prefix;  // "/api/": every path that starts with it
  std::function<void(Request, Reply)> handler;
};

class StatusServer {
 public:
  // endpoint: "HOST:PORT" (PORT 0: any free port). Binds now: a busy port is an error.
  // routes: answered by their handlers, first match wins; /metrics and /healthz stay fixed.
  static Expected<std::unique_ptr<StatusServer>> start(const std::string& endpoint,
                                                       const StatusBoard& board,
                                                       std::chrono::milliseconds stale_after,
                                                       int64_t bind_retry_ms = 0,
                                                       std::vector<Route> routes = {});
  ~StatusServer();
  int port() const;

 private:
  struct Impl;
  explicit StatusServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgenas::http
