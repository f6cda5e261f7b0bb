#include "common/util/sqlite.hpp"
#include "common/util/errors.hpp"

namespace edgenas::sqlite {

bool Stmt::step() {
  if (error_) return false;
  int rc = sqlite3_step(s_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(db_);
  return false;
}

void Stmt::reset() {
  sqlite3_reset(s_.get());
  sqlite3_clear_bindings(s_.get());
  error_.reset();
}

std::string Stmt::col_text(int i) const {
  const auto* p = sqlite3_column_text(s_.get(), i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s_.get(), i)))
           : std::string();
}

std::string Stmt::col_blob(int i) const {
  const auto* p = sqlite3_column_blob(s_.get(), i);
  return p ? std::string(static_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s_.get(), i)))
           : std::string();
}

Status Stmt::status() const {
  if (error_) return Error{errc::kStore, *error_};
  return ok_status();
}

void Stmt::check(int rc) {
  if (rc != SQLITE_OK && !error_) error_ = sqlite3_errmsg(db_);
}

Expected<std::unique_ptr<Db>> Db::open(const std::string& path, bool wal) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return Error{errc::kStore, "cannot open database '" + path + "': " + msg};
  }
  std::unique_ptr<Db> db(new Db(raw));
  sqlite3_busy_timeout(raw, 5000);
  auto fail = [&](const Error& e) {
    return Error{errc::kStore, "database '" + path + "' is not usable: " + e.message};
  };
  if (wal) {
    if (auto s = db->exec("PRAGMA journal_mode=WAL"); !s) return fail(s.error());
    if (auto s = db->exec("PRAGMA synchronous=FULL"); !s) return fail(s.error());
  }
  if (auto s = db->exec("PRAGMA foreign_keys=ON"); !s) return fail(s.error());
  // A quick structural check so a corrupt file is refused at open, not mid-run.
  auto q = db->prepare("PRAGMA quick_check");
  if (!q) return fail(q.error());
  if (!q->step() || q->col_text(0) != "ok") {
    auto st = q->status();
    return Error{errc::kStore, "database '" + path + "' failed its integrity check: " +
                                   (st ? q->col_text(0) : st.error().message)};
  }
  return db;
}

Db::~Db() {
  sqlite3_close_v2(db_);
}

Status Db::exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Error{errc::kStore, msg};
  }
  return ok_status();
}

Expected<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr) !=
      SQLITE_OK) {
    return Error{errc::kStore, std::string(sqlite3_errmsg(db_)) + " in: " + std::string(sql)};
  }
  return Stmt(db_, st);
}

int64_t Db::user_version() {
  auto q = prepare("PRAGMA user_version");
  if (!q || !q->step()) return -1;
  return q->col_int(0);
}

Status Db::migrate(const std::vector<std::string_view>& migrations, std::string_view what) {
  int64_t have = user_version();
  if (have < 0) return Error{errc::kStore, "cannot read the schema version: " + errmsg()};
  const auto want = static_cast<int64_t>(migrations.size());
  if (have > want) {
    return Error{errc::kStore, std::string(what) + " has schema version " + std::to_string(have) +
                                   ", newer than this build supports (" + std::to_string(want) +
                                   "); upgrade edgenas"};
  }
  for (int64_t v = have; v < want; ++v) {
    if (auto s = begin(); !s) return s;
    auto s = exec(migrations[static_cast<std::size_t>(v)]);
    if (s) s = exec("PRAGMA user_version=" + std::to_string(v + 1));
    if (s) s = commit();
    if (!s) {
      rollback();
      return Error{errc::kStore, "migration to schema version " + std::to_string(v + 1) + " of " +
                                     std::string(what) + " failed: " + s.error().message};
    }
  }
  return ok_status();
}

}  // namespace edgenas::sqlite
