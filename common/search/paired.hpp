#pragma once
// Whether one model answers a set of images better than another by more than chance. Both
// models answered the same images, so only the images where exactly one of them is right say
// anything (McNemar's test): with n such images, a model that is no better than the other wins
// each of them with probability 1/2, and its lead over the other has standard deviation
// sqrt(n). A lead above 1.96·sqrt(n) happens by chance about once in 40 comparisons.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace edgenas::search {

struct Disagreements {
  int64_t only_first = 0;   // images only the first model answers right
  int64_t only_second = 0;  // images only the second model answers right
};

inline Disagreements disagreements(const std::vector<bool>& first_right,
                                   const std::vector<bool>& second_right) {
  Disagreements d;
  const size_t n = std::min(first_right.size(), second_right.size());
  for (size_t i = 0; i < n; ++i) {
    d.only_first += first_right[i] && !second_right[i];
    d.only_second += second_right[i] && !first_right[i];
  }
  return d;
}

// The share of images answered right (0 for none).
inline double share_right(const std::vector<bool>& right) {
  if (right.empty()) return 0;
  return static_cast<double>(std::count(right.begin(), right.end(), true)) /
         static_cast<double>(right.size());
}

inline constexpr double kClearLeadSigmas = 1.96;

// The first model is clearly better: its lead on the disputed images is beyond chance.
inline bool first_clearly_better(const Disagreements& d) {
  const auto disputed = static_cast<double>(d.only_first + d.only_second);
  const auto lead = static_cast<double>(d.only_first - d.only_second);
  return disputed > 0 && lead > kClearLeadSigmas * std::sqrt(disputed);
}

}  // namespace edgenas::search
