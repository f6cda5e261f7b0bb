// edgenas-search: the local NAS, bounded by the pushed hyperparameters.
//   run        search and train the best model for the local data within the bounds
//   train      train one given architecture for the budget (a baseline, or a known network)
//   inspect    the data set's shape (what the agent reports in its HparamRequest)
//   predict    classify images with a saved model
//   read-meter read whole meter images digit by digit
//   export     write a saved model as ONNX, for runtimes that know nothing of edgenas
// Exit codes: 0 ok, 1 failed, 2 usage or input error.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "agent/search/run.hpp"
#include "agent/search/run_support.hpp"
#include "agent/search/train.hpp"
#include "common/data/dataset.hpp"
#include "common/data/images.hpp"
#include "common/data/meter_layout.hpp"
#include "common/ml/infer.hpp"
#include "common/ml/onnx_export.hpp"
#include "common/ml/threads.hpp"
#include "common/util/config.hpp"
#include "common/util/daemon.hpp"
#include "common/util/utf8.hpp"

using namespace edgenas;
using nlohmann::json;

namespace {

using searchcli::usage_error;

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

// --progress and --progress-interval, as run and train take them.
void add_progress_flags(CLI::App* cmd, std::string& mode, std::string& interval) {
  cmd->add_option("--progress", mode, "auto, tty, log, or json (JSON lines on stdout)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "tty", "log", "json"}));
  cmd->add_option("--progress-interval", interval,
                  "how often the trainings under way are reported (default: 1s on a terminal, "
                  "5s as JSON, 10s in a log)");
}

// The progress flags' values into the options; false (with the message printed) when invalid.
bool read_progress_flags(const std::string& mode, const std::string& interval,
                         searchcli::ProgressMode& out_mode, int64_t& out_interval_ms) {
  if (!interval.empty()) {
    auto every = config::parse_duration_ms(interval);
    if (!every || *every < 100) {
      usage_error("--progress-interval: a duration of at least 100ms, e.g. 2s");
      return false;
    }
    out_interval_ms = *every;
  }
  out_mode = mode == "tty"    ? searchcli::ProgressMode::tty
             : mode == "log"  ? searchcli::ProgressMode::log
             : mode == "json" ? searchcli::ProgressMode::json
                              : searchcli::ProgressMode::auto_detect;
  return true;
}

// run and train: options, the budget and progress flags as given, the parsed subcommand.
template <class Options>
struct LongCommand {
  CLI::App* cmd = nullptr;
  Options o;
  std::string budget = "10m", progress = "auto", progress_interval;
};
using RunCommand = LongCommand<searchcli::RunOptions>;
using TrainCommand = LongCommand<searchcli::TrainCommandOptions>;

// Runs a long command with SIGTERM and SIGINT as its stop flag, once its progress flags are
// read. When its agent dies, the pipe its progress goes to has no reader: a write must fail,
// not kill the search with SIGPIPE before it keeps its best model for the restarted agent.
template <class Options>
int until_stopped(LongCommand<Options>& c,
                  int (*command)(const Options&, const std::atomic<bool>&)) {
  if (!read_progress_flags(c.progress, c.progress_interval, c.o.progress, c.o.progress_interval_ms))
    return searchcli::kExitUsage;
  daemon::SignalWatcher signals;
  std::signal(SIGPIPE, SIG_IGN);
  return command(c.o, signals.stop_requested());
}

void add_run(CLI::App& app, RunCommand& c) {
  c.cmd = app.add_subcommand(
      "run",
      "search, train and save the best model. Writes OUT/best.edgenas, results.json (every\n"
      "trial), pareto.csv and pareto.svg. SIGTERM stops the search and keeps the best so far.");
  c.cmd->add_option("--hparams", c.o.hparams_path, "JSON {layers, filters, kernel, loss, seed}")
      ->required();
  c.cmd
      ->add_option("--context", c.o.context_path,
                   "JSON {job, source[, dataset]}: T, free nodes, power (docs/PROTOCOL.md)")
      ->required();
  c.cmd
      ->add_option("--data", c.o.data_spec,
                   "idx:IMAGES,LABELS or folder:DIR[,LABELS.csv]: split 70/15/15 into train, "
                   "validation and test (85/15 train and validation with --test)")
      ->required();
  c.cmd->add_option("--test", c.o.test_spec,
                    "a separate test set (same forms as --data, same image shape and classes): "
                    "the delivered model is scored on it instead of on a share of --data");
  c.cmd->add_option("--out", c.o.out_dir, "output directory")->required();
  c.cmd
      ->add_option("--budget", c.budget,
                   "wall-clock budget for search and final training (90s, 10m); 0 with "
                   "--trials: a trial budget alone, reproducible from the seed")
      ->capture_default_str();
  c.cmd->add_option("--trials", c.o.max_trials,
                    "stop the search after this many trials (0: time only)");
  c.cmd->add_option("--strategy", c.o.strategy, "random, evolution or sh (successive halving)")
      ->capture_default_str()
      ->check(CLI::IsMember({"random", "evolution", "sh"}));
  c.cmd
      ->add_option("--workers", c.o.workers,
                   "trials in parallel (capped by the free CPU nodes of the context)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  c.cmd
      ->add_option("--epochs", c.o.epochs, "epochs per trial (successive halving: the lowest rung)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  c.cmd
      ->add_option("--trial-images", c.o.trial_images,
                   "training images per trial epoch (a fraction of a larger set; the final "
                   "training uses all)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000'000));
  c.cmd
      ->add_option("--final-share", c.o.final_share,
                   "share of the budget for training the best architecture longer")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  c.cmd
      ->add_option(
          "--final-max-epochs", c.o.final_max_epochs,
          "at most this many final epochs (by default as many as the rest of the budget allows)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  c.cmd
      ->add_option("--final-epochs", c.o.final_epochs,
                   "with a trial budget alone (--budget 0 --trials N): epochs of final training, "
                   "by epochs rather than time so a seed gives the same model (0: the best "
                   "trial's weights are the model)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  c.cmd
      ->add_option("--device", c.o.device,
                   "target device: auto (from the Job and Source matrices), cpu, npu0, gpu0, ...")
      ->capture_default_str();
  c.cmd->add_option("--profile", c.o.profile_path,
                    "device profile (TOML) with the latency model of devices not on this machine");
  c.cmd->add_flag("--model-cpu", c.o.model_cpu,
                  "the target CPU is another board's: model its latency from --profile");
  c.cmd
      ->add_option("--latency-models", c.o.latency_models_path,
                   "the fleet's latency models (JSON, as the agent keeps them): a target this "
                   "machine cannot measure whose --profile device names a `kind` with a model "
                   "past its gate is predicted by it (outputs say predicted, with the version) "
                   "instead of modelled from FLOPs")
      ->check(CLI::ExistingFile);
  c.cmd
      ->add_option("--energy-budget-mj", c.o.energy_budget_mj,
                   "energy per inference the model must stay under (default: the tightest task's "
                   "energy estimate on the target device, if any)")
      ->check(CLI::Range(0.0, 1e9));
  c.cmd->add_option("--incumbent", c.o.incumbent_path,
                    "the box's current model (an earlier run's best.edgenas on this data): "
                    "scored beside the new one on the same split; results.json's incumbent "
                    "says which to keep");
  c.cmd->add_flag("--export-onnx", c.o.export_onnx,
                  "also write the model as ONNX (OUT/best.onnx; see `export --help`)");
  add_progress_flags(c.cmd, c.progress, c.progress_interval);
}

int run_run(RunCommand& c) {
  auto budget_ms = config::parse_duration_ms(c.budget);
  if (!budget_ms) return usage_error("--budget: " + budget_ms.error().message);
  c.o.budget_ms = *budget_ms;
  if (c.o.budget_ms <= 0 && c.o.max_trials <= 0)
    return usage_error("give a --budget or a number of --trials");
  if (c.o.final_epochs > 0 && c.o.budget_ms > 0)
    return usage_error("--final-epochs is for a trial budget alone (--budget 0 --trials N)");
  return until_stopped(c, searchcli::run_command);
}

void add_train(CLI::App& app, TrainCommand& c) {
  c.cmd = app.add_subcommand(
      "train",
      "train one given architecture for the whole budget with the same trainer as run's final\n"
      "training (cosine decay, as many epochs as fit), then test and save it like run does.");
  c.cmd
      ->add_option("--arch", c.o.arch,
                   "architecture key, e.g. c32k3s1b-c64k3s2b-c64k3s2b-h128 (per block: channels, "
                   "kernel, stride, b = batch norm, r = residual, h = h-swish; then the head)")
      ->required();
  c.cmd->add_option("--data", c.o.data_spec, "as for run")->required();
  c.cmd->add_option("--test", c.o.test_spec, "as for run");
  c.cmd->add_option("--out", c.o.out_dir, "output directory")->required();
  c.cmd->add_option("--budget", c.budget, "wall-clock budget (90s, 10m)")->capture_default_str();
  c.cmd->add_option("--loss", c.o.loss, "cross_entropy, focal or label_smoothing_ce")
      ->capture_default_str();
  c.cmd->add_option("--seed", c.o.seed, "weights and data order")->capture_default_str();
  c.cmd->add_option("--workers", c.o.workers, "torch threads (at most this machine's cores)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  c.cmd
      ->add_option("--max-epochs", c.o.max_epochs,
                   "at most this many epochs (by default as many as the budget allows)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  add_progress_flags(c.cmd, c.progress, c.progress_interval);
}

int run_train(TrainCommand& c) {
  auto budget_ms = config::parse_duration_ms(c.budget);
  if (!budget_ms || *budget_ms <= 0) return usage_error("--budget: a duration such as 10m");
  c.o.budget_ms = *budget_ms;
  return until_stopped(c, searchcli::train_command);
}

struct InspectCommand {
  CLI::App* cmd = nullptr;
  std::string data_spec;
};

void add_inspect(CLI::App& app, InspectCommand& c) {
  c.cmd = app.add_subcommand("inspect", "print the shape of a data set as JSON");
  c.cmd->add_option("--data", c.data_spec, "idx:IMAGES,LABELS or folder:DIR[,LABELS.csv]")
      ->required();
}

int run_inspect(const InspectCommand& c) {
  auto set = data::load_spec(c.data_spec);
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

// predict and read-meter: a saved model on image files.
struct PredictCommand {
  CLI::App* cmd = nullptr;
  bool meters = false;  // read-meter: whole meters, digit by digit
  std::string model_path;
  std::vector<std::string> images;
  bool json_out = false;
};

void add_predict(CLI::App& app, PredictCommand& c, bool meters) {
  c.meters = meters;
  if (!meters) {
    c.cmd = app.add_subcommand("predict", "classify images with a saved model");
    c.cmd->add_option("--model", c.model_path, "model file from `run`")->required();
    c.cmd->add_option("IMAGE", c.images, "PNG or PGM files")->required();
  } else {
    c.cmd = app.add_subcommand("read-meter",
                               "read whole meter images (6-digit layout of edgenas-meter-gen)");
    c.cmd->add_option("--model", c.model_path, "digit model file from `run`")->required();
    c.cmd->add_option("IMAGE", c.images, "meter images")->required();
  }
  c.cmd->add_flag("--json", c.json_out, "print JSON");
}

int run_predict(const PredictCommand& c) {
  ml::set_threads(1);
  auto m = ml::load_model(c.model_path);
  if (!m) return usage_error(m.error().message);
  const auto net = ml::InferenceNet::compile(m->net, m->input);
  json all = json::array();
  const data::MeterLayout layout = data::meter_layout();
  for (const auto& path : c.images) {
    auto img = load_image(path);
    if (!img) return usage_error(img.error().message);
    if (!c.meters) {
      auto p = net.predict_proba(to_input(*img, m->input))[0];
      const int cls = static_cast<int>(p.argmax().item<int64_t>());
      all.push_back({{"file", path}, {"class", cls}, {"confidence", p[cls].item<double>()}});
      if (!c.json_out) std::printf("%s\t%d\t%.3f\n", path.c_str(), cls, p[cls].item<double>());
      continue;
    }
    std::string reading;
    json conf = json::array();
    for (int i = 0; i < layout.digits; ++i) {
      auto crop = data::crop_digit(*img, layout, i, m->input.width);
      auto p = net.predict_proba(to_input(crop, m->input))[0];
      const int d = static_cast<int>(p.argmax().item<int64_t>());
      reading += static_cast<char>('0' + d);
      conf.push_back(std::round(p[d].item<double>() * 1000) / 1000);
    }
    all.push_back({{"file", path}, {"reading", reading}, {"confidence", conf}});
    if (!c.json_out)
      std::printf("%s\t%s\t%s\n", path.c_str(), reading.c_str(), utf8::json_text(conf).c_str());
  }
  if (c.json_out) std::cout << utf8::json_text(all, 2) << "\n";
  return 0;
}

// export: a saved model as ONNX (common/ml/onnx_export.hpp says what the file holds).
struct ExportCommand {
  CLI::App* cmd = nullptr;
  std::string model_path, format = "onnx", out;
};

void add_export(CLI::App& app, ExportCommand& c) {
  c.cmd = app.add_subcommand(
      "export",
      "write a saved model as ONNX (opset 13): input \"pixels\" float32 NCHW with pixel values "
      "0..255 (the graph scales them), output \"logits\"; the contract is in the file's metadata");
  c.cmd->add_option("--model", c.model_path, "model file from `run` or `train`")->required();
  c.cmd->add_option("--format", c.format, "onnx (the only one)")
      ->check(CLI::IsMember({"onnx"}))
      ->default_val("onnx");
  c.cmd->add_option("-o,--out", c.out, "the file to write")->required();
}

int run_export(const ExportCommand& c) {
  auto m = ml::load_model(c.model_path);
  if (!m) return usage_error(m.error().message);
  if (auto s = ml::export_onnx(c.out, m->net, m->spec, m->input); !s) {
    std::fprintf(stderr, "edgenas-search export: %s\n", s.error().message.c_str());
    return 1;
  }
  std::printf("%s: %s, ONNX opset %d\n", c.out.c_str(), m->spec.key().c_str(), ml::kOnnxOpset);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "edgenas-search: neural-architecture search on local data, inside the hyperparameter bounds\n"
      "the coordinator pushed (layers, filters, kernel, loss, seed), aware of the latency\n"
      "requirement T and the resources of the box.\nExit codes: 0 ok, 1 failed, 2 usage or input "
      "error."};
  app.require_subcommand(1);
  RunCommand run;
  add_run(app, run);
  TrainCommand train;
  add_train(app, train);
  InspectCommand inspect;
  add_inspect(app, inspect);
  PredictCommand predict, read_meter;
  add_predict(app, predict, false);
  add_predict(app, read_meter, true);
  ExportCommand export_cmd;
  add_export(app, export_cmd);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : searchcli::kExitUsage;
  }
  if (run.cmd->parsed()) return run_run(run);
  if (train.cmd->parsed()) return run_train(train);
  if (inspect.cmd->parsed()) return run_inspect(inspect);
  if (export_cmd.cmd->parsed()) return run_export(export_cmd);
  return run_predict(predict.cmd->parsed() ? predict : read_meter);
}
