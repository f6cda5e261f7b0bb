#pragma once
// How a candidate is scored. One search engine, three evaluators (ARCHITECTURE.md): the real
// libtorch trainer (common/ml), the predictor's MLP trainer, and the simulator's surrogate.
#include <cstdint>
#include <string>

#include "common/search/space.hpp"

namespace edgenas::search {

// How much training a trial gets (successive halving raises it for the survivors).
struct Fidelity {
  int epochs = 1;
  double data_fraction = 1.0;
  bool operator==(const Fidelity& o) const {
    return epochs == o.epochs && data_fraction == o.data_fraction;
  }
};

struct Evaluation {
  bool ok = true;
  std::string error;      // why a failed evaluation failed
  double accuracy = 0;    // validation accuracy, 0..1 (never the test split)
  double latency_ms = 0;  // on the target device (measured here, or modelled)
  bool latency_modelled = false;
  double cpu_latency_ms = 0;  // measured on this machine's CPU (0 when not measured)
  double energy_mj = 0;
  bool energy_modelled = false;
  int64_t params = 0, flops = 0;
  double train_time_s = 0;
  // Not trained, or cut short, because the evaluator's deadline came (the search's end): a
  // failed trial that says so; run_search stops after kOutOfTimeInARow of them in a row.
  bool out_of_time = false;
};

// Scores a candidate of type Spec (a CNN's ArchSpec for the NAS, an MlpSpec for the predictor).
template <class Spec>
class BasicEvaluator {
 public:
  virtual ~BasicEvaluator() = default;
  // Called from several threads at once; must be safe for that. seed fixes the weight init
  // and data order of this trial.
  virtual Evaluation evaluate(const Spec& spec, const Fidelity& fidelity, uint64_t seed) = 0;
};
using Evaluator = BasicEvaluator<ArchSpec>;

}  // namespace edgenas::search
