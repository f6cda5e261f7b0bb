#pragma once
// The box's model: the one its searches delivered and the box keeps, in a directory of its own
// (<state_dir>/model: best.edgenas and model.json, which says where it came from and how it
// scored). Each search on the same data scores the kept model beside its own on the same split
// and target (edgenas-search --incumbent); the new model replaces the kept one only when it is
// clearly more accurate on validation (a lead beyond chance on the images where the two disagree:
// common/search/paired.hpp), so a model better by a few images' noise does not displace one that
// may be better on the images no one has seen. The search's Trace still reports the search's own
// model: the predictor learns what the hyperparameters it gave produced, not what the box kept.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas::agent {

class BoxModel {
 public:
  explicit BoxModel(std::string dir);  // empty: no model is kept

  // The kept model to pass as --incumbent, when there is one made from this data (a model of
  // other data would be scored on another split, or not fit at all).
  std::optional<std::string> incumbent_for(const std::string& data,
                                           const std::string& test_data) const;

  // After a search that delivered a model (its run directory and results.json): keeps the new
  // model unless `results.incumbent.better` says the kept one is not clearly worse on validation.
  // What happened, for the log and the agent's status.
  Expected<std::string> update(const std::string& run_id, const std::string& run_dir,
                               const nlohmann::json& results, const std::string& data,
                               const std::string& test_data, int64_t now_wall_ms);

  // model.json of the kept model, or null when none is kept.
  nlohmann::json info() const;

 private:
  std::string model_path() const { return dir_ + "/best.edgenas"; }
  std::string info_path() const { return dir_ + "/model.json"; }
  std::string dir_;
};

}  // namespace edgenas::agent
