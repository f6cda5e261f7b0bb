#include "simulations/nb201/latency_eval.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>

#include "common/search/latency_model.hpp"
#include "common/search/layers.hpp"
#include "common/search/learned_latency.hpp"
#include "common/util/errors.hpp"
#include "common/util/rank_stats.hpp"
#include "simulations/fleet/numbers.hpp"
#include "simulations/fleet/parallel.hpp"
#include "simulations/fleet/report_files.hpp"
#include "simulations/nb201/latency_loop.hpp"
#include "simulations/nb201/table.hpp"

namespace edgenas::sim {
namespace {

// Published Spearman's ρ on NAS-Bench-201 for HELP's six test devices: HELP with 10 samples
// of the device, BRP-NAS with 900, FLOPs (Lee et al., "HELP: Hardware-Adaptive Efficient
// Latency Prediction for NAS via Meta-Learning", NeurIPS 2021, Table 3, as the authors'
// repository github.com/HayeonLee/HELP lists it).
struct Published {
  const char* column;
  double help_10, brp_nas_900, flops;
};
constexpr Published kPublished[] = {
    {"help_titan_rtx_256", 0.987, 0.814, 0.950}, {"help_gold_6226", 0.989, 0.796, 0.826},
    {"help_pixel2", 0.802, 0.666, 0.765},        {"help_raspi4", 0.890, 0.847, 0.846},
    {"help_eyeriss", 0.940, 0.811, 0.437},       {"help_fpga", 0.985, 0.801, 0.900}};

// What the whole table knows of each cell.
struct Cells {
  std::vector<std::vector<double>> features;
  std::vector<double> flops;
};

Cells describe(const Nb201Table& t) {
  Cells c;
  for (const auto& cell : t.cells) {
    const auto layers = search::lower(cell);
    c.features.push_back(search::latency_features(layers));
    c.flops.push_back(search::model_flops(layers));
  }
  return c;
}

std::vector<std::size_t> draw_rows(std::size_t rows, std::size_t k, uint64_t seed) {
  std::vector<std::size_t> all(rows);
  std::iota(all.begin(), all.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(std::min(k, rows));
  return all;
}

std::vector<search::Measurement> measurements(const Cells& c, const std::vector<double>& ms,
                                              const std::vector<std::size_t>& rows) {
  std::vector<search::Measurement> m;
  for (auto r : rows) m.push_back({c.features[r], ms[r]});
  return m;
}

struct Scores {
  double spearman = 0, median_abs_pct = 0, within_10pct = 0, precision = 0, recall = 0, margin = 0,
         precision_at_margin = 0, recall_at_margin = 0;
};

Scores score(const std::vector<double>& predicted, const std::vector<double>& measured,
             double margin) {
  Scores s;
  s.spearman = spearman(predicted, measured);
  std::vector<double> abs_pct;
  for (std::size_t i = 0; i < measured.size(); ++i)
    if (measured[i] > 0)
      abs_pct.push_back(100 * std::abs(predicted[i] - measured[i]) / measured[i]);
  s.median_abs_pct = median(abs_pct);
  s.within_10pct = static_cast<double>(std::count_if(abs_pct.begin(), abs_pct.end(),
                                                     [](double e) { return e <= 10; })) /
                   static_cast<double>(std::max<std::size_t>(abs_pct.size(), 1));
  const auto plain = within_t_shares(predicted, measured);
  const auto kept = within_t_shares(predicted, measured, margin);
  s.precision = plain.precision;
  s.recall = plain.recall;
  s.margin = margin;
  s.precision_at_margin = kept.precision;
  s.recall_at_margin = kept.recall;
  return s;
}

nlohmann::json median_json(const std::vector<Scores>& draws) {
  auto m = [&](double Scores::*f) {
    std::vector<double> v;
    for (const auto& s : draws) v.push_back(s.*f);
    return median(v);
  };
  return {{"spearman", m(&Scores::spearman)},
          {"median_abs_error_pct", m(&Scores::median_abs_pct)},
          {"within_10pct", m(&Scores::within_10pct)},
          {"within_t_truly_within", m(&Scores::precision)},
          {"truly_within_t_kept", m(&Scores::recall)},
          {"margin", m(&Scores::margin)},
          {"within_t_truly_within_at_margin", m(&Scores::precision_at_margin)},
          {"truly_within_t_kept_at_margin", m(&Scores::recall_at_margin)}};
}

// Every row's latency as a box that measured `rows` of them knows it: the measurement where it
// has one, else the estimate.
std::vector<double> as_known(const std::vector<bool>& measured_row, const std::vector<double>& ms,
                             const std::function<double(std::size_t)>& estimate) {
  std::vector<double> out(ms.size());
  for (std::size_t r = 0; r < ms.size(); ++r) out[r] = measured_row[r] ? ms[r] : estimate(r);
  return out;
}

// Sums the searches of several draws: shares weighted by the searches, regrets by those that
// met T.
void add_searches(nlohmann::json& total, const nlohmann::json& draw) {
  for (const auto& [name, s] : draw.items()) {
    auto& t = total[name];
    if (t.is_null()) t = {{"searches", 0}, {"met", 0.0}, {"regret_sum", 0.0}};
    const double met = s["met_t"].get<double>() * s["searches"].get<double>();
    t["searches"] = t["searches"].get<int>() + s["searches"].get<int>();
    t["met"] = t["met"].get<double>() + met;
    t["regret_sum"] =
        t["regret_sum"].get<double>() + s["regret_points_when_met"].get<double>() * met;
  }
}
nlohmann::json searches_json(const nlohmann::json& total) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, t] : total.items()) {
    const double met = t["met"].get<double>();
    out[name] = {{"searches", t["searches"]},
                 {"met_t", met / std::max(1, t["searches"].get<int>())},
                 {"regret_points_when_met", met > 0 ? t["regret_sum"].get<double>() / met : 0.0}};
  }
  return out;
}

