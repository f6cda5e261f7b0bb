// edgenas-search: the local NAS, bounded by the pushed hyperparameters.
//   run        search and train the best model for the local data within the bounds
//   predict    classify images with a saved model
//   read-meter read whole meter images digit by digit
// Exit codes: 0 ok, 1 failed, 2 usage or input error.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/data/dataset.hpp"
#include "common/data/images.hpp"
#include "common/ml/evaluator.hpp"
#include "common/protocol/codec.hpp"
#include "common/search/search.hpp"
#include "common/util/config.hpp"
#include "common/util/daemon.hpp"
#include "simulations/meter/meter.hpp"

using namespace edgenas;
using nlohmann::json;

namespace {

constexpr int kExitFailed = 1, kExitUsage = 2;

int usage_error(const std::string& msg) {
  std::cerr << "edgenas-search: " << msg << "\n";
  return kExitUsage;
}

template <class T>
Expected<T> read_json_as(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) return Error{"usage", "cannot read " + path};
  try {
    return proto::from_json<T>(json::parse(in), what);
  } catch (const std::exception& e) {
    return Error{"usage", path + " is not JSON: " + e.what()};
  }
}

json trial_json(const search::TrialResult& t) {
  return {{"id", t.trial.id},
          {"spec", proto::to_json(t.trial.spec)},
          {"epochs", t.trial.fidelity.epochs},
          {"ok", t.eval.ok},
          {"error", t.eval.error},
          {"accuracy", t.eval.accuracy},
          {"latency_ms", t.eval.latency_ms},
          {"energy_mj", t.eval.energy_mj},
          {"energy_modelled", t.eval.energy_modelled},
          {"params", t.eval.params},
          {"flops", t.eval.flops},
          {"train_time_s", t.eval.train_time_s},
          {"reward", t.reward}};
}

// The accuracy/latency Pareto front as an SVG scatter (all trials grey, the front red).
void write_svg(const std::string& path, const search::SearchResult& r, double t_ms) {
  double max_lat = t_ms;
  for (const auto& t : r.trials) max_lat = std::max(max_lat, t.eval.latency_ms);
  const double W = 640, H = 420, L = 60, B = 50;
  auto px = [&](double lat) { return L + (W - L - 20) * lat / (max_lat * 1.05); };
  auto py = [&](double acc) { return H - B - (H - B - 20) * acc; };
  std::ofstream o(path);
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' font-family='sans-serif' font-size='12'>\n"
    << "<rect width='100%' height='100%' fill='white'/>\n"
    << "<line x1='" << L << "' y1='" << H - B << "' x2='" << W - 10 << "' y2='" << H - B
    << "' stroke='black'/>\n"
    << "<line x1='" << L << "' y1='20' x2='" << L << "' y2='" << H - B << "' stroke='black'/>\n"
    << "<text x='" << W / 2 << "' y='" << H - 12
    << "' text-anchor='middle'>batch-1 latency (ms)</text>\n"
    << "<text x='16' y='" << H / 2 << "' transform='rotate(-90 16 " << H / 2
    << ")' text-anchor='middle'>validation accuracy</text>\n"
    << "<line x1='" << px(t_ms) << "' y1='20' x2='" << px(t_ms) << "' y2='" << H - B
    << "' stroke='#36c' stroke-dasharray='4'/>\n"
    << "<text x='" << px(t_ms) + 4 << "' y='32' fill='#36c'>T = " << t_ms << " ms</text>\n";
  for (int k = 0; k <= 5; ++k) {
    o << "<text x='" << L - 8 << "' y='" << py(k / 5.0) + 4 << "' text-anchor='end'>" << k * 0.2
      << "</text>\n"
      << "<text x='" << px(max_lat * 1.05 * k / 5) << "' y='" << H - B + 16
      << "' text-anchor='middle'>" << std::round(max_lat * 1.05 * k / 5 * 100) / 100 << "</text>\n";
  }
  for (const auto& t : r.trials) {
    if (t.eval.ok)
      o << "<circle cx='" << px(t.eval.latency_ms) << "' cy='" << py(t.eval.accuracy)
        << "' r='3' fill='#bbb'/>\n";
  }
  std::string line;
  for (const auto& t : r.pareto)
    line += std::to_string(px(t.eval.latency_ms)) + "," + std::to_string(py(t.eval.accuracy)) + " ";
  o << "<polyline points='" << line << "' fill='none' stroke='#c33' stroke-width='2'/>\n";
  for (const auto& t : r.pareto)
    o << "<circle cx='" << px(t.eval.latency_ms) << "' cy='" << py(t.eval.accuracy)
      << "' r='4' fill='#c33'/>\n";
  o << "</svg>\n";
}

