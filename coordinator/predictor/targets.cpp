#include "coordinator/predictor/targets.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <set>

#include "common/util/errors.hpp"

namespace edgenas::predictor {

double trace_reward(const Trace& t) {
  const auto& o = t.outcome;
  if (o.status != TraceStatus::ok) return 0;
  double q = o.accuracy;
  const double T = t.context.min_latency_req_ms().value_or(kNoTaskLatencyReqMs);
  if (o.latency_ms > T && o.latency_ms > 0) q *= T / o.latency_ms;
  if (auto budget = t.context.energy_budget_mj(o.device.empty() ? "cpu" : o.device)) {
    if (o.energy_mj > *budget && o.energy_mj > 0) q *= *budget / o.energy_mj;
  }
  q -= kSearchCostPerHour * o.search_time_s / 3600.0;
  return std::max(0.0, q);
}

Example make_example(const Trace& t, const std::string& agent_id) {
  Example e;
  e.trace_id = t.trace_id;
  e.agent_id = agent_id;
  e.context = t.context;
  e.features = featurize(t.context);
  e.choice = Grid::nearest(t.hparams);
  e.reward = trace_reward(t);
  if (t.outcome.status == TraceStatus::ok) e.progress = t.outcome.progress;
  return e;
}

std::vector<std::vector<float>> normalised(const std::vector<Example>& ex, const FeatureNorm& n) {
  std::vector<std::vector<float>> out;
  out.reserve(ex.size());
  for (const auto& e : ex) {
    auto x = n.apply(e.features);
    out.push_back(x ? *x : std::vector<float>(e.features.size(), 0.0f));
  }
  return out;
}

namespace {

// FNV-1a, 64 bits, over bytes, from a seed.
uint64_t fnv(uint64_t h, const void* bytes, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

double unit(uint64_t h) {
  return static_cast<double>(h % 1'000'003) / 1'000'003.0;
}

// The context cell of an example: its features in the rule's normalisation, rounded to half a
// standard deviation, hashed with the seed.
double context_unit(const SplitRule& r, const Example& e) {
  const auto x = r.norm.apply(e.features);
  const std::vector<float> v = x ? *x : std::vector<float>(e.features.size(), 0.0f);
  uint64_t h = 1469598103934665603ull ^ r.seed;
  for (float f : v) {
    const auto cell = static_cast<int64_t>(std::floor(f * 2.0f));
    for (int b = 0; b < 8; ++b) {
      const auto byte = static_cast<unsigned char>((cell >> (8 * b)) & 0xff);
      h = fnv(h, &byte, 1);
    }
  }
  return unit(h);
}

bool usable(const ExampleSplit& s) {
  return s.train.size() >= kMinTrainExamples && s.heldout.size() >= kMinHeldoutExamples &&
         s.heldout.size() <= s.train.size();
}

}  // namespace

bool SplitRule::holds_out(const Example& e) const {
  if (method == "context") return context_unit(*this, e) < heldout_share;
  const std::string& key = method == "agent" ? e.agent_id : e.trace_id;
  return unit(fnv(1469598103934665603ull ^ seed, key.data(), key.size())) < heldout_share;
}

nlohmann::json SplitRule::to_json() const {
  nlohmann::json j{{"method", method}, {"heldout_share", heldout_share}, {"seed", seed}};
  if (method == "context") j["norm"] = norm.to_json();
  return j;
}

Expected<SplitRule> SplitRule::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return Error{errc::kBadModel, "split: not an object"};
  SplitRule r;
  try {
    r.method = j.at("method").get<std::string>();
    r.heldout_share = j.at("heldout_share").get<double>();
    r.seed = j.at("seed").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    return Error{errc::kBadModel, std::string("split: ") + e.what()};
  }
  if (r.method != "context" && r.method != "agent" && r.method != "random")
    return Error{errc::kBadModel, "split: unknown method " + r.method};
  if (r.method == "context") {
    auto n = FeatureNorm::from_json(j.value("norm", nlohmann::json()));
    if (!n) return n.error();
    r.norm = std::move(*n);
  }
  return r;
}

ExampleSplit split_with(const std::vector<Example>& all, const SplitRule& rule) {
  ExampleSplit s;
  s.method = rule.method;
  s.rule = rule;
  for (const auto& e : all) (rule.holds_out(e) ? s.heldout : s.train).push_back(e);
  return s;
}

ExampleSplit split_for_training(const std::vector<Example>& all, double heldout_share,
                                uint64_t seed) {
  auto by_context = split_by_context(all, heldout_share, seed);
  if (usable(by_context)) return by_context;
  std::set<std::string> agents;
  for (const auto& e : all) agents.insert(e.agent_id);
  if (agents.size() >= 5 && !agents.count("")) {
    auto by_agent = split_with(all, {"agent", heldout_share, seed, {}});
    if (usable(by_agent)) return by_agent;
  }
  return split_with(all, {"random", heldout_share, seed, {}});
}

ExampleSplit split_by_context(const std::vector<Example>& all, double heldout_share,
                              uint64_t seed) {
  std::vector<std::vector<float>> rows;
  for (const auto& e : all) rows.push_back(e.features);
  return split_with(all, {"context", heldout_share, seed, FeatureNorm::fit(rows)});
}

std::vector<std::vector<int>> nearest(const std::vector<std::vector<float>>& queries,
                                      const std::vector<std::vector<float>>& pool, int k) {
  std::vector<std::vector<int>> out(queries.size());
  const std::size_t kk = std::min(pool.size(), static_cast<std::size_t>(std::max(1, k)));
  std::vector<std::pair<float, int>> d(pool.size());
  for (std::size_t q = 0; q < queries.size(); ++q) {
    for (std::size_t p = 0; p < pool.size(); ++p) {
      float s = 0;
      for (std::size_t j = 0; j < pool[p].size() && j < queries[q].size(); ++j) {
        const float t = pool[p][j] - queries[q][j];
        s += t * t;
      }
      d[p] = {s, static_cast<int>(p)};
    }
    std::partial_sort(d.begin(), d.begin() + static_cast<long>(kk), d.end());
    for (std::size_t i = 0; i < kk; ++i) out[q].push_back(d[i].second);
  }
  return out;
}

std::vector<Choice> knn_best_labels(const std::vector<Example>& ex, const FeatureNorm& norm,
                                    int k) {
  const auto x = normalised(ex, norm);
  const auto nn = nearest(x, x, k);
  std::vector<Choice> labels;
  for (std::size_t i = 0; i < ex.size(); ++i) {
    int best = static_cast<int>(i);
    for (int j : nn[i])
      if (ex[static_cast<std::size_t>(j)].reward > ex[static_cast<std::size_t>(best)].reward)
        best = j;
    labels.push_back(ex[static_cast<std::size_t>(best)].choice);
  }
  return labels;
}

PolicyScore score_policy(const std::vector<Example>& heldout, const FeatureNorm& norm,
                         const std::function<Choice(std::size_t)>& policy, int k) {
  PolicyScore s;
  if (heldout.empty()) return s;
  const auto x = normalised(heldout, norm);
  const auto nn = nearest(x, x, k);
  double best_sum = 0, earned_sum = 0;
  for (std::size_t i = 0; i < heldout.size(); ++i) {
    const Choice chosen = policy(i);
    const Example* best = &heldout[i];
    const Example* closest = nullptr;
    double closest_d = 1e300;
    for (int j : nn[i]) {
      const auto& e = heldout[static_cast<std::size_t>(j)];
      if (e.reward > best->reward) best = &e;
      const double d = Grid::distance(e.choice, chosen);
      if (d < closest_d || (d == closest_d && closest && e.reward > closest->reward)) {
        closest_d = d;
        closest = &e;
      }
    }
    best_sum += best->reward;
    earned_sum += closest->reward;
    s.earned.push_back(closest->reward);
    for (std::size_t h = 0; h < kHeads; ++h)
      s.head_accuracy[h] += chosen.index[h] == best->choice.index[h];
  }
  const double n = static_cast<double>(heldout.size());
  for (auto& a : s.head_accuracy) a /= n;
  s.regret = (best_sum - earned_sum) / n;
  s.normalised_reward = best_sum > 0 ? earned_sum / best_sum : 0;
  s.examples = static_cast<int>(heldout.size());
  return s;
}

nlohmann::json to_json(const PolicyScore& s) {
  nlohmann::json heads = nlohmann::json::object();
  for (std::size_t h = 0; h < kHeads; ++h) heads[kHeadNames[h]] = s.head_accuracy[h];
  return {{"head_accuracy", heads},
          {"regret", s.regret},
          {"normalised_reward", s.normalised_reward},
          {"examples", s.examples}};
}

nlohmann::json to_json(const PairedRegret& p) {
  return {{"difference", p.difference}, {"standard_error", p.standard_error}};
}

PairedRegret paired_regret(const PolicyScore& fresh, const PolicyScore& other) {
  const std::size_t n = std::min(fresh.earned.size(), other.earned.size());
  if (n == 0) return {};
  double sum = 0, sum_sq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = other.earned[i] - fresh.earned[i];  // fresh's regret − other's
    sum += d;
    sum_sq += d * d;
  }
  const double mean = sum / static_cast<double>(n);
  const double var = n > 1 ? std::max(0.0, (sum_sq - sum * mean) / static_cast<double>(n - 1)) : 0;
  return {mean, std::sqrt(var / static_cast<double>(n))};
}

std::optional<double> heldout_regret(const nlohmann::json& metrics, const std::string& who) {
  if (!metrics.is_object() || !metrics.contains("heldout")) return std::nullopt;
  const auto& h = metrics["heldout"];
  if (!h.is_object() || !h.contains(who) || !h[who].is_object()) return std::nullopt;
  const auto r = h[who].find("regret");
  if (r == h[who].end() || !r->is_number()) return std::nullopt;
  return r->get<double>();
}

GateVerdict judge(const nlohmann::json& metrics, const std::string& against, const GateRule& rule) {
  GateVerdict v;
  v.fresh = heldout_regret(metrics, "new");
  v.against = heldout_regret(metrics, against);
  if (!v.fresh || !v.against) return v;  // (so "heldout" is an object)
  const auto paired = metrics["heldout"].find("new_vs_" + against);
  if (paired != metrics["heldout"].end() && paired->is_object()) {
    const auto se = paired->find("standard_error");
    if (se != paired->end() && se->is_number()) v.standard_error = se->get<double>();
  }
  v.passes = *v.fresh - *v.against < rule.tolerance * v.standard_error - rule.margin;
  return v;
}

}  // namespace edgenas::predictor
