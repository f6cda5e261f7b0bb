#include "common/search/strategy.hpp"

#include <algorithm>

namespace edgenas::search {
namespace {

class Base : public Strategy {
 protected:
  Base(const SearchSpace& space, uint64_t seed) : space_(space), rng_(seed) {}
  Trial make(ArchSpec spec, Fidelity f) { return Trial{next_id_++, std::move(spec), f, rng_()}; }
  const SearchSpace& space_;
  std::mt19937_64 rng_;
  int next_id_ = 0;
};

class RandomSearch final : public Base {
 public:
  RandomSearch(const SearchSpace& s, uint64_t seed, Fidelity f) : Base(s, seed), fidelity_(f) {}
  std::string name() const override { return "random"; }
  std::optional<Trial> next() override { return make(space_.sample(rng_), fidelity_); }
  void report(const TrialResult&) override {}

 private:
  Fidelity fidelity_;
};

class Evolution final : public Base {
 public:
  Evolution(const SearchSpace& s, uint64_t seed, Fidelity f, int population, int sample)
      : Base(s, seed), fidelity_(f), population_(population), sample_(sample) {}
  std::string name() const override { return "evolution"; }
  std::optional<Trial> next() override {
    // Until the population is full: random members. Then: tournament, mutate the winner.
    if (static_cast<int>(population_members_.size()) + in_flight_ < population_ ||
        population_members_.empty()) {
      ++in_flight_;
      return make(space_.sample(rng_), fidelity_);
    }
    std::uniform_int_distribution<size_t> pick(0, population_members_.size() - 1);
    const TrialResult* best = nullptr;
    for (int i = 0; i < sample_; ++i) {
      const auto& cand = population_members_[pick(rng_)];
      if (!best || cand.reward > best->reward) best = &cand;
    }
    ++in_flight_;
    return make(space_.mutate(best->trial.spec, rng_), fidelity_);
  }
  void report(const TrialResult& r) override {
    --in_flight_;
    population_members_.push_back(r);
    // Aging: the oldest member dies, however good it was.
    if (static_cast<int>(population_members_.size()) > population_) population_members_.pop_front();
  }

 private:
  Fidelity fidelity_;
  int population_, sample_;
  int in_flight_ = 0;
  std::deque<TrialResult> population_members_;
};

class SuccessiveHalving final : public Base {
 public:
  SuccessiveHalving(const SearchSpace& s, uint64_t seed, int n0, int eta, int min_epochs,
                    int max_epochs, double data_fraction)
      : Base(s, seed),
        n0_(n0),
        eta_(eta),
        min_epochs_(min_epochs),
        max_epochs_(max_epochs),
        data_fraction_(data_fraction) {
    start_bracket();
  }
  std::string name() const override { return "sh"; }
  std::optional<Trial> next() override {
    if (queue_.empty()) return std::nullopt;  // waiting for this rung's results
    Trial t = std::move(queue_.front());
    queue_.pop_front();
    ++outstanding_;
    return t;
  }
  void report(const TrialResult& r) override {
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
    std::stable_sort(
        rung_results_.begin(), rung_results_.end(),
        [](const TrialResult& a, const TrialResult& b) { return a.reward > b.reward; });
    epochs_ = next_epochs;
    for (int i = 0; i < keep; ++i)
      queue_.push_back(
          make(rung_results_[static_cast<size_t>(i)].trial.spec, {epochs_, data_fraction_}));
    rung_results_.clear();
  }

 private:
  void start_bracket() {
    epochs_ = min_epochs_;
    rung_results_.clear();
    for (int i = 0; i < n0_; ++i)
      queue_.push_back(make(space_.sample(rng_), {epochs_, data_fraction_}));
  }
  int n0_, eta_, min_epochs_, max_epochs_;
  double data_fraction_;
  int epochs_ = 1, outstanding_ = 0;
  std::deque<Trial> queue_;
  std::vector<TrialResult> rung_results_;
};

}  // namespace

std::unique_ptr<Strategy> make_random(const SearchSpace& space, uint64_t seed, Fidelity fidelity) {
  return std::make_unique<RandomSearch>(space, seed, fidelity);
}
std::unique_ptr<Strategy> make_evolution(const SearchSpace& space, uint64_t seed, Fidelity fidelity,
                                         int population, int sample) {
  return std::make_unique<Evolution>(space, seed, fidelity, population, sample);
}
std::unique_ptr<Strategy> make_successive_halving(const SearchSpace& space, uint64_t seed, int n0,
                                                  int eta, int min_epochs, int max_epochs,
                                                  double data_fraction) {
  return std::make_unique<SuccessiveHalving>(space, seed, n0, eta, min_epochs, max_epochs,
                                             data_fraction);
}
std::unique_ptr<Strategy> make_strategy(const std::string& name, const SearchSpace& space,
                                        uint64_t seed, Fidelity fidelity) {
  if (name == "random") return make_random(space, seed, fidelity);
  if (name == "evolution") return make_evolution(space, seed, fidelity);
  if (name == "sh")
    return make_successive_halving(space, seed, 27, 3, fidelity.epochs, fidelity.epochs * 9,
                                   fidelity.data_fraction);
  return nullptr;
}

}  // namespace edgenas::search
