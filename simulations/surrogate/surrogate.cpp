#include "simulations/surrogate/surrogate.hpp"
#include "common/util/errors.hpp"
#include "common/util/rank_stats.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

namespace edgenas::sim {

PlannedTrial planned_trial(uint64_t seed, int row) {
  // Every tenth row repeats the architecture of five rows before, with another seed.
  const int arch_row = row % 10 == 9 && row >= 5 ? row - 5 : row;
  std::mt19937_64 rng(seed * 1'000'003 + static_cast<uint64_t>(arch_row));
  // A random grid point of the predictor's output space, then an architecture of its space: the
  // table covers the spaces the simulator will search, small and large alike.
  Hyperparameters hp;
  hp.layers = std::uniform_int_distribution<int>(1, 10)(rng);
  const int filters[] = {8, 16, 32, 64, 128, 256};
  hp.filters = filters[std::uniform_int_distribution<int>(0, 5)(rng)];
  hp.kernel = 3 + 2 * std::uniform_int_distribution<int>(0, 2)(rng);
  PlannedTrial p;
  // Networks above kTableMaxFlops are not trained: a search prunes them by latency long before
  // (they take milliseconds per image on this machine, hours per trial).
  do {
    p.spec = search::SearchSpace(hp).sample(rng);
  } while (search::cost_of(p.spec, kTableInput).flops > kTableMaxFlops);
  const int epochs[] = {1, 2, 4};
  p.epochs = epochs[std::uniform_int_distribution<int>(0, 2)(rng)];
  std::mt19937_64 seed_rng(seed * 7'919 + static_cast<uint64_t>(row));
  p.train_seed = seed_rng();
  return p;
}

std::string table_row(const search::TrialResult& t, int train_images) {
  std::ostringstream o;
  o << t.trial.id << "," << t.trial.spec.key() << "," << t.trial.fidelity.epochs << ","
    << train_images << "," << t.trial.seed << "," << (t.eval.ok ? 1 : 0) << "," << t.eval.accuracy
    << "," << t.eval.cpu_latency_ms << "," << t.eval.train_time_s << "," << t.eval.params << ","
    << t.eval.flops;
  return o.str();
}

Expected<std::vector<TableRow>> load_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{errc::kNotFound, "cannot read surrogate table " + path};
  std::vector<TableRow> rows;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || (n == 1 && line.rfind("row,", 0) == 0)) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    auto bad = [&](const std::string& why) {
      return Error{errc::kBadTable, path + ":" + std::to_string(n) + ": " + why};
    };
    if (f.size() != 11) return bad("expected 11 columns, found " + std::to_string(f.size()));
    TableRow r;
    auto spec = search::ArchSpec::from_key(f[1]);
    if (!spec) return bad("unreadable architecture '" + f[1] + "'");
    r.spec = *spec;
    try {
      r.row = std::stoi(f[0]);
      r.epochs = std::stoi(f[2]);
      r.train_images = std::stoi(f[3]);
      r.seed = std::stoull(f[4]);
      r.ok = f[5] == "1";
      r.accuracy = std::stod(f[6]);
      r.cpu_latency_ms = std::stod(f[7]);
      r.train_time_s = std::stod(f[8]);
      r.params = std::stoll(f[9]);
      r.flops = std::stoll(f[10]);
    } catch (const std::exception&) {
      return bad("a number does not parse");
    }
    if (r.epochs < 1 || r.accuracy < 0 || r.accuracy > 1 || !std::isfinite(r.cpu_latency_ms))
      return bad("a value is out of range");
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<double> arch_features(const search::ArchSpec& s, int epochs) {
  const auto cost = search::cost_of(s, kTableInput);
  double max_ch = 0, mean_k = 0, strides = 0, bn = 0, res = 0, hs = 0;
  for (const auto& b : s.blocks) {
    max_ch = std::max(max_ch, static_cast<double>(b.out_channels));
    mean_k += b.kernel;
    strides += b.stride == 2;
    bn += b.batch_norm;
    res += b.residual;
    hs += b.activation == search::Activation::hswish;
  }
  const double n = static_cast<double>(std::max<std::size_t>(1, s.blocks.size()));
  return {static_cast<double>(s.blocks.size()),
          std::log2(1.0 + static_cast<double>(cost.params)),
          std::log2(1.0 + static_cast<double>(cost.flops)),
          std::log2(max_ch),
          std::log2(static_cast<double>(s.blocks.back().out_channels)),
          mean_k / n,
          strides,
          bn / n,
          res / n,
          hs / n,
          std::log2(1.0 + s.head_width),
          2.0 * std::log2(static_cast<double>(epochs))};  // weighted: epochs matter a lot
}

Expected<Surrogate> Surrogate::fit(const std::vector<TableRow>& all) {
  Surrogate s;
  for (const auto& r : all)
    if (r.ok) s.rows_.push_back(r);
  if (s.rows_.size() < 20)
    return Error{errc::kBadTable,
                 "the surrogate needs at least 20 successful rows, the table has " +
                     std::to_string(s.rows_.size())};
  for (const auto& r : s.rows_) {
    s.x_.push_back(arch_features(r.spec, r.epochs));
    s.y_.push_back(r.accuracy);
  }
  const std::size_t d = s.x_[0].size();
  s.mean_.assign(d, 0);
  s.scale_.assign(d, 1);
  for (std::size_t j = 0; j < d; ++j) {
    double m = 0, v = 0;
    for (const auto& x : s.x_) m += x[j];
    m /= static_cast<double>(s.x_.size());
    for (const auto& x : s.x_) v += (x[j] - m) * (x[j] - m);
    v /= static_cast<double>(s.x_.size());
    s.mean_[j] = m;
    s.scale_[j] = v > 1e-12 ? std::sqrt(v) : 1;
  }
  for (auto& x : s.x_)
    for (std::size_t j = 0; j < d; ++j) x[j] = (x[j] - s.mean_[j]) / s.scale_[j];
  // Noise: the spread between runs of the same architecture and epochs with other seeds.
  std::map<std::string, std::vector<double>> same;
  for (const auto& r : s.rows_)
    same[r.spec.key() + "/" + std::to_string(r.epochs)].push_back(r.accuracy);
  double sq = 0;
  int pairs = 0;
  for (const auto& [k, v] : same) {
    if (v.size() < 2) continue;
    const double m = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    for (double a : v) sq += (a - m) * (a - m);
    pairs += static_cast<int>(v.size()) - 1;
  }
  if (pairs > 0) s.noise_ = std::sqrt(sq / pairs);
  // Latency: this machine's calibration from the measured CPU latencies.
  std::vector<std::pair<double, double>> pts;
  for (const auto& r : s.rows_)
    if (r.cpu_latency_ms > 0) pts.emplace_back(static_cast<double>(r.flops), r.cpu_latency_ms);
  auto cal = search::fit_calibration(pts);
  if (!cal) return cal.error();
  s.calibration_ = *cal;
  // Training time = images × epochs × (a + b · GFLOPs): least squares over the rows.
  double sxx = 0, sxy = 0, sx = 0, sy = 0, n = 0;
  for (const auto& r : s.rows_) {
    const double work = static_cast<double>(r.train_images) * r.epochs;
    if (work <= 0 || r.train_time_s <= 0) continue;
    const double x = static_cast<double>(r.flops) / 1e9, y = r.train_time_s / work;
    sx += x, sy += y, sxx += x * x, sxy += x * y, n += 1;
  }
  const double var = n * sxx - sx * sx;
  s.sec_per_gflop_image_ = var > 0 ? std::max(0.0, (n * sxy - sx * sy) / var) : 0;
  s.sec_per_image_ = n > 0 ? std::max(1e-6, (sy - s.sec_per_gflop_image_ * sx) / n) : 1e-4;
  return s;
}

double Surrogate::accuracy(const search::ArchSpec& spec, int epochs) const {
  auto q = arch_features(spec, epochs);
  for (std::size_t j = 0; j < q.size(); ++j) q[j] = (q[j] - mean_[j]) / scale_[j];
  constexpr std::size_t k = 7;
  std::vector<std::pair<double, std::size_t>> d;
  d.reserve(x_.size());
  for (std::size_t i = 0; i < x_.size(); ++i) {
    double s = 0;
    for (std::size_t j = 0; j < q.size(); ++j) s += (x_[i][j] - q[j]) * (x_[i][j] - q[j]);
    d.emplace_back(s, i);
  }
  const std::size_t kk = std::min(k, d.size());
  std::partial_sort(d.begin(), d.begin() + static_cast<long>(kk), d.end());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < kk; ++i) {
    const double w = 1.0 / (std::sqrt(d[i].first) + 1e-3);
    num += w * y_[d[i].second];
    den += w;
  }
  return std::clamp(num / den, 0.0, 1.0);
}

