#include "coordinator/io/console_bridge.hpp"

namespace edgenas::coordinator {

namespace {
http::Response unavailable(const std::string& why) {
  http::Response r;
  r.status = 503;
  r.body = R"({"ok":false,"code":"unavailable","message":")" + why + "\"}";
  return r;
}
}  // namespace

ConsoleBridge::ConsoleBridge(zmq::context_t& ctx)
    : rx_(ctx, zmq::socket_type::pair), tx_(ctx, zmq::socket_type::pair) {
  const std::string ep =
      "inproc://edgenas-console-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  rx_.bind(ep);
  tx_.connect(ep);
}

void ConsoleBridge::submit(http::Request request, http::Reply reply) {
  std::unique_lock lock(mu_);
  if (closed_) {
    lock.unlock();
    return reply(unavailable("the coordinator is stopping"));
  }
  if (queue_.size() >= kMaxQueued) {
    lock.unlock();
    return reply(unavailable("the coordinator is busy; try again"));
  }
  queue_.push_back({std::move(request), std::move(reply), std::chrono::steady_clock::now()});
  // One wake-up per batch: the io thread takes the whole queue when it wakes.
  if (queue_.size() == 1) tx_.send(zmq::str_buffer("x"), zmq::send_flags::dontwait);
}

std::vector<ConsoleBridge::Call> ConsoleBridge::take() {
  zmq::message_t m;
  while (rx_.recv(m, zmq::recv_flags::dontwait)) {
  }
  std::lock_guard lock(mu_);
  return std::exchange(queue_, {});
}

void ConsoleBridge::close() {
  std::vector<Call> dropped;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    dropped.swap(queue_);
  }
}

}  // namespace edgenas::coordinator
