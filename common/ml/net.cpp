#include "common/ml/net.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <sstream>

#include "common/protocol/codec.hpp"
#include "common/search/paired.hpp"
#include "common/util/errors.hpp"
#include "common/util/framed.hpp"

namespace edgenas::ml {

BlockImpl::BlockImpl(int in_channels, const search::BlockSpec& spec)
    : spec_(spec),
      use_residual_(spec.residual && spec.stride == 1 && in_channels == spec.out_channels) {
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                        in_channels, spec.out_channels, spec.kernel)
                                                        .stride(spec.stride)
                                                        .padding(spec.kernel / 2)
                                                        .bias(!spec.batch_norm)));
  if (spec.batch_norm) bn_ = register_module("bn", torch::nn::BatchNorm2d(spec.out_channels));
}

torch::Tensor BlockImpl::forward(torch::Tensor x) {
  auto y = conv_->forward(x);
  if (spec_.batch_norm) y = bn_->forward(y);
  y = spec_.activation == search::Activation::relu ? torch::relu(y) : torch::hardswish(y);
  return use_residual_ ? y + x : y;
}

NetImpl::NetImpl(const search::ArchSpec& spec, const search::InputShape& input) {
  blocks_ = register_module("blocks", torch::nn::Sequential());
  int ch = input.channels;
  for (const auto& b : spec.blocks) {
    blocks_->push_back(Block(ch, b));
    ch = b.out_channels;
  }
  int features = ch;
  if (spec.head_width > 0) {
    hidden_ = register_module("hidden", torch::nn::Linear(features, spec.head_width));
    features = spec.head_width;
  }
  classifier_ = register_module("classifier", torch::nn::Linear(features, input.classes));
}

torch::Tensor NetImpl::forward(torch::Tensor x) {
  x = blocks_->forward(x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  if (hidden_) x = torch::relu(hidden_->forward(x));
  return classifier_->forward(x);
}

void init_weights(Net& net, uint64_t seed) {
  std::mt19937_64 rng(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) {
    auto& t = p.value();
    const std::string& name = p.key();
    if (name.find("bn.weight") != std::string::npos) {
      t.fill_(1.0);
    } else if (name.find("bias") != std::string::npos) {
      t.zero_();
    } else {
      const int64_t fan_in = t.numel() / t.size(0);
      const double bound = std::sqrt(6.0 / static_cast<double>(std::max<int64_t>(1, fan_in)));
      std::uniform_real_distribution<float> u(static_cast<float>(-bound),
                                              static_cast<float>(bound));
      std::vector<float> values(static_cast<size_t>(t.numel()));
      for (auto& v : values) v = u(rng);
      t.copy_(torch::from_blob(values.data(), t.sizes(), torch::kFloat32));
    }
  }
}

torch::Tensor to_tensor(const data::ImageSet& set) {
  auto t = torch::empty({static_cast<int64_t>(set.size()), set.channels, set.height, set.width},
                        torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), set.pixels.data(), set.pixels.size());
  return t.to(torch::kFloat32).div_(255.0);
}

torch::Tensor loss_of(Loss loss, const torch::Tensor& logits, const torch::Tensor& targets) {
  namespace F = torch::nn::functional;
  switch (loss) {
    case Loss::cross_entropy:
      return F::cross_entropy(logits, targets);
    case Loss::label_smoothing_ce:
      return F::cross_entropy(logits, targets, F::CrossEntropyFuncOptions().label_smoothing(0.1));
    case Loss::focal: {
      // Lin et al. 2017, gamma = 2: down-weights examples the model already gets right.
      auto logp = torch::log_softmax(logits, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
      return (-(1 - logp.exp()).pow(2.0) * logp).mean();
    }
  }
  return F::cross_entropy(logits, targets);
}

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

// The run's share done, for the learning-rate schedule: by steps, or by time until the deadline
// (by steps too when the epochs asked for end first).
double schedule_progress(const TrainOptions& o, int64_t started_ms, int64_t step,
                         double total_steps) {
  const double by_steps = static_cast<double>(step) / total_steps;
  if (!o.until_deadline) return by_steps;
  const auto span = static_cast<double>(std::max<int64_t>(1, o.deadline_ms - started_ms));
  const double by_time = static_cast<double>(steady_now_ms() - started_ms) / span;
  return std::clamp(std::max(by_steps, by_time), 0.0, 1.0);
}

double learning_rate_at(const TrainOptions& o, double progress) {
  return o.cosine_decay ? 0.5 * o.learning_rate * (1 + std::cos(M_PI * progress)) : o.learning_rate;
}

// Whole epochs that still fit before the deadline at the last epoch's pace.
int epochs_that_fit(int64_t deadline_ms, int64_t epoch_start_ms) {
  const int64_t now = steady_now_ms();
  const int64_t per_epoch = std::max<int64_t>(1, now - epoch_start_ms);
  return static_cast<int>(std::max<int64_t>(0, deadline_ms - now) / per_epoch);
}

}  // namespace

