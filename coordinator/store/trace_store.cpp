#include "coordinator/store/trace_store.hpp"

#include "common/protocol/codec.hpp"
#include "common/util/errors.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::coordinator {
namespace {

// Migrations, in order; migration i brings the schema from version i to i+1. Never edit a
// released one: add a new entry.
const std::vector<std::string_view> kMigrations = {
    R"sql(
CREATE TABLE agents (
  agent_id       TEXT PRIMARY KEY,
  hostname       TEXT NOT NULL,
  agent_version  TEXT NOT NULL,
  registration   BLOB NOT NULL,   -- msgpack proto::Register
  state          BLOB NOT NULL,   -- msgpack proto::AgentState
  first_seen_ms  INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL,
  registrations  INTEGER NOT NULL
);
CREATE TABLE traces (
  trace_id          TEXT PRIMARY KEY,
  agent_id          TEXT NOT NULL,
  received_ms       INTEGER NOT NULL,
  created_ms        INTEGER NOT NULL,
  policy            TEXT NOT NULL,
  predictor_version INTEGER NOT NULL,
  explore           INTEGER NOT NULL,
  layers            INTEGER NOT NULL,
  filters           INTEGER NOT NULL,
  kernel            INTEGER NOT NULL,
  loss              TEXT NOT NULL,
  seed              INTEGER NOT NULL,
  status            TEXT NOT NULL,
  accuracy          REAL NOT NULL,
  latency_ms        REAL NOT NULL,
  met_latency       INTEGER NOT NULL,
  energy_mj         REAL NOT NULL,
  search_time_s     REAL NOT NULL,
  trials            INTEGER NOT NULL,
  body              BLOB NOT NULL   -- msgpack Trace, the full record
);
CREATE INDEX traces_by_received ON traces(received_ms);
CREATE INDEX traces_by_agent ON traces(agent_id, received_ms);
CREATE TABLE hparam_replies (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id          TEXT NOT NULL,
  request_id        TEXT NOT NULL,
  ts_ms             INTEGER NOT NULL,
  layers            INTEGER NOT NULL,
  filters           INTEGER NOT NULL,
  kernel            INTEGER NOT NULL,
  loss              TEXT NOT NULL,
  seed              INTEGER NOT NULL,
  policy            TEXT NOT NULL,
  predictor_version INTEGER NOT NULL,
  explore           INTEGER NOT NULL,
  context           BLOB NOT NULL   -- msgpack Context
);
CREATE INDEX replies_by_agent ON hparam_replies(agent_id, ts_ms);
)sql",
    R"sql(
-- Trained predictors: one row per version; the model file lives at path.
CREATE TABLE predictor_versions (
  version          INTEGER PRIMARY KEY,
  created_ms       INTEGER NOT NULL,
  status           TEXT NOT NULL,     -- training, candidate, promoted, retired, rejected, failed
  path             TEXT NOT NULL,
  feature_version  INTEGER NOT NULL,
  training_traces  INTEGER NOT NULL,
  metrics          TEXT NOT NULL,     -- JSON
  note             TEXT NOT NULL
);
-- Every promotion, in order (rollback goes back along it).
CREATE TABLE predictor_promotions (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  version  INTEGER NOT NULL,
  ts_ms    INTEGER NOT NULL,
  reason   TEXT NOT NULL
);
)sql",
    R"sql(
-- CURVE keys of agents: enrolment state and the agent id each is bound to.
CREATE TABLE agent_keys (
  public_key     TEXT PRIMARY KEY,
  state          TEXT NOT NULL,   -- pending, accepted, rejected, revoked
  agent_id       TEXT NOT NULL,
  address        TEXT NOT NULL,
  first_seen_ms  INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL
);
)sql",
    R"sql(
