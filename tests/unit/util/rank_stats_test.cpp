#include "common/util/rank_stats.hpp"

#include <gtest/gtest.h>

namespace edgenas {
namespace {

TEST(RankStats, TiesShareTheirMeanRank) {
  EXPECT_EQ(ranks({3, 1, 3, 2}), (std::vector<double>{2.5, 0, 2.5, 1}));
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {10, 20, 30, 1000}), 1.0);
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  EXPECT_DOUBLE_EQ(spearman({1, 1, 1}, {1, 2, 3}), 0.0);  // a constant side
  EXPECT_DOUBLE_EQ(pearson({1, 2}, {1, 2, 3}), 0.0);      // sizes differ
}

}  // namespace
}  // namespace edgenas
