#include "coordinator/predictor/service.hpp"

#include <signal.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "common/util/log.hpp"
#include "coordinator/predictor/targets.hpp"

namespace edgenas::predictor {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// What the gate weighed, for the version's note and the log.
std::string gate_note(const GateVerdict& g, const PredictorConfig& cfg, const json& metrics,
                      int serving) {
  char regrets[200];
  std::snprintf(regrets, sizeof regrets,
                "held-out regret %.4f against %.4f for %s (standard error of the difference "
                "%.4f, tolerance %.2f, margin %.4f",
                g.fresh.value_or(-1), g.against.value_or(-1),
                serving ? ("v" + std::to_string(serving)).c_str() : "cold-start", g.standard_error,
                cfg.gate.tolerance, cfg.gate.margin);
  std::string note = regrets;
  const json scored = metrics.value("heldout_scored", json::object());
  if (scored.contains("scored"))
    note += "; " + scored["scored"].dump() + " traces scored, " +
            scored.value("seen_by_serving", json(0)).dump() +
            " left out as the serving version trained on them";
  return note + ")";
}

bool from_simulation(const coordinator::PredictorVersion& v) {
  return v.metrics.is_object() && v.metrics.value(kTrainedInKey, json()) == kTrainedInSimulation;
}

json summary(const coordinator::PredictorVersion& v, int serving) {
  json row{{"version", v.version},
           {"status", v.status},
           {"serving", v.version == serving},
           {"created_ms", v.created_ms},
           {"training_traces", v.training_traces},
           {"trained_in", from_simulation(v) ? "simulation" : "fleet"},
           {"note", v.note}};
  if (auto r = heldout_regret(v.metrics, "new")) row["regret"] = *r;
  // The cold start's regret on the same held-out contexts: what the version is judged against.
  if (auto r = heldout_regret(v.metrics, "cold_start")) row["regret_cold_start"] = *r;
  if (v.metrics.contains("heldout") && v.metrics["heldout"].contains("new")) {
    const auto& n = v.metrics["heldout"]["new"];
    row["normalised_reward"] = n.value("normalised_reward", 0.0);
    row["head_accuracy"] = n.value("head_accuracy", json::object());
  }
  return row;
}

}  // namespace

PredictorService::PredictorService(const Clock& clock, coordinator::TraceStore& store,
                                   PredictorConfig cfg, ChildLauncher& launcher)
    : clock_(clock),
      store_(store),
      cfg_(std::move(cfg)),
      launcher_(launcher),
      cold_start_(cfg_.cold_start_rule) {
  if (cfg_.retrain_every_ms > 0) next_scheduled_ms_ = clock_.now_ms() + cfg_.retrain_every_ms;
}

Status PredictorService::start() {
  auto versions = store_.predictor_versions();
  if (!versions) return versions.error();
  for (auto& v : *versions) {
    traces_at_last_training_ = std::max(traces_at_last_training_, v.training_traces);
    if (v.status == "training") {  // the coordinator stopped while it trained
      v.status = "failed";
      v.note = "the coordinator stopped during the training";
      (void)save_version(v);
    }
  }
  if (versions->empty() && !cfg_.warm_start.empty()) {
    if (auto s = import_warm_start(); !s) {
      log::error("the warm start cannot be imported; the cold-start rule serves",
                 {{"warm_start", cfg_.warm_start}, {"error", s.error().message}});
    } else if (auto again = store_.predictor_versions(); again) {
      versions = std::move(again);
    }
  }
  find_pool(*versions);
  auto history = store_.promotions();
  if (!history) return history.error();
  // The newest promotion whose model loads serves; unloadable ones are marked failed.
  for (auto it = history->rbegin(); it != history->rend(); ++it) {
    if (it->first == 0) break;  // rolled back to the cold-start policy
    if (load_and_serve(it->first)) break;
  }
  if (model_ && trained_in_simulation(*model_) && cfg_.warm_start.empty()) {
    log::warn("the warm start is turned off; the cold-start rule serves instead of it",
              {{"version", model_->version}});
    model_.reset();
    coverage_.clear();
  }
  // An active rollout goes on after a restart (its outcomes are counted again from its start).
  auto rollouts = store_.rollouts();
  if (!rollouts) return rollouts.error();
  for (auto& r : *rollouts) {
    if (r.state != "active") continue;
    auto m = load_version(r.version);
    if (!m) {
      r.state = "cancelled";
      r.note = "its model no longer loads: " + m.error().message;
      (void)save_rollout(r);
      continue;
    }
    rollout_ = ActiveRollout{r, std::move(*m), {}, {}, 0, ""};
  }
  log::info("hyperparameter policy", {{"serving", describe()}});
  return ok_status();
}