// The learned and the FLOPs model of one held-out device from k of its cells, `draws` times.
struct HeldOut {
  const Nb201Table& table;
  const Cells& cells;
  const LatencyEvalOptions& o;
  int column;
  std::vector<search::AdditiveLatencyModel> sources;

  // Searches on the device with its latency measured, from the FLOPs line, and predicted.
  nlohmann::json searches(const std::vector<bool>& trained, const search::TransferLatencyModel& m,
                          const std::optional<search::CpuCalibration>& line, int draw) const {
    const auto& ms = table.latency_ms[static_cast<std::size_t>(column)];
    const auto learned =
        as_known(trained, ms, [&](auto r) { return m.predict(cells.features[r]); });
    const auto by_flops = as_known(trained, ms, [&](auto r) {
      return line ? line->overhead_ms + cells.flops[r] / line->flops_per_ms : 0.0;
    });
    LoopOptions lo;
    lo.seeds = o.loop_seeds;
    lo.seed = mix(o.seed ^ 0x100Fu, draw);
    return searches_meeting_t(
        table, column,
        {{"measured", nullptr, 1}, {"flops", &by_flops, 1}, {"learned", &learned, 1 - m.margin()}},
        lo);
  }

  Expected<nlohmann::json> at(int k) const {
    std::vector<Scores> learned, flops;
    nlohmann::json loop_total = nlohmann::json::object();
    const auto& ms = table.latency_ms[static_cast<std::size_t>(column)];
    for (int d = 0; d < o.draws; ++d) {
      const auto rows =
          draw_rows(table.rows(), static_cast<std::size_t>(k), mix(mix(o.seed, column), mix(k, d)));
      std::vector<bool> trained(table.rows(), false);
      std::vector<std::pair<double, double>> points;
      for (auto r : rows) trained[r] = true, points.emplace_back(cells.flops[r], ms[r]);
      auto model = search::fit_transfer(table.devices[static_cast<std::size_t>(column)], sources,
                                        measurements(cells, ms, rows));
      if (!model) return model.error();
      auto line = search::fit_calibration(points);
      std::vector<double> predicted, by_flops, measured;
      for (std::size_t r = 0; r < table.rows(); ++r) {
        if (trained[r] || !(ms[r] > 0)) continue;
        predicted.push_back(model->predict(cells.features[r]));
        by_flops.push_back(line ? line->overhead_ms + cells.flops[r] / line->flops_per_ms : 0);
        measured.push_back(ms[r]);
      }
      learned.push_back(score(predicted, measured, model->margin()));
      flops.push_back(score(by_flops, measured, model->margin()));
      if (k == o.loop_k && o.loop_seeds > 0)
        add_searches(loop_total,
                     searches(trained, *model, line ? std::optional(*line) : std::nullopt, d));
    }
    nlohmann::json j{{"k", k}, {"learned", median_json(learned)}, {"flops", median_json(flops)}};
    if (!loop_total.empty()) j["searches"] = searches_json(loop_total);
    return j;
  }
};

