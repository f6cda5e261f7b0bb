// edgenas-search: the local NAS, bounded by the pushed hyperparameters.
//   run        search and train the best model for the local data within the bounds
//   inspect    the data set's shape (what the agent reports in its HparamRequest)
//   predict    classify images with a saved model
//   read-meter read whole meter images digit by digit
// Exit codes: 0 ok, 1 failed, 2 usage or input error.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "agent/search/run.hpp"
#include "common/data/dataset.hpp"
#include "common/data/images.hpp"
#include "common/ml/infer.hpp"
#include "common/ml/threads.hpp"
#include "common/util/config.hpp"
#include "common/util/daemon.hpp"
#include "common/util/utf8.hpp"
#include "simulations/meter/meter.hpp"

using namespace edgenas;
using nlohmann::json;

namespace {

constexpr int kExitUsage = 2;

int usage_error(const std::string& msg) {
  std::cerr << "edgenas-search: " << msg << "\n";
  return kExitUsage;
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

  auto* run = app.add_subcommand(
      "run",
      "search, train and save the best model. Writes OUT/best.edgenas, results.json (every\n"
      "trial), pareto.csv and pareto.svg. SIGTERM stops the search and keeps the best so far.");
  searchcli::RunOptions ro;
  std::string budget = "10m", progress = "auto";
  run->add_option("--hparams", ro.hparams_path, "JSON {layers, filters, kernel, loss, seed}")
      ->required();
  run->add_option("--context", ro.context_path,
                  "JSON {job, source[, dataset]}: T, free nodes, power (docs/PROTOCOL.md)")
      ->required();
  run->add_option("--data", ro.data_spec, "idx:IMAGES,LABELS or folder:DIR[,LABELS.csv]")
      ->required();
  run->add_option("--out", ro.out_dir, "output directory")->required();
  run->add_option("--budget", budget, "wall-clock budget for search and final training (90s, 10m)")
      ->capture_default_str();
  run->add_option("--trials", ro.max_trials,
                  "stop the search after this many trials (0: time only)");
  run->add_option("--strategy", ro.strategy, "random, evolution or sh (successive halving)")
      ->capture_default_str()
      ->check(CLI::IsMember({"random", "evolution", "sh"}));
  run->add_option("--workers", ro.workers,
                  "trials in parallel (capped by the free CPU nodes of the context)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  run->add_option("--epochs", ro.epochs, "epochs per trial (successive halving: the lowest rung)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  run->add_option("--trial-images", ro.trial_images,
                  "training images per trial epoch (a fraction of a larger set; the final "
                  "training uses all)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000'000));
  run->add_option("--final-share", ro.final_share,
                  "share of the budget for training the best architecture longer")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  run->add_option("--final-max-epochs", ro.final_max_epochs, "at most this many final epochs")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  run->add_option("--device", ro.device,
                  "target device: auto (from the Job and Source matrices), cpu, npu0, gpu0, ...")
      ->capture_default_str();
  run->add_option("--profile", ro.profile_path,
                  "device profile (TOML) with the latency model of devices not on this machine");
  run->add_flag("--model-cpu", ro.model_cpu,
                "the target CPU is another board's: model its latency from --profile");
  run->add_option("--energy-budget-mj", ro.energy_budget_mj,
                  "energy per inference the model must stay under (default: the tightest task's "
                  "energy estimate on the target device, if any)")
      ->check(CLI::Range(0.0, 1e9));
  run->add_option("--progress", progress, "auto, tty, log, or json (JSON lines on stdout)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "tty", "log", "json"}));

  auto* inspect = app.add_subcommand("inspect", "print the shape of a data set as JSON");
  std::string data_spec;
  inspect->add_option("--data", data_spec, "idx:IMAGES,LABELS or folder:DIR[,LABELS.csv]")
      ->required();

  auto* predict = app.add_subcommand("predict", "classify images with a saved model");
  std::string model_path;
  std::vector<std::string> images;
  predict->add_option("--model", model_path, "model file from `run`")->required();
  predict->add_option("IMAGE", images, "PNG or PGM files")->required();
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

  if (run->parsed()) {
    auto budget_ms = config::parse_duration_ms(budget);
    if (!budget_ms) return usage_error("--budget: " + budget_ms.error().message);
    ro.budget_ms = *budget_ms;
    if (ro.budget_ms <= 0 && ro.max_trials <= 0)
      return usage_error("give a --budget or a number of --trials");
    ro.progress = progress == "tty"    ? searchcli::ProgressMode::tty
                  : progress == "log"  ? searchcli::ProgressMode::log
                  : progress == "json" ? searchcli::ProgressMode::json
                                       : searchcli::ProgressMode::auto_detect;
    daemon::SignalWatcher signals;
    // When its agent dies, the pipe its progress goes to has no reader: a write must fail, not
    // kill the search with SIGPIPE before it keeps its best model for the restarted agent.
    std::signal(SIGPIPE, SIG_IGN);
    return searchcli::run_command(ro, signals.stop_requested());
  }

  if (inspect->parsed()) {
    auto set = data::load_spec(data_spec);
    if (!set) return usage_error(set.error().message);
    std::cout << json{{"classes", set->classes},
                      {"image_h", set->height},
                      {"image_w", set->width},
                      {"channels", set->channels},
                      {"samples", set->size()}}
                     .dump()
              << "\n";
    return 0;
  }

  // predict / read-meter
  ml::set_threads(1);
  auto m = ml::load_model(model_path);
  if (!m) return usage_error(m.error().message);
  const auto net = ml::InferenceNet::compile(m->net, m->input);
  json all = json::array();
  auto gen = meter::Generator::create();
  for (const auto& path : images) {
    auto img = load_image(path);
    if (!img) return usage_error(img.error().message);
    if (predict->parsed()) {
      auto p = net.predict_proba(to_input(*img, m->input))[0];
      const int cls = static_cast<int>(p.argmax().item<int64_t>());
      all.push_back({{"file", path}, {"class", cls}, {"confidence", p[cls].item<double>()}});
      if (!json_out) std::printf("%s\t%d\t%.3f\n", path.c_str(), cls, p[cls].item<double>());
      continue;
    }
    if (!gen) return usage_error(gen.error().message);
    std::string reading;
    json conf = json::array();
    for (int i = 0; i < gen->digits(); ++i) {
      auto crop = meter::crop_digit(*img, gen->layout(), i, m->input.width);
      auto p = net.predict_proba(to_input(crop, m->input))[0];
      const int d = static_cast<int>(p.argmax().item<int64_t>());
      reading += static_cast<char>('0' + d);
      conf.push_back(std::round(p[d].item<double>() * 1000) / 1000);
    }
    all.push_back({{"file", path}, {"reading", reading}, {"confidence", conf}});
    if (!json_out)
      std::printf("%s\t%s\t%s\n", path.c_str(), reading.c_str(), utf8::json_text(conf).c_str());
  }
  if (json_out) std::cout << utf8::json_text(all, 2) << "\n";
  return 0;
}
