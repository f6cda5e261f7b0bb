#include "agent/core/search_runner.hpp"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/protocol/codec.hpp"
#include "common/util/config.hpp"
#include "common/util/errors.hpp"
#include "common/util/files.hpp"
#include "common/util/log.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::agent {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Typed reads of what a child process wrote: missing or mistyped fields give the fallback.
double number(const json& j, const char* key, double fallback) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}
bool flag(const json& j, const char* key, bool fallback) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
}

}  // namespace

ChildLimits plan_limits(const SourceMatrix& source, const SearchSettings& s) {
  ChildLimits l;
  int free_cpus = 1;
  int64_t free_mb = 0;
  for (const auto& d : source.devices) {
    if (d.device == "cpu") {
      free_cpus = std::max(1, d.free_nodes);
      free_mb = d.free_memory_mb;
    }
  }
  l.cpus = s.max_cpus > 0 ? std::min(free_cpus, s.max_cpus) : free_cpus;
  l.memory_mb = std::max(s.min_memory_mb,
                         static_cast<int64_t>(static_cast<double>(free_mb) * s.memory_fraction));
  return l;
}

json to_json(const SearchRun& r) {
  json j{{"run_id", r.run_id},
         {"trigger", r.trigger},
         {"phase", r.phase},
         {"dir", r.dir},
         {"started_wall_ms", r.started_wall_ms},
         {"pid", r.pid},
         {"request_id", r.request_id},
         {"context", proto::to_json(r.context)},
         {"overrides", r.overrides},
         {"cancel_reason", r.cancel_reason}};
  if (r.reply) j["reply"] = proto::to_json(*r.reply);
  return j;
}

Expected<SearchRun> search_run_from_json(const json& j) {
  try {
    SearchRun r;
    r.run_id = j.at("run_id").get<std::string>();
    r.trigger = j.at("trigger").get<std::string>();
    r.phase = j.at("phase").get<std::string>();
    r.dir = j.at("dir").get<std::string>();
    r.started_wall_ms = j.at("started_wall_ms").get<int64_t>();
    r.pid = j.at("pid").get<int>();
    r.request_id = j.at("request_id").get<std::string>();
    auto ctx = proto::from_json<Context>(j.at("context"), "context");
    if (!ctx) return ctx.error();
    r.context = std::move(*ctx);
    r.overrides = j.value("overrides", json::object());
    r.cancel_reason = j.value("cancel_reason", "");
    if (j.contains("reply")) {
      auto reply = proto::from_json<proto::HparamReply>(j["reply"], "reply");
      if (!reply) return reply.error();
      r.reply = std::move(*reply);
    }
    return r;
  } catch (const std::exception& e) {
    return Error{errc::kStore, std::string("unreadable search run: ") + e.what()};
  }
}

std::optional<LatencyMeasurements> measured_latency(const json& results,
                                                    const std::string& cpu_kind) {
  const json runtime = results.value("runtime", json());
  const json trials = results.value("all_trials", json());
  if (cpu_kind.empty() || !runtime.is_string() || !valid_label(runtime.get<std::string>()) ||
      !trials.is_array())
    return std::nullopt;
  LatencyMeasurements m;
  m.kind = cpu_kind;
  m.runtime = runtime.get<std::string>();
  m.threads = static_cast<int>(std::clamp(number(results, "trial_latency_threads", 1), 1.0,
                                          static_cast<double>(limits::kMaxNodesPerDevice)));
  for (const auto& t : trials) {
    if (m.samples.size() == limits::kMaxLatencySamples) break;
    if (!t.is_object() || !flag(t, "ok", false) || !t.value("key", json()).is_string()) continue;
    const double ms = number(t, "cpu_latency_ms", 0);
    const auto key = t["key"].get<std::string>();
    if (valid_arch_key(key) && std::isfinite(ms) && ms >= 1e-6 && ms <= limits::kMaxLatencyMs)
      m.samples.push_back({key, ms});
  }
  if (m.samples.empty()) return std::nullopt;
  return m;
}