std::vector<int> resolve_columns(const Nb201Table& t, const std::vector<std::string>& names,
                                 std::string& error) {
  std::vector<int> cols;
  for (const auto& name : names) {
    if (name == "help") {
      auto help = resolve_columns(t, help_source_columns(), error);
      cols.insert(cols.end(), help.begin(), help.end());
      continue;
    }
    const auto c = t.device(name);
    if (!c)
      error += (error.empty() ? "" : ", ") + name;
    else
      cols.push_back(*c);
  }
  return cols;
}

nlohmann::json published_for(const std::string& column) {
  for (const auto& p : kPublished)
    if (column == p.column)
      return {{"help_10_spearman", p.help_10},
              {"brp_nas_900_spearman", p.brp_nas_900},
              {"flops_spearman", p.flops}};
  return nullptr;
}

// Pairs of cells that compute the same thing: with no edge 1→2, nodes 1 and 2 swap (edges
// 1←0 ↔ 2←0 and 3←1 ↔ 3←2) without changing the network. Their two measurements differ by
// noise alone, so ρ over the pairs is the column's repeatability, and √ρ about the best ρ any
// predictor can reach against it.
std::vector<std::pair<std::size_t, std::size_t>> twin_rows(const Nb201Table& t) {
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    auto twin = t.cells[r];
    if (twin.ops[2] != search::Nb201Op::none) continue;
    std::swap(twin.ops[0], twin.ops[1]);
    std::swap(twin.ops[4], twin.ops[5]);
    const auto other = t.row(twin);
    if (other && static_cast<std::size_t>(*other) > r) pairs.emplace_back(r, *other);
  }
  return pairs;
}

double repeatability(const std::vector<double>& ms,
                     const std::vector<std::pair<std::size_t, std::size_t>>& twins) {
  std::vector<double> a, b;
  for (auto [x, y] : twins) a.push_back(ms[x]), b.push_back(ms[y]);
  return twins.size() >= 10 ? spearman(a, b) : std::nan("");
}

// Each column's kernel-additive model from its (possibly sampled) measurements, and how well
// that model fits every cell of its own column.
struct SourceModels {
  std::vector<search::AdditiveLatencyModel> models;
  std::vector<nlohmann::json> own_fit;
};

Expected<SourceModels> fit_sources(const Nb201Table& t, const Cells& cells,
                                   const search::FeatureScale& scale, const LatencyEvalOptions& o) {
  SourceModels s;
  for (std::size_t c = 0; c < t.devices.size(); ++c) {
    const auto rows = draw_rows(t.rows(), o.source_samples > 0 ? o.source_samples : t.rows(),
                                mix(o.seed ^ 0x50u, c));
    auto m = search::fit_additive(t.devices[c], scale, measurements(cells, t.latency_ms[c], rows));
    if (!m) return m.error();
    std::vector<double> predicted;
    for (const auto& f : cells.features) predicted.push_back(m->predict(f));
    s.own_fit.push_back(score(predicted, t.latency_ms[c], 0).spearman);
    s.models.push_back(std::move(*m));
  }
  return s;
}

