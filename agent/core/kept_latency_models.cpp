#include "agent/core/kept_latency_models.hpp"

#include <filesystem>

#include "common/search/latency_set.hpp"
#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "common/util/log.hpp"

namespace edgenas::agent {

KeptLatencyModels::KeptLatencyModels(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  if (path_.empty() || !std::filesystem::exists(path_, ec)) return;
  auto j = files::read_json(path_);
  auto set =
      j ? search::latency_models_from_json(*j) : Expected<search::LatencyModelSet>(j.error());
  if (!set) {
    log::warn("kept latency models unreadable; asking for them again",
              {{"path", path_}, {"error", set.error().message}});
    return;
  }
  version_ = set->version;
}

Status KeptLatencyModels::keep(const proto::LatencyModelsOffer& offer) {
  if (path_.empty()) return ok_status();
  auto set = search::latency_models_from_json(offer.models);
  if (!set) return set.error();
  if (set->version != offer.version)
    return Error{errc::kBadModel, "latency models: the reply says v" +
                                      std::to_string(offer.version) + ", the models say v" +
                                      std::to_string(set->version)};
  if (auto s = files::write_json_atomic(path_, offer.models); !s) return s;
  version_ = offer.version;
  return ok_status();
}

}  // namespace edgenas::agent
