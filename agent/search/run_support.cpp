#include "agent/search/run_support.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "common/ml/threads.hpp"
#include "common/util/errors.hpp"
#include "common/util/rapl.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::searchcli {
using nlohmann::json;

Progress::Progress(ProgressMode mode, int64_t interval_ms)
    : mode_(mode), interval_ms_(interval_ms) {
  if (mode_ == ProgressMode::auto_detect)
    mode_ = isatty(STDERR_FILENO) ? ProgressMode::tty : ProgressMode::log;
}

std::chrono::milliseconds Progress::tick_period() const {
  if (interval_ms_ > 0) return std::chrono::milliseconds(interval_ms_);
  return std::chrono::milliseconds(mode_ == ProgressMode::tty ? 1000 : json_mode() ? 5000 : 10000);
}

void Progress::event(const json& e) {
  std::lock_guard<std::mutex> lock(mu_);  // the ticker's thread reports too
  if (json_mode()) {
    std::cout << utf8::json_text(e) << std::endl;  // flushed: the agent reads it line by line
    return;
  }
  if (e["event"] == "running") return running_line(e);
  if (mode_ == ProgressMode::tty && e["event"] != "trial" && in_line_) {
    std::fprintf(stderr, "\n");
    in_line_ = false;
  }
  if (e["event"] == "trial") {
    trial_line(e);
  } else if (e.contains("message")) {
    std::fprintf(stderr, "%s\n", e["message"].get<std::string>().c_str());
  }
}

void Progress::finish_line() {
  std::lock_guard<std::mutex> lock(mu_);
  if (in_line_) std::fprintf(stderr, "\n");
  in_line_ = false;
}

void Progress::trial_line(const json& e) {
  const std::string source = e.value("latency_source", "measured");
  char line[256];
  std::snprintf(line, sizeof line,
                "trial %d%s  best acc %.4f  lat %.3f ms%s (T %.3g)  elapsed %.0fs  left %.0fs",
                e["trials_done"].get<int>(), e["trials_total"].get<std::string>().c_str(),
                e["best_accuracy"].get<double>(), e["best_latency_ms"].get<double>(),
                source == "measured" ? "" : (" " + source).c_str(), e["t_ms"].get<double>(),
                e["elapsed_s"].get<double>(), e["left_s"].get<double>());
  if (mode_ == ProgressMode::tty) {
    std::fprintf(stderr, "\r%-110s", line);
    in_line_ = true;
  } else {
    std::fprintf(stderr, "%s  [trial %d: %s acc %.4f lat %.3f ms]\n", line, e["trial"].get<int>(),
                 e["ok"].get<bool>() ? "ok" : "failed", e["accuracy"].get<double>(),
                 e["latency_ms"].get<double>());
  }
}

// "12s: search training c8k3s1b epoch 1/1 43% (9s), ...": the status line on a terminal, a log
// line otherwise.
void Progress::running_line(const json& e) {
  std::string line = std::to_string(static_cast<int>(e["elapsed_s"].get<double>())) +
                     "s: " + e["phase"].get<std::string>() + " training";
  const char* sep = " ";
  for (const auto& t : e["trainings"]) {
    char part[160];
    std::snprintf(part, sizeof part, "%s%s epoch %d/%d %.0f%% (%.0fs)", sep,
                  t["key"].get<std::string>().c_str(), t["epoch"].get<int>(),
                  t["epochs"].get<int>(), 100 * t["epoch_done"].get<double>(),
                  t["elapsed_s"].get<double>());
    line += part;
    sep = ", ";
  }
  if (mode_ == ProgressMode::tty) {
    std::fprintf(stderr, "\r%-110s", line.c_str());
    in_line_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

int usage_error(const std::string& msg) {
  std::cerr << "edgenas-search: " << msg << "\n";
  return kExitUsage;
}

int64_t training_deadline(int64_t start_ms, int64_t budget_ms) {
  return start_ms + budget_ms - std::max(budget_ms / 50, std::min<int64_t>(2000, budget_ms / 4));
}

std::pair<double, int> best_cpu_latency(const ml::InferenceNet& net,
                                        const search::InputShape& input, int max_threads) {
  double best = 0;
  int best_threads = 1;
  for (int t = 1; t <= max_threads; ++t) {
    ml::set_threads(t);
    const double ms = ml::measure_latency_ms(net, input, {20, 200});
    if (t == 1 || ms < best) {
      best = ms;
      best_threads = t;
    }
  }
  ml::set_threads(1);
  return {best, best_threads};
}

std::optional<double> rapl_energy_mj(const ml::InferenceNet& net, const search::InputShape& input,
                                     int threads) {
  auto rapl = RaplCounter::open();
  if (!rapl) return std::nullopt;
  ml::set_threads(threads);
  auto x = torch::rand({1, input.channels, input.height, input.width});
  const int runs = 2000;
  (void)rapl->joules_since_last();
  for (int i = 0; i < runs; ++i) (void)net.forward(x);
  auto joules = rapl->joules_since_last();
  ml::set_threads(1);
  if (!joules) return std::nullopt;
  return *joules * 1000.0 / runs;
}

Expected<data::Split> load_split(const std::string& data_spec, const std::string& test_spec,
                                 std::size_t& samples, std::string& test_source) {
  auto set = data::load_spec(data_spec);
  if (!set) return set.error();
  samples = set->size();
  test_source = test_spec.empty() ? "15% of --data, held out" : "--test " + test_spec;
  if (test_spec.empty()) return data::split(*set, 0.15, 0.15, kSplitSeed);
  auto test = data::load_spec(test_spec);
  if (!test) return Error{errc::kUsage, "--test: " + test.error().message};
  if (test->channels != set->channels || test->height != set->height || test->width != set->width) {
    return Error{errc::kUsage, "--test: its images are " + std::to_string(test->width) + "x" +
                                   std::to_string(test->height) + "x" +
                                   std::to_string(test->channels) + ", --data's " +
                                   std::to_string(set->width) + "x" + std::to_string(set->height) +
                                   "x" + std::to_string(set->channels)};
  }
  if (test->classes > set->classes) {
    return Error{errc::kUsage, "--test: it has " + std::to_string(test->classes) +
                                   " classes, --data " + std::to_string(set->classes)};
  }
  auto parts = data::split(*set, 0.15, 0, kSplitSeed);
  if (!parts) return parts.error();
  test->classes = set->classes;
  parts->test = std::move(*test);
  return parts;
}

}  // namespace edgenas::searchcli