-- Canary rollouts of predictor versions, newest last; at most one is 'active'.
CREATE TABLE predictor_rollouts (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  version     INTEGER NOT NULL,
  baseline    INTEGER NOT NULL,   -- the version serving everyone else (0: cold start)
  share       REAL NOT NULL,      -- of the agents, chosen by a stable hash of the agent id
  started_ms  INTEGER NOT NULL,
  state       TEXT NOT NULL,      -- active, promoted, rolled_back, cancelled
  note        TEXT NOT NULL
);
)sql",
    R"sql(
-- How many measured candidate latencies a trace's body carries (Trace.outcome.measured_latency,
-- since protocol 2026-12): the fleet's latency models read only those traces.
ALTER TABLE traces ADD COLUMN latency_samples INTEGER NOT NULL DEFAULT 0;
CREATE INDEX traces_with_latency ON traces(received_ms) WHERE latency_samples > 0;
-- Versions of the fleet's latency models (one file each, written by edgenas-predictor latency).
CREATE TABLE latency_versions (
  version     INTEGER PRIMARY KEY,
  created_ms  INTEGER NOT NULL,
  status      TEXT NOT NULL,     -- training, ready, failed
  path        TEXT NOT NULL,
  kinds       INTEGER NOT NULL,  -- device kinds with a model
  serving     INTEGER NOT NULL,  -- of those, the ones past their gate
  note        TEXT NOT NULL
);
)sql",
    R"sql(
-- Login tokens of the web console (minted by `edgenasctl console token`): only their SHA-256.
CREATE TABLE console_tokens (
  id          TEXT PRIMARY KEY,   -- the hash's first 12 hex digits: how admins name a token
  sha256      TEXT NOT NULL UNIQUE,
  admin       TEXT NOT NULL,      -- who minted it
  created_ms  INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL,
  revoked     INTEGER NOT NULL DEFAULT 0
);
)sql",
};

}  // namespace

Expected<std::unique_ptr<TraceStore>> TraceStore::open(const std::string& path) {
  auto db = sqlite::Db::open(path);
  if (!db) return db.error();
  if (auto s = (*db)->migrate(kMigrations, "trace store '" + path + "'"); !s) return s.error();
  std::unique_ptr<TraceStore> store(new TraceStore(std::move(*db)));
  if (auto s = store->prepare_statements(); !s) return s.error();
  return store;
}

namespace {

constexpr std::string_view kInsertTrace =
    "INSERT OR IGNORE INTO traces (trace_id, agent_id, received_ms, created_ms, policy, "
    "predictor_version, explore, layers, filters, kernel, loss, seed, status, accuracy, "
    "latency_ms, met_latency, energy_mj, search_time_s, trials, body, latency_samples) "
    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)";
constexpr std::string_view kInsertReply =
    "INSERT INTO hparam_replies (agent_id, request_id, ts_ms, layers, filters, kernel, loss, "
    "seed, policy, predictor_version, explore, context) "
    "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";
constexpr std::string_view kUpsertAgent =
    "INSERT INTO agents (agent_id, hostname, agent_version, registration, state, first_seen_ms, "
    "last_seen_ms, registrations) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) "
    "ON CONFLICT(agent_id) DO UPDATE SET hostname=excluded.hostname, "
    "agent_version=excluded.agent_version, registration=excluded.registration, "
    "state=excluded.state, last_seen_ms=excluded.last_seen_ms, "
    "registrations=excluded.registrations";

