#include "common/ml/evaluator.hpp"

namespace edgenas::ml {

TorchEvaluator::TorchEvaluator(const data::ImageSet& train, const data::ImageSet& validation,
                               TorchEvaluatorOptions options)
    : train_(train), validation_(validation), options_(std::move(options)) {
  input_ = {train.channels, train.height, train.width, train.classes};
}

search::Evaluation TorchEvaluator::evaluate(const search::ArchSpec& spec,
                                            const search::Fidelity& fidelity, uint64_t seed) {
  search::Evaluation e;
  try {
    Net net(spec, input_);
    init_weights(net, seed);
    TrainOptions t;
    t.loss = options_.loss;
    t.epochs = fidelity.epochs;
    t.data_fraction = fidelity.data_fraction;
    t.batch_size = options_.batch_size;
    t.seed = seed;
    auto stats = train(net, train_, t);
    e.train_time_s = stats.seconds;
    e.accuracy = accuracy(net, validation_);
    {
      std::lock_guard<std::mutex> lock(latency_mu_);
      e.latency_ms = measure_latency_ms(net, input_, options_.latency);
    }
    e.energy_mj = options_.power_w * e.latency_ms;  // W × ms = mJ
    e.energy_modelled = true;
    const auto cost = search::cost_of(spec, input_);
    e.params = cost.params;
    e.flops = cost.flops;
  } catch (const std::exception& ex) {
    e.ok = false;
    e.error = ex.what();
  }
  return e;
}

}  // namespace edgenas::ml
