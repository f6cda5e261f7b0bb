#include "common/protocol/curve.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace edgenas::proto {
namespace {
namespace fs = std::filesystem;

TEST(Curve, KeyFilesRoundTripAndBadOnesAreClearErrors) {
  const std::string dir = ::testing::TempDir() + "/curve-" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto pair = generate_keypair();
  ASSERT_TRUE(pair.ok());
  EXPECT_TRUE(valid_curve_key(pair->public_key));
  ASSERT_TRUE(save_keypair(dir + "/a.key", *pair).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/a.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = load_keypair(dir + "/a.key");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->secret_key, pair->secret_key);
  // A public key: given directly, in a .pub file, or as a bare line.
  EXPECT_EQ(*load_public_key(pair->public_key), pair->public_key);
  ASSERT_TRUE(save_public_key(dir + "/a.pub", pair->public_key).ok());
  EXPECT_EQ(*load_public_key(dir + "/a.pub"), pair->public_key);
  std::ofstream(dir + "/bare") << pair->public_key << "\n";
  EXPECT_EQ(*load_public_key(dir + "/bare"), pair->public_key);
  // A 40-character path is also a well-formed Z85 string: the file wins.
  const std::string dir40 = "/tmp/" + std::string(40 - 5 - 8, 'k');  // "/tmp/" + k… + "/key.pub"
  fs::create_directories(dir40);
  const std::string path40 = dir40 + "/key.pub";
  ASSERT_EQ(path40.size(), 40u);
  ASSERT_TRUE(save_public_key(path40, pair->public_key).ok());
  EXPECT_EQ(*load_public_key(path40), pair->public_key);
  fs::remove_all(dir40);
  // Refusals.
  EXPECT_FALSE(load_public_key(dir + "/missing.pub").ok());
  std::ofstream(dir + "/junk.pub") << "public = \"short\"\n";
  EXPECT_NE(load_public_key(dir + "/junk.pub").error().message.find("no CURVE public key"),
            std::string::npos);
  std::ofstream(dir + "/junk.key") << "hello\n";
  ::chmod((dir + "/junk.key").c_str(), 0600);
  EXPECT_NE(load_keypair(dir + "/junk.key").error().message.find("not an edgenas key pair"),
            std::string::npos);
  EXPECT_FALSE(load_keypair(dir + "/nope.key").ok());
  // load_or_create makes a pair once and keeps it.
  auto made = load_or_create_keypair(dir + "/b.key");
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(load_or_create_keypair(dir + "/b.key")->public_key, made->public_key);
  EXPECT_EQ(*load_public_key(dir + "/b.pub"), made->public_key);
}

}  // namespace
}  // namespace edgenas::proto