std::optional<ParetoFront> pareto_of(const json& results) {
  const json ids = results.value("pareto_trials", json());
  const json trials = results.value("all_trials", json());
  if (!ids.is_array() || !trials.is_array()) return std::nullopt;
  std::vector<ParetoPoint> raw;
  for (const auto& t : trials) {
    if (!t.is_object() || !flag(t, "ok", false) || !t.value("key", json()).is_string() ||
        std::find(ids.begin(), ids.end(), t.value("id", json())) == ids.end())
      continue;
    raw.push_back(
        {t["key"].get<std::string>(), number(t, "accuracy", NAN), number(t, "latency_ms", NAN)});
  }
  return make_pareto(std::move(raw));
}

Trace make_search_trace(const SearchRun& run, const json* results,
                        const std::optional<ChildExit>& exit, const std::string& failure,
                        int trials_seen, int64_t now_wall_ms, const std::string& cpu_kind) {
  Trace t;
  t.trace_id = run.run_id;
  t.created_ms = now_wall_ms;
  t.context = run.context;
  if (run.reply) {
    t.hparams = run.reply->hparams;
    t.policy = run.reply->policy;
    t.predictor_version = run.reply->predictor_version;
    t.explore = run.reply->explore;
  }
  auto& o = t.outcome;
  o.search_time_s = std::max(0.0, static_cast<double>(now_wall_ms - run.started_wall_ms) / 1000);
  // results.json comes from a child process: any field may be missing or of the wrong type.
  const bool complete = results && results->is_object() && results->contains("status") &&
                        (*results)["status"] == "ok" && results->contains("best") &&
                        (*results)["best"].is_object() &&
                        std::isfinite(number((*results)["best"], "test_accuracy", NAN));
  if (complete) {
    const json& b = (*results)["best"];
    o.status = TraceStatus::ok;
    o.accuracy = std::clamp(number(b, "test_accuracy", 0), 0.0, 1.0);
    o.latency_ms = std::clamp(number(b, "latency_ms", 0), 0.0, limits::kMaxLatencyMs);
    o.latency_modelled = flag(b, "latency_modelled", false);
    if (o.latency_modelled && b.value("latency_source", json()) == "predicted")
      o.latency_model_version = static_cast<int>(std::clamp(
          number(results->value("latency_model", json::object()), "version", 0), 0.0, 1e9));
    o.energy_mj = std::clamp(number(b, "energy_mj", 0), 0.0, 1e12);
    o.energy_modelled = flag(b, "energy_modelled", true);
    o.met_latency = flag(b, "met_latency", false);
    o.device = b.contains("latency_device") && b["latency_device"].is_string()
                   ? b["latency_device"].get<std::string>()
                   : "cpu";
    if (!valid_device_name(o.device)) o.device = "cpu";
    o.search_time_s = std::clamp(number(*results, "elapsed_s", o.search_time_s), 0.0, 1e8);
    o.trials = static_cast<int>(std::clamp(number(*results, "trials", trials_seen), 0.0, 1e8));
    const json progress = results->value("progress", json::object());
    if (progress.is_object() && progress.value("points", json()).is_array()) {
      std::vector<ProgressPoint> raw;  // malformed steps are skipped, the rest kept
      for (const auto& step : progress["points"]) {
        if (step.is_array() && step.size() == 2 && step[0].is_number() && step[1].is_number())
          raw.push_back({step[0].get<double>(), step[1].get<double>()});
      }
      o.progress = make_progress(raw, number(progress, "compute_s", 0));
    }
    o.measured_latency = measured_latency(*results, cpu_kind);
    o.pareto = pareto_of(*results);
    return t;
  }
  o.status = TraceStatus::failed;
  o.trials = trials_seen;
  std::string why = failure;
  if (why.empty() && exit) {
    why = exit->signal
              ? "edgenas-search was killed by signal " + std::to_string(exit->signal) +
                    (exit->signal == SIGKILL ? " (out of memory, or it ignored the stop)" : "")
              : "edgenas-search exited with code " + std::to_string(exit->exit_code);
  }
  o.error = why.empty() ? "edgenas-search ended without results" : why;
  return t;
}

