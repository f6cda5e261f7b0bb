#include "common/ml/mlp_train.hpp"
#include "common/ml/threads.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <numeric>
#include <random>

namespace edgenas::ml {
namespace {

// A trunk of Linear layers with the activation and dropout after each, then the heads.
struct MlpNetImpl : torch::nn::Module {
  MlpNetImpl(const search::MlpSpec& spec, int inputs, const std::vector<int>& heads) : spec_(spec) {
    int in = inputs;
    for (std::size_t i = 0; i < spec.hidden.size(); ++i) {
      trunk_.push_back(
          register_module("fc" + std::to_string(i), torch::nn::Linear(in, spec.hidden[i])));
      in = spec.hidden[i];
    }
    for (std::size_t h = 0; h < heads.size(); ++h)
      heads_.push_back(
          register_module("head" + std::to_string(h), torch::nn::Linear(in, heads[h])));
  }
  std::vector<torch::Tensor> forward(torch::Tensor x) {
    for (auto& l : trunk_) {
      x = l->forward(x);
      x = spec_.activation == search::MlpActivation::relu ? torch::relu(x) : torch::tanh(x);
      if (spec_.dropout > 0 && is_training()) {
        // Our own generator, not torch's global one (parallel trials share that): a seed gives
        // the same training.
        auto keep = torch::empty_like(x).bernoulli_(1 - spec_.dropout, dropout_rng_);
        x = x * keep / (1 - spec_.dropout);
      }
    }
    std::vector<torch::Tensor> out;
    for (auto& h : heads_) out.push_back(h->forward(x));
    return out;
  }
  void init(uint64_t seed) {
    // Seeded, not torch's global generator (parallel trials share that one).
    std::mt19937_64 rng(seed);
    dropout_rng_ = at::detail::createCPUGenerator(seed ^ 0x5DEECE66Dull);
    torch::NoGradGuard no_grad;
    for (auto& p : named_parameters()) {
      auto& t = p.value();
      if (p.key().find("bias") != std::string::npos) {
        t.zero_();
        continue;
      }
      const double bound = std::sqrt(6.0 / static_cast<double>(t.size(1)));
      std::uniform_real_distribution<float> u(static_cast<float>(-bound),
                                              static_cast<float>(bound));
      std::vector<float> v(static_cast<std::size_t>(t.numel()));
      for (auto& f : v) f = u(rng);
      t.copy_(torch::from_blob(v.data(), t.sizes(), torch::kFloat32));
    }
  }
  Mlp export_mlp() {
    auto dense = [](torch::nn::Linear& l) {
      Dense d;
      d.in = static_cast<int>(l->weight.size(1));
      d.out = static_cast<int>(l->weight.size(0));
      auto w = l->weight.detach().contiguous();
      auto b = l->bias.detach().contiguous();
      d.w.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
      d.b.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
      return d;
    };
    Mlp m;
    m.activation = spec_.activation;
    for (auto& l : trunk_) m.trunk.push_back(dense(l));
    for (auto& h : heads_) m.heads.push_back(dense(h));
    return m;
  }
  search::MlpSpec spec_;
  at::Generator dropout_rng_;
  std::vector<torch::nn::Linear> trunk_, heads_;
};
TORCH_MODULE(MlpNet);

torch::Tensor rows_tensor(const std::vector<std::vector<float>>& x) {
  const int64_t n = static_cast<int64_t>(x.size()),
                d = x.empty() ? 0 : static_cast<int64_t>(x[0].size());
  auto t = torch::empty({n, d});
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(t[i].data_ptr<float>(), x[static_cast<std::size_t>(i)].data(),
                static_cast<std::size_t>(d) * sizeof(float));
  return t;
}

// One optimisation loop over shuffled batches; loss_fn(outputs, index tensor) → scalar.
template <class LossFn>
void fit(MlpNet& net, int64_t n, const search::MlpSpec& spec, const MlpTrainOptions& o,
         const torch::Tensor& x, LossFn&& loss_fn) {
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(spec.learning_rate));
  std::mt19937_64 rng(o.seed);
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  net->train();
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    if (o.stop && o.stop->load()) break;
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t b = 0; b < n; b += o.batch_size) {
      const int64_t e = std::min(n, b + o.batch_size);
      auto idx = torch::from_blob(order.data() + b, {e - b}, torch::kInt64);
      opt.zero_grad();
      auto loss = loss_fn(net->forward(x.index_select(0, idx)), idx);
      loss.backward();
      opt.step();
    }
  }
  net->eval();
}

}  // namespace

