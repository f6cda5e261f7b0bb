#include "agent/search/report.hpp"

#include <cmath>
#include <fstream>

#include "common/protocol/codec.hpp"

namespace edgenas::searchcli {

using nlohmann::json;

json trial_json(const search::TrialResult& t) {
  return {{"id", t.trial.id},
          {"spec", proto::to_json(t.trial.spec)},
          {"key", t.trial.spec.key()},
          {"epochs", t.trial.fidelity.epochs},
          {"seed", t.trial.seed},
          {"ok", t.eval.ok},
          {"error", t.eval.error},
          {"accuracy", t.eval.accuracy},
          {"latency_ms", t.eval.latency_ms},
          {"latency_modelled", t.eval.latency_modelled},
          {"cpu_latency_ms", t.eval.cpu_latency_ms},
          {"energy_mj", t.eval.energy_mj},
          {"energy_modelled", t.eval.energy_modelled},
          {"params", t.eval.params},
          {"flops", t.eval.flops},
          {"train_time_s", t.eval.train_time_s},
          {"finished_s", t.finished_s},
          {"reward", t.reward}};
}

void write_pareto_svg(const std::string& path, const search::SearchResult& r, double t_ms,
                      const std::string& latency_label) {
  double max_lat = t_ms;
  for (const auto& t : r.trials) max_lat = std::max(max_lat, t.eval.latency_ms);
  const double W = 640, H = 420, L = 60, B = 50;
  auto px = [&](double lat) { return L + (W - L - 20) * lat / (max_lat * 1.05); };
  auto py = [&](double acc) { return H - B - (H - B - 20) * acc; };
  std::ofstream o(path);
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' font-family='sans-serif' font-size='12'>\n"
    << "<rect width='100%' height='100%' fill='white'/>\n"
    << "<line x1='" << L << "' y1='" << H - B << "' x2='" << W - 10 << "' y2='" << H - B
    << "' stroke='black'/>\n"
    << "<line x1='" << L << "' y1='20' x2='" << L << "' y2='" << H - B << "' stroke='black'/>\n"
    << "<text x='" << W / 2 << "' y='" << H - 12 << "' text-anchor='middle'>" << latency_label
    << "</text>\n"
    << "<text x='16' y='" << H / 2 << "' transform='rotate(-90 16 " << H / 2
    << ")' text-anchor='middle'>validation accuracy</text>\n"
    << "<line x1='" << px(t_ms) << "' y1='20' x2='" << px(t_ms) << "' y2='" << H - B
    << "' stroke='#36c' stroke-dasharray='4'/>\n"
    << "<text x='" << px(t_ms) + 4 << "' y='32' fill='#36c'>T = " << t_ms << " ms</text>\n";
  for (int k = 0; k <= 5; ++k) {
    o << "<text x='" << L - 8 << "' y='" << py(k / 5.0) + 4 << "' text-anchor='end'>" << k * 0.2
      << "</text>\n"
      << "<text x='" << px(max_lat * 1.05 * k / 5) << "' y='" << H - B + 16
      << "' text-anchor='middle'>" << std::round(max_lat * 1.05 * k / 5 * 100) / 100 << "</text>\n";
  }
  for (const auto& t : r.trials) {
    if (t.eval.ok)
      o << "<circle cx='" << px(t.eval.latency_ms) << "' cy='" << py(t.eval.accuracy)
        << "' r='3' fill='#bbb'/>\n";
  }
  std::string line;
  for (const auto& t : r.pareto)
    line += std::to_string(px(t.eval.latency_ms)) + "," + std::to_string(py(t.eval.accuracy)) + " ";
  o << "<polyline points='" << line << "' fill='none' stroke='#c33' stroke-width='2'/>\n";
  for (const auto& t : r.pareto)
    o << "<circle cx='" << px(t.eval.latency_ms) << "' cy='" << py(t.eval.accuracy)
      << "' r='4' fill='#c33'/>\n";
  o << "</svg>\n";
}

void write_pareto_csv(const std::string& path, const search::SearchResult& r) {
  std::ofstream csv(path);
  csv << "trial,accuracy,latency_ms,latency_modelled,energy_mj,params,flops,spec\n";
  for (const auto& t : r.pareto) {
    csv << t.trial.id << "," << t.eval.accuracy << "," << t.eval.latency_ms << ","
        << (t.eval.latency_modelled ? "true" : "false") << "," << t.eval.energy_mj << ","
        << t.eval.params << "," << t.eval.flops << "," << t.trial.spec.key() << "\n";
  }
}

}  // namespace edgenas::searchcli