SearchRunner::SearchRunner(const Clock& clock, SearchSettings settings, ChildLauncher& launcher,
                           RunStore& store, SearchLink& link, std::string agent_id)
    : clock_(clock),
      settings_(std::move(settings)),
      launcher_(launcher),
      store_(store),
      link_(link),
      agent_id_(std::move(agent_id)),
      box_model_(settings_.model_dir),
      latency_models_(settings_.latency_models) {
  searches_run_ = store_.runs_finished();
  if (settings_.every_ms > 0) next_scheduled_ms_ = clock_.now_ms() + settings_.every_ms;
}

void SearchRunner::save() {
  if (!run_) return;
  if (auto s = store_.save_run(*run_); !s)
    log::error("cannot save the search run", {{"run", run_->run_id}, {"error", s.error().message}});
}

Expected<std::string> SearchRunner::start(const std::string& trigger, const json& overrides) {
  if (!settings_.enabled()) {
    return Error{"unavailable",
                 "this agent runs no searches: set [search] binary and data in its config"};
  }
  if (run_) return Error{"busy", "search " + run_->run_id + " is already " + run_->phase};
  if (!overrides.is_object()) return Error{"bad_request", "search arguments must be a map"};
  for (const auto& [key, value] : overrides.items()) {
    if (key == "budget") {
      if (!value.is_string() || !config::parse_duration_ms(value.get<std::string>()))
        return Error{"bad_request", "budget must be a duration like \"10m\""};
    } else if (key == "trials") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1)
        return Error{"bad_request", "trials must be a positive integer"};
    } else if (key == "strategy") {
      const std::string s = value.is_string() ? value.get<std::string>() : "";
      if (s != "random" && s != "evolution" && s != "sh")
        return Error{"bad_request", "strategy must be random, evolution or sh"};
    } else if (key == "hparams") {
      if (auto h = proto::from_json<Hyperparameters>(value, "hparams"); !h)
        return Error{"bad_request", h.error().message};
    } else {
      return Error{"bad_request",
                   "unknown search argument '" + key + "' (budget, trials, strategy, hparams)"};
    }
  }
  SearchRun r;
  r.run_id = agent_id_.substr(0, 100) + "-s" + std::to_string(clock_.wall_ms());
  r.trigger = trigger;
  r.dir = settings_.runs_dir + "/" + r.run_id;
  r.started_wall_ms = clock_.wall_ms();
  r.overrides = overrides;
  std::error_code ec;
  fs::create_directories(r.dir + "/out", ec);
  if (ec) return Error{errc::kIo, "cannot create " + r.dir + ": " + ec.message()};
  run_ = std::move(r);
  progress_ = {};
  progress_.run_id = run_->run_id;
  log::info("search started", {{"run", run_->run_id}, {"trigger", trigger}});
  start_inspect();
  if (!run_) return Error{errc::kFailed, last_outcome_};
  return run_->run_id;
}

void SearchRunner::start_inspect() {
  run_->phase = "inspecting";
  phase_started_ms_ = clock_.now_ms();
  inspect_out_.clear();
  auto h = launcher_.spawn({{settings_.binary, "inspect", "--data", settings_.data},
                            run_->dir + "/inspect.log",
                            {0, 0},  // reads files for seconds: no limits needed
                            "inspect"});
  if (!h) return abandon("cannot start " + settings_.binary + ": " + h.error().message);
  handle_ = *h;
  run_->pid = *h;
  save();
}

