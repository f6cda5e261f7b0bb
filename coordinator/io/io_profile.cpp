#include "coordinator/io/io_profile.hpp"

#include <sys/resource.h>

#include <tuple>

#include <cstdio>

#include "common/util/log.hpp"

namespace edgenas::coordinator {

std::string_view to_string(IoPhase p) {
  static constexpr std::array<std::string_view, kIoPhases> names = {
      "zap", "recv", "handle", "policy", "admin", "tick", "hooks", "send", "commit_handoff"};
  return names[static_cast<std::size_t>(p)];
}

namespace {
template <std::size_t... I>
std::array<prom::Histogram, sizeof...(I)> histograms(std::index_sequence<I...>) {
  return {((void)I, prom::Histogram(prom::latency_buckets()))...};
}
}  // namespace

IoProfile::IoProfile(std::chrono::microseconds slow_round)
    : slow_round_(slow_round),
      phase_hist_(histograms(std::make_index_sequence<kIoPhases>())),
      busy_hist_(prom::latency_buckets()) {}

namespace {
// This thread's CPU time and involuntary context switches: a slow round with little CPU time
// was waiting; with switches, for a core (preempted); without, blocked or its vCPU not running.
std::pair<double, long> thread_usage() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  const auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return {s(u.ru_utime) + s(u.ru_stime), u.ru_nivcsw};
}
}  // namespace

void IoProfile::begin_round() {
  started_ = Clock::now();
  std::tie(started_cpu_s_, started_preemptions_) = thread_usage();
  round_.fill(Clock::duration::zero());
  messages_ = 0;
}

double IoProfile::phase_seconds(IoPhase p) const {
  return std::chrono::duration<double>(round_[static_cast<std::size_t>(p)]).count();
}

void IoProfile::end_round(std::string_view commit_state) {
  const auto busy = Clock::now() - started_;
  const double busy_s = std::chrono::duration<double>(busy).count();
  busy_hist_.observe(busy_s);
  for (std::size_t i = 0; i < kIoPhases; ++i) {
    if (round_[i] > Clock::duration::zero())
      phase_hist_[i].observe(phase_seconds(static_cast<IoPhase>(i)));
  }
  if (busy >= slow_round_) log_slow(busy_s, commit_state);
}

// At most one line a second; the lines left out are counted in the next one.
void IoProfile::log_slow(double busy_s, std::string_view commit_state) {
  slow_rounds_++;
  const auto now = Clock::now();
  if (now - last_slow_log_ < std::chrono::seconds(1)) {
    slow_unlogged_++;
    return;
  }
  last_slow_log_ = now;
  std::string phases;  // "recv=0.41 handle=2.10 ..." in ms, the phases that ran
  for (std::size_t i = 0; i < kIoPhases; ++i) {
    const auto p = static_cast<IoPhase>(i);
    if (round_[i] == Clock::duration::zero()) continue;
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.2f", phase_seconds(p) * 1e3);
    phases += (phases.empty() ? "" : " ") + std::string(to_string(p)) + "=" + ms;
  }
  const auto [cpu_s, preemptions] = thread_usage();
  log::warn("slow io round", {{"busy_ms", busy_s * 1e3},
                              {"cpu_ms", (cpu_s - started_cpu_s_) * 1e3},
                              {"preempted", preemptions - started_preemptions_},
                              {"messages", messages_},
                              {"phases_ms", phases},
                              {"commit", commit_state},
                              {"slow_rounds_not_logged", slow_unlogged_}});
  slow_unlogged_ = 0;
}

void IoProfile::write(prom::Text& t) const {
  t.family("edgenas_io_round_seconds", "histogram",
           "Busy time of one io-thread round (poll returned .. poll called again); a message "
           "that arrives during a round waits for its end");
  busy_hist_.write(t);
  t.family("edgenas_io_phase_seconds", "histogram",
           "Time one io-thread round spent in each phase (handle includes policy)");
  for (std::size_t i = 0; i < kIoPhases; ++i)
    phase_hist_[i].write(t, {{"phase", std::string(to_string(static_cast<IoPhase>(i)))}});
  t.family("edgenas_io_slow_rounds_total", "counter",
           "io-thread rounds busier than the slow-round threshold (each logged, at most one a "
           "second)");
  t.sample(static_cast<double>(slow_rounds_));
}

}  // namespace edgenas::coordinator