void bind_trace(sqlite::Stmt& st, const TraceRecord& rec) {
  const Trace& t = rec.trace;
  st.bind(1, t.trace_id).bind(2, rec.agent_id).bind(3, rec.received_ms).bind(4, t.created_ms);
  st.bind(5, t.policy).bind(6, t.predictor_version).bind(7, t.explore ? 1 : 0);
  st.bind(8, t.hparams.layers).bind(9, t.hparams.filters).bind(10, t.hparams.kernel);
  st.bind(11, to_string(t.hparams.loss)).bind(12, static_cast<int64_t>(t.hparams.seed));
  st.bind(13, to_string(t.outcome.status)).bind(14, t.outcome.accuracy);
  st.bind(15, t.outcome.latency_ms).bind(16, t.outcome.met_latency ? 1 : 0);
  st.bind(17, t.outcome.energy_mj).bind(18, t.outcome.search_time_s).bind(19, t.outcome.trials);
  st.bind_blob(20, proto::pack_struct(t));
  const auto& m = t.outcome.measured_latency;
  st.bind(21, m ? static_cast<int64_t>(m->samples.size()) : int64_t{0});
}

void bind_reply(sqlite::Stmt& st, const ReplyRecord& rec) {
  const auto& h = rec.reply.hparams;
  st.bind(1, rec.agent_id).bind(2, rec.reply.request_id).bind(3, rec.ts_ms);
  st.bind(4, h.layers).bind(5, h.filters).bind(6, h.kernel).bind(7, to_string(h.loss));
  st.bind(8, static_cast<int64_t>(h.seed)).bind(9, rec.reply.policy);
  st.bind(10, rec.reply.predictor_version).bind(11, rec.reply.explore ? 1 : 0);
  st.bind_blob(12, proto::pack_struct(rec.context));
}

void bind_agent(sqlite::Stmt& st, const StoredAgent& a) {
  st.bind(1, a.agent_id).bind(2, a.registration.hostname).bind(3, a.registration.agent_version);
  st.bind_blob(4, proto::pack_struct(a.registration)).bind_blob(5, proto::pack_struct(a.state));
  st.bind(6, a.first_seen_ms).bind(7, a.last_seen_ms).bind(8, a.registrations);
}

void bind_key(sqlite::Stmt& st, const StoredKey& k) {
  st.bind(1, k.public_key).bind(2, k.state).bind(3, k.agent_id).bind(4, k.address);
  st.bind(5, k.first_seen_ms).bind(6, k.last_seen_ms);
}

// Runs the statement once per item, bound by `bind`; stops at the first failure.
template <class Item>
Status step_each(sqlite::Stmt& st, const std::vector<Item>& items,
                 void (*bind)(sqlite::Stmt&, const Item&)) {
  for (const auto& item : items) {
    st.reset();
    bind(st, item);
    st.step();
    if (auto s = st.status(); !s) return s;
  }
  return ok_status();
}

}  // namespace

Status TraceStore::prepare_statements() {
  const std::pair<sqlite::Stmt*, std::string_view> statements[] = {{&insert_trace_, kInsertTrace},
                                                                   {&insert_reply_, kInsertReply},
                                                                   {&upsert_agent_, kUpsertAgent}};
  for (const auto& [stmt, sql] : statements) {
    auto prepared = db_->prepare(sql);
    if (!prepared) return prepared.error();
    *stmt = std::move(*prepared);
  }
  return ok_status();
}

Status TraceStore::write_batch(const std::vector<TraceRecord>& traces,
                               const std::vector<ReplyRecord>& replies,
                               const std::vector<StoredAgent>& agents) {
  if (traces.empty() && replies.empty() && agents.empty()) return ok_status();
  if (auto s = db_->begin(); !s) return s;
  Status s = step_each(insert_trace_, traces, bind_trace);
  if (s) s = step_each(insert_reply_, replies, bind_reply);
  if (s) s = step_each(upsert_agent_, agents, bind_agent);
  if (s) s = db_->commit();
  if (!s) db_->rollback();
  return s;
}