Expected<data::Image> load_image(const std::string& path) {
  auto bytes = data::read_maybe_gzip(path);
  if (!bytes) return bytes.error();
  return data::decode_image(*bytes, path);
}

// Grey image → the model's input size, as a 1×1×H×W tensor in [0, 1].
torch::Tensor to_input(const data::Image& img, const search::InputShape& in) {
  const data::Image g = data::crop_resize(img, 0, 0, img.width, img.height, in.width, in.height);
  return torch::from_blob(const_cast<uint8_t*>(g.pixels.data()), {1, 1, in.height, in.width},
                          torch::kUInt8)
      .to(torch::kFloat32)
      .div_(255.0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "edgenas-search: neural-architecture search on local data, inside the hyperparameter bounds\n"
      "the coordinator pushed (layers, filters, kernel, loss, seed), aware of the latency\n"
      "requirement T and the resources of the box.\nExit codes: 0 ok, 1 failed, 2 usage or input "
      "error."};
  app.require_subcommand(1);

  auto* run = app.add_subcommand("run", "search, train and save the best model");
  std::string hparams_path, context_path, data_spec, budget = "10m", out_dir,
                                                     strategy_name = "evolution";
  int workers = 2, max_trials = 0, epochs = 1;
  run->add_option("--hparams", hparams_path, "JSON {layers, filters, kernel, loss, seed}")
      ->required();
  run->add_option("--context", context_path, "JSON {job, source[, dataset]}: T, free nodes, power")
      ->required();
  run->add_option("--data", data_spec, "idx:IMAGES,LABELS or folder:DIR[,LABELS.csv]")->required();
  run->add_option("--budget", budget, "wall-clock budget (e.g. 90s, 10m)")->capture_default_str();
  run->add_option("--trials", max_trials, "stop after this many trials (0: time budget only)");
  run->add_option("--strategy", strategy_name, "random, evolution or sh (successive halving)")
      ->capture_default_str()
      ->check(CLI::IsMember({"random", "evolution", "sh"}));
  run->add_option("--workers", workers, "trials in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  run->add_option("--epochs", epochs,
                  "training epochs per trial (successive halving: the lowest rung)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  run->add_option("--out", out_dir, "output directory")->required();

  auto* predict = app.add_subcommand("predict", "classify images with a saved model");
  std::string model_path;
  std::vector<std::string> images;
  for (auto* sc : {predict}) {
    sc->add_option("--model", model_path, "model file from `run`")->required();
    sc->add_option("IMAGE", images, "PNG or PGM files")->required();
  }
  auto* read_meter = app.add_subcommand(
      "read-meter", "read whole meter images (6-digit layout of edgenas-meter-gen)");
  read_meter->add_option("--model", model_path, "digit model file from `run`")->required();
  read_meter->add_option("IMAGE", images, "meter images")->required();
  bool json_out = false;
  for (auto* sc : {predict, read_meter}) sc->add_flag("--json", json_out, "print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  if (predict->parsed() || read_meter->parsed()) {
    torch::set_num_threads(1);
    auto m = ml::load_model(model_path);
    if (!m) return usage_error(m.error().message);
    json all = json::array();
    auto gen = meter::Generator::create();
    for (const auto& path : images) {
      auto img = load_image(path);
      if (!img) return usage_error(img.error().message);
      if (predict->parsed()) {
        auto p = ml::predict_proba(m->net, to_input(*img, m->input))[0];
        const int cls = static_cast<int>(p.argmax().item<int64_t>());
        all.push_back({{"file", path}, {"class", cls}, {"confidence", p[cls].item<double>()}});
        if (!json_out) std::printf("%s\t%d\t%.3f\n", path.c_str(), cls, p[cls].item<double>());
      } else {
        if (!gen) return usage_error(gen.error().message);
        std::string reading;
        json conf = json::array();
        for (int i = 0; i < gen->digits(); ++i) {
          auto crop = meter::crop_digit(*img, gen->layout(), i, m->input.width);
          auto p = ml::predict_proba(m->net, to_input(crop, m->input))[0];
          const int d = static_cast<int>(p.argmax().item<int64_t>());
          reading += static_cast<char>('0' + d);
          conf.push_back(std::round(p[d].item<double>() * 1000) / 1000);
        }
        all.push_back({{"file", path}, {"reading", reading}, {"confidence", conf}});
        if (!json_out)
          std::printf("%s\t%s\t%s\n", path.c_str(), reading.c_str(), conf.dump().c_str());
      }
    }
    if (json_out) std::cout << all.dump(2) << "\n";
    return 0;
  }

  // --- run ---
  auto hp = read_json_as<Hyperparameters>(hparams_path, "hparams");
  if (!hp) return usage_error(hp.error().message);
  auto ctx = read_json_as<Context>(context_path, "context");
  if (!ctx) return usage_error(ctx.error().message);
  auto budget_ms = config::parse_duration_ms(budget);
  if (!budget_ms) return usage_error("--budget: " + budget_ms.error().message);
  auto set = data::load_spec(data_spec);
  if (!set) return usage_error(set.error().message);
  auto parts = data::split(*set, 0.15, 0.15, hp->seed);
  if (!parts) return usage_error(parts.error().message);
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return usage_error("cannot create " + out_dir + ": " + ec.message());

  const double t_ms = ctx->min_latency_req_ms().value_or(1000.0);
  const DeviceSource* cpu = ctx->device("cpu");
  // One torch thread per trial; as many parallel trials as the Source matrix has free cores.
  const int free_cores = cpu ? std::max(1, cpu->free_nodes) : 1;
  workers = std::min(workers, free_cores);
  torch::set_num_threads(1);
  ml::TorchEvaluator evaluator(parts->train, parts->validation,
                               {hp->loss, 64, std::max(0.1, ctx->source.power_w), {10, 50}});
  search::SearchSpace space(*hp);
  auto strategy = search::make_strategy(strategy_name, space, hp->seed, {epochs, 1.0});
  search::SearchOptions opts{workers, {*budget_ms / 1000, max_trials}, {t_ms, std::nullopt}};
  const bool tty = isatty(STDERR_FILENO);
  std::fprintf(
      stderr,
      "searching %s space: <=%d layers, <=%d filters, kernel <=%d, loss %s, seed %u; T = %.3g ms; "
      "%zu train / %zu validation / %zu test images; %d worker(s); budget %s%s\n",
      strategy->name().c_str(), hp->layers, hp->filters, hp->kernel,
      std::string(to_string(hp->loss)).c_str(), hp->seed, t_ms, parts->train.size(),
      parts->validation.size(), parts->test.size(), workers, budget.c_str(),
      max_trials ? (" or " + std::to_string(max_trials) + " trials").c_str() : "");
  daemon::SignalWatcher signals;
  SystemClock clock;
  const int64_t start = clock.now_ms();
  auto progress = [&](const search::TrialResult& t, const search::SearchResult& so_far) {
    const double elapsed = (clock.now_ms() - start) / 1000.0;
    const double eta = std::max(0.0, *budget_ms / 1000.0 - elapsed);
    const auto& b = so_far.best;
    char line[256];
    std::snprintf(line, sizeof line,
                  "trial %zu%s  best acc %.4f  lat %.3f ms (T %.3g)  elapsed %.0fs  left %.0fs",
                  so_far.trials.size(),
                  max_trials ? ("/" + std::to_string(max_trials)).c_str() : "",
                  b ? b->eval.accuracy : 0.0, b ? b->eval.latency_ms : 0.0, t_ms, elapsed, eta);
    if (tty) {
      std::fprintf(stderr, "\r%-100s", line);
    } else {
      std::fprintf(stderr, "%s  [trial %d: %s acc %.4f lat %.3f ms]\n", line, t.trial.id,
                   t.eval.ok ? "ok" : "failed", t.eval.accuracy, t.eval.latency_ms);
    }
  };
  auto result =
      search::run_search(*strategy, evaluator, opts, clock, &signals.stop_requested(), progress);
  if (tty) std::fprintf(stderr, "\n");
  if (!result.best) {
    std::cerr << "edgenas-search: no trial succeeded (" << result.trials.size() << " tried)\n";
    return kExitFailed;
  }

  // Retrain the best architecture with its seed (same weights as in its trial), test once.
  const auto& best = *result.best;
  ml::Net net(best.trial.spec, evaluator.input());
  ml::init_weights(net, best.trial.seed);
  ml::TrainOptions to;
  to.loss = hp->loss;
  to.epochs = best.trial.fidelity.epochs;
  to.seed = best.trial.seed;
  ml::train(net, parts->train, to);
  const double test_acc = ml::accuracy(net, parts->test);
  const double latency = ml::measure_latency_ms(net, evaluator.input(), {10, 100});
  const bool met = latency <= t_ms;
  json summary{{"status", "ok"},
               {"stop_reason", result.stop_reason},
               {"elapsed_s", result.elapsed_s},
               {"trials", result.trials.size()},
               {"strategy", strategy->name()},
               {"hparams", proto::to_json(*hp)},
               {"latency_req_ms", t_ms},
               {"best",
                {{"spec", proto::to_json(best.trial.spec)},
                 {"validation_accuracy", best.eval.accuracy},
                 {"test_accuracy", test_acc},
                 {"latency_ms", latency},
                 {"latency_device", "cpu"},
                 {"latency_modelled", false},
                 {"energy_mj", std::max(0.1, ctx->source.power_w) * latency},
                 {"energy_modelled", true},
                 {"met_latency", met},
                 {"params", best.eval.params},
                 {"flops", best.eval.flops}}}};
  json all = json::array();
  for (const auto& t : result.trials) all.push_back(trial_json(t));
  summary["all_trials"] = all;
  json front = json::array();
  std::ofstream csv(out_dir + "/pareto.csv");
  csv << "trial,accuracy,latency_ms,energy_mj,params,flops,spec\n";
  for (const auto& t : result.pareto) {
    front.push_back(t.trial.id);
    csv << t.trial.id << "," << t.eval.accuracy << "," << t.eval.latency_ms << ","
        << t.eval.energy_mj << "," << t.eval.params << "," << t.eval.flops << ","
        << t.trial.spec.key() << "\n";
  }
  summary["pareto_trials"] = front;
  std::ofstream(out_dir + "/results.json") << summary.dump(2) << "\n";
  write_svg(out_dir + "/pareto.svg", result, t_ms);
  if (auto s = ml::save_model(
          out_dir + "/best.edgenas", best.trial.spec, evaluator.input(),
          {{"test_accuracy", test_acc}, {"latency_ms", latency}, {"hparams", proto::to_json(*hp)}},
          net);
      !s) {
    std::cerr << "edgenas-search: " << s.error().message << "\n";
    return kExitFailed;
  }
  std::printf(
      "best: %s\n  validation accuracy %.4f, test accuracy %.4f, latency %.3f ms (T %.3g ms: %s), "
      "%lld params\n"
      "  %zu trials in %.0f s (%s); wrote %s/{best.edgenas,results.json,pareto.csv,pareto.svg}\n",
      best.trial.spec.key().c_str(), best.eval.accuracy, test_acc, latency, t_ms,
      met ? "met" : "MISSED", static_cast<long long>(best.eval.params), result.trials.size(),
      result.elapsed_s, result.stop_reason.c_str(), out_dir.c_str());
  return 0;
}