// The warm start becomes version 1 of a new store: its files are copied beside the versions
// trained here (the store keeps working when the package's copy changes) and it is promoted.
Status PredictorService::import_warm_start() {
  const fs::path from(cfg_.warm_start);
  auto m = load_predictor((from / "model.edgenasp").string());
  if (!m) return m.error();
  if (!trained_in_simulation(*m))
    return Error{errc::kBadModel, (from / "model.edgenasp").string() +
                                      " is not marked as trained in simulation (meta.trained_in)"};
  const auto metrics = files::read_json((from / "metrics.json").string());
  if (!metrics)
    return Error{errc::kBadModel, (from / "metrics.json").string() + " is missing or not JSON"};
  auto version = store_.next_predictor_version();
  if (!version) return version.error();
  const fs::path dir = fs::path(cfg_.dir) / ("v" + std::to_string(*version));
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const char* f : {"model.edgenasp", "metrics.json", "pool.jsonl"}) {
    if (ec || !fs::exists(from / f)) continue;  // the pool is optional
    fs::copy_file(from / f, dir / f, fs::copy_options::overwrite_existing, ec);
  }
  if (ec)
    return Error{errc::kIo,
                 "cannot copy the warm start into " + dir.string() + ": " + ec.message()};
  coordinator::PredictorVersion v;
  v.version = *version;
  v.created_ms = clock_.wall_ms();
  v.status = "candidate";
  v.path = (dir / "model.edgenasp").string();
  v.feature_version = kFeatureVersion;
  v.metrics = *metrics;
  v.note = "warm start, trained in simulation (from " + from.string() + ")";
  if (auto s = save_version(v); !s) return s.error();
  if (auto s = record_promotion(v.version, "warm start"); !s) return s.error();
  log::info("warm start imported", {{"version", v.version}, {"from", from.string()}});
  return ok_status();
}

// Retrainings pool the simulated traces of the newest warm start that has them (while the warm
// start is on).
void PredictorService::find_pool(const std::vector<coordinator::PredictorVersion>& versions) {
  pool_.clear();
  if (cfg_.warm_start.empty()) return;
  for (const auto& v : versions) {
    const auto pool = fs::path(v.path).parent_path() / "pool.jsonl";
    if (from_simulation(v) && fs::exists(pool)) pool_ = pool.string();
  }
}

