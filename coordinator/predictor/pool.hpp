#pragma once
// A pool of traces kept beside a predictor version that was not trained on the fleet's own:
// the warm start's simulated traces (docs/ARCHITECTURE.md, "The warm start"). Retrainings pool
// them with the fleet's traces, on the training side only: the gate judges on the fleet's.
//
// File: JSON Lines, one Trace (protocol schema, as `edgenasctl traces export` writes) per line.
// Reading refuses the whole file on the first bad line, with its number: a half-read pool
// would bias the training silently.
#include <string>
#include <vector>

#include "common/model/model.hpp"
#include "common/util/expected.hpp"

namespace edgenas::predictor {

Status write_trace_pool(const std::string& path, const std::vector<Trace>& traces);
Expected<std::vector<Trace>> read_trace_pool(const std::string& path);

}  // namespace edgenas::predictor
