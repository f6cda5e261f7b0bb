#pragma once
// Search strategies behind one interface: random search, regularized evolution (Real et al.
// 2019: aging population, tournament selection, one mutation per child) and successive halving
// (Jamieson & Talwalkar 2016: a rung of n configurations at the lowest fidelity, the best 1/eta
// promoted to eta times the fidelity, repeated; then a new bracket).
//
// Strategies work on any space: a Space has `using Spec = …`, `Spec sample(rng) const` and
// `Spec mutate(const Spec&, rng) const`. The NAS uses SearchSpace (CNNs); the predictor's own
// architecture search uses an MLP space (coordinator/predictor).
#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/search/evaluator.hpp"

namespace edgenas::search {

template <class Spec>
struct BasicTrial {
  int id = 0;
  Spec spec;
  Fidelity fidelity;
  uint64_t seed = 0;
};

template <class Spec>
struct BasicTrialResult {
  BasicTrial<Spec> trial;
  Evaluation eval;
  double reward = 0;
  double finished_s = 0;  // since the search started, when its result was reported
};

template <class Spec>
class BasicStrategy {
 public:
  virtual ~BasicStrategy() = default;
  virtual std::string name() const = 0;
  // The next trial, or nullopt when the strategy must see results first.
  virtual std::optional<BasicTrial<Spec>> next() = 0;
  virtual void report(const BasicTrialResult<Spec>& result) = 0;
};

using Trial = BasicTrial<ArchSpec>;
using TrialResult = BasicTrialResult<ArchSpec>;
using Strategy = BasicStrategy<ArchSpec>;

namespace detail {

template <class Space>
class Base : public BasicStrategy<typename Space::Spec> {
 protected:
  using Spec = typename Space::Spec;
  Base(const Space& space, uint64_t seed) : space_(space), rng_(seed) {}
  BasicTrial<Spec> make(Spec spec, Fidelity f) {
    return BasicTrial<Spec>{next_id_++, std::move(spec), f, rng_()};
  }
  const Space& space_;
  std::mt19937_64 rng_;
  int next_id_ = 0;
};

template <class Space>
class RandomSearch final : public Base<Space> {
  using Spec = typename Space::Spec;

 public:
  RandomSearch(const Space& s, uint64_t seed, Fidelity f) : Base<Space>(s, seed), fidelity_(f) {}
  std::string name() const override { return "random"; }
  std::optional<BasicTrial<Spec>> next() override {
    return this->make(this->space_.sample(this->rng_), fidelity_);
  }
  void report(const BasicTrialResult<Spec>&) override {}

 private:
  Fidelity fidelity_;
};

template <class Space>
class Evolution final : public Base<Space> {
  using Spec = typename Space::Spec;

 public:
  Evolution(const Space& s, uint64_t seed, Fidelity f, int population, int sample)
      : Base<Space>(s, seed), fidelity_(f), population_(population), sample_(sample) {}
  std::string name() const override { return "evolution"; }
  std::optional<BasicTrial<Spec>> next() override {
    // Until the population is full: random members. Then: tournament, mutate the winner.
    if (static_cast<int>(members_.size()) + in_flight_ < population_ || members_.empty()) {
      ++in_flight_;
      return this->make(this->space_.sample(this->rng_), fidelity_);
    }
    std::uniform_int_distribution<size_t> pick(0, members_.size() - 1);
    const BasicTrialResult<Spec>* best = nullptr;
    for (int i = 0; i < sample_; ++i) {
      const auto& cand = members_[pick(this->rng_)];
      if (!best || cand.reward > best->reward) best = &cand;
    }
    ++in_flight_;
    return this->make(this->space_.mutate(best->trial.spec, this->rng_), fidelity_);
  }
  void report(const BasicTrialResult<Spec>& r) override {
    --in_flight_;
    members_.push_back(r);
    // Aging: the oldest member dies, however good it was.
    if (static_cast<int>(members_.size()) > population_) members_.pop_front();
  }

