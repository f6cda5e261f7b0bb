#include "coordinator/predictor/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>

#include "common/ml/mlp_train.hpp"
#include "common/ml/threads.hpp"
#include "common/search/search.hpp"
#include "common/util/errors.hpp"
#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/predictor/explore.hpp"

namespace edgenas::predictor {
namespace {

using nlohmann::json;

std::vector<float> one_hot(const Choice& c) {
  std::vector<float> v;
  for (int h = 0; h < kHeads; ++h) {
    for (int i = 0; i < Grid::size(h); ++i)
      v.push_back(c.index[static_cast<std::size_t>(h)] == i ? 1.0f : 0.0f);
  }
  return v;
}

// Fractions of a search's compute at which the progress model rates a space.
constexpr double kFractions[] = {1.0 / 64, 1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2};
float fraction_feature(double f) {
  return static_cast<float>(1.0 + std::log2(f) / 6.0);  // 1/64 → 0, 1/2 → 0.83
}
// progress targets: the window of near-best points, measured from the k-th best rating so that
// one over-rated point cannot narrow it to itself.
constexpr double kNearBest = 0.03;
constexpr std::size_t kReferenceRank = 5;

// Targets from an outcome model r(x, h), the reward of a search with hyperparameters h on
// context x, fitted on the training traces; per context the grid point r rates best.
// With `progress`, also a progress model q(x, h, f), the share of its final reward a search has
// reached after a fraction f of its compute (fitted on the traces that carry their progress),
// and per context the label is, among the points r rates within kNearBest of its
// kReferenceRank-th best rating, the one whose expected progress r·q summed over the fractions
// is highest (the area under its curve, compute on a log scale): as good in the end, and there
// with less compute. Traces without progress leave it r's argmax.
std::vector<Choice> outcome_labels(const std::vector<Example>& train, const FeatureNorm& norm,
                                   uint64_t seed, bool progress) {
  const auto x = normalised(train, norm);
  auto row_of = [&](std::size_t i, const std::vector<float>& oh, std::optional<double> f) {
    auto row = x[i];
    row.insert(row.end(), oh.begin(), oh.end());
    if (f) row.push_back(fraction_feature(*f));
    return row;
  };
  ml::RegressionData d, dq;
  for (std::size_t i = 0; i < train.size(); ++i) {
    const auto& e = train[i];
    const auto oh = one_hot(e.choice);
    d.x.push_back(row_of(i, oh, std::nullopt));
    d.y.push_back(static_cast<float>(e.reward));
    const auto& p = e.progress;
    if (!progress || !p || p->points.back().reward <= 0) continue;
    for (double f : kFractions) {
      dq.x.push_back(row_of(i, oh, f));
      dq.y.push_back(static_cast<float>(p->reward_at(f * p->compute_s) / p->points.back().reward));
    }
  }
  ml::MlpTrainOptions o;
  o.epochs = 60;
  o.seed = seed;
  const search::MlpSpec spec{{128, 128}, MlpActivation::relu, 0.0, 1e-3};
  const Mlp r = ml::train_regressor(spec, d, o);
  std::optional<Mlp> q;
  if (!dq.x.empty()) q = ml::train_regressor(spec, dq, o);
  std::vector<std::vector<float>> grid_hot;
  for (int g = 0; g < Grid::points(); ++g) grid_hot.push_back(one_hot(Grid::at(g)));
  const std::size_t nf = std::size(kFractions);
  std::vector<Choice> labels;
  for (std::size_t i = 0; i < train.size(); ++i) {
    std::vector<std::vector<float>> rows, qrows;
    for (const auto& oh : grid_hot) {
      rows.push_back(row_of(i, oh, std::nullopt));
      if (q)
        for (double f : kFractions) qrows.push_back(row_of(i, oh, f));
    }
    const auto v = ml::predict_rows(r, rows);
    int label = static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
    if (q) {
      auto ranked = v;
      const std::size_t k = std::min(kReferenceRank, ranked.size()) - 1;
      std::nth_element(ranked.begin(), ranked.begin() + static_cast<long>(k), ranked.end(),
                       std::greater<float>());
      const double floor = (1 - kNearBest) * ranked[k];
      const auto share = ml::predict_rows(*q, qrows);  // [grid point][fraction]
      double label_area = -1;
      for (std::size_t g = 0; g < v.size(); ++g) {
        if (v[g] < floor) continue;
        double area = 0;
        for (std::size_t f = 0; f < nf; ++f)
          area += v[g] * std::clamp(share[g * nf + f], 0.0f, 1.0f);
        if (area > label_area) label_area = area, label = static_cast<int>(g);
      }
    }
    labels.push_back(Grid::at(label));
  }
  return labels;
}

ml::HeadsData heads_data(const std::vector<std::vector<float>>& x, const std::vector<Choice>& y,
                         const std::vector<std::size_t>& rows) {
  ml::HeadsData d;
  for (int h = 0; h < kHeads; ++h) d.head_sizes.push_back(Grid::size(h));
  for (std::size_t i : rows) {
    d.x.push_back(x[i]);
    d.y.emplace_back(y[i].index.begin(), y[i].index.end());
  }
  return d;
}

PolicyScore score_model(const PredictorModel& m, const std::vector<Example>& heldout,
                        const FeatureNorm& scoring_norm, int k) {
  return score_policy(
      heldout, scoring_norm,
      [&](std::size_t i) {
        auto c = m.predict(heldout[i].context);
        return c ? *c : heldout[i].choice;
      },
      k);
}

// Pooled traces per grid point: the serving version hands it to wide exploration, which
// favours thinly covered spaces (explore.hpp).
nlohmann::json grid_coverage(const std::vector<Example>& all) {
  std::vector<Choice> choices;
  for (const auto& e : all) choices.push_back(e.choice);
  return coverage_of(choices);
}

// Adds the pool (the warm start's simulated traces) to a split of the fleet's traces. The pool
// is split as the warm start's own training split it (same function, share and seed), so its
// held-out part is what the warm start never trained on. Its training part always trains; its
// held-out part is scored too until the fleet's own held-out traces are enough to judge on
// alone (a young fleet's first retrainings could not be gated otherwise).
ExampleSplit with_pool(ExampleSplit fleet, const TrainerOptions& o) {
  if (o.pool.empty()) return fleet;
  std::vector<Example> pool;
  for (const auto& t : o.pool) {
    pool.push_back(make_example(t, ""));
    pool.back().from_pool = true;
  }
  auto p = split_for_training(pool, o.heldout_share, o.seed);
  fleet.train.insert(fleet.train.end(), p.train.begin(), p.train.end());
  if (fleet.heldout.size() >= kFleetHeldoutAlone) return fleet;
  fleet.heldout.insert(fleet.heldout.end(), p.heldout.begin(), p.heldout.end());
  fleet.method = (fleet.heldout.size() == p.heldout.size() ? "" : fleet.method + " + ") +
                 "simulated pool (" + p.method + ")";
  return fleet;
}

// When the newest of these traces was stored (0 when any is not known).
int64_t latest_received(const std::vector<Example>& all) {
  int64_t latest = 0;
  for (const auto& e : all) {
    if (e.received_ms <= 0) return 0;
    latest = std::max(latest, e.received_ms);
  }
  return latest;
}

// The held-out examples a serving version never trained on. The warm start trained on its
// simulated pool alone, whose held-out part every training splits off the same way. A
// fleet-trained version records the rule that split the fleet's traces (meta.split) and when
// the newest trace it saw was stored (meta.trained_until_ms): a fleet trace stored by then
// that the rule put on the training side trained it (the context rule's cells move as the
// fleet grows, so a trace held out now may have been a training trace then). A version
// without the record (trained before it existed) is scored on them all.
std::vector<Example> unseen_by(const PredictorModel& baseline,
                               const std::vector<Example>& heldout) {
  if (trained_in_simulation(baseline) || !baseline.meta.contains("split")) return heldout;
  auto rule = SplitRule::from_json(baseline.meta["split"]);
  if (!rule) return heldout;
  const int64_t until = baseline.meta.value("trained_until_ms", int64_t{0});
  std::vector<Example> out;
  for (const auto& e : heldout) {
    const bool newer = until > 0 && e.received_ms > until;
    if (e.from_pool || newer || rule->holds_out(e)) out.push_back(e);
  }
  return out;
}

// What the gate's scores are computed on: the held-out examples less those the serving version
// may have trained on (scoring it on them favours it), unless too few would be left; neighbours
// are found in the scored set's own normalisation.
struct ScoredSet {
  std::vector<Example> examples;
  FeatureNorm norm;
  json note;
};
ScoredSet scored_examples(const std::vector<Example>& heldout, const PredictorModel* baseline) {
  ScoredSet s{heldout, {}, {{"heldout", heldout.size()}}};
  if (baseline) {
    auto unseen = unseen_by(*baseline, heldout);
    s.note["seen_by_serving"] = heldout.size() - unseen.size();
    if (unseen.size() >= kMinHeldoutExamples) s.examples = std::move(unseen);
  }
  s.note["scored"] = s.examples.size();
  std::vector<std::vector<float>> rows;
  for (const auto& e : s.examples) rows.push_back(e.features);
  s.norm = FeatureNorm::fit(rows);
  return s;
}

// The new version, the serving one and the cold-start rule on the same scored examples, and
// the new version's paired difference to each (what the gate weighs).
json score_policies(const PredictorModel& model, const ScoredSet& s, const TrainerOptions& o) {
  const PolicyScore fresh = score_model(model, s.examples, s.norm, o.k);
  json out{{"new", to_json(fresh)}};
  if (o.baseline) {
    const PolicyScore serving = score_model(*o.baseline, s.examples, s.norm, o.k);
    out["baseline"] = to_json(serving);
    out["new_vs_baseline"] = to_json(paired_regret(fresh, serving));
  }
  coordinator::ColdStartPolicy cold(o.cold_start_rule);
  const PolicyScore rule = score_policy(
      s.examples, s.norm,
      [&](std::size_t i) {
        proto::HparamRequest req;
        req.request_id = "score";
        req.context = s.examples[i].context;
        return Grid::nearest(cold.choose("score", req).hparams);
      },
      o.k);
  out["cold_start"] = to_json(rule);
  out["new_vs_cold_start"] = to_json(paired_regret(fresh, rule));
  return out;
}

}  // namespace

Expected<TrainerResult> train_predictor(const std::vector<Trace>& traces, const TrainerOptions& o) {
  if (!valid_targets(o.targets))
    return Error{"bad_request", "targets must be knn, outcome or progress, not " + o.targets};
  // One intra-op thread in this thread (the outcome regressor) and in every trial's
  // (MlpEvaluator): float sums depend on the thread count, and argmax labels flip on them.
  ml::set_threads(1);
  std::vector<Example> all;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    all.push_back(make_example(traces[i], i < o.agent_ids.size() ? o.agent_ids[i] : ""));
    if (i < o.received_ms.size()) all.back().received_ms = o.received_ms[i];
  }
  auto split = with_pool(split_for_training(all, o.heldout_share, o.seed), o);
  if (split.train.size() < kMinTrainExamples || split.heldout.size() < kMinHeldoutExamples) {
    return Error{"not_enough_traces",
                 std::to_string(traces.size()) + " traces give " +
                     std::to_string(split.train.size()) + " for training and " +
                     std::to_string(split.heldout.size()) + " held out (split by " + split.method +
                     "); at least " + std::to_string(kMinTrainExamples) + " and " +
                     std::to_string(kMinHeldoutExamples) + " are needed"};
  }
  std::vector<std::vector<float>> rows;
  for (const auto& e : split.train) rows.push_back(e.features);
  const FeatureNorm norm = FeatureNorm::fit(rows);
  const auto x = normalised(split.train, norm);

