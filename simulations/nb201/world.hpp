#pragma once
// The NAS-Bench-201 world (docs/ARCHITECTURE.md, "The NAS-Bench-201 world"): a box is one device
// column of the table; its search runs the shared search engine over the bounded cell space and
// every trial is answered from the table (a query).
//
// - A query answers the data set column's accuracy plus Gaussian seed-to-seed noise (the table
//   holds means over training seeds) and the device column's measured latency.
// - A query costs what training the network would cost on that device: its measured batch-1
//   latency × kPassesPerQuery (forward + backward ≈ 3 passes over 50 000 images for 12 epochs,
//   NAS-Bench-201's short training), in core-seconds. Only the query count is a budget here.
// - As edgenas-search does, a candidate over 3 T is pruned before it is trained (its latency is
//   measured first); a pruned candidate costs no query. prune_factor 0 models a box that cannot
//   measure a candidate before training it (every candidate costs a query).
// - The box's context: one device (`cpu`: the table says nothing of a device's kind, cores or
//   memory), a queue of tasks whose Job rows carry the measured latencies of their networks
//   (other cells of the table) on that device, and T drawn across that device's latency range.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/model/model.hpp"
#include "common/search/nb201_space.hpp"
#include "simulations/nb201/table.hpp"

namespace edgenas::sim {

inline constexpr double kPassesPerQuery = 3.0 * 50'000 * 12;

struct Nb201SearchOptions {
  int queries = 100;          // trained candidates (pruned ones are free)
  double noise_points = 0.3;  // the seed-to-seed standard deviation of a query's accuracy
  double prune_factor = 3;    // candidates over prune_factor x T cost nothing (0: never pruned)
  std::string strategy = "evolution";
  bool noisy_final = true;  // the delivered model's accuracy with that noise (as a box measures)
  // A box that cannot measure its device: a candidate's latency during the search is this
  // estimate (one per table row: predicted, or modelled from FLOPs), and meeting T means an
  // estimate within T·bound_factor (1 − the model's margin). The delivered network's latency
  // and whether it meets T are still the table's: what the device then really does.
  const std::vector<double>* estimated_ms = nullptr;
  double bound_factor = 1;
};

struct Nb201Box {
  int device = 0;
  double t_ms = 0;
  Context ctx;
};

// A box of `device` whose tightest T is the latency quantile q (0..1) of that device's column.
Nb201Box nb201_box(const Nb201Table& t, int device, int dataset, double q, std::mt19937_64& rng);
// The same with T given in ms.
Nb201Box nb201_box_at(const Nb201Table& t, int device, int dataset, double t_ms,
                      std::mt19937_64& rng);

struct Nb201Outcome {
  int row = -1;           // the delivered cell's table row (−1: nothing met even 3 T)
  double accuracy = 0;    // its accuracy, % (the table's mean, or with noise: noisy_final)
  double latency_ms = 0;  // measured on the box's device
  bool met_latency = false;
  int queries = 0, pruned = 0;
  double compute_s = 0;  // core-seconds of candidate training (kPassesPerQuery)
  // After each query: the table accuracy of the model the search would deliver if it stopped
  // there (%), or −1 while nothing it trained met T.
  std::vector<double> incumbent;
  std::optional<ProgressCurve> progress;
};

Nb201Outcome simulate_nb201_search(const Nb201Table& t, int dataset, const Nb201Box& box,
                                   const Hyperparameters& hp, uint64_t seed,
                                   const Nb201SearchOptions& o);

// The best accuracy (%) of any cell in the table that answers within T on the device.
double nb201_best_under(const Nb201Table& t, int dataset, int device, double t_ms);

// The Trace a box would send for that outcome (accuracy as a fraction; no search time: every
// search of this world gets the same query budget).
Trace nb201_trace(const std::string& id, const Nb201Box& box, const Hyperparameters& hp,
                  const std::string& policy, const Nb201Outcome& o);

}  // namespace edgenas::sim
