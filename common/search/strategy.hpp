#pragma once
// Search strategies behind one interface: random search, regularized evolution (Real et al.
// 2019: aging population, tournament selection, one mutation per child) and successive halving
// (Jamieson & Talwalkar 2016: a rung of n configurations at the lowest fidelity, the best 1/eta
// promoted to eta times the fidelity, repeated; then a new bracket).
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/search/evaluator.hpp"

namespace edgenas::search {

struct Trial {
  int id = 0;
  ArchSpec spec;
  Fidelity fidelity;
  uint64_t seed = 0;
};

struct TrialResult {
  Trial trial;
  Evaluation eval;
  double reward = 0;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // The next trial, or nullopt when the strategy must see results first.
  virtual std::optional<Trial> next() = 0;
  virtual void report(const TrialResult& result) = 0;
};

std::unique_ptr<Strategy> make_random(const SearchSpace& space, uint64_t seed, Fidelity fidelity);
std::unique_ptr<Strategy> make_evolution(const SearchSpace& space, uint64_t seed, Fidelity fidelity,
                                         int population = 20, int sample = 5);
// Epochs go min_epochs, min_epochs·eta, … up to max_epochs; rung 0 has n0 configurations. Every
// rung trains on the same data_fraction.
std::unique_ptr<Strategy> make_successive_halving(const SearchSpace& space, uint64_t seed,
                                                  int n0 = 27, int eta = 3, int min_epochs = 1,
                                                  int max_epochs = 9, double data_fraction = 1.0);
// By name: "random", "evolution", "sh".
std::unique_ptr<Strategy> make_strategy(const std::string& name, const SearchSpace& space,
                                        uint64_t seed, Fidelity fidelity);

}  // namespace edgenas::search