void SearchRunner::on_inspected(const std::optional<ChildExit>& exit) {
  std::optional<DatasetShape> shape;
  if (exit && exit->exit_code == 0 && exit->signal == 0 && !inspect_out_.empty()) {
    try {
      auto s = proto::from_json<DatasetShape>(json::parse(inspect_out_.back()), "dataset");
      if (s) shape = *s;
    } catch (const std::exception&) {
    }
  }
  if (!shape) {
    const std::string why = files::last_line(run_->dir + "/inspect.log");
    return abandon("the data set '" + settings_.data + "' cannot be used" +
                   (why.empty() ? "" : ": " + why));
  }
  run_->context = link_.context();
  run_->context.dataset = *shape;
  if (run_->overrides.contains("hparams")) return start_pinned();
  run_->request_id = link_.request_hparams(run_->context, latency_models_.version());
  run_->phase = "requesting";
  run_->pid = 0;
  handle_ = -1;
  phase_started_ms_ = clock_.now_ms();
  save();
}

// Hyperparameters the admin gave with search.start: the coordinator is not asked (a known
// space again, a slow or emulated box); the trace says so with the policy "manual".
void SearchRunner::start_pinned() {
  proto::HparamReply r;
  r.hparams = *proto::from_json<Hyperparameters>(run_->overrides["hparams"], "hparams");
  r.policy = "manual";
  r.reason = "given with search.start";
  run_->reply = std::move(r);
  start_child();
}

// Newer fleet latency models that came with the reply are kept (a bad version is refused, the
// kept one stays); the run's record keeps only the hyperparameters.
void SearchRunner::keep_latency_models(proto::HparamReply& reply) {
  if (!reply.latency) return;
  if (auto s = latency_models_.keep(*reply.latency); !s)
    log::warn("latency models from the coordinator refused",
              {{"version", reply.latency->version}, {"error", s.error().message}});
  else
    log::info("latency models kept", {{"version", reply.latency->version}});
  reply.latency.reset();
}

void SearchRunner::start_child() {
  const auto& h = run_->reply->hparams;
  if (auto s = files::write_json_atomic(run_->dir + "/hparams.json", proto::to_json(h)); !s)
    return abandon(s.error().message);
  if (auto s = files::write_json_atomic(run_->dir + "/context.json", proto::to_json(run_->context));
      !s)
    return abandon(s.error().message);
  const auto limits = plan_limits(run_->context.source, settings_);
  int64_t budget_ms = settings_.budget_ms;
  if (run_->overrides.contains("budget"))
    budget_ms = *config::parse_duration_ms(run_->overrides["budget"].get<std::string>());
  const int trials = run_->overrides.value("trials", settings_.max_trials);
  const std::string strategy = run_->overrides.value("strategy", settings_.strategy);
  std::vector<std::string> argv{settings_.binary, "run",
                                "--hparams",      run_->dir + "/hparams.json",
                                "--context",      run_->dir + "/context.json",
                                "--data",         settings_.data,
                                "--out",          run_->dir + "/out",
                                "--budget",       std::to_string(budget_ms) + "ms",
                                "--strategy",     strategy,
                                "--workers",      std::to_string(limits.cpus),
                                "--device",       settings_.device,
                                "--progress",     "json"};
  if (trials > 0) argv.insert(argv.end(), {"--trials", std::to_string(trials)});
  if (!settings_.test_data.empty()) argv.insert(argv.end(), {"--test", settings_.test_data});
  if (!settings_.profile.empty()) argv.insert(argv.end(), {"--profile", settings_.profile});
  if (settings_.model_cpu) argv.push_back("--model-cpu");
  if (settings_.export_onnx) argv.push_back("--export-onnx");
  if (latency_models_.version() > 0)
    argv.insert(argv.end(), {"--latency-models", latency_models_.path()});
  if (settings_.energy_budget_mj > 0)
    argv.insert(argv.end(), {"--energy-budget-mj", std::to_string(settings_.energy_budget_mj)});
  if (auto kept = box_model_.incumbent_for(settings_.data, settings_.test_data))
    argv.insert(argv.end(), {"--incumbent", *kept});
  progress_.budget_s = static_cast<double>(budget_ms) / 1000;
  auto handle = launcher_.spawn({argv, run_->dir + "/search.log", limits, run_->run_id});
  if (!handle) {
    // Never started: still a failed Trace, since hyperparameters were handed out for it.
    return finish(std::nullopt, "cannot start edgenas-search: " + handle.error().message);
  }
  handle_ = *handle;
  run_->pid = *handle;
  run_->phase = run_->cancel_reason.empty() ? "running" : "stopping";
  phase_started_ms_ = clock_.now_ms();
  limits_applied_ = launcher_.limits_applied(handle_);
  log::info("edgenas-search started", {{"run", run_->run_id},
                                       {"pid", *handle},
                                       {"layers", h.layers},
                                       {"filters", h.filters},
                                       {"kernel", h.kernel},
                                       {"cpus", limits.cpus},
                                       {"memory_mb", limits.memory_mb},
                                       {"limits", limits_applied_}});
  save();
}

