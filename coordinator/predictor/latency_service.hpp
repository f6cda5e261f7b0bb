#pragma once
// The coordinator's side of the fleet's latency models (docs/ARCHITECTURE.md, "Learned
// latency"): trains a version in the background (`edgenas-predictor latency`, a child, like the
// predictor's trainings) after enough new traces carry measured latencies or when asked,
// records every version in the store, serves the newest finished one, and answers
// `latency.predict` from the kinds whose models passed their gate. Never blocks the io loop:
// the child runs beside it, and its file is read once when it exits.
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/util/clock.hpp"
#include "common/util/process.hpp"
#include "coordinator/core/hparam_service.hpp"
#include "coordinator/predictor/latency_models.hpp"
#include "coordinator/store/trace_store.hpp"

namespace edgenas::predictor {

struct LatencyConfig {
  std::string dir;                    // versions are written to <dir>/latency-v<N>.json
  std::string trainer;                // the edgenas-predictor binary; empty: no training here
  std::string database;               // what the trainer reads
  int64_t retrain_after_traces = 20;  // new traces with measurements; 0: only when asked
  int64_t check_every_ms = 30'000;    // how often tick() counts them (a scan of an index)
  int64_t train_timeout_ms = 600'000;
  bool train_idle = false;  // SCHED_IDLE for the child, as [predictor] train_idle
};

class LatencyService final : public coordinator::LatencyControl {
 public:
  LatencyService(const Clock& clock, coordinator::TraceStore& store, LatencyConfig cfg,
                 ChildLauncher& launcher);

  // Loads the newest finished version; an unreadable one is logged and marked failed.
  Status start();
  // Polls a running training; starts one when enough new traces carry measurements.
  void tick();

  Expected<nlohmann::json> list() override;
  Expected<nlohmann::json> show(int version) override;  // 0: the serving version
  Expected<nlohmann::json> train(const std::string& reason) override;
  // {space (default "cnn"), arch, input: {channels, image_h, image_w, classes}, kind, runtime?,
  // threads?}: the serving version's prediction for that kind, marked predicted, with the
  // version; an error when no model of the kind passed its gate.
  Expected<nlohmann::json> predict(const nlohmann::json& args) const override;
  std::optional<proto::LatencyModelsOffer> offer(int agent_holds) const override;
  int serving_version() const { return models_ ? models_->version : 0; }

 private:
  void finish(const ChildExit& exit);
  Status load(const coordinator::LatencyVersion& v);

  struct Training {
    int version = 0, handle = 0;
    int64_t started_ms = 0;
  };
  const Clock& clock_;
  coordinator::TraceStore& store_;
  LatencyConfig cfg_;
  ChildLauncher& launcher_;
  std::optional<LatencyModelSet> models_;
  std::optional<proto::LatencyModelsOffer> offer_;  // models_'s servable part; none: nothing serves
  std::optional<Training> training_;
  int64_t traces_at_last_training_ = -1;
  int64_t next_check_ms_ = 0;
};

}  // namespace edgenas::predictor
