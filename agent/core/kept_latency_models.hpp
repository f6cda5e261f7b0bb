#pragma once
// The fleet's latency models as this box keeps them (docs/ARCHITECTURE.md, "Learned latency"):
// one file (<state_dir>/latency-models.json) holding the newest version the coordinator sent
// with a hyperparameter reply. Its version goes with every request (so the coordinator sends
// only newer ones) and edgenas-search reads the file (--latency-models) for a target it cannot
// measure. A version that does not read as latency models is refused and the kept one stays.
#include <string>

#include "common/protocol/schema.hpp"
#include "common/util/expected.hpp"

namespace edgenas::agent {

class KeptLatencyModels {
 public:
  // Reads the kept file's version; a missing or unreadable file keeps none (logged).
  explicit KeptLatencyModels(std::string path);  // empty: nothing is kept

  int version() const { return version_; }  // 0: none kept
  const std::string& path() const { return path_; }

  // Checks the models (the strict reader edgenas-search uses) and writes them atomically.
  Status keep(const proto::LatencyModelsOffer& offer);

 private:
  std::string path_;
  int version_ = 0;
};

}  // namespace edgenas::agent