namespace {
template <class T>
Expected<T> unpack_column(const std::string& blob, const std::string& what) {
  auto oh = proto::unpack_bounded(blob);
  if (!oh) return Error{errc::kStore, what + ": " + oh.error().message};
  // Repaired, not refused: a row stored before the decoder checked text may hold bad UTF-8.
  auto v = proto::read_struct<T>(oh->get(), what, TextMode::repair);
  if (!v) return Error{errc::kStore, v.error().message};
  return v;
}

// A row of (agent_id, received_ms, body) from the traces table.
Expected<TraceRecord> read_trace_row(sqlite::Stmt& q) {
  TraceRecord r;
  r.agent_id = q.col_text(0);
  r.received_ms = q.col_int(1);
  auto t = unpack_column<Trace>(q.col_blob(2), "trace");
  if (!t) return t.error();
  r.trace = std::move(*t);
  return r;
}
}  // namespace

Expected<std::vector<StoredAgent>> TraceStore::load_agents() {
  auto q = db_->prepare(
      "SELECT agent_id, registration, state, first_seen_ms, last_seen_ms, registrations "
      "FROM agents ORDER BY agent_id");
  if (!q) return q.error();
  std::vector<StoredAgent> out;
  while (q->step()) {
    StoredAgent a;
    a.agent_id = q->col_text(0);
    auto reg =
        unpack_column<proto::Register>(q->col_blob(1), "agents[" + a.agent_id + "].registration");
    if (!reg) return reg.error();
    auto state =
        unpack_column<proto::AgentState>(q->col_blob(2), "agents[" + a.agent_id + "].state");
    if (!state) return state.error();
    a.registration = std::move(*reg);
    a.state = std::move(*state);
    a.first_seen_ms = q->col_int(3);
    a.last_seen_ms = q->col_int(4);
    a.registrations = q->col_int(5);
    out.push_back(std::move(a));
  }
  if (auto s = q->status(); !s) return s.error();
  return out;
}

