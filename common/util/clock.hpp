#pragma once
// Time is injected: cores ask a Clock, tests advance a ManualClock and never sleep.
#include <chrono>
#include <cstdint>

namespace edgenas {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds, for timers and liveness.
  virtual int64_t now_ms() const = 0;
  // Wall-clock milliseconds since the Unix epoch, for timestamps on the wire and in the store.
  virtual int64_t wall_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
  int64_t wall_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'000'000) : now_(start_ms) {}
  int64_t now_ms() const override { return now_; }
  int64_t wall_ms() const override { return 1'700'000'000'000 + now_; }
  void advance(int64_t ms) { now_ += ms; }

 private:
  int64_t now_;
};

}  // namespace edgenas
