#pragma once
// Rank statistics the evaluations and the latency predictor's gate share.
#include <vector>

namespace edgenas {

// Ranks 0..n−1 in ascending order; tied values share their mean rank.
std::vector<double> ranks(const std::vector<double>& v);
// Pearson's correlation; 0 when either side is constant or the sizes differ.
double pearson(const std::vector<double>& a, const std::vector<double>& b);
// Spearman's ρ: Pearson's correlation of the ranks.
double spearman(const std::vector<double>& a, const std::vector<double>& b);
// The value at rank round(q·(n−1)) of the sorted values; 0 when there are none.
double quantile(std::vector<double> v, double q);
// The middle value (the mean of the two middle ones for an even count); 0 when there are none.
double median(std::vector<double> v);

}  // namespace edgenas
