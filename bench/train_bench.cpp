// edgenas-train-bench: trains one architecture of the search space on a data set and reports
// training throughput, accuracy and batch-1 latency, as JSON. bench/torch_vs_pytorch.sh runs it
// beside bench/train_bench.py (the same network in PyTorch) on the same data; it is also the
// tool for comparing training recipes on a fixed network.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "common/data/dataset.hpp"
#include "common/ml/infer.hpp"
#include "common/ml/threads.hpp"
#include "common/protocol/codec.hpp"

using namespace edgenas;
using nlohmann::json;

namespace {

// IDX (ubyte) files of a split, for the Python side of the comparison.
void write_idx(const std::string& prefix, const data::ImageSet& set) {
  auto be32 = [](std::ofstream& o, uint32_t v) {
    const unsigned char b[4] = {static_cast<unsigned char>(v >> 24),
                                static_cast<unsigned char>(v >> 16),
                                static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    o.write(reinterpret_cast<const char*>(b), 4);
  };
  std::ofstream img(prefix + "-images.idx", std::ios::binary),
      lab(prefix + "-labels.idx", std::ios::binary);
  be32(img, 0x0803);
  be32(img, static_cast<uint32_t>(set.size()));
  be32(img, static_cast<uint32_t>(set.height));
  be32(img, static_cast<uint32_t>(set.width));
  img.write(reinterpret_cast<const char*>(set.pixels.data()),
            static_cast<std::streamsize>(set.pixels.size()));
  be32(lab, 0x0801);
  be32(lab, static_cast<uint32_t>(set.size()));
  for (int l : set.labels) lab.put(static_cast<char>(l));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgenas-train-bench: train one architecture, report images/s, accuracy, latency"};
  std::string data_spec, spec_json, dump;
  int epochs = 1, batch = 64, threads = 1, runs = 200;
  double lr = 2e-3;
  uint64_t seed = 1;
  app.add_option("--data", data_spec, "idx:IMAGES,LABELS or folder:DIR")->required();
  app.add_option("--spec", spec_json, "ArchSpec JSON {blocks: [...], head_width}")->required();
  app.add_option("--epochs", epochs)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--threads", threads, "torch intra-op threads")->capture_default_str();
  app.add_option("--lr", lr, "learning rate (Adam)")->capture_default_str();
  bool cosine = false;
  app.add_flag("--cosine", cosine, "cosine decay of the learning rate (as the final training)");
  app.add_option("--seed", seed)->capture_default_str();
  app.add_option("--latency-runs", runs)->capture_default_str();
  app.add_option("--dump-idx", dump, "also write the train/validation splits as IDX to PREFIX-*");
  CLI11_PARSE(app, argc, argv);

  ml::set_threads(threads);
  auto set = data::load_spec(data_spec);
  if (!set) return std::cerr << set.error().message << "\n", 2;
  auto parts = data::split(*set, 0.15, 0.15, seed);
  if (!parts) return std::cerr << parts.error().message << "\n", 2;
  if (!dump.empty()) {
    write_idx(dump + "-train", parts->train);
    write_idx(dump + "-val", parts->validation);
  }
  auto spec = proto::from_json<search::ArchSpec>(json::parse(spec_json), "spec");
  if (!spec) return std::cerr << spec.error().message << "\n", 2;
  const search::InputShape in{parts->train.channels, parts->train.height, parts->train.width,
                              parts->train.classes};
  ml::Net net(*spec, in);
  ml::init_weights(net, seed);
  ml::TrainOptions o;
  o.epochs = epochs;
  o.batch_size = batch;
  o.learning_rate = lr;
  o.cosine_decay = cosine;
  o.seed = seed;
  const auto stats = ml::train(net, parts->train, o);
  const double val = ml::accuracy(net, parts->validation);
  ml::set_threads(1);
  const auto plan = ml::InferenceNet::compile(net, in);
  const double lat = ml::measure_latency_ms(plan, in, {20, runs});
  const double lat_default =
      ml::measure_latency_ms(ml::InferenceNet::compile(net, in, false), in, {20, runs});
  // The eager module as a PyTorch user would run it: eval(), no_grad.
  double eager = 0;
  {
    torch::NoGradGuard no_grad;
    net->eval();
    auto x = torch::rand({1, in.channels, in.height, in.width});
    for (int i = 0; i < 20; ++i) net->forward(x);
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      (void)net->forward(x).data_ptr<float>();
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
    eager = ms[ms.size() / 2];
  }
  json out{{"images_per_s", static_cast<double>(stats.images_seen) / stats.seconds},
           {"train_s", stats.seconds},
           {"images", stats.images_seen},
           {"validation_accuracy", val},
           {"latency_ms", lat},
           {"latency_untuned_ms", lat_default},
           {"latency_eager_ms", eager},
           {"blas_convolutions", plan.blas_convolutions()},
           {"plan", ml::InferenceNet::name(plan.layout())},
           {"params", search::cost_of(*spec, in).params},
           {"flops", search::cost_of(*spec, in).flops}};
  std::cout << out.dump() << "\n";
  return 0;
}