void SearchRunner::read_progress() {
  for (const auto& line : launcher_.take_lines(handle_)) {
    json e;
    try {
      e = json::parse(line);
    } catch (const std::exception&) {
      continue;  // not an event
    }
    if (!e.is_object()) continue;
    const std::string kind =
        e.contains("event") && e["event"].is_string() ? e["event"].get<std::string>() : "";
    if (kind == "start") {
      progress_.budget_s = std::clamp(number(e, "budget_s", progress_.budget_s), 0.0, 1e9);
    } else if (kind == "trial") {
      progress_.trials =
          static_cast<int>(std::clamp(number(e, "trials_done", progress_.trials), 0.0, 1e8));
      progress_.best_accuracy = std::clamp(number(e, "best_accuracy", 0), 0.0, 1.0);
      progress_.best_latency_ms =
          std::clamp(number(e, "best_latency_ms", 0), 0.0, limits::kMaxLatencyMs);
      progress_.elapsed_s = std::clamp(number(e, "elapsed_s", 0), 0.0, 1e9);
    }
  }
}

void SearchRunner::finish(const std::optional<ChildExit>& exit, const std::string& failure) {
  const auto results = files::read_json(run_->dir + "/out/results.json");
  std::string why = failure;
  if (why.empty() && !results && !run_->cancel_reason.empty())
    why = "cancelled (" + run_->cancel_reason + ") before a model was kept";
  if (why.empty() && !results) {
    const std::string tail = files::last_line(run_->dir + "/search.log");
    if (!tail.empty() && exit && !exit->signal && exit->exit_code != 0)
      why = "edgenas-search exited with code " + std::to_string(exit->exit_code) + ": " + tail;
  }
  const Trace trace = make_search_trace(*run_, results ? &*results : nullptr, exit, why,
                                        progress_.trials, clock_.wall_ms(), settings_.cpu_kind);
  const std::string outcome = std::string(to_string(trace.outcome.status));
  if (auto s = link_.submit_trace(trace); !s) {
    // Left unfinished in the store: the next start of the agent tries again.
    log::error("cannot queue the search's trace",
               {{"run", run_->run_id}, {"error", s.error().message}});
  } else if (auto f = store_.finish_run(run_->run_id, outcome); !f) {
    log::error("cannot mark the search run finished", {{"error", f.error().message}});
  }
  if (trace.outcome.status == TraceStatus::ok && results) keep_better_model(*results);
  if (trace.outcome.status == TraceStatus::ok) {
    log::info("search finished", {{"run", run_->run_id},
                                  {"accuracy", trace.outcome.accuracy},
                                  {"latency_ms", trace.outcome.latency_ms},
                                  {"met_latency", trace.outcome.met_latency},
                                  {"trials", trace.outcome.trials}});
  } else {
    log::warn("search failed", {{"run", run_->run_id}, {"error", trace.outcome.error}});
  }
  last_outcome_ = outcome + (trace.outcome.error.empty() ? "" : ": " + trace.outcome.error);
  searches_run_++;
  if (run_->reply) last_predictor_version_ = run_->reply->predictor_version;
  run_.reset();
  handle_ = -1;
  stop_sent_ms_ = -1;
  prune_runs();
}

