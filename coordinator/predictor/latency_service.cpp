#include "coordinator/predictor/latency_service.hpp"

#include <csignal>
#include <filesystem>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "common/util/log.hpp"

namespace edgenas::predictor {

namespace fs = std::filesystem;
using nlohmann::json;

LatencyService::LatencyService(const Clock& clock, coordinator::TraceStore& store,
                               LatencyConfig cfg, ChildLauncher& launcher)
    : clock_(clock), store_(store), cfg_(std::move(cfg)), launcher_(launcher) {}

Status LatencyService::load(const coordinator::LatencyVersion& v) {
  auto j = files::read_json(v.path);
  if (!j) return j.error();
  auto set = latency_models_from_json(*j);
  if (!set) return set.error();
  if (set->version != v.version)
    return Error{errc::kBadModel, v.path + " holds version " + std::to_string(set->version) +
                                      ", the store says " + std::to_string(v.version)};
  models_ = std::move(*set);
  offer_.reset();
  if (auto sent = servable(*models_); !sent.kinds.empty())
    offer_ = proto::LatencyModelsOffer{models_->version, to_json(sent)};
  return ok_status();
}

std::optional<proto::LatencyModelsOffer> LatencyService::offer(int agent_holds) const {
  if (!offer_ || offer_->version <= agent_holds) return std::nullopt;
  return offer_;
}

Status LatencyService::start() {
  auto versions = store_.latency_versions();
  if (!versions) return versions.error();
  for (auto& v : *versions) {      // newest first
    if (v.status == "training") {  // a coordinator that stopped while it trained
      v.status = "failed";
      v.note = "the coordinator stopped during the training";
      (void)store_.save_latency_version(v);
      continue;
    }
    if (v.status != "ready") continue;
    if (auto s = load(v); !s) {
      log::error("latency models unusable; not serving them",
                 {{"version", v.version}, {"error", s.error().message}});
      v.status = "failed";
      v.note = s.error().message;
      (void)store_.save_latency_version(v);
      continue;
    }
    log::info("serving latency models", {{"version", v.version}, {"kinds", v.kinds}});
    break;
  }
  return ok_status();
}

void LatencyService::tick() {
  const int64_t now = clock_.now_ms();
  if (training_) {
    (void)launcher_.take_lines(training_->handle);
    if (auto exit = launcher_.poll(training_->handle)) {
      finish(*exit);
    } else if (now - training_->started_ms > cfg_.train_timeout_ms) {
      log::error("latency training exceeded its timeout; killing it",
                 {{"version", training_->version}});
      launcher_.signal(training_->handle, SIGKILL);
    }
    return;
  }
  if (cfg_.trainer.empty() || cfg_.retrain_after_traces <= 0 || now < next_check_ms_) return;
  next_check_ms_ = now + cfg_.check_every_ms;
  auto count = store_.latency_trace_count();
  if (!count) return;
  if (traces_at_last_training_ < 0) traces_at_last_training_ = 0;
  if (*count - traces_at_last_training_ < cfg_.retrain_after_traces) return;
  if (auto r = train(std::to_string(*count - traces_at_last_training_) + " new traces"); !r) {
    log::warn("latency training not started", {{"error", r.error().message}});
    traces_at_last_training_ = *count;  // not again on every check
  }
}

Expected<json> LatencyService::train(const std::string& reason) {
  if (cfg_.trainer.empty())
    return Error{"unavailable", "no trainer configured ([predictor] trainer)"};
  if (training_)
    return Error{"busy", "latency models v" + std::to_string(training_->version) + " are training"};
  auto count = store_.latency_trace_count();
  if (!count) return count.error();
  if (*count == 0) return Error{"bad_request", "no stored trace carries measured latencies yet"};
  auto version = store_.next_latency_version();
  if (!version) return version.error();
  std::error_code ec;
  fs::create_directories(cfg_.dir, ec);
  if (ec) return Error{errc::kIo, "cannot create " + cfg_.dir + ": " + ec.message()};
  coordinator::LatencyVersion v{
      *version,   clock_.wall_ms(),
      "training", cfg_.dir + "/latency-v" + std::to_string(*version) + ".json",
      0,          0,
      reason};
  if (auto s = store_.save_latency_version(v); !s) return s.error();
  ChildSpec spec{{cfg_.trainer, "latency", "--db", cfg_.database, "--out", v.path, "--version",
                  std::to_string(v.version)},
                 cfg_.dir + "/latency-v" + std::to_string(v.version) + ".log",
                 {0, 0},
                 "latency-v" + std::to_string(v.version)};
  spec.parent_death_signal = SIGKILL;
  spec.nice = 10;
  spec.idle_class = cfg_.train_idle;
  auto handle = launcher_.spawn(spec);
  if (!handle) {
    v.status = "failed";
    v.note = "cannot start " + cfg_.trainer + ": " + handle.error().message;
    (void)store_.save_latency_version(v);
    return handle.error();
  }
  training_ = Training{v.version, *handle, clock_.now_ms()};
  traces_at_last_training_ = *count;
  log::info("latency training started", {{"version", v.version}, {"reason", reason}});
  return json{{"version", v.version}, {"reason", reason}, {"traces", *count}};
}

void LatencyService::finish(const ChildExit& exit) {
  const Training t = *training_;
  training_.reset();
  auto row = store_.latency_version(t.version);
  if (!row || !*row) return;
  auto v = **row;
  const std::string how = exit.signal ? "signal " + std::to_string(exit.signal)
                                      : "code " + std::to_string(exit.exit_code);
  const Status loaded =
      exit.exit_code == 0 && exit.signal == 0
          ? load(v)
          : Status(Error{errc::kFailed, "edgenas-predictor latency exited with " + how + " (see " +
                                            cfg_.dir + "/latency-v" + std::to_string(v.version) +
                                            ".log)"});
  if (!loaded) {
    v.status = "failed";
    v.note = loaded.error().message;
    log::warn("latency training failed", {{"version", v.version}, {"error", v.note}});
  } else {
    v.status = "ready";
    v.kinds = static_cast<int>(models_->kinds.size());
    v.serving = 0;
    for (const auto& k : models_->kinds) v.serving += k.serves ? 1 : 0;
    log::info("serving latency models",
              {{"version", v.version}, {"kinds", v.kinds}, {"passed_gate", v.serving}});
  }
  (void)store_.save_latency_version(v);
}

Expected<json> LatencyService::list() {
  auto versions = store_.latency_versions();
  if (!versions) return versions.error();
  json out = json::array();
  for (const auto& v : *versions)
    out.push_back({{"version", v.version},
                   {"created_ms", v.created_ms},
                   {"status", v.status},
                   {"kinds", v.kinds},
                   {"passed_gate", v.serving},
                   {"serving", models_ && models_->version == v.version},
                   {"note", v.note}});
  return json{{"versions", out}, {"serving", serving_version()}};
}

Expected<json> LatencyService::show(int version) {
  if (version == 0) {
    if (!models_) return Error{"not_found", "no latency models serve yet"};
    return to_json(*models_);
  }
  auto row = store_.latency_version(version);
  if (!row) return row.error();
  if (!*row) return Error{"not_found", "no latency models v" + std::to_string(version)};
  auto j = files::read_json((*row)->path);
  if (!j) return j.error();
  return *j;
}

Expected<json> LatencyService::predict(const json& args) const {
  if (!models_) return Error{"not_found", "no latency models serve yet"};
  try {
    const auto& in = args.at("input");
    const DatasetShape input{in.at("classes").get<int>(), in.at("image_h").get<int>(),
                             in.at("image_w").get<int>(), in.at("channels").get<int>(), 0};
    if (input.classes < 1 || input.image_h < 1 || input.image_w < 1 || input.channels < 1 ||
        input.image_h > 4096 || input.image_w > 4096 || input.channels > 16)
      return Error{"bad_request", "'input' is out of range"};
    const std::string space = args.value("space", "cnn");
    const auto arch = args.at("arch").get<std::string>();
    const auto kind = args.at("kind").get<std::string>();
    const auto layers = lower_key(space, arch, input);
    if (!layers) return Error{"bad_request", "'" + arch + "' is not a network of space " + space};
    for (const auto& k : models_->kinds) {
      if (k.kind.kind != kind || k.kind.space != space) continue;
      if (args.contains("runtime") && args["runtime"].get<std::string>() != k.kind.runtime)
        continue;
      if (args.contains("threads") && args["threads"].get<int>() != k.kind.threads) continue;
      if (!k.serves)
        return Error{"not_found",
                     k.kind.label() + ": its model did not pass the gate (" + k.why + ")"};
      return json{{"latency_ms", k.predict(search::latency_features(*layers))},
                  {"predicted", true},
                  {"version", models_->version},
                  {"kind", k.kind.label()},
                  {"method", k.method},
                  {"heldout_error_pct", k.error_pct}};
    }
    return Error{"not_found", "latency models v" + std::to_string(models_->version) +
                                  " have no model of '" + kind + "' (" + space + ")"};
  } catch (const json::exception& e) {
    return Error{"bad_request", std::string("latency.predict: ") + e.what()};
  }
}

}  // namespace edgenas::predictor