std::string report_markdown(const nlohmann::json& r);

}  // namespace

std::vector<std::string> help_source_columns() {
  return {"help_1080ti_1",    "help_1080ti_32",      "help_1080ti_256",
          "help_silver_4114", "help_silver_4210r",   "help_samsung_a50",
          "help_pixel3",      "help_essential_ph_1", "help_samsung_s7"};
}

std::string device_family(const std::string& column, const std::vector<std::string>& suffixes) {
  for (const auto& s : suffixes) {
    const std::string tail = "_" + s;
    if (column.size() > tail.size() &&
        column.compare(column.size() - tail.size(), tail.size(), tail) == 0)
      return column.substr(0, column.size() - tail.size());
  }
  return column;
}

WithinT within_t_shares(const std::vector<double>& predicted, const std::vector<double>& measured,
                        double margin) {
  WithinT w{0, 0};
  if (measured.empty()) return {};
  std::vector<double> sorted = measured;
  std::sort(sorted.begin(), sorted.end());
  constexpr int kQuantiles = 9;
  for (int q = 1; q <= kQuantiles; ++q) {
    const double t = sorted[static_cast<std::size_t>(q) * (sorted.size() - 1) / 10];
    double kept = 0, kept_ok = 0, ok = 0;
    for (std::size_t i = 0; i < measured.size(); ++i) {
      const bool in = predicted[i] <= t * (1 - margin), truly = measured[i] <= t;
      kept += in;
      ok += truly;
      kept_ok += in && truly;
    }
    w.precision += kept > 0 ? kept_ok / kept : 1;
    w.recall += ok > 0 ? kept_ok / ok : 1;
  }
  w.precision /= kQuantiles;
  w.recall /= kQuantiles;
  return w;
}

namespace {

// Everything one held-out device's evaluation reads.
struct Study {
  const Nb201Table& t;
  const Cells& cells;
  const SourceModels& sources;
  const LatencyEvalOptions& o;
  std::vector<int> allowed;  // the --sources columns (empty: every column)
  std::vector<std::pair<std::size_t, std::size_t>> twins;

  bool may_teach(std::size_t c, const std::string& family) const {
    const bool listed = o.sources.empty() || std::find(allowed.begin(), allowed.end(),
                                                       static_cast<int>(c)) != allowed.end();
    return listed && device_family(t.devices[c], o.batch_suffixes) != family;
  }

