#include "agent/core/box_model.hpp"

#include <filesystem>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"

namespace edgenas::agent {

using nlohmann::json;

namespace {

// The scores results.json gives a model, under the names model.json keeps.
json scores_of(const json& results) {
  json s = json::object();
  const json best = results.value("best", json::object());
  for (const char* key : {"key", "validation_accuracy", "test_accuracy", "latency_ms",
                          "latency_modelled", "met_latency"}) {
    if (best.contains(key)) s[key] = best[key];
  }
  if (results.contains("hparams")) s["hparams"] = results["hparams"];
  return s;
}

double number_or(const json& j, const char* key, double fallback) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

}  // namespace

BoxModel::BoxModel(std::string dir) : dir_(std::move(dir)) {}

json BoxModel::info() const {
  if (dir_.empty()) return nullptr;
  auto j = files::read_json(info_path());
  if (!j || !j->is_object()) return nullptr;
  std::error_code ec;
  if (!std::filesystem::exists(model_path(), ec)) return nullptr;
  return *j;
}

std::optional<std::string> BoxModel::incumbent_for(const std::string& data,
                                                   const std::string& test_data) const {
  const json kept = info();
  if (!kept.is_object()) return std::nullopt;
  if (kept.value("data", "") != data || kept.value("test_data", "") != test_data)
    return std::nullopt;
  return model_path();
}

Expected<std::string> BoxModel::update(const std::string& run_id, const std::string& run_dir,
                                       const json& results, const std::string& data,
                                       const std::string& test_data, int64_t now_wall_ms) {
  if (dir_.empty()) return std::string("no model is kept on this box");
  // results.json comes from a child process: it may be anything.
  if (!results.is_object()) return Error{errc::kBadModel, "results.json is not an object"};
  const json incumbent = results.value("incumbent", json::object());
  if (incumbent.is_object() && incumbent.value("better", false) == true) {
    char why[240];
    // The new model lost on the constraints (it misses T or the energy budget, the kept one
    // does not), or it met them and was not clearly more accurate.
    const bool new_meets = incumbent.value("new_meets_constraints", true) != false;
    std::snprintf(why, sizeof why,
                  "kept the box's model: validation accuracy %.4f against the new model's %.4f "
                  "(%lld images only the new one answers right, %lld only the kept one: %s)",
                  number_or(incumbent, "validation_accuracy", 0),
                  number_or(results.value("best", json::object()), "validation_accuracy", 0),
                  static_cast<long long>(number_or(incumbent, "validation_only_new_right", 0)),
                  static_cast<long long>(number_or(incumbent, "validation_only_kept_right", 0)),
                  new_meets ? "not a clear lead" : "the new model misses T or the energy budget");
    return std::string(why);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Error{errc::kIo, "cannot create " + dir_ + ": " + ec.message()};
  if (auto s = files::copy_atomic(run_dir + "/out/best.edgenas", model_path()); !s)
    return s.error();
  json info = scores_of(results);
  info["run_id"] = run_id;
  info["data"] = data;
  info["test_data"] = test_data;
  info["kept_since_ms"] = now_wall_ms;
  if (auto s = files::write_json_atomic(info_path(), info); !s) return s.error();
  return std::string(incumbent.contains("better")
                         ? "the new model replaces the box's model (clearly better on validation)"
                         : "the new model is the box's model");
}

}  // namespace edgenas::agent
