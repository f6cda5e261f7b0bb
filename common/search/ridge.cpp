#include "common/search/ridge.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace edgenas::search {
namespace {

// Cholesky factor of a symmetric positive definite matrix (lower, row-major), in place.
bool cholesky(std::vector<double>& a, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    a[j * n + j] = std::sqrt(d);
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / a[j * n + j];
    }
  }
  return true;
}

std::vector<double> cholesky_solve(const std::vector<double>& l, std::size_t n,
                                   std::vector<double> b) {
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < i; ++k) b[i] -= l[i * n + k] * b[k];
    b[i] /= l[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t k = i + 1; k < n; ++k) b[i] -= l[k * n + i] * b[k];
    b[i] /= l[i * n + i];
  }
  return b;
}

}  // namespace

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

NormalEquations normal_equations(const Ridge& r) {
  const std::size_t p = r.p;
  NormalEquations ne{std::vector<double>(p * p, 0.0), std::vector<double>(p, 0.0), 0};
  for (std::size_t i = 0; i < r.x.size(); ++i) {
    const auto& xi = r.x[i];
    const double resid = r.y[i] - dot(xi, r.prior);
    for (std::size_t u = 0; u < p; ++u) {
      ne.b[u] += r.weight[i] * xi[u] * resid;
      for (std::size_t v = 0; v <= u; ++v) ne.a[u * p + v] += r.weight[i] * xi[u] * xi[v];
    }
  }
  for (std::size_t u = 0; u < p; ++u) ne.trace += ne.a[u * p + u];
  return ne;
}

// λ is relative to the mean diagonal of XᵀWX, so the same grid suits every problem.
std::optional<RidgeFit> solve_ridge(const Ridge& r, const NormalEquations& ne, double lambda,
                                    LeaveOneOut loo) {
  const std::size_t p = r.p, n = r.x.size();
  std::vector<double> a = ne.a;
  const double scale = lambda * std::max(ne.trace / static_cast<double>(p), 1e-12);
  for (std::size_t u = 0; u < p; ++u) {
    a[u * p + u] += scale * r.penalty[u] + 1e-10 * std::max(ne.trace, 1e-12);
    for (std::size_t v = 0; v < u; ++v) a[v * p + u] = a[u * p + v];
  }
  if (!cholesky(a, p)) return std::nullopt;
  RidgeFit fit;
  fit.coef = cholesky_solve(a, p, ne.b);
  for (std::size_t u = 0; u < p; ++u) fit.coef[u] += r.prior[u];
  if (loo == LeaveOneOut::none) return fit;
  double mean_leverage = 0;
  if (loo == LeaveOneOut::approximate) {  // trace(A⁻¹ XᵀWX) / n
    for (std::size_t u = 0; u < p; ++u) {
      std::vector<double> column(p);
      for (std::size_t v = 0; v < p; ++v) column[v] = ne.a[std::max(u, v) * p + std::min(u, v)];
      mean_leverage += cholesky_solve(a, p, column)[u] / static_cast<double>(n);
    }
  }
  fit.loo.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double h = loo == LeaveOneOut::exact
                         ? r.weight[i] * dot(r.x[i], cholesky_solve(a, p, r.x[i]))
                         : mean_leverage;
    fit.loo[i] = (r.y[i] - dot(r.x[i], fit.coef)) / std::max(1 - h, 1e-9);
  }
  return fit;
}

}  // namespace edgenas::search
