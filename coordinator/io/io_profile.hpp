#pragma once
// Where the coordinator's io thread spends its time, round by round. Each round (one return of
// poll) is cut into named phases; every phase gets a histogram on /metrics, the round's busy
// time gets one, and a round busier than `slow_round` is logged with its breakdown and the
// commit thread's state, so a stall is explained where it happens (docs/ARCHITECTURE.md,
// "The io thread's rounds").
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/prometheus.hpp"
#include "coordinator/core/hparam_service.hpp"

namespace edgenas::coordinator {

enum class IoPhase {
  zap,            // CURVE handshakes: answering ZAP requests
  recv,           // taking agent messages off the socket (decryption is in ZeroMQ's threads)
  handle,         // decoding and dispatching them in the core (the policy included)
  policy,         // of which: HparamService::choose (cold start or predictor)
  admin,          // admin calls
  tick,           // the core's liveness sweep
  hooks,          // the tick's hooks: predictor service, /metrics page
  send,           // handing replies to ZeroMQ
  commit_handoff  // turning a finished commit into Acks and handing over the next batch
};
inline constexpr std::size_t kIoPhases = 9;
std::string_view to_string(IoPhase p);

class IoProfile {
 public:
  using Clock = std::chrono::steady_clock;
  explicit IoProfile(std::chrono::microseconds slow_round = std::chrono::milliseconds(20));

  void begin_round();
  void add(IoPhase p, Clock::duration d) { round_[static_cast<std::size_t>(p)] += d; }
  template <class F>
  void time(IoPhase p, F&& f) {
    const auto t0 = Clock::now();
    f();
    add(p, Clock::now() - t0);
  }
  void count_messages(int64_t n) { messages_ += n; }
  // commit_state: what the commit thread is doing, for the slow-round log line.
  void end_round(std::string_view commit_state);
  void write(prom::Text& t) const;
  uint64_t slow_rounds() const { return slow_rounds_; }

 private:
  double phase_seconds(IoPhase p) const;
  void log_slow(double busy_s, std::string_view commit_state);

  std::chrono::microseconds slow_round_;
  Clock::time_point started_{};
  double started_cpu_s_ = 0;
  long started_preemptions_ = 0;
  std::array<Clock::duration, kIoPhases> round_{};
  int64_t messages_ = 0;
  std::array<prom::Histogram, kIoPhases> phase_hist_;
  prom::Histogram busy_hist_;
  uint64_t slow_rounds_ = 0, slow_unlogged_ = 0;
  Clock::time_point last_slow_log_{};
};

// The policy with its time counted as the round's `policy` phase.
class TimedHparamService final : public HparamService {
 public:
  TimedHparamService(HparamService& inner, IoProfile& profile) : inner_(inner), profile_(profile) {}
  proto::HparamReply choose(std::string_view agent_id, const proto::HparamRequest& req) override {
    const auto t0 = IoProfile::Clock::now();
    auto reply = inner_.choose(agent_id, req);
    profile_.add(IoPhase::policy, IoProfile::Clock::now() - t0);
    return reply;
  }
  std::string describe() const override { return inner_.describe(); }

 private:
  HparamService& inner_;
  IoProfile& profile_;
};

}  // namespace edgenas::coordinator