bool PredictorService::in_canary(std::string_view agent_id, double share) {
  // FNV-1a, so the choice is the same on every build and restart; the same agents stay in the
  // canary when its share is widened.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : agent_id) h = (h ^ c) * 1099511628211ull;
  return static_cast<double>(h % 10'000) < share * 10'000;
}

Expected<json> PredictorService::rollout(int version, double share, const std::string& reason) {
  if (version == serving_version())
    return Error{"bad_request", "v" + std::to_string(version) + " already serves every agent"};
  if (rollout_ && rollout_->row.version != version) {
    return Error{"busy", "a rollout of v" + std::to_string(rollout_->row.version) +
                             " is running; promote or roll it back first"};
  }
  if (rollout_) {  // the same version: a new share (widen or narrow), the counts go on
    rollout_->row.share = share;
    rollout_->row.note = "share set to " + std::to_string(share) + ": " + reason;
    if (auto s = save_rollout(rollout_->row); !s) return s.error();
  } else {
    auto m = load_version(version);
    if (!m) return m.error();
    coordinator::Rollout row;
    row.version = version;
    row.baseline = serving_version();
    row.share = share;
    row.started_ms = clock_.wall_ms();
    row.note = reason;
    if (auto s = save_rollout(row); !s) return s.error();
    rollout_ = ActiveRollout{row, std::move(*m), {}, {}, 0, ""};
  }
  log::info("predictor rollout", {{"version", version},
                                  {"baseline", rollout_->row.baseline},
                                  {"share", share},
                                  {"reason", reason}});
  return json{{"version", version}, {"baseline", rollout_->row.baseline}, {"share", share}};
}

Status PredictorService::save_version(const coordinator::PredictorVersion& v) {
  versions_.reset();
  return store_.save_predictor_version(v);
}

Status PredictorService::record_promotion(int version, const std::string& reason) {
  versions_.reset();
  return store_.record_promotion(version, clock_.wall_ms(), reason);
}

Status PredictorService::save_rollout(coordinator::Rollout& r) {
  rollouts_.reset();
  return store_.save_rollout(r);
}

void PredictorService::end_rollout(const std::string& state, const std::string& note) {
  rollout_->row.state = state;
  rollout_->row.note = note;
  if (auto s = save_rollout(rollout_->row); !s)
    log::error("cannot record the end of a rollout", {{"error", s.error().message}});
  log::info("predictor rollout ended",
            {{"version", rollout_->row.version}, {"state", state}, {"note", note}});
  rollout_.reset();
}

bool PredictorService::count_outcome(const Trace& t, const coordinator::Rollout& r, Outcomes& c,
                                     Outcomes& b) {
  if (t.explore) return false;
  // The version that chose the trace's space: a model's, or 0 for the cold-start rule.
  const bool by_model = t.policy == "predictor" || t.policy == kWarmStartPolicy;
  if (!by_model && t.policy != coordinator::ColdStartPolicy::kPolicyName) return false;
  const int chose = by_model ? t.predictor_version : 0;
  Outcomes* side = nullptr;
  if (chose == r.version) side = &c;
  if (chose == r.baseline) side = &b;
  if (!side) return false;
  side->traces++;
  side->reward_sum += trace_reward(t);
  side->met += t.outcome.met_latency ? 1 : 0;
  return true;
}

void PredictorService::check_rollout() {
  // Reads the traces that arrived since the last check (at most 2 000 per check, so the io
  // thread is never held long), adds them to the canary's and the baseline's counts, and
  // rolls the canary back when it does worse than the baseline by more than the margin.
  auto& ro = *rollout_;
  coordinator::TraceFilter f;
  f.since_ms = ro.cursor_ms ? ro.cursor_ms : ro.row.started_ms;
  f.after_trace_id = ro.cursor_id;
  f.limit = 2000;
  auto page = store_.list_traces(f);
  if (!page) {
    log::warn("rollout check: cannot read traces", {{"error", page.error().message}});
    return;
  }
  for (const auto& rec : *page) {
    count_outcome(rec.trace, ro.row, ro.canary, ro.baseline);
    ro.cursor_ms = rec.received_ms;
    ro.cursor_id = rec.trace.trace_id;
  }
  const auto& c = ro.canary;
  const auto& b = ro.baseline;
  if (c.traces < cfg_.rollout_min_traces || b.traces < cfg_.rollout_min_traces) return;
  if (c.mean() < b.mean() - cfg_.rollout_margin) {
    char note[256];
    std::snprintf(note, sizeof note,
                  "automatic rollback: canary mean reward %.4f over %lld traces < baseline %.4f "
                  "over %lld traces - margin %.3f",
                  c.mean(), static_cast<long long>(c.traces), b.mean(),
                  static_cast<long long>(b.traces), cfg_.rollout_margin);
    log::error("predictor canary does worse than the baseline; rolling it back",
               {{"version", ro.row.version}, {"note", note}});
    rollbacks_++;
    end_rollout("rolled_back", note);
  }
}

json PredictorService::failure_json() const {
  if (!last_failure_) return nullptr;
  return {{"version", last_failure_->version},
          {"note", last_failure_->note},
          {"traces", last_failure_->traces},
          {"at_ms", last_failure_->at_ms}};
}

Expected<json> PredictorService::fleet_status(const std::vector<std::string>& agents) {
  const int serving = serving_version();
  std::map<int, int64_t> assigned;
  for (const auto& id : agents)
    assigned[rollout_ && in_canary(id, rollout_->row.share) ? rollout_->row.version : serving]++;
  auto side = [](const Outcomes& o) {
    return json{{"traces", o.traces},
                {"mean_reward", o.traces ? json(o.mean()) : json()},
                {"met_latency", o.traces ? json(static_cast<double>(o.met) / o.traces) : json()}};
  };
  json versions = json::array();
  for (const auto& [v, n] : assigned) {
    json row{{"version", v},
             {"role", rollout_ && v == rollout_->row.version ? "canary" : "serving"},
             {"agents", n}};
    if (rollout_)
      row.update(side(v == rollout_->row.version ? rollout_->canary : rollout_->baseline));
    versions.push_back(row);
  }
  json out{{"serving_version", serving},
           {"agents", agents.size()},
           {"versions", versions},
           {"rollout", nullptr},
           {"last_failure", failure_json()}};
  if (rollout_) {
    const auto& r = rollout_->row;
    out["rollout"] = {{"version", r.version},
                      {"baseline", r.baseline},
                      {"share", r.share},
                      {"started_ms", r.started_ms},
                      {"canary", side(rollout_->canary)},
                      {"baseline_outcomes", side(rollout_->baseline)},
                      {"margin", cfg_.rollout_margin},
                      {"min_traces", cfg_.rollout_min_traces}};
  }
  if (!rollouts_) {
    auto history = store_.rollouts();
    if (!history) return history.error();
    rollouts_ = std::move(*history);
  }
  json past = json::array();
  for (auto it = rollouts_->rbegin(); it != rollouts_->rend() && past.size() < 5; ++it) {
    if (it->state == "active") continue;
    past.push_back({{"version", it->version},
                    {"baseline", it->baseline},
                    {"share", it->share},
                    {"started_ms", it->started_ms},
                    {"state", it->state},
                    {"note", it->note}});
  }
  out["past_rollouts"] = past;
  return out;
}

Status PredictorService::load_and_serve(int version) {
  auto m = load_version(version);
  if (!m) return m.error();
  model_ = std::move(*m);
  // What its training pool covered, for wide exploration (versions before it: unknown).
  coverage_.clear();
  auto row = store_.predictor_version(version);
  if (row && *row && (*row)->metrics.contains("grid_coverage")) {
    for (const auto& n : (*row)->metrics["grid_coverage"])
      coverage_.push_back(n.is_number_integer() ? n.get<int64_t>() : 0);
  }
  return ok_status();
}

Expected<std::shared_ptr<const PredictorModel>> PredictorService::load_version(int version) {
  auto v = store_.predictor_version(version);
  if (!v) return v.error();
  if (!*v) return Error{errc::kNotFound, "no predictor version " + std::to_string(version)};
  auto m = load_predictor((*v)->path);
  Status problem = ok_status();
  if (!m) {
    problem = m.error();
  } else if (m->mlp.heads.size() != static_cast<std::size_t>(kHeads)) {
    problem =
        Error{errc::kBadModel, (*v)->path + ": its heads do not match the hyperparameter grid"};
  } else {
    for (int h = 0; h < kHeads; ++h) {
      if (m->mlp.heads[static_cast<std::size_t>(h)].out != Grid::size(h))
        problem =
            Error{errc::kBadModel, (*v)->path + ": its heads do not match the hyperparameter grid"};
    }
  }
  if (!problem) {
    log::error("predictor version unusable; it does not serve",
               {{"version", version}, {"error", problem.error().message}});
    (*v)->status = "failed";
    (*v)->note = problem.error().message;
    (void)save_version(**v);
    return problem.error();
  }
  m->version = version;
  return std::make_shared<const PredictorModel>(std::move(*m));
}

std::string PredictorService::describe() const {
  std::string d = model_ ? "predictor v" + std::to_string(model_->version)
                         : std::string(coordinator::ColdStartPolicy::kPolicyName);
  if (model_ && trained_in_simulation(*model_)) d += " (warm start, trained in simulation)";
  if (training_) d += " (training v" + std::to_string(training_->version) + ")";
  return d;
}

proto::HparamReply PredictorService::choose(std::string_view agent_id,
                                            const proto::HparamRequest& req) {
  const uint32_t seed = coordinator::request_seed(agent_id, req.request_id);
  proto::HparamReply reply;
  Choice base;
  auto model = model_;  // the version serving now, for the whole reply
  const bool canary = rollout_ && in_canary(agent_id, rollout_->row.share);
  if (canary) model = rollout_->model;
  std::optional<Choice> predicted;
  if (model) {
    if (auto c = model->predict(req.context)) predicted = *c;
  }
  if (predicted) {
    base = *predicted;
    const bool simulated = trained_in_simulation(*model);
    reply.policy = simulated ? kWarmStartPolicy : "predictor";
    reply.predictor_version = model->version;
    reply.reason = "predictor v" + std::to_string(model->version) +
                   (simulated ? " (warm start, trained in simulation)" : "");
    if (canary) {
      reply.reason += " (canary rollout to " +
                      std::to_string(static_cast<int>(std::lround(rollout_->row.share * 100))) +
                      " % of the agents)";
    }
  } else {
    reply = cold_start_.choose(agent_id, req);
    base = Grid::nearest(reply.hparams);
  }
  // Exploration, decided from the seed so a repeated request gets the same answer.
  std::mt19937_64 rng(static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull + 1);
  Exploration how;
  base = maybe_explore(base, req.context, coverage_, {cfg_.explore, cfg_.explore_wide}, rng, how);
  if (how != Exploration::none) {
    reply.explore = true;
    reply.policy = "explore";
    const std::string of = predicted ? reply.reason : std::string("cold-start");
    reply.reason = (how == Exploration::near
                        ? "exploring near the " + of + " choice"
                        : "exploring a thinly covered space within the latency bound (instead of "
                          "the " +
                              of + " choice)") +
                   " (" + std::to_string(static_cast<int>(cfg_.explore * 100)) +
                   " % of replies explore)";
  }
  reply.request_id = req.request_id;
  reply.hparams = Grid::hparams(base, seed);
  return reply;
}

Hyperparameters PredictorService::best_for(const Context& ctx, uint32_t seed) const {
  if (model_) {
    if (auto c = model_->predict(ctx)) return Grid::hparams(*c, seed);
  }
  proto::HparamRequest req;
  req.request_id = "best";
  req.context = ctx;
  auto h = coordinator::ColdStartPolicy(cfg_.cold_start_rule).choose("sim", req).hparams;
  h.seed = seed;
  return h;
}

void PredictorService::tick(int64_t traces_stored) {
  const int64_t now = clock_.now_ms();
  if (rollout_ && now >= next_rollout_check_ms_) {
    check_rollout();
    next_rollout_check_ms_ = now + cfg_.rollout_check_every_ms;
  }
  if (training_) {
    (void)launcher_.take_lines(training_->handle);
    if (auto exit = launcher_.poll(training_->handle)) {
      (void)launcher_.take_lines(training_->handle);
      finish_training(*exit);
    } else if (now - training_->started_ms > cfg_.train_timeout_ms) {
      log::error("predictor training exceeded its timeout; killing it",
                 {{"version", training_->version}});
      launcher_.signal(training_->handle, SIGKILL);
    }
    return;
  }
  if (cfg_.trainer.empty()) return;
  if (traces_at_last_training_ < 0) traces_at_last_training_ = 0;
  std::string why;
  if (cfg_.retrain_after_traces > 0 &&
      traces_stored - traces_at_last_training_ >= cfg_.retrain_after_traces) {
    why = std::to_string(traces_stored - traces_at_last_training_) + " new traces";
  } else if (cfg_.retrain_every_ms > 0 && now >= next_scheduled_ms_) {
    why = "schedule";
    next_scheduled_ms_ = now + cfg_.retrain_every_ms;
  }
  if (why.empty() || traces_stored < cfg_.min_traces) return;
  if (last_failure_ && traces_stored <= last_failure_->traces) return;  // no new information
  if (auto r = train(why); !r) {
    log::warn("predictor training not started", {{"error", r.error().message}});
    traces_at_last_training_ = traces_stored;  // do not retry on every tick
  }
}

Expected<json> PredictorService::train(const std::string& reason) {
  if (cfg_.trainer.empty())
    return Error{"unavailable", "no predictor trainer configured ([predictor] trainer)"};
  if (training_)
    return Error{"busy", "predictor v" + std::to_string(training_->version) + " is training"};
  auto traces = store_.trace_count();
  if (!traces) return traces.error();
  // With the warm start's pool, any fleet trace is new information (the pool carries the
  // mass); without it, min_traces of the fleet's own.
  const int64_t needed = pool_.empty() ? cfg_.min_traces : 1;
  if (*traces < needed) {
    return Error{"bad_request", "the store holds " + std::to_string(*traces) +
                                    " traces; training needs at least " + std::to_string(needed) +
                                    (pool_.empty() ? "" : " (besides the warm start's pool)")};
  }
  auto version = store_.next_predictor_version();
  if (!version) return version.error();
  const std::string dir = cfg_.dir + "/v" + std::to_string(*version);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{errc::kIo, "cannot create " + dir + ": " + ec.message()};
  coordinator::PredictorVersion v;
  v.version = *version;
  v.created_ms = clock_.wall_ms();
  v.status = "training";
  v.path = dir + "/model.edgenasp";
  v.feature_version = kFeatureVersion;
  v.note = reason;
  if (auto s = save_version(v); !s) return s.error();
  std::vector<std::string> argv{cfg_.trainer,
                                "train",
                                "--db",
                                cfg_.database,
                                "--out",
                                dir,
                                "--version",
                                std::to_string(*version),
                                "--budget",
                                cfg_.train_budget,
                                "--targets",
                                cfg_.targets,
                                "--cold-start-rule",
                                std::string(to_string(cfg_.cold_start_rule))};
  if (model_) {
    auto serving = store_.predictor_version(model_->version);
    if (serving && *serving) argv.insert(argv.end(), {"--baseline", (*serving)->path});
  }
  if (!pool_.empty()) argv.insert(argv.end(), {"--pool", pool_});
  ChildSpec spec{argv, dir + "/train.log", {0, 0}, "predictor-v" + std::to_string(*version)};
  // A training whose coordinator died has nobody to report to (the restarted coordinator marks
  // the version failed): it stops at once instead of finishing its NAS.
  spec.parent_death_signal = SIGKILL;
  spec.nice = 10;  // the io loop keeps the CPU when both want it
  spec.idle_class = cfg_.train_idle;
  auto handle = launcher_.spawn(spec);
  if (!handle) {
    v.status = "failed";
    v.note = "cannot start " + cfg_.trainer + ": " + handle.error().message;
    (void)save_version(v);
    return handle.error();
  }
  training_ = Training{*version, *handle, clock_.now_ms(), reason, *traces};
  training_runs_["started"]++;
  traces_at_last_training_ = *traces;
  log::info("predictor training started",
            {{"version", *version}, {"reason", reason}, {"traces", *traces}});
  return json{{"version", *version}, {"reason", reason}, {"traces", *traces}};
}

void PredictorService::finish_training(const ChildExit& exit) {
  const Training t = *training_;
  training_.reset();
  auto row = store_.predictor_version(t.version);
  if (!row || !*row) return;
  auto v = **row;
  const std::string dir = fs::path(v.path).parent_path().string();
  const auto metrics = files::read_json(dir + "/metrics.json");
  if (exit.exit_code != 0 || exit.signal != 0 || !metrics || !fs::exists(v.path)) {
    v.status = "failed";
    const std::string tail = files::last_line(dir + "/train.log");
    v.note = exit.signal ? "the trainer was killed by signal " + std::to_string(exit.signal)
                         : "the trainer exited with code " + std::to_string(exit.exit_code) +
                               (tail.empty() ? "" : ": " + tail);
    (void)save_version(v);
    training_runs_["failed"]++;
    last_failure_ = Failure{t.version, v.note, t.traces, clock_.wall_ms()};
    log::error("predictor training failed", {{"version", t.version}, {"error", v.note}});
    return;
  }
  last_failure_.reset();
  v.metrics = *metrics;
  v.training_traces = metrics->value("training_traces", int64_t{0});
  const GateVerdict gate = judge(*metrics, model_ ? "baseline" : "cold_start", cfg_.gate);
  const bool passes = gate.passes;
  const std::string note = gate_note(gate, cfg_, *metrics, model_ ? model_->version : 0);
  v.status = passes ? "candidate" : "rejected";
  training_runs_[v.status]++;
  v.note = std::string(passes ? "passed the gate: " : "did not pass the gate: ") + note;
  (void)save_version(v);
  log::info("predictor trained", {{"version", t.version}, {"status", v.status}, {"gate", note}});
  if (passes && cfg_.auto_promote) {
    if (auto r = promote(t.version, std::string("gate: ") + note); !r)
      log::error("automatic promotion failed",
                 {{"version", t.version}, {"error", r.error().message}});
  }
}

Expected<json> PredictorService::promote(int version, const std::string& reason) {
  if (auto s = load_and_serve(version); !s) return s.error();
  if (rollout_) {
    // Promoting the canary widens it to everyone; promoting another version ends the rollout.
    const bool same = rollout_->row.version == version;
    end_rollout(same ? "promoted" : "cancelled",
                same ? "promoted to every agent: " + reason
                     : "v" + std::to_string(version) + " was promoted instead");
  }
  if (auto s = record_promotion(version, reason); !s) return s.error();
  log::info("predictor promoted", {{"version", version}, {"reason", reason}});
  return json{{"serving", describe()}, {"version", version}};
}

Expected<json> PredictorService::rollback() {
  if (rollout_) {
    // During a rollout, rollback takes the canary back: everyone gets the baseline again.
    const int v = rollout_->row.version;
    end_rollout("cancelled", "rolled back by an admin");
    return json{{"serving", describe()}, {"version", serving_version()}, {"rollout_ended", v}};
  }
  auto history = store_.promotions();
  if (!history) return history.error();
  const int current = serving_version();
  if (current == 0)
    return Error{"bad_request", "the cold-start policy serves; nothing to roll back"};
  // The newest earlier promotion of another version that still loads; else the cold start.
  for (auto it = history->rbegin(); it != history->rend(); ++it) {
    if (it->first == current || it->first == 0) continue;
    auto row = store_.predictor_version(it->first);
    if (!row || !*row || (*row)->status == "failed") continue;
    if (auto r = promote(it->first, "rollback from v" + std::to_string(current)); r) return r;
  }
  model_.reset();
  coverage_.clear();
  if (auto s = record_promotion(0, "rollback to the cold-start policy"); !s) return s.error();
  log::info("predictor rolled back to the cold-start policy", {{"from", current}});
  return json{{"serving", describe()}, {"version", 0}};
}

Expected<json> PredictorService::list() {
  if (!versions_) {
    auto versions = store_.predictor_versions();
    if (!versions) return versions.error();
    versions_ = std::move(*versions);
  }
  json rows = json::array();
  for (const auto& v : *versions_) rows.push_back(summary(v, serving_version()));
  json out{{"serving", describe()},
           {"serving_version", serving_version()},
           {"versions", rows},
           {"explore", cfg_.explore}};
  if (training_) out["training"] = {{"version", training_->version}, {"reason", training_->reason}};
  out["last_failure"] = failure_json();
  return out;
}

Expected<json> PredictorService::show(int version) {
  auto v = store_.predictor_version(version > 0 ? version : serving_version());
  if (!v) return v.error();
  if (!*v) return Error{errc::kNotFound, "no predictor version " + std::to_string(version)};
  json out = summary(**v, serving_version());
  out["path"] = (*v)->path;
  out["feature_version"] = (*v)->feature_version;
  out["metrics"] = (*v)->metrics;
  return out;
}

}  // namespace edgenas::predictor