// The box keeps the better of its model and the search's (BoxModel); a failure to keep it is
// logged, never the run's failure (the run's Trace and results are already kept).
void SearchRunner::keep_better_model(const json& results) {
  auto done = box_model_.update(run_->run_id, run_->dir, results, settings_.data,
                                settings_.test_data, clock_.wall_ms());
  if (!done) {
    last_model_update_ = "cannot keep the model: " + done.error().message;
    log::error("cannot keep the search's model",
               {{"run", run_->run_id}, {"error", done.error().message}});
    return;
  }
  last_model_update_ = *done;
  log::info("box model", {{"run", run_->run_id}, {"outcome", *done}});
}

void SearchRunner::abandon(const std::string& why) {
  log::error("search abandoned", {{"run", run_->run_id}, {"error", why}});
  if (run_->phase == "requesting") link_.cancel_hparam_request(run_->request_id);
  if (handle_ >= 0) launcher_.signal(handle_, SIGKILL);
  (void)store_.finish_run(run_->run_id, "abandoned");
  last_outcome_ = "abandoned: " + why;
  run_.reset();
  handle_ = -1;
  stop_sent_ms_ = -1;
}

Status SearchRunner::cancel(const std::string& reason) {
  if (!run_) return Error{errc::kNotFound, "no search is running"};
  log::info("search cancelled", {{"run", run_->run_id}, {"reason", reason}});
  run_->cancel_reason = reason;
  if (run_->phase == "inspecting" || run_->phase == "requesting") {
    abandon("cancelled (" + reason + ")");
    return ok_status();
  }
  if (run_->phase == "running") {
    launcher_.signal(handle_, SIGTERM);  // edgenas-search stops and keeps its best model
    stop_sent_ms_ = clock_.now_ms();
    run_->phase = "stopping";
    save();
  }
  return ok_status();
}

void SearchRunner::tick() {
  const int64_t now = clock_.now_ms();
  if (!run_ && settings_.every_ms > 0 && settings_.enabled() && now >= next_scheduled_ms_) {
    next_scheduled_ms_ = now + settings_.every_ms;
    if (auto r = start("schedule", json::object()); !r)
      log::warn("scheduled search not started", {{"error", r.error().message}});
  }
  if (!run_) return;
  if (run_->phase == "inspecting") {
    for (auto& l : launcher_.take_lines(handle_)) inspect_out_.push_back(std::move(l));
    if (auto exit = launcher_.poll(handle_)) {
      // What it printed just before exiting is read after the exit.
      for (auto& l : launcher_.take_lines(handle_)) inspect_out_.push_back(std::move(l));
      return on_inspected(exit);
    }
    if (now - phase_started_ms_ > settings_.inspect_timeout_ms)
      return abandon("reading the data set took longer than the inspect timeout");
    return;
  }
  if (run_->phase == "requesting") {
    if (auto reply = link_.take_hparam_reply(run_->request_id)) {
      keep_latency_models(*reply);
      run_->reply = std::move(*reply);
      return start_child();
    }
    if (now - phase_started_ms_ > settings_.hparams_timeout_ms)
      return abandon("no hyperparameters from the coordinator in time (is it reachable?)");
    return;
  }
  // running or stopping
  read_progress();
  if (auto exit = launcher_.poll(handle_)) {
    read_progress();
    return finish(exit, "");
  }
  if (stop_sent_ms_ >= 0 && now - stop_sent_ms_ > settings_.stop_grace_ms) {
    log::warn("edgenas-search ignored SIGTERM; killing it", {{"run", run_->run_id}});
    launcher_.signal(handle_, SIGKILL);
    stop_sent_ms_ = now + 3'600'000;  // once
  }
}

