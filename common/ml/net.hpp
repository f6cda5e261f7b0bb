#pragma once
// Networks of the search space, their training and measurement. Includes libtorch: only
// common/ml and the binaries that need it include this header.
#include <torch/torch.h>

#include <atomic>
#include <string>

#include "common/data/dataset.hpp"
#include "common/model/model.hpp"
#include "common/search/space.hpp"

namespace edgenas::ml {

// conv(k, stride, padding k/2) → [batch norm] → activation, plus the input when `residual`
// is set and the shapes allow it (stride 1, same channels).
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int in_channels, const search::BlockSpec& spec);
  torch::Tensor forward(torch::Tensor x);
  const search::BlockSpec& spec() const { return spec_; }
  bool uses_residual() const { return use_residual_; }
  torch::nn::Conv2d& conv() { return conv_; }
  torch::nn::BatchNorm2d& bn() { return bn_; }  // null without batch norm

 private:
  search::BlockSpec spec_;
  bool use_residual_;
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(Block);

class NetImpl : public torch::nn::Module {
 public:
  NetImpl(const search::ArchSpec& spec, const search::InputShape& input);
  torch::Tensor forward(torch::Tensor x);  // logits
  torch::nn::Sequential& blocks() { return blocks_; }
  torch::nn::Linear& hidden() { return hidden_; }  // null without a hidden layer
  torch::nn::Linear& classifier() { return classifier_; }

 private:
  torch::nn::Sequential blocks_{nullptr};
  torch::nn::Linear hidden_{nullptr}, classifier_{nullptr};
};
TORCH_MODULE(Net);

// Deterministic He-uniform initialisation from seed (not torch's global generator, which
// parallel trials would share).
void init_weights(Net& net, uint64_t seed);

// Where a training is, updated after every batch, for progress reports read from another thread.
struct TrainProgress {
  std::atomic<int> epoch{0};   // the epoch running, from 0
  std::atomic<int> epochs{0};  // planned (fewer once a deadline shortens the plan; by time:
                               // the epochs expected to fit, 0 before the first one ends)
  std::atomic<int64_t> images_done{0}, images_per_epoch{0};  // in the running epoch
};

struct TrainOptions {
  Loss loss = Loss::cross_entropy;
  int epochs = 1;
  double data_fraction = 1.0;
  int batch_size = 64;
  double learning_rate = 2e-3;  // Adam
  // Decay the rate to 0 along a cosine over the whole run: for long trainings (the final one);
  // short trials keep the constant rate, which learns more in few steps.
  bool cosine_decay = false;
  uint64_t seed = 0;                        // data order
  const std::atomic<bool>* stop = nullptr;  // checked between batches
  // Steady-clock time (ms since its epoch) by which training must end, 0 = none. After each
  // epoch the plan shrinks to the epochs that still fit (the cosine schedule with it).
  int64_t deadline_ms = 0;
  // Steady-clock time at which training stops even mid-epoch, 0 = none (TrainStats::cut): for
  // work that must not outlast a budget, such as a trial at the search's end.
  int64_t cutoff_ms = 0;
  // Planned by time instead of epochs (needs deadline_ms): epochs follow one another until the
  // deadline (at most `epochs`), the cosine decay follows the elapsed share of the time, and the
  // last epoch ends at the deadline, part done. A long training then uses its time whole
  // whatever the machine's speed does meanwhile.
  bool until_deadline = false;
  TrainProgress* progress = nullptr;  // when set, kept up to date
};

struct TrainStats {
  bool stopped = false;  // the stop flag ended training early
  bool cut = false;      // the cutoff ended training before its epochs were done
  int epochs = 0;        // completed (fewer than asked when the deadline came first)
  double seconds = 0;
  double last_loss = 0;
  int64_t images_seen = 0;
};

int64_t steady_now_ms();                             // the clock of deadline_ms and cutoff_ms
torch::Tensor to_tensor(const data::ImageSet& set);  // N×C×H×W float in [0, 1]
torch::Tensor loss_of(Loss loss, const torch::Tensor& logits, const torch::Tensor& targets);
TrainStats train(Net& net, const data::ImageSet& set, const TrainOptions& options);
// Per image of `set`, whether the net's answer is its label; accuracy is their share.
std::vector<bool> answers_right(Net& net, const data::ImageSet& set);
double accuracy(Net& net, const data::ImageSet& set);
torch::Tensor predict_proba(Net& net, const torch::Tensor& images);

// A model file holds the ArchSpec, the input shape, free-form metadata and the weights.
struct SavedModel {
  search::ArchSpec spec;
  search::InputShape input;
  nlohmann::json meta;
  Net net{nullptr};
};
Status save_model(const std::string& path, const search::ArchSpec& spec,
                  const search::InputShape& input, const nlohmann::json& meta, Net& net);
// Refuses files that are not edgenas models, of another format version, or truncated.
Expected<SavedModel> load_model(const std::string& path);

}  // namespace edgenas::ml
