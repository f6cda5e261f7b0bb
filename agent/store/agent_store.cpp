#include "agent/store/agent_store.hpp"

#include <tuple>

#include "common/protocol/codec.hpp"
#include "common/util/errors.hpp"
#include "common/util/log.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::agent {
namespace {

const std::vector<std::string_view> kMigrations = {
    R"sql(
CREATE TABLE outbox (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,  -- send order
  trace_id  TEXT NOT NULL UNIQUE,
  body      BLOB NOT NULL                       -- msgpack Trace
);
CREATE TABLE tasks (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id  TEXT NOT NULL UNIQUE,
  body     BLOB NOT NULL                        -- msgpack JobTask
);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters VALUES ('outbox_dropped', 0);
-- Outbox rows that no longer decode (disk corruption, a downgrade): kept for inspection,
-- never resent, so one bad row cannot block every trace behind it.
CREATE TABLE quarantine (
  trace_id  TEXT NOT NULL,
  body      BLOB NOT NULL,
  reason    TEXT NOT NULL
);
)sql",
    R"sql(
-- NAS runs: one row per run, its state as JSON; finished runs keep how they ended.
CREATE TABLE search_runs (
  run_id    TEXT PRIMARY KEY,
  body      TEXT NOT NULL,
  finished  INTEGER NOT NULL DEFAULT 0,
  outcome   TEXT NOT NULL DEFAULT ''
);
)sql",
};

template <class T>
Expected<T> unpack_blob(const std::string& blob, const char* what) {
  auto oh = proto::unpack_bounded(blob);
  if (!oh) return Error{errc::kStore, std::string(what) + ": " + oh.error().message};
  // Repaired, not refused: a row stored by an older agent may hold text that is not UTF-8.
  return proto::read_struct<T>(oh->get(), what, TextMode::repair);
}

}  // namespace

Expected<std::unique_ptr<AgentStore>> AgentStore::open(const std::string& path,
                                                       std::size_t max_traces,
                                                       OutboxFullPolicy policy) {
  auto db = sqlite::Db::open(path);
  if (!db) return db.error();
  if (auto s = (*db)->migrate(kMigrations, "agent store '" + path + "'"); !s) return s.error();
  std::unique_ptr<AgentStore> store(new AgentStore(std::move(*db), max_traces, policy));
  if (auto s = store->load_counters(); !s) return s.error();
  return store;
}

Status AgentStore::load_counters() {
  auto q = db_->prepare(
      "SELECT (SELECT COUNT(*) FROM outbox), "
      "(SELECT value FROM counters WHERE name = 'outbox_dropped'), "
      "(SELECT COUNT(*) FROM quarantine)");
  if (!q) return q.error();
  if (!q->step()) return Error{errc::kStore, "cannot read outbox counters: " + db_->errmsg()};
  depth_ = q->col_int(0);
  dropped_ = q->col_int(1);
  quarantined_ = q->col_int(2);
  return ok_status();
}

Status AgentStore::bump_dropped(int64_t n) {
  auto q = db_->prepare("UPDATE counters SET value = value + ?1 WHERE name = 'outbox_dropped'");
  if (!q) return q.error();
  q->bind(1, n);
  q->step();
  return q->status();
}

Status AgentStore::add(const Trace& trace) {
  if (auto s = db_->begin(); !s) return s;
  auto fail = [&](Status s) {
    db_->rollback();
    return s;
  };
  int64_t evicted = 0;
  // The same trace added twice (a retried submit) is kept once.
  auto exists = db_->prepare("SELECT 1 FROM outbox WHERE trace_id = ?1");
  if (!exists) return fail(exists.error());
  exists->bind(1, trace.trace_id);
  if (exists->step()) {
    db_->rollback();
    return ok_status();
  }
  if (depth_ >= static_cast<int64_t>(max_)) {
    if (policy_ == OutboxFullPolicy::reject_new) {
      db_->rollback();
      dropped_++;
      (void)bump_dropped(1);
      log::error("outbox full; trace refused (outbox_full_policy = reject_new)",
                 {{"trace_id", trace.trace_id}, {"max_traces", max_}, {"dropped_total", dropped_}});
      return Error{"outbox_full", "the outbox holds " + std::to_string(depth_) +
                                      " unacked traces (its bound); this trace was refused"};
    }
    evicted = depth_ - static_cast<int64_t>(max_) + 1;
    auto del = db_->prepare(
        "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?1)");
    if (!del) return fail(del.error());
    del->bind(1, evicted);
    del->step();
    if (auto s = del->status(); !s) return fail(s);
    if (auto s = bump_dropped(evicted); !s) return fail(s);
  }
  auto ins = db_->prepare("INSERT INTO outbox (trace_id, body) VALUES (?1, ?2)");
  if (!ins) return fail(ins.error());
  ins->bind(1, trace.trace_id).bind_blob(2, proto::pack_struct(trace));
  ins->step();
  if (auto s = ins->status(); !s) return fail(s);
  if (auto s = db_->commit(); !s) return fail(s);
  depth_ += 1 - evicted;
  if (evicted) {
    dropped_ += evicted;
    log::error("outbox full; oldest unacked trace dropped (outbox_full_policy = drop_oldest)",
               {{"dropped", evicted}, {"max_traces", max_}, {"dropped_total", dropped_}});
  }
  return ok_status();
}