void SearchRunner::shutdown(const std::function<void(int64_t)>& sleep_ms) {
  if (!run_) return;
  if (run_->phase != "running" && run_->phase != "stopping") return;  // recover() finishes it
  if (run_->phase == "running") {
    launcher_.signal(handle_, SIGTERM);
    stop_sent_ms_ = clock_.now_ms();
    run_->phase = "stopping";
    save();
  }
  const int64_t until = clock_.now_ms() + settings_.stop_grace_ms;
  while (run_ && clock_.now_ms() < until) {
    tick();
    if (run_) sleep_ms(100);
  }
}

Status SearchRunner::recover() {
  auto runs = store_.unfinished_runs();
  if (!runs) return runs.error();
  for (auto& r : *runs) {
    if (r.phase != "running" && r.phase != "stopping") {
      log::info("dropping a search that had not started edgenas-search when the agent stopped",
                {{"run", r.run_id}, {"phase", r.phase}});
      (void)store_.finish_run(r.run_id, "abandoned");
      continue;
    }
    run_ = std::move(r);
    progress_ = {};
    progress_.run_id = run_->run_id;
    if (auto h = launcher_.adopt(run_->pid, settings_.binary)) {
      // The child outlived the agent (it is finishing after SIGTERM): wait for it in tick().
      handle_ = *h;
      stop_sent_ms_ = clock_.now_ms();
      run_->phase = "stopping";
      log::info("waiting for a search the previous agent process started",
                {{"run", run_->run_id}, {"pid", run_->pid}});
      return ok_status();
    }
    log::warn("finishing a search the agent was stopped during", {{"run", run_->run_id}});
    finish(std::nullopt, "the agent stopped while edgenas-search ran, and no results were kept");
  }
  return ok_status();
}

std::optional<proto::SearchProgress> SearchRunner::progress() const {
  if (!run_) return std::nullopt;
  auto p = progress_;
  p.phase = run_->phase;
  if (run_->phase != "running" && run_->phase != "stopping") p.elapsed_s = 0;
  return p;
}

json SearchRunner::status() const {
  json j{{"enabled", settings_.enabled()},   {"searches_run", searches_run_},
         {"last_outcome", last_outcome_},    {"data", settings_.data},
         {"budget_ms", settings_.budget_ms}, {"model", box_model_.info()}};
  if (!last_model_update_.empty()) j["last_model_update"] = last_model_update_;
  if (run_) {
    j["run"] = {{"run_id", run_->run_id},
                {"trigger", run_->trigger},
                {"phase", run_->phase},
                {"dir", run_->dir},
                {"pid", run_->pid},
                {"trials", progress_.trials},
                {"best_accuracy", progress_.best_accuracy},
                {"best_latency_ms", progress_.best_latency_ms},
                {"elapsed_s", progress_.elapsed_s},
                {"budget_s", progress_.budget_s},
                {"limits", limits_applied_}};
    if (run_->reply) j["run"]["hparams"] = proto::to_json(run_->reply->hparams);
  }
  return j;
}

void SearchRunner::prune_runs() {
  if (settings_.keep_runs <= 0) return;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(settings_.runs_dir, ec)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  if (static_cast<int>(dirs.size()) <= settings_.keep_runs) return;
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    std::error_code e1, e2;
    return fs::last_write_time(a, e1) < fs::last_write_time(b, e2);
  });
  for (std::size_t i = 0; i + static_cast<std::size_t>(settings_.keep_runs) < dirs.size(); ++i) {
    if (run_ && dirs[i].filename() == run_->run_id) continue;
    fs::remove_all(dirs[i], ec);
  }
}

}  // namespace edgenas::agent
