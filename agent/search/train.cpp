#include "agent/search/train.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "agent/search/run_support.hpp"
#include "common/ml/net.hpp"
#include "common/ml/threads.hpp"
#include "common/protocol/codec.hpp"
#include "common/search/space.hpp"
#include "common/util/errors.hpp"
#include "common/util/files.hpp"

namespace edgenas::searchcli {
namespace {

using nlohmann::json;

// The checked inputs of a training.
struct TrainInputs {
  search::ArchSpec spec;
  Loss loss = Loss::cross_entropy;
  data::Split parts;
  std::size_t samples = 0;
  std::string test_source;
  search::InputShape input;
  int threads = 1;
};

Expected<TrainInputs> prepare(const TrainCommandOptions& o) {
  TrainInputs in;
  auto spec = search::ArchSpec::from_key(o.arch);
  if (!spec) return Error{errc::kUsage, "--arch '" + o.arch + "' is not an architecture key"};
  in.spec = *spec;
  auto loss = loss_from_string(o.loss);
  if (!loss) return Error{errc::kUsage, "--loss '" + o.loss + "' is not a loss"};
  in.loss = *loss;
  if (o.budget_ms <= 0) return Error{errc::kUsage, "--budget must be positive"};
  auto parts = load_split(o.data_spec, o.test_spec, in.samples, in.test_source);
  if (!parts) return parts.error();
  in.parts = std::move(*parts);
  const auto& t = in.parts.train;
  in.input = {t.channels, t.height, t.width, t.classes};
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  in.threads = std::clamp(o.workers, 1, hw);
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return Error{errc::kUsage, "cannot create " + o.out_dir + ": " + ec.message()};
  return in;
}

// Epochs until the deadline (at most max_epochs), cosine decay over the time.
ml::TrainStats train_for_budget(ml::Net& net, const TrainInputs& in, const TrainCommandOptions& o,
                                int64_t deadline_ms, const std::atomic<bool>& stop,
                                ml::TrainProgress& progress) {
  ml::TrainOptions to;
  to.loss = in.loss;
  to.epochs = o.max_epochs;
  to.cosine_decay = true;
  to.seed = o.seed;
  to.stop = &stop;
  to.deadline_ms = deadline_ms;
  to.until_deadline = true;
  to.progress = &progress;
  ml::set_threads(in.threads);
  auto stats = ml::train(net, in.parts.train, to);
  ml::set_threads(1);
  return stats;
}

json results_json(const TrainInputs& in, const TrainCommandOptions& o, const ml::TrainStats& st,
                  double elapsed_s, double val_acc, double test_acc, double cpu_ms, int threads) {
  const auto cost = search::cost_of(in.spec, in.input);
  return {{"status", "ok"},
          {"mode", "train"},
          {"elapsed_s", elapsed_s},
          {"budget_s", static_cast<double>(o.budget_ms) / 1000},
          {"workers", in.threads},
          {"loss", o.loss},
          {"seed", o.seed},
          {"dataset",
           {{"classes", in.input.classes},
            {"samples", in.samples},
            {"train", in.parts.train.size()},
            {"validation", in.parts.validation.size()},
            {"test", in.parts.test.size()},
            {"test_source", in.test_source}}},
          {"best",
           {{"spec", proto::to_json(in.spec)},
            {"key", in.spec.key()},
            {"epochs", st.epochs},
            {"images_seen", st.images_seen},
            {"stopped", st.stopped},
            {"validation_accuracy", val_acc},
            {"test_accuracy", test_acc},
            {"cpu_latency_ms", cpu_ms},
            {"cpu_threads", threads},
            {"params", cost.params},
            {"flops", cost.flops}}},
          {"accuracy_splits",
           {{"validation_accuracy", "validation split"},
            {"test_accuracy", "test split (" + in.test_source + ")"}}}};
}

}  // namespace

int train_command(const TrainCommandOptions& o, const std::atomic<bool>& stop) {
  auto prepared = prepare(o);
  if (!prepared) return usage_error(prepared.error().message);
  const TrainInputs& in = *prepared;
  Progress progress(o.progress, o.progress_interval_ms);
  const int64_t start = ml::steady_now_ms();
  auto elapsed_s = [&] { return static_cast<double>(ml::steady_now_ms() - start) / 1000; };
  const int64_t deadline = training_deadline(start, o.budget_ms);
  progress.event(
      {{"event", "start"},
       {"message", "training " + in.spec.key() + " for " + std::to_string(o.budget_ms / 1000) +
                       " s (at most " + std::to_string(o.max_epochs) + " epochs) on " +
                       std::to_string(in.threads) + " thread(s); " +
                       std::to_string(in.parts.train.size()) + " train / " +
                       std::to_string(in.parts.test.size()) + " test images"},
       {"budget_s", static_cast<double>(o.budget_ms) / 1000}});
  ml::Net net(in.spec, in.input);
  ml::init_weights(net, o.seed);
  ml::TrainProgress tp;
  ml::TrainStats stats;
  {
    Ticker ticker(progress, elapsed_s);
    ticker.watch("train", [&] { return std::vector{ml::training_now(in.spec.key(), start, tp)}; });
    stats = train_for_budget(net, in, o, deadline, stop, tp);
  }
  progress.finish_line();
  const double val_acc = ml::accuracy(net, in.parts.validation);
  const double test_acc = ml::accuracy(net, in.parts.test);
  const auto [cpu_ms, threads] =
      best_cpu_latency(ml::InferenceNet::compile(net, in.input), in.input, in.threads);
  const json summary = results_json(in, o, stats, elapsed_s(), val_acc, test_acc, cpu_ms, threads);
  const json meta{{"test_accuracy", test_acc}, {"latency_ms", cpu_ms}, {"trained_by", "train"}};
  if (auto s = ml::save_model(o.out_dir + "/best.edgenas", in.spec, in.input, meta, net); !s)
    return std::cerr << "edgenas-search: " << s.error().message << "\n", kExitFailed;
  if (auto s = files::write_json_atomic(o.out_dir + "/results.json", summary); !s)
    return std::cerr << "edgenas-search: " << s.error().message << "\n", kExitFailed;
  std::printf(
      "trained %s: %d epochs in %.0f s, validation accuracy %.4f, test accuracy %.4f, "
      "latency %.3f ms; wrote %s/{best.edgenas,results.json}\n",
      in.spec.key().c_str(), stats.epochs, elapsed_s(), val_acc, test_acc, cpu_ms,
      o.out_dir.c_str());
  return 0;
}

}  // namespace edgenas::searchcli
