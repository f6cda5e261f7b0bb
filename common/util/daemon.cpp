#include "common/util/daemon.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <functional>
#include <random>
#include <thread>

#include "common/util/log.hpp"

namespace edgenas::daemon {

struct SignalWatcher::Impl {
  boost::asio::io_context io;
  boost::asio::signal_set signals{io, SIGTERM, SIGINT, SIGHUP};
  std::atomic<bool> reload{false};
  std::thread thread;
};

SignalWatcher::SignalWatcher()
    : impl_(std::make_unique<Impl>()), stop_(std::make_shared<std::atomic<bool>>(false)) {
  using Handler = std::function<void(const boost::system::error_code&, int)>;
  auto stop = stop_;
  Impl* impl = impl_.get();
  // The handler re-arms itself after each signal; the thread owns it, the handler holds a
  // weak reference so there is no cycle.
  auto handler = std::make_shared<Handler>();
  *handler = [stop, impl, weak = std::weak_ptr<Handler>(handler)](
                 const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      impl->reload = true;
      log::info("SIGHUP received: reload requested");
    } else {
      log::info("stop requested", {{"signal", sig}});
      stop->store(true);
    }
    if (auto self = weak.lock()) impl->signals.async_wait(*self);
  };
  impl_->signals.async_wait(*handler);
  impl_->thread = std::thread([impl, handler] { impl->io.run(); });
}

SignalWatcher::~SignalWatcher() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool SignalWatcher::take_reload() {
  return impl_->reload.exchange(false);
}

std::string random_hex_id() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string machine() {
  struct utsname u {};
  if (uname(&u) != 0) return "unknown";
  return u.machine;
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace edgenas::daemon
