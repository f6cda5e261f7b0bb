#include "common/util/secrets.hpp"

#include <gtest/gtest.h>

#include <set>

namespace edgenas::secrets {
namespace {

TEST(Secrets, Sha256MatchesTheStandardsVectors) {
  // FIPS 180-2, appendix B.1, and the empty message.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Secrets, RandomHexHasTheLengthAndDoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto s = random_hex(32);
    ASSERT_EQ(s.size(), 64u);
    EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Secrets, EqualComparesWholeStrings) {
  EXPECT_TRUE(equal("abc", "abc"));
  EXPECT_FALSE(equal("abc", "abd"));
  EXPECT_FALSE(equal("abc", "ab"));
  EXPECT_FALSE(equal("", "a"));
  EXPECT_TRUE(equal("", ""));
}

}  // namespace
}  // namespace edgenas::secrets
