#include "common/util/sqlite.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace edgenas::sqlite {
namespace {

std::string temp_path(const std::string& name) {
  std::string p = testing::TempDir() + "/" + name;
  std::remove(p.c_str());
  std::remove((p + "-wal").c_str());
  std::remove((p + "-shm").c_str());
  return p;
}

TEST(Sqlite, MigratesOnceAndRefusesNewerSchemas) {
  const auto path = temp_path("migrate.db");
  {
    auto db = Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->migrate({"CREATE TABLE a(x)", "CREATE TABLE b(y)"}, "test").ok());
    EXPECT_EQ((*db)->user_version(), 2);
    ASSERT_TRUE((*db)->migrate({"CREATE TABLE a(x)", "CREATE TABLE b(y)"}, "test").ok());  // no-op
  }
  auto db = Db::open(path);
  ASSERT_TRUE(db.ok());
  auto s = (*db)->migrate({"CREATE TABLE a(x)"}, "test");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("newer"), std::string::npos);
}

TEST(Sqlite, FailedMigrationRollsBack) {
  const auto path = temp_path("rollback.db");
  auto db = Db::open(path);
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE((*db)->migrate({"CREATE TABLE a(x); THIS IS NOT SQL"}, "test").ok());
  EXPECT_EQ((*db)->user_version(), 0);
}

TEST(Sqlite, CorruptFileIsRefusedAtOpen) {
  const auto path = temp_path("corrupt.db");
  std::ofstream(path) << std::string(8192, 'x');
  auto db = Db::open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find(path), std::string::npos);
}

}  // namespace
}  // namespace edgenas::sqlite