Mlp train_heads(const search::MlpSpec& spec, const HeadsData& d, const MlpTrainOptions& o) {
  const int64_t n = static_cast<int64_t>(d.x.size());
  MlpNet net(spec, d.x.empty() ? 1 : static_cast<int>(d.x[0].size()), d.head_sizes);
  net->init(o.seed);
  if (n == 0) return net->export_mlp();
  auto x = rows_tensor(d.x);
  std::vector<torch::Tensor> y;
  for (std::size_t h = 0; h < d.head_sizes.size(); ++h) {
    auto t = torch::empty({n}, torch::kInt64);
    for (int64_t i = 0; i < n; ++i) t[i] = d.y[static_cast<std::size_t>(i)][h];
    y.push_back(t);
  }
  fit(net, n, spec, o, x, [&](const std::vector<torch::Tensor>& out, const torch::Tensor& idx) {
    torch::Tensor loss = torch::zeros({});
    for (std::size_t h = 0; h < out.size(); ++h)
      loss = loss + torch::nn::functional::cross_entropy(out[h], y[h].index_select(0, idx));
    return loss;
  });
  return net->export_mlp();
}

Mlp train_regressor(const search::MlpSpec& spec, const RegressionData& d,
                    const MlpTrainOptions& o) {
  const int64_t n = static_cast<int64_t>(d.x.size());
  MlpNet net(spec, d.x.empty() ? 1 : static_cast<int>(d.x[0].size()), std::vector<int>{1});
  net->init(o.seed);
  if (n == 0) return net->export_mlp();
  auto x = rows_tensor(d.x);
  auto y = torch::from_blob(const_cast<float*>(d.y.data()), {n}).clone();
  fit(net, n, spec, o, x, [&](const std::vector<torch::Tensor>& out, const torch::Tensor& idx) {
    return torch::mse_loss(out[0].squeeze(1), y.index_select(0, idx));
  });
  return net->export_mlp();
}

double heads_accuracy(const Mlp& mlp, const HeadsData& d) {
  if (d.x.empty() || d.head_sizes.empty()) return 0;
  double correct = 0;
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const auto out = mlp.forward(d.x[i]);
    for (std::size_t h = 0; h < out.size(); ++h) {
      const int arg =
          static_cast<int>(std::max_element(out[h].begin(), out[h].end()) - out[h].begin());
      correct += arg == d.y[i][h];
    }
  }
  return correct / static_cast<double>(d.x.size() * d.head_sizes.size());
}

std::vector<float> predict_rows(const Mlp& mlp, const std::vector<std::vector<float>>& rows) {
  if (rows.empty() || mlp.heads.empty()) return {};
  torch::NoGradGuard no_grad;
  auto x = rows_tensor(rows);
  auto layer = [](const Dense& d, const torch::Tensor& in) {
    auto w = torch::from_blob(const_cast<float*>(d.w.data()), {d.out, d.in});
    auto b = torch::from_blob(const_cast<float*>(d.b.data()), {d.out});
    return torch::addmm(b, in, w.t());
  };
  for (const auto& d : mlp.trunk) {
    x = layer(d, x);
    x = mlp.activation == MlpActivation::relu ? torch::relu(x) : torch::tanh(x);
  }
  auto y = layer(mlp.heads[0], x).select(1, 0).contiguous();
  return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

search::Evaluation MlpEvaluator::evaluate(const search::MlpSpec& spec,
                                          const search::Fidelity& fidelity, uint64_t seed) {
  search::Evaluation e;
  try {
    // Trials run side by side on threads of their own, each with one intra-op thread: a new
    // thread would otherwise get OpenMP's default (all cores), and the result its thread count.
    set_threads(1);
    const auto t0 = std::chrono::steady_clock::now();
    MlpTrainOptions o;
    o.epochs = std::max(1, fidelity.epochs * epoch_scale_);
    o.seed = seed;
    const Mlp m = train_heads(spec, train_, o);
    e.train_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e.accuracy = heads_accuracy(m, validation_);
    int64_t params = 0;
    for (const auto& d : m.trunk) params += d.out * (d.in + 1);
    for (const auto& d : m.heads) params += d.out * (d.in + 1);
    e.params = params;
    e.flops = 2 * params;
    if (!validation_.x.empty()) {
      const auto t1 = std::chrono::steady_clock::now();
      (void)m.forward(validation_.x[0]);
      e.latency_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    }
  } catch (const std::exception& ex) {
    e.ok = false;
    e.error = ex.what();
  }
  return e;
}

}  // namespace edgenas::ml