 private:
  Fidelity fidelity_;
  int population_, sample_;
  int in_flight_ = 0;
  std::deque<BasicTrialResult<Spec>> members_;
};

template <class Space>
class SuccessiveHalving final : public Base<Space> {
  using Spec = typename Space::Spec;

 public:
  SuccessiveHalving(const Space& s, uint64_t seed, int n0, int eta, int min_epochs, int max_epochs,
                    double data_fraction)
      : Base<Space>(s, seed),
        n0_(n0),
        eta_(eta),
        min_epochs_(min_epochs),
        max_epochs_(max_epochs),
        data_fraction_(data_fraction) {
    start_bracket();
  }
  std::string name() const override { return "sh"; }
  std::optional<BasicTrial<Spec>> next() override {
    if (queue_.empty()) return std::nullopt;  // waiting for this rung's results
    auto t = std::move(queue_.front());
    queue_.pop_front();
    ++outstanding_;
    return t;
  }
  void report(const BasicTrialResult<Spec>& r) override {
    --outstanding_;
    rung_results_.push_back(r);
    if (!queue_.empty() || outstanding_ > 0) return;
    // The rung is complete: promote the best 1/eta at eta times the epochs, or start over.
    const int next_epochs = epochs_ * eta_;
    const int keep = static_cast<int>(rung_results_.size()) / eta_;
    if (next_epochs > max_epochs_ || keep < 1) {
      start_bracket();
      return;
    }
    std::stable_sort(rung_results_.begin(), rung_results_.end(),
                     [](const auto& a, const auto& b) { return a.reward > b.reward; });
    epochs_ = next_epochs;
    for (int i = 0; i < keep; ++i) {
      queue_.push_back(
          this->make(rung_results_[static_cast<size_t>(i)].trial.spec, {epochs_, data_fraction_}));
    }
    rung_results_.clear();
  }

 private:
  void start_bracket() {
    epochs_ = min_epochs_;
    rung_results_.clear();
    for (int i = 0; i < n0_; ++i)
      queue_.push_back(this->make(this->space_.sample(this->rng_), {epochs_, data_fraction_}));
  }
  int n0_, eta_, min_epochs_, max_epochs_;
  double data_fraction_;
  int epochs_ = 1, outstanding_ = 0;
  std::deque<BasicTrial<Spec>> queue_;
  std::vector<BasicTrialResult<Spec>> rung_results_;
};

}  // namespace detail

template <class Space>
using StrategyFor = std::unique_ptr<BasicStrategy<typename Space::Spec>>;

template <class Space>
StrategyFor<Space> make_random(const Space& space, uint64_t seed, Fidelity fidelity) {
  return std::make_unique<detail::RandomSearch<Space>>(space, seed, fidelity);
}
template <class Space>
StrategyFor<Space> make_evolution(const Space& space, uint64_t seed, Fidelity fidelity,
                                  int population = 20, int sample = 5) {
  return std::make_unique<detail::Evolution<Space>>(space, seed, fidelity, population, sample);
}
// Epochs go min_epochs, min_epochs·eta, … up to max_epochs; rung 0 has n0 configurations. Every
// rung trains on the same data_fraction.
template <class Space>
StrategyFor<Space> make_successive_halving(const Space& space, uint64_t seed, int n0 = 27,
                                           int eta = 3, int min_epochs = 1, int max_epochs = 9,
                                           double data_fraction = 1.0) {
  return std::make_unique<detail::SuccessiveHalving<Space>>(space, seed, n0, eta, min_epochs,
                                                            max_epochs, data_fraction);
}
// By name: "random", "evolution", "sh"; null for another name.
template <class Space>
StrategyFor<Space> make_strategy(const std::string& name, const Space& space, uint64_t seed,
                                 Fidelity fidelity) {
  if (name == "random") return make_random(space, seed, fidelity);
  if (name == "evolution") return make_evolution(space, seed, fidelity);
  if (name == "sh") {
    return make_successive_halving(space, seed, 27, 3, fidelity.epochs, fidelity.epochs * 9,
                                   fidelity.data_fraction);
  }
  return nullptr;
}

}  // namespace edgenas::search