  auto labels_for = [&](const std::string& method) {
    return method == "knn" ? knn_best_labels(split.train, norm, o.k)
                           : outcome_labels(split.train, norm, o.seed, method == "progress");
  };
  const auto labels = labels_for(o.targets);

  // The predictor's own NAS: training traces split again (as above) into fit / validation.
  auto inner = split_for_training(split.train, 0.2, o.seed + 1);
  std::vector<std::size_t> fit_rows, val_rows;
  {
    std::set<std::string> val_ids;
    for (const auto& e : inner.heldout) val_ids.insert(e.trace_id);
    for (std::size_t i = 0; i < split.train.size(); ++i)
      (val_ids.count(split.train[i].trace_id) ? val_rows : fit_rows).push_back(i);
  }
  if (val_rows.empty() || fit_rows.empty()) {  // tiny sets: validate on everything
    fit_rows.clear();
    for (std::size_t i = 0; i < split.train.size(); ++i) fit_rows.push_back(i);
    val_rows = fit_rows;
  }
  const auto fit_data = heads_data(x, labels, fit_rows), val_data = heads_data(x, labels, val_rows);
  ml::MlpEvaluator evaluator(fit_data, val_data, 10);
  search::MlpSpace space;
  auto strategy = search::make_evolution(space, o.seed, {2, 1.0}, 12, 4);
  search::SearchOptions so{o.workers, {o.budget_ms / 1000, o.max_trials}, {1e9, std::nullopt}};
  SystemClock clock;
  auto nas = search::run_search<search::MlpSpec>(
      *strategy, evaluator, so, clock, o.stop, [&](const auto& t, const auto& so_far) {
        if (o.progress) {
          o.progress(json{{"event", "trial"},
                          {"trial", t.trial.id},
                          {"spec", t.trial.spec.key()},
                          {"validation_accuracy", t.eval.accuracy},
                          {"best", so_far.best ? so_far.best->eval.accuracy : 0.0}});
        }
      });
  if (!nas.best) return Error{errc::kFailed, "no predictor architecture trained successfully"};
  const search::MlpSpec best = nas.best->trial.spec;

