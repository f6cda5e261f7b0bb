#pragma once
// Weighted ridge least squares shrunk toward a prior, with leave-one-out residuals: the solver
// of the learned latency models (learned_latency.hpp). Small dense problems (≤ a few hundred
// coefficients), solved by Cholesky; no libtorch.
#include <cstddef>
#include <optional>
#include <vector>

namespace edgenas::search {

// Minimise Σ weightᵢ (yᵢ − xᵢ·β)² + λ' Σ penaltyᵤ (βᵤ − priorᵤ)², with λ' = λ × the mean
// diagonal of XᵀWX (so one grid of λ suits every problem).
struct Ridge {
  std::size_t p = 0;                   // coefficients
  std::vector<std::vector<double>> x;  // rows of p values
  std::vector<double> y, weight, prior, penalty;
};

struct RidgeFit {
  std::vector<double> coef, loo;  // loo: y − the prediction with that row left out
};

// XᵀWX (lower triangle) and XᵀW(y − X·prior): what every shrinkage of a problem shares.
struct NormalEquations {
  std::vector<double> a, b;
  double trace = 0;
};
NormalEquations normal_equations(const Ridge& r);

// Leave-one-out residuals: exact (one solve per row), or generalised cross-validation's
// approximation (every residual over 1 − the mean leverage) where rows far outnumber
// coefficients.
enum class LeaveOneOut { none, exact, approximate };

// nullopt when the system is singular.
std::optional<RidgeFit> solve_ridge(const Ridge& r, const NormalEquations& ne, double lambda,
                                    LeaveOneOut loo);

double dot(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace edgenas::search
