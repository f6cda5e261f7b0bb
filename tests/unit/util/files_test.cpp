// Whole files: atomic replacement with the permissions asked for, JSON files with clear
// errors, the framed model format refusing what is not one of its files.
#include "common/util/files.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <filesystem>

#include <fstream>

#include "common/util/framed.hpp"

namespace edgenas {
namespace {
namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  std::string dir = testing::TempDir() + "edgenas-files-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(Files, AnAtomicWriteReplacesTheFileAndLeavesNoTemporary) {
  const std::string dir = temp_dir("atomic");
  ASSERT_TRUE(files::write_atomic(dir + "/a.txt", "old").ok());
  ASSERT_TRUE(files::write_atomic(dir + "/a.txt", std::string("new\0bytes", 9)).ok());
  EXPECT_EQ(slurp(dir + "/a.txt"), std::string("new\0bytes", 9));
  EXPECT_FALSE(fs::exists(dir + "/a.txt.tmp"));
  auto missing_dir = files::write_atomic(dir + "/no/such/dir/a.txt", "x");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.error().code, "io");
  EXPECT_NE(missing_dir.error().message.find("no/such/dir"), std::string::npos);
}

TEST(Files, PermissionsAreExactWhateverTheUmaskAndTheOldFile) {
  const std::string dir = temp_dir("perms");
  ASSERT_TRUE(files::write_atomic(dir + "/k", "old", fs::perms(0644)).ok());
  ASSERT_TRUE(
      files::write_atomic(dir + "/k", "secret", fs::perms::owner_read | fs::perms::owner_write)
          .ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/k").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Files, JsonFilesReadBackAndBadOnesSayWhy) {
  const std::string dir = temp_dir("json");
  ASSERT_TRUE(files::write_json_atomic(dir + "/r.json", {{"a", 1}, {"b", "z\xff"}}).ok());
  auto j = files::read_json(dir + "/r.json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["a"], 1);
  EXPECT_EQ(files::read_json(dir + "/none.json").error().code, "not_found");
  std::ofstream(dir + "/bad.json") << "{\"a\": ";
  auto bad = files::read_json(dir + "/bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "bad_json");
  EXPECT_NE(bad.error().message.find("bad.json is not JSON"), std::string::npos);
}

TEST(Files, TheLastLineSkipsTrailingBlankLines) {
  const std::string dir = temp_dir("lines");
  std::ofstream(dir + "/log") << "first\nsecond: why\n\n";
  EXPECT_EQ(files::last_line(dir + "/log"), "second: why");
  EXPECT_EQ(files::last_line(dir + "/none"), "");
}

constexpr framed::Kind kTest{"EDGENAST", 3, "test"};

TEST(Files, DirectoriesAreCreatedWithTheirParentsAndAFileInTheWayIsAnIoError) {
  const std::string dir = temp_dir("dirs");
  ASSERT_TRUE(files::create_dirs(dir + "/a/b/c").ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/a/b/c"));
  EXPECT_TRUE(files::create_dirs(dir + "/a/b/c").ok());  // already there
  ASSERT_TRUE(files::write_atomic(dir + "/file", "x").ok());
  const auto s = files::create_dirs(dir + "/file/sub");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "io");
  EXPECT_NE(s.error().message.find(dir + "/file/sub"), std::string::npos);
}

TEST(Framed, AFrameRoundTripsAndEveryDamageIsNamed) {
  const nlohmann::json header{{"shape", {2, 3}}};
  const std::string bytes = framed::encode(kTest, header, std::string("w\0w", 3));
  auto f = framed::decode(kTest, bytes, "x.bin");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->header, header);
  EXPECT_EQ(f->payload, std::string("w\0w", 3));

  auto message = [](const Expected<framed::Frame>& r) {
    return r.ok() ? std::string("decoded") : r.error().code + ": " + r.error().message;
  };
  EXPECT_EQ(message(framed::decode(kTest, "junk", "x.bin")),
            "bad_model: x.bin: not an edgenas test file");
  std::string other = bytes;
  other[7] = 'M';
  EXPECT_EQ(message(framed::decode(kTest, other, "x.bin")),
            "bad_model: x.bin: not an edgenas test file");
  std::string newer = bytes;
  newer[8] = 4;
  EXPECT_EQ(message(framed::decode(kTest, newer, "x.bin")),
            "bad_model: x.bin: test format version 4 (this build reads 3)");
  EXPECT_EQ(message(framed::decode(kTest, bytes.substr(0, 20), "x.bin")),
            "bad_model: x.bin: truncated header");
  std::string garbled = bytes;
  garbled[16] = '#';
  EXPECT_NE(message(framed::decode(kTest, garbled, "x.bin")).find("corrupt header"),
            std::string::npos);
}

TEST(Framed, SavedFramesLoadAndAMissingFileIsNotFound) {
  const std::string dir = temp_dir("framed");
  ASSERT_TRUE(framed::save(kTest, dir + "/m", {{"k", 1}}, "payload").ok());
  auto f = framed::load(kTest, dir + "/m");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->payload, "payload");
  EXPECT_EQ(framed::load(kTest, dir + "/none").error().code, "not_found");
}

}  // namespace
}  // namespace edgenas