  std::vector<std::size_t> every(split.train.size());
  for (std::size_t i = 0; i < every.size(); ++i) every[i] = i;
  ml::MlpTrainOptions final_options;
  final_options.epochs = 40;
  final_options.seed = o.seed;
  final_options.stop = o.stop;
  auto make_model = [&](const std::vector<Choice>& y) {
    PredictorModel m;
    m.version = o.version;
    m.norm = norm;
    m.mlp = ml::train_heads(best, heads_data(x, y, every), final_options);
    return m;
  };
  PredictorModel model = make_model(labels);

  const auto scored = scored_examples(split.heldout, o.baseline);
  json heldout = score_policies(model, scored, o);
  if (o.compare) {
    const std::string other = o.targets == "outcome" ? "knn" : "outcome";
    heldout["targets_" + other] =
        to_json(score_model(make_model(labels_for(other)), scored.examples, scored.norm, o.k));
  }
  json spec{{"hidden", best.hidden},
            {"activation", best.activation == MlpActivation::relu ? "relu" : "tanh"},
            {"dropout", best.dropout},
            {"learning_rate", best.learning_rate}};
  model.meta = json{{"architecture", spec},
                    {"targets", o.targets},
                    {"split", split.rule.to_json()},
                    {"trained_until_ms", latest_received(all)}};
  json metrics{{"version", o.version},
               {"training_traces", split.train.size()},
               {"heldout_traces", split.heldout.size()},
               {"heldout_split", split.method},
               {"heldout_scored", scored.note},
               {"pool_traces", o.pool.size()},
               {"grid_coverage", grid_coverage(all)},
               {"targets", o.targets},
               {"architecture", spec},
               {"architecture_key", best.key()},
               {"nas",
                {{"trials", nas.trials.size()},
                 {"stop_reason", nas.stop_reason},
                 {"validation_head_accuracy", nas.best->eval.accuracy}}},
               {"heldout", heldout}};
  return TrainerResult{std::move(model), std::move(metrics)};
}

}  // namespace edgenas::predictor
