#pragma once
// Exploration: the share of hyperparameter replies that do not follow the serving policy, so
// the pooled traces show what other search spaces would have done (torch-free; used by the
// coordinator's PredictorService and by the simulator's closed-loop evaluation alike).
//
// Two kinds (docs/ARCHITECTURE.md, "Exploration"):
//   near: a neighbour of the policy's choice (each of layers/filters/kernel moves one or two
//         steps with probability 1/2, the loss changes with probability 1/3);
//   wide: any grid point the box's T allows, drawn with weight 1/sqrt(1 + n) where n is how
//         many pooled traces already ran that point, so thinly covered spaces come first.
// Near exploration alone cannot leave the region of the first policy: a fleet that starts on
// tiny spaces only ever learns about tiny spaces and their neighbours (issue: the loop
// reinforced its own first answer).
//
// The bound on wide exploration ("a space that cannot meet T"): a space's size is the larger
// of its layers and filters as a fraction of their ranges; it may be at most the latency
// score of the cold-start rule plus kWideSizeMargin (ColdStartPolicy::latency_score: T of 1 ms
// allows spaces up to size 0.33 + margin). The spaces are upper bounds, so a wide space still holds
// small networks; the bound keeps the typical network of the space near T.
#include <random>
#include <vector>

#include "common/model/model.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/grid.hpp"

namespace edgenas::predictor {

inline constexpr double kWideSizeMargin = 0.34;

struct ExploreConfig {
  double share = 0.1;  // of all replies
  double wide = 0.5;   // of the exploring replies, the share that explore widely
};

// Pooled traces per grid point (Grid::flat index); empty: nothing known (cold start).
using Coverage = std::vector<int64_t>;

// A space's size in [0, 1]: max(layer index / 9, filter index / 5).
double space_size(const Choice& c);
// Whether wide exploration may hand this space to a box with this context.
bool within_latency_bound(const Choice& c, const Context& ctx);

Choice explore_near(const Choice& base, std::mt19937_64& rng);
// A grid point within the bound, weighted by thin coverage. Keeps the policy's loss choice
// (the loss says little about the space's size and is explored by `near`).
Choice explore_wide(const Choice& base, const Context& ctx, const Coverage& coverage,
                    std::mt19937_64& rng);

enum class Exploration { none, near, wide };
// Decides, from rng, whether this reply explores and how; returns the choice to serve.
Choice maybe_explore(const Choice& base, const Context& ctx, const Coverage& coverage,
                     const ExploreConfig& cfg, std::mt19937_64& rng, Exploration& how);

// The coverage of a set of choices.
Coverage coverage_of(const std::vector<Choice>& choices);

}  // namespace edgenas::predictor
