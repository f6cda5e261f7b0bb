#pragma once
// A thin RAII layer over the SQLite C API: connections, prepared statements, transactions and
// numbered schema migrations (PRAGMA user_version). Errors are values, never exceptions.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/expected.hpp"

namespace edgenas::sqlite {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s, &sqlite3_finalize) {}
  Stmt& bind(int i, int64_t v) {
    check(sqlite3_bind_int64(s_.get(), i, v));
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, double v) {
    check(sqlite3_bind_double(s_.get(), i, v));
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    check(sqlite3_bind_blob(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind_null(int i) {
    check(sqlite3_bind_null(s_.get(), i));
    return *this;
  }
  // true: a row is ready; false: done. Errors are kept and reported by status().
  bool step();
  void reset();
  int64_t col_int(int i) const { return sqlite3_column_int64(s_.get(), i); }
  double col_double(int i) const { return sqlite3_column_double(s_.get(), i); }
  bool col_is_null(int i) const { return sqlite3_column_type(s_.get(), i) == SQLITE_NULL; }
  std::string col_text(int i) const;
  std::string col_blob(int i) const;
  // The first error seen since the last reset, if any.
  Status status() const;

 private:
  void check(int rc);
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> s_{nullptr, &sqlite3_finalize};
  std::optional<std::string> error_;
};

class Db {
 public:
  // Opens (creating if needed) a database file. In WAL mode with synchronous=FULL a commit
  // that returned is on disk.
  static Expected<std::unique_ptr<Db>> open(const std::string& path, bool wal = true);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status exec(std::string_view sql);
  Expected<Stmt> prepare(std::string_view sql);
  Status begin() { return exec("BEGIN IMMEDIATE"); }
  Status commit() { return exec("COMMIT"); }
  void rollback() { (void)exec("ROLLBACK"); }

  // Applies migrations[i] for every i >= the stored user_version, each in its own
  // transaction; refuses a database written by a newer schema.
  Status migrate(const std::vector<std::string_view>& migrations, std::string_view what);
  int64_t user_version();
  sqlite3* raw() const { return db_; }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  std::string errmsg() const { return sqlite3_errmsg(db_); }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace edgenas::sqlite