TrainStats train(Net& net, const data::ImageSet& set, const TrainOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  TrainOptions o = options;
  o.until_deadline = o.until_deadline && o.deadline_ms > 0;
  auto images = to_tensor(set);
  auto labels = torch::from_blob(const_cast<int*>(set.labels.data()),
                                 {static_cast<int64_t>(set.size())}, torch::kInt32)
                    .to(torch::kInt64);
  const int64_t n =
      std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(set.size()) * o.data_fraction));
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
  std::mt19937_64 rng(o.seed);
  std::vector<int64_t> order(set.size());
  TrainStats stats;
  net->train();
  const int64_t steps_per_epoch = (n + o.batch_size - 1) / o.batch_size;
  double total_steps = static_cast<double>(std::max<int64_t>(1, steps_per_epoch * o.epochs));
  int64_t step = 0;
  int epochs = o.epochs;
  bool time_up = false;
  const int64_t started_ms = steady_now_ms();
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const int64_t epoch_start = steady_now_ms();
    if (o.progress) {
      o.progress->epoch = epoch;
      if (!o.until_deadline) o.progress->epochs = epochs;
      o.progress->images_done = 0;
      o.progress->images_per_epoch = n;
    }
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t b = 0; b < n; b += o.batch_size) {
      if (o.stop && o.stop->load()) {
        stats.stopped = true;
        break;
      }
      const int64_t now = steady_now_ms();
      if (o.cutoff_ms > 0 && now >= o.cutoff_ms) {
        stats.cut = !o.until_deadline;
        time_up = o.until_deadline;
        break;
      }
      if (o.until_deadline && now >= o.deadline_ms) {
        time_up = true;
        break;
      }
      const int64_t e = std::min(n, b + o.batch_size);
      const double lr = learning_rate_at(o, schedule_progress(o, started_ms, step++, total_steps));
      for (auto& group : opt.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      auto idx = torch::from_blob(order.data() + b, {e - b}, torch::kInt64);
      auto x = images.index_select(0, idx), y = labels.index_select(0, idx);
      opt.zero_grad();
      auto loss = loss_of(o.loss, net->forward(x), y);
      loss.backward();
      opt.step();
      stats.last_loss = loss.item<double>();
      stats.images_seen += e - b;
      if (o.progress) o.progress->images_done = e;
    }
    if (stats.stopped || stats.cut || time_up) break;
    stats.epochs = epoch + 1;
    if (o.deadline_ms <= 0) continue;
    const int fit = epochs_that_fit(o.deadline_ms, epoch_start);
    if (o.until_deadline) {
      if (o.progress) o.progress->epochs = std::min(epochs, epoch + 1 + fit);
    } else if (epoch + 1 + fit < epochs) {
      epochs = epoch + 1 + fit;
      total_steps = static_cast<double>(std::max<int64_t>(1, steps_per_epoch * epochs));
    }
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

torch::Tensor predict_proba(Net& net, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  net->eval();
  return torch::softmax(net->forward(images), 1);
}

std::vector<bool> answers_right(Net& net, const data::ImageSet& set) {
  std::vector<bool> right(set.size());
  if (set.size() == 0) return right;
  torch::NoGradGuard no_grad;
  net->eval();
  auto images = to_tensor(set);
  for (int64_t b = 0; b < images.size(0); b += 512) {
    auto pred =
        net->forward(images.slice(0, b, std::min<int64_t>(images.size(0), b + 512))).argmax(1);
    for (int64_t i = 0; i < pred.size(0); ++i) {
      const auto k = static_cast<size_t>(b + i);
      right[k] = pred[i].item<int64_t>() == set.labels[k];
    }
  }
  return right;
}

double accuracy(Net& net, const data::ImageSet& set) {
  return search::share_right(answers_right(net, set));
}

namespace {
// Header JSON {spec, input, meta}; payload: the weights as a torch::serialize archive.
constexpr framed::Kind kModelFile{"EDGENASM", 1, "model"};
}  // namespace

Status save_model(const std::string& path, const search::ArchSpec& spec,
                  const search::InputShape& input, const nlohmann::json& meta, Net& net) {
  nlohmann::json header{{"spec", proto::to_json(spec)},
                        {"input",
                         {{"channels", input.channels},
                          {"height", input.height},
                          {"width", input.width},
                          {"classes", input.classes}}},
                        {"meta", meta}};
  std::ostringstream weights;
  torch::serialize::OutputArchive archive;
  net->save(archive);
  archive.save_to(weights);
  return framed::save(kModelFile, path, header, weights.str());
}

Expected<SavedModel> load_model(const std::string& path) {
  auto frame = framed::load(kModelFile, path);
  if (!frame) return frame.error();
  auto bad = [&](const std::string& msg) { return Error{errc::kBadModel, path + ": " + msg}; };
  SavedModel m;
  try {
    const auto& header = frame->header;
    auto spec = proto::from_json<search::ArchSpec>(header.at("spec"), "spec");
    if (!spec) return bad(spec.error().message);
    m.spec = *spec;
    const auto& in_j = header.at("input");
    m.input = {in_j.at("channels").get<int>(), in_j.at("height").get<int>(),
               in_j.at("width").get<int>(), in_j.at("classes").get<int>()};
    if (m.input.channels < 1 || m.input.height < 1 || m.input.width < 1 || m.input.classes < 2)
      return bad("bad input shape");
    m.meta = header.value("meta", nlohmann::json::object());
    m.net = Net(m.spec, m.input);
    std::istringstream weights(frame->payload);
    torch::serialize::InputArchive archive;
    archive.load_from(weights);
    m.net->load(archive);
  } catch (const std::exception& e) {
    return bad(std::string("corrupt model: ") + e.what());
  }
  return m;
}

}  // namespace edgenas::ml