Expected<std::vector<Trace>> AgentStore::pending(std::size_t max) {
  auto q = db_->prepare("SELECT seq, trace_id, body FROM outbox ORDER BY seq LIMIT ?1");
  if (!q) return q.error();
  q->bind(1, static_cast<int64_t>(max));
  std::vector<Trace> out;
  std::vector<std::tuple<int64_t, std::string, std::string, std::string>>
      bad;  // seq, id, body, why
  while (q->step()) {
    auto t = unpack_blob<Trace>(q->col_blob(2), "outbox trace");
    if (!t) {
      bad.emplace_back(q->col_int(0), q->col_text(1), q->col_blob(2), t.error().message);
      continue;
    }
    out.push_back(std::move(*t));
  }
  if (auto s = q->status(); !s) return s.error();
  for (const auto& [seq, id, body, why] : bad) {
    if (auto s = quarantine(seq, id, body, why); !s) return s.error();
  }
  return out;
}

Status AgentStore::quarantine(int64_t seq, const std::string& trace_id, const std::string& body,
                              const std::string& why) {
  if (auto s = db_->begin(); !s) return s;
  auto ins = db_->prepare("INSERT INTO quarantine (trace_id, body, reason) VALUES (?1, ?2, ?3)");
  auto del = db_->prepare("DELETE FROM outbox WHERE seq = ?1");
  if (!ins || !del) {
    db_->rollback();
    return Error{errc::kStore, "cannot quarantine a bad outbox row: " + db_->errmsg()};
  }
  ins->bind(1, trace_id).bind_blob(2, body).bind(3, why);
  ins->step();
  del->bind(1, seq);
  del->step();
  if (auto s = ins->status(); !s) return db_->rollback(), s;
  if (auto s = del->status(); !s) return db_->rollback(), s;
  if (auto s = db_->commit(); !s) return db_->rollback(), s;
  depth_ -= 1;
  quarantined_ += 1;
  log::error("outbox row does not decode; moved to quarantine",
             {{"trace_id", trace_id}, {"error", why}});
  return ok_status();
}

Status AgentStore::ack(const std::vector<std::string>& trace_ids) {
  if (trace_ids.empty()) return ok_status();
  if (auto s = db_->begin(); !s) return s;
  auto del = db_->prepare("DELETE FROM outbox WHERE trace_id = ?1");
  if (!del) {
    db_->rollback();
    return del.error();
  }
  int64_t removed = 0;
  for (const auto& id : trace_ids) {
    del->reset();
    del->bind(1, id);
    del->step();
    if (auto s = del->status(); !s) {
      db_->rollback();
      return s;
    }
    removed += sqlite3_changes(db_->raw());
  }
  if (auto s = db_->commit(); !s) {
    db_->rollback();
    return s;
  }
  depth_ -= removed;
  return ok_status();
}

Status AgentStore::save_task(const JobTask& task) {
  auto q = db_->prepare("INSERT OR REPLACE INTO tasks (task_id, body) VALUES (?1, ?2)");
  if (!q) return q.error();
  q->bind(1, task.task_id).bind_blob(2, proto::pack_struct(task));
  q->step();
  return q->status();
}

Status AgentStore::delete_task(const std::string& task_id) {
  auto q = db_->prepare("DELETE FROM tasks WHERE task_id = ?1");
  if (!q) return q.error();
  q->bind(1, task_id);
  q->step();
  return q->status();
}

Expected<std::vector<JobTask>> AgentStore::load_tasks() {
  auto q = db_->prepare("SELECT body FROM tasks ORDER BY seq");
  if (!q) return q.error();
  std::vector<JobTask> out;
  while (q->step()) {
    auto t = unpack_blob<JobTask>(q->col_blob(0), "stored task");
    if (!t) return t.error();
    out.push_back(std::move(*t));
  }
  if (auto s = q->status(); !s) return s.error();
  return out;
}

Status AgentStore::save_run(const SearchRun& run) {
  auto q = db_->prepare(
      "INSERT INTO search_runs (run_id, body) VALUES (?1, ?2) "
      "ON CONFLICT(run_id) DO UPDATE SET body = excluded.body");
  if (!q) return q.error();
  q->bind(1, run.run_id).bind(2, utf8::json_text(to_json(run)));
  q->step();
  return q->status();
}

Status AgentStore::finish_run(const std::string& run_id, const std::string& outcome) {
  auto q = db_->prepare("UPDATE search_runs SET finished = 1, outcome = ?2 WHERE run_id = ?1");
  if (!q) return q.error();
  q->bind(1, run_id).bind(2, outcome);
  q->step();
  return q->status();
}

Expected<std::vector<SearchRun>> AgentStore::unfinished_runs() {
  auto q = db_->prepare("SELECT run_id, body FROM search_runs WHERE finished = 0 ORDER BY run_id");
  if (!q) return q.error();
  std::vector<SearchRun> out;
  std::vector<std::string> unreadable;
  while (q->step()) {
    Expected<SearchRun> r = Error{errc::kStore, "not JSON"};
    try {
      r = search_run_from_json(nlohmann::json::parse(q->col_text(1)));
    } catch (const std::exception&) {
    }
    if (r) {
      out.push_back(std::move(*r));
    } else {
      unreadable.push_back(q->col_text(0));
    }
  }
  if (auto s = q->status(); !s) return s.error();
  for (const auto& id : unreadable) {
    log::error("search run record does not decode; marking it finished", {{"run", id}});
    (void)finish_run(id, "unreadable");
  }
  return out;
}

int64_t AgentStore::runs_finished() {
  auto q = db_->prepare(
      "SELECT COUNT(*) FROM search_runs WHERE finished = 1 AND outcome IN ('ok', 'failed')");
  if (!q || !q->step()) return 0;
  return q->col_int(0);
}

}  // namespace edgenas::agent
