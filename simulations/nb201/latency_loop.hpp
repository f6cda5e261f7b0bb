#pragma once
// Searches on a device the box cannot measure (issue 19, item 5): in the NAS-Bench-201 world, a
// box's search sees each candidate's latency only as an estimate, and the network it delivers
// then runs on the real device (the table's measurement). How many searches deliver a network
// that truly meets T, and how much accuracy they give up, with each way of estimating:
//
//   measured   the box measures its device (the reference: every search meets T)
//   flops      the FLOPs line fitted on the device's k measured cells, T taken at face value
//              (what edgenas did for devices it cannot measure)
//   learned    the fleet's transfer model from the same k cells, within T·(1 − its margin)
//
// The k measured cells keep their measurements in both estimates: a prediction is never
// trusted over a measurement.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "simulations/nb201/table.hpp"

namespace edgenas::sim {

struct LatencyEstimate {
  std::string name;                         // "measured", "flops", "learned"
  const std::vector<double>* ms = nullptr;  // per table row; null: measured
  double bound_factor = 1;                  // a candidate meets T when its estimate ≤ T × this
};

struct LoopOptions {
  int dataset = 0;
  int queries = 100;                                         // trained candidates per search
  std::vector<double> t_quantiles{0.1, 0.3, 0.5, 0.7, 0.9};  // of the device's latencies
  int seeds = 2;                                             // searches per T and estimate
  uint64_t seed = 1;
};

// Per estimate: searches run, the share whose delivered network truly meets T, and the mean
// accuracy given up (points) against the best cell truly within T, over the searches that did
// meet T.
nlohmann::json searches_meeting_t(const Nb201Table& t, int column,
                                  const std::vector<LatencyEstimate>& estimates,
                                  const LoopOptions& o);

}  // namespace edgenas::sim