double Surrogate::train_seconds(const search::ArchSpec& spec, int epochs, int images) const {
  const double gflops = static_cast<double>(search::cost_of(spec, kTableInput).flops) / 1e9;
  return static_cast<double>(images) * epochs * (sec_per_image_ + sec_per_gflop_image_ * gflops);
}

Surrogate::Quality Surrogate::evaluate(const std::vector<TableRow>& train,
                                       const std::vector<TableRow>& test) {
  Quality q;
  auto s = fit(train);
  if (!s) return q;
  std::vector<double> pred, truth;
  for (const auto& r : test) {
    if (!r.ok) continue;
    pred.push_back(s->accuracy(r.spec, r.epochs));
    truth.push_back(r.accuracy);
  }
  q.n = static_cast<int>(pred.size());
  if (q.n < 3) return q;
  for (int i = 0; i < q.n; ++i)
    q.mae += std::abs(pred[static_cast<std::size_t>(i)] - truth[static_cast<std::size_t>(i)]);
  q.mae /= q.n;
  q.spearman = spearman(pred, truth);
  return q;
}

search::Evaluation SurrogateEvaluator::evaluate(const search::ArchSpec& spec,
                                                const search::Fidelity& f, uint64_t seed) {
  search::Evaluation e;
  const auto cost = search::cost_of(spec, kTableInput);
  e.params = cost.params;
  e.flops = cost.flops;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, s_.noise_sigma());
  e.accuracy = std::clamp(s_.accuracy(spec, f.epochs) + noise(rng), 0.0, 1.0);
  e.latency_ms = latency_ ? latency_(spec)
                          : search::modelled_latency_ms(cost.flops, device_, s_.calibration());
  e.latency_modelled = true;
  e.energy_mj = power_w_ * e.latency_ms;
  e.energy_modelled = true;
  const int images = static_cast<int>(images_ * f.data_fraction);
  e.train_time_s = s_.train_seconds(spec, f.epochs, images) / std::max(1e-6, cpu_speed_);
  return e;
}

}  // namespace edgenas::sim
