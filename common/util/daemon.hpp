#pragma once
// Process plumbing for the daemons: SIGTERM/SIGINT handling on a Boost.Asio signal_set
// (its own thread, so the serving loop only polls an atomic), random ids, the hostname.
#include <atomic>
#include <memory>
#include <string>

namespace edgenas::daemon {

// Watches SIGTERM, SIGINT (stop) and SIGHUP (reload) until destroyed.
class SignalWatcher {
 public:
  SignalWatcher();
  ~SignalWatcher();
  const std::atomic<bool>& stop_requested() const { return *stop_; }
  // True once per SIGHUP received.
  bool take_reload();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<std::atomic<bool>> stop_;
};

// 16 hex digits from the OS's random source.
std::string random_hex_id();
std::string hostname();
// The CPU architecture the kernel reports (uname -m): "x86_64", "aarch64".
std::string machine();

}  // namespace edgenas::daemon
