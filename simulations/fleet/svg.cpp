#include "simulations/fleet/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace edgenas::sim {
namespace {

constexpr double W = 720, H = 420, L = 70, R = 170, T = 40, B = 50;
const char* kColours[] = {"#c33", "#36c", "#393", "#f90", "#888", "#939", "#0aa"};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, std::abs(v) >= 100 ? "%.0f" : (std::abs(v) >= 1 ? "%.2g" : "%.3g"), v);
  return b;
}

void frame(std::ostringstream& o, const std::string& title, const std::string& x_label,
           const std::string& y_label) {
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' "
       "fill='white'/>\n"
    << "<text x='" << (L + W - R) / 2 << "' y='22' text-anchor='middle' font-size='14'>" << title
    << "</text>\n<line x1='" << L << "' y1='" << H - B << "' x2='" << W - R << "' y2='" << H - B
    << "' stroke='black'/>\n<line x1='" << L << "' y1='" << T << "' x2='" << L << "' y2='" << H - B
    << "' stroke='black'/>\n<text x='" << (L + W - R) / 2 << "' y='" << H - 12
    << "' text-anchor='middle'>" << x_label << "</text>\n<text x='16' y='" << (T + H - B) / 2
    << "' transform='rotate(-90 16 " << (T + H - B) / 2 << ")' text-anchor='middle'>" << y_label
    << "</text>\n";
}

}  // namespace

std::string line_chart(const std::string& title, const std::string& x_label,
                       const std::string& y_label, const std::vector<Series>& series, bool log_x) {
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  auto fx = [&](double x) { return log_x ? std::log10(std::max(1e-9, x)) : x; };
  for (const auto& s : series) {
    for (auto [x, y] : s.points) {
      x0 = std::min(x0, fx(x)), x1 = std::max(x1, fx(x));
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  if (x0 > x1) x0 = 0, x1 = 1;
  if (y0 > y1) y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  const double pad = std::max(1e-6, (y1 - y0) * 0.05);
  y0 -= pad, y1 += pad;
  auto px = [&](double x) { return L + (W - L - R) * (fx(x) - x0) / (x1 - x0); };
  auto py = [&](double y) { return H - B - (H - B - T) * (y - y0) / (y1 - y0); };
  std::ostringstream o;
  frame(o, title, x_label, y_label);
  for (int k = 0; k <= 5; ++k) {
    const double yv = y0 + (y1 - y0) * k / 5, xv = x0 + (x1 - x0) * k / 5;
    o << "<text x='" << L - 6 << "' y='" << py(yv) + 4 << "' text-anchor='end'>" << num(yv)
      << "</text>\n<text x='" << L + (W - L - R) * k / 5 << "' y='" << H - B + 16
      << "' text-anchor='middle'>" << num(log_x ? std::pow(10, xv) : xv) << "</text>\n";
  }
  for (std::size_t i = 0; i < series.size(); ++i) {
    const char* c = kColours[i % 7];
    o << "<polyline fill='none' stroke='" << c << "' stroke-width='2' points='";
    for (auto [x, y] : series[i].points) o << px(x) << "," << py(y) << " ";
    o << "'/>\n<text x='" << W - R + 10 << "' y='" << T + 16 * (i + 1) << "' fill='" << c << "'>"
      << series[i].name << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string bar_chart(const std::string& title, const std::string& y_label,
                      const std::vector<std::string>& groups,
                      const std::vector<std::string>& series,
                      const std::vector<std::vector<double>>& values, double y_min, double y_max,
                      double target) {
  std::ostringstream o;
  frame(o, title, "", y_label);
  auto py = [&](double y) {
    return H - B - (H - B - T) * (std::clamp(y, y_min, y_max) - y_min) / (y_max - y_min);
  };
  for (int k = 0; k <= 5; ++k) {
    const double yv = y_min + (y_max - y_min) * k / 5;
    o << "<text x='" << L - 6 << "' y='" << py(yv) + 4 << "' text-anchor='end'>" << num(yv)
      << "</text>\n";
  }
  const double gw = (W - L - R) / std::max<std::size_t>(1, groups.size());
  const double bw = gw * 0.8 / std::max<std::size_t>(1, series.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const double gx = L + g * gw + gw * 0.1;
    for (std::size_t s = 0; s < series.size() && s < values[g].size(); ++s) {
      const double y = py(values[g][s]);
      o << "<rect x='" << gx + s * bw << "' y='" << y << "' width='" << bw * 0.9 << "' height='"
        << H - B - y << "' fill='" << kColours[s % 7] << "'/>\n";
    }
    o << "<text x='" << gx + gw * 0.4 << "' y='" << H - B + 16 << "' text-anchor='middle'>"
      << groups[g] << "</text>\n";
  }
  for (std::size_t s = 0; s < series.size(); ++s)
    o << "<text x='" << W - R + 10 << "' y='" << T + 16 * (s + 1) << "' fill='" << kColours[s % 7]
      << "'>" << series[s] << "</text>\n";
  if (target > y_min && target < y_max)
    o << "<line x1='" << L << "' y1='" << py(target) << "' x2='" << W - R << "' y2='" << py(target)
      << "' stroke='black' stroke-dasharray='4'/>\n";
  o << "</svg>\n";
  return o.str();
}

}  // namespace edgenas::sim