Expected<std::vector<TraceRecord>> TraceStore::list_traces(const TraceFilter& filter) {
  auto q = db_->prepare(
      "SELECT agent_id, received_ms, body FROM traces "
      "WHERE (?1 = '' OR agent_id = ?1) "
      "AND (received_ms > ?2 OR (received_ms = ?2 AND trace_id > ?4)) "
      "ORDER BY received_ms, trace_id LIMIT ?3");
  if (!q) return q.error();
  q->bind(1, filter.agent_id).bind(2, filter.since_ms).bind(3, filter.limit);
  q->bind(4, filter.after_trace_id);
  std::vector<TraceRecord> out;
  while (q->step()) {
    auto r = read_trace_row(*q);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  if (auto s = q->status(); !s) return s.error();
  return out;
}

// Traces and replies are counted by their largest rowid (trace_count says why): `edgenasctl
// status` runs on the io thread, and COUNT(*) over 600 000 replies held it for ~100 ms.
Expected<StoreCounts> TraceStore::counts() {
  StoreCounts c;
  for (auto [sql, dst] :
       {std::pair{"SELECT COUNT(*) FROM agents", &c.agents},
        std::pair{"SELECT COALESCE(MAX(rowid), 0) FROM traces", &c.traces},
        std::pair{"SELECT COALESCE(MAX(rowid), 0) FROM hparam_replies", &c.replies}}) {
    auto q = db_->prepare(sql);
    if (!q) return q.error();
    if (!q->step()) return Error{errc::kStore, "count failed: " + db_->errmsg()};
    *dst = q->col_int(0);
  }
  return c;
}

// Traces (and hparam replies) are never deleted and a trace that is skipped (a resend) or
// rolled back takes no rowid, so the traces' rowids are 1..n: the largest is the count, read from
// the end of the table's b-tree instead of a scan (COUNT(*) over 300 000 traces held the io thread
// for tens of milliseconds).
Expected<int64_t> TraceStore::trace_count() {
  auto q = db_->prepare("SELECT COALESCE(MAX(rowid), 0) FROM traces");
  if (!q) return q.error();
  if (!q->step()) return Error{errc::kStore, "count failed: " + db_->errmsg()};
  return q->col_int(0);
}

namespace {
PredictorVersion read_version(sqlite::Stmt& q) {
  PredictorVersion v;
  v.version = static_cast<int>(q.col_int(0));
  v.created_ms = q.col_int(1);
  v.status = q.col_text(2);
  v.path = q.col_text(3);
  v.feature_version = static_cast<int>(q.col_int(4));
  v.training_traces = q.col_int(5);
  v.metrics = nlohmann::json::parse(q.col_text(6), nullptr, false);
  if (v.metrics.is_discarded()) v.metrics = nlohmann::json::object();
  v.note = q.col_text(7);
  return v;
}
constexpr const char* kVersionColumns =
    "version, created_ms, status, path, feature_version, training_traces, metrics, note";
}  // namespace

Expected<int> TraceStore::next_predictor_version() {
  auto q = db_->prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM predictor_versions");
  if (!q) return q.error();
  if (!q->step()) return Error{errc::kStore, "cannot read predictor versions: " + db_->errmsg()};
  return static_cast<int>(q->col_int(0));
}

Status TraceStore::save_predictor_version(const PredictorVersion& v) {
  auto q = db_->prepare(
      "INSERT INTO predictor_versions (version, created_ms, status, path, feature_version, "
      "training_traces, metrics, note) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) "
      "ON CONFLICT(version) DO UPDATE SET status=excluded.status, path=excluded.path, "
      "feature_version=excluded.feature_version, training_traces=excluded.training_traces, "
      "metrics=excluded.metrics, note=excluded.note");
  if (!q) return q.error();
  q->bind(1, v.version).bind(2, v.created_ms).bind(3, v.status).bind(4, v.path);
  q->bind(5, v.feature_version).bind(6, v.training_traces).bind(7, utf8::json_text(v.metrics));
  q->bind(8, v.note);
  q->step();
  return q->status();
}

Expected<std::vector<PredictorVersion>> TraceStore::predictor_versions() {
  auto q = db_->prepare(std::string("SELECT ") + kVersionColumns +
                        " FROM predictor_versions ORDER BY version");
  if (!q) return q.error();
  std::vector<PredictorVersion> out;
  while (q->step()) out.push_back(read_version(*q));
  if (auto s = q->status(); !s) return s.error();
  return out;
}

Expected<std::optional<PredictorVersion>> TraceStore::predictor_version(int version) {
  auto q = db_->prepare(std::string("SELECT ") + kVersionColumns +
                        " FROM predictor_versions WHERE version = ?1");
  if (!q) return q.error();
  q->bind(1, version);
  if (q->step()) return std::optional<PredictorVersion>(read_version(*q));
  if (auto s = q->status(); !s) return s.error();
  return std::optional<PredictorVersion>();
}

Status TraceStore::record_promotion(int version, int64_t ts_ms, const std::string& reason) {
  if (auto s = db_->begin(); !s) return s;
  auto fail = [&](Status s) {
    db_->rollback();
    return s;
  };
  for (const char* sql :
       {"UPDATE predictor_versions SET status = 'retired' WHERE status = 'promoted'",
        "UPDATE predictor_versions SET status = 'promoted' WHERE version = ?1",
        "INSERT INTO predictor_promotions (version, ts_ms, reason) VALUES (?1, ?2, ?3)"}) {
    auto q = db_->prepare(sql);
    if (!q) return fail(q.error());
    if (std::string(sql).find("?1") != std::string::npos) q->bind(1, version);
    if (std::string(sql).find("?2") != std::string::npos) q->bind(2, ts_ms).bind(3, reason);
    q->step();
    if (auto s = q->status(); !s) return fail(s);
  }
  return db_->commit();
}

Expected<std::vector<std::pair<int, std::string>>> TraceStore::promotions() {
  auto q = db_->prepare("SELECT version, reason FROM predictor_promotions ORDER BY seq");
  if (!q) return q.error();
  std::vector<std::pair<int, std::string>> out;
  while (q->step()) out.emplace_back(static_cast<int>(q->col_int(0)), q->col_text(1));
  if (auto s = q->status(); !s) return s.error();
  return out;
}

Status TraceStore::save_rollout(Rollout& r) {
  auto q = r.seq > 0 ? db_->prepare(
                           "UPDATE predictor_rollouts SET version=?1, baseline=?2, "
                           "share=?3, started_ms=?4, state=?5, note=?6 WHERE seq=?7")
                     : db_->prepare(
                           "INSERT INTO predictor_rollouts (version, baseline, share, "
                           "started_ms, state, note) VALUES (?1,?2,?3,?4,?5,?6)");
  if (!q) return q.error();
  q->bind(1, r.version).bind(2, r.baseline).bind(3, r.share).bind(4, r.started_ms);
  q->bind(5, r.state).bind(6, r.note);
  if (r.seq > 0) q->bind(7, r.seq);
  q->step();
  if (auto s = q->status(); !s) return s;
  if (r.seq <= 0) r.seq = db_->last_insert_rowid();
  return ok_status();
}

Expected<std::vector<Rollout>> TraceStore::rollouts() {
  auto q = db_->prepare(
      "SELECT seq, version, baseline, share, started_ms, state, note FROM predictor_rollouts "
      "ORDER BY seq");
  if (!q) return q.error();
  std::vector<Rollout> out;
  while (q->step()) {
    out.push_back({q->col_int(0), static_cast<int>(q->col_int(1)), static_cast<int>(q->col_int(2)),
                   q->col_double(3), q->col_int(4), q->col_text(5), q->col_text(6)});
  }
  if (auto s = q->status(); !s) return s.error();
  return out;
}

Status TraceStore::save_agent_keys(const std::vector<StoredKey>& keys) {
  if (keys.empty()) return ok_status();
  auto q = db_->prepare(
      "INSERT INTO agent_keys (public_key, state, agent_id, address, first_seen_ms, last_seen_ms) "
      "VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT(public_key) DO UPDATE SET state=excluded.state, "
      "agent_id=excluded.agent_id, address=excluded.address, last_seen_ms=excluded.last_seen_ms");
  if (!q) return q.error();
  if (auto s = db_->begin(); !s) return s;
  Status s = step_each(*q, keys, bind_key);
  if (s) s = db_->commit();
  if (!s) db_->rollback();
  return s;
}

Expected<std::vector<StoredKey>> TraceStore::agent_keys() {
  auto q = db_->prepare(
      "SELECT public_key, state, agent_id, address, first_seen_ms, last_seen_ms FROM agent_keys");
  if (!q) return q.error();
  std::vector<StoredKey> out;
  while (q->step()) {
    out.push_back({q->col_text(0), q->col_text(1), q->col_text(2), q->col_text(3), q->col_int(4),
                   q->col_int(5)});
  }
  if (auto s = q->status(); !s) return s.error();
  return out;
}

Status TraceStore::save_console_token(const ConsoleToken& t) {
  auto q = db_->prepare(
      "INSERT INTO console_tokens (id, sha256, admin, created_ms, expires_ms, revoked) VALUES "
      "(?1,?2,?3,?4,?5,?6) ON CONFLICT(id) DO UPDATE SET revoked=excluded.revoked");
  if (!q) return q.error();
  q->bind(1, t.id).bind(2, t.sha256).bind(3, t.admin).bind(4, t.created_ms);
  q->bind(5, t.expires_ms).bind(6, static_cast<int64_t>(t.revoked));
  q->step();
  return q->status();
}

Expected<std::vector<ConsoleToken>> TraceStore::console_tokens() {
  auto q = db_->prepare(
      "SELECT id, sha256, admin, created_ms, expires_ms, revoked FROM console_tokens ORDER BY "
      "created_ms");
  if (!q) return q.error();
  std::vector<ConsoleToken> out;
  while (q->step()) {
    out.push_back({q->col_text(0), q->col_text(1), q->col_text(2), q->col_int(3), q->col_int(4),
                   q->col_int(5) != 0});
  }
  if (auto s = q->status(); !s) return s.error();
  return out;
}

Expected<std::vector<TraceRecord>> TraceStore::recent_traces(int64_t limit) {
  return select_traces(
      "SELECT agent_id, received_ms, body FROM traces ORDER BY received_ms DESC, trace_id LIMIT "
      "?1",
      limit);
}

Expected<std::vector<TraceRecord>> TraceStore::recent_latency_traces(int64_t limit) {
  return select_traces(
      "SELECT agent_id, received_ms, body FROM traces WHERE latency_samples > 0 "
      "ORDER BY received_ms DESC, trace_id LIMIT ?1",
      limit);
}

Expected<int64_t> TraceStore::latency_trace_count() {
  auto q = db_->prepare("SELECT COUNT(*) FROM traces WHERE latency_samples > 0");
  if (!q) return q.error();
  if (!q->step()) return Error{errc::kStore, "cannot count traces: " + db_->errmsg()};
  return q->col_int(0);
}

Expected<int> TraceStore::next_latency_version() {
  auto q = db_->prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM latency_versions");
  if (!q) return q.error();
  if (!q->step()) return Error{errc::kStore, "cannot read latency versions: " + db_->errmsg()};
  return static_cast<int>(q->col_int(0));
}

Status TraceStore::save_latency_version(const LatencyVersion& v) {
  auto q = db_->prepare(
      "INSERT INTO latency_versions (version, created_ms, status, path, kinds, serving, note) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(version) DO UPDATE SET status=excluded.status, "
      "path=excluded.path, kinds=excluded.kinds, serving=excluded.serving, note=excluded.note");
  if (!q) return q.error();
  q->bind(1, v.version).bind(2, v.created_ms).bind(3, v.status).bind(4, v.path);
  q->bind(5, v.kinds).bind(6, v.serving).bind(7, v.note);
  q->step();
  return q->status();
}

namespace {
constexpr const char* kLatencyColumns = "version, created_ms, status, path, kinds, serving, note";
LatencyVersion read_latency_version(sqlite::Stmt& q) {
  return {static_cast<int>(q.col_int(0)),
          q.col_int(1),
          q.col_text(2),
          q.col_text(3),
          static_cast<int>(q.col_int(4)),
          static_cast<int>(q.col_int(5)),
          q.col_text(6)};
}
}  // namespace

Expected<std::vector<LatencyVersion>> TraceStore::latency_versions() {
  auto q = db_->prepare(std::string("SELECT ") + kLatencyColumns +
                        " FROM latency_versions ORDER BY version DESC");
  if (!q) return q.error();
  std::vector<LatencyVersion> out;
  while (q->step()) out.push_back(read_latency_version(*q));
  if (auto s = q->status(); !s) return s.error();
  return out;
}

Expected<std::optional<LatencyVersion>> TraceStore::latency_version(int version) {
  auto q = db_->prepare(std::string("SELECT ") + kLatencyColumns +
                        " FROM latency_versions WHERE version = ?1");
  if (!q) return q.error();
  q->bind(1, version);
  if (q->step()) return std::optional<LatencyVersion>(read_latency_version(*q));
  if (auto s = q->status(); !s) return s.error();
  return std::optional<LatencyVersion>();
}

Expected<std::vector<TraceRecord>> TraceStore::select_traces(std::string_view sql, int64_t limit) {
  auto q = db_->prepare(sql);
  if (!q) return q.error();
  q->bind(1, limit);
  std::vector<TraceRecord> out;
  while (q->step()) {
    auto r = read_trace_row(*q);
    if (r) out.push_back(std::move(*r));  // an undecodable row is skipped, not fatal for training
  }
  if (auto s = q->status(); !s) return s.error();
  return out;
}

}  // namespace edgenas::coordinator
