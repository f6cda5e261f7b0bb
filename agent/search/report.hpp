#pragma once
// What `edgenas-search run` writes besides the model: every trial as JSON, and the
// accuracy/latency Pareto front as CSV and as an SVG scatter plot.
#include <string>

#include <nlohmann/json.hpp>

#include "common/search/search.hpp"

namespace edgenas::searchcli {

nlohmann::json trial_json(const search::TrialResult& t);
void write_pareto_csv(const std::string& path, const search::SearchResult& r);
// All trials grey, the front red, T as a dashed line; the axis says when latency is modelled.
void write_pareto_svg(const std::string& path, const search::SearchResult& r, double t_ms,
                      const std::string& latency_label);

}  // namespace edgenas::searchcli