  Expected<nlohmann::json> device(int column) const {
    const auto name = t.devices[static_cast<std::size_t>(column)];
    const auto family = device_family(name, o.batch_suffixes);
    HeldOut h{t, cells, o, column, {}};
    nlohmann::json used = nlohmann::json::array();
    for (std::size_t c = 0; c < t.devices.size(); ++c) {
      if (!may_teach(c, family)) continue;
      h.sources.push_back(sources.models[c]);
      used.push_back(t.devices[c]);
    }
    nlohmann::json row{
        {"column", name},
        {"held_out_family", family},
        {"sources", used},
        {"additive_fit_all_cells_spearman", sources.own_fit[static_cast<std::size_t>(column)]},
        {"published", published_for(name)},
        {"twin_pairs", twins.size()},
        {"by_k", nlohmann::json::array()}};
    for (int k : o.samples) {
      auto r = h.at(k);
      if (!r) return r.error();
      row["by_k"].push_back(std::move(*r));
    }
    const double rep = repeatability(t.latency_ms[static_cast<std::size_t>(column)], twins);
    if (std::isfinite(rep)) {
      row["repeatability_spearman"] = rep;
      row["ceiling_spearman"] = std::sqrt(std::max(rep, 0.0));
    }
    return row;
  }
};

// Per k, the medians over the held-out devices.
nlohmann::json summarize(const nlohmann::json& devices, const std::vector<int>& samples) {
  nlohmann::json summary = nlohmann::json::array();
  for (std::size_t ki = 0; ki < samples.size(); ++ki) {
    std::vector<double> learned, flops, within10, precision_margin;
    for (const auto& d : devices) {
      const auto& at = d["by_k"][ki];
      learned.push_back(at["learned"]["spearman"]);
      flops.push_back(at["flops"]["spearman"]);
      within10.push_back(at["learned"]["within_10pct"]);
      precision_margin.push_back(at["learned"]["within_t_truly_within_at_margin"]);
    }
    summary.push_back({{"k", samples[ki]},
                       {"median_spearman_learned", median(learned)},
                       {"median_spearman_flops", median(flops)},
                       {"median_within_10pct_learned", median(within10)},
                       {"median_within_t_truly_within_at_margin", median(precision_margin)}});
    if (devices.empty() || !devices[0]["by_k"][ki].contains("searches")) continue;
    nlohmann::json total = nlohmann::json::object();
    std::map<std::string, std::vector<double>> met_by_device;
    for (const auto& d : devices) {
      add_searches(total, d["by_k"][ki]["searches"]);
      for (const auto& [name, s] : d["by_k"][ki]["searches"].items())
        met_by_device[name].push_back(s["met_t"]);
    }
    auto all = searches_json(total);
    for (auto& [name, s] : all.items()) {
      const auto& v = met_by_device[name];
      s["devices_all_met"] = std::count(v.begin(), v.end(), 1.0);
      s["worst_device_met_t"] = *std::min_element(v.begin(), v.end());
    }
    summary.back()["searches"] = all;
  }
  return summary;
}

}  // namespace

Expected<nlohmann::json> evaluate_latency(const LatencyEvalOptions& o,
                                          const std::function<void(const std::string&)>& progress) {
  auto table = load_nb201_table(o.table_path);
  if (!table) return table.error();
  const auto& t = *table;
  std::string unknown;
  auto held = resolve_columns(t, o.devices, unknown);
  auto allowed = resolve_columns(t, o.sources, unknown);
  if (!unknown.empty())
    return Error{errc::kUsage, o.table_path + ": no device column named " + unknown};
  if (o.loop_seeds > 0 &&
      std::find(o.samples.begin(), o.samples.end(), o.loop_k) == o.samples.end())
    return Error{errc::kUsage, "the searches' k (" + std::to_string(o.loop_k) +
                                   ") must be one of the k evaluated"};
  if (o.devices.empty()) {
    held.resize(t.devices.size());
    std::iota(held.begin(), held.end(), 0);
  }
  progress("describing " + std::to_string(t.rows()) + " cells");
  const Cells cells = describe(t);
  progress("fitting a kernel-additive model for each of " + std::to_string(t.devices.size()) +
           " columns");
  auto sources = fit_sources(t, cells, search::FeatureScale::of(cells.features), o);
  if (!sources) return sources.error();
  const Study study{t, cells, *sources, o, std::move(allowed), twin_rows(t)};

  std::vector<Expected<nlohmann::json>> rows(held.size(), nlohmann::json());
  parallel_for(static_cast<int>(held.size()), o.threads, [&](int i) {
    const auto u = static_cast<std::size_t>(i);
    rows[u] = study.device(held[u]);
    progress(t.devices[static_cast<std::size_t>(held[u])] + " done");
  });
  nlohmann::json devices = nlohmann::json::array();
  for (auto& r : rows) {
    if (!r) return r.error();
    devices.push_back(std::move(*r));
  }
  nlohmann::json out{{"table", o.table_path},
                     {"cells", t.rows()},
                     {"draws", o.draws},
                     {"seed", o.seed},
                     {"source_samples", o.source_samples},
                     {"sources", o.sources.empty() ? nlohmann::json("every other device")
                                                   : nlohmann::json(o.sources)},
                     {"devices", devices},
                     {"summary", summarize(devices, o.samples)}};
  if (!o.out_dir.empty())
    if (auto s = write_report_files(o.out_dir, "latency", out, report_markdown(out)); !s)
      return s.error();
  return out;
}

