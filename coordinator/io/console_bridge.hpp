#pragma once
// Hands the web console's requests from the HTTP thread to the io thread, which answers them
// in its round (ConsoleApi over AdminService), so the HTTP thread never touches the daemon's
// state and the io thread stays its only writer. The io thread polls wake_socket(); the answer
// goes back through the request's Reply, which posts the write to the HTTP thread.
#include <chrono>
#include <mutex>
#include <vector>

#include <zmq.hpp>

#include "common/util/http_status.hpp"

namespace edgenas::coordinator {

class ConsoleBridge {
 public:
  static constexpr std::size_t kMaxQueued = 1000;  // beyond it: 503, the io thread is behind
  struct Call {
    http::Request request;
    http::Reply reply;
    std::chrono::steady_clock::time_point queued;  // when the HTTP thread handed it over
  };

  explicit ConsoleBridge(zmq::context_t& ctx);
  // From the HTTP thread: queued for the io thread's next round.
  void submit(http::Request request, http::Reply reply);
  // The io thread: poll this socket, then take() what waits.
  zmq::socket_t& wake_socket() { return rx_; }
  std::vector<Call> take();
  // At shutdown, before the HTTP server goes: queued calls are dropped unanswered (their
  // connections close) and later ones get 503.
  void close();

 private:
  std::mutex mu_;
  std::vector<Call> queue_;
  bool closed_ = false;
  zmq::socket_t rx_, tx_;
};

}  // namespace edgenas::coordinator