namespace {

std::string report_markdown(const nlohmann::json& r) {
  std::string md =
      "# Learned latency against measured devices\n\nTable: " + r["table"].get<std::string>() +
      " (" + std::to_string(r["cells"].get<int>()) + " cells), " +
      std::to_string(r["draws"].get<int>()) + " draws of the k measured cells, seed " +
      std::to_string(r["seed"].get<uint64_t>()) + "; sources: " + r["sources"].dump() +
      ".\n\n## Median over the held-out devices\n\n" +
      "| k | ρ learned | ρ FLOPs | within ±10 % | within T truly within (at the model's margin) |\n"
      "|---:|---:|---:|---:|---:|\n";
  for (const auto& s : r["summary"])
    md += "| " + std::to_string(s["k"].get<int>()) + " | " + fixed(s["median_spearman_learned"]) +
          " | " + fixed(s["median_spearman_flops"]) + " | " +
          pct(s["median_within_10pct_learned"]) + " | " +
          pct(s["median_within_t_truly_within_at_margin"]) + " |\n";
  for (const auto& s : r["summary"]) {
    if (!s.contains("searches")) continue;
    md += "\n## Searches on a device the box cannot measure (k = " +
          std::to_string(s["k"].get<int>()) +
          ")\n\nEach held-out device searched as a box that measured only its k cells: the "
          "candidates' latencies estimated, the delivered network run on the device (the "
          "table). Pooled over the devices:\n\n| latency | searches | delivered network "
          "truly meets T | worst device | devices where all did | accuracy given up when met "
          "(points) |\n|---|---:|---:|---:|---:|---:|\n";
    for (const char* name : {"measured", "flops", "learned"}) {
      const auto& x = s["searches"][name];
      md += std::string("| ") + name + " | " + std::to_string(x["searches"].get<int>()) + " | " +
            pct(x["met_t"]) + " | " + pct(x["worst_device_met_t"]) + " | " +
            std::to_string(x["devices_all_met"].get<int>()) + " | " +
            fixed(x["regret_points_when_met"], 2) + " |\n";
    }
  }
  md +=
      "\n## Per device\n\nρ learned / ρ FLOPs fitted on the same k; HELP (10 samples) and "
      "BRP-NAS (900) as published; the ceiling: √ of the repeatability of the column's own "
      "measurements (ρ over pairs of cells that compute the same network), about the best ρ "
      "any predictor can reach.\n\n| device | ";
  for (const auto& k : r["devices"][0]["by_k"])
    md += "k=" + std::to_string(k["k"].get<int>()) + " | ";
  md += "ceiling | HELP 10 | BRP-NAS 900 |\n|---|";
  for (std::size_t i = 0; i < r["devices"][0]["by_k"].size() + 3; ++i) md += "---:|";
  md += "\n";
  for (const auto& d : r["devices"]) {
    md += "| " + d["column"].get<std::string>() + " | ";
    for (const auto& k : d["by_k"])
      md += fixed(k["learned"]["spearman"]) + " / " + fixed(k["flops"]["spearman"]) + " | ";
    md +=
        (d.contains("ceiling_spearman") ? fixed(d["ceiling_spearman"]) : std::string("–")) + " | ";
    const auto& p = d["published"];
    md += (p.is_null()
               ? std::string("– | – |")
               : fixed(p["help_10_spearman"]) + " | " + fixed(p["brp_nas_900_spearman"]) + " |") +
          "\n";
  }
  return md;
}

}  // namespace

}  // namespace edgenas::sim
